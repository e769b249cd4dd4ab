"""An unreachable or struggling Jira as the CLI shows it: a quick exit 3, and waits in words."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
import responses
from click.testing import CliRunner
from pg_support import store_section

from jira_pm.cli import common, main

ENV = {"JIRA_URL": "", "JIRA_EMAIL": "", "JIRA_API_TOKEN": "", "JIRA_PAT": "pat-5309-distinct",
       "JIRA_PM_CONFIG": ""}
BASE = "https://jira.example.test"


def closed_port() -> int:
    """A loopback port that was bound a moment ago and is now closed: nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(tmp_path, url: str, store) -> str:
    path = tmp_path / "jira-pm.toml"
    path.write_text(f'[jira]\nurl = "{url}"\ndeployment = "server"\nmax_retry_seconds = 300\n'
                    '[scope]\nprojects = ["ABC"]\n' + store_section(store)
                    + '[log]\njson_path = "runs.jsonl"\n', encoding="utf-8")
    return str(path)


@pytest.mark.integration
def test_sync_against_a_closed_port_exits_3_long_before_max_retry_seconds(tmp_path):
    """`sync` at a closed port exits 3 in seconds (not 300 s) naming the URL and likely cause."""
    port = closed_port()
    # SQLite only: the store plays no part in the first-contact budget, and this test is slow.
    config = write_config(tmp_path, f"http://127.0.0.1:{port}", tmp_path / "store.sqlite")
    started = time.monotonic()
    result = CliRunner(env=ENV).invoke(main, ["--config", config, "sync"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 3, result.output
    assert elapsed < 60  # max_retry_seconds is 300; the first-contact budget is 15 s
    [line] = result.stderr.splitlines()
    assert line.startswith(f"jira-pm: error: cannot reach http://127.0.0.1:{port} ")
    assert f"connection refused at 127.0.0.1:{port}" in line and "wrong port" in line


def struggling_jira(mock) -> None:
    """Every request first gets a 503 with Retry-After: 0, then a 400 that ends the command
    (exit 2: a request Jira rejects as asked)."""
    for status in (503, 400):
        for method in (responses.GET, responses.POST):
            mock.add(method, re.compile(rf"{re.escape(BASE)}/.*"), status=status,
                     headers={"Retry-After": "0"}, json={"errorMessages": ["busy"]})


@pytest.mark.parametrize("terminal", [True, False])
def test_a_retry_wait_is_shown_on_a_terminal_only(tmp_path, store_path, monkeypatch, terminal):
    """While a request waits to be retried, a terminal gets one 'waiting' line; cron gets none."""
    monkeypatch.setattr(common, "is_terminal", lambda stream=None: terminal)
    config = write_config(tmp_path, BASE, store_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        struggling_jira(mock)
        result = CliRunner(env=ENV).invoke(main, ["--config", config, "sync"])
    assert result.exit_code == 2
    waiting = [line for line in result.stderr.splitlines() if line.startswith("waiting ")]
    if terminal:
        assert len(waiting) == 1
        assert re.fullmatch(r"waiting \d\.\d s: Jira answered 503 \(attempt 1\)", waiting[0])
    else:
        assert waiting == []


def test_the_json_log_records_each_retry_wait(tmp_path, store_path):
    """`run` writes a 'wait' event per retry wait: status, reason, attempt, seconds, request."""
    config = write_config(tmp_path, BASE, store_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        struggling_jira(mock)
        result = CliRunner(env=ENV).invoke(main, ["--config", config, "run"])
    assert result.exit_code == 2
    events = [json.loads(line) for line in
              (tmp_path / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    [wait] = [e for e in events if e["event"] == "wait"]
    assert (wait["status"], wait["attempt"], wait["reason"]) == (503, 1, "Jira answered 503")
    assert wait["method"] in ("GET", "POST") and wait["path"].startswith("/rest/api/")
    assert 0 <= wait["seconds"] <= 1
