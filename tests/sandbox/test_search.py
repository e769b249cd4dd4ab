"""Search over HTTP: JQL subset, paging in both flavours, page-size caps, truncation."""

from __future__ import annotations

import pytest
from sandbox_support import (  # noqa: F401
    cloud_generated_fixture,
    cloud_shop_fixture,
    login,
    server_generated_fixture,
    server_shop_fixture,
    shop,
)

from jira_pm.sandbox import Sandbox

pytestmark = pytest.mark.integration


def cloud_pages(site, jql, post=False, **params):
    """Each page's issue keys of a Cloud search/jql (GET, or POST with a body), following
    nextPageToken."""
    http, pages, token = login(site), [], None
    while True:
        query = {"jql": jql, "fields": "key", **params}
        if token:
            query["nextPageToken"] = token
        url = f"{site.url}/rest/api/3/search/jql"
        if post:
            page = http.post(url, json={**query, "fields": [query["fields"]]}).json()
        else:
            page = http.get(url, params=query).json()
        pages.append([issue["key"] for issue in page["issues"]])
        if page["isLast"]:
            assert "nextPageToken" not in page
            return pages
        assert page["nextPageToken"] != token, "the token must move on"
        token = page["nextPageToken"]


def cloud_keys(site, jql, **params):
    """Keys of every issue a Cloud search/jql returns, following nextPageToken."""
    return [key for page in cloud_pages(site, jql, **params) for key in page]


def server_search(site, jql, **params):
    answer = login(site).get(f"{site.url}/rest/api/2/search", params={"jql": jql, **params})
    return answer


@pytest.mark.parametrize(("jql", "expected"), [
    ("project = SHOP ORDER BY key ASC", ["SHOP-1", "SHOP-2", "SHOP-10"]),
    ("project in (OPS, SHOP) ORDER BY id DESC", ["OPS-1", "SHOP-2", "SHOP-1", "SHOP-10"]),
    ("key in (SHOP-1, OPS-1) ORDER BY key", ["OPS-1", "SHOP-1"]),
    ("issuekey > SHOP-1 AND project = SHOP ORDER BY key", ["SHOP-2", "SHOP-10"]),
    ("key <= SHOP-2 ORDER BY key DESC", ["SHOP-2", "SHOP-1"]),
    ("id >= 10001 AND id < 10003 ORDER BY id", ["SHOP-1", "SHOP-2"]),
    ("labels = customer", ["SHOP-1"]),
    ("(project = OPS OR key = SHOP-2) ORDER BY created", ["SHOP-2", "OPS-1"]),
    ("created >= '2026-10-05' AND created < '2026/11/18 09:30' ORDER BY key", ["SHOP-2"]),
    ("updated > '2026-11-18 09:30' ORDER BY updated DESC", []),
    ("updated >= '2026-11-18 09:30' ORDER BY updated DESC", ["OPS-1"]),
    ("created <= 1790294400000 ORDER BY key", ["SHOP-10"]),
])
def test_jql_subset_selects_and_orders(cloud_shop, jql, expected):
    """Each supported JQL form selects and orders exactly the expected issues."""
    assert cloud_keys(cloud_shop, jql) == expected


def test_jql_dates_are_read_in_the_users_time_zone(cloud_shop):
    """'2026-11-18 09:30' in Europe/Berlin is 08:30 UTC, when OPS-1 was created."""
    assert cloud_keys(cloud_shop, "created = '2026-11-18 09:30'") == ["OPS-1"]
    assert cloud_keys(cloud_shop, "created = '2026-11-18 08:30'") == []


def test_moved_issue_is_found_by_its_old_key(cloud_shop):
    """`key = OLD` finds an issue that has moved, as Jira does."""
    cloud_shop.move_issue("OPS-1", "SHOP")
    assert cloud_keys(cloud_shop, "key = OPS-1") == ["SHOP-11"]


@pytest.mark.parametrize(("jql", "fragment"), [
    ("status = Done", "does not support 'status'"),
    ("summary ~ card", "does not support 'summary'"),
    ("colour = red", "Field 'colour' does not exist"),
    ("project = SHOP AND (key = SHOP-1", "Expecting ')'"),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("key = SHOP-99", "An issue with key 'SHOP-99' does not exist"),
    ("updated >= 'yesterday'", "Date value 'yesterday' for field 'updated' is invalid"),
    ("project = SHOP ORDER BY priority", "does not support 'priority'"),
    ("project = SHOP & key = SHOP-1", "Expecting either 'OR' or 'AND' but got '&'"),
    ("project SHOP", "Expecting operator but got 'SHOP'"),
    ("NOT project = SHOP", "does not support 'NOT'"),
])
def test_unsupported_or_bad_jql_is_a_jira_shaped_400(cloud_shop, server_shop, jql, fragment):
    """JQL outside the subset or malformed answers 400 with errorMessages in both flavours."""
    for answer in (
        login(cloud_shop).get(f"{cloud_shop.url}/rest/api/3/search/jql", params={"jql": jql}),
        server_search(server_shop, jql),
    ):
        assert answer.status_code == 400
        body = answer.json()
        assert fragment in body["errorMessages"][0] and body["errors"] == {}


