"""Benchmark `jira-pm sync` against the sandbox: requests vs the lower bound, wall time, peak RSS.

    .venv/bin/python bench/bench_sync.py                               # 10k, both flavours
    .venv/bin/python bench/bench_sync.py --issues 10000 100000 --latency-ms 20
    .venv/bin/python bench/bench_sync.py --issues 100000 --flavors cloud --stores sqlite postgresql

The sandbox runs in this process; the sync runs as a `jira-pm sync` subprocess
(so its peak RSS is its own, sampled with psutil). The lower bound is what the
API cannot go below: search pages at the largest size the server grants, one
bulkfetch per 1,000 truncated Cloud changelogs or 10,000 of their histories
(DC: none, its expand=changelog is complete), one worklog request per
truncated worklog list, the four site facts (serverInfo, myself, field,
status) and one versions request per project.

The local floor (the "floor s" column) is what the sync's own work cannot go
below: the same search pages, fetched beforehand with no latency and kept as
bytes, then only decoded, mapped and saved (one transaction a page) into a fresh
store of the same kind, in this process, timed right after the sync, with the
cyclic collector paused as sync pauses it (the sandbox's heap is frozen out of
its reach). "sync ÷ floor" is the full sync's wall time over it. The box this
runs on is shared and its speed drifts by half over minutes, so ``--repeat N``
runs N rounds of sync then floor (fresh stores each) and shows the round with
the median ratio. CPU seconds are the sync process's own (user + system, all its
threads) and the floor thread's; in brackets, the CPU this process (the sandbox)
spent answering the sync, on the same cores. A PostgreSQL server's own CPU is in
none of them.

PostgreSQL: ``--stores postgresql`` uses ``--pg-url`` (an admin URL) or else
starts a throwaway cluster on 127.0.0.1 as tests/pg_support.py does (stopped by
its process id at the end); each sync and each floor gets a fresh database.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def search_bodies(site: Sandbox, config: Path, env: dict) -> tuple[list[bytes], Any]:
    """The sync's search pages (its JQL, fields and expand) as the bytes that came over
    the wire, fetched with the sandbox's latency off; and the field map."""
    from jira_pm.cli.common import make_client
    from jira_pm.config import load_settings
    from jira_pm.mapping import discover_fields
    from jira_pm.sync.query import ISSUE_EXPAND, issue_fields, scope_jql

    saved_env = dict(os.environ)
    os.environ.update(env)
    latency = site.faults.latency_ms
    try:
        settings = load_settings(config)
        client = make_client(settings)
        fields = discover_fields(client.fields(), settings.fields)
        bodies: list[bytes] = []
        session = client.http.session
        send = session.request

        def keep(method, url, *args, **kwargs):
            response = send(method, url, *args, **kwargs)
            if "/search" in url:
                bodies.append(response.content)
            return response

        session.request = keep
        site.set_faults(latency_ms=0)
        for _ in client.search(scope_jql(settings), issue_fields(fields),
                               expand=list(ISSUE_EXPAND)):
            pass
    finally:
        site.set_faults(latency_ms=latency)
        os.environ.clear()
        os.environ.update(saved_env)
    return bodies, fields


