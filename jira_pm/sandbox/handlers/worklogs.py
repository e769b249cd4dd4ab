"""Worklog endpoints: per-issue pages, create/delete, and the site-wide updated/deleted/list."""

from __future__ import annotations

import bisect

from werkzeug.wrappers import Response

from jira_pm.sandbox.adf import adf_problem
from jira_pm.sandbox.responses import int_arg, json_response
from jira_pm.sandbox.state import SandboxError
from jira_pm.sandbox.timeutil import parse_duration, parse_instant

WORKLOG_PAGE = 1000  # Jira's page size for /worklog/updated and /worklog/deleted


class WorklogHandlers:
    """Handlers mixed into SandboxApp (they use its state, helpers and counters)."""

    # ---- worklogs -----------------------------------------------------------------------------
    def do_worklogs(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        if request.method == "GET":
            start, size = self.paged(request, 5000, 5000)
            page = issue.worklogs[start:start + size]
            return json_response({"startAt": start, "maxResults": size,
                                  "total": len(issue.worklogs),
                                  "worklogs": [r.worklog(w) for w in page]})
        self.require_write(user, "You do not have the permission to log work on this issue.",
                           issue)
        self.check_notify(request, user)
        data = self.body(request)
        if r.api == 3 and data.get("comment") is not None and adf_problem(data["comment"]):
            raise SandboxError(400, [], {"comment": "Comment body is not valid!"})
        try:
            seconds = parse_duration(data.get("timeSpentSeconds") or data.get("timeSpent"))
            started = parse_instant(data["started"]) if data.get("started") else self.state.now()
        except ValueError as exc:
            raise SandboxError(400, [], {"timeLogged": str(exc)}) from None
        if not seconds:
            raise SandboxError(400, [], {"timeLogged": "You must indicate the time spent "
                                                       "working."})
        adjust = request.args.get("adjustEstimate", "auto")
        try:
            worklog = self.state.add_worklog(
                issue, user.name, started, seconds, data.get("comment") or "", adjust=adjust,
                new_estimate=parse_duration(request.args.get("newEstimate")),
                reduce_by=parse_duration(request.args.get("reduceBy")))
        except ValueError as exc:
            raise SandboxError(400, [str(exc)]) from None
        return json_response(r.worklog(worklog), 201)

    def do_worklog(self, request, user, r, id_or_key, worklog_id):
        issue = self.state.get_issue(id_or_key)
        worklog = self.state.worklog_index.get(worklog_id)
        if worklog is None or worklog.issue_id != issue.id:
            raise SandboxError(404, [f"Cannot find worklog with id: '{worklog_id}'."])
        if request.method == "GET":
            return json_response(r.worklog(worklog))
        self.require_write(user, "You do not have the permission to delete this worklog.",
                           issue)
        try:
            self.state.delete_worklog(
                worklog.id, author=user.name, adjust=request.args.get("adjustEstimate", "auto"),
                new_estimate=parse_duration(request.args.get("newEstimate")),
                increase_by=parse_duration(request.args.get("increaseBy")))
        except ValueError as exc:
            raise SandboxError(400, [str(exc)]) from None
        return Response(status=204)

    def _since_page(self, request, r, entries: list[tuple[int, int]], kind: str):
        """Worklogs changed after ``since`` (ms), oldest first, in pages of about 1000.

        ``entries`` are (time, worklog id), sorted. A page never splits one timestamp,
        so following ``nextPage`` (since = this page's ``until``) loses and repeats nothing.
        """
        since = int_arg(request, "since", 0)
        start = bisect.bisect_right(entries, (since, float("inf")))
        end = min(len(entries), start + WORKLOG_PAGE)
        while end < len(entries) and entries[end][0] == entries[end - 1][0]:
            end += 1
        page = entries[start:end]
        last = end >= len(entries)
        until = page[-1][0] if page else since
        body = {"values": [{"worklogId": wid, "updatedTime": at, "properties": []}
                           for at, wid in page],
                "since": since, "until": until, "self": request.url, "lastPage": last}
        if not last:
            body["nextPage"] = f"{r.rest}/worklog/{kind}?since={until}"
        return json_response(body)

    def do_worklogs_updated(self, request, user, r):
        return self._since_page(request, r, self.state.worklogs_by_time(), "updated")

    def do_worklogs_deleted(self, request, user, r):
        entries = sorted((at, wid) for wid, at in self.state.deleted_worklogs)
        return self._since_page(request, r, entries, "deleted")

    def do_worklog_list(self, request, user, r):
        ids = self.body(request).get("ids") or []
        if len(ids) > 1000:
            raise SandboxError(400, ["The request contains more than 1000 worklog ids."])
        found = [self.state.worklog_index.get(int(i)) for i in ids]
        return json_response([r.worklog(w) for w in found if w is not None])
