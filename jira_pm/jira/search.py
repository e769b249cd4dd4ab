"""JQL search pagination in both styles, always in a stable order by issue id.

- Cloud: ``/rest/api/3/search/jql`` with ``nextPageToken`` (the old ``/search``
  answers 410 there and is never called). GET for short requests, POST when
  the field list or JQL would make the URL long.
- Server/DC: ``/rest/api/2/search`` with the ``maxResults`` the server grants
  (read from its first answer), every page a keyset page:
  ``(jql) AND id > last ORDER BY id ASC`` from ``startAt=0``. Never ``startAt``
  offsets: an issue deleted or moved out of the JQL between two pages shifts
  every later offset by one, so the issue just past the page boundary would
  never be fetched; and offsets past 10,000 fail on Data Center anyway.

A 400 from a search is attributed (see ``_fetch_page``): one naming ``maxResults``
is a page size the server refuses, so the page is asked again smaller; one naming
another parameter jira-pm chose is jira-pm's; anything else is about the JQL and
raises ``JiraJqlRejected``, which sync blames on ``[scope]``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from jira_pm.errors import JiraBadRequest, JiraJqlRejected, JiraUnexpectedResponse
from jira_pm.jira.http import JiraHttp, Undecoded

CLOUD_SEARCH = "/rest/api/3/search/jql"
SERVER_SEARCH = "/rest/api/2/search"
CLOUD_MAX_PAGE = 5000  # Cloud grants this for id-only pages and fewer for rich ones
SERVER_MAX_PAGE = 1000  # DC's default jira.search.views.default.max; it answers what it grants
LONG_QUERY = 1500  # characters of fields + JQL above which a GET URL gets risky
# Search parameters jira-pm chooses; a 400 naming one is not about the user's JQL.
_OWN_PARAMETER = re.compile(r"\b(maxResults|startAt|nextPageToken|expand)\b")


def strip_order_by(jql: str) -> str:
    """The JQL without its ORDER BY clause (quotes respected), trimmed."""
    quote: str | None = None
    escaped = False
    lowered = jql.lower()
    cut = len(jql)
    i = 0
    while i < len(jql):
        ch = jql[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif lowered.startswith("order", i) and (i == 0 or not jql[i - 1].isalnum()):
            rest = lowered[i + 5:]
            if rest[:1].isspace() and rest.lstrip().startswith("by"):
                cut = i
                break
        i += 1
    return jql[:cut].strip()


def by_id(jql: str, after_id: int | None = None) -> str:
    """The JQL ordered by id ascending, optionally only issues with an id above ``after_id``."""
    clauses = []
    base = strip_order_by(jql)
    if base:
        clauses.append(f"({base})")
    if after_id is not None:
        clauses.append(f"id > {int(after_id)}")
    return (" AND ".join(clauses) + " ORDER BY id ASC").strip()


def _is_long(jql: str, fields: Sequence[str]) -> bool:
    return len(jql) + len(",".join(fields)) > LONG_QUERY


class PendingPage:
    """A search page fetched and not yet decoded: what a ``deferred`` search yields.

    Whoever consumes the pages decodes each with ``issues()`` (in sync, the thread
    that saves them: see ``Undecoded``). The search reads the decoded page, when
    asked for the next one, to learn where that starts; asked before the consumer
    decoded it, it decodes it itself. A driver that fetches in another thread
    (``sync.pages.merged``) waits with ``wait`` until the consumer has decoded the
    page before asking for the next, so the decoding stays with the consumer.
    """

    def __init__(self, answer: Undecoded, path: str):
        self._answer: Undecoded | None = answer
        self._path = path
        self._page: dict | None = None
        self._lock = threading.Lock()
        self._decoded = threading.Event()

    def issues(self) -> list[dict]:
        """The page's raw issues, decoding it first; raises what decoding raises."""
        return (self.page() or {}).get("issues") or []

    def page(self) -> dict | None:
        """The decoded answer, decoded now if nobody has; None when decoding it failed before
        (the one who decoded it has the error)."""
        with self._lock:
            if self._answer is not None:
                try:
                    self._page = _page(self._answer.decode(), self._path)
                finally:
                    self._answer = None  # the bytes go
                    self._decoded.set()
            return self._page

    def wait(self, stop: threading.Event) -> bool:
        """Wait until the page is decoded (or failed to): True; False once ``stop`` is set."""
        while not self._decoded.wait(0.05):
            if stop.is_set():
                return False
        return True


def _next_page(ask: Callable[[int], Any], size: int, path: str,
               deferred: bool) -> Generator[Any, None, tuple[dict | None, int]]:
    """Fetch one page (see ``_fetch_page``) and yield its issues, or (``deferred``) its
    PendingPage; return the decoded page and the page size used.

    The page is None when it was deferred and its consumer failed to decode it (the
    consumer has the error). No reference to the undecoded body outlives its decoding.
    """
    answer, size = _fetch_page(ask, size)
    if deferred:
        pending = PendingPage(answer, path)
        del answer
        yield pending
        return pending.page(), size
    page = _page(answer, path)
    if page.get("issues"):
        yield page["issues"]
    return page, size


