"""Contract: every kind of answer the sandbox gives validates against Atlassian's OpenAPI.

Cloud answers are checked against the Cloud platform document (REST v3 paths;
v2 answers differ only in rich-text fields, which the document leaves open),
server answers against the Jira Software DC 10.3 document. Corrections made to
Atlassian's documents, where real Jira disagrees with them, are listed in
openapi_support.py; the 410 of Cloud's removed /search is absent from the Cloud
document (it still lists the endpoint as merely deprecated) and is checked
against the document's ErrorCollection schema instead.
"""

from __future__ import annotations

import json

import pytest
import requests
from openapi_support import reduced_openapi, response_errors
from sandbox_support import login, shop

from jira_pm.sandbox import Sandbox

pytestmark = pytest.mark.integration

ADF = {"type": "doc", "version": 1,
       "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Flagged"}]}]}

# (template, method, path, query, json body[, user]); "{comment}" / "{worklog}" are filled at
# run time; the user is the admin bot unless named.
CLOUD_CASES = [
    ("/rest/api/3/serverInfo", "GET", "/rest/api/3/serverInfo", None, None),
    ("/rest/api/3/myself", "GET", "/rest/api/3/myself", None, None),
    ("/rest/api/3/user", "GET", "/rest/api/3/user", {"accountId": "5b10ac8d82e05b22cc7d0003"},
     None),
    ("/rest/api/3/field", "GET", "/rest/api/3/field", None, None),
    ("/rest/api/3/project/{projectIdOrKey}", "GET", "/rest/api/3/project/SHOP", None, None),
    ("/rest/api/3/project/search", "GET", "/rest/api/3/project/search", {"maxResults": 1},
     None),
    ("/rest/api/3/project/{projectIdOrKey}/versions", "GET", "/rest/api/3/project/SHOP/versions",
     None, None),
    ("/rest/api/3/project/{projectIdOrKey}/version", "GET", "/rest/api/3/project/SHOP/version",
     {"maxResults": 1}, None),
    ("/rest/api/3/status", "GET", "/rest/api/3/status", None, None),
    ("/rest/api/3/mypermissions", "GET", "/rest/api/3/mypermissions",
     {"permissions": "BROWSE_PROJECTS,EDIT_ISSUES,ADD_COMMENTS"}, None),
    ("/rest/api/3/search/jql", "GET", "/rest/api/3/search/jql",
     {"jql": "project = SHOP ORDER BY id", "maxResults": 2}, None),
    ("/rest/api/3/search/jql", "GET", "/rest/api/3/search/jql",
     {"jql": "project in (SHOP, OPS)", "fields": "*all", "expand": "changelog"}, None),
    ("/rest/api/3/search/jql", "POST", "/rest/api/3/search/jql", None,
     {"jql": "key = SHOP-1", "fields": ["summary", "customfield_10020", "parent", "worklog"]}),
    ("/rest/api/3/search/jql", "GET", "/rest/api/3/search/jql", {"jql": "status = Done"}, None),
    ("/rest/api/3/search/approximate-count", "POST", "/rest/api/3/search/approximate-count",
     None, {"jql": "project = SHOP"}),
    ("/rest/api/3/issue/{issueIdOrKey}", "GET", "/rest/api/3/issue/SHOP-1",
     {"expand": "changelog"}, None),
    ("/rest/api/3/issue/{issueIdOrKey}", "GET", "/rest/api/3/issue/SHOP-2", None, None),
    ("/rest/api/3/issue/{issueIdOrKey}", "GET", "/rest/api/3/issue/SHOP-404", None, None),
    ("/rest/api/3/issue/{issueIdOrKey}", "PUT", "/rest/api/3/issue/SHOP-1", None,
     {"update": {"labels": [{"add": "pm-overdue"}]}}),
    ("/rest/api/3/issue/{issueIdOrKey}", "PUT", "/rest/api/3/issue/SHOP-1", None,
     {"fields": {"colour": "red"}}),
    ("/rest/api/3/issue/{issueIdOrKey}/changelog", "GET", "/rest/api/3/issue/SHOP-1/changelog",
     {"maxResults": 2}, None),
    ("/rest/api/3/changelog/bulkfetch", "POST", "/rest/api/3/changelog/bulkfetch", None,
     {"issueIdsOrKeys": ["SHOP-1", "SHOP-2"], "maxResults": 2}),
    ("/rest/api/3/issue/{issueIdOrKey}/worklog", "GET", "/rest/api/3/issue/SHOP-1/worklog",
     None, None),
    ("/rest/api/3/issue/{issueIdOrKey}/worklog", "POST", "/rest/api/3/issue/SHOP-1/worklog",
     None, {"timeSpentSeconds": 1800, "comment": ADF}),
    ("/rest/api/3/issue/{issueIdOrKey}/worklog/{id}", "GET",
     "/rest/api/3/issue/SHOP-1/worklog/{worklog}", None, None),
    ("/rest/api/3/worklog/updated", "GET", "/rest/api/3/worklog/updated", {"since": 0}, None),
    ("/rest/api/3/worklog/list", "POST", "/rest/api/3/worklog/list", None, {"ids": [50000]}),
    ("/rest/api/3/worklog/deleted", "GET", "/rest/api/3/worklog/deleted", {"since": 0}, None),
    ("/rest/api/3/issue/{issueIdOrKey}/comment", "GET", "/rest/api/3/issue/SHOP-1/comment",
     None, None),
    ("/rest/api/3/issue/{issueIdOrKey}/comment", "POST", "/rest/api/3/issue/SHOP-1/comment",
     None, {"body": ADF}),
    ("/rest/api/3/issue/{issueIdOrKey}/comment", "POST", "/rest/api/3/issue/SHOP-1/comment",
     None, {"body": "not adf"}),
    ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "PUT",
     "/rest/api/3/issue/SHOP-1/comment/{comment}", None, {"body": ADF}),
    ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "GET",
     "/rest/api/3/issue/SHOP-1/comment/{comment}", None, None),
    ("/rest/api/3/comment/{commentId}/properties/{propertyKey}", "PUT",
     "/rest/api/3/comment/{comment}/properties/jira-pm", None, {"rule": "OV001"}),
    ("/rest/api/3/comment/{commentId}/properties/{propertyKey}", "GET",
     "/rest/api/3/comment/{comment}/properties/jira-pm", None, None),
    ("/rest/api/3/comment/{commentId}/properties", "GET",
     "/rest/api/3/comment/{comment}/properties", None, None),
    ("/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", "PUT",
     "/rest/api/3/issue/SHOP-1/properties/jira-pm", None, {"fingerprint": "ab"}),
    ("/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", "GET",
     "/rest/api/3/issue/SHOP-1/properties/jira-pm", None, None),
    ("/rest/api/3/issue/{issueIdOrKey}/properties", "GET", "/rest/api/3/issue/SHOP-1/properties",
     None, None),
    ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "DELETE",
     "/rest/api/3/issue/SHOP-1/comment/{comment}", None, None),
    ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "GET",
     "/rest/api/3/issue/SHOP-1/comment/1", None, None),
    ("/rest/api/3/issue/{issueIdOrKey}", "PUT", "/rest/api/3/issue/SHOP-1", None,
     {"fields": {"labels": []}}, "readonly"),
    ("/rest/api/3/issue/{issueIdOrKey}/worklog/{id}", "DELETE",
     "/rest/api/3/issue/SHOP-1/worklog/{worklog}", None, None),
    ("/rest/api/3/issue/{issueIdOrKey}", "DELETE", "/rest/api/3/issue/OPS-1", None, None,
     "readonly"),
    ("/rest/api/3/issue/{issueIdOrKey}", "DELETE", "/rest/api/3/issue/OPS-1", None, None),
]

