"""A real `jira-pm run` process killed by pid in the middle of apply, then run again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from pg_support import count_rows, store_section
from test_run_sandbox import EXPECTED_COMMENTS, EXPECTED_LABELS, labels, markers, scenario

from jira_pm.sandbox.server import Sandbox

pytestmark = pytest.mark.integration

LEDGER_ROWS = "SELECT count(*) FROM ledger WHERE operation = ?"


@pytest.mark.parametrize("operation", ["labels", "comment"])
def test_run_killed_during_apply_then_rerun_leaves_no_twin_and_no_gap(tmp_path, store_path,
                                                                      operation):
    """Killed (SIGKILL, by pid) during concurrent writes, a rerun completes with no twins."""
    script = Path(sys.executable).with_name("jira-pm")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    with Sandbox("server", scenario=scenario(), latency_ms=40) as sandbox:
        config = tmp_path / "jira-pm.toml"
        config.write_text(
            f'[jira]\nurl = "{sandbox.url}"\ndeployment = "server"\nmax_parallel = 4\n'
            f'pat = "{sandbox.credentials()["pat"]}"\n'
            '[scope]\nprojects = ["ABC"]\n' + store_section(store_path), encoding="utf-8")
        command = [str(script), "--config", str(config), "run", "--quiet"]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not count_rows(store_path, LEDGER_ROWS, (operation,)) and proc.poll() is None:
                assert time.monotonic() < deadline, "apply never started"
                time.sleep(0.01)
        finally:
            proc.kill()
            proc.communicate(timeout=10)
        assert proc.returncode != 0, "the run finished before it could be killed"
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        assert labels(sandbox) == EXPECTED_LABELS and markers(sandbox) == EXPECTED_COMMENTS
