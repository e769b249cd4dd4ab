"""Benchmark `jira-pm sync` against the sandbox: requests vs the lower bound, wall time, peak RSS.

    .venv/bin/python bench/bench_sync.py                               # 10k, both flavours
    .venv/bin/python bench/bench_sync.py --issues 10000 100000 --latency-ms 20

The sandbox runs in this process; the sync runs as a `jira-pm sync` subprocess
(so its peak RSS is its own, sampled with psutil). The lower bound is what the
API cannot go below: search pages at the largest size the server grants, one
bulkfetch per 1,000 truncated Cloud changelogs or 10,000 of their histories
(DC: none, its expand=changelog is complete), one worklog request per
truncated worklog list, the four site facts (serverInfo, myself, field,
status) and one versions request per project.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from jira_pm.store import connect
from jira_pm.store.issues import load_site

if TYPE_CHECKING:
    from jira_pm.sandbox import Sandbox

CLOUD_PAGE = 100  # what Cloud (and the sandbox) grant for search pages with fields
BULKFETCH = 1000


def lower_bound(site: Sandbox, page: int) -> tuple[int, dict]:
    state = site.state
    with state.lock:
        issues = list(state.issues.values())
        projects = len(state.projects)
    long_changelogs = [i for i in issues if len(i.histories) > 40]
    long_worklogs = sum(1 for i in issues if len(i.worklogs) > 20)
    pages = math.ceil(len(issues) / page)
    if site.flavor == "cloud":
        # Bulkfetch takes 1,000 issues a request and answers at most 10,000 histories.
        histories = sum(len(i.histories) for i in long_changelogs)
        changelog_requests = max(math.ceil(len(long_changelogs) / BULKFETCH),
                                 math.ceil(histories / 10_000))
    else:
        changelog_requests = 0  # DC's expand=changelog returns them whole
    parts = {"pages": pages, "changelogs": changelog_requests, "worklogs": long_worklogs,
             "facts": 4, "versions": projects}
    return sum(parts.values()), parts


def bulkfetch_child(config: str) -> None:
    """One sync with every changelog from bulkfetch (no CLI switch for it); prints its summary.

    Imports only what `jira-pm sync` does (no sandbox, no psutil), so its peak RSS
    compares with the real command's.
    """
    from jira_pm.cli.common import make_client
    from jira_pm.config import load_settings
    from jira_pm.sync import Syncer

    settings = load_settings(config)
    conn = connect(settings.store_path)
    syncer = Syncer(settings, conn, make_client(settings, conn))
    syncer.changelog_in_search = False
    print(syncer.run().summary())


def run_sync(config: Path, env: dict, strategy: str) -> tuple[float, int, str]:
    """Wall seconds, peak RSS bytes and the summary line of one sync in a child process.

    "expand" is the real `jira-pm sync` command; "bulkfetch" is bulkfetch_child.
    """
    from measure import measure, measure_sync  # bench/ is on sys.path when a bench script runs

    if strategy == "expand":
        elapsed, peak, out = measure_sync(config, env)
    else:
        elapsed, peak, out = measure(
            [sys.executable, __file__, "--child", str(config)], env, config.parent)
    return elapsed, peak, out.strip()


def bench(flavor: str, issues: int, latency_ms: float, folder: Path, strategy: str) -> dict:
    from jira_pm.sandbox import Sandbox

    ready = time.perf_counter()
    site = Sandbox(flavor=flavor, issues=issues, seed=11, latency_ms=latency_ms).start()
    ready = time.perf_counter() - ready
    try:
        credentials = site.credentials("admin")
        config = folder / f"{flavor}-{issues}-{strategy}.toml"
        store = folder / f"{flavor}-{issues}-{strategy}.sqlite"
        projects = ", ".join(f'"{k}"' for k in sorted(site.state.projects))
        config.write_text(
            f'[jira]\nurl = "{site.url}"\nmax_parallel = 4\n'
            f"[scope]\nprojects = [{projects}]\n"
            f'[store]\npath = "{store.name}"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "JIRA_EMAIL": credentials["email"]}
        if flavor == "cloud":
            env["JIRA_API_TOKEN"] = credentials["api_token"]
        else:
            env["JIRA_PAT"] = credentials["pat"]
        page = CLOUD_PAGE if flavor == "cloud" else 1000
        bound, parts = lower_bound(site, page)

        site.reset_stats()
        elapsed, peak, summary = run_sync(config, env, strategy)
        full_requests = site.stats()["total"]

        site.reset_stats()
        quiet_elapsed, _, _ = run_sync(config, env, strategy)
        quiet_requests = site.stats()["total"]

        conn = connect(store)
        load = time.perf_counter()
        snapshot = load_site(conn)
        load = time.perf_counter() - load
        changes = sum(len(i.changes) for i in snapshot.issues.values())
        conn.close()
        return {
            "flavor": flavor, "issues": issues, "strategy": strategy, "ready": ready,
            "elapsed": elapsed,
            "peak_mb": peak / 2**20, "requests": full_requests, "bound": bound, "parts": parts,
            "ratio": full_requests / bound, "quiet_requests": quiet_requests,
            "quiet_elapsed": quiet_elapsed, "projects": len(site.state.projects),
            "summary": summary, "load_site": load, "changes": changes,
        }
    finally:
        site.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, nargs="+", default=[10_000])
    parser.add_argument("--flavors", nargs="+", default=["cloud", "server"])
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--strategies", nargs="+", default=["expand"],
                        choices=["expand", "bulkfetch"],
                        help="changelogs from search (expand) or all from bulkfetch (Cloud)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bulkfetch_child(args.child)
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        for issues in args.issues:
            for flavor in args.flavors:
                for strategy in args.strategies:
                    if strategy == "bulkfetch" and flavor != "cloud":
                        continue  # DC has no bulkfetch; its expand=changelog is complete
                    row = bench(flavor, issues, args.latency_ms, Path(tmp), strategy)
                    rows.append(row)
                    print(f"# {flavor} {issues} {strategy}: {row['summary']}", file=sys.stderr)
    print(f"latency {args.latency_ms:g} ms per request\n")
    print("| flavour | issues | changelogs | requests / lower bound | ratio | wall s | peak RSS MB "
          "| no-change requests (projects) | load_site s (changelog items) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['flavor']} | {r['issues']:,} | {r['strategy']} "
              f"| {r['requests']:,} / {r['bound']:,} "
              f"| {r['ratio']:.2f} | {r['elapsed']:.1f} | {r['peak_mb']:.0f} "
              f"| {r['quiet_requests']} ({r['projects']}) "
              f"| {r['load_site']:.1f} ({r['changes']:,}) |")
    print()
    for r in rows:
        print(f"- {r['flavor']} {r['issues']:,}: lower bound parts {r['parts']}; "
              f"sandbox ready in {r['ready']:.1f}s")


if __name__ == "__main__":
    main()
