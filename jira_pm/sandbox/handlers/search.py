"""Search endpoints: Cloud search/jql and approximate-count, Server /search, Cloud's 410."""

from __future__ import annotations

import base64
import hashlib

from jira_pm.sandbox.render import FieldSelection
from jira_pm.sandbox.responses import json_response
from jira_pm.sandbox.state import SandboxError

CLOUD_ID_PAGE = 5000  # Cloud search/jql page size when only ids/keys are asked for
CLOUD_FULL_PAGE = 100
SERVER_RESULT_WINDOW = 10_000
GONE_MESSAGE = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                "API. A full migration guideline is available at "
                "https://developer.atlassian.com/changelog/#CHANGE-2046")


class SearchHandlers:
    """Handlers mixed into SandboxApp (they use its state, helpers and counters)."""

    # ---- search -----------------------------------------------------------------------------
    def _search_params(self, request):
        if request.method == "POST":
            data = self.body(request)
            fields = data.get("fields")
            expand = data.get("expand")
            if isinstance(expand, list):
                expand = ",".join(expand)
            return data, data.get("jql", ""), fields, expand or ""
        args = request.args
        # `fields` may be repeated (fields=a&fields=b) as well as comma-separated.
        fields = ",".join(args.getlist("fields")) or None
        return dict(args), args.get("jql", ""), fields, args.get("expand", "")

    def do_search_jql(self, request, user, r):
        data, jql, fields, expand = self._search_params(request)
        stripped = jql.strip().lower()
        if not stripped or stripped.startswith("order"):
            raise SandboxError(400, ["Unbounded JQL queries are not allowed here. Please add a "
                                     "search restriction to your query."])
        selection = FieldSelection(fields, "id")
        # Ids/keys only: Cloud grants up to 5000 of these per page.
        cap = CLOUD_ID_PAGE if selection.id_only else CLOUD_FULL_PAGE
        try:
            size = int(data.get("maxResults", 50))
        except (TypeError, ValueError):
            raise SandboxError(400, ["maxResults must be an integer."]) from None
        size = max(1, min(size, cap))
        token = data.get("nextPageToken")
        start = self._decode_token(token, jql) if token else 0
        ids, done = self.search_ids(jql, user, start + size + 1)
        page = ids[start:start + size]
        with_changelog = "changelog" in expand.split(",")
        issues = [r.issue(self.state.issues[i], selection,
                          "search" if with_changelog else None, slim_ids=True) for i in page]
        body = {"issues": issues}
        if start + size < len(ids) or not done:
            body["nextPageToken"] = self._encode_token(start + size, jql)
            body["isLast"] = False
        else:
            body["isLast"] = True
        return json_response(body)

    @staticmethod
    def _encode_token(offset: int, jql: str) -> str:
        digest = hashlib.sha1(jql.encode()).hexdigest()[:8]
        return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode().rstrip("=")

    @staticmethod
    def _decode_token(token: str, jql: str) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            offset, digest = base64.urlsafe_b64decode(padded).decode().split(":")
            if digest != hashlib.sha1(jql.encode()).hexdigest()[:8]:
                raise ValueError
            return int(offset)
        except (ValueError, UnicodeDecodeError):
            raise SandboxError(400, ["The provided next page token is invalid or expired."]
                               ) from None

    def do_approximate_count(self, request, user, r):
        data = self.body(request)
        return json_response({"count": len(self.search_ids(data.get("jql", ""), user)[0])})

    def do_search(self, request, user, r):
        if self.state.flavor == "cloud":
            raise SandboxError(410, [GONE_MESSAGE])
        data, jql, fields, expand = self._search_params(request)
        try:
            start = int(data.get("startAt", 0) or 0)
            size = int(data.get("maxResults", 50))
        except (TypeError, ValueError):
            raise SandboxError(400, ["startAt and maxResults must be integers."]) from None
        start = max(0, start)
        size = max(0, min(size, self.max_results_cap))
        if start + size > SERVER_RESULT_WINDOW:
            raise SandboxError(400, [
                f"The requested page (startAt={start}, maxResults={size}) reaches past the "
                f"result window of {SERVER_RESULT_WINDOW} issues. Narrow the query, e.g. "
                "'id > N ORDER BY id', and page from startAt=0."])
        page, total = self.search_cursor(jql, user).window(start, size)
        selection = FieldSelection(fields, "*navigable")
        with_changelog = "changelog" in str(expand).split(",")
        issues = [r.issue(self.state.issues[i], selection, "full" if with_changelog else None)
                  for i in page]
        return json_response({"expand": "schema,names", "startAt": start, "maxResults": size,
                              "total": total, "issues": issues})
