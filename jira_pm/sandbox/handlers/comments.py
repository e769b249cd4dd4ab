"""Comment endpoints (v2 wiki, v3 ADF) and comment/issue properties."""

from __future__ import annotations

from werkzeug.wrappers import Response

from jira_pm.sandbox.adf import adf_problem
from jira_pm.sandbox.responses import json_response
from jira_pm.sandbox.state import SandboxError


class CommentHandlers:
    """Handlers mixed into SandboxApp (they use its state, helpers and counters)."""

    # ---- comments -------------------------------------------------------------------------------
    def _comment_body(self, r, data) -> object:
        body = data.get("body") if isinstance(data, dict) else None
        if r.api == 3:
            problem = adf_problem(body)
            if problem:
                raise SandboxError(400, [], {"comment": "Comment body is not valid!"})
            return body
        if not isinstance(body, str) or not body.strip():
            raise SandboxError(400, [], {"comment": "Comment body can not be empty!"})
        return body

    def do_comments(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        if request.method == "GET":
            start, size = self.paged(request, 5000, 5000)
            comments = issue.comments
            if request.args.get("orderBy", "").lstrip("+") == "-created":
                comments = list(reversed(comments))
            page = comments[start:start + size]
            return json_response({"startAt": start, "maxResults": size,
                                  "total": len(comments),
                                  "comments": [r.comment(c) for c in page]})
        self.require_write(user, "You do not have the permission to comment on this issue.",
                           issue)
        self.check_notify(request, user)
        body = self._comment_body(r, self.body(request))
        comment = self.state.add_comment(issue, user.name, body)
        return json_response(r.comment(comment), 201)

    def _find_comment(self, issue, comment_id):
        comment = self.state.comment_index.get(comment_id)
        if comment is None or comment.issue_id != issue.id:
            raise SandboxError(404, [f"Can not find a comment for the id: {comment_id}."])
        return comment

    def do_comment(self, request, user, r, id_or_key, comment_id):
        issue = self.state.get_issue(id_or_key)
        comment = self._find_comment(issue, comment_id)
        if request.method == "GET":
            return json_response(r.comment(comment))
        self.require_write(user, "You do not have the permission to edit this comment.", issue)
        self.check_notify(request, user)
        if request.method == "DELETE":
            self.state.delete_comment(comment)
            return Response(status=204)
        comment.body = self._comment_body(r, self.body(request))
        comment.update_author = user.name
        comment.updated = self.state.touch(issue)
        return json_response(r.comment(comment))

    def _comment_anywhere(self, comment_id):
        comment = self.state.comment_index.get(comment_id)
        if comment is None:
            raise SandboxError(404, [f"Can not find a comment for the id: {comment_id}."])
        return comment

    def do_comment_property_keys(self, request, user, r, comment_id):
        comment = self._comment_anywhere(comment_id)
        return json_response({"keys": [
            {"self": f"{r.rest}/comment/{comment_id}/properties/{k}", "key": k}
            for k in comment.properties]})

    def do_comment_property(self, request, user, r, comment_id, prop):
        comment = self._comment_anywhere(comment_id)
        return self._property(request, user, comment.properties, prop, "comment",
                              self.state.issues[comment.issue_id])

    def do_issue_property_keys(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        return json_response({"keys": [
            {"self": f"{r.rest}/issue/{issue.id}/properties/{k}", "key": k}
            for k in (issue.properties or {})]})

    def do_issue_property(self, request, user, r, id_or_key, prop):
        issue = self.state.get_issue(id_or_key)
        if issue.properties is None:
            issue.properties = {}
        return self._property(request, user, issue.properties, prop, "issue", issue)

    def _property(self, request, user, properties: dict, prop: str, owner: str, issue):
        if request.method == "GET":
            if prop not in properties:
                raise SandboxError(404, [f"The property with key '{prop}' does not exist."])
            return json_response({"key": prop, "value": properties[prop]})
        self.require_write(user, f"You do not have permission to edit this {owner}.", issue)
        if request.method == "DELETE":
            if prop not in properties:
                raise SandboxError(404, [f"The property with key '{prop}' does not exist."])
            del properties[prop]
            return Response(status=204)
        existed = prop in properties
        properties[prop] = self.body(request)
        self.state.revision += 1
        return Response(status=200 if existed else 201)