def test_cloud_search_without_restriction_is_refused(cloud_shop):
    """Cloud search/jql refuses an empty or ORDER-BY-only query as unbounded."""
    for jql in ("", "ORDER BY id"):
        answer = login(cloud_shop).post(f"{cloud_shop.url}/rest/api/3/search/jql",
                                        json={"jql": jql})
        assert answer.status_code == 400
        assert "Unbounded JQL" in answer.json()["errorMessages"][0]


def test_cloud_token_paging_returns_every_issue_once(cloud_generated):
    """Following nextPageToken yields every project issue exactly once, in order."""
    keys = cloud_keys(cloud_generated, "project = SHOP ORDER BY id", maxResults=37)
    expected = [i.key for i in sorted(cloud_generated.state.issues.values(), key=lambda i: i.id)
                if i.project_key == "SHOP"]
    assert keys == expected and len(keys) > 37 * 3


def test_cloud_post_search_pages_like_get(cloud_generated):
    """POST search/jql with a body pages exactly as GET does, and has no total."""
    jql = "project = OPS ORDER BY key"
    page = login(cloud_generated).post(f"{cloud_generated.url}/rest/api/3/search/jql",
                                       json={"jql": jql, "maxResults": 10,
                                             "fields": ["summary", "updated"]}).json()
    assert len(page["issues"]) == 10 and "total" not in page and page["isLast"] is False
    assert set(page["issues"][0]["fields"]) == {"summary", "updated"}
    posted = cloud_pages(cloud_generated, jql, post=True, maxResults=10)
    assert posted == cloud_pages(cloud_generated, jql, maxResults=10)
    assert len(posted) > 2 and len({key for page in posted for key in page}) == sum(
        len(page) for page in posted)


def test_cloud_default_fields_are_id_only_with_big_pages(cloud_generated):
    """Without `fields`, Cloud returns ids only and grants pages up to 5000."""
    page = login(cloud_generated).get(
        f"{cloud_generated.url}/rest/api/3/search/jql",
        params={"jql": "project in (SHOP, OPS) ORDER BY id", "maxResults": 9000}).json()
    assert page["issues"][0] == {"id": page["issues"][0]["id"]}
    assert len(page["issues"]) == sum(1 for i in cloud_generated.state.issues.values()
                                      if i.project_key in ("SHOP", "OPS"))


def test_cloud_full_field_pages_are_capped_at_100(cloud_generated):
    """Asking for fields caps a Cloud page at 100 issues."""
    page = login(cloud_generated).get(
        f"{cloud_generated.url}/rest/api/3/search/jql",
        params={"jql": "id > 0 ORDER BY id", "maxResults": 500, "fields": "*all"}).json()
    assert len(page["issues"]) == 100 and page["isLast"] is False


def test_a_foreign_page_token_is_a_400(cloud_generated):
    """A nextPageToken from another query is refused, not silently reused."""
    http = login(cloud_generated)
    page = http.get(f"{cloud_generated.url}/rest/api/3/search/jql",
                    params={"jql": "project = SHOP", "maxResults": 5}).json()
    other = http.get(f"{cloud_generated.url}/rest/api/3/search/jql",
                     params={"jql": "project = OPS", "nextPageToken": page["nextPageToken"]})
    assert other.status_code == 400


def test_old_search_is_gone_on_cloud(cloud_shop):
    """/rest/api/{2,3}/search answers 410 with Jira's migration message on Cloud."""
    for version in (2, 3):
        answer = login(cloud_shop).get(f"{cloud_shop.url}/rest/api/{version}/search",
                                       params={"jql": "project = SHOP"})
        assert answer.status_code == 410
        assert "/rest/api/3/search/jql" in answer.json()["errorMessages"][0]


def test_approximate_count(cloud_generated):
    """approximate-count answers the number of matching issues."""
    answer = login(cloud_generated).post(
        f"{cloud_generated.url}/rest/api/3/search/approximate-count",
        json={"jql": "project = OPS"})
    expected = sum(1 for i in cloud_generated.state.issues.values() if i.project_key == "OPS")
    assert answer.json() == {"count": expected}


def test_server_paging_with_start_at_and_total(server_generated):
    """Server search pages with startAt, reports total, and the pages cover all issues once."""
    seen, start = [], 0
    while True:
        page = server_search(server_generated, "project = SHOP ORDER BY key", startAt=start,
                             maxResults=40, fields="summary").json()
        seen += [i["key"] for i in page["issues"]]
        start += page["maxResults"]
        if start >= page["total"]:
            break
    assert len(seen) == len(set(seen)) == page["total"]


def test_server_caps_page_size_and_reports_it():
    """The server flavour grants at most max_results_cap and says so in maxResults."""
    with Sandbox(flavor="server", issues=120, seed=2, max_results_cap=25) as site:
        page = server_search(site, "id > 0 ORDER BY id", maxResults=1000).json()
        assert page["maxResults"] == 25 and len(page["issues"]) == 25
        assert page["total"] == 120


