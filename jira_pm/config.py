"""jira-pm.toml + environment → validated, frozen settings (docs/configuration.md).

Every problem becomes one ``ConfigError`` line naming the file, the key and the
fix. Unknown sections and keys are errors: a typo must not silently do nothing.
Secrets come from the environment first, then the file, and are wrapped in
``Secret`` so that printing settings never shows them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira_pm.errors import ConfigError
from jira_pm.redaction import POSTGRES_URL_SCHEMES, register_url_secret, shown_url

DEFAULT_CONFIG_NAME = "jira-pm.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Secret:
    """A credential whose ``repr``/``str`` is ``'***'``; ``reveal()`` gives the text."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class JiraSettings:
    url: str
    deployment: str = "auto"
    email: str | None = None
    api_token: Secret | None = None
    pat: Secret | None = None
    timeout_seconds: float = 30
    verify_tls: bool | str = True
    max_parallel: int = 4
    max_retry_seconds: float = 300


@dataclass(frozen=True)
class ScopeSettings:
    projects: tuple[str, ...] = ()
    jql: str | None = None


@dataclass(frozen=True)
class SyncSettings:
    overlap_minutes: float = 5
    reconcile_every_hours: float = 24


@dataclass(frozen=True)
class FieldSettings:
    story_points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None
    start_date: str | None = None
    budget: str | None = None


@dataclass(frozen=True)
class CalendarSettings:
    timezone: str = "UTC"
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    extra_holidays: tuple[date, ...] = ()


@dataclass(frozen=True)
class RulesSettings:
    paths: tuple[Path, ...] = ()
    mode: str = "extend"
    disabled: tuple[str, ...] = ()


@dataclass(frozen=True)
class BudgetSetting:
    kind: str  # "epic" | "version" | "project"
    ref: str
    project: str | None = None
    hours: float | None = None
    amount: float | None = None
    warn_at: float = 0.8


@dataclass(frozen=True)
class RatesSettings:
    default: float | None = None
    currency: str = "EUR"
    people: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WritebackSettings:
    label_prefix: str = "pm-"
    exempt_label: str = "pm-ignore"
    exempt_issue_types: tuple[str, ...] = ()
    exempt_projects: tuple[str, ...] = ()
    max_writes: int = 500
    notify_users: bool = True
    comment_format: str = "auto"
    comments: bool = True  # false: labels only, no comment is posted or edited


@dataclass(frozen=True)
class LogSettings:
    json_path: Path | None = None


@dataclass(frozen=True)
class Settings:
    source: Path | None
    jira: JiraSettings
    scope: ScopeSettings
    sync: SyncSettings
    fields: FieldSettings
    store_path: Path
    calendar: CalendarSettings
    rules: RulesSettings
    budgets: tuple[BudgetSetting, ...]
    rates: RatesSettings
    writeback: WritebackSettings
    log: LogSettings
    store_url: str | None = None  # a postgresql:// store; None: the SQLite file store_path

    @property
    def store(self) -> Path | str:
        """Where the store is: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.store_url or self.store_path

    @property
    def store_name(self) -> str:
        """The store as messages name it (a URL without its password)."""
        return shown_url(self.store_url) if self.store_url else str(self.store_path)

    @classmethod
    def for_tests(
        cls,
        url: str = "https://jira.example.test",
        projects: tuple[str, ...] | list[str] = ("PM",),
        store_path: str | Path = ":memory:",
        **sections: Any,
    ) -> Settings:
        """Settings without a file: ``sections`` are TOML-shaped dicts by section name
        (``jira={"deployment": "cloud"}``, ``budget=[{...}]``), validated like a file."""
        raw: dict[str, Any] = {name: dict(value) if isinstance(value, Mapping) else value
                               for name, value in sections.items()}
        raw.setdefault("jira", {})
        raw["jira"].setdefault("url", url)
        raw.setdefault("scope", {})
        raw["scope"].setdefault("projects", list(projects))
        raw.setdefault("store", {})
        if str(store_path).startswith(POSTGRES_URL_SCHEMES):
            raw["store"].setdefault("url", str(store_path))
        else:
            raw["store"].setdefault("path", str(store_path))
        return _Parser(raw, source=None, base_dir=Path.cwd(), env={}).settings()


def load_settings(path: str | os.PathLike | None = None,
                  env: Mapping[str, str] = os.environ) -> Settings:
    """Read and validate the config: ``path``, else ``$JIRA_PM_CONFIG``, else ./jira-pm.toml."""
    chosen = Path(path or env.get("JIRA_PM_CONFIG") or DEFAULT_CONFIG_NAME)
    if not chosen.is_file():
        raise ConfigError(
            f"no configuration file at {chosen}",
            hint=f"run `jira-pm init {chosen}` to write one, or pass --config PATH",
        )
    try:
        text = chosen.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{chosen}: cannot be read: {exc}",
                          hint="check the file's permissions and encoding (UTF-8)") from None
    return settings_from_text(text, chosen, env)


def settings_from_text(text: str, path: str | os.PathLike,
                       env: Mapping[str, str] = os.environ) -> Settings:
    """Validate config ``text`` as if it were the file at ``path`` (which need not exist yet:
    `jira-pm init` checks what it is about to write before writing it)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}",
                          hint="fix the syntax at that line") from None
    source = Path(path).resolve()
    return _Parser(raw, source=source, base_dir=source.parent, env=env).settings()


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 — the only hosts allowed plain http://."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---- validation ---------------------------------------------------------------------------

