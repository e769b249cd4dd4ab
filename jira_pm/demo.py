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
import tempfile
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jira_pm.config import Settings
from jira_pm.runner import run_pipeline
from jira_pm.words import plural

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
             echo: Callable[[str], Any] = print) -> int:
    """Run the demo and print its story; returns the exit code (0 when all went well)."""
    from jira_pm.jira.client import JiraClient
    from jira_pm.sandbox.server import Sandbox

    with contextlib.ExitStack() as stack:
        folder = Path(keep) if keep else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="jira-pm-demo-")))
        folder.mkdir(parents=True, exist_ok=True)
        sandbox = stack.enter_context(Sandbox(flavor, scenario=demo_scenario_path()))
        state, url = sandbox.state, sandbox.url
        settings = demo_settings(sandbox, folder / "demo.sqlite")
        as_of = demo_now()
        kind = "Jira Cloud" if flavor == "cloud" else "Jira Data Center"
        echo(f"jira-pm demo: a sandboxed {kind} site at {url}, project {DEMO_PROJECT} "
             f"\"Payments Platform\", as of {as_of:%a %d %b %Y %H:%M} UTC")
        echo("")
        labels_before = {i.key: list(i.labels) for i in state.issues.values()}

        client = JiraClient.from_settings(settings.jira)
        report = run_pipeline(settings, client, as_of=as_of)
        echo(f"1. sync: {report.sync_summary}")
        echo("")
        _echo_findings(settings, echo)
        _echo_writes(state, labels_before, echo)

        again = run_pipeline(settings, JiraClient.from_settings(settings.jira), as_of=as_of)
        outcome = again.writeback.outcome if again.writeback else None
        writes = len(outcome.done) if outcome else 0
        echo(f"4. run again with nothing changed in Jira: {plural(writes, 'write')}.")
        echo("")
        index = write_demo_report(settings, as_of, folder / "report" if keep else None)
        echo(f"5. status report: {index}")
        echo("")
        echo(f"The store is {settings.store_path}" + (" (kept)." if keep else
             " (deleted now; pass --keep DIR to keep it)."))
        echo("Try it on your site: jira-pm init, then jira-pm sync, jira-pm audit, "
             "jira-pm apply --dry-run.")
        return max(report.exit_code, again.exit_code)


def write_demo_report(settings: Settings, as_of: datetime, out: Path | None = None) -> Path:
    """The demo store's status report; without ``out`` in a new temporary folder that stays."""
    from jira_pm.statusreport import generate

    if out is None:
        out = Path(tempfile.mkdtemp(prefix="jira-pm-demo-report-"))
    return generate(settings, out, as_of=as_of)


def _echo_findings(settings: Settings, echo: Callable[[str], Any]) -> None:
    from jira_pm.store.findings import open_findings
    from jira_pm.store.schema import connect

    conn = connect(settings.store_path)
    try:
        findings = open_findings(conn)
        keys = {row["id"]: row["key"] for row in conn.execute("SELECT id, key FROM issues")}
    finally:
        conn.close()
    echo(f"2. findings ({len(findings)}):")
    for finding in findings:
        targets = ", ".join(keys.get(i, str(i)) for i in finding.issue_ids)
        where = f" -> {finding.label} on {targets}" if finding.label and targets else ""
        echo(f"   {finding.severity:<8} {finding.rule_id:<6} {finding.message}{where}")
    echo("")


def _echo_writes(state: Any, labels_before: dict[str, list[str]],
                 echo: Callable[[str], Any]) -> None:
    """What is in Jira now, read back from the sandbox (not from jira-pm's own records)."""
    from jira_pm.jira.format import find_markers, plain_text

    echo("3. written to Jira (read back from the sandbox):")
    for issue in sorted(state.issues.values(), key=lambda i: int(i.key.rsplit("-", 1)[1])):
        before, after = labels_before.get(issue.key, []), list(issue.labels)
        added = [x for x in after if x not in before]
        removed = [x for x in before if x not in after]
        ours = [c for c in issue.comments if find_markers(c.body)]
        if not (added or removed or ours):
            continue
        change = " ".join([*(f"+{x}" for x in added), *(f"-{x}" for x in removed)])
        echo(f"   {issue.key:<7} labels: {', '.join(after) or '(none)'}"
             + (f"   ({change})" if change else ""))
        for comment in ours:
            first = plain_text(comment.body).strip().splitlines()[0].strip("*")
            echo(f"           comment: {first}")
    echo("")
