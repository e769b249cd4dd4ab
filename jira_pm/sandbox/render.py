"""Render site objects as Jira's JSON, per flavour (cloud/server) and API version (2/3).

Rendering happens per request, so a 100,000-issue site costs no JSON until
someone asks; each function builds only the fields requested. Objects that many
issues share (users, statuses, versions, changelog items...) are encoded once
and embedded as ``orjson.Fragment``; what belongs to one issue (its histories
and worklogs) is rendered each time, which measured faster on a first page than
caching it, and keeps a large site's memory flat (docs/benchmarks.md).
"""

from __future__ import annotations

from operator import attrgetter

import orjson

from jira_pm.sandbox import catalog
from jira_pm.sandbox.adf import adf_to_text, text_to_adf
from jira_pm.sandbox.timeutil import agile_timestamp, format_duration, timestamp_function

# Jira's own limits on embedded lists (the sub-resources page the rest).
SEARCH_HISTORY_CAP = 40  # Cloud search with expand=changelog
ISSUE_HISTORY_CAP = 100  # Cloud GET /issue with expand=changelog
WORKLOG_FIELD_CAP = 20
COMMENT_FIELD_CAP = 50

NAVIGABLE_EXCLUDED = {"worklog", "comment", "timetracking"}
FRAGMENT_CACHE_LIMIT = 300_000
_AVATARS = {s: f"https://avatar.example.invalid/{s}.png" for s in ("48x48", "24x24", "16x16",
                                                                    "32x32")}


