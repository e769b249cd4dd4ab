"""`jira-pm init` (write a commented jira-pm.toml) and `jira-pm doctor` (check the setup)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jira_pm.cli.common import echo, load_settings_from_ctx, make_client, mark
from jira_pm.cli.main import main
from jira_pm.errors import (
    EXIT_JIRA,
    EXIT_OK,
    EXIT_USAGE,
    JiraError,
    JiraJqlRejected,
    JiraNoSuchEndpoint,
    JiraNotFound,
    UsageError,
)

if TYPE_CHECKING:
    from jira_pm.config import Settings
    from jira_pm.jira.client import JiraClient
    from jira_pm.mapping import FieldMap

# ---- init ---------------------------------------------------------------------------------

TEMPLATE = """\
# jira-pm configuration. Every key is documented in docs/configuration.md.
# Unknown keys are errors, so a typo never silently does nothing.
# Secrets belong in the environment, not here:
#   Jira Cloud:        JIRA_EMAIL and JIRA_API_TOKEN
#   Jira Data Center:  JIRA_PAT (a personal access token)
# Check the setup with:  jira-pm doctor

[jira]
url = {url}   # or $JIRA_URL; plain http:// only for localhost
deployment = {deployment}        # auto (asks /rest/api/2/serverInfo) | cloud | server
# email = "pm-bot@example.com"   # or $JIRA_EMAIL (Cloud basic auth, with an API token)
# timeout_seconds = 30           # per request
# verify_tls = true              # or the path of a CA bundle
# max_parallel = 4               # concurrent requests where pagination allows (1..16)
# max_retry_seconds = 300        # give up retrying one request after this long

[scope]
projects = {projects}
# jql = "labels != wontfix"      # optional; ANDed with the projects

[sync]
# overlap_minutes = 5            # incremental sync re-reads this much before the cursor
# reconcile_every_hours = 24     # find deleted/moved issues at most this often

[fields]                         # normally discovered; set an id or exact name to override
# story_points = "customfield_10016"
# sprint = "customfield_10020"
# epic_link = "customfield_10014"  # Data Center only
# start_date = "customfield_10015"
# budget = "Budget"

[store]
path = "jira-pm.sqlite"          # relative to this file's folder

[calendar]
timezone = "UTC"                 # IANA name, e.g. "Europe/Berlin"
# working_days = ["mon", "tue", "wed", "thu", "fri"]
# holidays_country = "DE"
# holidays = ["2026-12-24"]

[rules]
# paths = ["rules"]              # your own rule files or folders
# mode = "extend"                # extend the built-in pack | replace it
# disabled = []

# [[budget]]                     # one table per budget: epic, version (+ project) or project
# epic = "ABC-12"
# hours = 400

# [rates]                        # money = hours x rate
# default = 95.0
# currency = "EUR"

[writeback]
# label_prefix = "pm-"           # rule labels start with it; jira-pm owns only its rules' labels
# exempt_label = "pm-ignore"
# max_writes = 500
# notify_users = true
# comment_format = "auto"        # auto | wiki | adf
# comments = true                # false: labels only

[log]
# json_path = ""                 # append JSON-lines run logs here
"""


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(url: str, projects: tuple[str, ...], deployment: str = "auto") -> str:
    """The commented jira-pm.toml that `jira-pm init` writes (no secrets, ever)."""
    return TEMPLATE.format(
        url=_toml_string(url),
        deployment=_toml_string(deployment),
        projects="[" + ", ".join(_toml_string(p) for p in projects) + "]",
    )


@main.command("init")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--url", default=None, help="The Jira site (default: $JIRA_URL).")
@click.option("--project", "projects", multiple=True, help="A project key in scope (repeatable).")
@click.option("--deployment", type=click.Choice(["auto", "cloud", "server"]), default="auto",
              show_default=True)
@click.pass_context
def init_cmd(ctx: click.Context, path: str | None, force: bool, url: str | None,
             projects: tuple[str, ...], deployment: str) -> None:
    """Write a commented jira-pm.toml (no secrets: those stay in the environment)."""
    from jira_pm.config import DEFAULT_CONFIG_NAME, settings_from_text
    from jira_pm.errors import ConfigError

    root = ctx.find_root().obj or {}
    target = Path(path or root.get("config_path") or DEFAULT_CONFIG_NAME)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists",
                         hint="pass --force to overwrite it, or give another PATH")
    text = render_config(
        url or os.environ.get("JIRA_URL") or "https://your-site.atlassian.net",
        tuple(projects) or ("ABC",),
        deployment,
    )
    try:  # what init writes must load back as written: check it before writing anything
        settings_from_text(text, target, env={})
    except ConfigError as exc:
        raise UsageError(f"nothing written: {exc.message}", hint=exc.hint) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, text)
    echo(f"Wrote {target}. Set JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center), "
         "edit [scope], then run: jira-pm doctor")


def _write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` whole or not at all (a full disk or a kill leaves the old
    file, or none); mode 0600, since people do paste tokens into config files."""
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# ---- doctor -------------------------------------------------------------------------------

