"""Write the report's files: index.html, one page per project, report.json."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from jira_pm.errors import UsageError


def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("jira_pm.statusreport", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _charts(project: dict[str, Any]) -> dict[str, str]:
    """Chart SVGs for one project's versions, sprints, budgets and trend (not in report.json)."""
    from jira_pm.statusreport import charts

    svgs: dict[str, str] = {}
    for version in project["versions"]:
        if version["days"]:
            svgs[f"version-{version['id']}"] = charts.burn_up(version)
    for sprint in project["sprints"]:
        svgs[f"sprint-{sprint['id']}"] = charts.sprint_scope(sprint)
    for budget in project["budgets"]:
        svgs[f"budget-{budget['subject_type']}-{budget['subject_id']}"] = charts.budget(budget)
    if len(project["trend"]) > 1:
        svgs[f"trend-{project['key']}"] = charts.trend(project["trend"])
    return svgs


def write_site(data: dict[str, Any], out: Path) -> Path:
    """Write the site into ``out`` (created if needed); returns the index page's path.

    One page at a time, each with its own charts: a large site's pages are
    never all in memory at once.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the report folder {out}: {exc.strerror}",
                         hint="pass --out a folder this user may write") from exc
    env = _environment()
    for project in data["projects"]:
        _write(out / project["page"], env.get_template("project.html.j2").render(
            report=data, project=project, svgs=_charts(project)))
    _write(out / "report.json", json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    _write(out / "index.html", env.get_template("index.html.j2").render(report=data))
    return out / "index.html"


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically: a reader of the file share never sees half a page."""
    try:
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes it private; a report is for others to read
        os.replace(temp, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}",
                         hint="pass --out a folder this user may write") from exc
