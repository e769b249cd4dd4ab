"""Tests of secret redaction on every path that prints: errors, the CLI, the JSON log, logging."""

from __future__ import annotations

import base64
import json
import logging
import socket
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from jira_pm.cli import main
from jira_pm.config import JiraSettings, Secret
from jira_pm.errors import ConfigError, JiraError
from jira_pm.jira.http import BearerAuth, JiraHttp, auth_from_settings
from jira_pm.redaction import redact, register_basic, register_secret
from jira_pm.runner import JsonLog

BASE = "https://jira.example.test"


def test_a_secret_is_masked_in_its_repr_url_encoded_and_stripped_forms():
    """A token registered with its CR is masked plain, as repr shows it, and URL-encoded."""
    token = "crlf-TOKEN/9931+x"
    register_secret(f"{token}\r")
    text = (f"Invalid header value b'Bearer {token}\\r' | {quote(token, safe='')} | "
            f"{token} | {token}\r")
    assert "9931" not in redact(text)


def test_the_basic_header_form_of_email_and_token_is_masked():
    """register_basic masks base64(e-mail:token), the value a Basic header carries."""
    register_basic("bot@example.com", "basic-TOKEN-6613")
    encoded = base64.b64encode(b"bot@example.com:basic-TOKEN-6613").decode()
    assert encoded not in redact(f"sent {encoded} to the proxy")
    assert "6613" not in redact("token basic-TOKEN-6613")


def test_error_messages_and_hints_are_masked_when_built():
    """A JiraPmError never holds a registered secret, in its message, hint or args."""
    register_secret("error-TOKEN-4471")
    error = JiraError("Jira said: token error-TOKEN-4471 expired", hint="not error-TOKEN-4471")
    assert "4471" not in error.one_line() + repr(error.args) + str(error)


def test_the_json_log_masks_secrets_in_every_field(tmp_path):
    """JsonLog writes *** where an event's text quotes a credential."""
    register_secret("json-TOKEN-2290")
    log = JsonLog(tmp_path / "run.jsonl", "r1")
    log.event("run-end", error="Jira echoed json-TOKEN-2290", nested={"k": "json-TOKEN-2290"})
    text = (tmp_path / "run.jsonl").read_text(encoding="utf-8")
    assert "2290" not in text and json.loads(text)["event"] == "run-end"


def test_any_modules_log_lines_are_masked_once_the_cli_configured_logging(caplog):
    """After the CLI set up logging, a record from any logger has its secrets masked."""
    register_secret("log-TOKEN-8120")
    CliRunner().invoke(main, ["--debug", "rules", "list"])
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("jira_pm.sync").warning("header Bearer %s", "log-TOKEN-8120")
    assert caplog.records and "8120" not in caplog.text


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_internal_errors_and_tracebacks_are_masked(debug):
    """An unexpected exception quoting a secret prints *** in its line and its traceback."""
    register_secret("internal-TOKEN-3307")

    @main.command("explode-for-test")
    def explode() -> None:
        raise ValueError("Invalid header value b'Bearer internal-TOKEN-3307\\r'")

    try:
        result = CliRunner().invoke(main, [*debug, "explode-for-test"])
    finally:
        main.commands.pop("explode-for-test")
    assert result.exit_code == 2 and "internal error: ValueError" in result.stderr
    assert "3307" not in result.output
    assert ("Traceback" in result.stderr) == bool(debug)


def test_a_header_the_session_cannot_send_is_a_one_line_config_error():
    """A PAT with a CR that reaches the wire raises ConfigError (exit 2), never the header."""
    with socket.create_server(("127.0.0.1", 0)) as listening:  # http.client checks headers
        port = listening.getsockname()[1]
        http = JiraHttp(f"http://127.0.0.1:{port}", auth=BearerAuth("wire-TOKEN-5580\r"),
                        timeout=2)
        with pytest.raises(ConfigError) as info:
            http.get("/x")
    assert info.value.exit_code == 2 and "5580" not in info.value.one_line()
    assert "JIRA_PAT" in info.value.one_line()
    assert info.value.__suppress_context__  # --debug's traceback must not show the original


@pytest.mark.parametrize("field", ["pat", "api_token"])
def test_auth_refuses_a_credential_with_a_control_character(field):
    """Settings built in code with a line break in a secret fail before any request is sent."""
    jira = JiraSettings(url=BASE, email="bot@example.com",
                        **{field: Secret("ctl-TOKEN-1402\nmore")})
    with pytest.raises(ConfigError) as info:
        auth_from_settings(jira)
    assert "1402" not in info.value.one_line() and "line break" in info.value.one_line()



@pytest.mark.parametrize("url", [
    "postgresql://jpm:S3cret-pw-9141@db.example.test:5432/jira_pm",
    "postgresql://jpm@db.example.test/jira_pm?password=S3cret-pw-9141&sslmode=require",
    "postgres://jpm@db.example.test/jira_pm?sslmode=require&PASSWORD=S3cret-pw-9141",
    "postgresql://jpm@db.example.test/jira_pm?sslpassword=S3cret-pw-9141",
])
def test_a_database_password_is_masked_wherever_the_url_carries_it(url):
    """Userinfo or libpq's ?password= / ?sslpassword=: shown as *** and masked in any text."""
    from jira_pm.redaction import register_url_secret, shown_url

    shown = shown_url(url)
    assert "S3cret-pw-9141" not in shown and "***" in shown and "db.example.test" in shown
    register_url_secret(url)
    assert "S3cret-pw-9141" not in redact(f"the store at {url} cannot be opened")
