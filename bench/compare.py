"""Compare jira-pm with the tools a user would pick instead: the `jira` package, Singer's tap-jira.

    .venv/bin/python bench/compare.py                          # 10k issues, 20 ms latency
    .venv/bin/python bench/compare.py --issues 10000 100000
    .venv/bin/python bench/compare.py --quick                  # 1,000 issues, a smoke run

One generated Cloud-flavour sandbox per size (seed 11), served over TLS with a
certificate made for the run (tap-jira forces https), with injected latency.
On that same site, in this order: jira-pm full sync, jira-pm incremental with
nothing changed and with 1 % of issues changed, the `jira` package script, and
tap-jira; then rule evaluation over jira-pm's store, and `run` (apply) twice.
Each sync runs as a child process (peak RSS sampled with psutil); requests are
the sandbox's counters; correctness compares issue, changelog-item and worklog
counts with the sandbox's own state. Baselines run in their own virtualenvs
under bench/out/, created here on first use (`pip install jira`,
`pip install tap-jira==2.6.0`). Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from measure import measure, measure_sync, writes_sent  # noqa: E402
from tls import make_certificate  # noqa: E402

from jira_pm.mapping.values import parse_jira_datetime  # noqa: E402
from jira_pm.sandbox import Sandbox  # noqa: E402
from jira_pm.sandbox.generator import GENERATED_NOW  # noqa: E402

OUT = BENCH / "out"
VENVS = {"jira": ("venv-jira", ["jira"]), "tap": ("venv-tap-jira", ["tap-jira==2.6.0"])}
SEED = 11

# ---- environments ----------------------------------------------------------------------------
def baseline_python(name: str) -> Path:
    """The baseline's own virtualenv python, created and installed on first use."""
    folder, packages = VENVS[name]
    venv = OUT / folder
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        print(f"# creating {venv} and installing {' '.join(packages)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
        marker.write_text(" ".join(packages) + "\n", encoding="utf-8")
    return python


def package_version(python: Path, distribution: str) -> str:
    return subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
        capture_output=True, text=True, check=True).stdout.strip()


# ---- measuring -------------------------------------------------------------------------------
def truth(site: Sandbox, max_id: int | None = None) -> dict:
    """The sandbox's own counts (issues with id <= max_id when given)."""
    with site.state.lock:
        issues = [i for i in site.state.issues.values() if max_id is None or i.id <= max_id]
        return {"issues": len(issues),
                "changelog_items": sum(len(h.items) for i in issues for h in i.histories),
                "worklogs": sum(len(i.worklogs) for i in issues),
                "long_changelogs": sum(1 for i in issues if len(i.histories) > 40),
                "long_worklogs": sum(1 for i in issues if len(i.worklogs) > 20)}


def store_counts(path: Path) -> dict:
    conn = sqlite3.connect(path)
    try:
        one = conn.execute
        return {"issues": one("SELECT count(*) FROM issues").fetchone()[0],
                "changelog_items": one("SELECT count(*) FROM changes").fetchone()[0],
                "worklogs": one("SELECT count(*) FROM worklogs").fetchone()[0]}
    finally:
        conn.close()


