"""Benchmark: evaluate the default rule pack on a 100k-issue site (~1M changelog items).

    .venv/bin/python bench/bench_rules.py                 # synthetic site in memory
    .venv/bin/python bench/bench_rules.py --store PATH    # also save it to a store and load_site it
    .venv/bin/python bench/bench_rules.py --load PATH     # a fresh process: load_site + evaluate
    .venv/bin/python bench/bench_rules.py --issues 20000  # smaller
    .venv/bin/python bench/bench_rules.py --store PATH --audit-config C.toml
        # write a jira-pm config for a saved store (same settings), for `jira-pm audit`

Prints build, (store save/load) and evaluation seconds, the findings per rule,
and the process's peak RSS. Targets: evaluation under 10 s, peak under 500 MB.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jira_pm.config import Settings  # noqa: E402
from jira_pm.engine import evaluate  # noqa: E402
from jira_pm.model import (  # noqa: E402
    CATEGORY_DONE,
    CATEGORY_IN_PROGRESS,
    CATEGORY_TODO,
    Change,
    Issue,
    Person,
    Site,
    Sprint,
    Version,
    Worklog,
)
from jira_pm.rulepack import load_pack  # noqa: E402

AS_OF = datetime(2026, 6, 15, 12, tzinfo=UTC)
PROJECTS = [f"P{n}" for n in range(10)]
STATUSES = [("1", "To Do", CATEGORY_TODO), ("3", "In Progress", CATEGORY_IN_PROGRESS),
            ("10002", "Done", CATEGORY_DONE)]


def build_site(n_issues: int, changes_per_issue: int, seed: int = 7, *,
               per_project: bool = False) -> Site:
    """A deterministic synthetic site: epics, stories, sub-tasks, sprints, versions, worklogs.

    By default every link is random across the ten projects (any sprint, version
    or epic), so the projects form one connected whole. ``per_project`` links the
    way a Jira site usually is: an issue's sprints, fix version, epic and parent are
    its own project's, except that P0 and P1 share one board (their sprints), so
    the site falls into nine groups of projects that nothing links across.
    """
    rnd = random.Random(seed)
    people = [Person(f"user{n}", f"User {n}") for n in range(50)]
    start = AS_OF - timedelta(days=200)
    sprints = {}
    for n in range(1, 201):
        begin = start + timedelta(days=7 * (n % 28))
        state = "active" if n % 5 == 0 else ("closed" if begin < AS_OF - timedelta(days=14)
                                             else "future")
        sprints[n] = Sprint(n, f"Sprint {n}", state, begin, begin + timedelta(days=14))
    versions = {}
    for n in range(1, 301):
        release = (AS_OF + timedelta(days=rnd.randint(-60, 90))).date()
        versions[n] = Version(n, PROJECTS[n % 10], f"v{n}",
                              start_date=(AS_OF - timedelta(days=rnd.randint(10, 120))).date()
                              if n % 2 else None,
                              release_date=release, released=n % 3 == 0, archived=False,
                              first_seen=start + timedelta(days=rnd.randint(0, 100)))
    # Per project: a sprint's board is its project's (P0 and P1 share theirs), a
    # version's project is its own; pick() moves a random choice into the issue's project.
    sprint_owner = {n: {"P1": "P0"}.get(PROJECTS[n % 10], PROJECTS[n % 10]) for n in sprints}
    version_owner = {n: v.project_key for n, v in versions.items()}
    by_owner: dict[tuple[int, str], list[int]] = {}
    for table, owners in ((1, sprint_owner), (2, version_owner)):
        for n, owner in owners.items():
            by_owner.setdefault((table, owner), []).append(n)

    def pick(n: int, project: str, owners: dict[int, str]) -> int:
        if not per_project:
            return n
        table = 1 if owners is sprint_owner else 2
        own = by_owner[(table, {"P1": "P0"}.get(project, project) if table == 1 else project)]
        return own[n % len(own)]

    epics_of: dict[str, list[Issue]] = {p: [] for p in PROJECTS}
    stories_of: dict[str, list[Issue]] = {p: [] for p in PROJECTS}
    issues: dict[int, Issue] = {}
    epics: list[Issue] = []
    stories: list[Issue] = []
    history_id = 1
    for issue_id in range(1, n_issues + 1):
        project = PROJECTS[issue_id % 10]
        roll = rnd.random()
        is_epic = roll < 0.02
        is_subtask = not is_epic and roll < 0.17 and stories
        created = start + timedelta(minutes=rnd.randint(0, 200 * 24 * 60))
        status_id, status, category = rnd.choice(STATUSES)
        parent_id = None
        own_stories = stories_of[project] if per_project else stories
        own_epics = epics_of[project] if per_project else epics
        is_subtask = is_subtask and bool(own_stories)
        if is_subtask:
            parent_id = rnd.choice(own_stories[-500:]).id
        elif not is_epic and own_epics and rnd.random() < 0.7:
            parent_id = rnd.choice(own_epics[-100:]).id
        sprint_ids = (pick(rnd.randint(1, 200), project, sprint_owner),) \
            if not is_epic and not is_subtask else ()
        fix_versions = (pick(rnd.randint(1, 300), project, version_owner),) \
            if not is_epic and rnd.random() < 0.6 else ()
        points = float(rnd.choice([1, 2, 3, 5, 8, 13])) if not is_subtask else None
        issue = Issue(
            id=issue_id, key=f"{project}-{issue_id}", project_key=project,
            issue_type="Epic" if is_epic else ("Sub-task" if is_subtask else "Story"),
            summary="", status=status, status_category=category, created=created,
            updated=created, is_subtask=bool(is_subtask), is_epic=is_epic, status_id=status_id,
            resolution="Done" if category == CATEGORY_DONE else None,
            resolved_at=created + timedelta(days=rnd.randint(1, 30))
            if category == CATEGORY_DONE else None,
            due_date=(created + timedelta(days=rnd.randint(5, 90))).date()
            if rnd.random() < 0.3 else None,
            fix_version_ids=fix_versions, sprint_ids=sprint_ids, parent_id=parent_id,
            story_points=points,
            original_estimate_seconds=rnd.choice([None, 3600 * rnd.randint(1, 40)]),
            remaining_estimate_seconds=3600 * rnd.randint(0, 20),
            budget=float(rnd.randint(50, 2000)) if is_epic and rnd.random() < 0.5 else None,
            assignee=rnd.choice(people),
        )
        # The changelog: status flips, sprint moves, fix version and estimate changes,
        # written so that replaying it ends at the current values.
        changes: list[Change | None] = []
        status_slots = []  # (index in changes, history id, moment, author) of status items
        moment = created
        sprint_value = ""
        for k in range(changes_per_issue):
            moment += timedelta(hours=rnd.randint(1, 72))
            author = rnd.choice(people)
            kind = k % 5
            if kind == 4 and sprint_ids:
                target = str(sprint_ids[0]) if k >= changes_per_issue - 5 else str(
                    pick(rnd.randint(1, 200), project, sprint_owner))
                changes.append(Change(issue_id, history_id, 0, moment, author, "Sprint",
                                      "customfield_10020", sprint_value, None, target, None))
                sprint_value = target
            elif kind == 3 and points is not None:
                changes.append(Change(issue_id, history_id, 0, moment, author, "Story Points",
                                      "customfield_10016", None, str(rnd.randint(1, 13)), None,
                                      str(points)))
            else:
                status_slots.append((len(changes), history_id, moment, author))
                changes.append(None)  # filled below, once the number of status items is known
            history_id += 1
        # Status items chain (each starts at the previous one's "to") and the last ends at
        # the issue's status: walk back from it, a different status each step.
        walk = [(status_id, status, category)]
        for _ in status_slots:
            walk.append(rnd.choice([s for s in STATUSES if s != walk[-1]]))
        walk.reverse()
        for n, (index, history, when, author) in enumerate(status_slots):
            a, b = walk[n], walk[n + 1]
            changes[index] = Change(issue_id, history, 0, when, author, "status", "status",
                                    a[0], a[1], b[0], b[1])
        issue.changes = changes
        issue.worklogs = [
            Worklog(issue_id * 10 + w, issue_id, rnd.choice(people), created,
                    1800 * rnd.randint(1, 16))
            for w in range(rnd.randint(0, 3))
        ]
        issues[issue_id] = issue
        if is_epic:
            epics.append(issue)
            epics_of[project].append(issue)
        elif not is_subtask:
            stories.append(issue)
            stories_of[project].append(issue)
    return Site(issues=issues, versions=versions, sprints=sprints,
                status_categories={s[0]: s[2] for s in STATUSES})


def bench_sections(epic_keys: list[str]) -> dict:
    """Config sections for every evaluation here: 100 epic budgets and P1's, rates, calendar."""
    return {
        "budget": [{"epic": key, "hours": 200} for key in epic_keys]
        + [{"project": "P1", "amount": 500000}],
        "rates": {"default": 90.0, "people": {"user1": 120.0}},
        "calendar": {"timezone": "Europe/Berlin", "holidays_country": "DE"},
    }


