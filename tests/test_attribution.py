"""Errors are blamed on what caused them: the deployment, the credentials, the JQL, a parameter
jira-pm chose, or an endpoint the site lacks — and exit with the matching code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from jira_pm.errors import (
    EXIT_JIRA,
    EXIT_USAGE,
    JiraAuthError,
    JiraBadRequest,
    JiraDeploymentMismatch,
    JiraJqlRejected,
    JiraNoSuchEndpoint,
    JiraNotFound,
)
from jira_pm.jira.client import JiraClient
from jira_pm.jira.http import BearerAuth, JiraHttp

BASE = "https://jira.example.test"
NULL_FOR_URI = {"message": f"null for uri: {BASE}/rest/api/3/search/jql", "status-code": 404}
GONE = {"errorMessages": ["The requested API has been removed. Please migrate to the "
                          "/rest/api/3/search/jql API."], "errors": {}}


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def make_client(deployment: str | None, auth=None) -> JiraClient:
    http = JiraHttp(BASE, auth=auth, sleep=lambda s: None, jitter=lambda: 0, max_retry_seconds=0)
    return JiraClient(http, deployment)


def sizes(mock) -> list[str]:
    return [parse_qs(urlsplit(c.request.url).query)["maxResults"][0] for c in mock.calls
            if "/search" in c.request.url]


def server_info(mock, kind: str) -> None:
    mock.get(f"{BASE}/rest/api/2/serverInfo", json={"deploymentType": kind})


# ---- the deployment -----------------------------------------------------------------------


def test_server_setting_against_cloud_says_the_site_is_cloud_and_exits_2(mock):
    """deployment = "server" on a Cloud site: the 410 of /search becomes "this Jira is Cloud"
    with the setting to change, exit 2, not "upgrade jira-pm"."""
    mock.get(f"{BASE}/rest/api/2/search", status=410, json=GONE)
    server_info(mock, "Cloud")
    with pytest.raises(JiraDeploymentMismatch) as info:
        list(make_client("server").search("project = A", ["id"]))
    line = info.value.one_line()
    assert "this Jira is Cloud" in line and '[jira] deployment = "server"' in line
    assert 'deployment = "cloud"' in line and "upgrade" not in line
    assert info.value.exit_code == EXIT_USAGE


def test_cloud_setting_against_data_center_says_the_site_is_data_center(mock):
    """deployment = "cloud" on Data Center: the 404 of /rest/api/3 names the deployment, exit 2."""
    mock.get(f"{BASE}/rest/api/3/search/jql", status=404, json=NULL_FOR_URI)
    server_info(mock, "DataCenter")
    with pytest.raises(JiraDeploymentMismatch) as info:
        list(make_client("cloud").search("project = A", ["id"]))
    line = info.value.one_line()
    assert "this Jira is Server/Data Center" in line and 'deployment = "server"' in line
    assert info.value.exit_code == EXIT_USAGE


def test_a_site_already_read_is_not_asked_again(mock):
    """When serverInfo was read (doctor, a full sync), the mismatch costs no extra request."""
    server_info(mock, "Cloud")
    mock.get(f"{BASE}/rest/api/2/search", status=410, json=GONE)
    client = make_client("server")
    client.server_info()
    with pytest.raises(JiraDeploymentMismatch):
        list(client.search("project = A", ["id"]))
    assert len(mock.calls) == 2


def test_a_410_on_a_matching_deployment_stays_gone(mock):
    """With the deployment right, a 410 is still JiraGone (an endpoint Atlassian removed)."""
    mock.get(f"{BASE}/rest/api/2/search", status=410, json=GONE)
    server_info(mock, "DataCenter")
    with pytest.raises(Exception) as info:
        list(make_client("server").search("project = A", ["id"]))
    assert type(info.value).__name__ == "JiraGone"


# ---- the credentials ----------------------------------------------------------------------


def test_a_pat_refused_by_cloud_gets_the_cloud_credentials_hint(mock):
    """A PAT that Cloud refuses (401) says Cloud takes no PATs and names JIRA_EMAIL and
    JIRA_API_TOKEN; exit 3."""
    server_info(mock, "Cloud")
    mock.get(f"{BASE}/rest/api/2/myself", status=401,
             json={"message": "Client must be authenticated to access this resource."})
    client = make_client(None, auth=BearerAuth("pat-1234-secret"))
    client.server_info()
    with pytest.raises(JiraAuthError) as info:
        client.myself()
    line = info.value.one_line()
    assert "this Jira is Cloud, which does not accept personal access tokens" in line
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in line and "pat-1234-secret" not in line
    assert info.value.exit_code == EXIT_JIRA


def test_a_refused_pat_on_an_unknown_site_says_pats_are_data_center_only(mock):
    """Before the site is known, a refused PAT's hint still says Cloud needs e-mail + token."""
    mock.get(f"{BASE}/rest/api/2/myself", status=401, json={"message": "Unauthorized"})
    with pytest.raises(JiraAuthError) as info:
        make_client("server", auth=BearerAuth("pat-1234-secret")).myself()
    assert "personal access token works only on Jira Server/Data Center" in info.value.one_line()


