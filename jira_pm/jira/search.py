"""JQL search pagination in both styles, always in a stable order by issue id.

- Cloud: ``/rest/api/3/search/jql`` with ``nextPageToken`` (the old ``/search``
  answers 410 there and is never called). GET for short requests, POST when
  the field list or JQL would make the URL long.
- Server/DC: ``/rest/api/2/search`` with ``startAt`` and the ``maxResults`` the
  server grants (read from its first answer). Deep offsets fail past 10,000, so
  before the offset would cross ``offset_limit`` the search switches to keyset
  pages: ``(jql) AND id > last ORDER BY id ASC`` from ``startAt=0``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from jira_pm.errors import JiraUnexpectedResponse
from jira_pm.jira.http import JiraHttp

CLOUD_SEARCH = "/rest/api/3/search/jql"
SERVER_SEARCH = "/rest/api/2/search"
OFFSET_LIMIT = 10_000
CLOUD_MAX_PAGE = 5000  # Cloud grants this for id-only pages and fewer for rich ones
SERVER_MAX_PAGE = 1000  # DC's default jira.search.views.default.max; it answers what it grants
LONG_QUERY = 1500  # characters of fields + JQL above which a GET URL gets risky


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


def cloud_pages(http: JiraHttp, jql: str, fields: Sequence[str], expand: Sequence[str] = (),
                page_size: int | None = None) -> Iterator[list[dict]]:
    """Pages of raw issues from Cloud's /search/jql, following nextPageToken to the end."""
    query = by_id(jql)
    size = page_size or CLOUD_MAX_PAGE
    post = _is_long(query, fields)
    token: str | None = None
    seen: set[str] = set()
    while True:
        if post:
            body: dict[str, Any] = {"jql": query, "maxResults": size, "fields": list(fields)}
            if expand:
                body["expand"] = ",".join(expand)
            if token:
                body["nextPageToken"] = token
            page = http.post(CLOUD_SEARCH, body, idempotent=True)
        else:
            params: dict[str, Any] = {"jql": query, "maxResults": size,
                                      "fields": ",".join(fields)}
            if expand:
                params["expand"] = ",".join(expand)
            if token:
                params["nextPageToken"] = token
            page = http.get(CLOUD_SEARCH, params=params)
        page = _page(page, CLOUD_SEARCH)
        issues = page.get("issues") or []
        if issues:
            yield issues
        token = page.get("nextPageToken")
        if page.get("isLast") or not token or not issues:
            return
        if token in seen:  # a server bug would otherwise loop for ever
            raise JiraUnexpectedResponse(
                f"Jira repeated a nextPageToken on {CLOUD_SEARCH}",
                hint="retry later; if it persists, report it to Atlassian support")
        seen.add(token)


def server_pages(http: JiraHttp, jql: str, fields: Sequence[str], expand: Sequence[str] = (),
                 page_size: int | None = None,
                 offset_limit: int = OFFSET_LIMIT) -> Iterator[list[dict]]:
    """Pages of raw issues from /rest/api/2/search: startAt pages, then keyset pages."""
    requested = page_size or SERVER_MAX_PAGE
    granted: int | None = None
    after_id: int | None = None
    start = 0
    while True:
        query = by_id(jql, after_id)
        size = granted or requested
        if _is_long(query, fields):
            body: dict[str, Any] = {"jql": query, "startAt": start, "maxResults": size,
                                    "fields": list(fields)}
            if expand:
                body["expand"] = list(expand)
            page = http.post(SERVER_SEARCH, body, idempotent=True)
        else:
            params: dict[str, Any] = {"jql": query, "startAt": start, "maxResults": size,
                                      "fields": ",".join(fields)}
            if expand:
                params["expand"] = ",".join(expand)
            page = http.get(SERVER_SEARCH, params=params)
        page = _page(page, SERVER_SEARCH)
        issues = page.get("issues") or []
        if granted is None:
            # The server caps maxResults silently and says so in its answer.
            granted = max(1, min(size, int(page.get("maxResults") or size)))
        if issues:
            yield issues
        total = page.get("total")
        fetched = start + len(issues)
        if not issues or len(issues) < granted or (total is not None and fetched >= int(total)):
            return
        if fetched + granted > offset_limit:
            after_id, start = int(issues[-1]["id"]), 0  # keyset: ids ascend, so resume above
        else:
            start = fetched


def _page(page: Any, path: str) -> dict:
    if not isinstance(page, dict) or not isinstance(page.get("issues", []), list):
        raise JiraUnexpectedResponse(f"{path} answered without an issues list",
                                     hint="check that [jira] url points at Jira itself")
    return page
