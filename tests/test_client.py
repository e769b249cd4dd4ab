"""Tests of jira_pm.jira.client and jira_pm.jira.search against mocked Jira answers."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from jira_pm.config import Settings
from jira_pm.errors import AmbiguousWriteError, JiraBadRequest, JiraNotFound
from jira_pm.jira.client import JiraClient
from jira_pm.jira.http import JiraHttp
from jira_pm.jira.search import PendingPage, by_id, strip_order_by

BASE = "https://jira.example.test"


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def make_client(deployment: str | None, **kwargs) -> JiraClient:
    http = JiraHttp(BASE, sleep=lambda s: None, jitter=lambda: 0, max_retry_seconds=5)
    return JiraClient(http, deployment, **kwargs)


def query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def issues(*ids: int) -> list[dict]:
    return [{"id": str(i), "key": f"PM-{i}"} for i in ids]


# ---- construction and deployment ----------------------------------------------------------


def test_constructor_never_calls_the_network(mock):
    """Building a client, from settings or by hand, sends no request."""
    settings = Settings.for_tests(url=BASE, jira={"email": "a@b.c", "api_token": "tok-1234"})
    client = JiraClient.from_settings(settings.jira)
    make_client(None)
    assert client.http.requests_sent == 0 and len(mock.calls) == 0


def test_deployment_is_detected_once_and_cached(mock):
    """deploymentType Cloud → "Cloud"; serverInfo is fetched once however often it is asked."""
    mock.get(f"{BASE}/rest/api/2/serverInfo", json={"deploymentType": "Cloud"})
    client = make_client(None)
    assert client.deployment() == "Cloud" and client.is_cloud and client.deployment() == "Cloud"
    assert len(mock.calls) == 1


def test_server_info_records_the_deployment_so_it_is_not_asked_again(mock):
    """A caller's own serverInfo request also settles the deployment: no second request."""
    mock.get(f"{BASE}/rest/api/2/serverInfo", json={"deploymentType": "Cloud"})
    client = make_client("auto")
    assert client.server_info()["deploymentType"] == "Cloud"
    assert client.is_cloud and client.deployment() == "Cloud"
    assert len(mock.calls) == 1


def test_data_center_is_server_style(mock):
    """deploymentType DataCenter (anything but Cloud) makes the client server-style."""
    mock.get(f"{BASE}/rest/api/2/serverInfo", json={"deploymentType": "DataCenter"})
    assert make_client("auto").deployment() == "Server"


def test_configured_deployment_skips_detection(mock):
    """An explicit deployment never asks serverInfo."""
    assert make_client("cloud").is_cloud and not make_client("server").is_cloud
    assert len(mock.calls) == 0


# ---- JQL helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jql", "stripped"),
    [
        ("project = A ORDER BY created DESC", "project = A"),
        ("project = A order   by rank", "project = A"),
        ('summary ~ "order by" AND project = A', 'summary ~ "order by" AND project = A'),
        ("summary ~ 'x\\' order by' ORDER BY key", "summary ~ 'x\\' order by'"),
        ("ORDER BY id", ""),
        ("reorder = 1", "reorder = 1"),
    ],
)
def test_strip_order_by_respects_quotes(jql, stripped):
    """strip_order_by removes the ORDER BY clause but not text inside quotes."""
    assert strip_order_by(jql) == stripped


def test_by_id_wraps_and_orders():
    """by_id parenthesises the JQL, adds the keyset bound and orders by id ascending."""
    assert by_id("a = 1 OR b = 2 ORDER BY key") == "(a = 1 OR b = 2) ORDER BY id ASC"
    assert by_id("a = 1", after_id=42) == "(a = 1) AND id > 42 ORDER BY id ASC"


# ---- Cloud search -------------------------------------------------------------------------


