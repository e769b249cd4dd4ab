"""`jira-pm report`: a self-contained static status site (HTML pages + report.json).

``data.build_report`` gathers every number from the store; ``render.write_site``
draws the charts (``svgplot``: SVG written directly, inline) and fills the jinja2 templates. The
pages need no network and no JavaScript: CSS and charts are inline, and a
Content-Security-Policy forbids anything else.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any


def generate(settings: Any, out: Path, *, projects: tuple[str, ...] = (),
             as_of: datetime | None = None, pack: Any = None) -> Path:
    """Build the report from the store and write it into ``out``; returns index.html's path.

    The store is only read. A store that never completed a sync is refused
    (UsageError, exit 2) as `audit` refuses it.
    """
    from jira_pm.runner import never_synced_error, require_synced
    from jira_pm.statusreport.data import build_report
    from jira_pm.statusreport.render import write_site
    from jira_pm.store import connect
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        raise never_synced_error(settings, "report")
    conn = connect(settings.store, readonly=True)
    try:
        require_synced(conn, settings, "report")
        data = build_report(conn, settings, projects=projects, as_of=as_of, pack=pack)
    finally:
        conn.close()
    return write_site(data, Path(out))