SERVER_CASES = [
    ("/rest/api/2/serverInfo", "GET", "/rest/api/2/serverInfo", None, None),
    ("/rest/api/2/myself", "GET", "/rest/api/2/myself", None, None),
    ("/rest/api/2/user", "GET", "/rest/api/2/user", {"username": "alice"}, None),
    ("/rest/api/2/field", "GET", "/rest/api/2/field", None, None),
    ("/rest/api/2/project/{projectIdOrKey}", "GET", "/rest/api/2/project/SHOP", None, None),
    ("/rest/api/2/project/{projectIdOrKey}/versions", "GET", "/rest/api/2/project/SHOP/versions",
     None, None),
    ("/rest/api/2/status", "GET", "/rest/api/2/status", None, None),
    ("/rest/api/2/mypermissions", "GET", "/rest/api/2/mypermissions", None, None),
    ("/rest/api/2/search", "GET", "/rest/api/2/search",
     {"jql": "project = SHOP", "expand": "changelog", "fields": "*all"}, None),
    ("/rest/api/2/search", "POST", "/rest/api/2/search", None,
     {"jql": "id > 0 ORDER BY id", "startAt": 1, "maxResults": 2, "fields": ["summary"]}),
    ("/rest/api/2/search", "GET", "/rest/api/2/search", {"jql": "status = Done"}, None),
    ("/rest/api/2/issue/{issueIdOrKey}", "GET", "/rest/api/2/issue/SHOP-1",
     {"expand": "changelog"}, None),
    ("/rest/api/2/issue/{issueIdOrKey}", "PUT", "/rest/api/2/issue/SHOP-1", None,
     {"update": {"labels": [{"remove": "customer"}]}}),
    ("/rest/api/2/issue/{issueIdOrKey}/worklog", "GET", "/rest/api/2/issue/SHOP-1/worklog",
     None, None),
    ("/rest/api/2/issue/{issueIdOrKey}/worklog", "POST", "/rest/api/2/issue/SHOP-1/worklog",
     None, {"timeSpent": "2h", "comment": "pairing"}),
    ("/rest/api/2/worklog/updated", "GET", "/rest/api/2/worklog/updated", {"since": 0}, None),
    ("/rest/api/2/worklog/list", "POST", "/rest/api/2/worklog/list", None, {"ids": [50000]}),
    ("/rest/api/2/worklog/deleted", "GET", "/rest/api/2/worklog/deleted", {"since": 0}, None),
    ("/rest/api/2/issue/{issueIdOrKey}/comment", "GET", "/rest/api/2/issue/SHOP-1/comment",
     None, None),
    ("/rest/api/2/issue/{issueIdOrKey}/comment", "POST", "/rest/api/2/issue/SHOP-1/comment",
     None, {"body": "h3. Flag"}),
    ("/rest/api/2/issue/{issueIdOrKey}/comment/{id}", "PUT",
     "/rest/api/2/issue/SHOP-1/comment/{comment}", None, {"body": "edited"}),
    ("/rest/api/2/issue/{issueIdOrKey}/comment/{id}", "GET",
     "/rest/api/2/issue/SHOP-1/comment/{comment}", None, None),
    ("/rest/api/2/comment/{commentId}/properties/{propertyKey}", "PUT",
     "/rest/api/2/comment/{comment}/properties/jira-pm", None, {"rule": "OV001"}),
    ("/rest/api/2/comment/{commentId}/properties/{propertyKey}", "GET",
     "/rest/api/2/comment/{comment}/properties/jira-pm", None, None),
    ("/rest/api/2/issue/{issueIdOrKey}/properties/{propertyKey}", "GET",
     "/rest/api/2/issue/SHOP-1/properties/none", None, None),
    ("/rest/agile/1.0/board/{boardId}/sprint", "GET", "/rest/agile/1.0/board/1/sprint", None,
     None),
    ("/rest/api/2/issue/{issueIdOrKey}/comment/{id}", "DELETE",
     "/rest/api/2/issue/SHOP-1/comment/{comment}", None, None),
    ("/rest/api/2/issue/{issueIdOrKey}", "GET", "/rest/api/2/issue/NOPE-1", None, None),
    ("/rest/api/2/issue/{issueIdOrKey}", "PUT", "/rest/api/2/issue/SHOP-1", None,
     {"fields": {"labels": []}}, "readonly"),
    ("/rest/api/2/issue/{issueIdOrKey}/worklog/{id}", "GET",
     "/rest/api/2/issue/SHOP-1/worklog/{worklog}", None, None),
    ("/rest/api/2/issue/{issueIdOrKey}/worklog/{id}", "DELETE",
     "/rest/api/2/issue/SHOP-1/worklog/{worklog}", None, None),
    ("/rest/api/2/issue/{issueIdOrKey}", "DELETE", "/rest/api/2/issue/OPS-1", None, None),
]


