"""/__sandbox routes: counters, faults, and admin changes (loopback test control, no auth)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from jira_pm.sandbox.responses import json_response
from jira_pm.sandbox.state import SandboxError


class AdminHandlers:
    """Handlers mixed into SandboxApp (they use its state, helpers and counters)."""

    # ---- /__sandbox admin (no auth: loopback test control) ----------------------------------
    def do_admin_stats(self, request, user, r):
        return json_response(self.stats.snapshot())

    def do_admin_stats_reset(self, request, user, r):
        self.stats.reset()
        return Response(status=204)

    def do_admin_faults(self, request, user, r):
        try:
            self.faults.set(**self.body(request))
        except (TypeError, ValueError) as exc:
            raise SandboxError(400, [str(exc)]) from None
        return Response(status=204)

    def do_admin_delete(self, request, user, r, id_or_key):
        self.state.delete_issue(self.state.get_issue(id_or_key))
        return Response(status=204)

    def do_admin_move(self, request, user, r, id_or_key):
        data = self.body(request)
        issue = self.state.get_issue(id_or_key)
        try:
            key = self.state.move_issue(issue, data["project"], data.get("author", "admin"))
        except KeyError as exc:
            raise SandboxError(400, [str(exc)]) from None
        return json_response({"id": str(issue.id), "key": key})

    def do_admin_update(self, request, user, r, id_or_key):
        data = dict(self.body(request))
        issue = self.state.get_issue(id_or_key)
        author = data.pop("author", "admin")
        try:
            self.state.update_issue(issue, author, **data)
        except (KeyError, ValueError) as exc:
            raise SandboxError(400, [str(exc)]) from None
        return Response(status=204)
