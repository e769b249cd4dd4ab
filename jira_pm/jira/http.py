"""The HTTP layer: one ``requests.Session`` with auth, timeouts, TLS, retries and errors.

Retry policy (docs/jira-client.md), driven by tenacity with injectable sleep and clocks:

- 429 (any method) and 503 (idempotent requests) wait at least ``Retry-After``
  (delta-seconds or an HTTP date) plus jitter; without the header they back off;
- other 5xx and connection errors back off exponentially with a cap;
- the whole retrying of one request stops after ``max_retry_seconds`` — once Jira
  has answered at least once. Until then (a typo'd host, a wrong port, a missing
  proxy) the budget is ``FIRST_CONTACT_SECONDS``, so a command fails in seconds;
- every wait is reported to the observers added with ``add_wait_observer`` (the
  CLI's terminal line, the runner's JSON log) as a ``RetryWait``;
- other 4xx fail at once with Jira's own message, mapped to ``jira_pm.errors``;
- a non-idempotent POST is never retried once it may have reached Jira (read
  timeout, dropped connection, 5xx): that raises ``AmbiguousWriteError``, so a
  retry can never post a second comment. A refused connection sent nothing and
  is retried for every method.

Secrets never reach logs or messages: every credential is registered with
``jira_pm.redaction``, which masks it in any form (stripped, repr-escaped,
URL-encoded, base64 Basic) and anything that looks like an Authorization value.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import os
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import requests.adapters
import tenacity
import urllib3.exceptions
from requests.auth import AuthBase, HTTPBasicAuth

from jira_pm import __version__, jsontext
from jira_pm.errors import (
    AmbiguousWriteError,
    ConfigError,
    JiraAuthError,
    JiraBadRequest,
    JiraError,
    JiraGone,
    JiraNoSuchEndpoint,
    JiraNotFound,
    JiraPermissionError,
    JiraRateLimited,
    JiraServerError,
    JiraUnexpectedResponse,
    JiraUnreachable,
)
from jira_pm.jira.pacing import (
    Gate,
    Scope,
    budget_words,
    issue_of,
    parse_reset,
    reason_words,
    scope_of_reason,
)
from jira_pm.redaction import REDACTING_FILTER, redact, register_basic, register_secret

if TYPE_CHECKING:
    from jira_pm.config import JiraSettings

log = logging.getLogger(__name__)

AUTH_HINT = (
    "set JIRA_EMAIL and JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center), "
    "and check the token is current"
)
PAT_HINT = (
    "a personal access token works only on Jira Server/Data Center: for Jira Cloud set "
    "JIRA_EMAIL and JIRA_API_TOKEN instead; otherwise check JIRA_PAT is current"
)

# Redaction lives in jira_pm.redaction (errors, the runner and the CLI use it too); this
# module's logger masks every record, and registers each credential it is handed.
log.addFilter(REDACTING_FILTER)


def header_safe(value: str) -> bool:
    """True when ``value`` can go in an HTTP header: no line break or other control character."""
    return all(ch.isprintable() for ch in value)


class BearerAuth(AuthBase):
    """Data Center personal access token: ``Authorization: Bearer <PAT>``."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth('***')"


def auth_from_settings(jira: JiraSettings) -> AuthBase | None:
    """Cloud: e-mail + API token (basic). Server/DC: PAT (bearer), else basic. None = anonymous."""
    token = jira.api_token.reveal() if jira.api_token else None
    pat = jira.pat.reveal() if jira.pat else None
    register_secret(pat)
    register_basic(jira.email, token)
    for name, value in (("JIRA_PAT", pat), ("JIRA_API_TOKEN", token), ("JIRA_EMAIL", jira.email)):
        if value and not header_safe(value):
            raise ConfigError(
                f"{name} holds a line break or control character inside it (value not shown)",
                hint=f"set {name} again on one line, with nothing but the value")
    basic_ok = bool(jira.email and token)
    if jira.deployment == "cloud" and not basic_ok and (jira.email or token or pat):
        raise ConfigError(
            "Jira Cloud needs an e-mail and an API token, and one of them is missing",
            hint="set JIRA_EMAIL and JIRA_API_TOKEN ([jira] email / api_token)",
        )
    if pat and (jira.deployment == "server" or not basic_ok):
        return BearerAuth(pat)
    if basic_ok:
        return HTTPBasicAuth(jira.email, token)
    if jira.email or token:
        missing = "JIRA_API_TOKEN" if jira.email else "JIRA_EMAIL"
        key = "api_token" if jira.email else "email"
        raise ConfigError(f"Jira credentials are incomplete: {missing} is not set",
                          hint=f"set {missing} (or [jira] {key})")
    return None