def cloud_pages(http: JiraHttp, jql: str, fields: Sequence[str], expand: Sequence[str] = (),
                page_size: int | None = None, *, deferred: bool = False) -> Iterator[Any]:
    """Pages of raw issues from Cloud's /search/jql, following nextPageToken to the end.

    ``deferred``: PendingPages instead of issue lists (see ``PendingPage``).
    """
    query = by_id(jql)
    size = page_size or CLOUD_MAX_PAGE
    post = _is_long(query, fields)
    token: str | None = None
    seen: set[str] = set()

    def ask(size: int) -> Any:
        if post:
            body: dict[str, Any] = {"jql": query, "maxResults": size, "fields": list(fields)}
            if expand:
                body["expand"] = ",".join(expand)
            if token:
                body["nextPageToken"] = token
            return http.post(CLOUD_SEARCH, body, idempotent=True, decoded=not deferred)
        params: dict[str, Any] = {"jql": query, "maxResults": size, "fields": ",".join(fields)}
        if expand:
            params["expand"] = ",".join(expand)
        if token:
            params["nextPageToken"] = token
        return http.get(CLOUD_SEARCH, params=params, decoded=not deferred)

    while True:
        page, size = yield from _next_page(ask, size, CLOUD_SEARCH, deferred)
        if page is None:
            return
        issues = page.get("issues") or []
        token = page.get("nextPageToken")
        if page.get("isLast") or not token or not issues:
            return
        if token in seen:  # a server bug would otherwise loop for ever
            raise JiraUnexpectedResponse(
                f"Jira repeated a nextPageToken on {CLOUD_SEARCH}",
                hint="retry later; if it persists, report it to Atlassian support")
        seen.add(token)


def server_pages(http: JiraHttp, jql: str, fields: Sequence[str], expand: Sequence[str] = (),
                 page_size: int | None = None, *, deferred: bool = False) -> Iterator[Any]:
    """Pages of raw issues from /rest/api/2/search, each a keyset page above the last id.

    ``deferred``: PendingPages instead of issue lists (see ``PendingPage``).
    """
    requested = page_size or SERVER_MAX_PAGE
    granted: int | None = None
    after_id: int | None = None

    def ask(size: int) -> Any:
        if _is_long(query, fields):
            body: dict[str, Any] = {"jql": query, "startAt": 0, "maxResults": size,
                                    "fields": list(fields)}
            if expand:
                body["expand"] = list(expand)
            return http.post(SERVER_SEARCH, body, idempotent=True, decoded=not deferred)
        params: dict[str, Any] = {"jql": query, "startAt": 0, "maxResults": size,
                                  "fields": ",".join(fields)}
        if expand:
            params["expand"] = ",".join(expand)
        return http.get(SERVER_SEARCH, params=params, decoded=not deferred)

    while True:
        query = by_id(jql, after_id)
        page, size = yield from _next_page(ask, granted or requested, SERVER_SEARCH, deferred)
        requested = size
        if granted is not None:
            granted = min(granted, size)
        if page is None:
            return
        issues = page.get("issues") or []
        if granted is None:
            # The server caps maxResults silently and says so in its answer.
            granted = max(1, min(size, int(page.get("maxResults") or size)))
        total = page.get("total")  # what matches above after_id, this page included
        if not issues or len(issues) < granted or (total is not None
                                                   and len(issues) >= int(total)):
            return
        after_id = int(issues[-1]["id"])


def _fetch_page(ask: Callable[[int], Any], size: int) -> tuple[Any, int]:
    """``ask(size)``, asked again smaller while Jira refuses the page size; (page, size used).

    Any other 400 is attributed: to a parameter jira-pm chose (JiraBadRequest saying
    so), or else to the JQL (JiraJqlRejected).
    """
    while True:
        try:
            return ask(size), size
        except JiraBadRequest as exc:
            said = exc.detail or ""
            named = _OWN_PARAMETER.search(said)
            if named is None:
                raise JiraJqlRejected(exc.message, hint="fix the JQL Jira names",
                                      status=exc.status, method=exc.method, url=exc.url,
                                      detail=exc.detail) from exc
            if named.group(1) != "maxResults" or size <= 1:
                raise JiraBadRequest(
                    f"Jira refused jira-pm's search parameters, not your JQL: {exc.message}",
                    hint="nothing in your configuration sets this: rerun with --debug and "
                         "report the request", status=exc.status, method=exc.method,
                    url=exc.url, detail=exc.detail) from exc
            size = _smaller_page(size, said)


def _smaller_page(size: int, message: str) -> int:
    """The largest limit below ``size`` that Jira's message states, else half of ``size``."""
    stated = [int(n) for n in re.findall(r"\b\d+\b", message) if 0 < int(n) < size]
    return max(stated) if stated else max(1, size // 2)


def _page(page: Any, path: str) -> dict:
    if not isinstance(page, dict) or not isinstance(page.get("issues", []), list):
        raise JiraUnexpectedResponse(f"{path} answered without an issues list",
                                     hint="check that [jira] url points at Jira itself")
    return page
