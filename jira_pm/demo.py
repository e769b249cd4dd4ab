"""`jira-pm demo`: the whole pipeline on a seeded sandbox site, with no Jira of your own.

Starts the sandbox on a free loopback port with the demo site
(``sandbox/data/demo.toml``: a release slipping past its date, a sprint with
mid-sprint additions and a re-estimate, an epic over budget, an issue over its
estimate), runs sync → evaluate → apply into a store in a temporary folder,
prints what was found and what was written (read back from the sandbox), then
runs once more to show that an unchanged site costs zero writes.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import textwrap
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jira_pm.config import Settings
from jira_pm.runner import run_pipeline
from jira_pm.words import moment_text, plural

DEMO_PROJECT = "PAY"
DEMO_BUDGETS = [{"epic": "PAY-10", "hours": 40}]
DEMO_TIMEZONE = "Europe/Berlin"


def demo_scenario_path() -> Path:
    """The demo site's scenario file, inside the installed package."""
    return Path(str(resources.files("jira_pm") / "sandbox" / "data" / "demo.toml"))


def demo_now() -> datetime:
    """The instant the demo site is set at (its scenario's ``now``)."""
    import tomllib

    data = tomllib.loads(demo_scenario_path().read_text(encoding="utf-8"))
    return datetime.fromisoformat(data["now"].replace("Z", "+00:00"))


def demo_settings(sandbox: Any, store_path: Path) -> Settings:
    """Settings for the demo site's bot user (sandbox credentials, not real secrets)."""
    login = sandbox.credentials("admin")
    jira: dict[str, Any] = {"deployment": sandbox.flavor}
    if sandbox.flavor == "cloud":
        jira.update(email=login["email"], api_token=login["api_token"])
    else:
        jira.update(pat=login["pat"])
    return Settings.for_tests(
        url=sandbox.url, projects=[DEMO_PROJECT], store_path=store_path, jira=jira,
        calendar={"timezone": DEMO_TIMEZONE}, budget=DEMO_BUDGETS,
    )


def run_demo(flavor: str = "cloud", keep: Path | None = None,
             echo: Callable[[str], Any] = print, verbose: bool = False,
             width: int | None = None) -> int:
    """Run the demo and print its story; returns the exit code (0 when all went well).

    The story is for a project manager: plain words, the rule codes explained,
    why each label changed, lines wrapped to ``width`` (the terminal's by
    default). ``verbose`` adds the request counts an engineer wants.
    """
    from jira_pm.jira.client import JiraClient
    from jira_pm.rulepack import load_pack
    from jira_pm.sandbox.server import Sandbox

    say = _Teller(echo, width or shutil.get_terminal_size((100, 24)).columns)
    with contextlib.ExitStack() as stack:
        folder = Path(keep) if keep else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="jira-pm-demo-")))
        folder.mkdir(parents=True, exist_ok=True)
        _forget_earlier_demo(folder)
        sandbox = stack.enter_context(Sandbox(flavor, scenario=demo_scenario_path()))
        state, url = sandbox.state, sandbox.url
        settings = demo_settings(sandbox, folder / "demo.sqlite")
        pack = load_pack(settings)
        as_of = demo_now()
        kind = "Jira Cloud" if flavor == "cloud" else "Jira Data Center"
        say(f"jira-pm demo: a sandboxed {kind} site at {url}, project {DEMO_PROJECT} "
            f"\"Payments Platform\", as of {moment_text(as_of, ZoneInfo(DEMO_TIMEZONE))}")
        say("")
        labels_before = {i.key: list(i.labels) for i in state.issues.values()}

        client = JiraClient.from_settings(settings.jira)
        report = run_pipeline(settings, client, as_of=as_of)
        _tell_sync(settings, report, sandbox, say, verbose)
        _tell_findings(settings, pack, say)
        _tell_writes(state, labels_before, pack, say)

        again = run_pipeline(settings, JiraClient.from_settings(settings.jira), as_of=as_of)
        outcome = again.writeback.outcome if again.writeback else None
        writes = len(outcome.done) if outcome else 0
        say(f"4. Ran again with nothing changed in Jira: {plural(writes, 'write')}.")
        say("")
        index = write_demo_report(settings, as_of, folder / "report" if keep else None)
        say("5. Status report for stakeholders, to open in a browser:")
        say.verbatim(f"   {index}")
        say("")
        if keep:
            config = write_demo_config(folder, sandbox)
            say(f"Kept the store, the report and a {config.name} for them in:")
            say.verbatim(f"   {folder}")
            say("Commands that read only the store work with that config, for example:")
            say.verbatim(f"   jira-pm --config {config} audit --as-of {as_of.date().isoformat()}")
        else:
            say("The store was deleted; pass --keep DIR to keep it with a config for it.")
        say("Try it on your site: jira-pm init, then jira-pm sync, jira-pm audit, "
            "jira-pm apply --dry-run.")
        return max(report.exit_code, again.exit_code)


def _forget_earlier_demo(folder: Path) -> None:
    """Remove an earlier demo's store from a kept folder: it belongs to a sandbox that is gone
    (each demo serves on a new port), so this demo starts a store of its own."""
    for name in ("demo.sqlite", "demo.sqlite-wal", "demo.sqlite-shm"):
        (folder / name).unlink(missing_ok=True)


