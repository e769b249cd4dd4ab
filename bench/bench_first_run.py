"""Benchmark: the first `run` on a site (every label and comment to write), sequential vs parallel.

    .venv/bin/python bench/bench_first_run.py                    # 1,500 issues, 20 and 100 ms
    .venv/bin/python bench/bench_first_run.py --issues 1000 --latency-ms 20

For each latency, two fresh copies of the same generated site (same seed) get
a first `jira-pm run` on a fresh store: once with `[jira] max_parallel = 1`
(one write at a time, as apply was before it went concurrent) and once with 4.
Prints per run: wall seconds (whole run and the apply stage), requests (all and
writes), writes done, peak Python memory (tracemalloc), and the comments on the
site that carry the same marker twice (must be 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from measure import writes_sent  # noqa: E402  (bench/ is on sys.path: run as a script)

from jira_pm.config import Settings  # noqa: E402
from jira_pm.jira.client import JiraClient  # noqa: E402
from jira_pm.jira.format import find_markers  # noqa: E402
from jira_pm.mapping.values import parse_jira_datetime  # noqa: E402
from jira_pm.runner import run_pipeline  # noqa: E402
from jira_pm.sandbox.generator import GENERATED_NOW  # noqa: E402
from jira_pm.sandbox.server import Sandbox  # noqa: E402


def twin_comments(sandbox: Sandbox) -> int:
    """Comments beyond the first carrying the same marker on one issue."""
    twins = 0
    for issue in sandbox.state.issues.values():
        seen = Counter(marker for c in issue.comments for marker in find_markers(c.body))
        twins += sum(count - 1 for count in seen.values())
    return twins


def first_run(issues: int, flavor: str, latency_ms: float, parallel: int) -> dict:
    with Sandbox(flavor, issues=issues, latency_ms=latency_ms) as sandbox, \
            tempfile.TemporaryDirectory() as folder:
        login = sandbox.credentials()
        jira = {"deployment": flavor, "max_parallel": parallel}
        jira.update({"email": login["email"], "api_token": login["api_token"]}
                    if flavor == "cloud" else {"pat": login["pat"]})
        settings = Settings.for_tests(url=sandbox.url, projects=sorted(sandbox.state.projects),
                                      store_path=Path(folder) / "bench.sqlite", jira=jira,
                                      writeback={"max_writes": 100_000})
        sandbox.reset_stats()
        tracemalloc.start()
        started = time.perf_counter()
        report = run_pipeline(settings, JiraClient.from_settings(settings.jira),
                              as_of=parse_jira_datetime(GENERATED_NOW))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stats = sandbox.stats()
        outcome = report.writeback.outcome
        return {"seconds": elapsed, "apply": report.stages["apply"], "requests": stats["total"],
                "writes": writes_sent(stats), "done": len(outcome.done),
                "failed": len(outcome.failed), "peak_mb": peak / 2**20,
                "twins": twin_comments(sandbox)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1500)
    parser.add_argument("--flavor", choices=("cloud", "server"), default="cloud")
    parser.add_argument("--latency-ms", type=float, action="append")
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    print(f"first run: {args.flavor}, {args.issues} issues")
    print("| latency | max_parallel | run wall | apply stage | requests | writes | writes done "
          "| peak Python memory | twin comments |")
    print("|---|---|---|---|---|---|---|---|---|")
    for latency in args.latency_ms or [20.0, 100.0]:
        results = {}
        for parallel in (1, args.parallel):
            r = first_run(args.issues, args.flavor, latency, parallel)
            results[parallel] = r
            print(f"| {latency:.0f} ms | {parallel} | {r['seconds']:.1f} s | {r['apply']:.1f} s "
                  f"| {r['requests']:,} | {r['writes']:,} | {r['done']:,} | "
                  f"{r['peak_mb']:.0f} MB | {r['twins']} |", flush=True)
        one, many = results[1], results[args.parallel]
        print(f"| {latency:.0f} ms | speed-up | {one['seconds'] / many['seconds']:.1f}× "
              f"| {one['apply'] / many['apply']:.1f}× | | | | | |", flush=True)


if __name__ == "__main__":
    main()
