"""Secrets never leave jira-pm: every command, run with credentials as users really set them."""

from __future__ import annotations

import base64
import contextlib
import re
from urllib.parse import quote

import pytest
import responses
from click.testing import CliRunner
from pg_support import store_section, store_text
from test_run_sandbox import scenario

from jira_pm.cli import main
from jira_pm.sandbox.server import Sandbox

pytestmark = pytest.mark.integration

# Every command a user or cron runs, in an order where each has what it needs.
COMMANDS = [["sync"], ["run"], ["run", "--quiet"], ["run", "--dry-run"], ["apply", "--dry-run"],
            ["apply"], ["audit"], ["status"], ["doctor"], ["--debug", "sync"]]
NO_SECRET_ENV = {"JIRA_URL": "", "JIRA_EMAIL": "", "JIRA_API_TOKEN": "", "JIRA_PAT": "",
                 "JIRA_PM_CONFIG": ""}


@contextlib.contextmanager
def configured(tmp_path, store, flavor):
    """A sandbox and a jira-pm.toml without secrets (they come from the environment)."""
    with Sandbox(flavor, scenario=scenario()) as sandbox:
        config = tmp_path / "jira-pm.toml"
        config.write_text(
            f'[jira]\nurl = "{sandbox.url}"\ndeployment = "{flavor}"\nmax_retry_seconds = 5\n'
            '[scope]\nprojects = ["ABC"]\n' + store_section(store)
            + '[log]\njson_path = "runs.jsonl"\n', encoding="utf-8")
        yield sandbox, config


def forms(secret: str, email: str | None = None) -> list[str]:
    """The ways a secret could leak: plain, URL-encoded, and as a basic-auth header value."""
    found = [secret, quote(secret, safe="")]
    if email:
        found.append(base64.b64encode(f"{email}:{secret}".encode()).decode())
    return found


def run_all(config, env) -> list[tuple[list[str], int, str]]:
    runner = CliRunner(env={**NO_SECRET_ENV, **env})
    results = []
    for args in COMMANDS:
        result = runner.invoke(main, ["--config", str(config), *args])
        results.append((args, result.exit_code, result.stdout + result.stderr))
    return results


def assert_nowhere(results, tmp_path, store, leaks):
    logs = (tmp_path / "runs.jsonl").read_text(encoding="utf-8") \
        if (tmp_path / "runs.jsonl").exists() else ""
    held = store_text(store) if store.exists() else ""
    for args, _, output in results:
        for leak in leaks:
            assert leak not in output, f"{args} printed a secret: {output}"
    for leak in leaks:
        assert leak not in logs and leak not in held


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n", "  "])
def test_a_pat_with_a_line_ending_works_and_is_printed_by_no_command(tmp_path, store_path, ending):
    """A Data Center PAT from a CRLF env file is stripped, works, and no command prints it."""
    with configured(tmp_path, store_path, "server") as (sandbox, config):
        pat = sandbox.credentials()["pat"]
        results = run_all(config, {"JIRA_PAT": f" {pat}{ending}"})
    assert_nowhere(results, tmp_path, store_path, forms(pat))
    for args, code, output in results:
        assert code in (0, 1), f"{args} exited {code}: {output}"
        assert "internal error" not in output


def test_cloud_email_and_token_with_line_endings_work_and_are_printed_by_no_command(
        tmp_path, store_path):
    """Cloud e-mail and API token with CRLF endings work; neither token nor basic form leaks."""
    with configured(tmp_path, store_path, "cloud") as (sandbox, config):
        login = sandbox.credentials()
        results = run_all(config, {"JIRA_EMAIL": f"{login['email']}\r\n",
                                   "JIRA_API_TOKEN": f"{login['api_token']}\r\n"})
    assert_nowhere(results, tmp_path, store_path, forms(login["api_token"], login["email"]))
    for args, code, output in results:
        assert code in (0, 1), f"{args} exited {code}: {output}"


@pytest.mark.parametrize("variable", ["JIRA_PAT", "JIRA_API_TOKEN"])
def test_a_secret_with_an_inner_line_break_is_a_config_error_that_hides_it(
        tmp_path, store_path, variable):
    """A token split by a line break fails every command with exit 2, naming the variable only."""
    head, tail = "HEADpart-7731-distinct", "TAILpart-1377-distinct"
    env = {variable: f"{head}\r\n{tail}"}
    if variable == "JIRA_API_TOKEN":
        env["JIRA_EMAIL"] = "bot@example.com"
    with configured(tmp_path, store_path, "server") as (sandbox, config):
        results = run_all(config, env)
        assert sandbox.stats()["total"] == 0
    assert_nowhere(results, tmp_path, store_path, [head, tail])
    for args, code, output in results:
        if args[-1] in ("audit", "status"):
            continue  # these read the store only and never touch the credentials
        assert code == 2, f"{args} exited {code}: {output}"
        assert variable in output and "line break" in output


def test_a_secret_echoed_in_a_jira_error_body_is_masked_in_output_and_json_log(
        tmp_path, store_path):
    """When Jira echoes the token in its error, the CLI line and the JSON log show *** instead."""
    pat = "echoed-PAT-5521-distinct"
    config = tmp_path / "jira-pm.toml"
    config.write_text('[jira]\nurl = "https://jira.example.test"\ndeployment = "server"\n'
                      '[scope]\nprojects = ["ABC"]\n' + store_section(store_path)
                      + '[log]\njson_path = "runs.jsonl"\n', encoding="utf-8")
    body = {"errorMessages": [f"token {pat} / {quote(pat)} is not valid here"]}
    runner = CliRunner(env={**NO_SECRET_ENV, "JIRA_PAT": f"{pat}\r"})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(r"https://jira\.example\.test/.*"), status=400,
                 json=body)
        mock.add(responses.POST, re.compile(r"https://jira\.example\.test/.*"), status=400,
                 json=body)
        results = [(args, *_outcome(runner.invoke(main, ["--config", str(config), *args])))
                   for args in (["run"], ["sync"], ["--debug", "sync"])]
    # A 400 is a request Jira rejects as asked: exit 2 (README, "Exit codes").
    assert all(code == 2 for _, code, _ in results), results
    assert all("not valid here" in output for _, _, output in results)
    assert_nowhere(results, tmp_path, store_path, forms(pat))
    events = (tmp_path / "runs.jsonl").read_text(encoding="utf-8")
    assert "not valid here" in events


def _outcome(result) -> tuple[int, str]:
    return result.exit_code, result.stdout + result.stderr