def unused_credentials(jira: JiraSettings) -> str | None:
    """With both kinds of credentials set, the one ``auth_from_settings`` does not send
    (its variable name, never its value); None otherwise."""
    pat = bool(jira.pat and jira.pat.reveal())
    basic = bool(jira.email and jira.api_token and jira.api_token.reveal())
    if not (pat and basic):
        return None
    return "JIRA_EMAIL/JIRA_API_TOKEN" if jira.deployment == "server" else "JIRA_PAT"


# ---- error bodies -------------------------------------------------------------------------

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def html_title(text: str) -> str | None:
    """The <title> of an HTML page, whitespace collapsed, or None."""
    match = _TITLE.search(text)
    if not match:
        return None
    return " ".join(match.group(1).split()) or None


def looks_like_html(response: requests.Response) -> bool:
    kind = response.headers.get("Content-Type", "").lower()
    head = response.text[:200].lstrip().lower()
    return "html" in kind or head.startswith(("<!doctype html", "<html"))


def jira_message(body: Any) -> str | None:
    """Jira's own message from any of its error shapes, or None.

    Shapes seen in the wild: ``{"errorMessages": [...], "errors": {field: msg}}``,
    ``{"message": ...}`` (Cloud gateway), ``{"errorMessage": ...}`` (some plugins/DC).
    """
    if not isinstance(body, dict):
        return None
    parts: list[str] = []
    messages = body.get("errorMessages")
    if isinstance(messages, list):
        parts += [str(m).strip() for m in messages if str(m).strip()]
    elif isinstance(messages, str) and messages.strip():
        parts.append(messages.strip())
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts += [f"{field}: {str(msg).strip()}" for field, msg in errors.items()]
    for key in ("message", "errorMessage"):
        value = body.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in parts:
            parts.append(value.strip())
    return " ".join(" ".join(parts).split()) or None


def response_message(response: requests.Response) -> str:
    """What Jira said, as one short line: its JSON message, an HTML title or the text."""
    try:
        message = jira_message(response.json())
    except ValueError:
        message = None
    if message:
        return message
    if looks_like_html(response):
        title = html_title(response.text)
        return f"an HTML page titled {title!r}" if title else "an HTML page"
    text = " ".join(response.text.split())
    return text[:200] if text else (response.reason or f"HTTP {response.status_code}")


# ---- retry plumbing -----------------------------------------------------------------------


class RequestStopped(Exception):
    """A request not sent because the run stopped (``JiraHttp.stop``): nothing went to Jira."""


class _Retryable(Exception):
    """One failed attempt that the policy may retry."""

    def __init__(self, *, response: requests.Response | None = None,
                 error: Exception | None = None, retry_after: float | None = None,
                 scope: Scope | None = None, limit_reason: str | None = None):
        super().__init__(str(error) if error else f"HTTP {response.status_code}")
        self.response = response
        self.error = error
        self.retry_after = retry_after
        self.scope = scope  # what a 429 holds back (pacing.py); None for other failures
        self.limit_reason = limit_reason  # its RateLimit-Reason, as Jira sent it


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _sent_nothing(error: Exception) -> bool:
    """True when the request never left: DNS failure, refused or timed-out connect."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    cause: Any = error.args[0] if error.args else None
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    return isinstance(cause, (urllib3.exceptions.NewConnectionError,
                              urllib3.exceptions.ConnectTimeoutError))


# ---- connection errors, in words ----------------------------------------------------------


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception it wraps (args, ``reason``, causes), outermost first."""
    seen: list[BaseException] = []
    todo: list[Any] = [error]
    while todo:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or any(current is e for e in seen):
            continue
        seen.append(current)
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        todo.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
    return seen


def _tls_reason(chain: list[BaseException], text: str) -> str:
    lowered = text.lower()
    if "certificate_verify_failed" in lowered or "certificate verify failed" in lowered \
            or any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        for detail in ("self-signed certificate", "certificate has expired",
                       "unable to get local issuer certificate", "hostname mismatch",
                       "ip address mismatch"):
            if detail in lowered:
                return f"TLS: certificate verify failed ({detail})"
        return "TLS: certificate verify failed"
    if "wrong version number" in lowered:
        return "TLS: handshake failed (wrong version number: is it plain http?)"
    if "handshake" in lowered and "timed out" in lowered:
        return "TLS: handshake timed out"
    return "TLS: handshake failed"


