"""Tests of jira_pm.jira.http: retry policy, error mapping, ambiguous writes, redaction."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
from email.utils import formatdate
from pathlib import Path

import pytest
import requests
import responses
import urllib3.exceptions
from fake_time import BASE, NOW, FakeTime, http_factory

from jira_pm.config import Settings
from jira_pm.errors import (
    AmbiguousWriteError,
    ConfigError,
    JiraAuthError,
    JiraBadRequest,
    JiraError,
    JiraGone,
    JiraNotFound,
    JiraPermissionError,
    JiraRateLimited,
    JiraServerError,
    JiraUnexpectedResponse,
    JiraUnreachable,
)
from jira_pm.jira.http import (
    FIRST_CONTACT_SECONDS,
    JiraHttp,
    jira_message,
    parse_retry_after,
    redact,
    register_secret,
)

# Not imported from conftest: a second conftest (tests/sandbox/) can shadow that module name.
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests need ../shared/ beside the checkout")
    return path



@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_http(fake_time):
    return http_factory(fake_time, wall_clock=lambda: NOW)


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def dropped() -> requests.ConnectionError:
    """The error requests raises when the server closes the socket after the request went out."""
    return requests.ConnectionError(urllib3.exceptions.ProtocolError(
        "Connection aborted.", http.client.RemoteDisconnected("closed without response")))


def refused() -> requests.ConnectionError:
    """The error requests raises when nothing listens: the request never left."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))


# ---- retry policy -------------------------------------------------------------------------


def test_retry_after_seconds_is_honoured_plus_jitter(mock, make_http, fake_time):
    """A 429 with Retry-After: 7 makes the client sleep 7 s plus jitter, then succeed."""
    mock.get(f"{BASE}/rest/api/2/myself", status=429, headers={"Retry-After": "7"}, json={})
    mock.get(f"{BASE}/rest/api/2/myself", json={"name": "bot"})
    http = make_http()
    assert http.get("/rest/api/2/myself") == {"name": "bot"}
    assert fake_time.sleeps == [7.25]
    assert http.requests_sent == 2


def test_retry_after_http_date_is_honoured(mock, make_http, fake_time):
    """A Retry-After given as an HTTP date waits until that instant plus jitter."""
    mock.get(f"{BASE}/x", status=503, headers={"Retry-After": formatdate(NOW + 30, usegmt=True)})
    mock.get(f"{BASE}/x", json=[])
    assert make_http().get("/x") == []
    assert fake_time.sleeps == [30.25]


def test_unparseable_retry_after_falls_back_to_backoff(mock, make_http, fake_time):
    """A garbage Retry-After never crashes: the client backs off exponentially instead."""
    mock.get(f"{BASE}/x", status=429, headers={"Retry-After": "soon-ish"})
    mock.get(f"{BASE}/x", status=429, headers={"Retry-After": ""})
    mock.get(f"{BASE}/x", json={})
    make_http().get("/x")
    assert fake_time.sleeps == [1.25, 2.25]


def test_429_429_200_counts_calls(mock, make_http, fake_time):
    """429 → 429 → 200 makes exactly three calls and two waits."""
    first = mock.get(f"{BASE}/x", status=429, headers={"Retry-After": "1"})
    mock.get(f"{BASE}/x", status=429, headers={"Retry-After": "2"})
    mock.get(f"{BASE}/x", json={"ok": True})
    http = make_http()
    assert http.get("/x") == {"ok": True}
    assert first.call_count == 1 and len(mock.calls) == 3
    assert http.requests_sent == 3
    assert fake_time.sleeps == [1.25, 2.25]


def test_500_backs_off_exponentially_and_gives_up_after_max_elapsed(mock, make_http, fake_time):
    """Repeated 500s back off 1, 2, 4 s (plus jitter) and give up before max_retry_seconds."""
    mock.get(f"{BASE}/x", status=500, json={"errorMessages": ["Internal server error"]})
    http = make_http(max_retry_seconds=10)
    with pytest.raises(JiraServerError) as info:
        http.get("/x")
    assert fake_time.sleeps == [1.25, 2.25, 4.25]  # the next 8.25 s wait would pass 10 s
    assert len(mock.calls) == 4
    assert "Internal server error" in info.value.one_line()
    assert info.value.exit_code == 3


