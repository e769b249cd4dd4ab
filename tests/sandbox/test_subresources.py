"""Changelog, worklog, comment and property endpoints over real HTTP."""

from __future__ import annotations

import pytest
from sandbox_support import (  # noqa: F401
    cloud_generated_fixture,
    cloud_shop_fixture,
    login,
    server_shop_fixture,
)

pytestmark = pytest.mark.integration

ADF = {"type": "doc", "version": 1,
       "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Flagged"}]}]}


def _heavy(site):
    return next(i for i in site.state.issues.values() if len(i.histories) > 40
                and len(i.worklogs) > 20)


def test_cloud_changelog_pages_cover_every_history(cloud_generated):
    """/issue/{id}/changelog pages, oldest first, add up to the whole changelog."""
    heavy = _heavy(cloud_generated)
    http, start, ids = login(cloud_generated), 0, []
    while True:
        page = http.get(f"{cloud_generated.url}/rest/api/3/issue/{heavy.id}/changelog",
                        params={"startAt": start, "maxResults": 15}).json()
        ids += [h["id"] for h in page["values"]]
        assert page["total"] == len(heavy.histories)
        if page["isLast"]:
            assert "nextPage" not in page
            break
        assert page["nextPage"].endswith(f"startAt={start + 15}&maxResults=15")
        start += 15
    assert ids == [str(h.id) for h in heavy.histories]