def describe_connection_error(error: BaseException, url: str) -> str:
    """A connection failure as a few readable words naming host:port, never a urllib3 repr.

    "connection refused at jira.example.com:443", "name or service not known (DNS)
    for jira.example.com:443", "timed out connecting to …", "TLS: certificate
    verify failed at …", "connection closed by … before it answered".
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "?"
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    chain = _chain(error)
    text = " ".join(str(e) for e in chain)
    lowered = text.lower()

    def has(*kinds: type) -> bool:
        return any(isinstance(e, kinds) for e in chain)

    if has(requests.exceptions.SSLError, urllib3.exceptions.SSLError, ssl.SSLError):
        return f"{_tls_reason(chain, text)} at {where}"
    if has(urllib3.exceptions.NameResolutionError, socket.gaierror) or any(
            s in lowered for s in ("name or service not known", "failed to resolve",
                                   "nodename nor servname", "getaddrinfo failed",
                                   "temporary failure in name resolution")):
        return f"name or service not known (DNS) for {where}"
    if has(ConnectionRefusedError) or "connection refused" in lowered or "errno 111" in lowered:
        return f"connection refused at {where}"
    if has(requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError):
        return f"timed out connecting to {where}"
    if has(requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError) \
            or "timed out" in lowered:
        return f"timed out waiting for {where} to answer"
    # RemoteDisconnected is a ConnectionResetError: test it first.
    if has(http.client.RemoteDisconnected) or any(
            s in lowered for s in ("remote end closed", "closed without response")):
        return f"connection closed by {where} before it answered"
    if has(ConnectionResetError) or "connection reset" in lowered:
        return f"connection reset by {where}"
    if has(ConnectionAbortedError) or "connection aborted" in lowered:
        return f"connection closed by {where} before it answered"
    if "network is unreachable" in lowered or "no route to host" in lowered:
        return f"no route to {where} (network unreachable)"
    innermost = chain[-1] if chain else error
    return f"connection to {where} failed ({type(innermost).__name__})"


# ---- waits, reported --------------------------------------------------------------------

FIRST_CONTACT_SECONDS = 15.0  # retry budget (and connect timeout) until Jira first answers


@dataclass(frozen=True)
class RetryWait:
    """One wait before a retry, as told to observers: what failed and for how long we wait."""

    method: str
    path: str
    seconds: float
    attempt: int  # the attempt that failed, from 1
    reason: str  # "Jira answered 503", "connection refused at host:port"
    status: int | None = None
    # What the wait holds back (pacing.Scope as text: "everything", "endpoint GET /x",
    # "issue 10042") and Jira's RateLimit-Reason, for rate limits; empty otherwise.
    scope: str = ""
    limit_reason: str = ""

    def describe(self) -> str:
        """'waiting 30 s: Jira answered 503 (attempt 4)'; attempt 0 is a pacing notice:
        'slowing down: …'."""
        if self.attempt == 0:
            return f"slowing down: {self.reason}"
        shown = f"{self.seconds:.1f}" if self.seconds < 10 else f"{self.seconds:.0f}"
        return f"waiting {shown} s: {self.reason} (attempt {self.attempt})"


def _unreachable_hint(reason: str) -> str:
    """The likely cause of a connection failure, from its words (describe_connection_error)."""
    if reason.startswith("connection refused"):
        return ("check [jira] url / $JIRA_URL: nothing accepts connections there (a wrong "
                "port, Jira is down, or a proxy is needed: HTTPS_PROXY)")
    if reason.startswith("name or service not known"):
        return ("check [jira] url / $JIRA_URL for a typo in the host name, or set HTTPS_PROXY "
                "if the site is only reachable through a proxy")
    if reason.startswith(("timed out connecting", "no route")):
        return ("check [jira] url / $JIRA_URL's host and port: nothing answered, so a firewall, "
                "VPN or a missing proxy (HTTPS_PROXY) is the usual cause")
    return "check [jira] url / $JIRA_URL, the network and any proxy (HTTPS_PROXY)"


# ---- the session --------------------------------------------------------------------------


def read_environment_once(session: requests.Session, base_url: str) -> None:
    """Settle what requests would read from the environment on every request, once, now.

    With ``trust_env`` on, requests looks up proxies (HTTPS_PROXY, NO_PROXY, ...),
    the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) and ~/.netrc again for each
    request: about 0.2 ms of CPU each, a few seconds over a large sync. Every
    request of a JiraHttp goes to one site (``JiraHttp.url`` refuses others), so
    the answers for ``base_url`` are the answers for all of them: they go on the
    session the way requests would have applied them, and ``trust_env`` goes off.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    if session.verify is True:
        session.verify = (os.environ.get("REQUESTS_CA_BUNDLE")
                          or os.environ.get("CURL_CA_BUNDLE") or True)
    if session.auth is None:  # anonymous: requests would have sent ~/.netrc's login
        login = requests.utils.get_netrc_auth(base_url)
        if login:
            session.auth = HTTPBasicAuth(*login)
    session.trust_env = False


