"""Benchmark: a first `run` against a Cloud sandbox with Jira Cloud's three rate limits on.

    .venv/bin/python bench/bench_ratelimits.py --old-tree /tmp/rate-old     # 2,000 issues
    .venv/bin/python bench/bench_ratelimits.py --issues 300                  # this tree only

Serves one generated Cloud site per client (same seed) with the burst limit per
endpoint, the per-issue write limit and a site quota on, and runs one first
`run` (sync -> evaluate -> apply, fresh store) against it in a child process, once
with this tree's code and, with --old-tree, once with another checkout's (today's
client: `git worktree add /tmp/rate-old <base>`), both in the same invocation.
It reports each run's wall time, the 429s the sandbox sent, and checks the result:
every issue's labels equal those of a reference run against an unlimited site,
no issue holds the same comment twice, and no write failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from jira_pm.sandbox.server import Sandbox  # noqa: E402

# Runs in the child, with PYTHONPATH at the tree under test: the same calls in both trees.
CHILD = """
import json, sys, time
from pathlib import Path
from jira_pm.config import Settings
from jira_pm.jira.client import JiraClient
from jira_pm.mapping.values import parse_jira_datetime
from jira_pm.runner import run_pipeline
from jira_pm.sandbox.generator import GENERATED_NOW
url, email, token, store, projects = sys.argv[1:6]
settings = Settings.for_tests(url=url, projects=projects.split(","), store_path=store,
                              jira={"deployment": "cloud", "email": email, "api_token": token,
                                    "max_retry_seconds": 600},
                              writeback={"max_writes": 100_000})
client = JiraClient.from_settings(settings.jira)
started = time.perf_counter()
report = run_pipeline(settings, client, as_of=parse_jira_datetime(GENERATED_NOW))
outcome = report.writeback.outcome
print(json.dumps({"seconds": time.perf_counter() - started, "stages": report.stages,
                  "done": len(outcome.done), "failed": len(outcome.failed),
                  "findings": report.findings,
                  "sent": client.http.requests_sent}))
"""


def site(args, limited: bool) -> Sandbox:
    limits = {"burst_limit": args.burst, "issue_write_limit": args.issue_write,
              "quota_limit": (args.quota, 60), "near_limit_at": args.near} if limited else {}
    return Sandbox("cloud", issues=args.issues, seed=args.seed, latency_ms=args.latency_ms,
                   **limits)


def run_child(tree: Path, sandbox: Sandbox, folder: Path, name: str) -> dict:
    login = sandbox.credentials()
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [sys.executable, "-c", CHILD, sandbox.url, login["email"], login["api_token"],
               str(folder / f"{name}.sqlite"), ",".join(sorted(sandbox.state.projects))]
    done = subprocess.run(command, env=env, cwd=str(tree), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} run failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def labels_of(sandbox: Sandbox) -> dict:
    with sandbox.state.lock:
        return {i.id: sorted(i.labels) for i in sandbox.state.issues.values()}


def duplicate_comments(sandbox: Sandbox) -> int:
    with sandbox.state.lock:
        return sum(n - 1 for issue in sandbox.state.issues.values()
                   for n in Counter(json.dumps(c.body, sort_keys=True)
                                    for c in issue.comments).values() if n > 1)


def measure(name: str, tree: Path, args, folder: Path, truth: dict) -> dict:
    with site(args, limited=True) as sandbox:
        result = run_child(tree, sandbox, folder, name)
        stats = sandbox.stats()
        result["429s"] = stats["by_status"].get("429", 0)
        result["requests"] = stats["total"]
        labels = labels_of(sandbox)
        result["labels_wrong"] = sum(1 for k, v in truth.items() if labels.get(k) != v)
        result["duplicate_comments"] = duplicate_comments(sandbox)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--burst", type=float, default=10, help="per endpoint, a second")
    parser.add_argument("--issue-write", type=float, default=2, help="per issue, a second")
    parser.add_argument("--quota", type=float, default=1500, help="whole site, a minute")
    parser.add_argument("--near", type=float, default=0.2)
    parser.add_argument("--old-tree", type=Path, default=None,
                        help="another checkout to run as 'today's client' in the same run")
    parser.add_argument("--serial", action="store_true",
                        help="run the clients one after the other (default: side by side)")
    args = parser.parse_args()
    print(f"cloud sandbox, {args.issues} issues (seed {args.seed}), latency "
          f"{args.latency_ms:g} ms; limits: burst {args.burst:g}/s per endpoint, "
          f"{args.issue_write:g}/s writes per issue, quota {args.quota:g}/min, "
          f"near-limit below {args.near:.0%}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with site(args, limited=False) as reference:
            ref = run_child(ROOT, reference, folder, "reference")
            truth = labels_of(reference)
        print(f"reference (no limits): {ref['seconds']:.1f} s, {ref['done']} writes",
              flush=True)
        trees = [("this tree", ROOT)] + ([("old tree", args.old_tree)] if args.old_tree else [])
        started = time.perf_counter()
        with ThreadPoolExecutor(1 if args.serial else len(trees)) as pool:
            futures = {name: pool.submit(measure, name.replace(" ", "-"), tree, args, folder,
                                         truth) for name, tree in trees}
            results = {name: future.result() for name, future in futures.items()}
        for name, result in results.items():
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in result["stages"].items())
            print(f"{name}: {result['seconds']:.1f} s ({stages}); 429s {result['429s']}; "
                  f"requests {result['requests']}; writes done {result['done']}, failed "
                  f"{result['failed']}; issues with wrong labels {result['labels_wrong']}; "
                  f"duplicate comments {result['duplicate_comments']}", flush=True)
        print(f"all runs: {time.perf_counter() - started:.0f} s wall")


if __name__ == "__main__":
    main()