def local_floor(bodies: list[bytes], fields: Any, store: str | Path) -> tuple[float, float]:
    """Wall and CPU seconds to decode, map and save ``bodies`` (search pages) with nothing
    else, into ``store`` (a fresh one)."""
    from jira_pm import jsontext
    from jira_pm.gcpause import collector_paused
    from jira_pm.mapping import map_issue, sprints_of
    from jira_pm.store.issues import save_issues, save_sprints, transaction

    conn = connect(store)
    now = time.time
    started, cpu = time.perf_counter(), time.thread_time()
    with collector_paused():  # as sync runs: the floor gets every saving sync has
        for body in bodies:
            try:
                page = jsontext.loads(body)["issues"]
            except jsontext.NotFast:
                page = json.loads(body)["issues"]
            issues = [map_issue(raw, fields) for raw in page]
            sprints = [s for raw in page for s in sprints_of(raw, fields)]
            with transaction(conn):
                save_issues(conn, issues, page, datetime.fromtimestamp(now(), UTC))
                save_sprints(conn, sprints)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    conn.close()
    return elapsed, cpu


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_sync(config: Path, env: dict, strategy: str) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS bytes and the summary line of one sync in a
    child process.

    "expand" is the real `jira-pm sync` command; "bulkfetch" is bulkfetch_child.
    """
    from measure import measure, measure_sync  # bench/ is on sys.path when a bench script runs

    cpu = children_cpu()
    if strategy == "expand":
        elapsed, peak, out = measure_sync(config, env)
    else:
        elapsed, peak, out = measure(
            [sys.executable, __file__, "--child", str(config)], env, config.parent)
    return elapsed, children_cpu() - cpu, peak, out.strip()


class Stores:
    """Fresh stores of one kind: SQLite files in ``folder``, or PostgreSQL databases."""

    def __init__(self, kind: str, folder: Path, pg_url: str | None = None):
        self.kind, self.folder, self.pg_url = kind, folder, pg_url
        self._cluster = None

    def fresh(self, name: str) -> str:
        """A new, empty store called ``name``: its path or URL."""
        if self.kind == "sqlite":
            return str(self.folder / f"{name}.sqlite")
        import psycopg

        admin = self._admin_url()
        database = "bench_" + "".join(ch if ch.isalnum() else "_" for ch in name.lower())
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
        return f"{admin.rpartition('/')[0]}/{database}"

    def _admin_url(self) -> str:
        if self.pg_url:
            return self.pg_url
        if self._cluster is None:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from pg_support import Cluster, _binaries

            binaries = _binaries()
            if binaries is None:
                raise SystemExit("PostgreSQL is not installed (no initdb): install it, or "
                                 "pass --pg-url with an admin URL of a running server")
            self._cluster = Cluster(binaries)
        return self._cluster.admin_url

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None


def store_section(store: str) -> str:
    from jira_pm.store.postgres import is_postgres_url

    return f'[store]\n{"url" if is_postgres_url(store) else "path"} = "{store}"\n'


def bench(flavor: str, issues: int, latency_ms: float, folder: Path, strategy: str,
          stores: Stores, repeat: int = 1) -> dict:
    from jira_pm.sandbox import Sandbox

    ready = time.perf_counter()
    site = Sandbox(flavor=flavor, issues=issues, seed=11, latency_ms=latency_ms).start()
    ready = time.perf_counter() - ready
    try:
        credentials = site.credentials("admin")
        name = f"{flavor}-{issues}-{strategy}"
        config = folder / f"{name}-{stores.kind}.toml"
        store = stores.fresh(name)
        projects = ", ".join(f'"{k}"' for k in sorted(site.state.projects))

        def write_config(store: str) -> None:
            config.write_text(
                f'[jira]\nurl = "{site.url}"\nmax_parallel = 4\n'
                f"[scope]\nprojects = [{projects}]\n" + store_section(store),
                encoding="utf-8",
            )

        write_config(store)
        env = {**os.environ, "JIRA_EMAIL": credentials["email"]}
        if flavor == "cloud":
            env["JIRA_API_TOKEN"] = credentials["api_token"]
        else:
            env["JIRA_PAT"] = credentials["pat"]
        page = CLOUD_PAGE if flavor == "cloud" else 1000
        bound, parts = lower_bound(site, page)

        bodies, fields = search_bodies(site, config, env)
        load_before = os.getloadavg()[0]
        pairs = []  # (sync wall, sync CPU, sandbox CPU, peak, floor wall, floor CPU) a round
        for round_ in range(repeat):
            if round_:
                write_config(stores.fresh(f"{name}-{round_}"))
            site.reset_stats()
            served = time.process_time()  # this process's CPU: the sandbox answering the sync
            elapsed, cpu, peak, summary = run_sync(config, env, strategy)
            served = time.process_time() - served
            if round_ == 0:
                full_requests = site.stats()["total"]
                site.reset_stats()
                quiet_elapsed, _, _, _ = run_sync(config, env, strategy)
                quiet_requests = site.stats()["total"]
            floor, floor_cpu = local_floor(bodies, fields,
                                           stores.fresh(f"{name}-floor-{round_}"))
            pairs.append((elapsed, cpu, served, peak, floor, floor_cpu))
        load_after = os.getloadavg()[0]
        floor_pages = len(bodies)
        del bodies
        middle = sorted(pairs, key=lambda pair: pair[0] / pair[4])[len(pairs) // 2]
        elapsed, cpu, served, peak, floor, floor_cpu = middle

        conn = connect(store)
        load = time.perf_counter()
        snapshot = load_site(conn)
        load = time.perf_counter() - load
        changes = sum(len(i.changes) for i in snapshot.issues.values())
        conn.close()
        return {
            "flavor": flavor, "issues": issues, "strategy": strategy, "ready": ready,
            "store": stores.kind, "elapsed": elapsed, "cpu": cpu, "floor_cpu": floor_cpu,
            "sandbox_cpu": served,
            "load": (load_before, load_after),
            "peak_mb": peak / 2**20, "requests": full_requests, "bound": bound, "parts": parts,
            "ratio": full_requests / bound, "quiet_requests": quiet_requests,
            "quiet_elapsed": quiet_elapsed, "projects": len(site.state.projects),
            "summary": summary, "load_site": load, "changes": changes,
            "floor": floor, "floor_pages": floor_pages,
            "rounds": [(pair[0], pair[4]) for pair in pairs],
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
    parser.add_argument("--stores", nargs="+", default=["sqlite"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", help="admin URL of a PostgreSQL server to use "
                        "(default: start a throwaway cluster on 127.0.0.1)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of sync then floor, each into fresh stores; the table "
                        "shows the round with the median sync ÷ floor and every round's ratio")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bulkfetch_child(args.child)
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        for kind in args.stores:
            stores = Stores(kind, Path(tmp), args.pg_url)
            try:
                for issues in args.issues:
                    for flavor in args.flavors:
                        for strategy in args.strategies:
                            if strategy == "bulkfetch" and flavor != "cloud":
                                continue  # DC has no bulkfetch; its expand=changelog is complete
                            row = bench(flavor, issues, args.latency_ms, Path(tmp), strategy,
                                        stores, max(1, args.repeat))
                            rows.append(row)
                            print(f"# {kind} {flavor} {issues} {strategy}: {row['summary']}",
                                  file=sys.stderr)
            finally:
                stores.close()
    print(f"latency {args.latency_ms:g} ms per request\n")
    print("| store | flavour | issues | changelogs | requests / lower bound | ratio | wall s "
          "| CPU s (sandbox's) | peak RSS MB | local floor s (CPU s) | sync ÷ floor "
          "| no-change requests (projects) | load_site s (changelog items) | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['store']} | {r['flavor']} | {r['issues']:,} | {r['strategy']} "
              f"| {r['requests']:,} / {r['bound']:,} "
              f"| {r['ratio']:.2f} | {r['elapsed']:.1f} | {r['cpu']:.1f} ({r['sandbox_cpu']:.1f}) "
              f"| {r['peak_mb']:.0f} "
              f"| {r['floor']:.1f} ({r['floor_cpu']:.1f}) | {r['elapsed'] / r['floor']:.2f} "
              f"| {r['quiet_requests']} ({r['projects']}) "
              f"| {r['load_site']:.1f} ({r['changes']:,}) "
              f"| {r['load'][0]:.1f} → {r['load'][1]:.1f} |")
    print()
    for r in rows:
        rounds = ", ".join(f"{sync:.1f}/{floor:.1f} = {sync / floor:.2f}"
                           for sync, floor in r["rounds"])
        print(f"- {r['store']} {r['flavor']} {r['issues']:,}: lower bound parts {r['parts']}; "
              f"sandbox ready in {r['ready']:.1f}s; floor over {r['floor_pages']:,} pages; "
              f"each round's sync s / floor s: {rounds}")


if __name__ == "__main__":
    main()