class Undecoded:
    """A successful answer whose body is not decoded yet (``JiraHttp.request(decoded=False)``).

    Sync's search threads fetch pages this way and leave the JSON to the thread that
    maps and saves them: decoding is the costliest step of a page, and in the saving
    thread it neither contends with the mapping for the interpreter nor hands the
    page's objects from one core's cache to another's.
    """

    def __init__(self, http: JiraHttp, response: requests.Response, method: str, url: str):
        self._http, self._response, self._method, self._url = http, response, method, url

    def decode(self) -> Any:
        """The JSON, or None for an empty answer; raises as ``JiraHttp.request`` would."""
        return self._http._decode(self._response, self._method, self._url)


class JiraHttp:
    """Sends requests to one Jira site and returns decoded JSON, or raises a JiraError.

    ``requests_sent`` counts every attempt that went out (retries included).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: AuthBase | None = None,
        timeout: float = 30,
        verify: bool | str = True,
        max_retry_seconds: float = 300,
        first_contact_seconds: float = FIRST_CONTACT_SECONDS,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = lambda: random.uniform(0, 1),
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retry_seconds = max_retry_seconds
        self.first_contact_seconds = first_contact_seconds
        # Set by the first HTTP answer of any status: from then on a failure means a
        # struggling Jira, worth max_retry_seconds; before it, most likely a wrong URL.
        self.answered = False
        self._wait_observers: list[Callable[[RetryWait], None]] = []
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        # Set by stop(): retry waits and paced turns end at once, nothing more is sent.
        self._stopped = threading.Event()
        # The real sleep is a wait on that event, so a stop wakes a waiting thread.
        self._sleep = sleep if sleep is not None else self._stopped.wait
        self._clock = clock
        self._wall_clock = wall_clock
        self._jitter = jitter
        self._count_lock = threading.Lock()
        self.requests_sent = 0
        self.rate_limited = 0  # 429 answers received
        # Per-scope turns shared by every thread (pacing.py): a refusal or a nearly spent
        # budget holds back only the endpoint, the issue or everything Jira names.
        self.gate = Gate(clock=clock, sleep=self._sleep)
        self._paces_told: set[tuple[str, str]] = set()
        built = session is None
        if session is None:
            session = requests.Session()
            # Room for max_parallel (<= 16) threads; urllib3's own retries stay off: ours rule.
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=16, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        self.session.auth = auth
        # Set by JiraClient: rewrites a 4xx error with what only the client knows.
        self.explain: Callable[[JiraError], JiraError] | None = None
        self.session.verify = verify
        # requests lets $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE beat session.verify
        # (psf/requests#4726). A CA path or `false` in [jira] verify_tls is explicit and
        # must win, so it goes on every request; the default (true) still honours an
        # environment bundle, as corporate proxies rely on.
        self._verify_override = None if verify is True else verify
        if built:
            read_environment_once(session, self.base_url)
        self.session.headers.update({
            "Accept": "application/json",
            "User-Agent": f"jira-pm/{__version__}",
            # Data Center's XSRF check rejects some writes without it; harmless elsewhere.
            "X-Atlassian-Token": "no-check",
        })

    @classmethod
    def from_settings(cls, jira: JiraSettings, **kwargs: Any) -> JiraHttp:
        """A session for ``jira``; ``kwargs`` override (doctor's short ``max_retry_seconds``)."""
        options: dict[str, Any] = {"timeout": jira.timeout_seconds, "verify": jira.verify_tls,
                                   "max_retry_seconds": jira.max_retry_seconds}
        options.update(kwargs)
        return cls(jira.url, auth=auth_from_settings(jira), **options)

    def __repr__(self) -> str:
        return f"JiraHttp({self.base_url!r})"

    # -- public calls -------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            decoded: bool = True) -> Any:
        return self.request("GET", path, params=params, decoded=decoded)

    def post(self, path: str, json_body: Any = None, *, params: Mapping[str, Any] | None = None,
             idempotent: bool = False, issue: str | None = None, decoded: bool = True) -> Any:
        """POST; ``idempotent=True`` only for reads (search/jql, bulkfetch, worklog/list)."""
        return self.request("POST", path, params=params, json_body=json_body,
                            idempotent=idempotent, issue=issue, decoded=decoded)

    def put(self, path: str, json_body: Any = None, *,
            params: Mapping[str, Any] | None = None, idempotent: bool = True,
            issue: str | None = None) -> Any:
        return self.request("PUT", path, params=params, json_body=json_body,
                            idempotent=idempotent, issue=issue)

    def delete(self, path: str, params: Mapping[str, Any] | None = None,
               issue: str | None = None) -> Any:
        return self.request("DELETE", path, params=params, issue=issue)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, idempotent: bool | None = None,
                issue: str | None = None, decoded: bool = True) -> Any:
        """Send with the retry policy; decoded JSON, or None for an empty answer.

        ``issue`` names the issue a write changes when its path does not (a comment
        property), for Jira's per-issue write limit. ``decoded=False`` returns an
        ``Undecoded`` answer instead: its JSON is read when (and in the thread where)
        its ``decode()`` is called, with the same errors.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        url = self.url(path)
        issue = str(issue) if issue is not None else issue_of(url)
        start = self._clock()
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            wait=self._wait,
            stop=lambda state: (self._clock() - start + (state.upcoming_sleep or 0)
                                > self._budget()),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: self._report_wait(state, method, url),
        )
        try:
            response = retrying(self._attempt, method, url, params, json_body, idempotent,
                                issue)
        except _Retryable as failure:
            raise self._gave_up(failure, method, url, self._clock() - start) from None
        if not decoded:
            return Undecoded(self, response, method, url)
        return self._decode(response, method, url)

    def stop(self) -> None:
        """Send nothing more: waiting threads wake and every request not yet sent raises.

        For a Ctrl-C during a parallel write-back: a worker asleep before a retry
        must not send its write after the run was stopped (its ledger row stays
        pending, for the next run to check, as a kill leaves it).
        """
        self._stopped.set()

    def resume(self) -> None:
        """Send again after ``stop``: a new sync or write-back through the same client began."""
        self._stopped.clear()

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called and no ``resume`` since."""
        return self._stopped.is_set()

    def add_wait_observer(self, observer: Callable[[RetryWait], None]) -> None:
        """Call ``observer`` before every retry wait (terminal line, JSON log)."""
        self._wait_observers.append(observer)

    def remove_wait_observer(self, observer: Callable[[RetryWait], None]) -> None:
        if observer in self._wait_observers:
            self._wait_observers.remove(observer)

    def _budget(self) -> float:
        if self.answered:
            return self.max_retry_seconds
        return min(self.first_contact_seconds, self.max_retry_seconds)

    def _report_wait(self, state: tenacity.RetryCallState, method: str, url: str) -> None:
        failure = state.outcome.exception() if state.outcome else None
        response = getattr(failure, "response", None)
        error = getattr(failure, "error", None)
        scope = getattr(failure, "scope", None)
        if response is not None and scope is not None:
            reason = f"Jira answered {response.status_code}: " + reason_words(
                failure.limit_reason, scope)
        elif response is not None:
            reason = f"Jira answered {response.status_code}"
        elif error is not None:
            reason = describe_connection_error(error, url)
        else:
            reason = str(failure)
        wait = RetryWait(method, _path(url), float(state.upcoming_sleep or 0),
                         state.attempt_number, reason,
                         response.status_code if response is not None else None,
                         str(scope) if scope is not None else "",
                         getattr(failure, "limit_reason", None) or "")
        log.info("retrying %s %s: %s", method, wait.path, wait.describe())
        for observer in list(self._wait_observers):
            observer(wait)

    def url(self, path: str) -> str:
        """The absolute URL of ``path``; absolute URLs must stay on this site."""
        if path.startswith(("http://", "https://")):
            if urlsplit(path).netloc != urlsplit(self.base_url).netloc:
                raise ValueError(f"refusing to send credentials to another host: {path}")
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- one attempt --------------------------------------------------------------------

    def _attempt(self, method: str, url: str, params: Any, json_body: Any,
                 idempotent: bool, issue: str | None = None) -> requests.Response:
        scopes = self.gate.scopes(method, url, issue)
        self.gate.wait_turn(scopes)
        if self._stopped.is_set():
            raise RequestStopped(f"{method} {_path(url)} not sent: the run stopped")
        with self._count_lock:
            self.requests_sent += 1
        began = self._clock()
        # Until Jira first answers, a silent host (firewall, wrong port) must not eat a
        # whole timeout_seconds per attempt; reads keep their full timeout.
        timeout: float | tuple[float, float] = self.timeout if self.answered else (
            min(self.timeout, self.first_contact_seconds), self.timeout)
        try:
            response = self.session.request(method, url, params=params, json=json_body,
                                            timeout=timeout, verify=self._verify_override,
                                            stream=True)
            _read_whole(response)
        except requests.exceptions.SSLError as exc:
            raise JiraUnreachable(
                f"cannot reach {self.base_url}: {describe_connection_error(exc, url)}",
                hint="check the certificate, or set [jira] verify_tls to your CA bundle path",
                method=method, url=url) from None
        except ValueError as exc:
            # http.client's "Invalid header value b'Bearer <token>\r'" quotes the secret:
            # replace it with a line that names the fix and nothing else.
            if not _is_header_error(exc):
                raise
            raise ConfigError(
                "a credential cannot be sent: it holds a line break or a character HTTP "
                "headers cannot carry (value not shown)",
                hint="set JIRA_PAT, or JIRA_EMAIL and JIRA_API_TOKEN, again on one line") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            log.debug("%s %s -> %s after %.0f ms", method, _path(url), type(exc).__name__,
                      (self._clock() - began) * 1000)
            if idempotent or _sent_nothing(exc):
                raise _Retryable(error=exc) from None
            raise AmbiguousWriteError(
                f"{method} {_path(url)} may or may not have reached Jira "
                f"({type(exc).__name__}); it was not retried",
                hint="check the issue in Jira; the next run reconciles from the ledger",
                method=method, url=url) from None
        log.debug("%s %s -> %s in %.0f ms", method, _path(url), response.status_code,
                  (self._clock() - began) * 1000)
        self.answered = True
        status = response.status_code
        if status == 429:
            raise self._refused(response, method, url, issue)
        self._read_budget(response, method, url, issue, scopes)
        if status < 400:
            return response
        if status >= 500 and idempotent:
            retry_after = None
            if status == 503:  # a resource limit: it may say when, as a 429 does
                retry_after = self._server_wait(response)
            raise _Retryable(response=response, retry_after=retry_after)
        if status >= 500:
            raise AmbiguousWriteError(
                f"{method} {_path(url)} got {status} from Jira ({response_message(response)}); "
                "the write may or may not have happened and was not retried",
                hint="check the issue in Jira; the next run reconciles from the ledger",
                status=status, method=method, url=url)
        raise self._client_error(response, method, url)

    # -- rate limits (pacing.py) ---------------------------------------------------------

    def _server_wait(self, response: requests.Response) -> float | None:
        """``Retry-After`` (seconds or HTTP date), else ``X-RateLimit-Reset``; None: back off."""
        now = self._wall_clock()
        wait = parse_retry_after(response.headers.get("Retry-After"), now)
        if wait is None:
            wait = parse_reset(response.headers.get("X-RateLimit-Reset"), now)
        return wait

    def _refused(self, response: requests.Response, method: str, url: str,
                 issue: str | None) -> _Retryable:
        """A 429: hold back the scope its RateLimit-Reason names, for as long as Jira says."""
        with self._count_lock:
            self.rate_limited += 1
        reason = response.headers.get("RateLimit-Reason")
        scope = scope_of_reason(reason, method, url, issue)
        wait = self._server_wait(response)
        self.gate.refused(scope, wait if wait is not None else self.backoff_base,
                          _number(response.headers.get("X-RateLimit-Limit")))
        return _Retryable(response=response, retry_after=wait, scope=scope,
                          limit_reason=reason)

    def _read_budget(self, response: requests.Response, method: str, url: str,
                     issue: str | None, scopes: list[Scope]) -> None:
        """Pace the scope whose budget Jira says is nearly spent; else stop pacing these."""
        if response.headers.get("X-RateLimit-NearLimit", "").strip().lower() != "true":
            self.gate.clear(scopes)
            return
        reason = response.headers.get("RateLimit-Reason")
        scope = scope_of_reason(reason, method, url, issue)
        pace = self.gate.near_limit(scope, _number(response.headers.get("X-RateLimit-Limit")))
        told = (scope.kind, scope.key if scope.kind == "endpoint" else "")
        if pace is None or told in self._paces_told:
            return
        self._paces_told.add(told)
        if scope.kind == "issue":
            what = f"writes to an issue now go at least {pace:.2f} s apart"
        elif scope.kind == "endpoint":
            what = f"requests to {scope.key} now go at least {pace:.2f} s apart"
        else:
            what = f"requests now go at least {pace:.2f} s apart"
        notice = RetryWait(method, _path(url), pace, 0,
                           f"{budget_words(reason, scope)} is nearly spent; {what}",
                           response.status_code, str(scope), reason or "")
        log.info("pacing %s %s: %s", method, notice.path, notice.describe())
        for observer in list(self._wait_observers):
            observer(notice)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception()
        backoff = min(self.backoff_cap, self.backoff_base * 2 ** (state.attempt_number - 1))
        if isinstance(failure, _Retryable) and failure.retry_after is not None:
            return failure.retry_after + self._jitter()
        return backoff + self._jitter()

    # -- turning answers into results or errors -----------------------------------------

    def _decode(self, response: requests.Response, method: str, url: str) -> Any:
        body = response.content
        if response.status_code == 204 or not body.strip():
            return None
        if (response.encoding or "utf-8").lower().replace("-", "") == "utf8":
            try:
                return jsontext.loads(body)
            except jsontext.NotFast:
                pass  # the standard module decides, as it always did
        try:
            return response.json()
        except ValueError:
            pass
        if looks_like_html(response):
            title = html_title(response.text)
            what = f"an HTML page titled {title!r}" if title else "an HTML page"
            raise JiraUnexpectedResponse(
                f"expected JSON from {method} {url} but got {what}",
                hint="a login page or proxy answered instead of Jira: check [jira] url and that "
                     "the credentials work without SSO",
                status=response.status_code, method=method, url=url)
        raise JiraUnexpectedResponse(
            f"expected JSON from {method} {url} but got "
            f"{response.headers.get('Content-Type') or 'an untyped body'}",
            hint="check that [jira] url points at Jira itself",
            status=response.status_code, method=method, url=url)

    def _client_error(self, response: requests.Response, method: str, url: str) -> JiraError:
        error = self._classify_client_error(response, method, url)
        # The client knows what this module cannot (the site's deployment, what it
        # configured) and may put the blame where it belongs; see JiraClient._explain.
        return self.explain(error) if self.explain is not None else error

    def _classify_client_error(self, response: requests.Response, method: str,
                               url: str) -> JiraError:
        status = response.status_code
        where = f"{method} {_path(url)}"
        common = {"status": status, "method": method, "url": url}
        if status == 404 and not _names_missing_thing(response):
            # Jersey's "null for uri", a proxy's HTML page or nothing at all: the path
            # itself is unknown here, which no issue key or project id can fix.
            return JiraNoSuchEndpoint(
                f"this Jira has no {urlsplit(url).path} endpoint ({method} answered 404"
                + _detail_of_404(response) + ")",
                hint="this Jira's version or deployment does not offer it; if "
                     "/rest/api/2/serverInfo fails the same way, check [jira] url "
                     "(with any context path, such as /jira)",
                **common)
        if looks_like_html(response) and not _is_json(response):
            title = html_title(response.text)
            return JiraUnexpectedResponse(
                f"{where} answered {status} with an HTML page"
                + (f" titled {title!r}" if title else "") + f" ({url})",
                hint="a proxy or login page answered instead of Jira: check [jira] url",
                **common)
        said = redact(response_message(response))
        if status == 401:
            return JiraAuthError(f"Jira refused the credentials for {self.base_url} (401: {said})",
                                 hint=PAT_HINT if isinstance(self.session.auth, BearerAuth)
                                 else AUTH_HINT, **common)
        if status == 403:
            if "AUTHENTICATION_DENIED" in response.headers.get("X-Seraph-LoginReason", ""):
                return JiraAuthError(
                    f"Jira demands a CAPTCHA for this user at {self.base_url} (403)",
                    hint="log in once in a browser to clear it, then retry", **common)
            return JiraPermissionError(f"{where}: permission denied (403: {said})",
                                       hint="ask a Jira admin to grant this user the permission",
                                       **common)
        if status == 404:
            return JiraNotFound(f"{where}: not found (404: {said})",
                                hint="check the key/id exists and this user can see it", **common)
        if status == 410:
            return JiraGone(f"{where}: Atlassian has removed this endpoint (410: {said})",
                            hint="upgrade jira-pm; Cloud search must use /rest/api/3/search/jql",
                            **common)
        if status == 400:
            # Which setting (if any) is to blame depends on the request: callers that
            # know, such as search for its JQL, say so (see jira.search).
            return JiraBadRequest(f"{where}: Jira rejected the request (400: {said})",
                                  hint="Jira's message names what it refused; rerun with --debug "
                                       "to see the request", detail=said, **common)
        return JiraError(f"{where}: Jira answered {status}: {said}",
                         hint="see Jira's message; rerun with --debug for details", **common)

    def _gave_up(self, failure: _Retryable, method: str, url: str, elapsed: float) -> JiraError:
        where = f"{method} {_path(url)}"
        common = {"method": method, "url": url}
        if failure.response is None:
            reason = describe_connection_error(failure.error, url) if failure.error else "?"
            return JiraUnreachable(
                f"cannot reach {self.base_url} for {where} after {elapsed:.0f} s: {reason}",
                hint=_unreachable_hint(reason), **common)
        status = failure.response.status_code
        said = redact(response_message(failure.response))
        if status == 429:
            return JiraRateLimited(
                f"Jira kept rate-limiting {where} (429) for {elapsed:.0f} s: {said}",
                hint="lower [jira] max_parallel, run less often, or raise max_retry_seconds",
                status=status, **common)
        return JiraServerError(
            f"Jira kept failing {where} ({status}) for {elapsed:.0f} s: {said}",
            hint="Jira is having trouble; try again later or ask its admin", status=status,
            **common)