def test_backoff_is_capped(mock, make_http, fake_time):
    """Exponential backoff never waits longer than the cap (plus jitter)."""
    mock.get(f"{BASE}/x", status=502)
    http = make_http(max_retry_seconds=20, backoff_cap=4)
    with pytest.raises(JiraServerError):
        http.get("/x")
    assert fake_time.sleeps == [1.25, 2.25, 4.25, 4.25, 4.25]


def test_retry_after_beyond_the_budget_gives_up_at_once(mock, make_http, fake_time):
    """A Retry-After longer than max_retry_seconds raises JiraRateLimited without sleeping."""
    mock.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"},
             json={"errorMessages": ["The request has been rate-limited."]})
    with pytest.raises(JiraRateLimited) as info:
        make_http(max_retry_seconds=60).get("/x")
    assert fake_time.sleeps == []
    assert "rate-limited" in info.value.one_line()


def test_connection_errors_are_retried_for_get(mock, make_http, fake_time):
    """A dropped connection on a GET is retried with backoff."""
    mock.get(f"{BASE}/x", body=dropped())
    mock.get(f"{BASE}/x", body=requests.exceptions.ReadTimeout("read timed out"))
    mock.get(f"{BASE}/x", json={"ok": 1})
    assert make_http().get("/x") == {"ok": 1}
    assert fake_time.sleeps == [1.25, 2.25]


def test_unreachable_after_max_elapsed(mock, make_http, fake_time):
    """A host that answered once, then keeps refusing, raises JiraUnreachable naming the site."""
    mock.get(f"{BASE}/first", json={})
    mock.get(f"{BASE}/x", body=refused())
    http = make_http(max_retry_seconds=5)
    http.get("/first")
    with pytest.raises(JiraUnreachable) as info:
        http.get("/x")
    assert BASE in info.value.one_line()
    assert len(mock.calls) == 4  # /first, then waits 1.25 + 2.25; a third (4.25) would pass 5 s


def test_a_site_that_never_answered_gets_only_the_short_first_contact_budget(
        mock, make_http, fake_time):
    """Refused at the start, a request gives up after ~15 s, not after max_retry_seconds."""
    mock.get(f"{BASE}/x", body=refused())
    with pytest.raises(JiraUnreachable) as info:
        make_http(max_retry_seconds=300).get("/x")
    assert sum(fake_time.sleeps) <= FIRST_CONTACT_SECONDS
    assert info.value.exit_code == 3


def test_a_site_that_answered_before_gets_the_full_retry_budget(mock, make_http, fake_time):
    """Once Jira has answered, connection errors are retried for max_retry_seconds."""
    mock.get(f"{BASE}/first", json={})
    mock.get(f"{BASE}/x", body=refused())
    http = make_http(max_retry_seconds=60)
    http.get("/first")
    with pytest.raises(JiraUnreachable):
        http.get("/x")
    assert FIRST_CONTACT_SECONDS < sum(fake_time.sleeps) <= 60


def test_a_struggling_first_answer_counts_as_an_answer(mock, make_http, fake_time):
    """A 503 on the first request means Jira is up but busy: it gets the full budget."""
    mock.get(f"{BASE}/x", status=503)
    with pytest.raises(JiraServerError):
        make_http(max_retry_seconds=60).get("/x")
    assert sum(fake_time.sleeps) > FIRST_CONTACT_SECONDS


@pytest.mark.parametrize(("error", "cause"), [
    (refused, "wrong port"),
    (lambda: _wrapped(_name_resolution()), "typo"),
    (lambda: requests.exceptions.ConnectTimeout("connect timed out"), "proxy"),
])
def test_unreachable_at_the_start_names_the_url_and_the_likely_cause(mock, make_http, error,
                                                                     cause):
    """The error names the configured URL and the likely cause: typo, wrong port, proxy."""
    mock.get(f"{BASE}/x", body=error())
    with pytest.raises(JiraUnreachable) as info:
        make_http(max_retry_seconds=300).get("/x")
    line = info.value.one_line()
    assert f"cannot reach {BASE}" in line and cause in line and "\n" not in line