@pytest.mark.parametrize("floor", ["id > 10040", "id >= 10041"])
def test_server_floor_only_pages_equal_the_scanned_ones(floor):
    """`id > N ORDER BY id` pages (taken straight from the sorted ids) hold the same
    issues and total as the same floor with a clause that makes the search scan."""
    with Sandbox(flavor="server", issues=400, seed=3) as site:
        site.delete_issue(str(site.state.ids[60]))  # a gap in the ids, past the floor
        for start in (0, 7, 345):
            fast, scanned = (server_search(site, f"{jql} ORDER BY id", startAt=start,
                                           maxResults=10, fields="summary").json()
                             for jql in (floor, f"{floor} AND id > 0"))
            assert fast["total"] == scanned["total"] == 358  # 10041..10399 but one
            assert [i["id"] for i in fast["issues"]] == [i["id"] for i in scanned["issues"]]


def test_server_deep_offset_past_the_window_fails(server_generated):
    """A page reaching past 10,000 results answers 400 telling to page by keys."""
    answer = server_search(server_generated, "id > 0", startAt=9990, maxResults=50)
    assert answer.status_code == 400
    assert "id > N ORDER BY id" in answer.json()["errorMessages"][0]


def test_keyset_paging_by_id_covers_the_site(server_generated):
    """`id > N ORDER BY id` pages reach every issue without deep offsets."""
    last, ids = 0, []
    while True:
        page = server_search(server_generated, f"id > {last} ORDER BY id", maxResults=250,
                             fields="id").json()
        if not page["issues"]:
            break
        ids += [int(i["id"]) for i in page["issues"]]
        last = ids[-1]
    assert ids == sorted(server_generated.state.issues)


def _heavy(site):
    return next(i for i in site.state.issues.values() if len(i.histories) > 40
                and len(i.worklogs) > 20)


def test_cloud_search_truncates_changelog_and_worklogs(cloud_generated):
    """Cloud search gives at most 40 histories (newest first) and 20 worklogs, with totals."""
    heavy = _heavy(cloud_generated)
    page = login(cloud_generated).get(
        f"{cloud_generated.url}/rest/api/3/search/jql",
        params={"jql": f"key = {heavy.key}", "fields": "worklog,comment",
                "expand": "changelog"}).json()
    issue = page["issues"][0]
    changelog = issue["changelog"]
    assert changelog["total"] == len(heavy.histories) > 40
    assert len(changelog["histories"]) == changelog["maxResults"] == 40
    assert changelog["histories"][0]["id"] == str(heavy.histories[-1].id)
    worklog = issue["fields"]["worklog"]
    assert worklog["total"] == len(heavy.worklogs) > 20 and len(worklog["worklogs"]) == 20


def test_server_search_returns_the_full_changelog(server_generated):
    """Server search with expand=changelog returns every history, oldest first."""
    heavy = _heavy(server_generated)
    page = server_search(server_generated, f"key = {heavy.key}", expand="changelog",
                         fields="worklog").json()
    changelog = page["issues"][0]["changelog"]
    assert changelog["total"] == len(changelog["histories"]) == len(heavy.histories)
    assert changelog["histories"][0]["id"] == str(heavy.histories[0].id)
    assert len(page["issues"][0]["fields"]["worklog"]["worklogs"]) == 20


def test_search_sees_writes_immediately(cloud_shop):
    """A label edit is visible to the next search (the result cache follows the site)."""
    assert cloud_keys(cloud_shop, "labels = pm-overdue") == []
    cloud_shop.update_issue("OPS-1", add_labels=["pm-overdue"])
    assert cloud_keys(cloud_shop, "labels = pm-overdue") == ["OPS-1"]


def test_repeated_fields_parameters_are_all_honoured(cloud_shop):
    """fields=a&fields=b asks for both fields, like fields=a,b."""
    page = login(cloud_shop).get(f"{cloud_shop.url}/rest/api/3/search/jql",
                                 params=[("jql", "key = SHOP-1"), ("fields", "summary"),
                                         ("fields", "labels")]).json()
    assert set(page["issues"][0]["fields"]) == {"summary", "labels"}


def test_cloud_search_lag_hides_fresh_changes_until_indexed():
    """With search_lag_ms, a just-changed issue is missing from Cloud search until it passes."""
    now = [1_795_176_000_000]  # 2026-11-20T12:00Z
    with Sandbox(scenario=shop(), clock=lambda: now[0], search_lag_ms=60_000) as site:
        site.update_issue("OPS-1", add_labels=["fresh"])
        assert cloud_keys(site, "labels = fresh") == []
        assert site.labels("OPS-1") == ["fresh"]  # GET /issue reads the database, not the index
        now[0] += 60_001
        assert cloud_keys(site, "labels = fresh") == ["OPS-1"]


def test_search_lag_does_not_apply_to_server():
    """Data Center search is consistent: the lag option leaves it alone."""
    with Sandbox(flavor="server", scenario=shop(), search_lag_ms=60_000) as site:
        site.update_issue("OPS-1", add_labels=["fresh"])
        page = server_search(site, "labels = fresh").json()
        assert [i["key"] for i in page["issues"]] == ["OPS-1"]
