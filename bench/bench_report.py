"""Benchmark: `jira-pm report` on a 100k-issue store (made by bench_rules.py --store).

    .venv/bin/python bench/bench_rules.py --store /tmp/b.sqlite   # once: build the store
    .venv/bin/python bench/bench_report.py /tmp/b.sqlite [--out /tmp/b-report]

Prints the seconds of building the data (load_site + evaluate + series) and of
writing the pages and charts, and the process's peak RSS. Targets: under 30 s,
peak memory under the audit's (bench_rules.py --load).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_rules import AS_OF, PROJECTS  # noqa: E402

from jira_pm.config import Settings  # noqa: E402
from jira_pm.statusreport.data import build_report  # noqa: E402
from jira_pm.statusreport.render import write_site  # noqa: E402
from jira_pm.store import connect  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    conn = connect(args.store, readonly=True)
    epic_keys = [row[0] for row in conn.execute(
        "SELECT key FROM issues WHERE is_epic = 1 ORDER BY id LIMIT 100")]
    settings = Settings.for_tests(
        projects=PROJECTS, store_path=args.store,
        budget=[{"epic": key, "hours": 200} for key in epic_keys]
        + [{"project": "P1", "amount": 500000}],
        rates={"default": 90.0, "people": {"user1": 120.0}},
        calendar={"timezone": "Europe/Berlin", "holidays_country": "DE"},
    )
    clock = time.perf_counter()
    data = build_report(conn, settings, as_of=AS_OF)
    built = time.perf_counter() - clock
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-report-"))
    clock = time.perf_counter()
    write_site(data, out)
    written = time.perf_counter() - clock
    charts = sum(len(p["versions"]) + len(p["sprints"]) + len(p["budgets"])
                 for p in data["projects"])
    findings = sum(len(p["findings"]) for p in data["projects"])
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(json.dumps({"build_s": round(built, 1), "write_s": round(written, 1),
                      "total_s": round(built + written, 1), "charts": charts,
                      "findings": findings, "site_mb": round(size, 1),
                      "peak_rss_mb": round(resource.getrusage(
                          resource.RUSAGE_SELF).ru_maxrss / 1024)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