def write_audit_config(store: Path, config: Path) -> None:
    """A jira-pm config for ``store`` with ``bench_sections`` (its first 100 epics budgeted)."""
    import sqlite3

    conn = sqlite3.connect(store)
    epic_keys = [row[0] for row in conn.execute(
        "SELECT key FROM issues WHERE is_epic = 1 ORDER BY id LIMIT 100")]
    conn.close()
    sections = bench_sections(epic_keys)
    lines = ['[jira]', 'url = "https://jira.example.test"', '[scope]',
             "projects = [" + ", ".join(f'"{p}"' for p in PROJECTS) + "]",
             "[store]", f'path = "{store.resolve()}"',
             "[rates]", f"default = {sections['rates']['default']}",
             "[rates.people]", "user1 = 120.0",
             "[calendar]", 'timezone = "Europe/Berlin"', 'holidays_country = "DE"']
    for entry in sections["budget"]:
        lines.append("[[budget]]")
        lines += [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}"
                  for k, v in entry.items()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10, help="changelog items per issue")
    parser.add_argument("--store", type=Path, default=None,
                        help="save the site to this store and evaluate what load_site reads")
    parser.add_argument("--per-project", action="store_true",
                        help="link issues within their project (P0 and P1 share sprints)")
    parser.add_argument("--save-only", action="store_true",
                        help="with --store: build and save, then stop (for large stores)")
    parser.add_argument("--load", type=Path, default=None,
                        help="skip building: load_site this store (made with --store) and evaluate")
    parser.add_argument("--audit-config", type=Path, default=None,
                        help="with --store: write a jira-pm config for that (saved) store with "
                             "this benchmark's settings, for `jira-pm --config FILE audit`; "
                             "then stop")
    args = parser.parse_args(argv)

    if args.audit_config is not None:
        if args.store is None:
            parser.error("--audit-config needs --store (a store saved by this script)")
        write_audit_config(args.store, args.audit_config)
        print(f"wrote {args.audit_config} for {args.store}")
        return 0
    if args.load is not None:
        from jira_pm.store import connect
        from jira_pm.store.issues import load_site

        clock = time.perf_counter()
        site = load_site(connect(args.load))
        n_changes = sum(len(i.changes) for i in site.issues.values())
        print(f"load_site: {len(site.issues):,} issues, {n_changes:,} changelog items in "
              f"{time.perf_counter() - clock:.1f} s (peak RSS {peak_rss_mb():.0f} MB)")
    else:
        clock = time.perf_counter()
        site = build_site(args.issues, args.changes, per_project=args.per_project)
        n_changes = sum(len(i.changes) for i in site.issues.values())
        print(f"built {len(site.issues):,} issues, {n_changes:,} changelog items in "
              f"{time.perf_counter() - clock:.1f} s (peak RSS {peak_rss_mb():.0f} MB)")

    if args.store is not None and args.load is None:
        from jira_pm.store import connect
        from jira_pm.store.issues import load_site, save_issues, save_sprints, save_versions

        conn = connect(args.store)
        clock = time.perf_counter()
        items = list(site.issues.values())
        for offset in range(0, len(items), 5000):
            page = items[offset:offset + 5000]
            save_issues(conn, page, {i.id: {"id": str(i.id)} for i in page}, AS_OF)
        save_versions(conn, site.versions.values())
        save_sprints(conn, site.sprints.values())
        print(f"saved to {args.store} in {time.perf_counter() - clock:.1f} s")
        del site, items
        if args.save_only:
            return 0
        clock = time.perf_counter()
        site = load_site(conn)
        print(f"load_site in {time.perf_counter() - clock:.1f} s "
              f"(peak RSS {peak_rss_mb():.0f} MB)")

    epic_keys = [i.key for i in site.issues.values() if i.is_epic][:100]
    settings = Settings.for_tests(projects=PROJECTS, **bench_sections(epic_keys))
    pack = load_pack(settings)
    clock, cpu = time.perf_counter(), time.process_time()
    findings = evaluate(site, pack, settings, AS_OF)
    seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
    print(f"evaluated {len(pack.enabled())} rules in {seconds:.2f} s wall, {cpu:.2f} s CPU: "
          f"{len(findings):,} findings "
          f"{dict(sorted(Counter(f.rule_id for f in findings).items()))}")
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