class Renderer:
    """JSON shapes for one site, base URL and API version."""

    def __init__(self, state, base_url: str, api: int, fragments: dict | None = None,
                 tz: str = "UTC"):
        self.state = state
        self.tz = tz  # the calling user's zone: Jira renders timestamps in it
        self.ts = timestamp_function(tz)
        self.base = base_url.rstrip("/")
        self.api = api
        self.cloud = state.flavor == "cloud"
        self.fields = state.fields
        self.rest = f"{self.base}/rest/api/{api}"
        # With a fragment cache (the HTTP path), shared objects are encoded once and
        # embedded in pages as JSON text. Without one (the Python API), plain dicts are
        # returned. Fragments are kept per context (what their text depends on besides the
        # object itself), so their keys name only the object.
        self.ctx = (api, self.base, self.cloud, tz)
        self._cache = fragments.setdefault(self.ctx, {}) if fragments is not None else None
        # One request renders the same users, statuses and versions many times: build each once.
        self._memo: dict = {}
        self._users_out: dict = {}
        self._items_out: dict = {}

    # ---- pre-encoded fragments ----------------------------------------------------------
    def _fragment(self, key: tuple, build):
        """An object many issues share (user, status, version, changelog item...): encoded
        once per site and context, and embedded in pages as it is (orjson.Fragment)."""
        cache = self._cache
        if cache is None:
            return build()
        fragment = cache.get(key)
        if fragment is None:
            if len(cache) > FRAGMENT_CACHE_LIMIT:
                cache.clear()
            fragment = cache[key] = orjson.Fragment(orjson.dumps(build()))
        return fragment

    # ---- small objects ------------------------------------------------------------------
    def _memoized(self, key: tuple, build):
        memo = self._memo.get(key)
        if memo is None:
            memo = self._memo[key] = build()
        return memo

    def user(self, name: str | None):
        if name is None:
            return None
        return self._memoized(("user", name), lambda: self._user(name))

    def user_out(self, name: str | None):
        """A user embedded in another object (authors, assignee): a shared fragment."""
        if name is None:
            return None
        found = self._users_out.get(name)  # hundreds of calls a page: skip the key tuple
        if found is None:
            found = self._users_out[name] = self._fragment(("u", name), lambda: self.user(name))
        return found

    def _user(self, name: str):
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
        return self._memoized(("status", status.id), lambda: self._status(status))

    def _status(self, status: catalog.Status) -> dict:
        cat = status.category
        return {"self": f"{self.rest}/status/{status.id}", "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
                "name": status.name, "id": status.id,
                "statusCategory": {"self": f"{self.rest}/statuscategory/{cat.id}", "id": cat.id,
                                   "key": cat.key, "colorName": cat.color, "name": cat.name}}

    def issue_type(self, kind: catalog.IssueType) -> dict:
        return self._memoized(("type", kind.id), lambda: self._issue_type(kind))

    def _issue_type(self, kind: catalog.IssueType) -> dict:
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
            body.update({"description": "", "lead": self.user_out(project.lead),
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
                # Jira compares the release date with today in the caller's zone.
                today = self.ts(self.state.now())[:10]
                body["overdue"] = version.release < today
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
    def history(self, history, items=None) -> dict:
        """One changelog history; ``items``: only these of its items (bulkfetch's fieldIds).

        Histories are rendered on every request, not cached: keeping a million of them
        encoded costs more memory, and more time on a first page, than rendering them.
        """
        return {"id": str(history.id), "author": self.user_out(history.author),
                "created": self.ts(history.at),
                "items": [self.change_item_out(item)
                          for item in (history.items if items is None else items)]}

    def change_item_out(self, item):
        # Items repeat across issues (the same status moves, sprints, versions): one fragment
        # serves them all. Items hold only text or None (changes.py checks what clients
        # send), so equal keys mean equal JSON (as keys, 1, 1.0 and True would be equal).
        found = self._items_out.get(item)
        if found is None:
            found = self._items_out[item] = self._fragment(("i", item),
                                                           lambda: self.change_item(item))
        return found

    def change_item(self, item) -> dict:
        field, from_id, from_text, to_id, to_text = item
        name, fieldtype, field_id = self._change_field(field)
        body = {"field": name, "fieldtype": fieldtype}
        if field_id and self.cloud:
            body["fieldId"] = field_id
        body.update({"from": from_id, "fromString": from_text, "to": to_id,
                     "toString": to_text})
        return body

    def item_field_key(self, item) -> str:
        """What bulkfetch's fieldIds match in an item: its fieldId (Cloud), else its field."""
        name, _fieldtype, field_id = self._change_field(item[0])
        return field_id if field_id and self.cloud else name

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
        if field in ("WorklogId", "Epic Child"):
            return field, "jira" if field == "WorklogId" else "custom", None
        return field, "jira", field

    def worklog(self, worklog) -> dict:
        issue_id = str(worklog.issue_id)
        author = self.user_out(worklog.author)
        ts = self.ts
        body = {"self": f"{self.rest}/issue/{issue_id}/worklog/{worklog.id}",
                "author": author, "updateAuthor": author,
                "created": ts(worklog.created), "updated": ts(worklog.updated),
                "started": ts(worklog.started),
                "timeSpent": format_duration(worklog.seconds),
                "timeSpentSeconds": worklog.seconds, "id": str(worklog.id), "issueId": issue_id}
        if worklog.comment:
            body["comment"] = self.text(worklog.comment)
        return body

    def comment(self, comment) -> dict:
        body = {"self": f"{self.rest}/issue/{comment.issue_id}/comment/{comment.id}",
                "id": str(comment.id), "author": self.user_out(comment.author),
                "body": self.text(comment.body),
                "updateAuthor": self.user_out(comment.update_author),
                "created": self.ts(comment.created),
                "updated": self.ts(comment.updated)}
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

    def _getters(self) -> dict:
        """field id -> function(issue) giving the rendered value (built once per renderer)."""
        getters = self._memo.get("getters")
        if getters is not None:
            return getters
        state, f, ts = self.state, self.fields, self.ts
        shared = self._fragment

        def resolution(issue):
            if issue.resolution is None:
                return None
            rid, name = issue.resolution
            return {"self": f"{self.rest}/resolution/{rid}", "id": rid,
                    "description": "Work has been completed on this issue.", "name": name}

        today = None
        versions_out: dict = {}  # this request's, by id: a page repeats a few versions

        def version(vid):
            nonlocal today
            found = versions_out.get(vid)
            if found is None:
                v = state.versions[vid]
                # `overdue` depends on today's date, so the date is part of the key.
                today = today or self.ts(state.now())[:10]
                key = ("v", vid, v.name, v.released, v.archived, v.release, v.start, today)
                found = versions_out[vid] = shared(key, lambda: self.version(v))
            return found

        def worklog_field(issue):
            shown = issue.worklogs[:WORKLOG_FIELD_CAP]
            return {"startAt": 0, "maxResults": WORKLOG_FIELD_CAP, "total": len(issue.worklogs),
                    "worklogs": [self.worklog(w) for w in shown]}

        def comment_field(issue):
            shown = issue.comments[:COMMENT_FIELD_CAP]
            return {"comments": [self.comment(c) for c in shown],
                    "self": f"{self.rest}/issue/{issue.id}/comment",
                    "maxResults": len(shown), "total": len(issue.comments), "startAt": 0}

        def parent_of(other):
            return shared(("p", other.id, other.key, other.updated),
                          lambda: self.parent_ref(other))

        def parent(issue):
            parent_id = issue.parent_id or (issue.epic_id if self.cloud else None)
            found = state.issues.get(parent_id) if parent_id else None
            return parent_of(found) if found else None

        sprints_out: dict = {}  # this request's, by id

        def sprint_out(sp):
            found = sprints_out.get(sp.id)
            if found is None:
                # Keyed by every attribute: tests may change a sprint in site.state directly.
                key = ("s", sp.id, sp.name, sp.state, sp.start, sp.end, sp.complete)
                found = sprints_out[sp.id] = shared(key, lambda: self.sprint_cloud(sp))
            return found

        def sprint(issue):
            if not issue.sprints:
                return None
            if self.cloud:
                return [sprint_out(state.sprints[s]) for s in issue.sprints]
            return [self.sprint_legacy(state.sprints[s]) for s in issue.sprints]

        def epic_link(issue):
            if self.cloud or not issue.epic_id:
                return None
            epic = state.issues.get(issue.epic_id)
            return epic.key if epic else None

        def description(issue):
            return self.text(f"{issue.summary}.") if self.api == 3 else f"{issue.summary}."

        getters = {
            "summary": attrgetter("summary"),  # C getters: a page calls each 100 times
            "issuetype": lambda i: shared(("t", i.type.id),
                                          lambda: self.issue_type(i.type)),
            "status": lambda i: shared(("st", i.status.id), lambda: self.status(i.status)),
            "resolution": resolution,
            "resolutiondate": lambda i: ts(i.resolved) if i.resolved else None,
            "created": lambda i: ts(i.created),
            "updated": lambda i: ts(i.updated),
            "duedate": attrgetter("due"),
            "project": lambda i: shared(("pr", i.project_key),
                                        lambda: self.project(state.projects[i.project_key])),
            "labels": lambda i: list(i.labels),
            "fixVersions": lambda i: [version(v) for v in i.fix_versions],
            "timetracking": self.timetracking,
            "timeoriginalestimate": attrgetter("original"),
            "timeestimate": attrgetter("remaining"),
            "timespent": lambda i: i.time_spent,
            "worklog": worklog_field,
            "comment": comment_field,
            "assignee": lambda i: self.user_out(i.assignee),
            "reporter": lambda i: self.user_out(i.reporter),
            # The sandbox keeps no separate creator: Jira's default makes it the reporter.
            "creator": lambda i: self.user_out(i.reporter),
            "description": description,
            "subtasks": lambda i: [parent_of(c) for c in state.children(i) if c.type.subtask],
            "priority": lambda i: shared(("pri", i.priority),
                                         lambda: self.priority(i.priority)),
            "parent": parent,
            f["points"].id: attrgetter("points"),
            f["sprint"].id: sprint,
            f["epic_link"].id: epic_link,
            f["start_date"].id: attrgetter("start_date"),
            f["budget"].id: attrgetter("budget"),
        }
        for cf in f.values():  # listed fields the sandbox never fills (Cloud "Story Points")
            getters.setdefault(cf.id, lambda i: None)
        self._memo["getters"] = getters
        return getters

    def all_field_ids(self) -> list[str]:
        ids = [fid for fid, _name, _type in catalog.SYSTEM_FIELDS]
        ids += [cf.id for cf in self.fields.values()]
        return ids

    def issue(self, issue, fields: FieldSelection, changelog: str | None = None,
              slim_ids: bool = False) -> dict:
        """The issue JSON; ``changelog``: None, "search"/"issue" (Cloud truncates) or "full".

        ``slim_ids``: Cloud search/jql gives bare ``{"id"}`` (and ``key``) objects when only
        ids or keys are asked for.
        """
        body = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                          "versionedRepresentations",
                "id": str(issue.id), "self": f"{self.rest}/issue/{issue.id}", "key": issue.key}
        if fields.id_only:
            if slim_ids and self.cloud:
                slim = {"id": str(issue.id)}
                if "key" in fields.parts:
                    slim["key"] = issue.key
                return slim
            return body
        key = ("wanted", tuple(fields.parts))
        wanted = self._memo.get(key)
        if wanted is None:
            getters = self._getters()
            wanted = self._memo[key] = [(f, getters[f]) for f in fields.resolve(self)
                                        if f in getters]
        rendered = {}
        for field_id, getter in wanted:
            if field_id == "parent" and not (issue.parent_id or (self.cloud and issue.epic_id)):
                continue  # Jira omits `parent` when there is none
            rendered[field_id] = getter(issue)
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
