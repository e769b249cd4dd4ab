"""Benchmark: write-back over real HTTP against a generated sandbox site, and the pure planner.

    .venv/bin/python bench/bench_writeback.py                     # 2,000 issues, cloud
    .venv/bin/python bench/bench_writeback.py --issues 500 --flavor server
    .venv/bin/python bench/bench_writeback.py --latency-ms 20     # a slower Jira

Runs `run` twice on a fresh store (sync → evaluate → apply) and prints, per
run, the seconds per stage and the sandbox's request counts: the first run
writes every label and comment the findings need; the second must send zero
writes. Then times the planner alone on a synthetic 20,000-issue plan.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from measure import writes_sent  # noqa: E402  (bench/ is on sys.path: run as a script)

from jira_pm.config import Settings  # noqa: E402
from jira_pm.jira.client import JiraClient  # noqa: E402
from jira_pm.mapping.values import parse_jira_datetime  # noqa: E402
from jira_pm.model import Finding  # noqa: E402
from jira_pm.runner import run_pipeline  # noqa: E402
from jira_pm.sandbox.generator import GENERATED_NOW  # noqa: E402
from jira_pm.sandbox.server import Sandbox  # noqa: E402
from jira_pm.writeback.plan import IssueState, Policy, plan_candidates  # noqa: E402


def bench_http(issues: int, flavor: str, latency_ms: float) -> None:
    with Sandbox(flavor, issues=issues, latency_ms=latency_ms) as sandbox, \
            tempfile.TemporaryDirectory() as folder:
        login = sandbox.credentials()
        jira = {"deployment": flavor}
        jira.update({"email": login["email"], "api_token": login["api_token"]}
                    if flavor == "cloud" else {"pat": login["pat"]})
        projects = sorted(sandbox.state.projects)
        settings = Settings.for_tests(url=sandbox.url, projects=projects,
                                      store_path=Path(folder) / "bench.sqlite", jira=jira,
                                      writeback={"max_writes": 100_000})
        as_of = parse_jira_datetime(GENERATED_NOW)
        print(f"sandbox: {flavor}, {issues} issues in {len(projects)} projects, "
              f"latency {latency_ms} ms")
        for label in ("first run", "second run"):
            sandbox.reset_stats()
            started = time.perf_counter()
            report = run_pipeline(settings, JiraClient.from_settings(settings.jira), as_of=as_of)
            elapsed = time.perf_counter() - started
            stats = sandbox.stats()
            outcome = report.writeback.outcome
            stages = ", ".join(f"{k} {v:.2f}s" for k, v in report.stages.items())
            print(f"{label}: {elapsed:.2f}s ({stages}); findings {report.findings}; "
                  f"writes done {len(outcome.done)}, failed {len(outcome.failed)}; "
                  f"requests {stats['total']} of which writes {writes_sent(stats)}")


def bench_planner(issues: int = 20_000, findings: int = 2_000) -> None:
    states = {i: IssueState(i, f"P-{i}", "P", "Task", ("team-a", "pm-at-risk") if i % 7 == 0
                            else ("team-b",)) for i in range(1, issues + 1)}
    found = [Finding(f"R{n % 9:03d}", "check", "version", str(n), f"v{n}", "P", "high",
                     f"finding {n}", {"n": n}, tuple(range(n * 5 + 1, n * 5 + 6)),
                     f"pm-rule-{n % 9}", "once", f"{n:032x}") for n in range(findings)]
    started = time.perf_counter()
    plan = plan_candidates(states, found, {}, Policy())
    elapsed = time.perf_counter() - started
    print(f"planner: {issues} issues, {findings} findings -> {len(plan.writes)} writes "
          f"in {elapsed:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--flavor", choices=("cloud", "server"), default="cloud")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    bench_http(args.issues, args.flavor, args.latency_ms)
    bench_planner()


if __name__ == "__main__":
    main()
