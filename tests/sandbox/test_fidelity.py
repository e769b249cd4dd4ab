"""Fidelity: sandbox JSON has the keys and value types of responses recorded from real Jira.

Only what jira-pm reads is compared (ids, keys, dates, changelog and worklog
envelopes, sprint values, time tracking, versions, statuses, users, comments,
errors). The recordings are in ../shared/jira-recorded (SOURCES.md says where
each comes from); tests skip when that folder is absent.
"""

from __future__ import annotations

import re

import pytest
import requests
from conftest import load_recorded
from sandbox_support import cloud_shop_fixture, login, server_shop_fixture  # noqa: F401

pytestmark = pytest.mark.integration

JIRA_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
LEGACY_SPRINT = re.compile(
    r"^com\.atlassian\.greenhopper\.service\.sprint\.Sprint@[0-9a-f]+\[(.*)\]$")


def json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def same_keys_and_types(recorded: dict, ours: dict, keys, where: str) -> None:
    """Each key is in both objects with the same JSON type (null matches nothing but null)."""
    for key in keys:
        assert key in recorded, f"{where}: the recording lacks {key!r} (test is wrong)"
        assert key in ours, f"{where}: the sandbox lacks {key!r}"
        assert json_type(recorded[key]) == json_type(ours[key]), (
            f"{where}.{key}: recorded {json_type(recorded[key])}, sandbox {json_type(ours[key])}")


def devlake_cloud_issue(key: str) -> dict:
    data = load_recorded("devlake/cloud_agile_board_issues_expand_changelog.elements.json")
    return next(e["data"] for e in data["elements"] if e["data"]["key"] == key)


def test_cloud_issue_with_changelog_matches_a_recorded_cloud_issue(cloud_shop):
    """A Cloud issue and its changelog have the recorded envelope, history and item shapes."""
    recorded = load_recorded("jirametrics/issue_SP-13_expand_changelog.json")
    ours = login(cloud_shop).get(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1",
                                 params={"expand": "changelog"}).json()
    same_keys_and_types(recorded, ours, ("expand", "id", "self", "key", "fields", "changelog"),
                        "issue")
    same_keys_and_types(recorded["changelog"], ours["changelog"],
                        ("startAt", "maxResults", "total", "histories"), "changelog")
    rec_history, our_history = recorded["changelog"]["histories"][1], ours["changelog"][
        "histories"][0]
    same_keys_and_types(rec_history, our_history, ("id", "author", "created", "items"),
                        "history")
    same_keys_and_types(rec_history["author"], our_history["author"],
                        ("self", "accountId", "emailAddress", "avatarUrls", "displayName",
                         "active", "timeZone", "accountType"), "history.author")
    rec_item = rec_history["items"][1]  # a status change
    our_status = next(i for h in ours["changelog"]["histories"] for i in h["items"]
                      if i["field"] == "status")
    assert list(our_status) == list(rec_item)
    same_keys_and_types(rec_item, our_status, list(rec_item), "status item")
    rec_sprint = next(i for h in recorded["changelog"]["histories"] for i in h["items"]
                      if i["field"] == "Sprint")
    our_sprint = next(i for h in ours["changelog"]["histories"] for i in h["items"]
                      if i["field"] == "Sprint")
    assert list(our_sprint) == list(rec_sprint)
    # An issue added to its first sprint: the empty side is "" in both (not null).
    assert rec_sprint["from"] == our_sprint["from"] == ""
    assert rec_sprint["fromString"] == our_sprint["fromString"] == ""
    assert rec_sprint["fieldId"] == our_sprint["fieldId"] == "customfield_10020"
    for stamp in (rec_history["created"], our_history["created"],
                  recorded["fields"]["created"], ours["fields"]["created"],
                  ours["fields"]["updated"]):
        assert JIRA_TIMESTAMP.match(stamp), stamp


