"""Two syncs of one scope on one store never run at once; the second says so and does nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pg_support import count_rows, store_section

from jira_pm.cli import main
from jira_pm.config import load_settings
from jira_pm.sandbox.server import Sandbox
from jira_pm.store.locks import sync_lock

pytestmark = pytest.mark.integration


def write_config(folder: Path, sandbox: Sandbox, projects: str, store) -> Path:
    config = folder / "jira-pm.toml"
    config.write_text(
        f'[jira]\nurl = "{sandbox.url}"\npat = "{sandbox.credentials("admin")["pat"]}"\n'
        f'deployment = "server"\n[scope]\nprojects = [{projects}]\n'
        + store_section(store), encoding="utf-8")
    return config


def invoke(config: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_a_second_sync_of_the_scope_exits_2_and_a_second_run_exits_0(tmp_path, store_path):
    """While a sync holds the scope's lock, `sync` exits 2 saying so and `run` exits 0 quietly."""
    with Sandbox("server", issues=30, seed=2) as sandbox:
        config = write_config(tmp_path, sandbox, '"' + '", "'.join(sandbox.state.projects) + '"',
                              store_path)
        settings = load_settings(config)
        with sync_lock(settings.store):
            busy = invoke(config, "sync")
            quiet = invoke(config, "run", "--quiet")
        assert busy.exit_code == 2, busy.output
        assert "another jira-pm sync is running" in busy.stderr
        assert quiet.exit_code == 0 and quiet.output == ""
        assert sandbox.stats()["by_route"].get("GET /rest/api/2/search", 0) == 0
        done = invoke(config, "sync")
        assert done.exit_code == 0, done.output


def test_a_sync_running_in_another_process_blocks_a_second_one(tmp_path, store_path):
    """A real second process finds the first sync running and leaves the store to it."""
    with Sandbox("server", issues=600, seed=2, latency_ms=60, max_results_cap=20) as sandbox:
        config = write_config(tmp_path, sandbox, '"' + '", "'.join(sandbox.state.projects) + '"',
                              store_path)
        command = [sys.executable, "-c", "from jira_pm.cli import main; main()",
                   "--config", str(config), "sync"]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        try:
            # A saved page means the first sync holds its lock, with most pages still to go.
            deadline = time.monotonic() + 30
            while (not count_rows(store_path, "SELECT count(*) FROM issues")
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            second = invoke(config, "sync")
            out, err = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        assert second.exit_code == 2 and "another jira-pm sync" in second.stderr
        assert first.returncode == 0, err
        assert "600 issues" in out