@pytest.fixture(scope="module")
def cloud_contract():
    """The Cloud document reduced to the tested paths, and a Cloud SHOP site."""
    openapi = reduced_openapi("cloud", sorted({c[0] for c in CLOUD_CASES}))
    with Sandbox(flavor="cloud", scenario=shop()) as site:
        yield openapi, site


@pytest.fixture(scope="module")
def server_contract():
    """The DC 10.3 document reduced to the tested paths, and a Data Center SHOP site."""
    openapi = reduced_openapi("server", sorted({c[0] for c in SERVER_CASES}))
    with Sandbox(flavor="server", scenario=shop()) as site:
        yield openapi, site


def _run(site, method, path, query, body, made, user="admin"):
    if "{comment}" in path and "comment" not in made:
        made["comment"] = site.add_comment("SHOP-1", "seed comment")
    if "{worklog}" in path and "worklog" not in made:
        made["worklog"] = site.add_worklog("SHOP-1", spent="1h")
    path = path.replace("{comment}", str(made.get("comment"))).replace(
        "{worklog}", str(made.get("worklog")))
    return login(site, user).request(method, site.url + path, params=query, json=body)


def _case_id(case):
    user = f" as {case[5]}" if len(case) > 5 else ""
    return f"{case[1]} {case[2]} {json.dumps(case[3] or case[4] or '')[:40]}{user}"