def test_cloud_search_follows_next_page_token(mock):
    """Cloud search chains nextPageToken pages via /rest/api/3/search/jql and stops at isLast."""
    url = f"{BASE}/rest/api/3/search/jql"
    mock.get(url, json={"issues": issues(1, 2), "nextPageToken": "t1"},
             match=[matchers.query_param_matcher(
                 {"jql": "(project = PM) ORDER BY id ASC", "maxResults": "5000",
                  "fields": "summary,labels", "expand": "changelog"})])
    mock.get(url, json={"issues": issues(3, 4), "nextPageToken": "t2"},
             match=[matchers.query_param_matcher({"nextPageToken": "t1"}, strict_match=False)])
    mock.get(url, json={"issues": issues(5), "isLast": True},
             match=[matchers.query_param_matcher({"nextPageToken": "t2"}, strict_match=False)])
    pages = list(make_client("cloud").search("project = PM ORDER BY rank", ["summary", "labels"],
                                             expand=["changelog"]))
    assert [[i["id"] for i in page] for page in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert not any(urlsplit(c.request.url).path == "/rest/api/3/search" for c in mock.calls)


def cloud_token_pages(mock) -> None:
    url = f"{BASE}/rest/api/3/search/jql"
    mock.get(url, json={"issues": issues(1, 2), "nextPageToken": "t1"},
             match=[matchers.query_param_matcher({"maxResults": "5000"}, strict_match=False)])
    mock.get(url, json={"issues": issues(3), "isLast": True},
             match=[matchers.query_param_matcher({"nextPageToken": "t1"}, strict_match=False)])


def test_a_deferred_search_yields_pages_its_consumer_decodes(mock):
    """deferred=True: the pages come undecoded; the consumer's decode tells the search
    where the next page starts."""
    cloud_token_pages(mock)
    pages = make_client("cloud").search("project = PM", ["summary"], deferred=True)
    first = next(pages)
    assert isinstance(first, PendingPage)
    assert [i["id"] for i in first.issues()] == ["1", "2"]
    assert [i["id"] for i in next(pages).issues()] == ["3"]
    assert next(pages, None) is None


def test_a_deferred_page_nobody_decoded_is_decoded_by_the_search_itself(mock):
    """A consumer that asks for the next page without decoding this one gets it anyway."""
    cloud_token_pages(mock)
    pages = list(make_client("cloud").search("project = PM", ["summary"], deferred=True))
    assert [[i["id"] for i in page.issues()] for page in pages] == [["1", "2"], ["3"]]


def test_merged_stops_a_deferred_search_whose_page_is_an_html_login_page(mock):
    """A page that cannot be decoded raises in the consumer and ends the search's thread."""
    from jira_pm.errors import JiraUnexpectedResponse
    from jira_pm.sync.pages import merged

    mock.get(f"{BASE}/rest/api/3/search/jql", body="<html><title>Log in</title></html>",
             content_type="text/html")
    pages = make_client("cloud").search("project = PM", ["summary"], deferred=True)
    stream = merged([(0, pages)])
    index, page = next(stream)
    with pytest.raises(JiraUnexpectedResponse, match="HTML page titled 'Log in'"):
        page.issues()
    assert next(stream) == (0, None)  # the search ended instead of waiting for ever
    assert next(stream, None) is None


def test_cloud_search_posts_long_field_lists(mock):
    """A long field list goes in a POST body (a read, so retried on 5xx) instead of the URL."""
    fields = [f"customfield_{n}" for n in range(10000, 10200)]
    url = f"{BASE}/rest/api/3/search/jql"
    mock.post(url, status=503)
    mock.post(url, json={"issues": issues(7), "isLast": True},
              match=[matchers.json_params_matcher(
                  {"jql": "(project = PM) ORDER BY id ASC", "maxResults": 100,
                   "fields": fields})])
    pages = list(make_client("cloud").search("project = PM", fields, page_size=100))
    assert pages == [issues(7)] and len(mock.calls) == 2


def test_cloud_search_ids_and_empty_result(mock):
    """search_ids yields ints from id-only pages; an empty result yields nothing."""
    url = f"{BASE}/rest/api/3/search/jql"
    mock.get(url, json={"issues": [{"id": "10"}, {"id": 11}], "nextPageToken": "n"},
             match=[matchers.query_param_matcher({"fields": "id"}, strict_match=False)])
    mock.get(url, json={"issues": [], "isLast": True})
    client = make_client("cloud")
    assert list(client.search_ids("project = PM")) == [[10, 11]]


def test_approximate_count(mock):
    """Cloud POSTs approximate-count without ORDER BY; Server answers None without a request."""
    mock.post(f"{BASE}/rest/api/3/search/approximate-count", json={"count": 1234},
              match=[matchers.json_params_matcher({"jql": "project = PM"})])
    assert make_client("cloud").approximate_count("project = PM ORDER BY key") == 1234
    assert make_client("server").approximate_count("project = PM") is None


# ---- Server search ------------------------------------------------------------------------


def fake_server_search(all_ids: list[int], cap: int):
    """A /rest/api/2/search over a mutable list of ids that caps maxResults, like DC."""

    def answer(request):
        q = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        start, size = int(q["startAt"]), min(int(q["maxResults"]), cap)
        bound = re.search(r"id > (\d+)", q["jql"])
        matching = [i for i in all_ids if i > int(bound.group(1))] if bound else all_ids
        page = matching[start:start + size]
        return 200, {}, json.dumps({"startAt": start, "maxResults": size,
                                    "total": len(matching), "issues": issues(*page)})
    return answer


def test_server_search_pages_by_key_with_the_granted_page_size(mock):
    """Server pages are keyset pages (id > last, startAt 0) of the size the server granted."""
    mock.add_callback("GET", f"{BASE}/rest/api/2/search",
                      callback=fake_server_search([1, 2, 3, 4, 5], cap=2))
    pages = list(make_client("server").search("project = PM ORDER BY created", ["summary"]))
    assert [[int(i["id"]) for i in p] for p in pages] == [[1, 2], [3, 4], [5]]
    sent = [(q["startAt"], q["maxResults"], q["jql"]) for q in map(query, mock.calls)]
    assert sent == [("0", "1000", "(project = PM) ORDER BY id ASC"),
                    ("0", "2", "(project = PM) AND id > 2 ORDER BY id ASC"),
                    ("0", "2", "(project = PM) AND id > 4 ORDER BY id ASC")]


def test_an_issue_deleted_between_server_pages_costs_no_other_issue(mock):
    """An issue deleted after its page was served shifts nothing: every other issue comes."""
    ids = [1, 2, 3, 4, 5, 6, 7]
    mock.add_callback("GET", f"{BASE}/rest/api/2/search",
                      callback=fake_server_search(ids, cap=3))
    pages = make_client("server").search("project = PM", ["summary"])
    first = next(pages)
    ids.remove(2)  # deleted in Jira while jira-pm saves the first page
    rest = [int(i["id"]) for page in pages for i in page]
    assert [int(i["id"]) for i in first] == [1, 2, 3] and rest == [4, 5, 6, 7]


# ---- sub-resources ------------------------------------------------------------------------


def test_cloud_changelog_is_paged(mock):
    """Cloud changelog follows /issue/{id}/changelog pages until isLast."""
    url = f"{BASE}/rest/api/3/issue/10001/changelog"
    mock.get(url, json={"startAt": 0, "maxResults": 2, "total": 3, "isLast": False,
                        "values": [{"id": "1"}, {"id": "2"}]},
             match=[matchers.query_param_matcher({"startAt": "0", "maxResults": "100"})])
    mock.get(url, json={"startAt": 2, "maxResults": 2, "total": 3, "isLast": True,
                        "values": [{"id": "3"}]},
             match=[matchers.query_param_matcher({"startAt": "2", "maxResults": "100"})])
    assert [h["id"] for h in make_client("cloud").changelog(10001)] == ["1", "2", "3"]


def test_server_changelog_uses_expand(mock):
    """Server changelog reads expand=changelog histories from the issue."""
    mock.get(f"{BASE}/rest/api/2/issue/10001",
             json={"id": "10001", "changelog": {"total": 1, "histories": [{"id": "9"}]}},
             match=[matchers.query_param_matcher({"fields": "summary", "expand": "changelog"})])
    assert make_client("server").changelog(10001) == [{"id": "9"}]


def test_bulk_changelogs_batches_and_follows_tokens(mock):
    """Cloud bulk_changelogs POSTs bulkfetch with ids as strings and follows nextPageToken."""
    url = f"{BASE}/rest/api/3/changelog/bulkfetch"
    mock.post(url, json={"issueChangeLogs": [{"issueId": "1", "changeHistories": [{"id": "a"}]}],
                         "nextPageToken": "p2"},
              match=[matchers.json_params_matcher(
                  {"issueIdsOrKeys": ["1", "2", "3"], "maxResults": 10000})])
    mock.post(url, json={"issueChangeLogs": [{"issueId": "1", "changeHistories": [{"id": "b"}]},
                                             {"issueId": "2", "changeHistories": [{"id": "c"}]}]},
              match=[matchers.json_params_matcher(
                  {"issueIdsOrKeys": ["1", "2", "3"], "maxResults": 10000,
                   "nextPageToken": "p2"})])
    result = make_client("cloud").bulk_changelogs([1, 2, 3])
    assert result == {1: [{"id": "a"}, {"id": "b"}], 2: [{"id": "c"}], 3: []}


def test_worklogs_are_paged(mock):
    """worklogs follows startAt pages until total is reached."""
    url = f"{BASE}/rest/api/2/issue/7/worklog"
    mock.get(url, json={"startAt": 0, "maxResults": 2, "total": 3,
                        "worklogs": [{"id": "1"}, {"id": "2"}]})
    mock.get(url, json={"startAt": 2, "maxResults": 2, "total": 3, "worklogs": [{"id": "3"}]},
             match=[matchers.query_param_matcher({"startAt": "2"}, strict_match=False)])
    assert [w["id"] for w in make_client("server").worklogs(7)] == ["1", "2", "3"]


def test_worklogs_updated_since_lists_changed_worklogs(mock):
    """worklogs_updated_since pages /worklog/updated by until and fetches them via /worklog/list."""
    mock.get(f"{BASE}/rest/api/2/worklog/updated",
             json={"values": [{"worklogId": 5}, {"worklogId": 6}], "until": 2000,
                   "lastPage": False},
             match=[matchers.query_param_matcher({"since": "1000"})])
    mock.get(f"{BASE}/rest/api/2/worklog/updated",
             json={"values": [{"worklogId": 7}], "until": 3000, "lastPage": True},
             match=[matchers.query_param_matcher({"since": "2000"})])
    mock.post(f"{BASE}/rest/api/2/worklog/list", json=[{"id": "5"}, {"id": "6"}],
              match=[matchers.json_params_matcher({"ids": [5, 6]})])
    mock.post(f"{BASE}/rest/api/2/worklog/list", json=[{"id": "7"}],
              match=[matchers.json_params_matcher({"ids": [7]})])
    pages = list(make_client("cloud").worklogs_updated_since(1000))
    assert pages == [[{"id": "5"}, {"id": "6"}], [{"id": "7"}]]


def test_issue_not_found(mock):
    """issue() raises JiraNotFound on a 404 and passes fields and expand."""
    mock.get(f"{BASE}/rest/api/3/issue/PM-1", status=404,
             json={"errorMessages": ["Issue does not exist or you do not have permission"]},
             match=[matchers.query_param_matcher({"fields": "id,key", "expand": "changelog"})])
    with pytest.raises(JiraNotFound):
        make_client("cloud").issue("PM-1", fields=["id", "key"], expand=["changelog"])


def test_my_permissions(mock):
    """my_permissions asks mypermissions for the keys and answers key → bool (None: not
    reported)."""
    mock.get(f"{BASE}/rest/api/2/mypermissions",
             json={"permissions": {"BROWSE_PROJECTS": {"havePermission": True},
                                   "ADD_COMMENTS": {"havePermission": False}}},
             match=[matchers.query_param_matcher(
                 {"projectKey": "PM", "permissions": "BROWSE_PROJECTS,ADD_COMMENTS,EDIT_ISSUES"})])
    assert make_client("server").my_permissions(
        "PM", ["BROWSE_PROJECTS", "ADD_COMMENTS", "EDIT_ISSUES"]) == {
        "BROWSE_PROJECTS": True, "ADD_COMMENTS": False, "EDIT_ISSUES": None}


def test_cloud_projects_are_paged(mock):
    """Cloud projects() pages /project/search until isLast."""
    url = f"{BASE}/rest/api/3/project/search"
    mock.get(url, json={"values": [{"key": "A"}], "isLast": False, "total": 2})
    mock.get(url, json={"values": [{"key": "B"}], "isLast": True, "total": 2})
    assert [p["key"] for p in make_client("cloud").projects()] == ["A", "B"]


# ---- writes -------------------------------------------------------------------------------


def test_edit_labels_sends_one_put_of_add_and_remove(mock):
    """edit_labels sends one PUT with update.labels add/remove and notifyUsers=false on request."""
    mock.put(f"{BASE}/rest/api/2/issue/10001", status=204,
             match=[matchers.json_params_matcher(
                 {"update": {"labels": [{"add": "pm-overdue"}, {"remove": "pm-at-risk"}]}}),
                 matchers.query_param_matcher({"notifyUsers": "false"})])
    client = make_client("cloud")
    client.edit_labels(10001, ["pm-overdue"], ["pm-at-risk"], notify_users=False)
    client.edit_labels(10001, [], [])  # nothing to change: no request
    assert len(mock.calls) == 1


def test_comments_are_paged_oldest_first(mock):
    """comments() reads every page of /issue/{id}/comment ordered by created."""
    url = f"{BASE}/rest/api/2/issue/3/comment"
    mock.get(url, json={"startAt": 0, "maxResults": 1, "total": 2, "comments": [{"id": "1"}]},
             match=[matchers.query_param_matcher({"orderBy": "created"}, strict_match=False)])
    mock.get(url, json={"startAt": 1, "maxResults": 1, "total": 2, "comments": [{"id": "2"}]})
    assert [c["id"] for c in make_client("server").comments(3)] == ["1", "2"]


def test_add_comment_picks_the_api_by_body(mock):
    """A wiki string goes to v2, an ADF dict to v3; ADF to a server is refused."""
    adf = {"type": "doc", "version": 1, "content": []}
    mock.post(f"{BASE}/rest/api/2/issue/1/comment", status=201, json={"id": "100"},
              match=[matchers.json_params_matcher({"body": "*hi*"})])
    mock.post(f"{BASE}/rest/api/3/issue/1/comment", status=201, json={"id": "101"},
              match=[matchers.json_params_matcher({"body": adf})])
    cloud = make_client("cloud")
    assert cloud.add_comment(1, "*hi*")["id"] == "100"
    assert cloud.add_comment(1, adf)["id"] == "101"
    with pytest.raises(JiraBadRequest):
        make_client("server").add_comment(1, adf)


def test_add_comment_is_not_retried_after_a_dropped_connection(mock):
    """A comment POST whose connection dropped raises AmbiguousWriteError after one call."""
    mock.post(f"{BASE}/rest/api/2/issue/1/comment",
              body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousWriteError):
        make_client("server").add_comment(1, "text")
    assert len(mock.calls) == 1


def test_update_and_delete_comment(mock):
    """update_comment PUTs the new body; delete_comment DELETEs the comment."""
    mock.put(f"{BASE}/rest/api/2/issue/1/comment/100", json={"id": "100"},
             match=[matchers.json_params_matcher({"body": "new"})])
    mock.delete(f"{BASE}/rest/api/2/issue/1/comment/100", status=204)
    client = make_client("cloud")
    assert client.update_comment(1, 100, "new") == {"id": "100"}
    assert client.delete_comment(1, 100) is None


def test_update_comment_sends_notify_users_false_on_request(mock):
    """update_comment(notify_users=False) adds ?notifyUsers=false; by default no query at all."""
    adf = {"type": "doc", "version": 1, "content": []}
    mock.put(f"{BASE}/rest/api/3/issue/1/comment/100", json={"id": "100"},
             match=[matchers.json_params_matcher({"body": adf}),
                    matchers.query_param_matcher({"notifyUsers": "false"})])
    mock.put(f"{BASE}/rest/api/2/issue/1/comment/101", json={"id": "101"},
             match=[matchers.query_param_matcher({})])
    client = make_client("cloud")
    assert client.update_comment(1, 100, adf, notify_users=False) == {"id": "100"}
    assert client.update_comment(1, 101, "text") == {"id": "101"}
    assert query(mock.calls[0]) == {"notifyUsers": "false"} and query(mock.calls[1]) == {}


def test_comment_properties(mock):
    """set_comment_property PUTs the value; get returns it, or None when absent."""
    url = f"{BASE}/rest/api/2/comment/100/properties/jira-pm"
    mock.put(url, status=200, match=[matchers.json_params_matcher({"fp": "abc"})])
    mock.get(url, json={"key": "jira-pm", "value": {"fp": "abc"}})
    mock.get(f"{BASE}/rest/api/2/comment/101/properties/jira-pm", status=404,
             json={"errorMessages": ["not found"]})
    client = make_client("server")
    client.set_comment_property(100, "jira-pm", {"fp": "abc"})
    assert client.get_comment_property(100, "jira-pm") == {"fp": "abc"}
    assert client.get_comment_property(101, "jira-pm") is None


def test_search_id_ranges_split_the_matching_ids(mock):
    """search_id_ranges reads the lowest and highest id and returns disjoint covering ranges."""
    url = f"{BASE}/rest/api/3/search/jql"
    mock.get(url, json={"issues": [{"id": "100"}], "nextPageToken": "x"},
             match=[matchers.query_param_matcher(
                 {"jql": "(project = PM) ORDER BY id ASC", "maxResults": "1", "fields": "id"})])
    mock.get(url, json={"issues": [{"id": "109"}], "nextPageToken": "y"},
             match=[matchers.query_param_matcher(
                 {"jql": "(project = PM) ORDER BY id DESC", "maxResults": "1", "fields": "id"})])
    ranges = make_client("cloud").search_id_ranges("project = PM ORDER BY key", 3)
    assert ranges == ["(project = PM) AND id >= 100 AND id < 103",
                      "(project = PM) AND id >= 103 AND id < 107",
                      "(project = PM) AND id >= 107 AND id < 110"]


def test_search_id_ranges_of_nothing(mock):
    """No matching issue gives no ranges."""
    mock.get(f"{BASE}/rest/api/2/search", json={"issues": [], "total": 0})
    mock.get(f"{BASE}/rest/api/2/search", json={"issues": [], "total": 0})
    assert make_client("server").search_id_ranges("project = PM", 4) == []
