"""Tests of `jira-pm doctor` against mocked Jira answers: one line per check, exit codes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import urllib3.exceptions
from click.testing import CliRunner
from pg_support import store_section
from responses import matchers

from jira_pm.cli import main

BASE = "https://acme.atlassian.net"
TOKEN = "doctor-TOKEN-5150-distinct"
ENV = {"JIRA_EMAIL": "bot@example.com", "JIRA_API_TOKEN": TOKEN, "JIRA_PAT": "",
       "JIRA_URL": "", "JIRA_PM_CONFIG": ""}
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string"}},
    {"id": "customfield_10016", "name": "Story point estimate", "custom": True,
     "schema": {"type": "number",
                "custom": "com.pyxis.greenhopper.jira:jsw-story-points"}},
    {"id": "customfield_10020", "name": "Sprint", "custom": True,
     "schema": {"type": "array", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
]
ALL_PERMISSIONS = {p: {"havePermission": True} for p in
                   ("BROWSE_PROJECTS", "EDIT_ISSUES", "ADD_COMMENTS")}


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def config(tmp_path, extra_jira: str = "", scope: str = 'projects = ["ABC"]',
           store=None) -> str:
    """A jira-pm.toml in ``tmp_path``; its store is ``store``, else jira-pm.sqlite beside it."""
    path = tmp_path / "jira-pm.toml"
    path.write_text(f'[jira]\nurl = "{BASE}"\nmax_retry_seconds = 0\n{extra_jira}\n'
                    f"[scope]\n{scope}\n" + (store_section(store) if store else ""))
    return str(path)


def doctor(path: str):
    return CliRunner(env=ENV).invoke(main, ["--config", path, "doctor"])


def site(mock, deployment: str = "Cloud"):
    mock.get(f"{BASE}/rest/api/2/serverInfo",
             json={"deploymentType": deployment, "version": "1001.0.0", "serverTitle": "Acme"})
    mock.get(f"{BASE}/rest/api/2/myself",
             json={"displayName": "PM Bot", "timeZone": "Europe/Berlin"})


def project(mock, permissions=None):
    mock.get(f"{BASE}/rest/api/2/project/ABC", json={"key": "ABC", "name": "Alpha"})
    mock.get(f"{BASE}/rest/api/2/mypermissions",
             json={"permissions": permissions or ALL_PERMISSIONS},
             match=[matchers.query_param_matcher({"projectKey": "ABC"}, strict_match=False)])


def search_and_fields(mock):
    mock.get(f"{BASE}/rest/api/3/search/jql", json={"issues": [{"id": "1"}], "isLast": True},
             match=[matchers.query_param_matcher({"maxResults": "5000", "expand": "changelog"},
                                                 strict_match=False)])
    mock.post(f"{BASE}/rest/api/3/search/approximate-count", json={"count": 42})
    mock.get(f"{BASE}/rest/api/2/field", json=FIELDS)


def test_healthy_cloud_site_passes_every_check(mock, tmp_path):
    """A reachable, authenticated site with permissions and fields exits 0 with ✓ lines."""
    site(mock)
    project(mock)
    search_and_fields(mock)
    result = doctor(config(tmp_path))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "✓ credentials: bot@example.com with an API token (basic)" in out
    assert "✓ Jira at https://acme.atlassian.net: Acme 1001.0.0 (Cloud)" in out
    assert "✓ authenticated as PM Bot; Jira time zone Europe/Berlin" in out
    assert "✓ project ABC (Alpha): may read, label and comment" in out
    assert "✓ scope JQL matches about 42 issues" in out
    assert "✓ field story_points: customfield_10016" in out
    assert "✓ field sprint: customfield_10020 (Sprint)" in out
    assert TOKEN not in out
    server_info = [c for c in mock.calls if c.request.url.endswith("/rest/api/2/serverInfo")]
    assert len(server_info) == 1


def test_missing_permission_is_a_failed_check_with_a_fix(mock, tmp_path):
    """A permission the user lacks gets a ✗ line naming it and the fix, and exit 3."""
    site(mock)
    project(mock, dict(ALL_PERMISSIONS, ADD_COMMENTS={"havePermission": False}))
    search_and_fields(mock)
    result = doctor(config(tmp_path))
    assert result.exit_code == 3
    line = next(x for x in result.output.splitlines() if "ADD_COMMENTS" in x)
    assert line.startswith("✗ project ABC: missing ADD_COMMENTS")
    assert "fix: ask a Jira admin" in line


def test_bad_credentials_exit_3_without_leaking_the_token(mock, tmp_path):
    """A 401 from myself is one ✗ line with the credential hint, exit 3, and no token."""
    mock.get(f"{BASE}/rest/api/2/serverInfo", json={"deploymentType": "Cloud"})
    mock.get(f"{BASE}/rest/api/2/myself", status=401,
             json={"message": "Client must be authenticated to access this resource."})
    result = doctor(config(tmp_path))
    assert result.exit_code == 3
    assert "✗ authentication" in result.output and "JIRA_API_TOKEN" in result.output
    assert TOKEN not in result.output


def test_unreachable_site_exits_3(mock, tmp_path):
    """A site that refuses connections gives one ✗ line and exit 3, without further checks."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    mock.get(f"{BASE}/rest/api/2/serverInfo",
             body=requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason)))
    result = doctor(config(tmp_path))
    assert result.exit_code == 3
    assert "✗ Jira at https://acme.atlassian.net: cannot reach" in result.output
    assert len(mock.calls) == 1