def test_cloud_sprint_versions_points_and_status_match_recorded_fields(cloud_shop):
    """Sprint objects, fix versions, story points and status match a recorded Cloud issue."""
    recorded = devlake_cloud_issue("EE-2")["fields"]
    ours = cloud_shop.issue_json("SHOP-1", api=2)["fields"]
    rec_sprint, our_sprint = recorded["customfield_10020"][0], ours["customfield_10020"][0]
    same_keys_and_types(rec_sprint, our_sprint,
                        ("id", "name", "state", "boardId", "goal", "startDate", "endDate"),
                        "sprint")
    for stamp in (rec_sprint["startDate"], our_sprint["startDate"]):
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", stamp)
    same_keys_and_types(recorded["fixVersions"][0], ours["fixVersions"][0],
                        ("id", "name", "self", "archived", "released", "description",
                         "releaseDate"), "fixVersion")
    same_keys_and_types(recorded["status"], ours["status"],
                        ("self", "description", "iconUrl", "name", "id", "statusCategory"),
                        "status")
    same_keys_and_types(recorded["status"]["statusCategory"], ours["status"]["statusCategory"],
                        ("self", "id", "key", "colorName", "name"), "statusCategory")
    same_keys_and_types(recorded["issuetype"], ours["issuetype"],
                        ("id", "name", "subtask", "hierarchyLevel"), "issuetype")
    points = load_recorded("jirametrics/issue_SP-13_expand_changelog.json")["fields"]
    recorded_points = next(v for k, v in points.items()
                           if k.startswith("customfield_") and isinstance(v, float))
    assert json_type(recorded_points) == json_type(ours["customfield_10016"]) == "number"
    assert recorded["customfield_10016"] is None  # unestimated: null, as the sandbox renders


def test_timetracking_and_worklog_field_match_recorded_cloud_issue(cloud_shop):
    """`timetracking` (full and empty) and the `worklog` envelope match recorded issues."""
    recorded = devlake_cloud_issue("EE-14")["fields"]
    ours = cloud_shop.issue_json("SHOP-1", api=2)["fields"]
    same_keys_and_types(recorded["timetracking"], ours["timetracking"],
                        sorted(recorded["timetracking"]), "timetracking")
    assert devlake_cloud_issue("EE-2")["fields"]["timetracking"] == {}
    assert cloud_shop.issue_json("OPS-1")["fields"]["timetracking"] == {}
    same_keys_and_types(recorded["worklog"], ours["worklog"],
                        ("startAt", "maxResults", "total", "worklogs"), "worklog")
    same_keys_and_types(recorded["worklog"]["worklogs"][0], ours["worklog"]["worklogs"][0],
                        ("id", "self", "author", "updateAuthor", "created", "updated",
                         "started", "timeSpent", "timeSpentSeconds", "issueId"), "worklog[0]")
    for field in ("timespent", "timeoriginalestimate", "timeestimate"):
        same_keys_and_types(recorded, ours, (field,), "fields")


def test_cloud_epic_parent_matches_recorded_parent(cloud_shop):
    """A Cloud story's `parent` (its epic) has the recorded shape."""
    recorded = devlake_cloud_issue("K5-2")["fields"]["parent"]
    ours = cloud_shop.issue_json("SHOP-1", api=2)["fields"]["parent"]
    same_keys_and_types(recorded, ours, ("id", "key", "self", "fields"), "parent")
    same_keys_and_types(recorded["fields"], ours["fields"],
                        ("summary", "status", "priority", "issuetype"), "parent.fields")
    assert ours["fields"]["issuetype"]["hierarchyLevel"] == 1


