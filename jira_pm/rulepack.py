"""The rule pack: rules (configured uses of checks) read from TOML files.

The built-in pack is the repository's ``rules/*.toml``, shipped as
``jira_pm.rules``; ``[rules] paths`` (or ``--rules DIR``) adds the user's
files, which extend it (same id replaces) or replace it (``mode =
"replace"``); ``[rules] disabled`` switches rules off. A rule file holds ``[[rule]]`` tables::

    [[rule]]
    id = "SC001"                  # unique in the pack
    check = "scope_creep_sprint"  # a registered check
    enabled = true
    severity = "medium"           # info | low | medium | high | critical
    label = "pm-scope-creep"      # must start with [writeback] label_prefix, not be the
                                  # exempt label; "" = no label
    comment_policy = "once"       # once | never | on-change
    projects = []                 # empty = every project
    issue_types = []              # empty = every issue type
    [rule.params]                 # the check's thresholds; omitted ones take defaults
    threshold = 0.10

Any mistake (bad TOML, unknown key or check, wrong type, duplicate id) is a
``RulePackError`` naming the file, the rule and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jira_pm.checks.registry import PARAM_TYPES, CheckSpec, get_check
from jira_pm.errors import RulePackError
from jira_pm.model import SEVERITIES
from jira_pm.words import noun

COMMENT_POLICIES = ("once", "never", "on-change")
RULE_KEYS = frozenset(
    {"id", "check", "enabled", "severity", "label", "comment_policy", "projects",
     "issue_types", "params", "description"}
)
DEFAULT_PREFIX = "pm-"
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Rule:
    """A configured use of a check."""

    id: str
    check: str
    enabled: bool
    severity: str
    label: str | None
    comment_policy: str
    projects: tuple[str, ...]
    issue_types: tuple[str, ...]
    params: dict[str, Any]
    source: Path
    description: str = ""

    def __hash__(self) -> int:  # params is a dict; the id identifies a rule in a pack
        return hash((self.id, self.check, self.source))

    @property
    def spec(self) -> CheckSpec:
        found = get_check(self.check)
        assert found is not None, f"rule {self.id} names an unknown check {self.check}"
        return found

    @property
    def title(self) -> str:
        """The rule's title: the first line of its check's documentation, without the stop."""
        doc = self.spec.doc.splitlines()
        return doc[0].rstrip(".") if doc else ""


@dataclass(frozen=True)
class RulePack:
    """Every rule, in file order (built-in first)."""

    rules: tuple[Rule, ...]
    label_prefix: str = DEFAULT_PREFIX
    sources: tuple[Path, ...] = field(default=())

    def owned_labels(self) -> frozenset[str]:
        """Every label the pack can produce (disabled rules too, so their labels go).

        With the labels the ledger shows jira-pm wrote, these are the only labels
        write-back ever adds or removes (``writeback.store_io.owned_labels``): the
        label prefix alone makes no label jira-pm's.
        """
        return frozenset(rule.label for rule in self.rules if rule.label)

    def get(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError if the pack has none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def enabled(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)


def builtin_rule_files() -> list[Path]:
    """The default pack's files: the repository's rules/, shipped as ``jira_pm.rules``."""
    folder = resources.files("jira_pm.rules")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def load_pack(settings=None, extra_paths: Iterable[Path] = (), mode: str | None = None) -> RulePack:
    """The built-in pack, extended or replaced by ``settings.rules`` and ``extra_paths``.

    ``extra_paths`` (the CLI's ``--rules DIR``) are read after the configured
    paths; ``mode`` overrides ``settings.rules.mode``.
    """
    section = getattr(settings, "rules", None)
    prefix = _label_prefix(settings)
    user_paths = [Path(p) for p in (getattr(section, "paths", ()) or ())] + [
        Path(p) for p in extra_paths
    ]
    mode = mode or getattr(section, "mode", "extend") or "extend"
    if mode not in ("extend", "replace"):
        raise RulePackError(
            f"[rules] mode = {mode!r} is not extend or replace",
            hint="set [rules] mode to \"extend\" or \"replace\" in jira-pm.toml",
        )
    builtin = _read_layer(builtin_rule_files(), prefix)
    user = _read_layer(_expand(user_paths), prefix)
    if mode == "replace":
        merged = dict(user)
    else:
        merged = dict(builtin)
        merged.update(user)
    disabled = set(getattr(section, "disabled", ()) or ())
    unknown = sorted(disabled - set(merged))
    if unknown:
        raise RulePackError(
            f"[rules] disabled names {noun(len(unknown), 'a rule', 'rules')} the pack does not "
            f"have: {', '.join(unknown)}",
            hint="run `jira-pm rules list` for the rule ids",
        )
    rules = tuple(
        _replace(rule, enabled=False) if rule.id in disabled else rule
        for rule in merged.values()
    )
    _refuse_exempt_label(rules, settings)
    return RulePack(rules=rules, label_prefix=prefix, sources=tuple(user_paths))


def _replace(rule: Rule, **changes: Any) -> Rule:
    from dataclasses import replace

    return replace(rule, **changes)


def _refuse_exempt_label(rules: Iterable[Rule], settings) -> None:
    """A rule may not write the exempt label: people set it to stop jira-pm, which never owns it."""
    exempt = getattr(getattr(settings, "writeback", None), "exempt_label", None) or "pm-ignore"
    for rule in rules:
        if rule.label == exempt:
            raise RulePackError(
                f"{rule.source}: rule {rule.id}: key 'label' is the exempt label {exempt!r}",
                hint="give the rule another label; the exempt label is a person's to set",
            )


def _label_prefix(settings) -> str:
    writeback = getattr(settings, "writeback", None)
    return getattr(writeback, "label_prefix", None) or DEFAULT_PREFIX


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.is_file():
            files.append(path)
        else:
            raise RulePackError(
                f"rule path {path} does not exist",
                hint="fix [rules] paths in jira-pm.toml or the --rules option",
            )
    return files


def _read_layer(files: Iterable[Path], prefix: str) -> dict[str, Rule]:
    """The rules of one layer (built-in or user), refusing duplicate ids within it."""
    rules: dict[str, Rule] = {}
    for path in files:
        for rule in read_rule_file(path, prefix):
            if rule.id in rules:
                raise RulePackError(
                    f"{path}: rule {rule.id}: key 'id' duplicates the rule in "
                    f"{rules[rule.id].source}",
                    hint="give each rule a unique id",
                )
            rules[rule.id] = rule
    return rules


def read_rule_file(path: Path, prefix: str = DEFAULT_PREFIX) -> list[Rule]:
    """The rules in one TOML file, validated."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(
            f"{path}: not valid TOML: {exc}", hint="fix the syntax at the line shown"
        ) from None
    except OSError as exc:
        raise RulePackError(f"{path}: cannot read the rule file: {exc}") from None
    unknown = sorted(set(data) - {"rule"})
    if unknown:
        raise RulePackError(
            f"{path}: key {unknown[0]!r} is not allowed at the top level",
            hint="put each rule in a [[rule]] table",
        )
    tables = data.get("rule", [])
    if not isinstance(tables, list):
        raise RulePackError(f"{path}: key 'rule' must be [[rule]] tables", hint="write [[rule]]")
    seen: set[str] = set()
    rules = []
    for position, table in enumerate(tables, start=1):
        rule = _validate(path, position, table, prefix)
        if rule.id in seen:
            raise RulePackError(
                f"{path}: rule {rule.id}: key 'id' is used twice in this file",
                hint="give each rule a unique id",
            )
        seen.add(rule.id)
        rules.append(rule)
    return rules