def test_rejected_scope_jql_is_a_config_problem(mock, tmp_path):
    """Scope JQL that Jira rejects (400) is a ✗ pointing at [scope], and exit 2."""
    site(mock)
    mock.get(f"{BASE}/rest/api/3/search/jql", status=400,
             json={"errorMessages": ["Error in the JQL Query: Expecting ')'"]})
    mock.get(f"{BASE}/rest/api/2/field", json=FIELDS)
    result = doctor(config(tmp_path, scope='jql = "project = (ABC"'))
    assert result.exit_code == 2, result.output
    assert "✗ scope JQL rejected" in result.output and "fix [scope] jql" in result.output


def test_deployment_mismatch_is_a_config_problem(mock, tmp_path):
    """deployment = "cloud" on a Data Center site is flagged with the fix, and exit 2."""
    site(mock, deployment="DataCenter")
    project(mock)
    mock.get(f"{BASE}/rest/api/3/search/jql", json={"issues": [], "isLast": True})
    mock.get(f"{BASE}/rest/api/2/field", json=FIELDS)
    result = doctor(config(tmp_path, extra_jira='deployment = "cloud"'))
    assert result.exit_code == 2, result.output
    assert "✗ [jira] deployment = 'cloud' but the site says DataCenter" in result.output
    assert "! scope JQL matches no issues" in result.output


def test_missing_config_exits_2(tmp_path):
    """Without a config file doctor exits 2 with the init hint."""
    result = CliRunner(env=ENV).invoke(main, ["--config", str(tmp_path / "none.toml"), "doctor"])
    assert result.exit_code == 2 and "jira-pm init" in result.output


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_doctor_against_a_closed_port_gives_up_within_its_short_budget(tmp_path, monkeypatch):
    """A refused connection retries only for doctor's 15 s (not max_retry_seconds = 300) and
    ends in one readable ✗ line naming host:port, with exit 3."""
    from jira_pm.cli import setup_cmd

    port = closed_port()
    path = tmp_path / "jira-pm.toml"
    path.write_text(f'[jira]\nurl = "http://127.0.0.1:{port}"\nmax_retry_seconds = 300\n'
                    '[scope]\nprojects = ["ABC"]\n')
    clock = {"now": 0.0}
    sleeps: list[float] = []
    made: list[dict] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    def fake_time_client(settings, conn=None, **options):
        made.append(options)
        return make_client(settings, conn, sleep=sleep, clock=lambda: clock["now"], **options)

    make_client = setup_cmd.make_client
    monkeypatch.setattr(setup_cmd, "make_client", fake_time_client)
    result = doctor(str(path))
    assert result.exit_code == 3, result.output
    assert [m["max_retry_seconds"] for m in made] == [15.0]
    assert len(sleeps) >= 2 and sum(sleeps) <= 15  # it did retry, within doctor's budget
    line = next(x for x in result.output.splitlines() if x.startswith("✗ Jira at"))
    assert f"connection refused at 127.0.0.1:{port}" in line
    assert "fix: check [jira] url" in line
    assert "Failed to establish" not in result.output and "HTTPConnection" not in result.output
    assert "authenticat" not in result.output  # no further checks after an unreachable site


def test_doctor_keeps_a_configured_budget_shorter_than_its_own(tmp_path, monkeypatch):
    """max_retry_seconds below 15 s is kept: doctor only ever shortens the budget."""
    from jira_pm.cli import setup_cmd

    made: list[dict] = []
    original = setup_cmd.make_client

    def recording(settings, conn=None, **options):
        made.append(options)
        return original(settings, conn, **options)

    monkeypatch.setattr(setup_cmd, "make_client", recording)
    path = tmp_path / "jira-pm.toml"
    path.write_text(f'[jira]\nurl = "http://127.0.0.1:{closed_port()}"\nmax_retry_seconds = 0\n'
                    '[scope]\nprojects = ["ABC"]\n')
    assert doctor(str(path)).exit_code == 3
    assert [m["max_retry_seconds"] for m in made] == [0.0]


