"""Benchmark the Jira sandbox: time to ready for a large site, and per-page serve time.

    .venv/bin/python bench/bench_sandbox.py                 # 100,000 issues, both measures
    .venv/bin/python bench/bench_sandbox.py --issues 20000 --pages 50

Time to ready is measured twice per flavour: in-process (``Sandbox(issues=N).start()``)
and end to end for ``jira-pm sandbox serve --issues N`` (process start until
/rest/api/2/serverInfo answers). Serve time is the server-side time of one
100-issue search page with ``expand=changelog`` and either sync's fields or
``fields=*all``: the WSGI call until its last body byte (no socket, no client),
cold (first request for the page) and warm (the same again). Then, against the
``serve`` process from this one (so client and server do not share an interpreter
lock), the round trip of serverInfo and of sync's pages over HTTP on 127.0.0.1,
with no latency and with ``--latency-ms 20``: a page's build time counts toward
the latency, so with it the two differ only by what moving 600 KiB costs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import math
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests
from werkzeug.test import EnvironBuilder

from jira_pm.sandbox import Sandbox
from jira_pm.sync.syncer import BASE_FIELDS

ROOT = Path(__file__).resolve().parent.parent
ADMIN = ("pm-bot@example.com", "sandbox-token-admin")


def time_to_ready_in_process(issues: int, flavor: str) -> tuple[float, Sandbox]:
    started = time.perf_counter()
    site = Sandbox(flavor=flavor, issues=issues, seed=1).start()
    return time.perf_counter() - started, site


@contextlib.contextmanager
def served(issues: int, flavor: str):
    """`jira-pm sandbox serve --issues N --flavor F` in its own process (so the client
    measuring it does not share its interpreter lock): yields (url, seconds from launch
    until serverInfo answered). Stopped by its process id."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(ROOT / ".venv" / "bin" / "jira-pm"), "sandbox", "serve", "--issues",
               str(issues), "--flavor", flavor, "--seed", "1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                answer = requests.get(f"{url}/rest/api/2/serverInfo", auth=ADMIN, timeout=1)
                if answer.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None:
                raise RuntimeError("jira-pm sandbox serve exited before it was ready")
            time.sleep(0.05)
        yield url, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)


def sync_fields(site: Sandbox) -> list[str]:
    """What jira-pm's sync asks for: BASE_FIELDS plus the site's mapped custom fields."""
    custom = [f.id for f in site.state.fields.values() if f.role != "other"]
    return list(BASE_FIELDS) + [f for f in custom if f not in BASE_FIELDS]