def row(name: str, elapsed: float, peak: int, requests: int, counts: dict, expected: dict,
        note: str = "") -> dict:
    result = {"name": name, "elapsed": elapsed, "peak_mb": peak / 2**20, "requests": requests,
              "counts": counts, "expected": expected, "note": note}
    # Each row as soon as it is measured: a long run keeps what it has if a later step fails.
    print(f"# row {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


# ---- the runs --------------------------------------------------------------------------------
def write_config(folder: Path, site: Sandbox, cert: Path) -> Path:
    projects = ", ".join(f'"{k}"' for k in sorted(site.state.projects))
    config = folder / "jira-pm.toml"
    config.write_text(
        f'[jira]\nurl = "{site.url}"\nmax_parallel = 4\nverify_tls = "{cert}"\n'
        f"[scope]\nprojects = [{projects}]\n"
        f'[store]\npath = "jira-pm.sqlite"\n'
        f"[writeback]\nmax_writes = 10000000\n",
        encoding="utf-8")
    return config


def change_one_percent(site: Sandbox) -> int:
    """Edit 1 % of the issues (spread over the site) as a person would; returns how many."""
    with site.state.lock:
        keys = [i.key for i in sorted(site.state.issues.values(), key=lambda i: i.id)]
    chosen = keys[::100]
    for n, key in enumerate(chosen):
        site.update_issue(key, author="alice", add_labels=[f"bench-touch-{n % 7}"])
    return len(chosen)


def run_jira_pm(site: Sandbox, folder: Path, cert: Path, env: dict) -> list[dict]:
    config = write_config(folder, site, cert)
    store = folder / "jira-pm.sqlite"
    rows = []
    for name in ("jira-pm full sync", "jira-pm incremental, 0 % changed",
                 "jira-pm incremental, 1 % changed"):
        note = ""
        if "1 %" in name:
            note = f"{change_one_percent(site)} issues edited"
        site.reset_stats()
        elapsed, peak, summary = measure_sync(config, env)
        rows.append(row(name, elapsed, peak, site.stats()["total"], store_counts(store),
                        truth(site), note))
        print(f"# {name}: {summary.strip()}", file=sys.stderr)
    return rows


def run_jira_package(site: Sandbox, folder: Path, env: dict, fraction: float) -> dict:
    python = baseline_python("jira")
    login = site.credentials("admin")
    projects = ", ".join(sorted(site.state.projects))
    jql = f"project in ({projects})"
    max_id = None
    if fraction < 1:
        with site.state.lock:
            ids = sorted(site.state.issues)
        max_id = ids[int(len(ids) * fraction) - 1]
        jql += f" AND id <= {max_id}"
    store = folder / "jira-package.sqlite"
    store.unlink(missing_ok=True)
    site.reset_stats()
    elapsed, peak, out = measure(
        [str(python), str(BENCH / "baselines" / "jira_package.py"), "--url", site.url,
         "--email", login["email"], "--token", login["api_token"], "--jql", jql + " ORDER BY id",
         "--out", str(store)], env, folder)
    requests = site.stats()["total"]
    counts = json.loads(out.strip().splitlines()[-1])
    expected = truth(site, max_id)
    note = f"jira {package_version(python, 'jira')}"
    if max_id is not None:
        note += (f"; measured on the first {fraction:.0%} of issues (id <= {max_id}); "
                 "wall time and requests EXTRAPOLATED linearly to the whole site")
        scale = len(site.state.issues) / expected["issues"]
        elapsed, requests = elapsed * scale, round(requests * scale)
    return row("`jira` package script", elapsed, peak, requests, counts, expected, note)


def churn(site: Sandbox) -> str:
    """Delete 0.2 % of the issues and one worklog on another 0.2 %, as people do."""
    with site.state.lock:
        issues = sorted(site.state.issues.values(), key=lambda i: i.id)
        doomed = [i.key for i in issues[::500]]
        worklogs = [i.worklogs[0].id for i in issues[250::500] if i.worklogs]
    for key in doomed:
        site.delete_issue(key)
    for worklog_id in worklogs:
        site.delete_worklog(worklog_id)
    return f"{len(doomed)} issues and {len(worklogs)} worklogs deleted"


def run_jira_pm_after_churn(site: Sandbox, folder: Path, env: dict, note: str) -> dict:
    site.reset_stats()
    elapsed, peak, _ = measure_sync(folder / "jira-pm.toml", env, "--reconcile")
    return row("jira-pm incremental `--reconcile`, after deletions", elapsed, peak,
               site.stats()["total"], store_counts(folder / "jira-pm.sqlite"), truth(site), note)


def run_tap_after_churn(site: Sandbox, folder: Path, env: dict, note: str) -> dict:
    """tap-jira again from its own last state; what a target holds is the union of both runs."""
    python = baseline_python("tap")
    runner = str(BENCH / "baselines" / "singer_tap.py")
    first, second = folder / "tap-records.jsonl", folder / "tap-records-2.jsonl"
    state = folder / "tap-state.json"
    _, _, out = measure([str(python), runner, "last-state", str(first)], env, folder)
    state.write_text(out, encoding="utf-8")
    site.reset_stats()
    elapsed, peak, _ = measure([str(python), runner, "run", "--config",
                                str(folder / "tap-config.json"), "--catalog",
                                str(folder / "tap-catalog.json"), "--out", str(second),
                                "--state", str(state)], env, folder)
    requests = site.stats()["total"]
    _, _, out = measure([str(python), runner, "count", str(first), str(second)], env, folder)
    return row("Singer tap-jira incremental (its state), after deletions", elapsed, peak,
               requests, json.loads(out), truth(site), note + "; union of both runs' records")


def run_tap(site: Sandbox, folder: Path, env: dict) -> dict:
    python = baseline_python("tap")
    runner = str(BENCH / "baselines" / "singer_tap.py")
    login = site.credentials("admin")
    config = folder / "tap-config.json"
    config.write_text(json.dumps({"base_url": site.url, "username": login["email"],
                                  "password": login["api_token"], "user_agent": "jira-pm-bench",
                                  "start_date": "2000-01-01T00:00:00Z"}), encoding="utf-8")
    catalog, records = folder / "tap-catalog.json", folder / "tap-records.jsonl"
    measure([str(python), runner, "discover", "--config", str(config), "--out", str(catalog)],
            env, folder)
    site.reset_stats()
    elapsed, peak, _ = measure([str(python), runner, "run", "--config", str(config),
                                "--catalog", str(catalog), "--out", str(records)], env, folder)
    requests = site.stats()["total"]
    _, _, out = measure([str(python), runner, "count", str(records)], env, folder)
    note = f"tap-jira {package_version(python, 'tap-jira')}; records to a JSONL file"
    return row("Singer tap-jira", elapsed, peak, requests, json.loads(out), truth(site), note)


def run_rules_and_apply(site: Sandbox, folder: Path, env: dict, apply: bool,
                        apply_latency: float) -> dict:
    """load_site + evaluate over jira-pm's store; then `run` twice (writes sent, then 0)."""
    from jira_pm.config import load_settings
    from jira_pm.engine import evaluate
    from jira_pm.jira.client import JiraClient
    from jira_pm.rulepack import load_pack
    from jira_pm.runner import run_pipeline
    from jira_pm.store import connect
    from jira_pm.store.issues import load_site

    # REQUESTS_CA_BUNDLE too: requests lets it override a session's own `verify` (the
    # config's verify_tls), and this machine sets it to the system bundle.
    os.environ.update({k: env[k] for k in ("JIRA_EMAIL", "JIRA_API_TOKEN",
                                           "REQUESTS_CA_BUNDLE")})
    settings = load_settings(folder / "jira-pm.toml")
    as_of = parse_jira_datetime(GENERATED_NOW)
    conn = connect(settings.store_path)
    started = time.perf_counter()
    snapshot = load_site(conn)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    findings = evaluate(snapshot, load_pack(settings), settings, as_of)
    evaluated = time.perf_counter() - started
    conn.close()
    del snapshot
    result = {"load_site": loaded, "evaluate": evaluated, "findings": len(findings),
              "apply_latency": apply_latency, "runs": []}
    site.set_faults(latency_ms=apply_latency)
    for _ in range(2 if apply else 0):
        site.reset_stats()
        started = time.perf_counter()
        report = run_pipeline(settings, JiraClient.from_settings(settings.jira), as_of=as_of)
        stats = site.stats()
        result["runs"].append({"elapsed": time.perf_counter() - started,
                               "stages": report.stages, "requests": stats["total"],
                               "writes": writes_sent(stats),
                               "done": len(report.writeback.outcome.done)})
    return result


# ---- report ----------------------------------------------------------------------------------
def verdict(counts: dict, expected: dict) -> str:
    parts = []
    for key, label in (("issues", "issues"), ("changelog_items", "changelog items"),
                       ("worklogs", "worklogs")):
        got, want = counts[key], expected[key]
        if got == want:
            parts.append(f"{label} {got:,} ✓")
        else:
            parts.append(f"{label} {got:,} / {want:,} (**{got - want:+,}**)")
    return "; ".join(parts)


def report(size: int, latency: float, rows: list[dict], rules: dict | None) -> str:
    lines = [f"### {size:,} issues, {latency:g} ms latency", "",
             "| run | requests | wall s | peak RSS MB | correctness vs the sandbox | notes |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['requests']:,} | {r['elapsed']:.1f} | "
                     f"{r['peak_mb']:.0f} | {verdict(r['counts'], r['expected'])} | {r['note']} |")
    full = rows[0]
    lines.append("")
    for r in rows[3:5]:
        lines.append(f"- {r['name']} / jira-pm full sync: wall time "
                     f"{r['elapsed'] / full['elapsed']:.1f}×, "
                     f"requests {r['requests'] / full['requests']:.1f}×, peak RSS "
                     f"{r['peak_mb'] / full['peak_mb']:.1f}×")
    t = full["expected"]
    lines.append(f"- Site: {t['long_changelogs']:,} issues with more than 40 histories "
                 f"(Cloud search returns the 40 newest), {t['long_worklogs']:,} with more than 20 "
                 "worklogs (the issue's worklog field holds 20).")
    if rules:
        lines.append(f"- Rules over jira-pm's store: load_site {rules['load_site']:.1f} s, "
                     f"evaluate {rules['evaluate']:.1f} s, {rules['findings']:,} findings.")
        for label, run in zip(("first `run`", "rerun"), rules["runs"], strict=False):
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in run["stages"].items())
            lines.append(f"- {label} (apply at {rules['apply_latency']:g} ms latency): "
                         f"{run['elapsed']:.1f} s ({stages}); {run['requests']:,} requests, "
                         f"{run['writes']:,} writes sent, {run['done']:,} writes done.")
    return "\n".join(lines)


