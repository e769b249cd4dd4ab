"""What a user writes by hand with the `jira` package: search everything, then worklogs per issue.

Runs inside bench/out/venv-jira (only `jira`, `requests`, sqlite3 and the stdlib):

    python jira_package.py --url URL --email E --token T --jql JQL --out store.sqlite

`enhanced_search_issues(jql, maxResults=False, expand="changelog")` pages through
Cloud's /search/jql (the jira package's own loop), then `jira.worklogs(issue)`
for every issue; everything is saved to SQLite. It prints one JSON line with the
counts it saved. The pure saving/counting functions are imported by the tests.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

TABLES = """
CREATE TABLE IF NOT EXISTS issues (id INTEGER PRIMARY KEY, key TEXT, updated TEXT, raw TEXT);
CREATE TABLE IF NOT EXISTS changelog_items (history_id INTEGER, issue_id INTEGER, at TEXT,
    field TEXT, from_value TEXT, to_value TEXT);
CREATE TABLE IF NOT EXISTS worklogs (id INTEGER PRIMARY KEY, issue_id INTEGER, started TEXT,
    seconds INTEGER);
"""


def open_store(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.executescript(TABLES)
    return conn


def save_issue(conn: sqlite3.Connection, raw: dict) -> None:
    """One issue row and its changelog items, from the raw JSON the search returned."""
    issue_id = int(raw["id"])
    conn.execute("INSERT OR REPLACE INTO issues VALUES (?, ?, ?, ?)",
                 (issue_id, raw["key"], raw["fields"].get("updated"), json.dumps(raw["fields"])))
    conn.execute("DELETE FROM changelog_items WHERE issue_id = ?", (issue_id,))
    histories = (raw.get("changelog") or {}).get("histories", [])
    conn.executemany(
        "INSERT INTO changelog_items VALUES (?, ?, ?, ?, ?, ?)",
        [(int(h["id"]), issue_id, h["created"], item["field"], item.get("fromString"),
          item.get("toString")) for h in histories for item in h.get("items", [])])


def save_worklogs(conn: sqlite3.Connection, issue_id: int, worklogs: list[dict]) -> None:
    conn.executemany("INSERT OR REPLACE INTO worklogs VALUES (?, ?, ?, ?)",
                     [(int(w["id"]), issue_id, w.get("started"), w.get("timeSpentSeconds"))
                      for w in worklogs])


def counts(conn: sqlite3.Connection) -> dict:
    """Issues, changelog items and worklogs saved."""
    one = conn.execute
    return {"issues": one("SELECT count(*) FROM issues").fetchone()[0],
            "changelog_items": one("SELECT count(*) FROM changelog_items").fetchone()[0],
            "worklogs": one("SELECT count(*) FROM worklogs").fetchone()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--jql", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from jira import JIRA  # only inside the baseline's own virtualenv

    jira = JIRA(server=args.url, basic_auth=(args.email, args.token))
    conn = open_store(args.out)
    issues = jira.enhanced_search_issues(args.jql, maxResults=False, expand="changelog")
    for issue in issues:
        save_issue(conn, issue.raw)
        save_worklogs(conn, int(issue.id), [w.raw for w in jira.worklogs(issue.id)])
    conn.commit()
    json.dump(counts(conn), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