def _validate(path: Path, position: int, table: dict[str, Any], prefix: str) -> Rule:
    name = table.get("id") if isinstance(table.get("id"), str) else f"#{position}"

    def fail(key: str, problem: str, hint: str) -> RulePackError:
        return RulePackError(f"{path}: rule {name}: key {key!r} {problem}", hint=hint)

    for key in sorted(table):
        if key not in RULE_KEYS:
            raise fail(key, "is not a rule key", f"use one of {', '.join(sorted(RULE_KEYS))}")
    for key in ("id", "check"):
        if key not in table:
            raise fail(key, "is missing", f"every [[rule]] needs {key} = \"...\"")
        if not isinstance(table[key], str):
            raise fail(key, "must be a string", f'write {key} = "..."')
    if not _ID.match(table["id"]):
        raise fail("id", f"{table['id']!r} is not a valid rule id",
                   "use letters, digits, '-', '_' or '.', starting with a letter")
    spec = get_check(table["check"])
    if spec is None:
        from jira_pm.checks.registry import all_checks

        raise fail("check", f"names an unknown check {table['check']!r}",
                   f"use one of {', '.join(sorted(all_checks()))}")

    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled", "must be true or false", "write enabled = true")
    severity = table.get("severity", spec.severity)
    if severity not in SEVERITIES:
        raise fail("severity", f"is {severity!r}", f"use one of {', '.join(SEVERITIES)}")
    label = table.get("label", prefix + spec.label)
    if not isinstance(label, str):
        raise fail("label", "must be a string", f'write label = "{prefix}{spec.label}"')
    if label and not label.startswith(prefix):
        raise fail("label", f"{label!r} does not start with the label prefix {prefix!r}",
                   f"jira-pm only owns labels starting with {prefix!r}; rename it")
    if label and (" " in label or len(label) > 255):
        raise fail("label", f"{label!r} is not a valid Jira label", "no spaces, at most 255 chars")
    policy = table.get("comment_policy", "once")
    if policy not in COMMENT_POLICIES:
        raise fail("comment_policy", f"is {policy!r}", f"use one of {', '.join(COMMENT_POLICIES)}")
    projects = tuple(key.upper() for key in _string_list(table, "projects", fail))  # Jira's case
    issue_types = _string_list(table, "issue_types", fail)
    description = table.get("description", "")
    if not isinstance(description, str):
        raise fail("description", "must be a string", 'write description = "..."')
    params = _params(table.get("params", {}), spec, fail)
    return Rule(
        id=table["id"],
        check=spec.name,
        enabled=enabled,
        severity=severity,
        label=label or None,
        comment_policy=policy,
        projects=projects,
        issue_types=issue_types,
        params=params,
        source=path,
        description=description,
    )


def _string_list(table, key, fail) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "must be a list of strings", f'write {key} = ["..."]')
    return tuple(value)


def _params(raw, spec: CheckSpec, fail) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise fail("params", "must be a table", "write [rule.params]")
    params = spec.defaults()
    for key, value in raw.items():
        param = spec.param(key)
        if param is None:
            known = ", ".join(p.name for p in spec.params) or "none"
            raise fail(f"params.{key}", f"is not a parameter of check {spec.name}",
                       f"its parameters are: {known}")
        allowed = PARAM_TYPES[param.type]
        if isinstance(value, bool) and param.type != "bool" or not isinstance(value, allowed):
            raise fail(f"params.{key}", f"must be {param.type}, not {type(value).__name__}",
                       f"e.g. {key} = {toml_value(param.default)}")
        if param.choices is not None and value not in param.choices:
            raise fail(f"params.{key}", f"is {value!r}",
                       f"use one of {', '.join(map(str, param.choices))}")
        if param.type in ("float", "int") and value < 0:
            raise fail(f"params.{key}", f"is negative ({value})", "use a value of 0 or more")
        params[key] = float(value) if param.type == "float" else value
    return params


def toml_value(value: Any) -> str:
    """A parameter value as it is written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)
