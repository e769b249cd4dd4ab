"""`jira-pm init` (write a commented jira-pm.toml) and `jira-pm doctor` (check the setup)."""

from __future__ import annotations

import os
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
    JiraBadRequest,
    JiraError,
    JiraNotFound,
    UsageError,
)

if TYPE_CHECKING:
    from jira_pm.config import Settings
    from jira_pm.jira.client import JiraClient

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
    from jira_pm.config import DEFAULT_CONFIG_NAME, load_settings

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
    target.parent.mkdir(parents=True, exist_ok=True)
    # 0600: people do paste tokens into config files, whatever the comments say.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    load_settings(target, env={})  # what init writes must load back as written
    echo(f"Wrote {target}. Set JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center), "
         "edit [scope], then run: jira-pm doctor")


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
            self.scope_query()
            self.fields()
        self.labels_left_alone()
        return self.exit_code

    def credentials(self) -> None:
        from jira_pm.jira.http import BearerAuth, auth_from_settings

        auth = auth_from_settings(self.settings.jira)  # the auth every request will carry
        if isinstance(auth, BearerAuth):
            self.line(True, "credentials: personal access token (bearer)")
        elif auth is not None:
            self.line(True, f"credentials: {self.settings.jira.email} with an API token (basic)")
        else:
            self.line(None, "credentials: none set; requests go anonymously",
                      "set JIRA_EMAIL and JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)")

    def reachable(self) -> bool:
        from jira_pm.jira.client import deployment_of

        try:
            info = self.client.server_info()
        except JiraError as exc:
            self.line(False, f"Jira at {self.settings.jira.url}: {exc.message}",
                      exc.hint or "check [jira] url / $JIRA_URL and the network")
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
            self.line(False, f"authentication: {exc.message}", exc.hint)
            return False
        who = me.get("displayName") or me.get("name") or me.get("accountId") or "?"
        self.line(True, f"authenticated as {who}; Jira time zone {me.get('timeZone', 'unknown')}")
        return True

    def project(self, key: str) -> None:
        try:
            project = self.client.project(key)
        except JiraNotFound:
            # A configuration problem (exit 2), like rejected scope JQL: the key is wrong,
            # or this user cannot see the project at all.
            from jira_pm.config import DEFAULT_CONFIG_NAME

            where = self.settings.source or DEFAULT_CONFIG_NAME
            self.line(False, f"project {key}: not found or not visible to this user",
                      f"correct [scope] projects in {where} (project keys, e.g. \"ABC\"), "
                      f"or have a Jira admin grant this user BROWSE_PROJECTS in {key}",
                      failure_code=EXIT_USAGE)
            return
        except JiraError as exc:
            self.line(False, f"project {key}: {exc.message}", exc.hint)
            return
        try:
            held = self.client.my_permissions(key, list(PERMISSIONS))
        except JiraError as exc:
            self.line(False, f"project {key}: cannot read permissions: {exc.message}", exc.hint)
            return
        missing = [perm for perm, ok in held.items() if not ok]
        name = project.get("name") or key
        if not missing:
            self.line(True, f"project {key} ({name}): may read, label and comment")
        for perm in missing:
            self.line(False, f"project {key}: missing {perm}, needed to {PERMISSIONS[perm]}",
                      f"ask a Jira admin to grant {perm} in {key}'s permission scheme")

    def scope_query(self) -> None:
        from jira_pm.sync import scope_jql

        jql = scope_jql(self.settings)
        try:
            first = next(iter(self.client.search(jql, ["id"], page_size=1)), [])
        except JiraBadRequest as exc:
            self.line(False, f"scope JQL rejected: {exc.message}", "fix [scope] jql / projects",
                      failure_code=EXIT_USAGE)
            return
        except JiraError as exc:
            self.line(False, f"scope JQL: {exc.message}", exc.hint)
            return
        if not first:
            self.line(None, f"scope JQL matches no issues: {jql}",
                      "check [scope]; this user may not see those issues")
            return
        count = self.client.approximate_count(jql)
        about = f"about {count} issues" if count is not None else "issues"
        self.line(True, f"scope JQL matches {about}: {jql}")

    def fields(self) -> None:
        try:
            fields = self.client.fields()
        except JiraError as exc:
            self.line(False, f"fields: {exc.message}", exc.hint)
            return
        from jira_pm.mapping import discover_fields

        names = {str(f.get("id")): f.get("name") for f in fields}
        found = discover_fields(fields, self.settings.fields).as_dict()
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


    def labels_left_alone(self) -> None:
        """The prefix labels on issues in scope (as last synced) that jira-pm does not own."""
        from jira_pm.rulepack import load_pack
        from jira_pm.store import connect
        from jira_pm.writeback.plan import Policy
        from jira_pm.writeback.store_io import issues_in_scope, owned_labels

        s = self.settings
        if not Path(s.store_path).exists():
            self.line(None, "labels: the store is not synced yet, so the labels in scope are "
                      "unknown", "run `jira-pm sync`, then doctor again")
            return
        conn = connect(s.store_path)
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
        listed = ", ".join(f"{label} ({n} issue{'' if n == 1 else 's'})"
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
    client = make_client(settings, max_retry_seconds=budget)
    ctx.exit(Doctor(settings, client).run())
