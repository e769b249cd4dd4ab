"""Issue endpoints: GET/PUT/DELETE /issue, and the changelog (pages and bulkfetch)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from jira_pm.sandbox.changes import InvalidValues
from jira_pm.sandbox.render import FieldSelection
from jira_pm.sandbox.responses import json_response, values_page
from jira_pm.sandbox.state import SandboxError


class IssueHandlers:
    """Handlers mixed into SandboxApp (they use its state, helpers and counters)."""

    # ---- issues -----------------------------------------------------------------------------
    def do_issue(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        if request.method == "GET":
            selection = FieldSelection(request.args.get("fields"), "*all")
            expand = request.args.get("expand", "")
            mode = None
            if "changelog" in expand.split(","):
                mode = "issue" if self.state.flavor == "cloud" else "full"
            return json_response(r.issue(issue, selection, mode))
        if request.method == "DELETE":
            self.require_write(user, "You do not have permission to delete issues in this "
                                     "project.", issue)
            self.state.delete_issue(issue)
            return Response(status=204)
        self.require_write(user, issue=issue)
        self.check_notify(request, user)
        changes = self._edit_changes(r, issue, self.body(request))
        undone = self.state.undo_label_changes(issue, changes)
        try:
            self.state.update_issue(issue, user.name, **changes)
        except InvalidValues as exc:  # nothing changed: every value is parsed first
            raise SandboxError(400, [], {self._body_field(name): message
                                         for name, message in exc.errors.items()}) from None
        if undone:
            self.state.touch(issue)  # the "automation" edited the issue back
        return Response(status=204)

    def _body_field(self, change: str) -> str:
        """The PUT /issue body field an update_issue change key came from."""
        f = self.state.fields
        epic = "parent" if self.state.flavor == "cloud" else f["epic_link"].id
        return {"due": "duedate", "original_estimate": "timetracking",
                "remaining_estimate": "timetracking", "fix_versions": "fixVersions",
                "sprints": f["sprint"].id, "points": f["points"].id, "budget": f["budget"].id,
                "start_date": f["start_date"].id, "epic": epic}.get(change, change)

    def _edit_changes(self, r, issue, body: dict) -> dict:
        """Translate a PUT /issue body into update_issue changes (validated first)."""
        if not isinstance(body, dict):
            raise SandboxError(400, ["The request body must be a JSON object."])
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        f = self.state.fields
        changes: dict = {}
        errors = {}
        for name, value in fields.items():
            if name == "labels":
                changes["labels"] = list(value or [])
            elif name == "summary":
                changes["summary"] = value
            elif name == "duedate":
                changes["due"] = value
            elif name == f["points"].id:
                changes["points"] = value
            elif name == f["budget"].id:
                changes["budget"] = value
            elif name == f["start_date"].id:
                changes["start_date"] = value
            elif name == "timetracking":
                if not isinstance(value, dict):
                    errors[name] = ("Time tracking must be an object with originalEstimate "
                                    "and/or remainingEstimate.")
                    continue
                if "originalEstimate" in value:
                    changes["original_estimate"] = value["originalEstimate"]
                if "remainingEstimate" in value:
                    changes["remaining_estimate"] = value["remainingEstimate"]
            elif name == "fixVersions":
                changes["fix_versions"] = [self._version_name(issue, v) for v in value or []]
            elif name == f["sprint"].id:
                changes["sprints"] = self._sprint_names(issue, value, name)
            elif (name == "parent" and self.state.flavor == "cloud") or (
                    name == f["epic_link"].id and self.state.flavor == "server"):
                ref = value.get("key") or value.get("id") if isinstance(value, dict) else value
                changes["epic"] = ref or None
            else:
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate "
                                "screen, or unknown.")
        for name, operations in update.items():
            if name != "labels":
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate "
                                "screen, or unknown.")
                continue
            labels = list(changes.get("labels", issue.labels))
            for operation in operations:
                if not isinstance(operation, dict) or len(operation) != 1:
                    raise SandboxError(400, [], {"labels": "Operation must be one of add, "
                                                           "remove or set."})
                (verb, value), = operation.items()
                if verb == "add" and value not in labels:
                    labels.append(value)
                elif verb == "remove":
                    labels = [label for label in labels if label != value]
                elif verb == "set":
                    labels = list(value or [])
                elif verb not in ("add", "remove", "set"):
                    raise SandboxError(400, [], {"labels": f"Operation '{verb}' is not "
                                                           "supported for labels."})
            for label in labels:
                if " " in label:
                    raise SandboxError(400, [], {"labels": "The label '"
                                                 f"{label}' contains spaces which is invalid."})
            changes["labels"] = labels
        if errors:
            raise SandboxError(400, [], errors)
        if "epic" in changes and changes["epic"] and self.state.find_issue(
                changes["epic"]) is None:
            raise SandboxError(400, [], {"parent": f"Issue '{changes['epic']}' not found."})
        return changes

    def _sprint_names(self, issue, value, field_id: str) -> list[str]:
        """The issue's sprints after setting the Sprint field to ``value`` (an id or null).

        As in Jira, closed sprints stay on the issue; the open sprint is replaced.
        """
        raw = value[0] if isinstance(value, list) and value else value
        kept = [self.state.sprints[s].name for s in issue.sprints
                if self.state.sprints[s].state == "closed"]
        if raw in (None, [], ""):
            return kept
        try:
            sprint = self.state.sprints[int(raw)]
        except (KeyError, TypeError, ValueError):
            raise SandboxError(400, [], {field_id: f"Sprint with id {raw!r} does not exist."}
                               ) from None
        return kept + ([sprint.name] if sprint.name not in kept else [])

    def _version_name(self, issue, value) -> str:
        for version in self.state.versions.values():
            if version.project_key != issue.project_key:
                continue
            if (isinstance(value, dict) and (value.get("name") == version.name
                                             or str(value.get("id")) == str(version.id))):
                return version.name
        raise SandboxError(400, [], {"fixVersions": f"Version {value!r} is not valid"})

    # ---- changelog ---------------------------------------------------------------------------
    def do_changelog(self, request, user, r, id_or_key):
        issue = self.state.get_issue(id_or_key)
        start, size = self.paged(request, 100, 100)
        return values_page(request, issue.histories, r.history, start, size,
                           next_url=f"{r.rest}/issue/{issue.id}/changelog")

    def do_changelog_bulkfetch(self, request, user, r):
        data = self.body(request)
        refs = data.get("issueIdsOrKeys") or []
        if not refs or len(refs) > 1000:
            raise SandboxError(400, ["issueIdsOrKeys must list between 1 and 1000 issues."])
        size = max(1, min(int(data.get("maxResults", 1000)), 10000))
        field_ids = set(data.get("fieldIds") or [])
        start = self._decode_token(data["nextPageToken"], "bulkfetch") if data.get(
            "nextPageToken") else 0
        flat = []
        for ref in refs:
            issue = self.state.find_issue(ref)
            if issue is None:
                continue
            for history in issue.histories:
                flat.append((issue.id, history))
        page = flat[start:start + size]
        groups: dict[int, list] = {}
        for issue_id, history in page:
            items = history.items
            if field_ids:
                items = [i for i in items if r.item_field_key(i) in field_ids]
                if not items:
                    continue
            groups.setdefault(issue_id, []).append(r.history(history, items))
        body = {"issueChangeLogs": [{"issueId": str(i), "changeHistories": h}
                                    for i, h in groups.items()]}
        if start + size < len(flat):
            body["nextPageToken"] = self._encode_token(start + size, "bulkfetch")
        return json_response(body)
