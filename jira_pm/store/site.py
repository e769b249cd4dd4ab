"""The reader: the whole store as one ``Site`` snapshot for the rule engine.

One SELECT per table, no per-issue queries: 100k issues with a million
changelog items load this way (see docs/benchmarks.md, "Sync").
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jira_pm.model import Change, Issue, Person, Site, Sprint, Version, Worklog
from jira_pm.store.schema import is_postgres
from jira_pm.store.sync_state import get_meta


def _dt(text: str | None) -> datetime | None:
    # Stored by isoformat(), so fromisoformat reads it back exactly (and fast, in C).
    return datetime.fromisoformat(text) if text else None


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class ChangeFields:
    """The changelog items ``load_site`` loads, by field name: on every issue (sub-tasks
    only when ``subtasks``), on epics only.

    The rule engine passes what its enabled checks read (items of other fields would
    only be built and dropped); without it every item is loaded.
    """

    every: frozenset[str] = frozenset()
    epics: frozenset[str] = frozenset()
    subtasks: bool = False

    def test(self) -> tuple[str, list[str]] | None:
        """The SQL condition on ``changes`` rows and its parameters; None when none is wanted."""
        tests: list[str] = []
        params: list[str] = []
        if self.every:
            tests.append(f"field IN ({','.join('?' * len(self.every))})")
            params += sorted(self.every)
        if self.epics:
            tests.append(f"(field IN ({','.join('?' * len(self.epics))}) "
                         "AND issue_id IN (SELECT id FROM issues WHERE is_epic <> 0))")
            params += sorted(self.epics)
        return ("(" + " OR ".join(tests) + ")", params) if tests else None


def changelog_fields(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    """Every distinct (field name, field id) of the stored changelog items."""
    rows = conn.execute("SELECT DISTINCT field, field_id FROM changes")
    return [(row[0], row[1]) for row in rows]


def _key_order(conn: sqlite3.Connection, key: str) -> str:
    """``ORDER BY key`` on PostgreSQL; nothing on SQLite, which reads its tables in key order.

    The readers rely on that order (a change's items arrive together, in history
    order); PostgreSQL returns rows in no promised order, and an ORDER BY would
    only cost SQLite's hot loop a plan it does not need.
    """
    return f" ORDER BY {key}" if is_postgres(conn) else ""


def load_site(
    conn: sqlite3.Connection,
    *,
    projects: Collection[str] | None = None,
    sprint_ids: Collection[int] | None = None,
    change_fields: ChangeFields | None = None,
) -> Site:
    """The whole store as one consistent ``Site`` snapshot (one read transaction).

    With ``projects``, only part of it: those projects' issues (with their
    changes and worklogs) and versions, and the sprints in ``sprint_ids`` (all
    sprints when None). ``engine.evaluate_store`` evaluates a large store so,
    one group of projects at a time. With ``change_fields``, only those changelog
    items (see ``ChangeFields``).
    """
    where, versions_where, params = "", "", []
    if projects is not None:
        params = sorted(projects)
        marks = ",".join("?" * len(params))
        where = f" WHERE project_key IN ({marks})"
        versions_where = where
    people: dict[tuple[str, str | None], Person] = {}

    def person(ident: str | None, name: str | None) -> Person | None:
        if ident is None:
            return None
        found = people.get((ident, name))
        if found is None:
            found = people[(ident, name)] = Person(ident, name)
        return found

    site = Site()
    # Millions of new objects would trigger the cyclic GC over and over; none form cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    # One snapshot across all SELECTs, even while sync writes (WAL); a caller reading
    # several parts holds one transaction around them all.
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        issues = site.issues
        for r in conn.execute(
            """SELECT id, key, project_key, issue_type, is_subtask, is_epic, summary, status,
                      status_id, status_category, resolution, resolved_at, created, updated,
                      due_date, labels, parent_id, epic_key, story_points, original_estimate,
                      remaining_estimate, time_spent, budget, assignee_id, assignee_name,
                      creator_id, creator_name
               FROM issues""" + where + _key_order(conn, "id"), params
        ):
            labels = r[15]
            issues[r[0]] = Issue(
                id=r[0], key=r[1], project_key=r[2], issue_type=r[3], summary=r[6],
                status=r[7], status_category=r[9], created=_dt(r[12]), updated=_dt(r[13]),
                is_subtask=bool(r[4]), is_epic=bool(r[5]), status_id=r[8], resolution=r[10],
                resolved_at=_dt(r[11]), due_date=_d(r[14]),
                labels=tuple(json.loads(labels)) if labels != "[]" else (),
                parent_id=r[16], epic_key=r[17], story_points=r[18],
                original_estimate_seconds=r[19], remaining_estimate_seconds=r[20],
                time_spent_seconds=r[21], budget=r[22], assignee=person(r[23], r[24]),
                creator=person(r[25], r[26]),
            )
        # A part's child rows: those of its issues, found through the issues' project index.
        of_part = (f" WHERE issue_id IN (SELECT id FROM issues{where})" if where else "", params)
        _load_links(conn, issues, "issue_versions", "version_id", "fix_version_ids", of_part)
        _load_links(conn, issues, "issue_sprints", "sprint_id", "sprint_ids", of_part)

        of_changes = of_part
        if change_fields is not None and not change_fields.subtasks:
            of_changes = (" WHERE issue_id IN (SELECT id FROM issues"
                          + (f"{where} AND" if where else " WHERE") + " is_subtask = 0)", params)
        _load_changes(conn, issues, people, of_changes, change_fields)
        for r in conn.execute(
            "SELECT id, issue_id, author_id, author_name, started, seconds, updated "
            f"FROM worklogs{of_part[0]} ORDER BY issue_id, started, id", of_part[1]
        ):
            issue = issues.get(r[1])
            if issue is not None:
                issue.worklogs.append(
                    Worklog(r[0], r[1], person(r[2], r[3]), _dt(r[4]), r[5], _dt(r[6]))
                )
        site.versions = load_versions(conn, versions_where, params)
        for r in conn.execute(
            'SELECT id, name, state, start, "end", complete, board_id FROM sprints ORDER BY id'
        ):
            if sprint_ids is not None and r[0] not in sprint_ids:
                continue
            site.sprints[r[0]] = Sprint(r[0], r[1], r[2], _dt(r[3]), _dt(r[4]), _dt(r[5]), r[6])
        site.status_categories = {
            row[0]: row[1] for row in conn.execute("SELECT id, category FROM statuses")
        }
        site.deployment = get_meta(conn, "deployment", "Cloud")
        synced = conn.execute("SELECT MAX(synced_at) FROM issues").fetchone()[0]
        site.synced_at = _dt(synced)
    finally:
        if own:
            conn.execute("COMMIT")
        if gc_was_enabled:
            gc.enable()
    return site


def load_versions(conn: sqlite3.Connection, where: str = "", params: Sequence = ()
                  ) -> dict[int, Version]:
    """Every stored version by id (or those ``where`` selects)."""
    return {
        r[0]: Version(r[0], r[1], r[2], _d(r[3]), _d(r[4]), bool(r[5]), bool(r[6]), _dt(r[7]))
        for r in conn.execute(
            "SELECT id, project_key, name, start_date, release_date, released, archived, "
            "first_seen FROM versions" + where + _key_order(conn, "id"), params)
    }


def _load_changes(
    conn: sqlite3.Connection, issues: dict[int, Issue], people: dict[tuple, Person],
    of_part: tuple[str, list] = ("", []), fields: ChangeFields | None = None,
) -> None:
    """Append every stored changelog item (or those of ``fields``) to its issue's
    ``changes``, in history order.

    The hot loop of ``load_site`` (a million rows at 100k issues): rows unpack
    straight into names, consecutive items of one history share one parsed
    ``at``, authors are looked up by id, ``Change`` tuples are built with
    ``tuple.__new__`` (no per-field call), and the few thousand distinct
    field ids and from/to values (sprint ids, status names, estimates) are
    shared instead of held once per row.
    """
    new, parse = tuple.__new__, datetime.fromisoformat
    by_author: dict[str, Person] = {p.id: p for p in people.values()}
    shared: dict[str | None, str | None] = {}
    share = shared.setdefault
    current_id = None
    bucket: list[Change] = []
    last_text, last_at = None, None
    sql, params = "SELECT * FROM changes" + of_part[0], list(of_part[1])
    if fields is not None:
        test = fields.test()
        if test is None:
            return
        sql += (" AND " if of_part[0] else " WHERE ") + test[0]
        params += test[1]
    for (issue_id, history_id, item_index, at_text, author_id, author_name, field, field_id,
         from_value, from_string, to_value, to_string) in conn.execute(
            sql + _key_order(conn, "issue_id, history_id, item_index"), params):
        # Primary-key order (or, for a part, the issues' ids one by one, each issue's rows in
        # primary-key order): every issue's items come together and in history order.
        if issue_id != current_id:
            issue = issues.get(issue_id)
            bucket = issue.changes if issue is not None else []
            current_id = issue_id
        if at_text != last_text:
            last_text, last_at = at_text, parse(at_text)
        author = by_author.get(author_id)
        if author is None or author.display_name != author_name:
            author = None
            if author_id is not None:
                author = by_author[author_id] = Person(author_id, author_name)
        bucket.append(new(Change, (
            issue_id, history_id, item_index, last_at, author, share(field, field),
            share(field_id, field_id), share(from_value, from_value),
            share(from_string, from_string), share(to_value, to_value),
            share(to_string, to_string),
        )))


def _load_links(
    conn: sqlite3.Connection, issues: dict[int, Issue], table: str, column: str, attribute: str,
    of_part: tuple[str, list] = ("", []),
) -> None:
    grouped: dict[int, list[int]] = {}
    for issue_id, other in conn.execute(f"SELECT issue_id, {column} FROM {table}{of_part[0]}"
                                        + _key_order(conn, f"issue_id, {column}"), of_part[1]):
        grouped.setdefault(issue_id, []).append(other)
    for issue_id, others in grouped.items():
        issue = issues.get(issue_id)
        if issue is not None:
            setattr(issue, attribute, tuple(others))
