"""Render site objects as Jira's JSON, per flavour (cloud/server) and API version (2/3).

Rendering happens per request, so a 100,000-issue site costs no JSON until
someone asks; each function builds only the fields requested.
"""

from __future__ import annotations

from jira_pm.sandbox import catalog
from jira_pm.sandbox.adf import adf_to_text, text_to_adf
from jira_pm.sandbox.timeutil import agile_timestamp, format_duration, jira_timestamp

# Jira's own limits on embedded lists (the sub-resources page the rest).
SEARCH_HISTORY_CAP = 40  # Cloud search with expand=changelog
ISSUE_HISTORY_CAP = 100  # Cloud GET /issue with expand=changelog
WORKLOG_FIELD_CAP = 20
COMMENT_FIELD_CAP = 50

NAVIGABLE_EXCLUDED = {"worklog", "comment", "timetracking"}
_AVATARS = {s: f"https://avatar.example.invalid/{s}.png" for s in ("48x48", "24x24", "16x16",
                                                                    "32x32")}


class Renderer:
    """JSON shapes for one site, base URL and API version."""

    def __init__(self, state, base_url: str, api: int):
        self.state = state
        self.base = base_url.rstrip("/")
        self.api = api
        self.cloud = state.flavor == "cloud"
        self.fields = state.fields
        self.rest = f"{self.base}/rest/api/{api}"

    # ---- small objects ------------------------------------------------------------------
    def user(self, name: str | None):
        if name is None:
            return None
        user = self.state.users.get(name)
        if user is None:
            return None
        if self.cloud:
            return {"self": f"{self.rest}/user?accountId={user.account_id}",
                    "accountId": user.account_id, "emailAddress": user.email,
                    "avatarUrls": _AVATARS, "displayName": user.display, "active": True,
                    "timeZone": user.timezone, "accountType": "atlassian"}
        return {"self": f"{self.rest}/user?username={user.name}", "name": user.name,
                "key": user.key, "emailAddress": user.email, "avatarUrls": _AVATARS,
                "displayName": user.display, "active": True, "timeZone": user.timezone}

    def status(self, status: catalog.Status) -> dict:
        cat = status.category
        return {"self": f"{self.rest}/status/{status.id}", "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
                "name": status.name, "id": status.id,
                "statusCategory": {"self": f"{self.rest}/statuscategory/{cat.id}", "id": cat.id,
                                   "key": cat.key, "colorName": cat.color, "name": cat.name}}

    def issue_type(self, kind: catalog.IssueType) -> dict:
        body = {"self": f"{self.rest}/issuetype/{kind.id}", "id": kind.id, "description": "",
                "iconUrl": f"{self.base}/images/icons/issuetypes/{kind.name.lower()}.svg",
                "name": kind.name, "subtask": kind.subtask, "avatarId": 10300}
        if self.cloud:
            body["hierarchyLevel"] = kind.hierarchy_level
        return body

    def project(self, project, full: bool = False) -> dict:
        body = {"self": f"{self.rest}/project/{project.id}", "id": project.id,
                "key": project.key, "name": project.name, "projectTypeKey": "software",
                "avatarUrls": _AVATARS}
        if self.cloud:
            body["simplified"] = False
        if full:
            body.update({"description": "", "lead": self.user(project.lead),
                         "issueTypes": [self.issue_type(t) for t in catalog.ISSUE_TYPES],
                         "versions": [self.version(v) for v in self.state.versions.values()
                                      if v.project_key == project.key],
                         "components": [], "assigneeType": "UNASSIGNED", "roles": {}})
        return body

    def version(self, version) -> dict:
        project = self.state.projects.get(version.project_key)
        body = {"self": f"{self.rest}/version/{version.id}", "id": str(version.id),
                "description": version.description, "name": version.name,
                "archived": version.archived, "released": version.released}
        if version.start:
            body["startDate"] = version.start
        if version.release:
            body["releaseDate"] = version.release
            if not version.released:
                from datetime import date
                body["overdue"] = date.fromisoformat(version.release) < date.fromtimestamp(
                    self.state.now() / 1000)
        if project:
            body["projectId"] = int(project.id)
        return body

    def sprint_cloud(self, sprint) -> dict:
        body = {"id": sprint.id, "name": sprint.name, "state": sprint.state,
                "boardId": sprint.board_id, "goal": sprint.goal}
        if sprint.start is not None:
            body["startDate"] = agile_timestamp(sprint.start)
        if sprint.end is not None:
            body["endDate"] = agile_timestamp(sprint.end)
        if sprint.complete is not None:
            body["completeDate"] = agile_timestamp(sprint.complete)
        return body

    def sprint_legacy(self, sprint) -> str:
        """Jira Server's legacy sprint string, as REST v2 on Data Center still returns it."""
        stamp = lambda ms: agile_timestamp(ms) if ms is not None else "<null>"  # noqa: E731
        return (f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint.id * 7919 + 0x1a2b3c:x}"
                f"[id={sprint.id},rapidViewId={sprint.board_id},state={sprint.state.upper()},"
                f"name={sprint.name},startDate={stamp(sprint.start)},endDate={stamp(sprint.end)},"
                f"completeDate={stamp(sprint.complete)},sequence={sprint.sequence},"
                f"goal={sprint.goal or '<null>'}]")

    def agile_sprint(self, sprint) -> dict:
        body = {"id": sprint.id, "self": f"{self.base}/rest/agile/1.0/sprint/{sprint.id}",
                "state": sprint.state, "name": sprint.name,
                "originBoardId": sprint.board_id, "goal": sprint.goal}
        for attr, key in (("start", "startDate"), ("end", "endDate"),
                          ("complete", "completeDate")):
            if getattr(sprint, attr) is not None:
                body[key] = agile_timestamp(getattr(sprint, attr))
        return body

    def text(self, value):
        """A rich-text value for this API version: ADF on v3, wiki text on v2."""
        if self.api == 3:
            return value if isinstance(value, dict) else text_to_adf(value or "")
        return adf_to_text(value) if isinstance(value, dict) else value

    # ---- issue parts ---------------------------------------------------------------------
    def history(self, history) -> dict:
        return {"id": str(history.id), "author": self.user(history.author),
                "created": jira_timestamp(history.at),
                "items": [self.change_item(item) for item in history.items]}

    def change_item(self, item) -> dict:
        field, from_id, from_text, to_id, to_text = item
        name, fieldtype, field_id = self._change_field(field)
        body = {"field": name, "fieldtype": fieldtype}
        if field_id and self.cloud:
            body["fieldId"] = field_id
        body.update({"from": from_id, "fromString": from_text, "to": to_id,
                     "toString": to_text})
        return body

    def _change_field(self, field: str) -> tuple[str, str, str | None]:
        if field == "Sprint":
            return "Sprint", "custom", self.fields["sprint"].id
        if field == "points":
            return self.fields["points"].name, "custom", self.fields["points"].id
        if field == "epic":
            if self.cloud:
                return "IssueParentAssociation", "jira", None
            return "Epic Link", "custom", self.fields["epic_link"].id
        if field == "Fix Version":
            return "Fix Version", "jira", "fixVersions"
        if field == "Key":
            return "Key", "jira", "issuekey"
        return field, "jira", field

    def worklog(self, worklog) -> dict:
        issue_id = str(worklog.issue_id)
        body = {"self": f"{self.rest}/issue/{issue_id}/worklog/{worklog.id}",
                "author": self.user(worklog.author), "updateAuthor": self.user(worklog.author),
                "created": jira_timestamp(worklog.created),
                "updated": jira_timestamp(worklog.updated),
                "started": jira_timestamp(worklog.started),
                "timeSpent": format_duration(worklog.seconds),
                "timeSpentSeconds": worklog.seconds, "id": str(worklog.id), "issueId": issue_id}
        if worklog.comment:
            body["comment"] = self.text(worklog.comment)
        return body

    def comment(self, comment) -> dict:
        body = {"self": f"{self.rest}/issue/{comment.issue_id}/comment/{comment.id}",
                "id": str(comment.id), "author": self.user(comment.author),
                "body": self.text(comment.body), "updateAuthor": self.user(comment.update_author),
                "created": jira_timestamp(comment.created),
                "updated": jira_timestamp(comment.updated)}
        if self.cloud:
            body["jsdPublic"] = True
        return body

    def timetracking(self, issue) -> dict:
        body: dict = {}
        spent = issue.time_spent
        if issue.original is not None:
            body["originalEstimate"] = format_duration(issue.original)
        if issue.remaining is not None:
            body["remainingEstimate"] = format_duration(issue.remaining)
        if spent is not None:
            body["timeSpent"] = format_duration(spent)
        if issue.original is not None:
            body["originalEstimateSeconds"] = issue.original
        if issue.remaining is not None:
            body["remainingEstimateSeconds"] = issue.remaining
        if spent is not None:
            body["timeSpentSeconds"] = spent
        return body

    def parent_ref(self, parent) -> dict:
        return {"id": str(parent.id), "key": parent.key, "self": f"{self.rest}/issue/{parent.id}",
                "fields": {"summary": parent.summary, "status": self.status(parent.status),
                           "priority": self.priority(parent.priority),
                           "issuetype": self.issue_type(parent.type)}}

    def priority(self, name: str) -> dict:
        ids = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
        pid = ids.get(name, "3")
        return {"self": f"{self.rest}/priority/{pid}", "iconUrl":
                f"{self.base}/images/icons/priorities/{name.lower()}.svg", "name": name,
                "id": pid}

    def field_value(self, issue, field_id: str):
        """The value of one field of ``issue`` as Jira renders it (KeyError if unknown)."""
        state = self.state
        f = self.fields
        if field_id == "summary":
            return issue.summary
        if field_id == "issuetype":
            return self.issue_type(issue.type)
        if field_id == "status":
            return self.status(issue.status)
        if field_id == "resolution":
            if issue.resolution is None:
                return None
            rid, name = issue.resolution
            return {"self": f"{self.rest}/resolution/{rid}", "id": rid,
                    "description": "Work has been completed on this issue.", "name": name}
        if field_id == "resolutiondate":
            return jira_timestamp(issue.resolved) if issue.resolved else None
        if field_id == "created":
            return jira_timestamp(issue.created)
        if field_id == "updated":
            return jira_timestamp(issue.updated)
        if field_id == "duedate":
            return issue.due
        if field_id == "project":
            return self.project(state.projects[issue.project_key])
        if field_id == "labels":
            return list(issue.labels)
        if field_id == "fixVersions":
            return [self.version(state.versions[v]) for v in issue.fix_versions]
        if field_id == "timetracking":
            return self.timetracking(issue)
        if field_id == "timeoriginalestimate":
            return issue.original
        if field_id == "timeestimate":
            return issue.remaining
        if field_id == "timespent":
            return issue.time_spent
        if field_id == "worklog":
            shown = issue.worklogs[:WORKLOG_FIELD_CAP]
            return {"startAt": 0, "maxResults": WORKLOG_FIELD_CAP, "total": len(issue.worklogs),
                    "worklogs": [self.worklog(w) for w in shown]}
        if field_id == "comment":
            shown = issue.comments[:COMMENT_FIELD_CAP]
            return {"comments": [self.comment(c) for c in shown],
                    "self": f"{self.rest}/issue/{issue.id}/comment",
                    "maxResults": len(shown), "total": len(issue.comments), "startAt": 0}
        if field_id == "assignee":
            return self.user(issue.assignee)
        if field_id == "reporter":
            return self.user(issue.reporter)
        if field_id == "description":
            return self.text(f"{issue.summary}.") if self.api == 3 else f"{issue.summary}."
        if field_id == "subtasks":
            return [self.parent_ref(c) for c in state.children(issue) if c.type.subtask]
        if field_id == "priority":
            return self.priority(issue.priority)
        if field_id == "parent":
            parent_id = issue.parent_id or (issue.epic_id if self.cloud else None)
            parent = state.issues.get(parent_id) if parent_id else None
            return self.parent_ref(parent) if parent else None
        if field_id == f["points"].id:
            return issue.points
        if field_id == f["sprint"].id:
            if not issue.sprints:
                return None
            sprints = [state.sprints[s] for s in issue.sprints]
            if self.cloud:
                return [self.sprint_cloud(s) for s in sprints]
            return [self.sprint_legacy(s) for s in sprints]
        if field_id == f["epic_link"].id:
            if self.cloud or not issue.epic_id:
                return None
            epic = state.issues.get(issue.epic_id)
            return epic.key if epic else None
        if field_id == f["start_date"].id:
            return issue.start_date
        if field_id == f["budget"].id:
            return issue.budget
        if field_id in f:  # listed fields the sandbox never fills (Cloud "Story Points")
            return None
        raise KeyError(field_id)

    def all_field_ids(self) -> list[str]:
        ids = [fid for fid, _name, _type in catalog.SYSTEM_FIELDS]
        ids += [cf.id for cf in self.fields.values()]
        return ids

    def issue(self, issue, fields: FieldSelection, changelog: str | None = None) -> dict:
        """The issue JSON; ``changelog``: None, "search"/"issue" (Cloud truncates) or "full"."""
        body = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                          "versionedRepresentations",
                "id": str(issue.id), "self": f"{self.rest}/issue/{issue.id}", "key": issue.key}
        if fields.id_only:
            if self.cloud:
                slim = {"id": str(issue.id)}
                if "key" in fields.parts:
                    slim["key"] = issue.key
                return slim
            return body
        wanted = fields.resolve(self)
        rendered = {}
        for field_id in wanted:
            if field_id == "parent" and not (issue.parent_id or (self.cloud and issue.epic_id)):
                continue  # Jira omits `parent` when there is none
            try:
                rendered[field_id] = self.field_value(issue, field_id)
            except KeyError:
                continue
        body["fields"] = rendered
        if changelog:
            body["changelog"] = self.changelog_envelope(issue, changelog)
        return body

    def changelog_envelope(self, issue, mode: str) -> dict:
        histories = issue.histories
        total = len(histories)
        if self.cloud and mode in ("search", "issue"):
            cap = SEARCH_HISTORY_CAP if mode == "search" else ISSUE_HISTORY_CAP
            # Cloud lists the newest first, and only the newest `cap` of them.
            shown = list(reversed(histories))[:cap]
            return {"startAt": 0, "maxResults": min(cap, total) if total else 0, "total": total,
                    "histories": [self.history(h) for h in shown]}
        return {"startAt": 0, "maxResults": total, "total": total,
                "histories": [self.history(h) for h in histories]}


class FieldSelection:
    """The ``fields`` request parameter: ids, ``*all``, ``*navigable``, ``-excluded``."""

    def __init__(self, spec: str | list | None, default: str):
        if spec is None or spec == "" or spec == []:
            spec = default
        parts = spec if isinstance(spec, list) else str(spec).split(",")
        self.parts = [p.strip() for p in parts if p and p.strip()]
        included = [p for p in self.parts if not p.startswith("-")]
        self.id_only = bool(included) and all(p in ("id", "key") for p in included)

    def resolve(self, renderer: Renderer) -> list[str]:
        every = renderer.all_field_ids()
        chosen: list[str] = []
        excluded = {p[1:] for p in self.parts if p.startswith("-")}
        for part in self.parts:
            if part.startswith("-"):
                continue
            if part == "*all":
                chosen += every
            elif part == "*navigable":
                chosen += [f for f in every if f not in NAVIGABLE_EXCLUDED]
            elif part not in ("id", "key"):
                chosen.append(part)
        return [f for f in dict.fromkeys(chosen) if f not in excluded]

    @property
    def light(self) -> bool:
        """Ids/keys only: Cloud grants up to 5000 of these per search page."""
        return self.id_only