_Check = Callable[[Any, str], Any]  # (value, dotted key) -> converted value, raises ConfigError


class _Parser:
    """Turns the raw TOML dict into Settings; ``fail`` builds the one-line errors."""

    def __init__(self, raw: dict[str, Any], *, source: Path | None, base_dir: Path,
                 env: Mapping[str, str]):
        self.raw = raw
        self.where = str(source) if source else "settings"
        self.source = source
        self.base_dir = base_dir
        self.env = env

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.where}: {key}: {problem}", hint=fix)

    # -- generic checks -----------------------------------------------------------------

    def section(self, name: str, allowed: set[str]) -> dict[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(f"[{name}]", "must be a table", f"write it as a [{name}] section")
        for key in value:
            if key not in allowed:
                raise self.fail(f"[{name}] {key}", "unknown key",
                                f"remove it or use one of: {', '.join(sorted(allowed))}")
        return value

    def string(self, value: Any, key: str, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            shown = type(value).__name__ if key.endswith(("api_token", "pat")) else _show(value)
            raise self.fail(key, f"expected a non-empty string, got {shown}",
                            'write it in quotes, e.g. key = "text"')
        return value

    def optional_string(self, value: Any, key: str) -> str | None:
        if value is None:
            return None
        text = self.string(value, key, allow_empty=True)
        return text.strip() or None

    def number(self, value: Any, key: str, *, minimum: float = 0, maximum: float | None = None,
               integer: bool = False) -> float | int:
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            kind = "a whole number" if integer else "a number"
            raise self.fail(key, f"expected {kind}, got {_show(value)}", "write a plain number")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise self.fail(key, f"{value} is out of range", f"use a value {bound}")
        return value

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_show(value)}",
                            "write true or false (no quotes)")
        return value

    def choice(self, value: Any, key: str, options: tuple[str, ...]) -> str:
        if value not in options:
            raise self.fail(key, f"{_show(value)} is not allowed",
                            f"use one of: {', '.join(options)}")
        return value

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of strings, got {_show(value)}",
                            'write a list, e.g. ["A", "B"]')
        return tuple(self.string(item, f"{key}[{i}]") for i, item in enumerate(value))

    def path(self, value: Any, key: str) -> Path:
        path = Path(self.string(value, key)).expanduser()
        return path if path.is_absolute() or str(path) == ":memory:" else self.base_dir / path

    # -- sections -----------------------------------------------------------------------

    def settings(self) -> Settings:
        known = {"jira", "scope", "sync", "fields", "store", "calendar", "rules", "budget",
                 "rates", "writeback", "log"}
        for name in self.raw:
            if name not in known:
                raise self.fail(f"[{name}]", "unknown section",
                                f"remove it or use one of: {', '.join(sorted(known))}")
        store = self.section("store", {"path", "url"})
        return Settings(
            source=self.source,
            jira=self.jira(),
            scope=self.scope(),
            sync=self.sync(),
            fields=self.fields(),
            store_path=self.path(store.get("path", "jira-pm.sqlite"), "[store] path"),
            calendar=self.calendar(),
            rules=self.rules(),
            budgets=self.budgets(),
            rates=self.rates(),
            writeback=self.writeback(),
            log=self.log(),
            store_url=self.store_url(store),
        )

    def store_url(self, store: dict[str, Any]) -> str | None:
        """``$JIRA_PM_STORE_URL``, else ``[store] url``: a PostgreSQL store instead of the file.

        The password in it is registered for redaction, like Jira's credentials.
        """
        key = "$JIRA_PM_STORE_URL" if self.env.get("JIRA_PM_STORE_URL") else "[store] url"
        url = (self.env.get("JIRA_PM_STORE_URL") or "").strip() or store.get("url")
        if url is None:
            return None
        url = self.string(url, key).strip()
        register_url_secret(url)
        if not url.startswith(POSTGRES_URL_SCHEMES):
            raise self.fail(key, f"{shown_url(url)!r} is not a PostgreSQL URL",
                            'write it as "postgresql://USER:PASSWORD@HOST:PORT/DATABASE", or '
                            "remove it to use the SQLite file of [store] path")
        if key == "[store] url" and "path" in store:
            raise self.fail("[store]", "sets both path and url",
                            "keep url for a PostgreSQL store or path for a SQLite file")
        return url

    def jira(self) -> JiraSettings:
        s = self.section("jira", {"url", "deployment", "email", "api_token", "pat",
                                  "timeout_seconds", "verify_tls", "max_parallel",
                                  "max_retry_seconds"})
        url_key = "$JIRA_URL" if self.env.get("JIRA_URL") else "[jira] url"
        url = self.env.get("JIRA_URL") or s.get("url")
        if not url:
            raise self.fail("[jira] url", "missing",
                            'set url = "https://your-site.atlassian.net" or $JIRA_URL')
        url = self.jira_url(self.string(url, url_key), url_key)
        email = self.credential("JIRA_EMAIL", s, "email")
        token = self.credential("JIRA_API_TOKEN", s, "api_token")
        pat = self.credential("JIRA_PAT", s, "pat")
        verify: Any = s.get("verify_tls", True)
        if isinstance(verify, str):
            bundle = self.path(verify, "[jira] verify_tls")
            if not bundle.exists():
                raise self.fail("[jira] verify_tls", f"CA bundle {bundle} does not exist",
                                "give the path of a PEM file, or true/false")
            verify = str(bundle)
        else:
            verify = self.boolean(verify, "[jira] verify_tls")
        return JiraSettings(
            url=url,
            deployment=self.choice(s.get("deployment", "auto"), "[jira] deployment",
                                   ("auto", "cloud", "server")),
            email=email,
            api_token=Secret(token) if token else None,
            pat=Secret(pat) if pat else None,
            timeout_seconds=self.number(s.get("timeout_seconds", 30), "[jira] timeout_seconds",
                                        minimum=0.001),
            verify_tls=verify,
            max_parallel=int(self.number(s.get("max_parallel", 4), "[jira] max_parallel",
                                         minimum=1, maximum=16, integer=True)),
            max_retry_seconds=self.number(s.get("max_retry_seconds", 300),
                                          "[jira] max_retry_seconds"),
        )

    def credential(self, variable: str, section: dict[str, Any], key: str) -> str | None:
        """A credential from $variable, else ``[jira] key``, with surrounding whitespace removed.

        Env files written on Windows end every line in CRLF, and ``source`` keeps the
        CR; a value that still holds a line break or control character after stripping
        (two lines pasted as one) is refused without showing it.
        """
        value = (self.env.get(variable) or "").strip()
        where = f"${variable}"
        if not value:
            value = self.optional_string(section.get(key), f"[jira] {key}") or ""
            where = f"[jira] {key}"
        if not value:
            return None
        if not all(ch.isprintable() for ch in value):
            raise self.fail(where, "holds a line break or control character inside it "
                            "(value not shown)",
                            f"set {variable} again on one line, with nothing but the value")
        return value

    def jira_url(self, url: str, key: str) -> str:
        url = url.strip().rstrip("/")
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError:
            parts, host = None, None
        # Checked first, on the raw text: the other messages repeat the URL, and a password
        # with a "/" or a bad port would hide the "@" from urlsplit's netloc.
        if "@" in url:
            raise self.fail(key, "the URL contains a user name or password",
                            "remove them; use JIRA_EMAIL + JIRA_API_TOKEN or JIRA_PAT")
        if parts is None or parts.scheme not in ("https", "http") or not host:
            raise self.fail(key, f"{url!r} is not an http(s) URL",
                            'write the site address, e.g. "https://your-site.atlassian.net"')
        if parts.scheme == "http" and not is_loopback_host(host):
            raise self.fail(key, f"plain http:// is refused for {host}",
                            "use https:// (http:// is only allowed for localhost/127.0.0.1/::1)")
        if parts.query or parts.fragment:
            raise self.fail(key, "the URL has a query or fragment",
                            "give only the site address (scheme, host and context path)")
        return url

    def scope(self) -> ScopeSettings:
        s = self.section("scope", {"projects", "jql"})
        # Jira's project keys are upper case (JQL takes any case): "shop" is SHOP, so
        # the scope, its stored identity and comparisons with the keys Jira returns agree.
        projects = tuple(key.upper() for key in self.strings(s.get("projects", []),
                                                            "[scope] projects"))
        jql = self.optional_string(s.get("jql"), "[scope] jql")
        if not projects and not jql:
            raise self.fail("[scope]", "neither projects nor jql is set",
                            'add projects = ["ABC"] or jql = "project = ABC"')
        return ScopeSettings(projects=projects, jql=jql)

    def sync(self) -> SyncSettings:
        s = self.section("sync", {"overlap_minutes", "reconcile_every_hours"})
        return SyncSettings(
            overlap_minutes=self.number(s.get("overlap_minutes", 5), "[sync] overlap_minutes"),
            reconcile_every_hours=self.number(s.get("reconcile_every_hours", 24),
                                              "[sync] reconcile_every_hours"),
        )

    def fields(self) -> FieldSettings:
        names = [f.name for f in dataclasses.fields(FieldSettings)]
        s = self.section("fields", set(names))
        return FieldSettings(**{n: self.optional_string(s.get(n), f"[fields] {n}") for n in names})

    def calendar(self) -> CalendarSettings:
        s = self.section("calendar", {"timezone", "working_days", "holidays_country",
                                      "holidays_subdivision", "holidays"})
        tz = self.string(s.get("timezone", "UTC"), "[calendar] timezone")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail("[calendar] timezone", f"unknown time zone {tz!r}",
                            'use an IANA name such as "Europe/Berlin" or "UTC"') from None
        days = []
        for i, name in enumerate(self.strings(s.get("working_days", list(WEEKDAYS[:5])),
                                              "[calendar] working_days")):
            day = self.choice(name.lower(), f"[calendar] working_days[{i}]", WEEKDAYS)
            days.append(WEEKDAYS.index(day))
        holidays = s.get("holidays", [])
        if not isinstance(holidays, list):
            raise self.fail("[calendar] holidays", "expected a list of dates",
                            'write e.g. holidays = ["2026-12-24"]')
        return CalendarSettings(
            timezone=tz,
            working_days=tuple(sorted(set(days))),
            holidays_country=self.optional_string(s.get("holidays_country"),
                                                  "[calendar] holidays_country"),
            holidays_subdivision=self.optional_string(s.get("holidays_subdivision"),
                                                      "[calendar] holidays_subdivision"),
            extra_holidays=tuple(self.a_date(v, f"[calendar] holidays[{i}]")
                                 for i, v in enumerate(holidays)),
        )

    def a_date(self, value: Any, key: str) -> date:
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(key, f"{_show(value)} is not a date", 'write it as "YYYY-MM-DD"')

    def rules(self) -> RulesSettings:
        s = self.section("rules", {"paths", "mode", "disabled"})
        return RulesSettings(
            paths=tuple(self.path(p, "[rules] paths")
                        for p in self.strings(s.get("paths", []), "[rules] paths")),
            mode=self.choice(s.get("mode", "extend"), "[rules] mode", ("extend", "replace")),
            disabled=self.strings(s.get("disabled", []), "[rules] disabled"),
        )

    def budgets(self) -> tuple[BudgetSetting, ...]:
        tables = self.raw.get("budget", [])
        if not isinstance(tables, list):
            raise self.fail("[budget]", "must be an array of tables",
                            "write each budget as its own [[budget]] table")
        allowed = {"epic", "version", "project", "hours", "amount", "warn_at"}
        budgets = []
        for i, table in enumerate(tables):
            where = f"[[budget]] #{i + 1}"
            if not isinstance(table, dict):
                raise self.fail(where, "must be a table", "write it as a [[budget]] table")
            for key in table:
                if key not in allowed:
                    raise self.fail(f"{where} {key}", "unknown key",
                                    f"remove it or use one of: {', '.join(sorted(allowed))}")
            budgets.append(self.budget(table, where))
        return tuple(budgets)

    def budget(self, t: dict[str, Any], where: str) -> BudgetSetting:
        project = self.optional_string(t.get("project"), f"{where} project")
        project = project.upper() if project else project  # a project key, as Jira spells it
        if "epic" in t and "version" in t:
            raise self.fail(where, "has both epic and version",
                            "give exactly one of epic / version / project per [[budget]]")
        if "epic" in t:
            kind, ref = "epic", self.string(t["epic"], f"{where} epic")
            if project:
                raise self.fail(f"{where} project", "not used with epic",
                                "remove project (the epic key names its project)")
        elif "version" in t:
            kind, ref = "version", self.string(t["version"], f"{where} version")
            if not project:
                raise self.fail(where, "a version budget needs its project",
                                'add project = "ABC" (version names repeat across projects)')
        elif project:
            kind, ref = "project", project
        else:
            raise self.fail(where, "names no subject",
                            'add exactly one of epic = "ABC-12", version = "1.4", project = "ABC"')
        hours = t.get("hours")
        amount = t.get("amount")
        if hours is None and amount is None:
            raise self.fail(where, "has neither hours nor amount",
                            "add hours = N, or amount = N with a [rates] section")
        if amount is not None and not self.raw.get("rates"):
            raise self.fail(f"{where} amount", "a money budget needs hourly rates",
                            "add a [rates] section with default = N")
        return BudgetSetting(
            kind=kind, ref=ref, project=project,
            hours=None if hours is None else float(self.number(hours, f"{where} hours")),
            amount=None if amount is None else float(self.number(amount, f"{where} amount")),
            warn_at=float(self.number(t.get("warn_at", 0.8), f"{where} warn_at",
                                      minimum=0.01, maximum=1)),
        )

    def rates(self) -> RatesSettings:
        s = self.section("rates", {"default", "currency", "people"})
        people = s.get("people", {})
        if not isinstance(people, dict):
            raise self.fail("[rates] people", "must be a table",
                            'write [rates.people] with "accountId" = rate lines')
        default = s.get("default")
        return RatesSettings(
            default=None if default is None else float(self.number(default, "[rates] default")),
            currency=self.string(s.get("currency", "EUR"), "[rates] currency"),
            people={str(who): float(self.number(rate, f"[rates.people] {who}"))
                    for who, rate in people.items()},
        )

    def writeback(self) -> WritebackSettings:
        s = self.section("writeback", {f.name for f in dataclasses.fields(WritebackSettings)})
        return WritebackSettings(
            label_prefix=self.label(s.get("label_prefix", "pm-"), "[writeback] label_prefix"),
            exempt_label=self.label(s.get("exempt_label", "pm-ignore"),
                                    "[writeback] exempt_label"),
            exempt_issue_types=self.strings(s.get("exempt_issue_types", []),
                                            "[writeback] exempt_issue_types"),
            exempt_projects=tuple(key.upper() for key in self.strings(
                s.get("exempt_projects", []), "[writeback] exempt_projects")),
            max_writes=int(self.number(s.get("max_writes", 500), "[writeback] max_writes",
                                       integer=True)),
            notify_users=self.boolean(s.get("notify_users", True), "[writeback] notify_users"),
            comment_format=self.choice(s.get("comment_format", "auto"),
                                       "[writeback] comment_format", ("auto", "wiki", "adf")),
            comments=self.boolean(s.get("comments", True), "[writeback] comments"),
        )

    def label(self, value: Any, key: str) -> str:
        text = self.string(value, key)
        if any(ch.isspace() for ch in text):
            raise self.fail(key, f"{text!r} contains a space",
                            "Jira labels cannot contain spaces; use - or _")
        return text

    def log(self) -> LogSettings:
        s = self.section("log", {"json_path"})
        raw = self.string(s.get("json_path", ""), "[log] json_path", allow_empty=True)
        return LogSettings(json_path=self.path(raw, "[log] json_path") if raw.strip() else None)


def _show(value: Any) -> str:
    """A short, safe rendering of a bad value for an error line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
