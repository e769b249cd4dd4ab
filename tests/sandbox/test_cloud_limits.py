"""Tests of the sandbox's Jira Cloud rate limits: scopes, headers, and Data Center's absence."""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner

from jira_pm.cli import main
from jira_pm.jira.client import JiraClient
from jira_pm.jira.http import JiraHttp
from jira_pm.sandbox import Sandbox
from jira_pm.sandbox.limits import CloudLimits, parse_limit

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a minute boundary


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> float:
        return self.now


def test_burst_limit_is_per_endpoint_and_method():
    """The burst budget of one endpoint+method is its own: others still pass when it is spent."""
    limits = CloudLimits(burst=2, clock=Clock())
    route = "/rest/api/3/issue/{idOrKey}"
    assert [limits.check("GET", route, None).refused for _ in range(3)] == [False, False, True]
    assert not limits.check("PUT", route, None).refused
    refused = limits.check("GET", route, None)
    assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
    assert refused.headers["Retry-After"] == "1"


def test_per_issue_write_limit_counts_writes_to_one_issue_only():
    """Writes to one issue spend its budget; another issue's writes and reads do not."""
    limits = CloudLimits(issue_write=2, clock=Clock())
    assert [limits.check("PUT", "/i", 1).refused for _ in range(2)] == [False, False]
    third = limits.check("POST", "/c", 1)
    assert third.refused and third.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert not limits.check("PUT", "/i", 2).refused
    assert not limits.check("GET", "/i", None).refused


def test_budget_refills_with_time():
    """Half a second later, a 2/s per-issue budget has one write again."""
    clock = Clock()
    limits = CloudLimits(issue_write=2, clock=clock)
    for _ in range(2):
        limits.check("PUT", "/i", 1)
    clock.now += 0.5
    assert not limits.check("PUT", "/i", 1).refused


def test_quota_refusal_carries_x_ratelimit_reset_and_no_retry_after():
    """A spent quota answers 429 with the window's end as yyyy-MM-ddTHH:mmZ, no Retry-After."""
    clock = Clock()
    clock.now = T0 + 10
    limits = CloudLimits(quota=(2, 60), clock=clock)
    limits.check("GET", "/a", None)
    limits.check("GET", "/b", None)
    refused = limits.check("GET", "/c", None)
    assert refused.refused and "Retry-After" not in refused.headers
    assert refused.headers["X-RateLimit-Reset"] == "2027-01-15T08:01Z"
    assert refused.headers["RateLimit-Reason"] == "jira-quota-tenant-based"


def test_every_answer_reports_the_tightest_budget_and_near_limit():
    """Limit and Remaining describe the tightest budget; NearLimit appears under the threshold."""
    limits = CloudLimits(burst=10, issue_write=2, near_limit_at=0.2, clock=Clock())
    first = limits.check("PUT", "/i", 1).headers
    assert first == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1"}
    second = limits.check("PUT", "/i", 1).headers
    assert second["X-RateLimit-NearLimit"] == "true"
    assert second["RateLimit-Reason"] == "jira-per-issue-on-write"


@pytest.mark.parametrize("text, parsed", [("10/s", (10.0, 1)), ("2", (2.0, 1)),
                                          ("1500/min", (1500.0, 60)), ("9/h", (9.0, 3600))])
def test_parse_limit(text, parsed):
    """Limits are written as a count per second, minute or hour."""
    assert parse_limit(text, windows=("s", "min", "h")) == parsed


def test_data_center_refuses_the_cloud_limits():
    """Data Center has no burst/per-issue/quota limits: asking for them is an error."""
    with pytest.raises(ValueError):
        Sandbox("server", issues=5, burst_limit=5)


def test_serve_rejects_a_malformed_limit():
    """`sandbox serve --issue-write-limit fast` is a usage error naming the option."""
    result = CliRunner().invoke(main, ["sandbox", "serve", "--issue-write-limit", "fast"])
    assert result.exit_code == 2
    assert "--issue-write-limit 'fast' is not a limit" in result.output


def test_sandbox_sends_the_headers_over_http():
    """Over HTTP, a Cloud site with limits answers every request with the budget headers."""
    with Sandbox("cloud", issues=5, burst_limit=50) as site:
        login = site.credentials()
        answer = requests.get(f"{site.url}/rest/api/3/myself",
                              auth=(login["email"], login["api_token"]), timeout=5)
    assert answer.headers["X-RateLimit-Limit"] == "50"
    assert answer.headers["X-RateLimit-Remaining"] == "49"


def test_client_writes_three_times_to_one_issue_without_a_429():
    """Label, comment and comment property to one issue meet no per-issue refusal."""
    with Sandbox("cloud", issues=5, issue_write_limit=2) as site:
        login = site.credentials()
        http = JiraHttp(site.url, auth=(login["email"], login["api_token"]))
        client = JiraClient(http, deployment="cloud")
        issue = next(iter(site.state.issues))
        client.edit_labels(issue, ["pm-overdue"], [])
        comment = client.add_comment(issue, "flagged")
        client.set_comment_property(comment["id"], "jira-pm", {"rule": "x"})
        assert site.stats()["by_status"].get("429", 0) == 0
        assert http.rate_limited == 0
