"""Each exit code of the README's table, produced by the situation it documents, over real HTTP
against the sandbox."""

from __future__ import annotations

import contextlib
import socket

import pytest
from click.testing import CliRunner
from pg_support import store_section
from test_run_sandbox import scenario

from jira_pm.cli import main
from jira_pm.sandbox.server import Sandbox

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def site(tmp_path, store, *, user="admin", jira: str = "", scope='projects = ["ABC"]'):
    """A server-flavour sandbox and a jira-pm.toml for it; ``jira`` adds [jira] lines."""
    with Sandbox("server", scenario=scenario()) as sandbox:
        config = tmp_path / "jira-pm.toml"
        creds = sandbox.credentials(user)
        login = (f'email = "{creds["email"]}"\napi_token = "{creds["api_token"]}"'
                 if "cloud" in jira else f'pat = "{creds["pat"]}"')  # Cloud takes no PAT
        config.write_text(
            f'[jira]\nurl = "{sandbox.url}"\n{login}\nmax_retry_seconds = 0\n{jira}\n'
            f'[scope]\n{scope}\n' + store_section(store), encoding="utf-8")
        yield sandbox, config


def invoke(config, *args):
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_exit_0_when_everything_worked(tmp_path, store_path):
    """0: a sync that fetched everything."""
    with site(tmp_path, store_path) as (_, config):
        result = invoke(config, "sync")
        assert result.exit_code == 0, result.output


def test_exit_1_for_findings_at_fail_on(tmp_path, store_path):
    """1: `audit --fail-on` with findings at or above that severity."""
    with site(tmp_path, store_path) as (_, config):
        assert invoke(config, "sync").exit_code == 0
        result = invoke(config, "audit", "--fail-on", "info")
        assert result.exit_code == 1, result.output


@pytest.mark.parametrize(("jira", "scope", "says"), [
    ('deployment = "cloud"', 'projects = ["ABC"]', "this Jira is Server/Data Center"),
    ("", 'projects = ["ABC"]\njql = "status = = Done"', "check [scope]"),
])
def test_exit_2_for_a_request_jira_rejects_because_of_the_configuration(tmp_path, store_path, jira,
                                                                         scope, says):
    """2: Jira refuses what the configuration asked for — a deployment the site is not, or
    scope JQL it cannot parse — in one line naming the setting."""
    with site(tmp_path, store_path, jira=jira, scope=scope) as (_, config):
        result = invoke(config, "sync")
        assert result.exit_code == 2, result.output
        errors = [x for x in result.stderr.splitlines() if x.startswith("jira-pm: error:")]
        assert len(errors) == 1 and says in errors[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_exit_3_when_jira_refuses_the_credentials_or_cannot_be_reached(tmp_path, store_path):
    """3: a PAT Jira refuses (401), and a site nothing answers at."""
    with site(tmp_path, store_path) as (sandbox, config):
        config.write_text(config.read_text().replace(sandbox.credentials("admin")["pat"],
                                                     "not-the-pat-5150"))
        refused = invoke(config, "sync")
        assert refused.exit_code == 3, refused.output
        assert "refused the credentials" in refused.stderr
        assert "not-the-pat-5150" not in refused.output
        config.write_text(config.read_text().replace(sandbox.url,
                                                     f"http://127.0.0.1:{closed_port()}"))
    unreachable = invoke(config, "sync")
    assert unreachable.exit_code == 3 and "connection refused" in unreachable.stderr


def test_exit_4_when_some_writes_failed(tmp_path, store_path):
    """4: `run` where Jira refused the writes to one issue and the other writes went through."""
    with site(tmp_path, store_path) as (sandbox, config):
        sandbox.lock_issue("ABC-1")  # flagged overdue; this user may not edit it
        result = invoke(config, "run", "--quiet")
        assert result.exit_code == 4, result.output
        assert "ABC-1" in result.stderr
        assert "pm-over-estimate" in sandbox.labels("ABC-5")


def test_exit_3_when_the_account_could_write_nothing(tmp_path, store_path):
    """3: `run` by an account that may not edit anything in scope: no write could be made."""
    with site(tmp_path, store_path, user="readonly") as (_, config):
        result = invoke(config, "run", "--quiet")
        assert result.exit_code == 3, result.output
        assert "Edit Issues (EDIT_ISSUES)" in result.stderr


def exit_code_paragraph(path) -> str:
    """The exit-code mapping of a Markdown file: from "Exit codes:" to the end of its code-4
    sentence, whitespace collapsed."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / path).read_text(encoding="utf-8")
    paragraph = next(p for p in text.split("\n\n") if p.startswith("Exit codes:"))
    mapping = " ".join(paragraph.split())
    return mapping[:mapping.index(".", mapping.index(" 4 ")) + 1]


def test_readme_and_the_client_docs_state_the_same_exit_codes():
    """README and docs/jira-client.md give one identical exit-code mapping covering 0 to 4."""
    readme = exit_code_paragraph("README.md")
    assert readme == exit_code_paragraph("docs/jira-client.md")
    for code in ("0 fine", "1 findings", "2 usage", "3 Jira unreachable", "4 some writes"):
        assert code in readme