@pytest.mark.parametrize("case", CLOUD_CASES, ids=[_case_id(c) for c in CLOUD_CASES])
def test_cloud_answers_match_the_cloud_document(cloud_contract, case):
    """Each Cloud answer (success and error) validates against Atlassian's Cloud document."""
    openapi, site = cloud_contract
    made = site.__dict__.setdefault("_contract_made", {})
    answer = _run(site, *case[1:5], made, *case[5:])
    assert answer.status_code < 500
    assert response_errors(openapi, answer) == []


@pytest.mark.parametrize("case", SERVER_CASES, ids=[_case_id(c) for c in SERVER_CASES])
def test_server_answers_match_the_dc_document(server_contract, case):
    """Each Data Center answer validates against Atlassian's DC 10.3 document."""
    openapi, site = server_contract
    made = site.__dict__.setdefault("_contract_made", {})
    answer = _run(site, *case[1:5], made, *case[5:])
    assert answer.status_code < 500
    assert response_errors(openapi, answer) == []


def test_the_validator_rejects_a_wrong_shape(cloud_contract):
    """The contract check is not vacuous: an issue id rendered as a number fails it."""
    openapi, site = cloud_contract
    answer = login(site).get(f"{site.url}/rest/api/3/issue/SHOP-1")
    body = answer.json()
    body["id"] = int(body["id"])
    assert response_errors(openapi, answer, json.dumps(body).encode()) != []


def test_cloud_gone_search_and_401_bodies_match_error_schemas(cloud_contract):
    """The 410 and 401 bodies have the shapes of Jira's ErrorCollection and auth error."""
    from openapi_support import _full_spec

    _, site = cloud_contract
    schema = _full_spec("cloud")["components"]["schemas"]["ErrorCollection"]
    gone = login(site).get(f"{site.url}/rest/api/3/search", params={"jql": "project = SHOP"})
    assert gone.status_code == 410
    assert set(gone.json()) <= set(schema["properties"])
    assert all(isinstance(m, str) for m in gone.json()["errorMessages"])
    unauthorized = requests.get(f"{site.url}/rest/api/3/myself")
    assert unauthorized.status_code == 401 and set(unauthorized.json()) == {"message",
                                                                            "status-code"}