def page_requests(site: Sandbox, pages: int, fields: str):
    """(path, query) of `pages` 100-issue pages with changelog, spread over the site.

    ``fields`` is "*all" or "sync" (sync_fields).
    """
    ids = site.state.ids
    step = max(1, len(ids) // (pages + 1))
    wanted = fields if fields == "*all" else ",".join(sync_fields(site))
    path = "/rest/api/3/search/jql" if site.flavor == "cloud" else "/rest/api/2/search"
    for n in range(pages):
        jql = f"id > {ids[n * step]} ORDER BY id"
        yield path, {"jql": jql, "fields": wanted, "expand": "changelog", "maxResults": 100}


def serve_times(site: Sandbox, pages: int, fields: str, repeats: int = 5
                ) -> dict[str, list[float]]:
    """Seconds per page spent in the WSGI app with cold caches (every encoded user, status
    and changelog item, and every search cursor, dropped first) and warm, each the best of
    ``repeats`` tries: the machine is shared, and the best try is the one least disturbed
    by other work."""
    creds = site.credentials("admin")
    token = base64.b64encode(f"{creds['email']}:{creds['api_token']}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    times: dict[str, list[float]] = {"cold": [], "warm": [], "size": []}
    for path, query in page_requests(site, pages, fields):
        tries: dict[str, list[float]] = {"cold": [], "warm": []}
        for _ in range(repeats):
            site.app.fragments.clear()
            site.app.searches.clear()
            for label in ("cold", "warm"):
                seconds, body = time_in_app(site, path, query, headers)
                tries[label].append(seconds)
        for label, values in tries.items():
            times[label].append(min(values))
        times["size"].append(len(body))
    return times


def time_in_app(site: Sandbox, path: str, query: dict, headers: dict) -> tuple[float, bytes]:
    """The server's own time for one request: from the WSGI call to the last body byte.

    The WSGI environ is built before the clock starts, so only what a server would do
    for the request is timed: routing, auth, search, rendering and encoding.
    """
    environ = EnvironBuilder(path=path, query_string=query, headers=headers).get_environ()
    statuses = []
    started = time.perf_counter()
    body = b"".join(site.app(environ, lambda status, _headers: statuses.append(status)))
    seconds = time.perf_counter() - started
    assert statuses == ["200 OK"], body[:200]
    return seconds, body


def http_times(url: str, pages: list, latency_ms: float, repeats: int = 3
               ) -> dict[str, list[float]]:
    """Seconds per request over HTTP from this process to a served site, best of
    ``repeats``: serverInfo (a few hundred bytes) and each 100-issue page, with
    ``latency_ms`` injected. With latency, the difference between the two is what a page
    costs a client beyond the configured latency (its build time is inside it)."""
    session = requests.Session()
    session.auth = ADMIN
    set_faults = f"{url}/__sandbox/admin/faults"
    assert requests.post(set_faults, json={"latency_ms": latency_ms}).status_code < 300
    times: dict[str, list[float]] = {"serverInfo": [], "page": []}
    for path, query in pages:
        for label, target, params in (("serverInfo", f"{url}/rest/api/2/serverInfo", None),
                                      ("page", url + path, query)):
            tries = []
            for _ in range(repeats):
                started = time.perf_counter()
                assert session.get(target, params=params).status_code == 200
                tries.append(time.perf_counter() - started)
            times[label].append(min(tries))
    return times


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]  # nearest rank
    return f"{statistics.median(ordered) * 1000:.1f} / {p95 * 1000:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--skip-cli", action="store_true",
                        help="skip `jira-pm sandbox serve` (its ready time and HTTP measures)")
    args = parser.parse_args()
    print(f"sandbox benchmark: {args.issues} issues, {args.pages} pages of 100 with changelog")
    for flavor in ("cloud", "server"):
        before = psutil.Process().memory_info().rss
        ready, site = time_to_ready_in_process(args.issues, flavor)
        grown = (psutil.Process().memory_info().rss - before) / 2**20
        try:
            histories = sum(len(i.histories) for i in site.state.issues.values())
            worklogs = sum(len(i.worklogs) for i in site.state.issues.values())
            # Memory is measured for the first site only: the second reuses the first's
            # freed (but not returned) memory.
            memory = f"; resident memory +{grown:.0f} MiB" if flavor == "cloud" else ""
            print(f"  {flavor}: Sandbox(issues={args.issues}).start() in {ready:.2f} s "
                  f"({histories} histories, {worklogs} worklogs{memory})")
            for label, fields in (("sync fields", "sync"), ("*all", "*all")):
                t = serve_times(site, args.pages, fields)
                print(f"    100-issue page, {label} + changelog, server time median / p95 ms: "
                      f"cold {ms(t['cold'])}, warm {ms(t['warm'])}; "
                      f"median {statistics.median(t['size']) / 1024:.0f} KiB")
            pages = list(page_requests(site, args.pages, "sync"))
        finally:
            site.stop()
            del site
        if args.skip_cli:
            continue
        with served(args.issues, flavor) as (url, ready):
            print(f"    jira-pm sandbox serve --flavor {flavor} --issues {args.issues}: ready "
                  f"in {ready:.2f} s")
            for latency in (0, 20):
                t = http_times(url, pages, latency)
                print(f"    over HTTP from another process, --latency-ms {latency}, median / "
                      f"p95 ms: serverInfo {ms(t['serverInfo'])}; 100-issue page (sync "
                      f"fields + changelog) {ms(t['page'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
