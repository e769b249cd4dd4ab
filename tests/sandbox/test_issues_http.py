"""Issue endpoints over real HTTP: GET, label edits, notifyUsers, auth, move and delete."""

from __future__ import annotations

import pytest
import requests
from sandbox_support import cloud_shop_fixture, login, server_shop_fixture, shop  # noqa: F401

from jira_pm.sandbox import Sandbox

pytestmark = pytest.mark.integration


def test_get_issue_by_key_and_id(cloud_shop):
    """GET /issue answers for the key and for the id, with ids as strings."""
    http = login(cloud_shop)
    by_key = http.get(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1").json()
    by_id = http.get(f"{cloud_shop.url}/rest/api/3/issue/{by_key['id']}").json()
    assert by_key["key"] == by_id["key"] == "SHOP-1"
    assert isinstance(by_key["id"], str)


def test_unknown_issue_is_404_with_jiras_message(cloud_shop):
    """An unknown key answers 404 with Jira's 'does not exist' message."""
    answer = login(cloud_shop).get(f"{cloud_shop.url}/rest/api/3/issue/SHOP-999")
    assert answer.status_code == 404
    assert answer.json()["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."]


@pytest.mark.parametrize("body", [
    {"update": {"labels": [{"add": "pm-overdue"}, {"remove": "customer"}]}},
    {"fields": {"labels": ["pm-overdue"]}},
])
def test_label_put_both_forms_change_labels_and_record_history(cloud_shop, body):
    """Both label PUT forms answer 204, bump `updated` and add a 'labels' history by the caller."""
    before = cloud_shop.issue_json("SHOP-1")
    answer = login(cloud_shop).put(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1", json=body)
    assert answer.status_code == 204
    after = cloud_shop.issue_json("SHOP-1")
    assert after["fields"]["labels"] == ["pm-overdue"]
    assert after["fields"]["updated"] > before["fields"]["updated"]
    last = after["changelog"]["histories"][-1]
    assert last["author"]["emailAddress"] == "pm-bot@example.com"
    assert last["items"] == [{"field": "labels", "fieldtype": "jira", "fieldId": "labels",
                              "from": None, "fromString": "customer", "to": None,
                              "toString": "pm-overdue"}]


def test_an_edit_that_changes_nothing_records_nothing(cloud_shop):
    """Adding a label the issue already has leaves changelog and `updated` alone."""
    before = cloud_shop.issue_json("SHOP-1")
    answer = login(cloud_shop).put(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1",
                                     json={"update": {"labels": [{"add": "customer"}]}})
    assert answer.status_code == 204
    assert cloud_shop.issue_json("SHOP-1") == before


def test_notify_users_false_is_allowed_for_admin_only(cloud_shop):
    """notifyUsers=false works for the admin bot and is a 403 for a plain user."""
    url = f"{cloud_shop.url}/rest/api/3/issue/SHOP-1?notifyUsers=false"
    body = {"update": {"labels": [{"add": "x1"}]}}
    assert login(cloud_shop).put(url, json=body).status_code == 204
    refused = login(cloud_shop, "alice").put(url, json=body)
    assert refused.status_code == 403
    assert "admin" in refused.json()["errorMessages"][0]


def test_unknown_field_in_put_is_a_400_naming_it(cloud_shop):
    """Setting a field the sandbox does not know is Jira's 'cannot be set' 400."""
    answer = login(cloud_shop).put(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1",
                                     json={"fields": {"colour": "red"}})
    assert answer.status_code == 400
    assert "colour" in answer.json()["errors"]


def test_no_or_wrong_credentials_are_401(cloud_shop):
    """Requests without or with wrong credentials answer 401 with Jira's body."""
    bare = requests.get(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1")
    wrong = requests.get(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1",
                         auth=("pm-bot@example.com", "not-the-token"))
    for answer in (bare, wrong):
        assert answer.status_code == 401
        assert answer.json()["message"] == "Client must be authenticated to access this resource."


def test_bearer_pat_works_on_server_and_not_on_cloud(cloud_shop, server_shop):
    """A personal access token authenticates on Data Center; Cloud answers 401."""
    ok = login(server_shop, bearer=True).get(f"{server_shop.url}/rest/api/2/myself")
    assert ok.status_code == 200 and ok.json()["name"] == "admin"
    refused = login(cloud_shop, bearer=True).get(f"{cloud_shop.url}/rest/api/2/myself")
    assert refused.status_code == 401


def test_readonly_user_reads_but_gets_403_on_writes(server_shop):
    """The read-only user can GET and is refused label edits and comments with 403."""
    http = login(server_shop, "readonly")
    base = f"{server_shop.url}/rest/api/2/issue/SHOP-1"
    assert http.get(base).status_code == 200
    assert http.put(base, json={"fields": {"labels": []}}).status_code == 403
    comments_before = len(server_shop.comments("SHOP-1"))
    assert http.post(f"{base}/comment", json={"body": "hi"}).status_code == 403
    assert server_shop.labels("SHOP-1") == ["customer"]
    assert len(server_shop.comments("SHOP-1")) == comments_before


def test_moved_issue_keeps_id_and_old_key_resolves(cloud_shop):
    """After a move the issue has a new key, the same id, and the old key still answers."""
    old = cloud_shop.issue_json("SHOP-1")
    new_key = cloud_shop.move_issue("SHOP-1", "OPS")
    assert new_key == "OPS-2"
    answer = login(cloud_shop).get(f"{cloud_shop.url}/rest/api/3/issue/SHOP-1").json()
    assert answer["id"] == old["id"] and answer["key"] == "OPS-2"
    items = answer_items = cloud_shop.issue_json("OPS-2")["changelog"]["histories"][-1]["items"]
    assert {"Key", "project", "Fix Version"} <= {i["field"] for i in answer_items}
    assert items[1]["fromString"] == "SHOP-1"


def test_deleted_issue_is_404(server_shop):
    """A deleted issue answers 404 by key and by id."""
    issue_id = server_shop.issue_json("OPS-1")["id"]
    server_shop.delete_issue("OPS-1")
    http = login(server_shop)
    assert http.get(f"{server_shop.url}/rest/api/2/issue/OPS-1").status_code == 404
    assert http.get(f"{server_shop.url}/rest/api/2/issue/{issue_id}").status_code == 404


def test_admin_http_routes_move_update_and_delete(cloud_shop):
    """The /__sandbox/admin routes change the site like the Python API does."""
    base = f"{cloud_shop.url}/__sandbox/admin/issue"
    assert requests.post(f"{base}/SHOP-1/update",
                         json={"author": "alice", "points": 8}).status_code == 204
    assert cloud_shop.issue_json("SHOP-1")["fields"]["customfield_10016"] == 8.0
    moved = requests.post(f"{base}/OPS-1/move", json={"project": "SHOP"}).json()
    assert moved["key"] == "SHOP-11"
    assert requests.post(f"{base}/SHOP-11/delete").status_code == 204
    assert login(cloud_shop).get(f"{cloud_shop.url}/rest/api/3/issue/SHOP-11").status_code \
        == 404


@pytest.mark.parametrize(("flavor", "api"), [("cloud", 2), ("cloud", 3), ("server", 2)])
def test_http_rendering_equals_the_python_rendering(flavor, api):
    """Pages with cached fragments (users, statuses, items) embedded equal the Python
    rendering, before and after writes."""
    with Sandbox(flavor=flavor, scenario=shop()) as site:
        http = login(site)
        for round_ in range(3):
            over_http = http.get(f"{site.url}/rest/api/{api}/issue/SHOP-1",
                                 params={"expand": "changelog"}).json()
            cold = site.issue_json("SHOP-1", api)
            if flavor == "cloud":  # Cloud's GET /issue lists the newest history first
                cold["changelog"]["histories"].reverse()
            assert over_http == cold
            site.add_worklog("SHOP-1", spent="2h", comment='with "quotes" and \\ slashes')
            site.update_issue("SHOP-1", add_labels=[f"pm-overdue-{round_}"])


def test_timestamps_are_rendered_in_the_callers_time_zone():
    """Jira renders instants in the calling user's zone: +0200 in Berlin summer, +0000 in UTC."""
    data = shop()
    data["users"].append({"name": "utc.user", "timezone": "UTC"})
    with Sandbox(scenario=data) as site:
        berlin = login(site).get(f"{site.url}/rest/api/2/issue/SHOP-1",
                                 params={"expand": "changelog"}).json()
        utc = login(site, "utc.user").get(f"{site.url}/rest/api/2/issue/SHOP-1",
                                          params={"expand": "changelog"}).json()
    assert berlin["fields"]["created"] == "2026-10-01T12:00:00.000+0200"
    assert utc["fields"]["created"] == "2026-10-01T10:00:00.000+0000"
    assert berlin["changelog"]["histories"][0]["created"] == "2026-11-13T11:00:00.000+0100"
    assert utc["changelog"]["histories"][0]["created"] == "2026-11-13T10:00:00.000+0000"


def test_concurrent_label_edits_are_all_kept(cloud_shop):
    """Eight clients adding different labels at once: every label and history is kept."""
    from concurrent.futures import ThreadPoolExecutor

    def add(n):
        return login(cloud_shop).put(f"{cloud_shop.url}/rest/api/2/issue/OPS-1",
                                     json={"update": {"labels": [{"add": f"l{n}"}]}}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(add, range(16))) == {204}
    assert sorted(cloud_shop.labels("OPS-1")) == sorted(f"l{n}" for n in range(16))
    assert len(cloud_shop.issue_json("OPS-1")["changelog"]["histories"]) == 16


def test_changing_an_epic_records_epic_child_on_both_epics():
    """Moving a story between epics adds 'Epic Child' items to the old and the new epic."""
    data = shop()
    data["issues"].append({"key": "SHOP-20", "type": "Epic", "summary": "Returns",
                           "created": "2026-09-21T10:00:00Z"})
    with Sandbox(scenario=data) as site:
        before = site.issue_json("SHOP-20")["fields"]["updated"]
        answer = login(site).put(f"{site.url}/rest/api/3/issue/SHOP-1",
                                 json={"fields": {"parent": {"key": "SHOP-20"}}})
        assert answer.status_code == 204
        story_id = site.issue_json("SHOP-1")["id"]
        left = site.issue_json("SHOP-10")["changelog"]["histories"][-1]["items"]
        joined = site.issue_json("SHOP-20")
        assert left == [{"field": "Epic Child", "fieldtype": "custom", "from": story_id,
                         "fromString": "SHOP-1", "to": None, "toString": None}]
        assert joined["changelog"]["histories"][-1]["items"][0]["toString"] == "SHOP-1"
        assert joined["fields"]["updated"] > before
        assert site.issue_json("SHOP-1")["fields"]["parent"]["key"] == "SHOP-20"


def test_fields_without_changelog_bump_updated_only_when_changed(cloud_shop):
    """A budget edit bumps `updated` with no history; the same value again changes nothing."""
    before = cloud_shop.issue_json("SHOP-10")
    cloud_shop.update_issue("SHOP-10", budget=200)
    after = cloud_shop.issue_json("SHOP-10")
    assert after["fields"]["updated"] > before["fields"]["updated"]
    assert after["changelog"] == before["changelog"]
    cloud_shop.update_issue("SHOP-10", budget=200)
    assert cloud_shop.issue_json("SHOP-10") == after


def test_setting_the_sprint_field_keeps_closed_sprints(server_shop):
    """PUT of the Sprint field replaces the open sprint and keeps closed ones, as Jira does."""
    server_shop.update_issue("OPS-1", sprints=["SHOP Sprint 6"])  # a closed sprint
    sprint_7 = server_shop.state.sprint_by_name("SHOP Sprint 7").id
    answer = login(server_shop).put(f"{server_shop.url}/rest/api/2/issue/OPS-1",
                                    json={"fields": {"customfield_10104": sprint_7}})
    assert answer.status_code == 204
    values = server_shop.issue_json("OPS-1")["fields"]["customfield_10104"]
    assert ["name=SHOP Sprint 6" in values[0], "name=SHOP Sprint 7" in values[1]] == [True, True]


@pytest.mark.parametrize(("fields", "error_key"), [
    ({"customfield_10020": 999}, "customfield_10020"),
    ({"timetracking": {"originalEstimate": "soon"}}, "timetracking"),
    ({"duedate": "next week"}, "duedate"),
    ({"customfield_10016": "five"}, "customfield_10016"),
    ({"customfield_10050": "lots"}, "customfield_10050"),
    ({"customfield_10015": "someday"}, "customfield_10015"),
    ({"timetracking": "4h"}, "timetracking"),
])
def test_invalid_field_values_are_400_and_change_nothing(cloud_shop, fields, error_key):
    """A value Jira cannot store is a 400 naming the field; the issue is left as it was."""
    before = cloud_shop.issue_json("SHOP-1")
    answer = login(cloud_shop).put(f"{cloud_shop.url}/rest/api/2/issue/SHOP-1",
                                   json={"fields": {"labels": ["x"], **fields}})
    assert answer.status_code == 400 and error_key in answer.json()["errors"]
    assert cloud_shop.issue_json("SHOP-1") == before


def test_a_locked_issue_refuses_every_write_and_others_still_work():
    """Writes to a locked issue answer 403 (even for the admin bot); other issues are written."""
    data = shop()
    data["issues"][-1]["locked"] = True  # OPS-1
    with Sandbox(scenario=data) as site:
        http, base = login(site), f"{site.url}/rest/api/3/issue"
        refused = [
            http.put(f"{base}/OPS-1", json={"update": {"labels": [{"add": "pm-x"}]}}),
            http.post(f"{base}/OPS-1/comment", json={"body": "hi"}),
            http.post(f"{base}/OPS-1/worklog", json={"timeSpentSeconds": 60}),
            http.put(f"{base}/OPS-1/properties/jira-pm", json={"a": 1}),
        ]
        assert [a.status_code for a in refused] == [403, 403, 403, 403]
        assert http.get(f"{base}/OPS-1").status_code == 200
        assert http.put(f"{base}/SHOP-1", json={"update": {"labels": [{"add": "pm-x"}]}}
                        ).status_code == 204
        site.lock_issue("OPS-1", locked=False)
        assert http.put(f"{base}/OPS-1", json={"update": {"labels": [{"add": "pm-x"}]}}
                        ).status_code == 204