def test_unknown_project_is_a_config_problem_exit_2(mock, tmp_path):
    """A [scope] project Jira does not know is a ✗ with the fix and exit 2, not 3."""
    site(mock)
    mock.get(f"{BASE}/rest/api/2/project/NOPE", status=404,
             json={"errorMessages": ["No project could be found with key 'NOPE'."]})
    mock.get(f"{BASE}/rest/api/3/search/jql", status=400,
             json={"errorMessages": ["The value 'NOPE' does not exist for the field 'project'."]})
    mock.get(f"{BASE}/rest/api/2/field", json=FIELDS)
    mock.get(f"{BASE}/rest/api/3/project/search", json={
        "startAt": 0, "maxResults": 100, "total": 2, "isLast": True,
        "values": [{"key": "SHOP", "name": "Shop"}, {"key": "PAY", "name": "Payments"}]})
    path = config(tmp_path, scope='projects = ["NOPE"]')
    result = doctor(path)
    assert result.exit_code == 2, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("✗ project NOPE"))
    assert "not found or not visible to this user" in line
    assert f"fix: correct [scope] projects in {path} (this user can see PAY, SHOP)" in line


def test_missing_permission_stays_exit_3_beside_a_config_problem(mock, tmp_path):
    """Exit 3 (cannot do the work on Jira) outranks 2: a missing permission is still 3."""
    site(mock)
    project(mock, dict(ALL_PERMISSIONS, EDIT_ISSUES={"havePermission": False}))
    mock.get(f"{BASE}/rest/api/3/search/jql", status=400,
             json={"errorMessages": ["Error in the JQL Query"]})
    mock.get(f"{BASE}/rest/api/2/field", json=FIELDS)
    result = doctor(config(tmp_path, scope='projects = ["ABC"]\njql = "bad ("'))
    assert result.exit_code == 3, result.output
    assert "✗ project ABC: missing EDIT_ISSUES" in result.output


@pytest.mark.parametrize(("jira", "expected"), [
    ({"pat": "pat-5150-x", "deployment": "server"},
     "✓ credentials: personal access token (bearer)"),
    ({"email": "bot@example.com", "api_token": "tok-5150-x", "pat": "pat-5150-x"},
     "✓ credentials: bot@example.com with an API token (basic)"),
    ({}, "! credentials: none set; requests go anonymously"),
])
def test_the_credentials_line_names_the_auth_requests_will_carry(jira, expected):
    """Doctor reports the auth the client sends: a PAT on Server, e-mail + token before a PAT."""
    from jira_pm.cli.setup_cmd import Doctor
    from jira_pm.config import Settings

    lines: list[str] = []
    Doctor(Settings.for_tests(url=BASE, jira=jira), client=None, say=lines.append).credentials()
    assert lines[0].startswith(expected)


def budget_config(tmp_path, budgets: str) -> str:
    path = config(tmp_path)
    with open(path, "a", encoding="utf-8") as out:
        out.write(budgets)
    return path


def issue_type(mock, key: str, type_name: str, level: int, project: str = "ABC"):
    mock.get(f"{BASE}/rest/api/3/issue/{key}",
             json={"key": key, "fields": {"issuetype": {"name": type_name,
                                                        "hierarchyLevel": level},
                                          "project": {"key": project}}})


def test_doctor_checks_each_budget_and_names_a_story_budget_as_a_story(mock, tmp_path):
    """Budgets on an epic, a version and a project pass; one on a story is a ! naming the Story."""
    site(mock)
    project(mock)
    search_and_fields(mock)
    issue_type(mock, "ABC-12", "Epic", 1)
    issue_type(mock, "ABC-5", "Story", 0)
    mock.get(f"{BASE}/rest/api/2/project/ABC/versions", json=[{"id": "50", "name": "1.4"}])
    result = doctor(budget_config(tmp_path, (
        '[[budget]]\nepic = "ABC-12"\nhours = 10\n[[budget]]\nepic = "ABC-5"\nhours = 10\n'
        '[[budget]]\nversion = "1.4"\nproject = "ABC"\nhours = 10\n'
        '[[budget]]\nproject = "ABC"\nhours = 10\n')))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "✓ [[budget]] #1 epic = 'ABC-12': an epic" in lines
    story = next(x for x in lines if "#2" in x)
    assert story.startswith("! [[budget]] #2 epic = 'ABC-5': a Story, not an epic")
    assert "✓ [[budget]] #3 version = '1.4': a version of ABC" in lines
    assert "✓ [[budget]] #4 project = 'ABC': project Alpha" in lines