def test_every_wait_is_reported_to_observers_in_words(mock, make_http, fake_time):
    """Each retry wait reaches the observers: seconds, Jira's status or the failure, attempt."""
    mock.get(f"{BASE}/x", status=503, headers={"Retry-After": "30"})
    mock.get(f"{BASE}/x", body=dropped())
    mock.get(f"{BASE}/x", json={"ok": 1})
    waits = []
    http = make_http(max_retry_seconds=300)
    http.add_wait_observer(waits.append)
    assert http.get("/x") == {"ok": 1}
    assert [w.describe() for w in waits] == [
        "waiting 30 s: Jira answered 503 (attempt 1)",
        "waiting 2.2 s: connection closed by jira.example.test:443 before it answered "
        "(attempt 2)"]
    assert (waits[0].status, waits[0].method, waits[0].path, waits[0].seconds) == (
        503, "GET", "/x", 30.25)


def test_tls_failure_is_not_retried(mock, make_http, fake_time):
    """A TLS error fails at once with a hint about verify_tls."""
    mock.get(f"{BASE}/x", body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(JiraUnreachable) as info:
        make_http().get("/x")
    assert "verify_tls" in info.value.one_line() and fake_time.sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410])
def test_4xx_is_not_retried(mock, make_http, fake_time, status):
    """A 4xx other than 429 fails after exactly one call."""
    mock.get(f"{BASE}/x", status=status, json={"errorMessages": ["nope"]})
    with pytest.raises(JiraError):
        make_http().get("/x")
    assert len(mock.calls) == 1 and fake_time.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [dropped(), requests.exceptions.ReadTimeout("read timed out"), 500, 502, 503],
    ids=["dropped", "read-timeout", "500", "502", "503"],
)
def test_ambiguous_post_is_not_retried(mock, make_http, fake_time, failure):
    """A POST that may have reached Jira raises AmbiguousWriteError after exactly one call."""
    url = f"{BASE}/rest/api/2/issue/10001/comment"
    if isinstance(failure, int):
        mock.post(url, status=failure, headers={"Retry-After": "1"})
    else:
        mock.post(url, body=failure)
    with pytest.raises(AmbiguousWriteError) as info:
        make_http().post("/rest/api/2/issue/10001/comment", {"body": "hi"})
    assert len(mock.calls) == 1 and fake_time.sleeps == []
    assert "/rest/api/2/issue/10001/comment" in info.value.one_line()


def test_post_that_never_left_is_retried(mock, make_http, fake_time):
    """A refused connection sent nothing, so even a comment POST is retried."""
    url = f"{BASE}/rest/api/2/issue/1/comment"
    mock.post(url, body=refused())
    mock.post(url, status=201, json={"id": "5"})
    assert make_http().post("/rest/api/2/issue/1/comment", {"body": "x"}) == {"id": "5"}
    assert len(mock.calls) == 2


def test_post_rate_limited_is_retried(mock, make_http, fake_time):
    """A 429 on a POST means Jira did not process it, so it is retried after Retry-After."""
    url = f"{BASE}/rest/api/2/issue/1/comment"
    mock.post(url, status=429, headers={"Retry-After": "2"})
    mock.post(url, status=201, json={"id": "6"})
    assert make_http().post("/rest/api/2/issue/1/comment", {"body": "x"}) == {"id": "6"}
    assert fake_time.sleeps == [2.25]


def test_idempotent_post_is_retried_on_5xx(mock, make_http, fake_time):
    """A POST that is a read (search/jql) with idempotent=True is retried on 500."""
    url = f"{BASE}/rest/api/3/search/jql"
    mock.post(url, status=500)
    mock.post(url, json={"issues": []})
    assert make_http().post("/rest/api/3/search/jql", {"jql": "x"}, idempotent=True) == {
        "issues": []}
    assert len(mock.calls) == 2


