"""A store belongs to the Jira site its first sync read: another site is refused (exit 2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
from click.testing import CliRunner
from pg_support import store_section
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


def settings(store, url: str) -> Settings:
    return Settings.for_tests(url=url, projects=("PM",), store_path=store,
                              sync={"reconcile_every_hours": 0})


def synced_store(store):
    jira = FakeJira()
    for issue_id in range(10001, 10004):
        jira.add(issue_id)
    conn = connect(store)
    sync(settings(store, SITE), conn, jira, now=lambda: NOW)
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


def test_the_first_sync_records_the_site_without_secrets(store_path):
    """After the first sync ``meta`` names the configured site, normalised."""
    conn, _ = synced_store(store_path)
    assert get_meta(conn, "site_url") == SITE


# What the hint tells the user to change: the [store] key their backend uses.
ANOTHER_STORE = {"sqlite": "[store] path at another file",
                 "postgresql": "[store] url (or $JIRA_PM_STORE_URL) at another database or schema"}


def test_a_sync_against_another_site_is_refused_before_any_request(store_path, store_backend):
    """Syncing a store of one site with another site configured raises ConfigError (exit 2)."""
    conn, _ = synced_store(store_path)
    other = FakeJira()
    other.add(10001)  # the same id, an unrelated issue
    with pytest.raises(ConfigError) as caught:
        sync(settings(store_path, OTHER), conn, other, now=lambda: NOW)
    error = caught.value
    assert error.exit_code == 2
    assert error.message == (
        f"the store {settings(store_path, OTHER).store_name} belongs to {SITE}, not {OTHER}"
    )
    assert error.hint == f"point {ANOTHER_STORE[store_backend]} to sync this site"
    assert other.http.requests_sent == 0
    assert get_meta(conn, "site_url") == SITE


def test_make_client_refuses_a_store_of_another_site(store_path):
    """apply and run get their client from make_client(settings, conn): it refuses too."""
    conn, _ = synced_store(store_path)
    with pytest.raises(ConfigError, match=f"belongs to {SITE}, not {OTHER}"):
        make_client(settings(store_path, OTHER), conn)
    assert make_client(settings(store_path, SITE), conn) is not None
    assert make_client(settings(store_path, OTHER)) is not None  # no store: nothing to check


@pytest.mark.parametrize("same", [SITE + "/", "https://ACME.atlassian.net",
                                  "https://acme.atlassian.net:443/"])
def test_the_same_site_spelled_differently_is_accepted(store_path, same):
    """A trailing slash, another host case or the default port is the same site."""
    conn, jira = synced_store(store_path)
    make_client(settings(store_path, same), conn)
    result = sync(settings(store_path, same), conn, jira, now=lambda: NOW)
    assert result.mode == "incremental"
    assert get_meta(conn, "site_url") == SITE


def test_a_store_synced_before_sites_were_recorded_is_claimed_by_its_next_sync(store_path):
    """An older store with no recorded site is adopted by the next sync, not refused."""
    conn, jira = synced_store(store_path)
    conn.execute("DELETE FROM meta WHERE key = 'site_url'")
    sync(settings(store_path, SITE), conn, jira, now=lambda: NOW)
    assert get_meta(conn, "site_url") == SITE


@pytest.mark.parametrize("command", [["sync"], ["apply", "--dry-run"], ["run"]])
def test_the_cli_exits_2_for_a_store_of_another_site(tmp_path, store_path, store_backend,
                                                    command):
    """sync, apply and run against a store of another site exit 2 with the fix, sending nothing."""
    config = tmp_path / "jira-pm.toml"
    config.write_text(f'[jira]\nurl = "{OTHER}/"\n[scope]\nprojects = ["PM"]\n'
                      + store_section(store_path), encoding="utf-8")
    conn = connect(store_path)
    set_meta(conn, "site_url", SITE)
    conn.close()
    env = {"JIRA_EMAIL": "bot@example.com", "JIRA_API_TOKEN": "tok-123456", "JIRA_URL": "",
           "JIRA_PAT": "", "JIRA_PM_CONFIG": ""}
    with responses.RequestsMock(assert_all_requests_are_fired=True):  # any request would fail
        result = CliRunner(env=env).invoke(main, ["--config", str(config), *command])
    assert result.exit_code == 2, result.output
    assert f"belongs to {SITE}, not {OTHER}" in result.output
    assert f"point {ANOTHER_STORE[store_backend]}" in result.output