def test_doctor_fails_budgets_on_missing_or_out_of_scope_subjects_with_exit_2(mock, tmp_path):
    """A budget on a missing issue, an unknown version or an out-of-scope epic is ✗ and exit 2."""
    site(mock)
    project(mock)
    search_and_fields(mock)
    mock.get(f"{BASE}/rest/api/3/issue/ABC-999", status=404,
             json={"errorMessages": ["Issue does not exist or you do not have permission"]})
    issue_type(mock, "OUT-1", "Epic", 1, project="OUT")
    mock.get(f"{BASE}/rest/api/2/project/ABC/versions", json=[{"id": "50", "name": "1.4"}])
    path = budget_config(tmp_path, (
        '[[budget]]\nepic = "ABC-999"\nhours = 10\n[[budget]]\nepic = "OUT-1"\nhours = 10\n'
        '[[budget]]\nversion = "9.9"\nproject = "ABC"\nhours = 10\n'))
    result = doctor(path)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    missing = next(x for x in lines if "#1" in x)
    assert missing.startswith("✗ [[budget]] #1 epic = 'ABC-999': not found or not visible")
    assert f"fix: correct it in {path}" in missing
    outside = next(x for x in lines if "#2" in x)
    assert "outside [scope] projects" in outside and "add OUT to [scope] projects" in outside
    version = next(x for x in lines if "#3" in x)
    assert "no such version in project ABC" in version and "(one of: 1.4)" in version


def test_doctor_sends_the_search_sync_sends(mock, tmp_path):
    """The scope check asks what sync asks: its fields (custom ones included),
    expand=changelog and its page size — not a 1-issue id-only search."""
    from jira_pm.jira.search import CLOUD_MAX_PAGE
    from jira_pm.mapping import discover_fields
    from jira_pm.sync.query import issue_fields

    site(mock)
    project(mock)
    search_and_fields(mock)
    result = doctor(config(tmp_path))
    assert result.exit_code == 0, result.output
    search = next(c for c in mock.calls if "/search/jql" in c.request.url)
    sent = {k: v[0] for k, v in parse_qs(urlsplit(search.request.url).query).items()}
    expected = issue_fields(discover_fields(FIELDS))
    assert sent["fields"].split(",") == expected and "customfield_10016" in expected
    assert sent["expand"] == "changelog" and sent["maxResults"] == str(CLOUD_MAX_PAGE)


def test_a_permission_jira_does_not_report_is_unconfirmed_not_missing(mock, tmp_path):
    """A permission absent from /mypermissions is a "could not confirm" warning, exit 0."""
    site(mock)
    project(mock, {k: v for k, v in ALL_PERMISSIONS.items() if k != "ADD_COMMENTS"})
    search_and_fields(mock)
    result = doctor(config(tmp_path))
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "ADD_COMMENTS" in x)
    assert line.startswith("! project ABC: could not confirm ADD_COMMENTS")
    assert "missing" not in line


def test_a_site_without_mypermissions_is_no_project_problem(mock, tmp_path):
    """A 404 for /mypermissions itself (no such endpoint) right after the project was read is
    a warning naming the endpoint, not a ✗ about the project."""
    site(mock)
    mock.get(f"{BASE}/rest/api/2/project/ABC", json={"key": "ABC", "name": "Alpha"})
    mock.get(f"{BASE}/rest/api/2/mypermissions", status=404,
             json={"message": f"null for uri: {BASE}/rest/api/2/mypermissions",
                   "status-code": 404})
    search_and_fields(mock)
    result = doctor(config(tmp_path))
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "project ABC" in x)
    assert line.startswith("! project ABC (Alpha): found; could not confirm permissions")
    assert "this Jira has no /rest/api/2/mypermissions endpoint" in line
    assert "✗" not in result.output and "key/id" not in result.output


def test_server_setting_on_cloud_fails_the_scope_check_naming_the_deployment(mock, tmp_path):
    """deployment = "server" on Cloud: the scope check says the site is Cloud, not "upgrade
    jira-pm", and doctor exits 2."""
    site(mock)
    project(mock)
    mock.get(f"{BASE}/rest/api/2/search", status=410, json={"errorMessages": ["removed"]})
    mock.get(f"{BASE}/rest/api/2/field", json=FIELDS)
    result = doctor(config(tmp_path, extra_jira='deployment = "server"'))
    assert result.exit_code == 2, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("✗ scope"))
    assert "this Jira is Cloud" in line and "upgrade" not in line