def test_label_put_is_retried_on_dropped_connection(mock, make_http, fake_time):
    """A PUT of update.labels add/remove is idempotent and is retried."""
    url = f"{BASE}/rest/api/2/issue/1"
    mock.put(url, body=dropped())
    mock.put(url, status=204)
    assert make_http().put("/rest/api/2/issue/1", {"update": {"labels": []}}) is None
    assert len(mock.calls) == 2


# ---- error mapping ------------------------------------------------------------------------

STATUS_CLASSES = {400: JiraBadRequest, 401: JiraAuthError, 403: JiraPermissionError,
                  404: JiraNotFound, 410: JiraGone, 429: JiraRateLimited}


def recorded_error_files():
    root = SHARED / "jira-recorded"
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/error*.json"))


def expected_texts(body) -> list[str]:
    texts = [m for m in body.get("errorMessages", [])]
    texts += list(body.get("errors", {}).values())
    texts += [body[k] for k in ("message", "errorMessage") if isinstance(body.get(k), str)]
    return [" ".join(t.split()) for t in texts]


@pytest.mark.parametrize("relative", recorded_error_files())
def test_recorded_error_bodies_give_jiras_message(mock, make_http, relative):
    """Every recorded Jira error body becomes the right error class carrying Jira's message."""
    path = shared_path("jira-recorded", relative)
    found = re.search(r"error_(\d{3})_", path.name)
    status = int(found.group(1)) if found else 400
    mock.get(f"{BASE}/x", status=status, body=path.read_bytes(),
             content_type="application/json", headers={"Retry-After": "9999"})
    with pytest.raises(STATUS_CLASSES[status]) as info:
        make_http(max_retry_seconds=1).get("/x")
    line = info.value.one_line()
    assert "\n" not in line
    texts = expected_texts(json.loads(path.read_text(encoding="utf-8")))
    assert texts and all(text in line for text in texts)


def test_recorded_errors_exist():
    """The shared recordings hold error bodies of every documented status."""
    shared_path("jira-recorded")
    names = " ".join(recorded_error_files())
    for status in (400, 401, 403, 404, 410, 429):
        assert f"error_{status}_" in names


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"errorMessages": ["A"], "errors": {"labels": "B"}}, "A labels: B"),
        ({"message": "Client must be authenticated", "status-code": 401},
         "Client must be authenticated"),
        ({"errorMessage": "Site temporarily unavailable"}, "Site temporarily unavailable"),
        ({"errorMessages": "plain string"}, "plain string"),
        ({"errorMessages": [], "errors": {}}, None),
        (["not", "a", "dict"], None),
    ],
)
def test_jira_message_reads_every_shape(body, message):
    """jira_message reads errorMessages, errors, message and errorMessage shapes."""
    assert jira_message(body) == message


def test_html_error_names_url_and_title(mock, make_http):
    """An HTML error page becomes JiraUnexpectedResponse naming the URL and the page title."""
    mock.get(f"{BASE}/rest/api/2/field", status=403, content_type="text/html",
             body="<html><head><title>\n Access  Denied </title></head><body>x</body></html>")
    with pytest.raises(JiraUnexpectedResponse) as info:
        make_http().get("/rest/api/2/field")
    line = info.value.one_line()
    assert f"{BASE}/rest/api/2/field" in line and "'Access Denied'" in line


def test_html_200_from_sso_proxy_is_unexpected(mock, make_http):
    """A 200 HTML login page where JSON was due raises JiraUnexpectedResponse."""
    mock.get(f"{BASE}/rest/api/2/myself", status=200, content_type="text/html",
             body="<!DOCTYPE html><html><title>Sign in - Okta</title></html>")
    with pytest.raises(JiraUnexpectedResponse) as info:
        make_http().get("/rest/api/2/myself")
    assert "Sign in - Okta" in info.value.one_line()


