"""Fault injection (deterministic per seed) and the request counters."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
import requests
from sandbox_support import login, shop

from jira_pm.sandbox import Sandbox

pytestmark = pytest.mark.integration


def statuses(site, n=40):
    http = login(site)
    out = []
    for _ in range(n):
        try:
            out.append(http.get(f"{site.url}/rest/api/2/myself").status_code)
        except requests.ConnectionError:
            out.append("dropped")
    return out


def test_error_and_drop_faults_are_deterministic_per_seed():
    """The same seed gives the same fault sequence; another seed gives another."""
    runs = []
    for seed in (11, 11, 12):
        with Sandbox(scenario=shop(), seed=seed, error_rate=0.3, drop_rate=0.1) as site:
            runs.append(statuses(site))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    kinds = set(runs[0])
    assert 200 in kinds and "dropped" in kinds and kinds & {500, 502, 503, 504}


def test_a_dropped_connection_gets_no_answer(caplog):
    """With drop_rate=1 the client sees the connection closed, and the server logs no error."""
    with Sandbox(scenario=shop(), drop_rate=1.0) as site:
        for _ in range(3):
            with pytest.raises(requests.ConnectionError, match="without response"):
                login(site).get(f"{site.url}/rest/api/2/myself")
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def test_rate_limit_answers_429_with_retry_after_seconds():
    """Past the per-second budget the site answers 429 with Retry-After in seconds."""
    with Sandbox(scenario=shop(), rate_limit=3, fault_clock=lambda: 1000.25) as site:
        answers = [login(site).get(f"{site.url}/rest/api/2/myself") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].headers["Retry-After"] == "1"
    assert answers[3].headers["X-RateLimit-Limit"] == "3"
    assert answers[3].headers["X-RateLimit-Remaining"] == "0"
    assert answers[3].headers["X-RateLimit-Reset"] == "1970-01-01T00:16:41Z"
    assert answers[3].json()["errorMessages"] == [
        "The request has been rate-limited. Please try again later."]


def test_rate_limit_can_state_retry_after_as_an_http_date():
    """retry_after='http-date' gives an RFC 7231 date one window ahead."""
    with Sandbox(scenario=shop(), rate_limit=1, retry_after="http-date",
                 fault_clock=lambda: 1_790_000_000.5) as site:
        login(site).get(f"{site.url}/rest/api/2/myself")
        answer = login(site).get(f"{site.url}/rest/api/2/myself")
    assert answer.status_code == 429
    assert parsedate_to_datetime(answer.headers["Retry-After"]).timestamp() == 1_790_000_001


def test_rate_limit_window_resets_each_second():
    """A new second restores the budget."""
    now = [50.1]
    with Sandbox(scenario=shop(), rate_limit=1, fault_clock=lambda: now[0]) as site:
        http = login(site)
        assert http.get(f"{site.url}/rest/api/2/myself").status_code == 200
        assert http.get(f"{site.url}/rest/api/2/myself").status_code == 429
        now[0] = 51.0
        assert http.get(f"{site.url}/rest/api/2/myself").status_code == 200


def test_faults_change_mid_test_in_python_and_over_http():
    """set_faults and POST /__sandbox/admin/faults switch errors on and off."""
    with Sandbox(scenario=shop()) as site:
        http = login(site)
        site.set_faults(error_rate=1.0)
        assert http.get(f"{site.url}/rest/api/2/myself").status_code >= 500
        assert requests.post(f"{site.url}/__sandbox/admin/faults",
                             json={"error_rate": 0.0}).status_code == 204
        assert http.get(f"{site.url}/rest/api/2/myself").status_code == 200
        bad = requests.post(f"{site.url}/__sandbox/admin/faults", json={"error_rate": 3})
        assert bad.status_code == 400


def test_latency_is_added_to_each_request():
    """latency_ms delays every answer by at least that long."""
    import time

    with Sandbox(scenario=shop(), latency_ms=60) as site:
        http = login(site)
        started = time.perf_counter()
        http.get(f"{site.url}/rest/api/2/myself")
        assert time.perf_counter() - started >= 0.06


def test_time_spent_answering_counts_toward_the_latency(monkeypatch):
    """The latency is what an answer takes in all: one that took 15 ms to build waits the
    remaining 45 of 60 ms, one that took longer than 60 ms waits nothing more."""
    from types import SimpleNamespace

    from jira_pm.sandbox import app as app_module

    clock = iter([10.0, 10.015, 20.0, 20.5])  # (start, answer built) per request
    slept: list[float] = []
    monkeypatch.setattr(app_module, "time", SimpleNamespace(perf_counter=lambda: next(clock),
                                                            sleep=slept.append))
    with Sandbox(scenario=shop(), latency_ms=60) as site:
        http = login(site)
        assert http.get(f"{site.url}/rest/api/2/myself").status_code == 200
        assert http.get(f"{site.url}/rest/api/2/myself").status_code == 200
    assert slept == [pytest.approx(0.045)]


def test_stats_count_by_route_method_and_status():
    """Counters group requests by route template, method and status, in Python and over HTTP."""
    with Sandbox(scenario=shop()) as site:
        http = login(site)
        http.get(f"{site.url}/rest/api/3/issue/SHOP-1")
        http.get(f"{site.url}/rest/api/3/issue/SHOP-2")
        http.put(f"{site.url}/rest/api/2/issue/SHOP-1", json={"fields": {"labels": []}})
        http.get(f"{site.url}/rest/api/3/search/jql", params={"jql": "project = SHOP"})
        requests.get(f"{site.url}/rest/api/3/issue/SHOP-1")  # 401, still counted
        expected = {
            "total": 5,
            "by_route": {"GET /rest/api/3/issue/{idOrKey}": 3,
                         "PUT /rest/api/2/issue/{idOrKey}": 1,
                         "GET /rest/api/3/search/jql": 1},
            "by_method": {"GET": 4, "PUT": 1},
            "by_status": {"200": 3, "204": 1, "401": 1},
        }
        assert site.stats() == expected
        assert requests.get(f"{site.url}/__sandbox/stats").json() == expected
        assert requests.post(f"{site.url}/__sandbox/stats/reset").status_code == 204
        assert site.stats()["total"] == 0
        http.get(f"{site.url}/rest/api/2/myself")
        site.reset_stats()
        assert site.stats() == {"total": 0, "by_route": {}, "by_method": {}, "by_status": {}}


def test_secrets_never_appear_in_responses():
    """No API token or PAT is rendered in any user object the site returns."""
    with Sandbox(scenario=shop(), flavor="server") as site:
        http = login(site)
        texts = [http.get(f"{site.url}/rest/api/2/myself").text,
                 http.get(f"{site.url}/rest/api/2/issue/SHOP-1",
                          params={"expand": "changelog"}).text]
        for user in site.state.users.values():
            for text in texts:
                assert user.api_token not in text and user.pat not in text


def test_a_handler_bug_is_a_logged_json_500(monkeypatch, caplog):
    """An exception inside a handler answers a Jira-shaped 500 and logs the traceback."""
    with Sandbox(scenario=shop()) as site:
        def broken(**kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(site.app, "do_myself", broken)
        answer = login(site).get(f"{site.url}/rest/api/2/myself")
    assert answer.status_code == 500 and "myself" in answer.json()["errorMessages"][0]
    assert any("boom" in (r.exc_text or "") for r in caplog.records)


def test_injected_errors_come_as_jira_json_or_proxy_html():
    """500/503 carry Jira's JSON error body; 502/504 the HTML page a proxy sends."""
    with Sandbox(scenario=shop(), error_rate=1.0, seed=4) as site:
        http = login(site)
        answers = [http.get(f"{site.url}/rest/api/2/myself") for _ in range(30)]
    by_status = {a.status_code: a for a in answers}
    assert set(by_status) == {500, 502, 503, 504}
    for status in (500, 503):
        assert by_status[status].json()["errorMessages"]
    assert by_status[503].headers["Retry-After"] == "1"
    for status in (502, 504):
        assert by_status[status].headers["Content-Type"].startswith("text/html")
        assert f"<title>{status} " in by_status[status].text


def test_the_heap_stays_frozen_until_the_last_sandbox_stops(monkeypatch):
    """Serving freezes the collector's view of the heap (the site is long-lived); stopping
    one of two sandboxes keeps it frozen, stopping the last unfreezes it."""
    import gc

    from jira_pm.sandbox import server

    monkeypatch.setattr(server, "_HEAP", server._HeapFreeze())
    first = Sandbox(issues=5).start()
    second = Sandbox(issues=5).start()
    try:
        assert gc.get_freeze_count() > 0
        first.stop()
        assert gc.get_freeze_count() > 0
    finally:
        first.stop()
        second.stop()
    assert gc.get_freeze_count() == 0
    second.stop()  # stopping twice releases nothing twice
    assert server._HEAP._serving == 0
