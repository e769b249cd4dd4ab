"""The in-memory Jira site: users, projects, versions, sprints, issues and their history.

Everything is stored compactly (``__slots__``, ints for instants, tuples for
changelog items) and rendered to JSON only when a request asks for it. Every
change that Jira would record in an issue's changelog goes through
:meth:`SiteState.record_change`, so the changelog always replays exactly back
from the current field values.

Changelog items are tuples ``(field, from_id, from_string, to_id, to_string)``
where ``field`` is one of the canonical names in :data:`CHANGE_FIELDS`; the
renderer turns them into each flavour's field names and ids.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from operator import attrgetter

from jira_pm.sandbox import catalog

# Canonical changelog field names the sandbox records.
CHANGE_FIELDS = (
    "status", "resolution", "Sprint", "Fix Version", "epic", "points",
    "timeoriginalestimate", "timeestimate", "timespent", "labels", "duedate", "summary", "Key",
    "project", "WorklogId", "Epic Child",
)

Item = tuple  # (field, from_id, from_string, to_id, to_string)


class User:
    __slots__ = ("name", "display", "email", "account_id", "key", "admin", "readonly",
                 "api_token", "pat", "timezone")

    def __init__(self, name, display, email, account_id, admin, readonly, api_token, pat,
                 timezone):
        self.name = name
        self.display = display
        self.email = email
        self.account_id = account_id
        self.key = f"JIRAUSER{10000 + int(account_id[-4:], 16) % 90000}"
        self.admin = admin
        self.readonly = readonly
        self.api_token = api_token
        self.pat = pat
        self.timezone = timezone


class Project:
    __slots__ = ("id", "key", "name", "lead")

    def __init__(self, id, key, name, lead):
        self.id = id
        self.key = key
        self.name = name
        self.lead = lead


class Version:
    __slots__ = ("id", "project_key", "name", "start", "release", "released", "archived",
                 "description")

    def __init__(self, id, project_key, name, start=None, release=None, released=False,
                 archived=False, description=""):
        self.id = id
        self.project_key = project_key
        self.name = name
        self.start = start
        self.release = release
        self.released = released
        self.archived = archived
        self.description = description


class Sprint:
    __slots__ = ("id", "name", "state", "start", "end", "complete", "board_id", "goal",
                 "sequence")

    def __init__(self, id, name, state, start=None, end=None, complete=None, board_id=1,
                 goal=""):
        self.id = id
        self.name = name
        self.state = state
        self.start = start
        self.end = end
        self.complete = complete
        self.board_id = board_id
        self.goal = goal
        self.sequence = id


class History:
    __slots__ = ("id", "at", "author", "items")

    def __init__(self, id, at, author, items):
        self.id = id
        self.at = at
        self.author = author
        self.items = items


class Worklog:
    __slots__ = ("id", "issue_id", "author", "started", "seconds", "created", "updated",
                 "comment")

    def __init__(self, id, issue_id, author, started, seconds, created, updated, comment=""):
        self.id = id
        self.issue_id = issue_id
        self.author = author
        self.started = started
        self.seconds = seconds
        self.created = created
        self.updated = updated
        self.comment = comment


class Comment:
    __slots__ = ("id", "issue_id", "author", "body", "created", "updated", "update_author",
                 "properties")

    def __init__(self, id, issue_id, author, body, created):
        self.id = id
        self.issue_id = issue_id
        self.author = author
        self.body = body  # wiki text (str) or an ADF document (dict), as it was written
        self.created = created
        self.updated = created
        self.update_author = author
        self.properties: dict = {}


_SECONDS = attrgetter("seconds")


class Issue:
    __slots__ = ("id", "key", "project_key", "type", "summary", "status", "resolution",
                 "resolved", "created", "updated", "points", "original", "remaining", "due",
                 "labels", "fix_versions", "sprints", "epic_id", "parent_id", "start_date",
                 "budget", "assignee", "reporter", "histories", "worklogs", "comments",
                 "properties", "priority", "locked")

    def __init__(self, id, key, project_key, type, summary, status, created, reporter):
        self.id = id
        self.key = key
        self.project_key = project_key
        self.type = type  # catalog.IssueType
        self.summary = summary
        self.status = status  # catalog.Status
        self.resolution = None  # (id, name) or None
        self.resolved = None
        self.created = created
        self.updated = created
        self.points = None
        self.original = None
        self.remaining = None
        self.due = None
        self.labels: list[str] = []
        self.fix_versions: list[int] = []
        self.sprints: list[int] = []
        self.epic_id = None
        self.parent_id = None
        self.start_date = None
        self.budget = None
        self.assignee = None
        self.reporter = reporter
        self.histories: list[History] = []
        self.worklogs: list[Worklog] = []
        self.comments: list[Comment] = []
        self.properties: dict | None = None
        self.priority = "Medium"
        self.locked = False  # writes refused with 403, as when the user may not edit it

    @property
    def time_spent(self) -> int | None:
        total = sum(map(_SECONDS, self.worklogs))  # rendered twice per issue: kept in C
        return total or None


ADJUST_ESTIMATE = (None, "auto", "leave", "new", "manual")


def _check_adjust(adjust: str | None) -> None:
    if adjust not in ADJUST_ESTIMATE:
        raise ValueError(f"adjustEstimate must be auto, leave, new or manual, not {adjust!r}")


def _seconds_item(field: str, old: int | None, new: int | None) -> tuple:
    old_s = None if old is None else str(old)
    new_s = None if new is None else str(new)
    return (field, old_s, old_s, new_s, new_s)


class SandboxError(Exception):
    """A request the site refuses: carries the HTTP status and Jira's error body."""

    def __init__(self, status: int, messages: list[str] | None = None,
                 errors: dict | None = None, body: dict | None = None, headers=None):
        super().__init__("; ".join(messages or []) or str(errors or body))
        self.status = status
        self.body = body if body is not None else {
            "errorMessages": list(messages or []), "errors": dict(errors or {})}
        self.headers = dict(headers or {})


ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class SiteState:
    """One Jira site in memory. Hold ``lock`` while reading or changing it from threads."""

    def __init__(self, flavor: str = "cloud", timezone: str = "UTC",
                 clock: Callable[[], int] | None = None):
        if flavor not in ("cloud", "server"):
            raise ValueError(f"flavor must be 'cloud' or 'server', not {flavor!r}")
        self.flavor = flavor
        self.timezone = timezone
        self.clock = clock or wall_clock_ms
        self.lock = threading.RLock()
        self.fields = catalog.custom_fields(flavor)
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        self.versions: dict[int, Version] = {}
        self.sprints: dict[int, Sprint] = {}
        self.issues: dict[int, Issue] = {}
        self.ids: list[int] = []  # sorted issue ids, for keyset paging
        self.keys: dict[str, int] = {}  # current and former keys -> id (moved issues redirect)
        self.deleted_worklogs: list[tuple[int, int]] = []  # (worklog id, deleted at ms)
        self.worklog_index: dict[int, Worklog] = {}
        self.comment_index: dict[int, Comment] = {}
        self.revision = 0  # bumped on every change; caches of search results key on it
        # Labels whose changes over REST are accepted (204) and silently undone, as a
        # workflow post-function or an automation rule reverting them would.
        self.undone_labels: set[str] = set()
        self._children: dict[int, list[int]] | None = None  # parent id -> child ids, lazily
        self._by_time: tuple[int, list] | None = None  # (revision, worklogs by update time)
        self._next = {"issue": 10000, "history": 100000, "worklog": 50000, "comment": 70000,
                      "version": 10100, "sprint": 1, "project": 10000}

    # ---- ids and time -------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def reserve_ids(self, kind: str, at_least: int) -> None:
        """Make sure later ids of ``kind`` are above ``at_least`` (after explicit ids)."""
        self._next[kind] = max(self._next[kind], at_least + 1)

    def now(self) -> int:
        return self.clock()

    def touch(self, issue: Issue, at: int | None = None) -> int:
        """Bump ``updated`` (strictly forward, as two quick edits still order) and the revision."""
        at = self.now() if at is None else at
        issue.updated = max(at, issue.updated + 1)
        self.revision += 1
        return issue.updated

    # ---- lookups ------------------------------------------------------------------------
    def user(self, name: str) -> User:
        try:
            return self.users[name]
        except KeyError:
            raise KeyError(f"no sandbox user {name!r}; known: {sorted(self.users)}") from None

    def find_issue(self, id_or_key: str | int) -> Issue | None:
        text = str(id_or_key)
        if text.isdigit():
            return self.issues.get(int(text))
        issue_id = self.keys.get(text.upper())
        return self.issues.get(issue_id) if issue_id is not None else None

    def get_issue(self, id_or_key: str | int) -> Issue:
        issue = self.find_issue(id_or_key)
        if issue is None:
            raise SandboxError(404, [ISSUE_NOT_FOUND])
        return issue

    def version_by_name(self, project_key: str, name: str) -> Version:
        for version in self.versions.values():
            if version.project_key == project_key and version.name == name:
                return version
        raise KeyError(f"no version {name!r} in project {project_key}")

    def sprint_by_name(self, name: str) -> Sprint:
        for sprint in self.sprints.values():
            if sprint.name == name:
                return sprint
        raise KeyError(f"no sprint named {name!r}")

    def worklogs_by_time(self) -> list[tuple[int, int]]:
        """(updated ms, worklog id) of every worklog, sorted; cached until the site changes."""
        cached = self._by_time
        if cached is None or cached[0] != self.revision:
            entries = sorted((w.updated, w.id) for w in self.worklog_index.values())
            cached = self._by_time = (self.revision, entries)
        return cached[1]

    def children(self, issue: Issue) -> list[Issue]:
        """Sub-tasks of ``issue`` (an index built on first use, dropped when issues change)."""
        if self._children is None:
            index: dict[int, list[int]] = {}
            for candidate in self.issues.values():
                if candidate.parent_id is not None:
                    index.setdefault(candidate.parent_id, []).append(candidate.id)
            self._children = index
        return [self.issues[i] for i in self._children.get(issue.id, ()) if i in self.issues]

    # ---- building -----------------------------------------------------------------------
    def add_user(self, name: str, display: str | None = None, email: str | None = None,
                 admin: bool = False, readonly: bool = False, timezone: str | None = None,
                 api_token: str | None = None, pat: str | None = None) -> User:
        n = len(self.users) + 1
        user = User(
            name=name, display=display or name.replace(".", " ").title(),
            email=email or f"{name}@example.com",
            account_id=f"5b10ac8d82e05b22cc7d{n:04x}", admin=admin, readonly=readonly,
            api_token=api_token or f"sandbox-token-{name}", pat=pat or f"sandbox-pat-{name}",
            timezone=timezone or self.timezone)
        self.users[name] = user
        return user

    def add_project(self, key: str, name: str, lead: str) -> Project:
        project = Project(str(self.next_id("project")), key.upper(), name, lead)
        self.projects[project.key] = project
        return project

    def add_version(self, project_key: str, name: str, **kwargs) -> Version:
        version = Version(self.next_id("version"), project_key, name, **kwargs)
        self.versions[version.id] = version
        self.revision += 1
        return version

    def add_sprint(self, name: str, state: str, **kwargs) -> Sprint:
        sprint = Sprint(self.next_id("sprint"), name, state, **kwargs)
        self.sprints[sprint.id] = sprint
        return sprint

    def add_issue(self, issue: Issue) -> Issue:
        self.issues[issue.id] = issue
        if not self.ids or issue.id > self.ids[-1]:
            self.ids.append(issue.id)
        else:
            bisect.insort(self.ids, issue.id)
        self.keys[issue.key] = issue.id
        self.revision += 1
        self._children = None
        return issue

    def new_issue_id_and_key(self, project_key: str) -> tuple[int, str]:
        issue_id = self.next_id("issue")
        taken = [int(k.rsplit("-", 1)[1]) for k in self.keys if k.startswith(project_key + "-")]
        return issue_id, f"{project_key}-{max(taken, default=0) + 1}"

    # ---- changes (each appends one changelog history, as Jira does) ---------------------
    def record_change(self, issue: Issue, author: str, items: list[Item],
                      at: int | None = None) -> History | None:
        """Append one history with ``items`` by ``author`` and bump ``updated``."""
        if not items:
            return None
        when = self.touch(issue, at)
        history = History(self.next_id("history"), when, author, tuple(items))
        issue.histories.append(history)
        return history

    def undo_label_changes(self, issue: Issue, changes: dict) -> bool:
        """Take the changes of ``undone_labels`` out of a REST edit; True when there were any."""
        if "labels" not in changes or not self.undone_labels:
            return False
        wanted = changes["labels"]
        kept = [x for x in wanted if x not in self.undone_labels or x in issue.labels]
        kept += [x for x in issue.labels if x in self.undone_labels and x not in wanted]
        changes["labels"] = kept
        return kept != wanted

    def update_issue(self, issue: Issue, author: str, at: int | None = None, **changes) -> None:
        """Change fields as an edit in Jira would: one history with an item per changed field.

        Keys: status, points, labels, add_labels, remove_labels, sprints (names), add_sprint,
        remove_sprint, fix_versions (names), add_fix_version, remove_fix_version, epic (key or
        None), original_estimate, remaining_estimate (Jira durations or seconds), due,
        summary, resolution ("Done" or None), budget, start_date. A value that cannot be stored
        raises changes.InvalidValues before anything changes.
        """
        from jira_pm.sandbox.changes import apply_edit  # one module owns field semantics

        edit = apply_edit(self, issue, changes)
        self.record_change(issue, author, edit.items, at)
        if edit.silent and not edit.items:
            self.touch(issue, at)  # fields without a changelog still bump `updated`
        for other, item in edit.related:
            self.record_change(other, author, [item], at)

    def add_worklog(self, issue: Issue, author: str, started: int, seconds: int,
                    comment: str = "", at: int | None = None, worklog_id: int | None = None,
                    adjust: str | None = None, new_estimate: int | None = None,
                    reduce_by: int | None = None) -> Worklog:
        """Log work. ``adjust`` (Jira's adjustEstimate) None means: no changelog, estimate kept.

        With auto / leave / new / manual, Jira's changelog items are recorded in one
        history: the remaining estimate (when it changes), time spent, and the worklog id.
        """
        _check_adjust(adjust)
        when = self.now() if at is None else at
        wid = worklog_id if worklog_id is not None else self.next_id("worklog")
        spent_before = issue.time_spent
        worklog = Worklog(wid, issue.id, author, started, seconds, when, when, comment)
        issue.worklogs.append(worklog)
        self.worklog_index[wid] = worklog
        if adjust is None:
            self.touch(issue, when)
            return worklog
        items = self._estimate_items(issue, adjust, -seconds, new_estimate, reduce_by)
        items.append(_seconds_item("timespent", spent_before, issue.time_spent))
        items.append(("WorklogId", None, None, str(wid), str(wid)))
        self.record_change(issue, author, items, when)
        return worklog

    def delete_worklog(self, worklog_id: int, at: int | None = None, author: str = "admin",
                       adjust: str | None = None, new_estimate: int | None = None,
                       increase_by: int | None = None) -> None:
        """Delete a worklog; ``adjust`` as in add_worklog (auto gives the time back)."""
        _check_adjust(adjust)
        worklog = self.worklog_index.pop(int(worklog_id))
        issue = self.issues[worklog.issue_id]
        spent_before = issue.time_spent
        issue.worklogs.remove(worklog)
        when = self.now() if at is None else at
        self.deleted_worklogs.append((worklog.id, when))
        if adjust is None:
            self.touch(issue, when)
            return
        items = self._estimate_items(issue, adjust, worklog.seconds, new_estimate,
                                     None if increase_by is None else -increase_by)
        items.append(_seconds_item("timespent", spent_before, issue.time_spent))
        items.append(("WorklogId", str(worklog.id), str(worklog.id), None, None))
        self.record_change(issue, author, items, when)

    @staticmethod
    def _estimate_items(issue: Issue, adjust: str, auto_delta: int, new_estimate: int | None,
                        manual_delta: int | None) -> list:
        """Apply Jira's adjustEstimate to the remaining estimate; the item if it changed."""
        old = issue.remaining
        if adjust == "auto":
            new = None if old is None else max(0, old + auto_delta)
        elif adjust == "new":
            new = new_estimate
        elif adjust == "manual":
            new = None if old is None else max(0, old - (manual_delta or 0))
        else:  # leave
            new = old
        if new == old:
            return []
        issue.remaining = new
        return [_seconds_item("timeestimate", old, new)]

    def add_comment(self, issue: Issue, author: str, body, at: int | None = None) -> Comment:
        when = self.now() if at is None else at
        comment = Comment(self.next_id("comment"), issue.id, author, body, when)
        issue.comments.append(comment)
        self.comment_index[comment.id] = comment
        self.touch(issue, when)
        return comment

    def delete_comment(self, comment: Comment) -> None:
        issue = self.issues[comment.issue_id]
        issue.comments.remove(comment)
        self.comment_index.pop(comment.id, None)
        self.touch(issue)

    def delete_issue(self, issue: Issue) -> None:
        del self.issues[issue.id]
        self.ids.remove(issue.id)
        for key in [k for k, v in self.keys.items() if v == issue.id]:
            del self.keys[key]
        self._children = None
        for comment in issue.comments:
            self.comment_index.pop(comment.id, None)
        for worklog in issue.worklogs:
            self.worklog_index.pop(worklog.id, None)
            self.deleted_worklogs.append((worklog.id, self.now()))
        self.revision += 1

    def move_issue(self, issue: Issue, project_key: str, author: str) -> str:
        """Move to another project: same id, a new key; the old key keeps resolving."""
        project_key = project_key.upper()
        if project_key not in self.projects:
            raise KeyError(f"no project {project_key}")
        old_key, old_project = issue.key, issue.project_key
        _, new_key = self.new_issue_id_and_key(project_key)
        issue.key = new_key
        issue.project_key = project_key
        self.keys[new_key] = issue.id
        old_pid, new_pid = self.projects[old_project].id, self.projects[project_key].id
        items = [
            ("project", old_pid, self.projects[old_project].name, new_pid,
             self.projects[project_key].name),
            ("Key", None, old_key, None, new_key),
        ]
        # Versions belong to projects: Jira drops fix versions the target lacks, on record.
        for vid in [v for v in issue.fix_versions if self.versions[v].project_key != project_key]:
            issue.fix_versions.remove(vid)
            items.append(("Fix Version", str(vid), self.versions[vid].name, None, None))
        self.record_change(issue, author, items)
        return new_key

    def release_version(self, version: Version, released: bool = True,
                        release_date: str | None = None) -> None:
        version.released = released
        if release_date:
            version.release = release_date
        self.revision += 1