def test_401_hint_names_the_credential_variables(mock, make_http):
    """A 401 raises JiraAuthError whose fix names JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PAT."""
    mock.get(f"{BASE}/rest/api/2/myself", status=401, body="")
    with pytest.raises(JiraAuthError) as info:
        make_http().get("/rest/api/2/myself")
    line = info.value.one_line()
    assert all(name in line for name in ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT"))


def test_captcha_403_is_an_auth_error(mock, make_http):
    """A Data Center 403 with X-Seraph-LoginReason AUTHENTICATION_DENIED is a CAPTCHA auth error."""
    mock.get(f"{BASE}/x", status=403, headers={"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"})
    with pytest.raises(JiraAuthError, match="CAPTCHA"):
        make_http().get("/x")


def test_410_hint_points_to_search_jql(mock, make_http):
    """A 410 raises JiraGone with the /search/jql migration hint."""
    mock.get(f"{BASE}/rest/api/3/search", status=410, json={"errorMessages": ["removed"]})
    with pytest.raises(JiraGone) as info:
        make_http().get("/rest/api/3/search")
    assert "/rest/api/3/search/jql" in info.value.one_line()


def test_empty_and_non_json_200(mock, make_http):
    """A 204 decodes to None; a 200 with a non-JSON, non-HTML body is unexpected."""
    mock.delete(f"{BASE}/x", status=204)
    mock.get(f"{BASE}/y", status=200, body="hello", content_type="text/plain")
    http = make_http()
    assert http.delete("/x") is None
    with pytest.raises(JiraUnexpectedResponse, match="text/plain"):
        http.get("/y")


def test_absolute_urls_must_stay_on_the_site(make_http):
    """An absolute URL on another host is refused so credentials never leave the site."""
    http = make_http()
    assert http.url(f"{BASE}/rest/api/2/x?a=1") == f"{BASE}/rest/api/2/x?a=1"
    with pytest.raises(ValueError):
        http.url("https://evil.example.com/rest")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), (None, None), ("", None),
     ("tomorrow", None), (formatdate(NOW + 12, usegmt=True), 12.0),
     (formatdate(NOW - 50, usegmt=True), 0.0), ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0)],
)
def test_parse_retry_after(value, seconds):
    """Retry-After parses as delta-seconds or an HTTP date, never below zero, None if unusable."""
    assert parse_retry_after(value, NOW) == seconds


# ---- auth and secrets ---------------------------------------------------------------------

TOKEN = "ZZtok3n-DISTINCTIVE-4242"


def test_cloud_basic_and_server_bearer_auth(mock):
    """Cloud sends basic e-mail:token; Server with a PAT sends a bearer header."""
    cloud = Settings.for_tests(url=BASE, jira={"deployment": "cloud", "email": "a@b.c",
                                               "api_token": TOKEN})
    server = Settings.for_tests(url=BASE, jira={"deployment": "server", "pat": TOKEN})
    mock.get(f"{BASE}/x", json={})
    mock.get(f"{BASE}/x", json={})
    JiraHttp.from_settings(cloud.jira).get("/x")
    JiraHttp.from_settings(server.jira).get("/x")
    basic = base64.b64encode(f"a@b.c:{TOKEN}".encode()).decode()
    assert mock.calls[0].request.headers["Authorization"] == f"Basic {basic}"
    assert mock.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_incomplete_credentials_are_a_config_error():
    """An e-mail without a token (or the reverse) is a one-line ConfigError naming the variable."""
    with pytest.raises(ConfigError, match="JIRA_API_TOKEN"):
        JiraHttp.from_settings(Settings.for_tests(jira={"email": "a@b.c"}).jira)
    with pytest.raises(ConfigError, match="JIRA_EMAIL"):
        JiraHttp.from_settings(Settings.for_tests(jira={"api_token": "tok-123"}).jira)


