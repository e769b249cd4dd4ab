"""Split a store into parts the rules can evaluate one at a time, with the same findings.

A finding reads its subject and everything linked to it: an epic's children and
their sub-tasks, a sprint's or version's issues now and in their changelogs, a
project's issues (throughput, project budgets). Jira links across projects
(a board's sprints span projects, an epic may hold another project's stories),
so the parts are groups of projects that nothing links across: projects are
joined when an issue of one has its parent or epic in the other, or when both
have issues that are (or, by their changelogs, were) in one sprint or fix version.
Each part carries its projects' versions and the sprints its issues name; the
sprints no issue names go with the first part. Small groups are packed together
up to ``max_issues`` a part; a group larger than that stays whole, so a site whose
projects are all linked is evaluated as one part, as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from jira_pm.checks import history
from jira_pm.checks.history import FieldIds
from jira_pm.store.site import changelog_fields

MAX_ISSUES = 200_000  # a part's size at which the next group starts a new part


@dataclass
class Part:
    projects: set[str] = field(default_factory=set)
    sprint_ids: set[int] = field(default_factory=set)
    issues: int = 0


class _Groups:
    """Union-find over nodes: ("p", project key), ("s", sprint id), ("v", version id)."""

    def __init__(self):
        self.parent: dict[tuple, tuple] = {}

    def find(self, node: tuple) -> tuple:
        parent = self.parent.setdefault(node, node)
        while parent != node:
            grand = self.parent[parent]
            self.parent[node] = grand
            node, parent = parent, grand
        return node

    def join(self, a: tuple, b: tuple) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a


def site_parts(conn: sqlite3.Connection, field_ids: FieldIds, max_issues: int = MAX_ISSUES,
               fields: list[tuple[str, str | None]] | None = None) -> list[Part]:
    """The store's parts (see the module's docstring), the largest groups first.

    ``fields``: the changelog's distinct (field, field id) pairs when the caller
    has read them already (``store.site.changelog_fields``).
    """
    groups = _Groups()
    counts = dict(conn.execute("SELECT project_key, COUNT(*) FROM issues GROUP BY project_key"))
    for project in counts:
        groups.find(("p", project))
    for version_id, project in conn.execute("SELECT id, project_key FROM versions"):
        groups.join(("p", project), ("v", version_id))
    for a, b in conn.execute(
        "SELECT DISTINCT c.project_key, p.project_key FROM issues c "
        "JOIN issues p ON p.id = c.parent_id WHERE p.project_key <> c.project_key"
    ).fetchall() + conn.execute(
        "SELECT DISTINCT c.project_key, e.project_key FROM issues c "
        "JOIN issues e ON e.key = c.epic_key WHERE e.project_key <> c.project_key"
    ).fetchall():
        groups.join(("p", a), ("p", b))
    for table, column, kind in (("issue_sprints", "sprint_id", "s"),
                                ("issue_versions", "version_id", "v")):
        # Issues first (CROSS JOIN keeps SQLite to that order; PostgreSQL plans its own):
        # SQLite then reads (id, project) from the project index and each issue's links
        # from the link table's key, instead of an issue row per link: 5x less at 1M.
        for other, project in conn.execute(
            f"SELECT DISTINCT t.{column}, i.project_key FROM issues i "
            f"CROSS JOIN {table} t WHERE t.issue_id = i.id"
        ):
            groups.join(("p", project), (kind, other))
    _join_changelog_links(conn, field_ids, groups,
                          changelog_fields(conn) if fields is None else fields)

    by_root: dict[tuple, Part] = {}
    sprint_ids = [row[0] for row in conn.execute("SELECT id FROM sprints")]
    for project, count in counts.items():
        part = by_root.setdefault(groups.find(("p", project)), Part())
        part.projects.add(project)
        part.issues += count
    unnamed: set[int] = set()
    for sprint_id in sprint_ids:
        part = by_root.get(groups.find(("s", sprint_id)))
        (part.sprint_ids if part is not None else unnamed).add(sprint_id)
    parts = _packed(sorted(by_root.values(), key=lambda p: (-p.issues, sorted(p.projects))),
                    max_issues)
    if not parts:
        parts = [Part()]
    parts[0].sprint_ids |= unnamed
    return parts


def _join_changelog_links(conn: sqlite3.Connection, field_ids: FieldIds, groups: _Groups,
                          fields: list[tuple[str, str | None]]) -> None:
    """Join each project with the sprints, versions and epics its issues' changelogs name."""
    names = [(f, i) for f, i in fields
             if field_ids.kind_of_field(f, i) in ("sprint", "version", "epic")]
    if not names:
        return
    sprint_by_name = {name: sprint_id for sprint_id, name in
                      conn.execute("SELECT id, name FROM sprints")}
    project_by_id: dict[int, str] = {}
    project_by_key: dict[str, str] = {}
    fields = sorted({f for f, _ in names})
    marks = ",".join("?" * len(fields))
    rows = conn.execute(
        "SELECT DISTINCT i.project_key, c.field, c.field_id, c.from_value, c.from_string, "
        "c.to_value, c.to_string FROM changes c JOIN issues i ON i.id = c.issue_id "
        f"WHERE c.field IN ({marks})", fields)
    for project, field_name, field_id, *values in rows:
        kind = field_ids.kind_of_field(field_name, field_id)
        here = ("p", project)
        for value, text in (values[0:2], values[2:4]):
            if kind == "sprint":
                for sprint_id in history.parse_sprint_ids(value, text, sprint_by_name):
                    groups.join(here, ("s", sprint_id))
            elif kind == "version":
                version_id = history.parse_int(value)
                if version_id is not None:
                    groups.join(here, ("v", version_id))
            elif kind == "epic":
                other = _project_of_ref(conn, value, text, project_by_id, project_by_key)
                if other is not None:
                    groups.join(here, ("p", other))


def _project_of_ref(conn, value, text, by_id: dict, by_key: dict) -> str | None:
    """The project of an epic/parent reference (an id, else a key), as parse_issue_ref reads it."""
    issue_id = history.parse_int(value)
    if issue_id is not None:
        if issue_id not in by_id:
            row = conn.execute("SELECT project_key FROM issues WHERE id = ?",
                               (issue_id,)).fetchone()
            by_id[issue_id] = row[0] if row else None
        return by_id[issue_id]
    key = (text or "").strip()
    if not key:
        return None
    if key not in by_key:
        row = conn.execute("SELECT project_key FROM issues WHERE key = ?", (key,)).fetchone()
        by_key[key] = row[0] if row else None
    return by_key[key]


def _packed(groups: Iterable[Part], max_issues: int) -> list[Part]:
    """Groups packed into parts of up to ``max_issues`` issues (a larger group alone)."""
    parts: list[Part] = []
    for group in groups:
        target = next((p for p in parts if p.issues + group.issues <= max_issues), None)
        if target is None:
            parts.append(group)
        else:
            target.projects |= group.projects
            target.sprint_ids |= group.sprint_ids
            target.issues += group.issues
    return parts
