"""Run a child process and measure it: wall seconds and peak resident memory; count writes.

Shared by every benchmark that compares whole processes (jira-pm's sync, the
baselines), so they are all measured the same way; and by those that count the
writes a run sent, so they all count them the same way.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import psutil


def measure(command: list[str], env: dict, cwd: Path | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS bytes (sampled every 20 ms) and stdout; fails loudly."""
    # Output goes to files, not pipes: a chatty child (tap-jira logs a line per
    # request) would fill a pipe and stall while we only sample its memory.
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        started = time.perf_counter()
        process = psutil.Popen(command, env=env, cwd=cwd, stdout=out_file, stderr=err_file,
                               text=True)
        peak = 0
        while process.poll() is None:
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if process.returncode != 0:
        name = Path(command[1]).name if len(command) > 1 else command[0]
        raise SystemExit(f"{name} failed ({process.returncode}): {err.strip()[-2000:]}")
    return elapsed, peak, out


def measure_sync(config: Path, env: dict, *flags: str) -> tuple[float, int, str]:
    """The real `jira-pm --config CONFIG sync [FLAGS]` command, measured; stdout is its summary."""
    jira_pm = Path(sys.executable).with_name("jira-pm")
    return measure([str(jira_pm), "--config", str(config), "sync", *flags], env, config.parent)


# POSTs that only read: not writes.
READ_POSTS = ("/search/jql", "/search/approximate-count", "/changelog/bulkfetch", "/worklog/list",
              "/search")


def writes_sent(stats: dict) -> int:
    """PUT, DELETE and POST requests in a sandbox's stats, less the POSTs that only read."""
    total = 0
    for route, count in stats["by_route"].items():
        method, path = route.split(" ", 1)
        if method in ("PUT", "DELETE") or (method == "POST" and not path.endswith(READ_POSTS)):
            total += count
    return total