def test_tokens_never_reach_logs_or_errors(mock, caplog, fake_time):
    """At DEBUG level no log line or error message contains the token or its basic-auth form."""
    settings = Settings.for_tests(url=BASE, jira={"email": "a@b.c", "api_token": TOKEN})
    http = JiraHttp.from_settings(settings.jira, sleep=fake_time.sleep, clock=fake_time.clock,
                                  jitter=lambda: 0)
    basic = base64.b64encode(f"a@b.c:{TOKEN}".encode()).decode()
    # A misbehaving proxy that echoes the credentials back in its error body.
    mock.get(f"{BASE}/a", status=401, json={"message": f"bad Authorization: Basic {basic}"})
    mock.get(f"{BASE}/b", status=400, json={"errorMessages": [f"token {TOKEN} rejected"]})
    mock.get(f"{BASE}/c", status=500, json={"errorMessages": [f"boom {TOKEN}"]})
    errors = []
    with caplog.at_level(logging.DEBUG):
        for path in ("/a", "/b", "/c"):
            with pytest.raises(JiraError) as info:
                http.get(path)
            errors.append(info.value.one_line() + repr(info.value.args))
        logging.getLogger("jira_pm.jira.http").debug("header was %s", f"Bearer {TOKEN}")
    everything = caplog.text + " ".join(errors) + repr(http.session.auth) + repr(settings)
    assert caplog.records  # DEBUG lines were written
    assert TOKEN not in everything and basic not in everything


def test_redact_masks_known_secrets_and_authorization_values():
    """redact masks registered secrets, Basic/Bearer values and URL passwords."""
    register_secret("s3cret-value-1")
    # Built at run time so no credential-shaped literal sits in the source for scanners.
    basic = base64.b64encode(b"abc:defghi").decode()
    text = (f"x s3cret-value-1 Authorization: Basic {basic} "
            "bearer abcdefgh1jklmnop https://bob:hunter2@jira.example.test/")
    cleaned = redact(text)
    for leaked in ("s3cret-value-1", basic, "abcdefgh1jklmnop", "hunter2"):
        assert leaked not in cleaned
    assert "https://bob:***@jira.example.test/" in cleaned
    assert redact("Basic authentication is disabled") == "Basic authentication is disabled"


# ---- connection errors in words -----------------------------------------------------------


def _wrapped(reason: Exception, kind: type = requests.ConnectionError) -> Exception:
    """``reason`` wrapped the way requests raises it: kind(MaxRetryError(reason))."""
    return kind(urllib3.exceptions.MaxRetryError(None, "/rest/api/2/serverInfo", reason))


def _new_connection(errno_error: OSError) -> urllib3.exceptions.NewConnectionError:
    error = urllib3.exceptions.NewConnectionError(
        None, f"Failed to establish a new connection: {errno_error}")
    error.__cause__ = errno_error
    return error


def _name_resolution() -> urllib3.exceptions.NameResolutionError:
    import socket

    return urllib3.exceptions.NameResolutionError(
        "jira.example.test", None, socket.gaierror(-2, "Name or service not known"))


def _cert_failed() -> Exception:
    import ssl

    cause = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate "
           "in certificate chain (_ssl.c:1006)")
    return _wrapped(urllib3.exceptions.SSLError(cause), requests.exceptions.SSLError)


@pytest.mark.parametrize(("error", "words"), [
    (lambda: _wrapped(_new_connection(ConnectionRefusedError(111, "Connection refused"))),
     "connection refused at jira.example.test:443"),
    (lambda: refused(), "connection refused at jira.example.test:443"),
    (lambda: _wrapped(_name_resolution()),
     "name or service not known (DNS) for jira.example.test:443"),
    (lambda: _wrapped(urllib3.exceptions.ConnectTimeoutError(
        None, "Connection to jira.example.test timed out. (connect timeout=30)"),
        requests.exceptions.ConnectTimeout),
     "timed out connecting to jira.example.test:443"),
    (lambda: requests.exceptions.ReadTimeout(urllib3.exceptions.ReadTimeoutError(
        None, "/x", "Read timed out. (read timeout=30)")),
     "timed out waiting for jira.example.test:443 to answer"),
    (_cert_failed,
     "TLS: certificate verify failed (self-signed certificate) at jira.example.test:443"),
    (lambda: requests.exceptions.SSLError("certificate verify failed"),
     "TLS: certificate verify failed at jira.example.test:443"),
    (lambda: dropped(), "connection closed by jira.example.test:443 before it answered"),
    (lambda: requests.ConnectionError(urllib3.exceptions.ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))),
     "connection reset by jira.example.test:443"),
    (lambda: requests.ConnectionError(OSError("something odd")),
     "connection to jira.example.test:443 failed (OSError)"),
])
def test_connection_errors_are_summarised_in_words(error, words):
    """Each kind of connection failure becomes short words naming host:port, not a repr."""
    from jira_pm.jira.http import describe_connection_error

    assert describe_connection_error(error(), f"{BASE}/rest/api/2/serverInfo") == words


