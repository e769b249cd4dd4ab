"""`jira-pm sandbox serve`: a foreground server that prints its URL and credentials."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from jira_pm.cli import main

pytestmark = pytest.mark.integration


def test_serve_prints_url_and_answers_until_stopped(tmp_path: Path):
    """The served site answers with the printed credentials; the process stops on terminate."""
    scenario = tmp_path / "site.toml"
    scenario.write_text('[[projects]]\nkey = "ABC"\nname = "Alpha"\n'
                        '[[issues]]\nkey = "ABC-1"\nsummary = "Only issue"\n', encoding="utf-8")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("jira-pm")), "sandbox", "serve", "--flavor",
         "server", "--port", "0", "--data", str(scenario)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        assert "Jira sandbox (server) with 1 issue at http://127.0.0.1:" in first
        url = first.split(" at ")[1].split()[0]
        banner = [process.stdout.readline() for _ in range(5)]
        assert banner[0] == "  project: ABC (Alpha)\n"
        assert banner[1].split() == ["user", "role", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT"]
        assert banner[2].split() == ["admin", "admin", "pm-bot@example.com",
                                     "sandbox-token-admin", "sandbox-pat-admin"]
        assert banner[3].split()[:2] == ["readonly", "read-only"]
        assert banner[4].startswith("  counters: ")
        answer = requests.get(f"{url}/rest/api/2/issue/ABC-1",
                              headers={"Authorization": "Bearer sandbox-pat-admin"}, timeout=5)
        assert answer.json()["fields"]["summary"] == "Only issue"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
    assert "sandbox stopped" in process.stdout.read()


@pytest.mark.parametrize(("args", "message"), [
    (["--rate-limit", "fast"], "--rate-limit 'fast' is not a rate"),
    (["--data", "missing.toml"], "does not exist"),
])
def test_serve_refuses_bad_options_in_one_line(args, message):
    """Bad options exit 2 with one line naming the problem."""
    result = CliRunner().invoke(main, ["sandbox", "serve", "--port", "0", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_serve_reports_a_broken_scenario_as_a_config_error(tmp_path: Path):
    """An inconsistent scenario stops `serve` with the loader's one-line error (exit 2)."""
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[[issues]]\nkey = "ABC-1"\nstatus = "Done"\n'
                        'history = [{ at = "2026-11-02T09:00:00Z", field = "status", '
                        'from = "To Do", to = "In Progress" }]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["sandbox", "serve", "--port", "0", "--data",
                                       str(scenario)])
    assert result.exit_code == 2
    assert "ABC-1" in result.output and "status" in result.output


def test_serve_on_a_busy_port_is_a_one_line_usage_error():
    """A port already in use exits 2 naming the address and the fix."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["sandbox", "serve", "--issues", "5", "--port",
                                           str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output


@pytest.mark.parametrize("flavor", ["cloud", "server"])
def test_banner_lists_projects_and_every_users_login(flavor):
    """The banner names each project and how to log in as each user, in this flavour's way."""
    from jira_pm.cli.sandbox_cmd import banner_lines
    from jira_pm.sandbox.server import Sandbox

    with Sandbox(flavor, issues=5, seed=1) as site:
        lines = banner_lines(site, 0.25)
        users = list(site.state.users.values())
    assert lines[0].endswith("(ready in 0.2s)") and lines[1] == "  project: SHOP (Shop project)"
    assert len(lines) == 4 + len(users) and all(len(line) <= 100 for line in lines[1:])
    for user, line in zip(users, lines[3:], strict=False):
        login = [user.email, user.api_token] + ([user.pat] if flavor == "server" else [])
        assert line.split()[0] == user.name and line.split()[2:] == login
