"""Typed Jira calls for Cloud and Server/Data Center, over one ``JiraHttp``.

Every method returns Jira's raw JSON (dicts and lists): mapping to the model is
``jira_pm.mapping``'s job. The constructor never touches the network; the
deployment is read from ``/rest/api/2/serverInfo`` on first need and cached.

Why not the ``jira`` package (pycontribs) here: its calls go through its own
``ResilientSession`` and ``JIRAError``, so using it would mean a second retry
policy (one that retries POSTs and crashes on HTTP-date Retry-After) and a
second error mapping; its objects wrap the raw JSON we store; and most of what
sync needs — /search/jql tokens, changelog/bulkfetch, approximate-count,
worklog/updated, comment properties — it lacks or paginates differently. Each
call here is one or two lines over ``JiraHttp``, which owns retries, errors
and redaction for every request jira-pm sends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from jira_pm.errors import (
    JiraAuthError,
    JiraBadRequest,
    JiraDeploymentMismatch,
    JiraError,
    JiraGone,
    JiraNoSuchEndpoint,
    JiraNotFound,
    UsageError,
)
from jira_pm.jira import search as _search
from jira_pm.jira.http import BearerAuth, JiraHttp

if TYPE_CHECKING:
    from jira_pm.config import JiraSettings

log = logging.getLogger(__name__)

V2 = "/rest/api/2"
V3 = "/rest/api/3"
BULK_CHANGELOG_BATCH = 1000  # issueIdsOrKeys maxItems in the Cloud OpenAPI
WORKLOG_LIST_BATCH = 1000  # /worklog/list accepts at most 1000 ids


def deployment_of(info: dict) -> str:
    """"Cloud" or "Server" from a serverInfo answer (Data Center and anything not Cloud is
    server-style)."""
    kind = str(info.get("deploymentType") or "Server")
    return "Cloud" if kind.lower() == "cloud" else "Server"


def _label(deployment: str) -> str:
    return "Cloud" if deployment == "Cloud" else "Server/Data Center"


def _seg(value: Any) -> str:
    """One URL path segment (an id, key or property key), safely quoted."""
    return quote(str(value), safe="")


class JiraClient:
    """The calls jira-pm makes to Jira; nothing else in jira-pm speaks HTTP."""

    def __init__(self, http: JiraHttp, deployment: str | None = None):
        self.http = http
        self._deployment: str | None = None
        self._site: str | None = None  # what serverInfo said, once read
        self._probing = threading.local()
        # comment id -> its issue, from the comments this client posted or read: a comment
        # property's path names no issue, but Jira counts it against the issue's write limit.
        self._comment_issue: dict[str, str] = {}
        if deployment and deployment.lower() != "auto":
            if deployment.lower() not in ("cloud", "server"):
                raise UsageError(f"unknown Jira deployment {deployment!r}",
                                 hint='use "cloud", "server" or "auto"')
            self._deployment = "Cloud" if deployment.lower() == "cloud" else "Server"
        # Given, not detected: a 410/404 for the API of the other deployment is then
        # probably this setting's fault (see _explain).
        self._assumed = self._deployment
        http.explain = self._explain

    @classmethod
    def from_settings(cls, jira: JiraSettings, **http_options: Any) -> JiraClient:
        return cls(JiraHttp.from_settings(jira, **http_options), deployment=jira.deployment)

    def __repr__(self) -> str:
        return f"JiraClient({self.http.base_url!r}, deployment={self._deployment!r})"

    # ---- site --------------------------------------------------------------------------

    def deployment(self) -> str:
        """"Cloud" or "Server" (see ``deployment_of``): as configured, else asked once."""
        if self._deployment is None:
            self.server_info()  # records it
        return self._deployment  # type: ignore[return-value]

    @property
    def is_cloud(self) -> bool:
        return self.deployment() == "Cloud"

    @property
    def _api(self) -> str:
        """v3 on Cloud (the shape its search returns), v2 on Server/DC (it has no v3)."""
        return V3 if self.is_cloud else V2

    def server_info(self) -> dict:
        """The site's serverInfo; records the deployment when not yet known, so asking
        ``deployment()`` afterwards sends nothing."""
        info = self.http.get(f"{V2}/serverInfo")
        self._site = deployment_of(info)
        if self._deployment is None:
            self._deployment = self._site
        return info

    # ---- blaming errors on their cause -------------------------------------------------

    def _explain(self, error: JiraError) -> JiraError:
        """``error``, or a truer one when the deployment or the credentials explain it."""
        common = {"status": error.status, "method": error.method, "url": error.url,
                  "detail": error.detail}
        if isinstance(error, JiraAuthError) and isinstance(self.http.session.auth, BearerAuth) \
                and self._known_site() == "Cloud":
            return JiraAuthError(
                f"{error.message}; this Jira is Cloud, which does not accept personal access "
                "tokens", hint="set JIRA_EMAIL and JIRA_API_TOKEN (an API token from "
                "id.atlassian.com) instead of JIRA_PAT", **common)
        if isinstance(error, (JiraGone, JiraNoSuchEndpoint)) and self._assumed:
            site = self._site or self._probe_site()
            if site and site != self._assumed:
                return JiraDeploymentMismatch(
                    f"this Jira is {_label(site)}, but [jira] deployment = "
                    f'"{self._assumed.lower()}" ({error.method} {urlsplit(error.url or "").path} '
                    f"answered {error.status})",
                    hint=f'set [jira] deployment = "{site.lower()}" (or "auto")', **common)
        return error

    def _known_site(self) -> str | None:
        """The deployment the site itself showed: serverInfo, or an Atlassian Cloud host."""
        if self._site:
            return self._site
        host = (urlsplit(self.http.base_url).hostname or "").lower()
        return "Cloud" if host.endswith(".atlassian.net") else None

    def _probe_site(self) -> str | None:
        """Ask serverInfo once while explaining an error; None if that fails too."""
        if getattr(self._probing, "active", False):
            return None  # serverInfo's own error is being explained
        self._probing.active = True
        try:
            self.server_info()
        except JiraError:
            return None
        finally:
            self._probing.active = False
        return self._site

    def myself(self) -> dict:
        return self.http.get(f"{V2}/myself")

    def fields(self) -> list[dict]:
        return self.http.get(f"{V2}/field")

    def statuses(self) -> list[dict]:
        return self.http.get(f"{V2}/status")

    def projects(self) -> list[dict]:
        if not self.is_cloud:
            return self.http.get(f"{V2}/project")
        return list(self._offset_pages(f"{V3}/project/search", "values", page_size=100))

    def project(self, key: str) -> dict:
        return self.http.get(f"{V2}/project/{_seg(key)}")

    def project_versions(self, key: str) -> list[dict]:
        return self.http.get(f"{V2}/project/{_seg(key)}/versions")

    def my_permissions(self, project_key: str,
                       permissions: Sequence[str]) -> dict[str, bool | None]:
        """Which of ``permissions`` the user holds in the project, by permission key: None
        for one Jira left out of its answer (unknown to that version, or not reported)."""
        answer = self.http.get(f"{V2}/mypermissions", params={
            "projectKey": project_key, "permissions": ",".join(permissions)})
        held = (answer or {}).get("permissions") or {}
        return {key: None if not isinstance(held.get(key), dict)
                or "havePermission" not in held[key]
                else bool(held[key]["havePermission"]) for key in permissions}

    # ---- search ------------------------------------------------------------------------

    def search(self, jql: str, fields: Sequence[str], expand: Sequence[str] = (),
               page_size: int | None = None, *, deferred: bool = False) -> Iterator[Any]:
        """One list of raw issues per page, in ascending id order (see ``jira.search``).

        ``deferred``: a ``PendingPage`` per page, decoded by the consumer (sync's saving
        thread; see ``sync.pages.merged`` for fetching ahead in another thread).
        """
        pages = _search.cloud_pages if self.is_cloud else _search.server_pages
        return pages(self.http, jql, fields, expand, page_size, deferred=deferred)

    def search_ids(self, jql: str) -> Iterator[list[int]]:
        """Issue ids only, in the largest pages the server grants (for reconcile)."""
        for page in self.search(jql, ["id"]):
            yield [int(issue["id"]) for issue in page]

    def search_id_ranges(self, jql: str, parts: int) -> list[str]:
        """Up to ``parts`` JQL queries over disjoint id ranges that together cover ``jql``.

        Cloud's token pages cannot be fetched in parallel, but disjoint id ranges
        can: search each returned query in its own thread. Ids are split evenly
        between the lowest and highest match (two 1-issue requests).
        """
        low, high = self._edge_id(jql, descending=False), self._edge_id(jql, descending=True)
        if low is None or high is None:
            return []
        base = _search.strip_order_by(jql)
        parts = max(1, min(int(parts), high - low + 1))
        step = (high - low + 1) / parts
        bounds = [low + round(step * i) for i in range(parts)] + [high + 1]
        prefix = f"({base}) AND " if base else ""
        pairs = zip(bounds, bounds[1:], strict=False)
        return [f"{prefix}id >= {a} AND id < {b}" for a, b in pairs if a < b]

    def _edge_id(self, jql: str, *, descending: bool) -> int | None:
        """The lowest (or highest) issue id matching ``jql``, or None when nothing matches."""
        base = _search.strip_order_by(jql)
        query = (f"({base}) " if base else "") + f"ORDER BY id {'DESC' if descending else 'ASC'}"
        path = _search.CLOUD_SEARCH if self.is_cloud else _search.SERVER_SEARCH
        page = self.http.get(path, params={"jql": query, "maxResults": 1, "fields": "id"}) or {}
        found = page.get("issues") or []
        return int(found[0]["id"]) if found else None

    def approximate_count(self, jql: str) -> int | None:
        """Cloud's approximate number of matches; None on Server/DC or when unsupported."""
        if not self.is_cloud:
            return None
        try:
            answer = self.http.post(f"{V3}/search/approximate-count",
                                    {"jql": _search.strip_order_by(jql)}, idempotent=True)
        except (JiraNotFound, JiraNoSuchEndpoint):
            return None
        count = (answer or {}).get("count")
        return int(count) if count is not None else None

    # ---- one issue ---------------------------------------------------------------------

    def issue(self, id_or_key: Any, fields: Sequence[str] | None = None,
              expand: Sequence[str] = ()) -> dict:
        """GET one issue; JiraNotFound when it is gone or not visible."""
        params: dict[str, Any] = {}
        if fields is not None:
            params["fields"] = ",".join(fields)
        if expand:
            params["expand"] = ",".join(expand)
        return self.http.get(f"{self._api}/issue/{_seg(id_or_key)}", params=params or None)

    def changelog(self, issue_id: Any) -> list[dict]:
        """Every history of one issue: Cloud pages /changelog; Server uses expand=changelog."""
        if self.is_cloud:
            return list(self._offset_pages(f"{V3}/issue/{_seg(issue_id)}/changelog", "values",
                                           page_size=100))
        raw = self.http.get(f"{V2}/issue/{_seg(issue_id)}",
                            params={"fields": "summary", "expand": "changelog"})
        changelog = (raw or {}).get("changelog") or {}
        histories = changelog.get("histories") or []
        total = changelog.get("total")
        if total is not None and int(total) > len(histories):
            log.warning("issue %s: Jira returned %d of %s changelog histories", issue_id,
                        len(histories), total)
        return histories

    def bulk_changelogs(self, issue_ids: Sequence[int]) -> dict[int, list[dict]]:
        """Histories of many issues: Cloud bulkfetch in batches of 1000; Server per issue."""
        result: dict[int, list[dict]] = {int(i): [] for i in issue_ids}
        if not self.is_cloud:
            for issue_id in result:
                result[issue_id] = self.changelog(issue_id)
            return result
        ids = list(result)
        for begin in range(0, len(ids), BULK_CHANGELOG_BATCH):
            batch = [str(i) for i in ids[begin:begin + BULK_CHANGELOG_BATCH]]
            token: str | None = None
            while True:
                body: dict[str, Any] = {"issueIdsOrKeys": batch, "maxResults": 10000}
                if token:
                    body["nextPageToken"] = token
                page = self.http.post(f"{V3}/changelog/bulkfetch", body, idempotent=True) or {}
                for entry in page.get("issueChangeLogs") or []:
                    issue_id = int(entry["issueId"])
                    result.setdefault(issue_id, []).extend(entry.get("changeHistories") or [])
                new_token = page.get("nextPageToken")
                if not new_token or new_token == token:
                    break
                token = new_token
        return result

    def worklogs(self, issue_id: Any) -> list[dict]:
        """Every worklog of one issue, paged."""
        return list(self._offset_pages(f"{self._api}/issue/{_seg(issue_id)}/worklog", "worklogs",
                                       page_size=5000))

    def worklogs_updated_since(self, since_ms: int) -> Iterator[list[dict]]:
        """Worklogs changed since a UNIX time in ms: /worklog/updated ids, then /worklog/list."""
        since = int(since_ms)
        while True:
            page = self.http.get(f"{V2}/worklog/updated", params={"since": since}) or {}
            ids = [int(v["worklogId"]) for v in page.get("values") or []]
            for begin in range(0, len(ids), WORKLOG_LIST_BATCH):
                batch = ids[begin:begin + WORKLOG_LIST_BATCH]
                worklogs = self.http.post(f"{V2}/worklog/list", {"ids": batch}, idempotent=True)
                if worklogs:
                    yield worklogs
            until = page.get("until")
            if page.get("lastPage", True) or not ids or until is None or int(until) <= since:
                return
            since = int(until)

    # ---- writes ------------------------------------------------------------------------

    def edit_labels(self, issue_id: Any, add: Sequence[str], remove: Sequence[str],
                    notify_users: bool = True) -> None:
        """ONE PUT of update.labels add/remove operations; never overwrites the label list."""
        operations = [{"add": label} for label in add] + [{"remove": label} for label in remove]
        if not operations:
            return
        params = None if notify_users else {"notifyUsers": "false"}
        self.http.put(f"{V2}/issue/{_seg(issue_id)}", {"update": {"labels": operations}},
                      params=params)

    def comments(self, issue_id: Any) -> list[dict]:
        """Every comment of one issue, oldest first (ADF bodies on Cloud, wiki on Server)."""
        found = list(self._offset_pages(f"{self._api}/issue/{_seg(issue_id)}/comment",
                                        "comments", page_size=100,
                                        params={"orderBy": "created"}))
        for comment in found:
            if isinstance(comment, dict) and comment.get("id") is not None:
                self._comment_issue[str(comment["id"])] = str(issue_id)
        return found

    def add_comment(self, issue_id: Any, body: str | dict) -> dict:
        """POST a comment (never retried once it may have reached Jira)."""
        created = self.http.post(f"{self._comment_api(body)}/issue/{_seg(issue_id)}/comment",
                                 {"body": body})
        if isinstance(created, dict) and created.get("id") is not None:
            self._comment_issue[str(created["id"])] = str(issue_id)
        return created

    def update_comment(self, issue_id: Any, comment_id: Any, body: str | dict,
                       notify_users: bool = True) -> dict:
        """PUT a comment's new body; ``notify_users=False`` asks Jira not to notify watchers."""
        params = None if notify_users else {"notifyUsers": "false"}
        return self.http.put(
            f"{self._comment_api(body)}/issue/{_seg(issue_id)}/comment/{_seg(comment_id)}",
            {"body": body}, params=params)

    def delete_comment(self, issue_id: Any, comment_id: Any) -> None:
        self.http.delete(f"{V2}/issue/{_seg(issue_id)}/comment/{_seg(comment_id)}")

    def set_comment_property(self, comment_id: Any, key: str, value: dict) -> None:
        path = f"{V2}/comment/{_seg(comment_id)}/properties/{_seg(key)}"
        issue = self._comment_issue.get(str(comment_id))
        if issue is None:
            self.http.put(path, value)
        else:  # paced with the issue's other writes (Jira's per-issue write limit)
            self.http.put(path, value, issue=issue)

    def get_comment_property(self, comment_id: Any, key: str) -> dict | None:
        """The property's value, or None when the comment has no such property."""
        try:
            answer = self.http.get(f"{V2}/comment/{_seg(comment_id)}/properties/{_seg(key)}")
        except JiraNotFound:
            return None
        return (answer or {}).get("value")

    def _comment_api(self, body: str | dict) -> str:
        """ADF (a dict) needs v3, which only Cloud has; wiki text (a str) goes to v2."""
        if isinstance(body, dict):
            if not self.is_cloud:
                raise JiraBadRequest(
                    "an ADF comment body cannot be sent to Jira Server/Data Center",
                    hint='set [writeback] comment_format = "wiki" or "auto"')
            return V3
        return V2

    # ---- paging helper -----------------------------------------------------------------

    def _offset_pages(self, path: str, key: str, *, page_size: int,
                      params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Items of a startAt/maxResults/total (or isLast) paged resource, in order."""
        start = 0
        while True:
            query = dict(params or {}, startAt=start, maxResults=page_size)
            page = self.http.get(path, params=query) or {}
            items = page.get(key) or []
            yield from items
            start += len(items)
            total = page.get("total")
            if (not items or page.get("isLast") is True
                    or (total is not None and start >= int(total))
                    or (total is None and page.get("isLast") is None)):
                return
