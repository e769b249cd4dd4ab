"""Benchmark: the Jira client's search paging over real HTTP against a generated sandbox site.

    .venv/bin/python bench/bench_client.py                        # 3,000 issues, both flavours
    .venv/bin/python bench/bench_client.py --issues 1000 --latency-ms 20

For each flavour prints, per search style, the requests sent, pages, issues
and wall time: full pages of the fields sync asks for, id-only pages (the
reconcile pass), and Server keyset paging forced by a small offset limit.
Also times `redact` and a JiraHttp round trip's own overhead (no retries).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_sandbox import sync_fields  # noqa: E402  (bench/ is on sys.path: run as a script)

from jira_pm.config import Settings  # noqa: E402
from jira_pm.jira.client import JiraClient  # noqa: E402
from jira_pm.jira.http import redact, register_secret  # noqa: E402
from jira_pm.sandbox import Sandbox  # noqa: E402


def client_for(site: Sandbox) -> JiraClient:
    creds = site.credentials()
    settings = Settings.for_tests(url=site.url, jira={
        "deployment": site.flavor, "email": creds["email"], "api_token": creds["api_token"]})
    return JiraClient.from_settings(settings.jira)


def measure(label: str, client: JiraClient, pages) -> None:
    sent = client.http.requests_sent
    began = time.perf_counter()
    count = n_pages = 0
    for page in pages:
        n_pages += 1
        count += len(page)
    seconds = time.perf_counter() - began
    print(f"  {label:<28} {client.http.requests_sent - sent:>5} requests {n_pages:>4} pages "
          f"{count:>6} issues {seconds:7.2f} s  ({count / seconds:,.0f} issues/s)")


def bench_site(flavor: str, issues: int, latency_ms: float) -> None:
    with Sandbox(flavor=flavor, issues=issues, seed=11, latency_ms=latency_ms) as site:
        jql = f"project in ({', '.join(sorted(site.state.projects))})"
        print(f"{flavor}: {issues} issues, latency {latency_ms} ms")
        client = client_for(site)
        fields = sync_fields(site)
        measure("search, sync fields", client, client.search(jql, fields))
        measure("search, +expand=changelog", client,
                client.search(jql, fields, expand=["changelog"]))
        measure("search_ids (reconcile)", client, client.search_ids(jql))


def bench_redact() -> None:
    register_secret("bench-secret-token-1234567890")
    line = "GET /rest/api/2/search?jql=project%20in%20(A)&startAt=1000 -> 200 in 12 ms " * 3
    rounds = 20_000
    began = time.perf_counter()
    for _ in range(rounds):
        redact(line)
    per = (time.perf_counter() - began) / rounds * 1e6
    print(f"redact: {per:.1f} µs per {len(line)}-character log line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--flavor", choices=["cloud", "server", "both"], default="both")
    args = parser.parse_args()
    for flavor in (["cloud", "server"] if args.flavor == "both" else [args.flavor]):
        bench_site(flavor, args.issues, args.latency_ms)
    bench_redact()


if __name__ == "__main__":
    main()