def test_cloud_changelog_page_items_match_recorded_v3_changelog(cloud_shop):
    """/issue/{id}/changelog values have the recorded Cloud v3 history and item keys."""
    data = load_recorded("devlake/cloud_v3_issue_changelog_small.elements.json")
    elements = data.get("elements") or [e for page in data["pages"].values() for e in page]
    recorded = elements[0].get("data", elements[0])
    ours = login(cloud_shop).get(
        f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/changelog").json()["values"][0]
    same_keys_and_types(recorded, ours, ("id", "author", "created", "items"), "history")
    assert set(ours["items"][0]) == set(recorded["items"][0])
    same_keys_and_types(recorded["items"][0], ours["items"][0], ("field", "fieldtype"), "item")


def test_server_issue_matches_recorded_server_issue(server_shop):
    """A DC issue: changelog, worklog field, versions and users as JRJC recorded them."""
    recorded = load_recorded("jrjc/issue_TST-2_all_expanded.json")
    ours = login(server_shop).get(f"{server_shop.url}/rest/api/2/issue/SHOP-1",
                                  params={"expand": "changelog"}).json()
    same_keys_and_types(recorded, ours, ("expand", "id", "self", "key", "fields", "changelog"),
                        "issue")
    same_keys_and_types(recorded["changelog"], ours["changelog"],
                        ("startAt", "maxResults", "total", "histories"), "changelog")
    rec_history, our_history = recorded["changelog"]["histories"][0], ours["changelog"][
        "histories"][0]
    same_keys_and_types(rec_history, our_history, ("id", "author", "created", "items"),
                        "history")
    same_keys_and_types(rec_history["author"], our_history["author"],
                        ("self", "name", "emailAddress", "avatarUrls", "displayName", "active"),
                        "author")
    assert set(our_history["items"][0]) == set(rec_history["items"][0])
    rec_fields, our_fields = recorded["fields"], ours["fields"]
    same_keys_and_types(rec_fields["worklog"], our_fields["worklog"],
                        ("startAt", "maxResults", "total", "worklogs"), "worklog")
    same_keys_and_types(rec_fields["worklog"]["worklogs"][0], our_fields["worklog"]["worklogs"][0],
                        ("self", "author", "updateAuthor", "created", "updated", "started",
                         "timeSpent", "id"), "worklog[0]")
    same_keys_and_types(rec_fields["fixVersions"][0], our_fields["fixVersions"][0],
                        ("self", "id", "name", "archived", "released"), "fixVersion")
    for key in ("timespent", "timeoriginalestimate", "timeestimate", "created", "updated",
                "labels", "status", "issuetype", "project"):
        same_keys_and_types(rec_fields, our_fields, (key,), "fields")


def test_server_legacy_sprint_strings_match_a_recorded_server_payload(server_shop):
    """DC sprint values are legacy strings with the recorded attributes, in the recorded order."""
    recorded = load_recorded("mattermost-webhooks/webhook_server_issue_comment_edited.json")
    rec_value = recorded["issue"]["fields"]["customfield_10104"][0]
    our_value = server_shop.issue_json("SHOP-1")["fields"]["customfield_10104"][0]
    rec_match, our_match = LEGACY_SPRINT.match(rec_value), LEGACY_SPRINT.match(our_value)
    assert rec_match and our_match, our_value

    def attributes(text):
        return [part.split("=", 1)[0] for part in text.split(",") if "=" in part]

    assert set(attributes(our_match.group(1))) == set(attributes(rec_match.group(1)))
    assert attributes(our_match.group(1))[:4] == attributes(rec_match.group(1))[:4]
    assert "completeDate=<null>" in our_value and "state=ACTIVE" in our_value


def test_server_search_envelope_matches_recorded_search(server_shop):
    """DC /search answers with the recorded envelope keys and types."""
    recorded = load_recorded("jira-ruby/search_v2.json")
    ours = login(server_shop).get(f"{server_shop.url}/rest/api/2/search",
                                  params={"jql": "project = SHOP"}).json()
    same_keys_and_types(recorded, ours, ("expand", "startAt", "maxResults", "total", "issues"),
                        "search")
    same_keys_and_types(recorded["issues"][0], ours["issues"][0],
                        ("expand", "id", "self", "key", "fields"), "search.issues[0]")


def test_worklog_page_matches_recorded_worklog_page(server_shop):
    """/issue/{id}/worklog has the recorded page envelope and worklog keys."""
    recorded = load_recorded("jira-ruby/issue_10002_worklogs.json")
    ours = login(server_shop).get(f"{server_shop.url}/rest/api/2/issue/SHOP-1/worklog").json()
    same_keys_and_types(recorded, ours, ("startAt", "maxResults", "total", "worklogs"), "page")
    same_keys_and_types(recorded["worklogs"][0], ours["worklogs"][0],
                        ("self", "author", "updateAuthor", "created", "updated", "started",
                         "timeSpent", "id"), "worklog")


def test_comment_pages_match_recorded_v2_and_v3_comments(cloud_shop):
    """Comment lists: v2 bodies are strings, v3 bodies ADF documents, as recorded."""
    v2 = load_recorded("atlassian-python-api/issue_comments_v2.json")
    ours_v2 = login(cloud_shop).get(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1/comment").json()
    same_keys_and_types(v2, ours_v2, ("startAt", "maxResults", "total", "comments"), "page")
    same_keys_and_types(v2["comments"][0], ours_v2["comments"][0],
                        ("self", "id", "author", "body", "updateAuthor", "created", "updated",
                         "jsdPublic"), "comment")
    v3 = load_recorded("demisto/issue_comments_v3_adf.json")
    ours_v3 = login(cloud_shop).get(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/comment").json()
    rec_body, our_body = v3["comments"][0]["body"], ours_v3["comments"][0]["body"]
    same_keys_and_types(rec_body, our_body, ("type", "version", "content"), "adf")


def test_server_info_and_fields_match_recorded_cloud_site(cloud_shop):
    """serverInfo and a custom field entry of /field have the recorded Cloud shapes."""
    http = login(cloud_shop)
    recorded = load_recorded("bitovi/serverInfo_cloud.json")
    ours = http.get(f"{cloud_shop.url}/rest/api/2/serverInfo").json()
    same_keys_and_types(recorded, ours, ("baseUrl", "version", "versionNumbers",
                                         "deploymentType", "buildNumber", "serverTime"), "info")
    assert ours["deploymentType"] == recorded["deploymentType"] == "Cloud"
    fields = load_recorded("bitovi/fields_cloud.json")
    rec_sprint = next(f for f in fields if f.get("schema", {}).get("custom", "").endswith(
        ":gh-sprint"))
    our_sprint = next(f for f in http.get(f"{cloud_shop.url}/rest/api/2/field").json()
                      if f["name"] == "Sprint")
    same_keys_and_types(rec_sprint, our_sprint, ("id", "key", "name", "custom", "clauseNames",
                                                 "schema"), "field")
    same_keys_and_types(rec_sprint["schema"], our_sprint["schema"],
                        ("type", "items", "custom", "customId"), "field.schema")
    assert our_sprint["schema"]["custom"] == rec_sprint["schema"]["custom"]


def test_server_fields_name_story_points_and_epic_link_like_a_recorded_dc_site(server_shop):
    """DC /field lists Story Points, Sprint and Epic Link with the recorded custom types."""
    recorded = load_recorded("jirareport/fields_server.json")
    ours = login(server_shop).get(f"{server_shop.url}/rest/api/2/field").json()
    for name in ("Sprint", "Epic Link"):
        rec = next(f for f in recorded if f["name"] == name)
        mine = next(f for f in ours if f["name"] == name)
        assert mine["schema"]["custom"] == rec["schema"]["custom"]
        same_keys_and_types(rec, mine, ("id", "name", "custom", "schema"), name)


@pytest.mark.parametrize(("recording", "call"), [
    ("errors-from-issue-threads/error_404_issue_not_found_or_no_permission_cloud_2019.json",
     lambda site: login(site).get(f"{site.url}/rest/api/3/issue/NOPE-1")),
    ("errors-from-issue-threads/error_401_client_must_be_authenticated_cloud_2019.json",
     lambda site: requests.get(f"{site.url}/rest/api/3/issue/SHOP-1")),
    ("errors-from-issue-threads/error_410_search_endpoint_removed_cloud_2025.json",
     lambda site: login(site).get(f"{site.url}/rest/api/3/search")),
])
def test_error_bodies_equal_the_recorded_ones(cloud_shop, recording, call):
    """404, 401 and 410 bodies are exactly the ones recorded from Jira Cloud."""
    assert call(cloud_shop).json() == load_recorded(recording)


def test_rate_limited_body_matches_the_recorded_429(cloud_shop):
    """A throttled request gets exactly the recorded 429 body."""
    cloud_shop.set_faults(rate_limit=1)
    http = login(cloud_shop)
    answers = [http.get(f"{cloud_shop.url}/rest/api/3/myself") for _ in range(4)]
    throttled = [a for a in answers if a.status_code == 429]
    assert throttled, "four requests in well under a second must exceed a 1/s budget"
    assert throttled[0].json() == load_recorded(
        "errors-from-issue-threads/error_429_rate_limited_cloud_2026.json")


def _recorded_items(field: str) -> list[dict]:
    """Changelog items for ``field`` from the DevLake Cloud capture."""
    data = load_recorded("devlake/cloud_agile_board_issues_expand_changelog.elements.json")
    return [item for element in data["elements"]
            for history in element["data"].get("changelog", {}).get("histories", [])
            for item in history["items"] if item["field"] == field]


def test_work_logged_over_http_records_the_items_jira_records(cloud_shop):
    """timeestimate, timespent and WorklogId items have the recorded keys and string values."""
    login(cloud_shop).post(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1/worklog",
                           json={"timeSpent": "1h"})
    ours = {i["field"]: i for i in
            cloud_shop.issue_json("SHOP-1")["changelog"]["histories"][-1]["items"]}
    for field in ("timeestimate", "timespent", "WorklogId"):
        recorded = _recorded_items(field)[0]
        assert set(ours[field]) == set(recorded), field
        same_keys_and_types(recorded, ours[field], ("field", "fieldtype", "to", "toString"),
                            field)
        assert ours[field]["to"] == ours[field]["toString"]