DOCTOR_RETRY_SECONDS = 15.0  # doctor's retry budget per request (sync's is max_retry_seconds)
PERMISSIONS = {
    "BROWSE_PROJECTS": "read issues",
    "EDIT_ISSUES": "add and remove labels",
    "ADD_COMMENTS": "post comments",
}
FIELD_NAMES = {
    "story_points": "story points (scope creep falls back to issue counts)",
    "sprint": "sprint (sprint scope creep is skipped)",
    "epic_link": "epic link (Data Center epics; Cloud uses parent)",
    "start_date": "start date",
    "budget": "budget (epic budgets come only from [[budget]])",
}


@dataclass
class Doctor:
    """Runs the checks one by one, printing one line each, and works out the exit code."""

    settings: Settings
    client: JiraClient
    say: Callable[[str], None] = echo
    exit_code: int = EXIT_OK

    def line(self, ok: bool | None, text: str, fix: str | None = None,
             *, failure_code: int = EXIT_JIRA) -> None:
        self.say(f"{mark(ok)} {text}" + (f" — fix: {fix}" if fix and not ok else ""))
        if ok is False:
            self.exit_code = max(self.exit_code, failure_code)

    def run(self) -> int:
        s = self.settings
        self.line(True, f"config: {s.source or 'built-in settings'}")
        self.credentials()
        if self.reachable() and self.authenticated():
            for key in s.scope.projects:
                self.project(key)
            field_map = self.fields()
            self.scope_query(field_map)
            self.budgets()
        if self.store_belongs_here():
            self.labels_left_alone()
        return self.exit_code

    def store_belongs_here(self) -> bool:
        """Whether the store (if any) is this site's and holds this scope, as sync will check."""
        from jira_pm.errors import ConfigError
        from jira_pm.store import connect
        from jira_pm.store.schema import store_exists
        from jira_pm.sync.identity import check_scope, check_site

        s = self.settings
        if not store_exists(s.store):
            return True
        conn = connect(s.store)
        try:
            check_site(conn, s.jira.url, s.store_name)
            check_scope(conn, s, s.store_name)
        except ConfigError as refused:
            self.line(False, f"store: {refused.message}", refused.hint, failure_code=EXIT_USAGE)
            return False
        finally:
            conn.close()
        return True

    def credentials(self) -> None:
        from jira_pm.jira.http import BearerAuth, auth_from_settings, unused_credentials

        auth = auth_from_settings(self.settings.jira)  # the auth every request will carry
        unused = unused_credentials(self.settings.jira)
        also = f"; {unused} is also set and not used" if unused else ""
        if isinstance(auth, BearerAuth):
            self.line(True, f"credentials: personal access token (bearer){also}")
        elif auth is not None:
            self.line(True, f"credentials: {self.settings.jira.email} with an API token "
                            f"(basic){also}")
        else:
            self.line(None, "credentials: none set; requests go anonymously",
                      "set JIRA_EMAIL and JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)")

    def reachable(self) -> bool:
        from jira_pm.jira.client import deployment_of

        try:
            info = self.client.server_info()
        except JiraError as exc:
            self.line(False, f"Jira at {self.settings.jira.url}: {exc.message}",
                      exc.hint or "check [jira] url / $JIRA_URL and the network",
                      failure_code=exc.exit_code)
            return False
        kind = str(info.get("deploymentType") or "Server")
        self.line(True, f"Jira at {self.settings.jira.url}: "
                        f"{info.get('serverTitle') or 'Jira'} {info.get('version', '')} ({kind})")
        detected = deployment_of(info).lower()
        configured = self.settings.jira.deployment
        if configured not in ("auto", detected):
            self.line(False, f"[jira] deployment = {configured!r} but the site says {kind}",
                      f'set deployment = "{detected}" or "auto"', failure_code=EXIT_USAGE)
        return True

    def authenticated(self) -> bool:
        try:
            me = self.client.myself()
        except JiraError as exc:
            self.line(False, f"authentication: {exc.message}", exc.hint,
                      failure_code=exc.exit_code)
            return False
        who = me.get("displayName") or me.get("name") or me.get("accountId") or "?"
        self.line(True, f"authenticated as {who}; Jira time zone {me.get('timeZone', 'unknown')}")
        return True

    def visible_projects(self, shown: int = 8) -> str:
        """The project keys this user can see, for the fix of a mistyped [scope] key."""
        try:
            keys = sorted(str(p.get("key")) for p in self.client.projects() if p.get("key"))
        except JiraError:
            return 'project keys, e.g. "ABC"'
        if not keys:
            return "this user can see no project at all"
        more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
        return f"this user can see {', '.join(keys[:shown])}{more}"

    def project(self, key: str) -> None:
        try:
            project = self.client.project(key)
        except JiraNotFound:
            # A configuration problem (exit 2), like rejected scope JQL: the key is wrong,
            # or this user cannot see the project at all.
            from jira_pm.config import DEFAULT_CONFIG_NAME

            where = self.settings.source or DEFAULT_CONFIG_NAME
            self.line(False, f"project {key}: not found or not visible to this user",
                      f"correct [scope] projects in {where} ({self.visible_projects()}), "
                      f"or have a Jira admin grant this user BROWSE_PROJECTS in {key}",
                      failure_code=EXIT_USAGE)
            return
        except JiraError as exc:
            self.line(False, f"project {key}: {exc.message}", exc.hint,
                      failure_code=exc.exit_code)
            return
        name = project.get("name") or key
        try:
            held = self.client.my_permissions(key, list(PERMISSIONS))
        except (JiraNotFound, JiraNoSuchEndpoint) as exc:
            # The project was just read: a 404 here is about /mypermissions, not the project.
            self.line(None, f"project {key} ({name}): found; could not confirm permissions: "
                            f"{exc.message}", "check them in the project's permission scheme")
            return
        except JiraError as exc:
            self.line(False, f"project {key}: cannot read permissions: {exc.message}", exc.hint,
                      failure_code=exc.exit_code)
            return
        if all(held.values()):
            self.line(True, f"project {key} ({name}): may read, label and comment")
        for perm, ok in held.items():
            if ok is None:
                self.line(None, f"project {key}: could not confirm {perm}, needed to "
                                f"{PERMISSIONS[perm]} (Jira's /mypermissions did not report it)",
                          f"check {perm} in {key}'s permission scheme")
            elif not ok:
                self.line(False, f"project {key}: missing {perm}, needed to {PERMISSIONS[perm]}",
                          f"ask a Jira admin to grant {perm} in {key}'s permission scheme")

    def scope_query(self, field_map: FieldMap | None) -> None:
        """One page of the very search sync sends: its JQL, fields, expand and page size."""
        from jira_pm.mapping import FieldMap
        from jira_pm.sync.query import ISSUE_EXPAND, issue_fields, scope_jql

        jql = scope_jql(self.settings)
        fields = issue_fields(field_map or FieldMap())
        try:
            first = next(iter(self.client.search(jql, fields, expand=list(ISSUE_EXPAND))), [])
        except JiraJqlRejected as exc:
            self.line(False, f"scope JQL rejected: {exc.message}", "fix [scope] jql / projects",
                      failure_code=EXIT_USAGE)
            return
        except JiraError as exc:
            self.line(False, f"scope search: {exc.message}", exc.hint, failure_code=exc.exit_code)
            return
        if not first:
            self.line(None, f"scope JQL matches no issues: {jql}",
                      "check [scope]; this user may not see those issues")
            return
        from jira_pm.words import plural

        count = self.client.approximate_count(jql)
        about = f"about {plural(count, 'issue')}" if count is not None else "issues"
        self.line(True, f"scope JQL matches {about}: {jql}")

    def fields(self) -> FieldMap | None:
        """Check the field mapping; the map sync would use, or None when /field failed."""
        try:
            fields = self.client.fields()
        except JiraError as exc:
            self.line(False, f"fields: {exc.message}", exc.hint, failure_code=exc.exit_code)
            return None
        from jira_pm.mapping import discover_fields

        names = {str(f.get("id")): f.get("name") for f in fields}
        field_map = discover_fields(fields, self.settings.fields)
        found = field_map.as_dict()
        overrides = self.settings.fields
        for key, what in FIELD_NAMES.items():
            field_id = found.get(key)
            configured = getattr(overrides, key)
            if configured and field_id not in names:
                self.line(False, f"[fields] {key} = {configured!r} is not a field on this site",
                          "use a field id or exact name from GET /rest/api/2/field",
                          failure_code=EXIT_USAGE)
            elif field_id:
                self.line(True, f"field {key}: {field_id} ({names.get(field_id)})")
            else:
                self.line(None, f"field {key}: none found — {what}",
                          f"set [fields] {key} if the site has one")
        return field_map

    def budgets(self) -> None:
        """Each [[budget]] against Jira: its epic, version or project exists, is visible,
        and (for `epic =`) is an epic. Jira, not the store, so it works before a first sync."""
        from jira_pm.config import DEFAULT_CONFIG_NAME

        where = self.settings.source or DEFAULT_CONFIG_NAME
        for number, entry in enumerate(self.settings.budgets, start=1):
            table = f"[[budget]] #{number} {entry.kind} = {entry.ref!r}"
            try:
                if entry.kind == "epic":
                    self.budget_issue(table, entry.ref, where)
                elif entry.kind == "version":
                    self.budget_version(table, entry.ref, entry.project or "", where)
                else:
                    name = self.client.project(entry.ref).get("name") or entry.ref
                    self.line(True, f"{table}: project {name}")
            except JiraNotFound:
                self.line(False, f"{table}: not found or not visible to this user",
                          f"correct it in {where}, or have a Jira admin grant this user "
                          "BROWSE_PROJECTS in its project", failure_code=EXIT_USAGE)
            except JiraError as exc:
                self.line(False, f"{table}: {exc.message}", exc.hint)

    def budget_issue(self, table: str, key: str, where: object) -> None:
        from jira_pm.mapping.issues import is_epic_type

        fields = self.client.issue(key, fields=["issuetype", "project"]).get("fields") or {}
        issue_type = fields.get("issuetype") or {}
        kind = str(issue_type.get("name") or "issue")
        project = str((fields.get("project") or {}).get("key") or key.rsplit("-", 1)[0])
        scope = self.settings.scope.projects
        if scope and project not in scope:
            self.line(False, f"{table}: in project {project}, outside [scope] projects, so it "
                      "is never synced and its budget is skipped",
                      f"add {project} to [scope] projects in {where}, or correct the key",
                      failure_code=EXIT_USAGE)
        elif not is_epic_type(issue_type):
            self.line(None, f"{table}: a {kind}, not an epic; its budget counts the "
                      f"{kind.lower()} and its sub-tasks only",
                      f"name its epic in {where} if the epic's budget was meant")
        else:
            self.line(True, f"{table}: an epic")

    def budget_version(self, table: str, name: str, project: str, where: object) -> None:
        names = [str(v.get("name")) for v in self.client.project_versions(project)]
        if name in names:
            self.line(True, f"{table}: a version of {project}")
        else:
            self.line(False, f"{table}: no such version in project {project}",
                      f"correct the name in {where} (one of: {', '.join(names[:10]) or 'none'})",
                      failure_code=EXIT_USAGE)

    def labels_left_alone(self) -> None:
        """The prefix labels on issues in scope (as last synced) that jira-pm does not own."""
        from jira_pm.rulepack import load_pack
        from jira_pm.store import connect
        from jira_pm.writeback.plan import Policy
        from jira_pm.writeback.store_io import issues_in_scope, owned_labels

        s = self.settings
        from jira_pm.store.schema import store_exists

        if not store_exists(s.store):
            self.line(None, "labels: the store is not synced yet, so the labels in scope are "
                      "unknown", "run `jira-pm sync`, then doctor again")
            return
        conn = connect(s.store)
        try:
            policy = Policy.from_settings(s.writeback,
                                          owned_labels(conn, load_pack(s).owned_labels()))
            counts: dict[str, int] = {}
            for issue in issues_in_scope(conn, s.scope.projects).values():
                for label in issue.labels:
                    if policy.leaves_alone(label):
                        counts[label] = counts.get(label, 0) + 1
        finally:
            conn.close()
        if not counts:
            self.line(True, f"labels: every {s.writeback.label_prefix}* label in scope is "
                      "jira-pm's own")
            return
        from jira_pm.words import plural

        listed = ", ".join(f"{label} ({plural(n, 'issue')})"
                           for label, n in sorted(counts.items()))
        self.line(True, f"labels: {listed} have the prefix {s.writeback.label_prefix!r} but "
                  "are not jira-pm's; it leaves them alone")


@main.command("doctor")
@click.pass_context
def doctor_cmd(ctx: click.Context) -> None:
    """Check config, connectivity, credentials, permissions and field mapping."""
    settings = load_settings_from_ctx(ctx)
    # A check, not a sync: an unreachable site should say so in seconds, not after
    # the full max_retry_seconds (300 s by default) a cron run may afford.
    budget = min(float(settings.jira.max_retry_seconds), DOCTOR_RETRY_SECONDS)
    client = make_client(settings, max_retry_seconds=budget, credentials_notice=False)
    ctx.exit(Doctor(settings, client).run())