class _Teller:
    """Prints the story, each paragraph wrapped to the width, continuation lines indented."""

    def __init__(self, echo: Callable[[str], Any], width: int):
        self.echo = echo
        self.width = max(40, width)

    def verbatim(self, line: str) -> None:
        """A path or a command: never wrapped, so it can be copied whole."""
        self.echo(line)

    def __call__(self, text: str, indent: str = "", hang: str | None = None) -> None:
        if not text:
            self.echo("")
            return
        hang = indent if hang is None else hang
        for line in textwrap.wrap(text, self.width, initial_indent=indent,
                                  subsequent_indent=hang, break_on_hyphens=False,
                                  break_long_words=False):
            self.echo(line)


def write_demo_config(folder: Path, sandbox: Any) -> Path:
    """A jira-pm.toml for the kept store: the demo's settings, no credentials.

    The sandbox is gone when the demo ends, so it serves the commands that read
    only the store (audit, status, log, report, explain).
    """
    budgets = "\n".join(f'[[budget]]\nepic = "{b["epic"]}"\nhours = {b["hours"]}'
                        for b in DEMO_BUDGETS)
    text = (
        "# Written by `jira-pm demo --keep`: the demo site's settings for the kept store.\n"
        "# The demo's sandbox stopped when the demo ended, so use it with the commands that\n"
        "# read only the store: audit, status, log, report, explain KEY.\n"
        f'[jira]\nurl = "{sandbox.url}"\ndeployment = "{sandbox.flavor}"\n\n'
        f'[scope]\nprojects = ["{DEMO_PROJECT}"]\n\n'
        '[store]\npath = "demo.sqlite"\n\n'
        f'[calendar]\ntimezone = "{DEMO_TIMEZONE}"\n\n{budgets}\n'
    )
    path = folder / "jira-pm.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_demo_report(settings: Settings, as_of: datetime, out: Path | None = None) -> Path:
    """The demo store's status report; without ``out`` in a new temporary folder that stays."""
    from jira_pm.statusreport import generate

    if out is None:
        out = Path(tempfile.mkdtemp(prefix="jira-pm-demo-report-"))
    return generate(settings, out, as_of=as_of)


def _counts(settings: Settings) -> dict[str, int]:
    from jira_pm.store.schema import connect

    conn = connect(settings.store_path, readonly=True)
    try:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("issues", "changes", "worklogs", "versions", "sprints")}
    finally:
        conn.close()


def _tell_sync(settings: Settings, report: Any, sandbox: Any, say: _Teller,
               verbose: bool) -> None:
    n = _counts(settings)
    say(f"1. Copied the project from Jira: {plural(n['issues'], 'issue')} with "
        f"{plural(n['changes'], 'history entry')} and {plural(n['worklogs'], 'worklog')}, "
        f"{plural(n['versions'], 'release')} and {plural(n['sprints'], 'sprint')}.")
    if verbose:
        say(f"sync: {report.sync_summary}; the sandbox answered "
            f"{plural(sandbox.stats()['total'], 'request')} in all", indent="   ")
    say("")


def _tell_findings(settings: Settings, pack: Any, say: _Teller) -> None:
    from jira_pm.model import severity_rank
    from jira_pm.store.findings import open_findings
    from jira_pm.store.schema import connect

    conn = connect(settings.store_path, readonly=True)
    try:
        findings = open_findings(conn)
        keys = {row["id"]: row["key"] for row in conn.execute("SELECT id, key FROM issues")}
    finally:
        conn.close()
    findings.sort(key=lambda f: (-severity_rank(f.severity), f.rule_id))
    say(f"2. Found {plural(len(findings), 'problem')}:")
    for finding in findings:
        targets = ", ".join(keys[i] for i in finding.issue_ids if i in keys)
        where = f" -> {finding.label} on {targets}" if finding.label and targets else ""
        lead = f"   {finding.severity:<7} {finding.rule_id}  "
        say(f"{finding.message}{where}", indent=lead, hang=" " * len(lead))
    titles = {rule.id: rule.title for rule in pack.rules}
    shown = sorted({f.rule_id for f in findings})
    if shown:
        say("Rules: " + "; ".join(f"{rid} {titles.get(rid, '').lower()}" for rid in shown)
            + ".", indent="   ", hang="   ")
    say("")


def _tell_writes(state: Any, labels_before: dict[str, list[str]], pack: Any,
                 say: _Teller) -> None:
    """What is in Jira now, read back from the sandbox (not from jira-pm's own records)."""
    from jira_pm.jira.format import find_markers, plain_text

    setters: dict[str, list[str]] = {}
    for rule in pack.rules:
        if rule.label:
            setters.setdefault(rule.label, []).append(rule.id)
    say("3. Written to Jira (read back from the sandbox):")
    for issue in sorted(state.issues.values(), key=lambda i: int(i.key.rsplit("-", 1)[1])):
        before, after = labels_before.get(issue.key, []), list(issue.labels)
        added = [x for x in after if x not in before]
        removed = [x for x in before if x not in after]
        ours = [c for c in issue.comments if find_markers(c.body)]
        if not (added or removed or ours):
            continue
        say(f"labels now: {', '.join(after) or '(none)'}"
            + "".join(f"; added {x}" for x in added), indent=f"   {issue.key:<7} ",
            hang=" " * 11)
        for label in removed:
            rules = ", ".join(setters.get(label, [])) or "no rule"
            say(f"removed {label}: none of the rules that set it ({rules}) flags "
                f"{issue.key} now, so the label was stale", indent=" " * 11)
        for comment in ours:
            first = plain_text(comment.body).strip().splitlines()[0].strip("*")
            say(f"comment: {first}", indent=" " * 11, hang=" " * 20)
    say("")