# ---- 400s: the JQL, or a parameter jira-pm chose ----------------------------------------


def test_a_refused_page_size_is_retried_smaller(mock):
    """A 400 naming maxResults is retried with the limit Jira states, then pages go on."""
    mock.get(f"{BASE}/rest/api/3/search/jql", status=400,
             json={"errorMessages": ["maxResults: must be less than or equal to 1000"]},
             match=[matchers.query_param_matcher({"maxResults": "5000"}, strict_match=False)])
    mock.get(f"{BASE}/rest/api/3/search/jql",
             json={"issues": [{"id": "1"}], "nextPageToken": "t1"},
             match=[matchers.query_param_matcher({"maxResults": "1000"}, strict_match=False)])
    mock.get(f"{BASE}/rest/api/3/search/jql", json={"issues": [{"id": "2"}], "isLast": True},
             match=[matchers.query_param_matcher({"maxResults": "1000", "nextPageToken": "t1"},
                                                 strict_match=False)])
    pages = list(make_client("cloud").search("project = A", ["id"]))
    assert pages == [[{"id": "1"}], [{"id": "2"}]]
    assert sizes(mock) == ["5000", "1000", "1000"]


def test_a_page_size_refused_without_a_limit_is_halved(mock):
    """A Server/DC 400 naming maxResults without a number halves the page until it is taken."""
    refused = {"errorMessages": ["Invalid maxResults value"]}
    mock.get(f"{BASE}/rest/api/2/search", status=400, json=refused,
             match=[matchers.query_param_matcher({"maxResults": "1000"}, strict_match=False)])
    mock.get(f"{BASE}/rest/api/2/search", status=400, json=refused,
             match=[matchers.query_param_matcher({"maxResults": "500"}, strict_match=False)])
    mock.get(f"{BASE}/rest/api/2/search",
             json={"issues": [{"id": "1"}], "maxResults": 250, "total": 1},
             match=[matchers.query_param_matcher({"maxResults": "250"}, strict_match=False)])
    assert list(make_client("server").search("project = A", ["id"])) == [[{"id": "1"}]]
    assert sizes(mock) == ["1000", "500", "250"]


def test_a_parameter_refused_at_every_size_is_blamed_on_jira_pm_not_the_jql(mock):
    """A page size refused down to 1 is a JiraBadRequest about jira-pm's request, not the JQL."""
    mock.get(f"{BASE}/rest/api/2/search", status=400,
             json={"errorMessages": ["maxResults is not supported"]})
    with pytest.raises(JiraBadRequest) as info:
        list(make_client("server").search("project = A", ["id"], page_size=2))
    assert not isinstance(info.value, JiraJqlRejected)
    line = info.value.one_line()
    assert "jira-pm's search parameters, not your JQL" in line and "[scope]" not in line
    assert sizes(mock) == ["2", "1"]


def test_a_jql_error_is_blamed_on_the_jql(mock):
    """A 400 that names no parameter of jira-pm's is JiraJqlRejected (the query itself)."""
    mock.get(f"{BASE}/rest/api/3/search/jql", status=400,
             json={"errorMessages": ["Error in the JQL Query: Expecting ')' but got the end."]})
    with pytest.raises(JiraJqlRejected) as info:
        list(make_client("cloud").search("project = (A", ["id"]))
    assert "Expecting ')'" in info.value.one_line()
    assert info.value.exit_code == EXIT_USAGE