def compare(size: int, latency: float, cert: Path, key: Path, jira_fraction: float,
            rules: bool, apply: bool, apply_latency: float) -> str:
    with Sandbox(flavor="cloud", issues=size, seed=SEED, latency_ms=latency,
                 tls=(cert, key)) as site, \
            tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        folder = Path(tmp)
        login = site.credentials("admin")
        env = {**os.environ, "REQUESTS_CA_BUNDLE": str(cert), "JIRA_EMAIL": login["email"],
               "JIRA_API_TOKEN": login["api_token"]}
        rows = run_jira_pm(site, folder, cert, env)
        # The baselines see the site after the 1 % edit, as jira-pm's last run did.
        rows.append(run_jira_package(site, folder, env, jira_fraction))
        print(f"# jira package: {rows[-1]['elapsed']:.1f}s", file=sys.stderr)
        rows.append(run_tap(site, folder, env))
        print(f"# tap-jira: {rows[-1]['elapsed']:.1f}s", file=sys.stderr)
        note = churn(site)
        rows.append(run_jira_pm_after_churn(site, folder, env, note))
        rows.append(run_tap_after_churn(site, folder, env, note))
        rule_result = run_rules_and_apply(site, folder, env, apply, apply_latency) \
            if rules else None
        return report(size, latency, rows, rule_result)


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return (f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, "
            f"{memory:.0f} GiB, Python {platform.python_version()}, {platform.system()} "
            f"{platform.release()}; load average at start {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, nargs="+", default=[10_000])
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--quick", action="store_true", help="1,000 issues: a smoke run")
    parser.add_argument("--jira-fraction-above", type=int, default=20_000,
                        help="sites larger than this run the `jira` package script on a "
                             "fraction of the issues and extrapolate (it takes ~1 request/issue)")
    parser.add_argument("--jira-fraction", type=float, default=0.1)
    parser.add_argument("--rules-at", type=int, nargs="*", default=None,
                        help="sizes to run rules + apply on (default: every size)")
    parser.add_argument("--apply-at", type=int, nargs="*", default=None,
                        help="sizes to run `run` (apply) twice on (default: sizes <= 20,000; "
                             "the first run writes about 1.6 per issue)")
    parser.add_argument("--apply-latency-ms", type=float, default=0,
                        help="latency while `run` applies writes (first run writes thousands)")
    args = parser.parse_args()
    sizes = [1000] if args.quick else args.issues
    cert, key = make_certificate(OUT / "tls")
    print(f"Machine: {machine()}. TLS: self-signed certificate from the openssl CLI.\n")
    for size in sizes:
        fraction = args.jira_fraction if size > args.jira_fraction_above else 1.0
        rules = args.rules_at is None or size in args.rules_at
        apply = size <= 20_000 if args.apply_at is None else size in args.apply_at
        print(compare(size, args.latency_ms, cert, key, fraction, rules, apply,
                      args.apply_latency_ms), flush=True)
        print()


if __name__ == "__main__":
    main()
