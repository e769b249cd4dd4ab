"""The Python API: a user's jira.JIRA drives sync, audit and apply through jira-pm's own HTTP."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from jira import JIRA
from jira.resilientsession import ResilientSession

from jira_pm.api import JiraPm
from jira_pm.config import Settings
from jira_pm.jira.adopt import http_from_jira
from jira_pm.sandbox.server import Sandbox

pytestmark = pytest.mark.integration


def _jira_for(sandbox: Sandbox) -> JIRA:
    login = sandbox.credentials("admin")
    options = {"server": sandbox.url, "get_server_info": False}
    if sandbox.flavor == "cloud":
        return JIRA(basic_auth=(login["email"], login["api_token"]), **options)
    return JIRA(token_auth=login["pat"], **options)


@pytest.fixture
def resilient_calls(monkeypatch):
    """Every request sent through the jira package's ResilientSession (it must stay empty)."""
    calls: list[tuple[str, str]] = []
    original = ResilientSession.request

    def counting(self, method, url, **kwargs):
        calls.append((method, url))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(ResilientSession, "request", counting)
    return calls


@pytest.mark.parametrize("flavor", ["cloud", "server"])
def test_sync_audit_apply_run_through_a_jira_instance(flavor, store_path, resilient_calls):
    """Sync, audit and apply with a JIRA's connection write labels, all via jira-pm's session."""
    with Sandbox(flavor, issues=80, seed=3) as sandbox:
        settings = Settings.for_tests(url="https://unused.example.test",
                                      projects=sorted(sandbox.state.projects),
                                      store_path=store_path)
        pm = JiraPm.from_jira(_jira_for(sandbox), settings)
        assert pm.settings.jira.url == sandbox.url

        synced = pm.sync(full=True)
        assert synced.issues == len(sandbox.state.issues)
        findings = pm.audit()
        assert findings, "the generated site has findings"
        applied = pm.apply()
        assert applied.exit_code == 0
        done = applied.writeback.outcome.done
        assert done
        labelled = {w.issue_key for w in done if w.operation == "labels"}
        for key in labelled:
            assert any(label.startswith("pm-") for label in sandbox.labels(key))
        assert pm.run().exit_code == 0

        assert resilient_calls == []
        assert sandbox.stats()["total"] == pm.client.http.requests_sent
        assert sandbox.stats()["by_status"].get("401", 0) == 0


def test_connection_settings_are_taken_from_the_jira_session():
    """Authentication, TLS verification, client certificate, proxies and headers carry over."""
    jira = JIRA(server="https://jira.example.test/", basic_auth=("pm@example.test", "tok"),
                get_server_info=False, options={"verify": "/etc/ssl/corp.pem",
                                                "client_cert": ("/c.pem", "/k.pem"),
                                                "headers": {"X-Proxy-Team": "pmo"}},
                proxies={"https": "http://proxy.example.test:3128"})
    http = http_from_jira(jira, timeout=5)
    assert http.base_url == "https://jira.example.test"
    assert http.session.auth == ("pm@example.test", "tok")
    assert http.session.verify == "/etc/ssl/corp.pem"
    assert http.session.cert == ("/c.pem", "/k.pem")
    assert http.session.proxies == {"https": "http://proxy.example.test:3128"}
    assert http.session.headers["X-Proxy-Team"] == "pmo"
    assert http.session.headers["User-Agent"].startswith("jira-pm/")
    assert type(http.session) is requests.Session


def test_anything_but_a_jira_instance_is_refused():
    """A wrong object is a TypeError that names what was expected."""
    with pytest.raises(TypeError, match="jira.JIRA"):
        http_from_jira(object())


def test_the_cli_does_not_import_the_jira_package():
    """`jira-pm` commands never pay for importing the jira package."""
    code = ("import sys; from click.testing import CliRunner; from jira_pm.cli import main; "
            "CliRunner().invoke(main, ['rules', 'list']); CliRunner().invoke(main, ['--help']); "
            "import jira_pm.api; print('jira' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_audit_refuses_a_store_never_synced(store_path):
    """The API's audit says the store was never synced, as `jira-pm audit` does, and makes none."""
    from jira_pm.errors import UsageError

    jira = JIRA(server="https://jira.example.test", basic_auth=("pm@example.test", "tok"),
                get_server_info=False)
    pm = JiraPm.from_jira(jira, Settings.for_tests(store_path=store_path))
    with pytest.raises(UsageError, match="never been synced"):
        pm.audit()
    assert not store_path.exists()