# Bytes per read of an answer's body: requests reads 10 KB at a time through several
# layers of Python, 70 reads for a search page, each taking the interpreter lock back
# from the thread saving the page before; one large read waits on the socket without it.
BODY_READ = 16 * 2**20


def _read_whole(response: requests.Response) -> None:
    """Read the body of a streamed ``response`` in as few reads as it takes, as
    ``response.content`` then returns it.

    ``iter_content`` turns a connection lost mid-body into requests' own
    ConnectionError (ChunkedEncodingError), as a request without ``stream=True``
    does; setting ``_content`` is how requests itself keeps what it read.
    """
    try:
        response._content = b"".join(response.iter_content(BODY_READ))
    finally:
        response.close()  # the connection goes back to the pool (the body is read)


def _names_missing_thing(response: requests.Response) -> bool:
    """True when a 404 carries Jira's own errorMessages/errors: a missing issue, project or
    comment. Jira always explains those; an unknown REST path gets no such body."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    messages, errors = body.get("errorMessages"), body.get("errors")
    return bool(messages and any(str(m).strip() for m in
                                 (messages if isinstance(messages, list) else [messages]))
                or (isinstance(errors, dict) and errors))


def _detail_of_404(response: requests.Response) -> str:
    """A short note on a path-404's body: the HTML title, or Jira's text unless it is only
    Jersey's "null for uri" (which repeats the URL)."""
    if looks_like_html(response) and not _is_json(response):
        title = html_title(response.text)
        return f" with an HTML page titled {title!r}" if title else " with an HTML page"
    said = response_message(response) if response.content.strip() else ""
    if not said or said.lower().startswith("null for uri"):
        return ""
    return f": {redact(said)}"


def _is_header_error(error: ValueError) -> bool:
    """True for the errors requests and http.client raise on a header they cannot send."""
    return isinstance(error, (requests.exceptions.InvalidHeader, UnicodeEncodeError)) \
        or str(error).startswith(("Invalid header", "Invalid leading whitespace"))


def _is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def _number(value: str | None) -> float | None:
    """A header's number (X-RateLimit-Limit), or None."""
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _path(url: str) -> str:
    """The path and query of a URL, for short log and error lines."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def resume_sending(client: Any) -> None:
    """Let ``client`` send again if a Ctrl-C stopped it (``JiraHttp.stop``): a new job begins.

    Called where a sync, write-back or clean starts, so a client kept across
    jobs (the Python API's) is not left refusing every request after one Ctrl-C.
    """
    http = getattr(client, "http", None)
    if isinstance(http, JiraHttp):
        http.resume()
