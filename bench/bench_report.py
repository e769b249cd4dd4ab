"""Benchmark: `jira-pm report` against `jira-pm audit` on the 100k store (bench_rules --store).

    .venv/bin/python bench/bench_rules.py --store /tmp/b.sqlite   # once: build the store
    .venv/bin/python bench/bench_report.py /tmp/b.sqlite [--out /tmp/b-report] [--runs 2]

One run of this script measures both, each in a fresh child process, and
prints one JSON line per child: the audit (the store evaluated part by part,
as `jira-pm audit --no-record` does) and the report (build the data, write the
pages and charts), with wall seconds and the child's peak RSS (its own
``ru_maxrss``, from ``wait4``, so no short peak is missed between samples).
Targets: the report under 30 s, its peak under the audit's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_rules import AS_OF, PROJECTS  # noqa: E402


def _settings(store: Path):
    from jira_pm.config import Settings
    from jira_pm.store import connect

    conn = connect(store, readonly=True)
    epic_keys = [row[0] for row in conn.execute(
        "SELECT key FROM issues WHERE is_epic = 1 ORDER BY id LIMIT 100")]
    conn.close()
    return Settings.for_tests(
        projects=PROJECTS, store_path=store,
        budget=[{"epic": key, "hours": 200} for key in epic_keys]
        + [{"project": "P1", "amount": 500000}],
        rates={"default": 90.0, "people": {"user1": 120.0}},
        calendar={"timezone": "Europe/Berlin", "holidays_country": "DE"},
    )


def child_audit(store: Path) -> dict:
    from jira_pm.engine import evaluate_store
    from jira_pm.store import connect

    settings = _settings(store)
    conn = connect(store, readonly=True)
    evaluation = evaluate_store(conn, settings, None, AS_OF, record=False)
    return {"findings": len(evaluation.findings)}


def child_report(store: Path, out: Path | None) -> dict:
    from jira_pm.statusreport.data import build_report
    from jira_pm.statusreport.render import write_site
    from jira_pm.store import connect

    settings = _settings(store)
    conn = connect(store, readonly=True)
    clock = time.perf_counter()
    data = build_report(conn, settings, as_of=AS_OF)
    built = time.perf_counter() - clock
    out = out or Path(tempfile.mkdtemp(prefix="bench-report-"))
    clock = time.perf_counter()
    write_site(data, out)
    written = time.perf_counter() - clock
    charts = sum(len(p["versions"]) + len(p["sprints"]) + len(p["budgets"])
                 for p in data["projects"])
    findings = sum(len(p["findings"]) for p in data["projects"])
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    return {"build_s": round(built, 1), "write_s": round(written, 1), "charts": charts,
            "findings": findings, "site_mb": round(size, 1)}


def measured(what: str, store: Path, out: Path | None) -> dict:
    """Run this script as a fresh child doing ``what``; its result, wall seconds and peak RSS."""
    command = [sys.executable, __file__, str(store), "--child", what]
    if out is not None:
        command += ["--out", str(out)]
    clock = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - clock
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"the {what} child failed ({child.returncode})")
    # ru_maxrss is KiB on Linux.
    return {what: json.loads(stdout), "wall_s": round(wall, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=1, help="measure audit and report N times")
    parser.add_argument("--child", choices=["audit", "report"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "audit":
        print(json.dumps(child_audit(args.store)))
        return 0
    if args.child == "report":
        print(json.dumps(child_report(args.store, args.out)))
        return 0
    for _ in range(args.runs):
        for what in ("audit", "report"):
            print(json.dumps(measured(what, args.store, args.out)), flush=True)
    print(json.dumps({"parent_peak_rss_mib": round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