def test_with_both_kinds_of_credentials_doctor_says_which_is_used(mock, tmp_path):
    """JIRA_PAT beside JIRA_EMAIL + JIRA_API_TOKEN: the credentials line names the one sent and
    that the other is ignored, without either secret."""
    site(mock)
    project(mock)
    search_and_fields(mock)
    env = dict(ENV, JIRA_PAT="pat-5150-secret-x")
    result = CliRunner(env=env).invoke(main, ["--config", config(tmp_path), "doctor"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "credentials" in x)
    assert line == ("✓ credentials: bot@example.com with an API token (basic); "
                    "JIRA_PAT is also set and not used")
    assert "pat-5150-secret-x" not in result.output and TOKEN not in result.output


@pytest.mark.parametrize(("deployment", "unused"), [
    ("auto", "JIRA_PAT"), ("server", "JIRA_EMAIL/JIRA_API_TOKEN")])
def test_both_kinds_of_credentials_are_noted_once_on_a_terminal(monkeypatch, deployment,
                                                                unused):
    """A command's client tells a terminal which credentials go unused, in one stderr line
    without the secrets; nothing is said when only one kind is set."""
    from jira_pm.cli import common
    from jira_pm.config import Settings

    said: list[str] = []
    monkeypatch.setattr(common, "note", said.append)
    both = {"email": "bot@example.com", "api_token": "tok-5150-secret", "pat": "pat-5150-secret",
            "deployment": deployment}
    common.make_client(Settings.for_tests(url=BASE, jira=both))
    assert len(said) == 1 and f"{unused} is not used" in said[0]
    assert "5150-secret" not in said[0]
    common.make_client(Settings.for_tests(url=BASE, jira={"pat": "pat-5150-secret"}))
    assert len(said) == 1


def test_doctor_lists_prefix_labels_in_scope_that_jira_pm_leaves_alone(mock, tmp_path,
                                                                        store_path):
    """Prefix labels neither the pack nor the ledger owns are listed as left alone."""
    import json

    from jira_pm.store import ledger
    from jira_pm.store.schema import connect

    site(mock)
    project(mock)
    search_and_fields(mock)
    conn = connect(store_path)
    for issue_id, key, labels in ((1, "ABC-1", ["pm-approved", "pm-overdue", "pm-ignore"]),
                                  (2, "ABC-2", ["pm-approved", "pm-legacy", "backend"]),
                                  (3, "OUT-1", ["pm-elsewhere"])):
        conn.execute(
            "INSERT INTO issues (id, key, project_key, issue_type, status, status_category,"
            " created, updated, labels, raw, synced_at) VALUES (?, ?, ?, 'Task', 'Open', 'new',"
            " '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', ?, '{}',"
            " '2026-11-21T00:00:00+00:00')",
            (issue_id, key, key.split("-")[0], json.dumps(labels)))
    conn.commit()
    ledger.record_done(conn, run_id="r", issue_id=2, issue_key="ABC-2",
                       operation=ledger.OP_LABELS, label="+pm-legacy")
    conn.close()
    result = doctor(config(tmp_path, store=store_path))
    assert result.exit_code == 0, result.output
    assert ("✓ labels: pm-approved (2 issues) have the prefix 'pm-' but are not jira-pm's; "
            "it leaves them alone") in result.output


def test_doctor_fails_a_store_that_holds_another_scope_with_exit_2(mock, tmp_path, store_path):
    """A store claimed by another scope is a failed check naming the fix, not a green run."""
    from jira_pm.store.schema import connect
    from jira_pm.store.sync_state import set_meta

    site(mock)
    project(mock)
    search_and_fields(mock)
    conn = connect(store_path)
    set_meta(conn, "scope", {"projects": ["OPS"], "jql": ""})
    conn.execute(
        "INSERT INTO issues (id, key, project_key, issue_type, status, status_category,"
        " created, updated, labels, raw, synced_at) VALUES (1, 'OPS-1', 'OPS', 'Task', 'Open',"
        " 'new', '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', '[]', '{}',"
        " '2026-11-21T00:00:00+00:00')")
    conn.commit()
    conn.close()
    result = doctor(config(tmp_path, store=store_path))
    assert result.exit_code == 2, result.output
    assert "✗ store: the store " in result.output
    assert "holds the issues of projects OPS, not this config's projects ABC" in result.output
    assert "`jira-pm sync --new-scope`" in result.output
