"""Generate a realistic site from a seed: projects, versions, sprints, epics, issues, history.

Issues are simulated forward from creation — added to sprints, versions and
epics before and after those start, re-estimated, moved through the workflow,
worked on — so every changelog replays exactly back from the final state.
The same seed and size always give the same site.
"""

from __future__ import annotations

import random

from jira_pm.sandbox import catalog
from jira_pm.sandbox.changes import labels_item, points_text, sprint_item
from jira_pm.sandbox.scenario import DEFAULT_USERS, scenario_clock
from jira_pm.sandbox.state import History, Issue, SiteState, Worklog
from jira_pm.sandbox.timeutil import days_after, parse_instant

GENERATED_NOW = "2026-11-20T12:00:00Z"
PROJECT_KEYS = ("SHOP", "OPS", "CRM", "DATA", "WEB", "APP", "INFRA", "PAY")
PEOPLE = ("alice", "bob", "carol", "dave", "erin")
DAY = 86_400_000
HOUR_S = 3600
HEAVY_EVERY = 250  # one issue in this many gets > 40 histories and > 20 worklogs
LABELS = ("customer", "backend", "frontend", "tech-debt", "security", "ux")


def generate(issues: int = 500, seed: int = 1, flavor: str = "cloud", now: str = GENERATED_NOW,
             clock=None, timezone: str = "UTC") -> SiteState:
    """A site of ``issues`` issues, deterministic under ``seed``."""
    state = SiteState(flavor, timezone, clock or scenario_clock(now))
    for user in DEFAULT_USERS:
        state.add_user(**user)
    for name in PEOPLE:
        state.add_user(name, email=f"{name}@example.com")
    _Generator(state, random.Random(seed), parse_instant(now)).run(issues)
    return state