def test_a_400_outside_search_does_not_point_at_scope(mock):
    """A follow-up request's 400 names that request and says nothing of [scope] jql."""
    mock.post(f"{BASE}/rest/api/3/changelog/bulkfetch", status=400,
              json={"errorMessages": ["issueIdsOrKeys: size must be between 1 and 1000"]})
    with pytest.raises(JiraBadRequest) as info:
        make_client("cloud").bulk_changelogs([1, 2])
    line = info.value.one_line()
    assert "POST /rest/api/3/changelog/bulkfetch" in line and "[scope]" not in line


# ---- 404: no such endpoint, or no such thing ----------------------------------------------


@pytest.mark.parametrize(("body", "content_type"), [
    (b'{"message":"null for uri: https://jira.example.test/rest/api/2/mypermissions",'
     b'"status-code":404}', "application/json"),
    (b"<html><head><title>Oops, you've found a dead link.</title></head></html>", "text/html"),
    (b"", "text/plain"),
])
def test_a_404_for_a_path_the_site_lacks_names_the_endpoint(mock, body, content_type):
    """A 404 without Jira's errorMessages (Jersey's "null for uri", an HTML page, nothing)
    says this Jira has no such endpoint, not "check the key/id exists"."""
    mock.get(f"{BASE}/rest/api/2/mypermissions", status=404, body=body,
             content_type=content_type)
    with pytest.raises(JiraNoSuchEndpoint) as info:
        make_client("server").my_permissions("ABC", ["EDIT_ISSUES"])
    line = info.value.one_line()
    assert "this Jira has no /rest/api/2/mypermissions endpoint" in line
    assert "key/id" not in line and not isinstance(info.value, JiraNotFound)


def test_a_404_with_errormessages_is_a_missing_thing(mock):
    """A 404 carrying errorMessages (a missing issue) stays JiraNotFound."""
    mock.get(f"{BASE}/rest/api/2/issue/9", status=404, json={
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {}})
    with pytest.raises(JiraNotFound):
        make_client("server").issue(9)


def test_a_permission_absent_from_mypermissions_is_unknown_not_missing(mock):
    """my_permissions gives None for a key Jira left out, False only for havePermission false."""
    mock.get(f"{BASE}/rest/api/2/mypermissions", json={"permissions": {
        "BROWSE_PROJECTS": {"havePermission": True},
        "EDIT_ISSUES": {"havePermission": False}}})
    held = make_client("server").my_permissions(
        "ABC", ["BROWSE_PROJECTS", "EDIT_ISSUES", "ADD_COMMENTS"])
    assert held == {"BROWSE_PROJECTS": True, "EDIT_ISSUES": False, "ADD_COMMENTS": None}


# ---- in sync: only the search's JQL is blamed on [scope] ----------------------------------


def test_a_follow_up_400_in_sync_is_not_blamed_on_scope(store_path):
    """A 400 from a changelog bulkfetch during sync keeps its own request and message; it is
    not turned into "Jira rejected the sync query … check [scope]"."""
    from test_sync import FakeJira, settings

    from jira_pm.store import connect
    from jira_pm.sync import sync

    class RefusingBulkfetch(FakeJira):
        def bulk_changelogs(self, ids):
            raise JiraBadRequest("POST /rest/api/3/changelog/bulkfetch: Jira rejected the "
                                 "request (400: issueIdsOrKeys: too many)", status=400)

    jira = RefusingBulkfetch()
    jira.add(1, histories=45)  # a truncated changelog: completed by bulkfetch on Cloud
    with pytest.raises(JiraBadRequest) as info:
        sync(settings(store_path), connect(store_path), jira)
    line = info.value.one_line()
    assert "changelog/bulkfetch" in line and "[scope]" not in line


def test_a_jql_400_in_sync_is_blamed_on_scope(store_path):
    """The search's own JQL rejection still becomes a ConfigError pointing at [scope]."""
    from test_sync import FakeJira, settings

    from jira_pm.errors import ConfigError
    from jira_pm.store import connect
    from jira_pm.sync import sync

    class RejectingJql(FakeJira):
        def search(self, jql, fields, expand=(), page_size=None, deferred=False):
            raise JiraJqlRejected("GET /rest/api/3/search/jql: Jira rejected the request "
                                  "(400: Error in the JQL Query)", status=400)
            yield  # a generator, like the real one

    with pytest.raises(ConfigError) as info:
        sync(settings(store_path), connect(store_path), RejectingJql())
    assert "[scope]" in info.value.one_line() and info.value.exit_code == EXIT_USAGE
