"""Tests of Jira Cloud's rate-limit headers in the HTTP layer: waits, scopes and pacing."""

from __future__ import annotations

import time

import pytest
import responses
from fake_time import BASE, NOW, FakeTime, http_factory

from jira_pm.errors import JiraRateLimited
from jira_pm.jira.http import JiraHttp
from jira_pm.jira.pacing import (
    EVERYTHING,
    QUOTA_PACE,
    Gate,
    Scope,
    endpoint_template,
    issue_of,
    parse_reset,
)

RESET_IN_90 = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(NOW + 60))  # minute resolution


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_http(fake_time):
    return http_factory(fake_time, wall_clock=lambda: NOW + fake_time.now)


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def refusal(reason: str | None = None, retry_after: str | None = "5", **extra) -> dict:
    headers = {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", **extra}
    if reason:
        headers["RateLimit-Reason"] = reason
    if retry_after:
        headers["Retry-After"] = retry_after
    return headers


# ---- each header form ----------------------------------------------------------------------


def test_429_without_retry_after_waits_until_x_ratelimit_reset(mock, make_http, fake_time):
    """A 429 carrying only X-RateLimit-Reset (yyyy-MM-ddTHH:mmZ) waits until that instant."""
    mock.get(f"{BASE}/x", status=429, headers=refusal(
        "jira-quota-tenant-based", retry_after=None, **{"X-RateLimit-Reset": RESET_IN_90}))
    mock.get(f"{BASE}/x", json={"ok": 1})
    assert make_http(max_retry_seconds=300).get("/x") == {"ok": 1}
    assert fake_time.sleeps == [60.25]


def test_retry_after_wins_over_x_ratelimit_reset(mock, make_http, fake_time):
    """With both headers, Retry-After (seconds) decides the wait."""
    mock.get(f"{BASE}/x", status=429, headers=refusal(
        "jira-burst-based", retry_after="3", **{"X-RateLimit-Reset": RESET_IN_90}))
    mock.get(f"{BASE}/x", json={})
    make_http().get("/x")
    assert fake_time.sleeps == [3.25]


def test_503_with_retry_after_seconds_is_waited_out_for_a_put(mock, make_http, fake_time):
    """A 503 carrying Retry-After: 4 makes an idempotent write wait 4 s, then succeed."""
    mock.put(f"{BASE}/rest/api/2/issue/7", status=503, headers={"Retry-After": "4"})
    mock.put(f"{BASE}/rest/api/2/issue/7", status=204)
    make_http().put("/rest/api/2/issue/7", {"update": {}})
    assert fake_time.sleeps == [4.25]


def test_503_with_only_x_ratelimit_reset_waits_until_it(mock, make_http, fake_time):
    """A 503 with no Retry-After but an X-RateLimit-Reset waits until the reset."""
    mock.get(f"{BASE}/x", status=503, headers={"X-RateLimit-Reset": RESET_IN_90})
    mock.get(f"{BASE}/x", json={})
    make_http(max_retry_seconds=300).get("/x")
    assert fake_time.sleeps == [60.25]


def test_429_with_no_usable_header_backs_off(mock, make_http, fake_time):
    """A 429 with neither header (or a reset already past) backs off exponentially."""
    mock.get(f"{BASE}/x", status=429, headers={"X-RateLimit-Reset": "2020-01-01T00:00Z"})
    mock.get(f"{BASE}/x", status=429)
    mock.get(f"{BASE}/x", json={})
    make_http().get("/x")
    assert fake_time.sleeps == [1.25, 2.25]


@pytest.mark.parametrize("value, seconds", [
    ("2027-01-15T08:01Z", 60.0),
    ("2027-01-15T08:00:30Z", 30.0),
    ("2027-01-15T09:01:00+01:00", 60.0),
    (str(int(NOW) + 45), 45.0),
    ("2027-01-15T07:59Z", None),  # past
    ("soon", None),
    ("", None),
    (None, None),
])
def test_parse_reset(value, seconds):
    """X-RateLimit-Reset is read as an ISO 8601 instant (or epoch seconds); junk is None."""
    assert parse_reset(value, NOW) == seconds


# ---- each reason's scope --------------------------------------------------------------------


def give_up_on(mock, make_http, method: str, path: str, headers: dict) -> JiraHttp:
    """A session whose one request got a 429 it could not wait out (a 30 s hold > budget)."""
    getattr(mock, method.lower())(f"{BASE}{path}", status=429, headers=headers)
    http = make_http(max_retry_seconds=10)
    with pytest.raises(JiraRateLimited):
        http.request(method, path, json_body={})
    return http


def test_per_issue_refusal_holds_back_only_that_issues_writes(mock, make_http, fake_time):
    """jira-per-issue-on-write holds writes to that issue; other issues and reads go at once."""
    http = give_up_on(mock, make_http, "PUT", "/rest/api/2/issue/1",
                      refusal("jira-per-issue-on-write", "30"))
    mock.put(f"{BASE}/rest/api/2/issue/2", status=204)
    mock.get(f"{BASE}/rest/api/2/issue/1", json={})
    http.put("/rest/api/2/issue/2", {})
    http.get("/rest/api/2/issue/1")
    assert fake_time.sleeps == []
    mock.put(f"{BASE}/rest/api/2/issue/1", status=204)
    http.put("/rest/api/2/issue/1", {})
    assert fake_time.sleeps == [30.0]


def test_per_issue_scope_covers_a_comment_property_named_by_its_issue(mock, make_http,
                                                                      fake_time):
    """A comment property PUT given its issue waits with that issue's other writes."""
    http = give_up_on(mock, make_http, "POST", "/rest/api/2/issue/1/comment",
                      refusal("jira-per-issue-on-write", "30"))
    mock.put(f"{BASE}/rest/api/2/comment/9/properties/k", status=204)
    http.put("/rest/api/2/comment/9/properties/k", {}, issue="1")
    assert fake_time.sleeps == [30.0]


def test_burst_refusal_holds_back_only_that_endpoint_and_method(mock, make_http, fake_time):
    """jira-burst-based holds PUT /issue/{id} for every issue, not GETs or other endpoints."""
    http = give_up_on(mock, make_http, "PUT", "/rest/api/2/issue/1",
                      refusal("jira-burst-based", "30"))
    mock.get(f"{BASE}/rest/api/2/issue/1", json={})
    mock.post(f"{BASE}/rest/api/2/issue/1/comment", json={"id": "5"})
    http.get("/rest/api/2/issue/1")
    http.post("/rest/api/2/issue/1/comment", {})
    assert fake_time.sleeps == []
    mock.put(f"{BASE}/rest/api/2/issue/2", status=204)
    http.put("/rest/api/2/issue/2", {})
    assert fake_time.sleeps == [30.0]


@pytest.mark.parametrize("reason", ["jira-quota-tenant-based", "jira-quota-global-based",
                                    "jira-cost-based", None])
def test_quota_or_unnamed_refusal_holds_back_everything(mock, make_http, fake_time, reason):
    """A quota refusal, or one naming no reason, holds every request until it is over."""
    http = give_up_on(mock, make_http, "PUT", "/rest/api/2/issue/1", refusal(reason, "30"))
    mock.get(f"{BASE}/rest/api/2/myself", json={})
    http.get("/rest/api/2/myself")
    assert fake_time.sleeps == [30.0]


# ---- slowing down before a refusal ----------------------------------------------------------


def test_near_limit_on_one_issue_spaces_that_issues_next_write(mock, make_http, fake_time):
    """NearLimit naming the per-issue limit delays that issue's next write by 1/Limit s only."""
    near = {"X-RateLimit-NearLimit": "true", "RateLimit-Reason": "jira-per-issue-on-write",
            "X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0"}
    mock.put(f"{BASE}/rest/api/2/issue/1", status=204, headers=near)
    mock.put(f"{BASE}/rest/api/2/issue/2", status=204)
    mock.put(f"{BASE}/rest/api/2/comment/9/properties/k", status=204)
    http = make_http()
    http.put("/rest/api/2/issue/1", {})
    http.put("/rest/api/2/issue/2", {})
    assert fake_time.sleeps == []
    http.put("/rest/api/2/comment/9/properties/k", {}, issue="1")
    assert fake_time.sleeps == [0.5]


def test_near_limit_without_a_reason_paces_everything(mock, make_http, fake_time):
    """NearLimit with no RateLimit-Reason spaces every request QUOTA_PACE apart until it ends."""
    mock.get(f"{BASE}/a", json={}, headers={"X-RateLimit-NearLimit": "true"})
    mock.get(f"{BASE}/b", json={}, headers={"X-RateLimit-NearLimit": "true"})
    mock.get(f"{BASE}/c", json={})
    mock.get(f"{BASE}/d", json={})
    http = make_http()
    for path in ("/a", "/b", "/c", "/d"):
        http.get(path)
    # /b and /c each waited their turn; /c's plain answer ended the pacing, so /d did not.
    assert fake_time.sleeps == pytest.approx([QUOTA_PACE, QUOTA_PACE])


def test_rate_limit_waits_and_pacing_are_told_once_with_their_reason(mock, make_http,
                                                                     fake_time):
    """Observers hear each 429 with its reason and scope, and each pacing once, in words."""
    near = {"X-RateLimit-NearLimit": "true", "RateLimit-Reason": "jira-per-issue-on-write",
            "X-RateLimit-Limit": "2"}
    mock.put(f"{BASE}/rest/api/2/issue/1", status=429,
             headers=refusal("jira-per-issue-on-write", "1"))
    mock.put(f"{BASE}/rest/api/2/issue/1", status=204, headers=near)
    mock.put(f"{BASE}/rest/api/2/issue/2", status=204, headers=near)
    waits = []
    http = make_http()
    http.add_wait_observer(waits.append)
    http.put("/rest/api/2/issue/1", {})
    http.put("/rest/api/2/issue/2", {})
    assert [w.describe() for w in waits] == [
        "waiting 1.2 s: Jira answered 429: Jira's write limit for one issue "
        "(jira-per-issue-on-write); other issues go on (attempt 1)",
        "slowing down: Jira's write budget for one issue (jira-per-issue-on-write) is nearly "
        "spent; writes to an issue now go at least 0.50 s apart"]
    assert (waits[0].scope, waits[0].limit_reason) == ("issue 1", "jira-per-issue-on-write")
    assert http.rate_limited == 1


# ---- scopes -------------------------------------------------------------------------------


@pytest.mark.parametrize("method, url, template", [
    ("PUT", f"{BASE}/rest/api/2/issue/10042?notifyUsers=false", "PUT /rest/api/2/issue/{id}"),
    ("POST", f"{BASE}/rest/api/3/issue/SHOP-12/comment", "POST /rest/api/3/issue/{id}/comment"),
    ("PUT", f"{BASE}/rest/api/2/comment/55/properties/jira-pm",
     "PUT /rest/api/2/comment/{id}/properties/{key}"),
    ("GET", f"{BASE}/rest/api/2/project/SHOP/versions", "GET /rest/api/2/project/{key}/versions"),
    ("GET", f"{BASE}/rest/api/3/project/search", "GET /rest/api/3/project/search"),
    ("POST", f"{BASE}/rest/api/3/search/jql", "POST /rest/api/3/search/jql"),
])
def test_endpoint_template_is_the_path_template(method, url, template):
    """The burst limit's endpoint is the path template, not the literal URL."""
    assert endpoint_template(method, url) == template


def test_issue_of_reads_the_issue_from_the_path():
    """Writes under /issue/{idOrKey} belong to that issue; others to none."""
    assert issue_of(f"{BASE}/rest/api/2/issue/10042/comment/5") == "10042"
    assert issue_of(f"{BASE}/rest/api/2/comment/5/properties/k") is None


def test_gate_holds_one_scope_and_lets_others_through(fake_time):
    """After a refusal for one issue, only requests in that issue's scope wait."""
    gate = Gate(clock=fake_time.clock, sleep=fake_time.sleep)
    gate.refused(Scope("issue", "1"), 5.0, None)
    assert gate.wait_turn(gate.scopes("PUT", f"{BASE}/rest/api/2/issue/2", "2")) == 0
    assert gate.wait_turn([EVERYTHING]) == 0
    assert gate.wait_turn(gate.scopes("PUT", f"{BASE}/rest/api/2/issue/1", "1")) == 5.0