class _Generator:
    def __init__(self, state: SiteState, rng: random.Random, now: int):
        self.state = state
        self.rng = rng
        self.now = now
        self.statuses = [catalog.STATUS_BY_NAME[n] for n in ("to do", "in progress", "in review",
                                                              "done")]

    def run(self, count: int) -> None:
        n_projects = max(1, min(len(PROJECT_KEYS), count // 400 + 1))
        today = days_after("1970-01-01", self.now // DAY)
        plans = []
        for index, key in enumerate(PROJECT_KEYS[:n_projects]):
            self.state.add_project(key, f"{key.title()} project", "admin")
            versions = [
                self.state.add_version(key, "1.0", start=days_after(today, -90),
                                       release=days_after(today, -60), released=True),
                self.state.add_version(key, "1.1", start=days_after(today, -50),
                                       release=days_after(today, -10)),
                self.state.add_version(key, "1.2", start=days_after(today, -20),
                                       release=days_after(today, 15)),
                self.state.add_version(key, "2.0", start=days_after(today, 20),
                                       release=days_after(today, 60)),
            ]
            board = index + 1
            sprints = []
            for n, (start, state_name) in enumerate(
                    ((-42, "closed"), (-28, "closed"), (-14, "closed"), (-3, "active"),
                     (11, "future")), start=1):
                begin = self.now + start * DAY
                sprints.append(self.state.add_sprint(
                    f"{key} Sprint {n}", state_name, start=begin if state_name != "future" else
                    None, end=begin + 14 * DAY if state_name != "future" else None,
                    complete=begin + 14 * DAY if state_name == "closed" else None,
                    board_id=board))
            plans.append((key, versions, sprints))
        counters = {key: 0 for key, _, _ in plans}
        epics: dict[str, list[Issue]] = {key: [] for key, _, _ in plans}
        recent: dict[str, list[Issue]] = {key: [] for key, _, _ in plans}
        for n in range(count):
            key, versions, sprints = plans[n % len(plans)]
            counters[key] += 1
            self.make_issue(n, key, counters[key], versions, sprints, epics[key], recent[key])

    def make_issue(self, n, project, number, versions, sprints, epics, recent) -> None:
        rng, state = self.rng, self.state
        roll = rng.random()
        if not epics or roll < 0.05:
            kind = catalog.ISSUE_TYPE_BY_NAME["epic"]
        elif roll < 0.15 and recent:
            kind = catalog.ISSUE_TYPE_BY_NAME["sub-task"]
        else:
            kind = catalog.ISSUE_TYPE_BY_NAME[rng.choice(("story", "story", "task", "bug"))]
        created = self.now - rng.randint(2 * DAY, 80 * DAY) - rng.randint(0, DAY)
        reporter = rng.choice(PEOPLE)
        issue = Issue(state.next_id("issue"), f"{project}-{number}", project, kind,
                      f"{kind.name} {number} of {project}", self.statuses[0], created, reporter)
        issue.assignee = rng.choice(PEOPLE)
        if kind.subtask:
            issue.parent_id = rng.choice(recent[-20:]).id
        elif kind.hierarchy_level == 0:
            issue.points = rng.choice((None, 1.0, 2.0, 3.0, 5.0, 8.0))
            if rng.random() < 0.6:
                issue.original = rng.choice((4, 8, 16, 24, 40)) * HOUR_S
                issue.remaining = issue.original
            if rng.random() < 0.5:
                issue.epic_id = rng.choice(epics[-10:]).id
        else:
            issue.budget = float(rng.choice((80, 160, 400)))
            issue.start_date = days_after("1970-01-01", created // DAY)
        if rng.random() < 0.3:
            issue.due = days_after("1970-01-01", (created + rng.randint(10, 70) * DAY) // DAY)
        self.simulate(issue, versions, sprints, epics, heavy=(n % HEAVY_EVERY == HEAVY_EVERY - 1))
        state.add_issue(issue)
        if kind.hierarchy_level == 1:
            epics.append(issue)
        elif not kind.subtask:
            recent.append(issue)
            if len(recent) > 40:
                del recent[:20]

    def simulate(self, issue: Issue, versions, sprints, epics, heavy: bool) -> None:
        rng, state = self.rng, self.state
        span = self.now - issue.created
        events = [(issue.created + rng.randint(60_000, span), False)
                  for _ in range(rng.randint(0, 5))]
        # Heavy issues get label churn on top: > 40 histories, as busy real issues have.
        events += [(issue.created + rng.randint(60_000, span), True) for _ in range(45 * heavy)]
        events.sort()
        stage = 0
        for at, churn in events:
            author = rng.choice(PEOPLE)
            items = []
            choice = rng.random()
            if churn:
                new_labels = ([] if issue.labels else [rng.choice(LABELS)])
                items.append(labels_item(issue.labels, new_labels))
                issue.labels = new_labels
            elif choice < 0.15 and issue.type.hierarchy_level == 0:
                open_sprints = [s for s in sprints if s.state != "closed" or
                                (s.end or 0) > at]
                if open_sprints:
                    sprint = rng.choice(open_sprints)
                    if sprint.id not in issue.sprints:
                        new = issue.sprints + [sprint.id]
                        items.append(sprint_item(state, issue.sprints, new))
                        issue.sprints = new
            elif choice < 0.2 and issue.sprints:
                # Taken out of a sprint (scope removed), or carried over when it closed.
                gone = rng.choice(issue.sprints)
                if state.sprints[gone].state != "closed":
                    new = [s for s in issue.sprints if s != gone]
                    items.append(sprint_item(state, issue.sprints, new))
                    issue.sprints = new
            elif choice < 0.3 and not issue.type.subtask:
                version = rng.choice(versions[1:])
                if version.id not in issue.fix_versions:
                    issue.fix_versions = issue.fix_versions + [version.id]
                    items.append(("Fix Version", None, None, str(version.id), version.name))
            elif choice < 0.33 and issue.fix_versions:
                gone = rng.choice(issue.fix_versions)
                issue.fix_versions = [v for v in issue.fix_versions if v != gone]
                items.append(("Fix Version", str(gone), state.versions[gone].name, None, None))
            elif choice < 0.43 and issue.type.hierarchy_level == 0 and epics:
                epic = rng.choice(epics[-10:])
                if epic.id != issue.epic_id:
                    old = state.issues.get(issue.epic_id) if issue.epic_id else None
                    items.append(("epic", str(old.id) if old else None, old.key if old else None,
                                  str(epic.id), epic.key))
                    issue.epic_id = epic.id
            elif choice < 0.55 and issue.type.hierarchy_level == 0:
                new_points = rng.choice((1.0, 2.0, 3.0, 5.0, 8.0, 13.0))
                if new_points != issue.points:
                    items.append(("points", None, points_text(issue.points), None,
                                  points_text(new_points)))
                    issue.points = new_points
            elif choice < 0.62 and issue.original is not None:
                new = issue.original + rng.choice((4, 8, 16)) * HOUR_S
                items.append(("timeoriginalestimate", str(issue.original), str(issue.original),
                              str(new), str(new)))
                issue.original = new
            elif choice < 0.7 and issue.remaining:
                new = max(0, issue.remaining - rng.choice((2, 4, 8)) * HOUR_S)
                items.append(("timeestimate", str(issue.remaining), str(issue.remaining),
                              str(new), str(new)))
                issue.remaining = new
            elif stage < 3:
                stage += 1
                old, new = issue.status, self.statuses[stage]
                items.append(("status", old.id, old.name, new.id, new.name))
                issue.status = new
                if new.category == catalog.DONE:
                    items.append(("resolution", None, None, *catalog.RESOLUTION_DONE))
                    issue.resolution = catalog.RESOLUTION_DONE
                    issue.resolved = at
            if items:
                issue.histories.append(History(state.next_id("history"), at, author,
                                               tuple(items)))
                issue.updated = at
        if issue.status != self.statuses[0] or heavy:
            self.work(issue, heavy)

    def work(self, issue: Issue, heavy: bool) -> None:
        rng, state = self.rng, self.state
        span = self.now - issue.created
        for _ in range(rng.randint(1, 4) + (22 if heavy else 0)):
            started = issue.created + rng.randint(0, max(1, span - 8 * 3_600_000))
            seconds = rng.choice((1, 2, 3, 4, 6, 8)) * HOUR_S
            logged = min(started + seconds * 1000, self.now)
            worklog = Worklog(state.next_id("worklog"), issue.id, rng.choice(PEOPLE), started,
                              seconds, logged, logged)
            issue.worklogs.append(worklog)
            state.worklog_index[worklog.id] = worklog
            issue.updated = max(issue.updated, logged)