def test_bulkfetch_pages_changelogs_of_several_issues(cloud_generated):
    """changelog/bulkfetch returns every history of the asked issues across token pages."""
    issues = sorted(cloud_generated.state.issues.values(), key=lambda i: -len(i.histories))[:3]
    http, token, got = login(cloud_generated), None, {}
    while True:
        body = {"issueIdsOrKeys": [i.key for i in issues], "maxResults": 30}
        if token:
            body["nextPageToken"] = token
        page = http.post(f"{cloud_generated.url}/rest/api/3/changelog/bulkfetch",
                         json=body).json()
        for log in page["issueChangeLogs"]:
            got.setdefault(log["issueId"], []).extend(h["id"] for h in log["changeHistories"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert got == {str(i.id): [str(h.id) for h in i.histories] for i in issues}


def test_bulkfetch_filters_items_by_field_id(cloud_shop):
    """fieldIds keeps only histories with items on those fields."""
    page = login(cloud_shop).post(f"{cloud_shop.url}/rest/api/3/changelog/bulkfetch",
                                  json={"issueIdsOrKeys": ["SHOP-1"],
                                        "fieldIds": ["customfield_10020"]}).json()
    [log] = page["issueChangeLogs"]
    [history] = log["changeHistories"]
    assert history["items"][0]["field"] == "Sprint"
    assert history["items"][0]["toString"] == "SHOP Sprint 7"


def test_changelog_endpoints_are_cloud_only(server_shop):
    """Data Center has no /changelog sub-resource or bulkfetch: 404."""
    http = login(server_shop)
    assert http.get(f"{server_shop.url}/rest/api/2/issue/SHOP-1/changelog").status_code == 404
    assert http.post(f"{server_shop.url}/rest/api/2/changelog/bulkfetch",
                     json={"issueIdsOrKeys": ["SHOP-1"]}).status_code == 404


def test_worklog_pages_and_totals(cloud_generated):
    """/issue/{id}/worklog pages with startAt/maxResults and reports the total."""
    heavy = _heavy(cloud_generated)
    page = login(cloud_generated).get(
        f"{cloud_generated.url}/rest/api/2/issue/{heavy.key}/worklog",
        params={"startAt": 20, "maxResults": 20}).json()
    assert page["total"] == len(heavy.worklogs)
    assert [w["id"] for w in page["worklogs"]] == [str(w.id) for w in heavy.worklogs[20:40]]


def test_worklog_create_updated_list_and_deleted(cloud_shop):
    """A new worklog shows in worklog/updated and worklog/list; a deleted one in worklog/deleted."""
    http, base = login(cloud_shop), f"{cloud_shop.url}/rest/api/2"
    since = cloud_shop.state.now() - 1
    created = http.post(f"{base}/issue/SHOP-1/worklog",
                        json={"timeSpent": "1h 30m", "started": "2026-11-19T09:00:00.000+0000",
                              "comment": "pairing"})
    assert created.status_code == 201
    worklog = created.json()
    assert worklog["timeSpentSeconds"] == 5400 and worklog["timeSpent"] == "1h 30m"
    updated = http.get(f"{base}/worklog/updated", params={"since": since}).json()
    assert [v["worklogId"] for v in updated["values"]] == [int(worklog["id"])]
    assert updated["lastPage"] is True
    listed = http.post(f"{base}/worklog/list", json={"ids": [int(worklog["id"])]}).json()
    assert listed[0]["comment"] == "pairing"
    assert http.delete(f"{base}/issue/SHOP-1/worklog/{worklog['id']}").status_code == 204
    deleted = http.get(f"{base}/worklog/deleted", params={"since": since}).json()
    assert [v["worklogId"] for v in deleted["values"]] == [int(worklog["id"])]


def test_v3_worklog_comment_must_be_adf(cloud_shop):
    """On v3 a worklog comment that is not ADF is refused with 400."""
    answer = login(cloud_shop).post(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/worklog",
                                    json={"timeSpentSeconds": 600, "comment": "plain"})
    assert answer.status_code == 400


def test_comment_lifecycle_v2_wiki(server_shop):
    """v2 comments are created (201), listed with totals, edited (200) and deleted (204)."""
    http = login(server_shop)
    base = f"{server_shop.url}/rest/api/2/issue/SHOP-1/comment"
    before = server_shop.issue_json("SHOP-1")["fields"]["updated"]
    created = http.post(base, json={"body": "h3. Flag\n* one"})
    assert created.status_code == 201 and created.json()["body"] == "h3. Flag\n* one"
    assert server_shop.issue_json("SHOP-1")["fields"]["updated"] > before
    listing = http.get(base, params={"startAt": 1, "maxResults": 1}).json()
    assert listing["total"] == 2 and listing["comments"][0]["id"] == created.json()["id"]
    edited = http.put(f"{base}/{created.json()['id']}", json={"body": "edited"})
    assert edited.status_code == 200 and edited.json()["body"] == "edited"
    assert http.delete(f"{base}/{created.json()['id']}").status_code == 204
    assert http.get(f"{base}/{created.json()['id']}").status_code == 404


def test_v3_comments_take_adf_and_render_as_adf(cloud_shop):
    """A v3 ADF comment is stored and read back as ADF on v3 and as text on v2."""
    http = login(cloud_shop)
    created = http.post(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/comment", json={"body": ADF})
    assert created.status_code == 201 and created.json()["body"] == ADF
    v2 = http.get(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1/comment/{created.json()['id']}")
    assert v2.json()["body"] == "Flagged"


@pytest.mark.parametrize("body", [
    "plain text",
    {"type": "doc", "content": []},
    {"type": "doc", "version": 1, "content": [{"type": "blink"}]},
    {"type": "doc", "version": 1, "content": [{"type": "paragraph",
                                               "content": [{"type": "text"}]}]},
])
def test_malformed_adf_comment_is_a_400(cloud_shop, body):
    """v3 refuses a comment body that is not a valid ADF document, as Jira does."""
    answer = login(cloud_shop).post(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/comment",
                                    json={"body": body})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"comment": "Comment body is not valid!"}
    assert len(cloud_shop.comments("SHOP-1")) == 1


def test_comment_and_issue_properties(cloud_shop):
    """Properties are created (201), replaced (200), read, listed and deleted (204)."""
    http = login(cloud_shop)
    comment_id = cloud_shop.comments("SHOP-1")[0]["id"]
    for base in (f"{cloud_shop.url}/rest/api/3/comment/{comment_id}/properties",
                 f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/properties"):
        assert http.put(f"{base}/jira-pm", json={"fingerprint": "a1"}).status_code == 201
        assert http.put(f"{base}/jira-pm", json={"fingerprint": "b2"}).status_code == 200
        assert http.get(f"{base}/jira-pm").json() == {"key": "jira-pm",
                                                      "value": {"fingerprint": "b2"}}
        assert [k["key"] for k in http.get(base).json()["keys"]] == ["jira-pm"]
        assert http.delete(f"{base}/jira-pm").status_code == 204
        assert http.get(f"{base}/jira-pm").status_code == 404


def test_non_ascii_property_values_round_trip(cloud_shop):
    """A property holding non-ASCII text is stored and read back unchanged."""
    http = login(cloud_shop)
    base = f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/properties/names"
    value = {"name": "Zoë ✓", "n": 2**63 - 1}
    assert http.put(base, json=value).status_code == 201
    answer = http.get(base)
    assert answer.status_code == 200 and answer.json() == {"key": "names", "value": value}


@pytest.mark.parametrize("raw", [
    f'{{"n": {2**70}}}',  # wider than 64 bits
    '{"text": "x\\ud800y"}',  # an unpaired surrogate
    '{"x\\udc00": 1}',
])
def test_a_body_the_sandbox_could_not_send_back_is_a_400_and_stores_nothing(cloud_shop, raw):
    """Values the response encoder refuses are refused on the way in, with a Jira-shaped
    400 that says why, so nothing stored can break a later page."""
    http = login(cloud_shop)
    base = f"{cloud_shop.url}/rest/api/3/issue/SHOP-1/properties/odd"
    answer = http.put(base, data=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "cannot send back" in answer.json()["errorMessages"][0]
    assert http.get(base).status_code == 404


def test_agile_sprints_list_with_dates(cloud_shop):
    """The agile board sprint list gives each sprint's state and dates."""
    page = login(cloud_shop).get(f"{cloud_shop.url}/rest/agile/1.0/board/1/sprint",
                                 params={"state": "active"}).json()
    [sprint] = page["values"]
    assert sprint["name"] == "SHOP Sprint 7"
    assert sprint["startDate"] == "2026-11-09T09:00:00.000Z"


def test_cloud_project_search_pages_projects(cloud_shop):
    """/project/search pages projects with total and isLast, and filters by key."""
    http = login(cloud_shop)
    first = http.get(f"{cloud_shop.url}/rest/api/3/project/search",
                     params={"maxResults": 1}).json()
    assert first["total"] == 2 and first["isLast"] is False and len(first["values"]) == 1
    only = http.get(f"{cloud_shop.url}/rest/api/3/project/search", params={"keys": "OPS"}).json()
    assert [p["key"] for p in only["values"]] == ["OPS"]


def test_logging_work_adjusts_the_estimate_and_records_history(cloud_shop):
    """POST worklog (adjustEstimate=auto) lowers the remaining estimate and adds Jira's items."""
    from jira_pm.sandbox.changes import replay_backward

    http, base = login(cloud_shop), f"{cloud_shop.url}/rest/api/2/issue/SHOP-1"
    assert http.post(f"{base}/worklog", json={"timeSpent": "2h"}).status_code == 201
    fields = cloud_shop.issue_json("SHOP-1")["fields"]
    assert fields["timeestimate"] == 6 * 3600 and fields["timespent"] == 8 * 3600
    items = cloud_shop.issue_json("SHOP-1")["changelog"]["histories"][-1]["items"]
    assert [(i["field"], i["fromString"], i["toString"]) for i in items] == [
        ("timeestimate", "28800", "21600"), ("timespent", "21600", "28800"),
        ("WorklogId", None, items[2]["toString"])]
    left = http.post(f"{base}/worklog", params={"adjustEstimate": "leave"},
                     json={"timeSpentSeconds": 600})
    assert left.status_code == 201
    assert cloud_shop.issue_json("SHOP-1")["fields"]["timeestimate"] == 6 * 3600
    set_new = http.post(f"{base}/worklog", params={"adjustEstimate": "new", "newEstimate": "1h"},
                        json={"timeSpentSeconds": 600})
    assert set_new.status_code == 201
    assert cloud_shop.issue_json("SHOP-1")["fields"]["timeestimate"] == 3600
    deleted = http.delete(f"{base}/worklog/{left.json()['id']}")
    assert deleted.status_code == 204
    assert cloud_shop.issue_json("SHOP-1")["fields"]["timeestimate"] == 3600 + 600
    replay_backward(cloud_shop.state.get_issue("SHOP-1"))  # still consistent


def test_unknown_adjust_estimate_is_a_400(cloud_shop):
    """An adjustEstimate outside auto/leave/new/manual is refused."""
    answer = login(cloud_shop).post(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1/worklog",
                                    params={"adjustEstimate": "guess"},
                                    json={"timeSpentSeconds": 60})
    assert answer.status_code == 400 and "adjustEstimate" in answer.json()["errorMessages"][0]
    assert len(cloud_shop.worklogs("SHOP-1")) == 1


def test_versions_report_overdue_and_follow_release(cloud_shop):
    """A past-due unreleased version is overdue; once released it says so and is not overdue."""
    http = login(cloud_shop)
    url = f"{cloud_shop.url}/rest/api/2/project/SHOP/versions"
    versions = {v["name"]: v for v in http.get(url).json()}
    assert versions["1.4"]["overdue"] is True and versions["1.5"]["overdue"] is False
    cloud_shop.release_version("SHOP", "1.4")
    released = {v["name"]: v for v in http.get(url).json()}["1.4"]
    assert released["released"] is True and "overdue" not in released
    fix_version = cloud_shop.issue_json("SHOP-1")["fields"]["fixVersions"][0]
    assert fix_version["released"] is True


def test_a_deleted_comment_and_its_properties_are_gone(cloud_shop):
    """After DELETE, the comment and its properties answer 404."""
    http = login(cloud_shop)
    comment_id = cloud_shop.add_comment("SHOP-1", "temporary")
    props = f"{cloud_shop.url}/rest/api/2/comment/{comment_id}/properties/jira-pm"
    assert http.put(props, json={"a": 1}).status_code == 201
    assert http.delete(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1/comment/{comment_id}"
                       ).status_code == 204
    assert http.get(props).status_code == 404
    assert http.get(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1/comment/{comment_id}"
                    ).status_code == 404


def test_worklog_updated_pages_lose_and_repeat_nothing():
    """Following nextPage over 2,500 worklogs (many sharing a timestamp) yields each once."""
    from jira_pm.sandbox import Sandbox

    logs = [{"author": "admin", "started": "2026-11-02T09:00:00Z", "spent": "1h",
             "created": f"2026-11-02T10:00:{n % 3:02d}Z"} for n in range(2500)]
    scenario = {"issues": [{"key": "W-1", "created": "2026-11-01T09:00:00Z",
                            "worklogs": logs}]}
    with Sandbox(scenario=scenario) as site:
        http, url, seen = login(site), f"{site.url}/rest/api/2/worklog/updated?since=0", []
        while True:
            page = http.get(url).json()
            seen += [v["worklogId"] for v in page["values"]]
            if page["lastPage"]:
                break
            url = page["nextPage"]
        assert sorted(seen) == sorted(int(w["id"]) for w in site.worklogs("W-1"))
        assert len(seen) == len(set(seen)) == 2500


def test_user_self_links_resolve(cloud_shop, server_shop):
    """The `self` link of a rendered user answers that user (Cloud by accountId, DC by name)."""
    for site, path in ((cloud_shop, "/rest/api/3/issue/SHOP-1"),
                       (server_shop, "/rest/api/2/issue/SHOP-1")):
        http = login(site)
        reporter = http.get(site.url + path).json()["fields"]["reporter"]
        assert http.get(reporter["self"]).json() == reporter
    assert login(cloud_shop).get(f"{cloud_shop.url}/rest/api/3/user",
                                 params={"accountId": "nobody"}).status_code == 404


def test_a_comment_or_worklog_asked_for_under_another_issue_is_404(cloud_shop):
    """A comment or worklog id is found only under the issue it belongs to, as in Jira."""
    http, base = login(cloud_shop), f"{cloud_shop.url}/rest/api/2/issue"
    comment_id = cloud_shop.add_comment("SHOP-1", "Flagged")
    worklog_id = cloud_shop.add_worklog("SHOP-1", spent="1h")
    assert http.get(f"{base}/SHOP-1/comment/{comment_id}").status_code == 200
    assert http.get(f"{base}/SHOP-1/worklog/{worklog_id}").status_code == 200
    assert http.get(f"{base}/OPS-1/comment/{comment_id}").status_code == 404
    assert http.get(f"{base}/OPS-1/worklog/{worklog_id}").status_code == 404
    assert http.delete(f"{base}/OPS-1/worklog/{worklog_id}").status_code == 404
    assert cloud_shop.worklogs("SHOP-1")[-1]["id"] == str(worklog_id)