def test_the_summary_names_a_non_default_port_and_ipv6_hosts():
    """An explicit port is named; IPv6 literals keep their brackets."""
    from jira_pm.jira.http import describe_connection_error

    assert describe_connection_error(refused(), "http://127.0.0.1:8080/x") == (
        "connection refused at 127.0.0.1:8080")
    assert describe_connection_error(refused(), "http://[::1]:9000/x") == (
        "connection refused at [::1]:9000")


def test_a_real_refused_connection_gives_one_readable_line(fake_time):
    """Against a closed loopback port the error is whole words: no cut urllib3 repr."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = JiraHttp(f"http://127.0.0.1:{port}", max_retry_seconds=3, sleep=fake_time.sleep,
                    clock=fake_time.clock, jitter=lambda: 0.25)
    with pytest.raises(JiraUnreachable) as info:
        http.get("/rest/api/2/serverInfo")
    line = info.value.one_line()
    assert line.startswith(f"cannot reach http://127.0.0.1:{port} for GET /rest/api/2/serverInfo")
    assert f"connection refused at 127.0.0.1:{port} — check [jira] url" in line
    assert "HTTPConnection" not in line and "Failed to establish" not in line


def test_from_settings_lets_options_override_the_configured_ones():
    """make_client(settings, max_retry_seconds=15) must not clash with the configured value."""
    settings = Settings.for_tests(jira={"max_retry_seconds": 300})
    http = JiraHttp.from_settings(settings.jira, max_retry_seconds=15)
    assert http.max_retry_seconds == 15
    assert JiraHttp.from_settings(settings.jira).max_retry_seconds == 300


@pytest.mark.parametrize("configured, sent", [
    ("/etc/jira-pm/ca.pem", "/etc/jira-pm/ca.pem"),
    (False, False),
    (True, "/env/bundle.pem"),
])
def test_an_explicit_verify_tls_beats_the_environments_ca_bundle(monkeypatch, configured, sent):
    """A CA path or false in verify_tls wins over $REQUESTS_CA_BUNDLE; true lets it apply."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/bundle.pem")
    http = JiraHttp(BASE, verify=configured, sleep=lambda s: None)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(f"{BASE}/rest/api/2/myself", json={"name": "bot"})
        http.get("/rest/api/2/myself")
        assert mock.calls[0].request.req_kwargs["verify"] == sent


# ---- stopping (Ctrl-C during a parallel write-back) ----------------------------------------


def test_stop_ends_a_retry_wait_and_sends_nothing_more(mock):
    """stop() wakes a thread waiting to retry a write, which then sends nothing (Ctrl-C)."""
    import threading
    import time

    from jira_pm.jira.http import RequestStopped

    mock.put(f"{BASE}/rest/api/2/issue/PM-1", status=503, headers={"Retry-After": "60"},
             json={})
    http = JiraHttp(BASE, max_retry_seconds=300)
    waiting, outcome = threading.Event(), []
    http.add_wait_observer(lambda wait: waiting.set())

    def write() -> None:
        try:
            http.put("/rest/api/2/issue/PM-1", {"update": {}})
        except BaseException as exc:  # noqa: BLE001 - the test reports what the thread met
            outcome.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    assert waiting.wait(timeout=30)
    started = time.monotonic()
    http.stop()
    writer.join(timeout=30)
    assert not writer.is_alive() and time.monotonic() - started < 5
    assert [type(exc) for exc in outcome] == [RequestStopped]
    assert http.requests_sent == 1 and len(mock.calls) == 1
    http.resume()  # a later write-back (the Python API) sends again
    mock.put(f"{BASE}/rest/api/2/issue/PM-2", status=204)
    http.put("/rest/api/2/issue/PM-2", {"update": {}})
    assert len(mock.calls) == 2
