"""Site-wide endpoints: serverInfo, myself, fields, projects, versions, statuses, boards."""

from __future__ import annotations

from jira_pm.sandbox import catalog
from jira_pm.sandbox.responses import json_response, values_page
from jira_pm.sandbox.state import SandboxError
from jira_pm.sandbox.timeutil import jira_timestamp

PERMISSIONS = {
    "BROWSE_PROJECTS": ("10", "Browse Projects", "Ability to browse projects and the issues "
                        "within them."),
    "EDIT_ISSUES": ("12", "Edit Issues", "Ability to edit issues."),
    "ADD_COMMENTS": ("15", "Add Comments", "Ability to comment on issues."),
    "WORK_ON_ISSUES": ("20", "Work On Issues", "Ability to log work done against an issue."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "Ability to administer a project in "
                            "Jira."),
}
WRITE_PERMISSIONS = {"EDIT_ISSUES", "ADD_COMMENTS", "WORK_ON_ISSUES", "ADMINISTER_PROJECTS"}


class SiteHandlers:
    """Handlers mixed into SandboxApp (they use its state, helpers and counters)."""

    # ---- site-wide ----------------------------------------------------------------------
    def do_server_info(self, request, user, r):
        now = jira_timestamp(self.state.now())
        if self.state.flavor == "cloud":
            return json_response({
                "baseUrl": r.base, "displayUrl": r.base, "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
                "buildNumber": 100289, "buildDate": "2026-11-01T00:00:00.000+0000",
                "serverTime": now, "scmInfo": "sandbox", "serverTitle": "Jira sandbox"})
        return json_response({
            "baseUrl": r.base, "version": "10.3.1", "versionNumbers": [10, 3, 1],
            "deploymentType": "Server", "buildNumber": 10030001,
            "buildDate": "2024-12-01T00:00:00.000+0000", "databaseBuildNumber": 10030001,
            "serverTime": now, "scmInfo": "sandbox", "serverTitle": "Jira sandbox"})

    def do_myself(self, request, user, r):
        body = r.user(user.name)
        body.update({"locale": "en_US", "groups": {"size": 1, "items": []},
                     "applicationRoles": {"size": 1, "items": []}, "expand": "groups,"
                     "applicationRoles"})
        return json_response(body)

    def do_user(self, request, user, r):
        """The user a `self` link points at: ?accountId= (Cloud), ?username= or ?key= (DC)."""
        args = request.args
        for found in self.state.users.values():
            if (args.get("accountId") == found.account_id or args.get("username") == found.name
                    or args.get("key") == found.key):
                return json_response(r.user(found.name))
        if not any(args.get(k) for k in ("accountId", "username", "key")):
            raise SandboxError(400, ["Either the 'accountId' or the 'username' query parameter "
                                     "must be given."])
        raise SandboxError(404, ["The user does not exist."])

    def do_fields(self, request, user, r):
        out = []
        for fid, name, kind in catalog.SYSTEM_FIELDS:
            out.append({"id": fid, "key": fid, "name": name, "custom": False, "orderable": True,
                        "navigable": True, "searchable": True, "clauseNames": [fid],
                        "schema": {"type": kind, "system": fid}})
        for cf in self.state.fields.values():
            number = int(cf.id.rsplit("_", 1)[1])
            schema = {"type": cf.type, "custom": cf.custom, "customId": number}
            if cf.items:
                schema["items"] = cf.items
            out.append({"id": cf.id, "key": cf.id, "name": cf.name, "custom": True,
                        "orderable": True, "navigable": True, "searchable": True,
                        "clauseNames": [f"cf[{number}]", cf.name], "schema": schema})
        return json_response(out)

    def do_projects(self, request, user, r):
        return json_response([r.project(p) for p in self.state.projects.values()])

    def do_project_search(self, request, user, r):
        projects = list(self.state.projects.values())
        wanted = request.args.getlist("keys")
        if wanted:
            projects = [p for p in projects if p.key in {k.upper() for k in wanted}]
        query = request.args.get("query", "").lower()
        if query:
            projects = [p for p in projects if query in p.key.lower() or query in p.name.lower()]
        start, size = self.paged(request, 50, 100)
        return values_page(request, projects, r.project, start, size,
                           next_url=f"{r.rest}/project/search")

    def _project(self, key: str):
        project = self.state.projects.get(key.upper())
        if project is None:
            for candidate in self.state.projects.values():
                if candidate.id == key:
                    return candidate
            raise SandboxError(404, [f"No project could be found with key '{key}'."])
        return project

    def do_project(self, request, user, r, key):
        return json_response(r.project(self._project(key), full=True))

    def do_project_versions(self, request, user, r, key):
        project = self._project(key)
        return json_response([r.version(v) for v in self.state.versions.values()
                              if v.project_key == project.key])

    def do_project_versions_paged(self, request, user, r, key):
        project = self._project(key)
        versions = [v for v in self.state.versions.values() if v.project_key == project.key]
        start, size = self.paged(request, 50, 50)
        return values_page(request, versions, r.version, start, size,
                           next_url=f"{r.rest}/project/{project.key}/version")

    def do_version(self, request, user, r, version_id):
        version = self.state.versions.get(version_id)
        if version is None:
            raise SandboxError(404, [f"Could not find version for id '{version_id}'"])
        return json_response(r.version(version))

    def do_statuses(self, request, user, r):
        return json_response([r.status(s) for s in catalog.STATUSES])

    def do_my_permissions(self, request, user, r):
        wanted = request.args.get("permissions")
        if not wanted and self.state.flavor == "cloud":
            raise SandboxError(400, ["The 'permissions' query parameter is required."])
        keys = [k.strip() for k in wanted.split(",")] if wanted else list(PERMISSIONS)
        out = {}
        for key in keys:
            if key not in PERMISSIONS:
                raise SandboxError(404, [f"No permission with key '{key}' found."])
            pid, name, description = PERMISSIONS[key]
            have = not (user.readonly and key in WRITE_PERMISSIONS)
            if key == "ADMINISTER_PROJECTS":
                have = user.admin
            out[key] = {"id": pid, "key": key, "name": name, "type": "PROJECT",
                        "description": description, "havePermission": have}
        return json_response({"permissions": out})

    # ---- agile --------------------------------------------------------------------------------
    def do_boards(self, request, user, r):
        boards = sorted({s.board_id for s in self.state.sprints.values()} or {1})
        values = [{"id": b, "self": f"{r.base}/rest/agile/1.0/board/{b}",
                   "name": f"Board {b}", "type": "scrum"} for b in boards]
        return json_response({"maxResults": 50, "startAt": 0, "total": len(values),
                              "isLast": True, "values": values})

    def do_board_sprints(self, request, user, r, board_id):
        sprints = [s for s in self.state.sprints.values() if s.board_id == board_id]
        states = request.args.get("state")
        if states:
            allowed = {s.strip().lower() for s in states.split(",")}
            sprints = [s for s in sprints if s.state in allowed]
        start, size = self.paged(request, 50, 50)
        # The agile API pages without self or total.
        return values_page(request, sprints, r.agile_sprint, start, size, with_self=False,
                           with_total=False)

    def do_sprint(self, request, user, r, sprint_id):
        sprint = self.state.sprints.get(sprint_id)
        if sprint is None:
            raise SandboxError(404, [f"Sprint with id {sprint_id} does not exist."])
        return json_response(r.agile_sprint(sprint))
