"""Benchmark: the first `run` on a site (every label and comment to write), sequential vs parallel.

    .venv/bin/python bench/bench_first_run.py                    # 1,000 issues, 20 and 100 ms
    .venv/bin/python bench/bench_first_run.py --issues 300 --latency-ms 20

For each latency, two fresh copies of the same generated site (same seed) get
a first `run` on a fresh store: once with `[jira] max_parallel = 1` (one write
at a time, as apply was before it went concurrent) and once with 4.

The site is `jira-pm sandbox serve` in its own process and the run is in
another (a fresh interpreter per run), as a real Jira is reached: a sandbox in
the client's process shares its interpreter lock, and its work then counts as
the client's. Prints per run: wall seconds (whole run and the apply stage),
requests the site counted (all and writes), writes done, the client's peak
resident memory and CPU seconds, the site's CPU seconds, the comments on the
site that carry the same marker twice (must be 0, read back over HTTP), and the
machine's load average (1 minute) before and after the run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from measure import writes_sent  # noqa: E402  (bench/ is on sys.path: run as a script)

BANNER_URL = re.compile(r" at (https?://\S+) ")
# A banner row of the admin user: name, role, e-mail, API token.
ADMIN_ROW = re.compile(r"^\s+admin\s+admin\s+(\S+)\s+(\S+)")


@contextmanager
def served_site(issues: int, seed: int, latency_ms: float, flavor: str):
    """`jira-pm sandbox serve` on a free port in its own process: yields (url, login, pid).

    Its first line names the URL; the admin's row of the banner its login. Stopped
    by its process id.
    """
    command = [str(ROOT / ".venv" / "bin" / "jira-pm"), "sandbox", "serve", "--port", "0",
               "--flavor", flavor, "--issues", str(issues), "--seed", str(seed),
               "--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    try:
        first = process.stdout.readline()
        found = BANNER_URL.search(first)
        if not found:
            raise SystemExit(f"jira-pm sandbox serve did not start: {first!r}")
        login = None
        for line in process.stdout:
            row = ADMIN_ROW.match(line)
            if row:
                login = row.groups()
            if "counters:" in line:
                break
        if login is None:
            raise SystemExit("jira-pm sandbox serve printed no admin login")
        yield found.group(1), login, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def run_once(url: str, login: tuple[str, str], flavor: str, parallel: int, folder: str,
             answer) -> None:
    """The first `run` (in a fresh interpreter); sends back its figures and its own peak RSS
    and CPU seconds."""
    from jira_pm.config import Settings
    from jira_pm.jira.client import JiraClient
    from jira_pm.mapping.values import parse_jira_datetime
    from jira_pm.runner import run_pipeline
    from jira_pm.sandbox.generator import GENERATED_NOW

    jira = {"deployment": flavor, "max_parallel": parallel}
    jira.update({"email": login[0], "api_token": login[1]} if flavor == "cloud"
                else {"pat": login[1]})
    probe = JiraClient.from_settings(
        Settings.for_tests(url=url, jira=jira).jira)
    projects = sorted(p["key"] for p in probe.projects())
    settings = Settings.for_tests(url=url, projects=projects,
                                  store_path=Path(folder) / "bench.sqlite", jira=jira,
                                  writeback={"max_writes": 100_000})
    started = time.perf_counter()
    cpu_before = time.process_time()
    report = run_pipeline(settings, JiraClient.from_settings(settings.jira),
                          as_of=parse_jira_datetime(GENERATED_NOW))
    outcome = report.writeback.outcome
    answer.send({"seconds": time.perf_counter() - started, "apply": report.stages["apply"],
                 "client_cpu": time.process_time() - cpu_before,
                 "done": len(outcome.done), "failed": len(outcome.failed),
                 "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                 "projects": projects})
    answer.close()


def site_state(url: str, login: tuple[str, str], flavor: str, projects: list[str]
               ) -> tuple[int, dict]:
    """Twin comments (beyond the first carrying one marker on one issue) and every issue's
    labels and markers, read back over HTTP."""
    from jira_pm.config import Settings
    from jira_pm.jira.client import JiraClient
    from jira_pm.jira.format import find_markers

    jira = {"deployment": flavor, "email": login[0], "api_token": login[1]} \
        if flavor == "cloud" else {"deployment": flavor, "pat": login[1]}
    client = JiraClient.from_settings(Settings.for_tests(url=url, jira=jira).jira)
    twins, state = 0, {}
    jql = f"project in ({', '.join(projects)}) ORDER BY id"
    for page in client.search(jql, ["labels"]):
        for issue in page:
            markers = Counter(m for c in client.comments(issue["id"])
                              for m in find_markers(c.get("body")))
            twins += sum(count - 1 for count in markers.values())
            state[issue["key"]] = (tuple(sorted(issue["fields"].get("labels") or [])),
                                   tuple(sorted(markers)))
    return twins, state


def first_run(issues: int, seed: int, flavor: str, latency_ms: float, parallel: int) -> dict:
    with served_site(issues, seed, latency_ms, flavor) as (url, login, pid), \
            tempfile.TemporaryDirectory() as folder:
        site = psutil.Process(pid)
        requests.post(f"{url}/__sandbox/stats/reset").raise_for_status()
        site_cpu = sum(site.cpu_times()[:2])
        load_before = os.getloadavg()[0]
        receive, send = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("spawn").Process(
            target=run_once, args=(url, login, flavor, parallel, folder, send))
        child.start()
        send.close()
        result = receive.recv()
        child.join()
        result["load"] = (load_before, os.getloadavg()[0])
        result["site_cpu"] = sum(site.cpu_times()[:2]) - site_cpu
        stats = requests.get(f"{url}/__sandbox/stats").json()
        result["requests"], result["writes"] = stats["total"], writes_sent(stats)
        # Read back without the latency: the check is not part of the run.
        requests.post(f"{url}/__sandbox/admin/faults",
                      json={"latency_ms": 0}).raise_for_status()
        result["twins"], result["state"] = site_state(url, login, flavor, result["projects"])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--flavor", choices=("cloud", "server"), default="cloud")
    parser.add_argument("--latency-ms", type=float, action="append")
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    print(f"first run: {args.flavor}, {args.issues} issues, seed {args.seed}, "
          f"{os.cpu_count()} cores")
    print("| latency | max_parallel | run wall | apply stage | requests | writes | writes done "
          "| client peak RSS | client CPU | site CPU | twin comments | load before / after |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for latency in args.latency_ms or [20.0, 100.0]:
        results = {}
        for parallel in (1, args.parallel):
            r = first_run(args.issues, args.seed, args.flavor, latency, parallel)
            results[parallel] = r
            print(f"| {latency:.0f} ms | {parallel} | {r['seconds']:.1f} s | {r['apply']:.1f} s "
                  f"| {r['requests']:,} | {r['writes']:,} | {r['done']:,} "
                  f"| {r['peak_mb']:.0f} MB | {r['client_cpu']:.1f} s | {r['site_cpu']:.1f} s "
                  f"| {r['twins']} | {r['load'][0]:.1f} / {r['load'][1]:.1f} |", flush=True)
        one, many = results[1], results[args.parallel]
        same = "same" if one["state"] == many["state"] else "DIFFERENT"
        print(f"| {latency:.0f} ms | speed-up | {one['seconds'] / many['seconds']:.1f}× "
              f"| {one['apply'] / many['apply']:.1f}× | | | | | | | | |", flush=True)
        print(f"  labels and markers on the site afterwards: {same} in both modes; "
              f"failed writes {one['failed']} / {many['failed']}", flush=True)


if __name__ == "__main__":
    main()
