"""A store belongs to the Jira site its first sync read: another site is refused (exit 2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
from click.testing import CliRunner
from test_sync import FakeJira

from jira_pm.cli import main
from jira_pm.cli.common import make_client
from jira_pm.config import Settings
from jira_pm.errors import ConfigError
from jira_pm.store import connect
from jira_pm.store.issues import get_meta, set_meta
from jira_pm.sync import sync
from jira_pm.sync.identity import site_identity

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SITE = "https://acme.atlassian.net"
OTHER = "https://other.atlassian.net"


def settings(tmp_path, url: str) -> Settings:
    return Settings.for_tests(url=url, projects=("PM",), store_path=tmp_path / "s.sqlite",
                              sync={"reconcile_every_hours": 0})


def synced_store(tmp_path):
    jira = FakeJira()
    for issue_id in range(10001, 10004):
        jira.add(issue_id)
    conn = connect(tmp_path / "s.sqlite")
    sync(settings(tmp_path, SITE), conn, jira, now=lambda: NOW)
    return conn, jira


@pytest.mark.parametrize(("url", "identity"), [
    ("https://Acme.Atlassian.NET/", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net:443", "https://acme.atlassian.net"),
    ("https://jira.corp.example:8443/Jira/", "https://jira.corp.example:8443/Jira"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("HTTPS://user:secret@acme.atlassian.net", "https://acme.atlassian.net"),
    ("http://[::1]:9000/jira", "http://[::1]:9000/jira"),
])
def test_site_identity_is_scheme_host_port_path_without_secrets(url, identity):
    """Host case, a trailing slash, the default port and user info do not change the identity."""
    assert site_identity(url) == identity


def test_the_first_sync_records_the_site_without_secrets(tmp_path):
    """After the first sync ``meta`` names the configured site, normalised."""
    conn, _ = synced_store(tmp_path)
    assert get_meta(conn, "site_url") == SITE


def test_a_sync_against_another_site_is_refused_before_any_request(tmp_path):
    """Syncing a store of one site with another site configured raises ConfigError (exit 2)."""
    conn, _ = synced_store(tmp_path)
    other = FakeJira()
    other.add(10001)  # the same id, an unrelated issue
    with pytest.raises(ConfigError) as caught:
        sync(settings(tmp_path, OTHER), conn, other, now=lambda: NOW)
    error = caught.value
    assert error.exit_code == 2
    assert error.message == (
        f"the store {tmp_path / 's.sqlite'} belongs to {SITE}, not {OTHER}"
    )
    assert error.hint == "point [store] path at another file to sync this site"
    assert other.http.requests_sent == 0
    assert get_meta(conn, "site_url") == SITE


def test_make_client_refuses_a_store_of_another_site(tmp_path):
    """apply and run get their client from make_client(settings, conn): it refuses too."""
    conn, _ = synced_store(tmp_path)
    with pytest.raises(ConfigError, match=f"belongs to {SITE}, not {OTHER}"):
        make_client(settings(tmp_path, OTHER), conn)
    assert make_client(settings(tmp_path, SITE), conn) is not None
    assert make_client(settings(tmp_path, OTHER)) is not None  # no store: nothing to check


@pytest.mark.parametrize("same", [SITE + "/", "https://ACME.atlassian.net",
                                  "https://acme.atlassian.net:443/"])
def test_the_same_site_spelled_differently_is_accepted(tmp_path, same):
    """A trailing slash, another host case or the default port is the same site."""
    conn, jira = synced_store(tmp_path)
    make_client(settings(tmp_path, same), conn)
    result = sync(settings(tmp_path, same), conn, jira, now=lambda: NOW)
    assert result.mode == "incremental"
    assert get_meta(conn, "site_url") == SITE


def test_a_store_synced_before_sites_were_recorded_is_claimed_by_its_next_sync(tmp_path):
    """An older store with no recorded site is adopted by the next sync, not refused."""
    conn, jira = synced_store(tmp_path)
    conn.execute("DELETE FROM meta WHERE key = 'site_url'")
    sync(settings(tmp_path, SITE), conn, jira, now=lambda: NOW)
    assert get_meta(conn, "site_url") == SITE


@pytest.mark.parametrize("command", [["sync"], ["apply", "--dry-run"], ["run"]])
def test_the_cli_exits_2_for_a_store_of_another_site(tmp_path, command):
    """sync, apply and run against a store of another site exit 2 with the fix, sending nothing."""
    config = tmp_path / "jira-pm.toml"
    config.write_text(f'[jira]\nurl = "{OTHER}/"\n[scope]\nprojects = ["PM"]\n'
                      '[store]\npath = "s.sqlite"\n', encoding="utf-8")
    conn = connect(tmp_path / "s.sqlite")
    set_meta(conn, "site_url", SITE)
    conn.close()
    env = {"JIRA_EMAIL": "bot@example.com", "JIRA_API_TOKEN": "tok-123456", "JIRA_URL": "",
           "JIRA_PAT": "", "JIRA_PM_CONFIG": ""}
    with responses.RequestsMock(assert_all_requests_are_fired=True):  # any request would fail
        result = CliRunner(env=env).invoke(main, ["--config", str(config), *command])
    assert result.exit_code == 2, result.output
    assert f"belongs to {SITE}, not {OTHER}" in result.output
    assert "point [store] path at another file" in result.output
