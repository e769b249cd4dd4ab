"""Write failures: what one looks like, when to stop writing to a project, how to report them.

A read-only account would otherwise send every planned write, collect one
403 for each and print hundreds of lines. After ``GIVE_UP_AFTER`` writes in a
row refused with 401 or 403 in one project, the rest of that project's writes
are not sent; they are counted as skipped (no ledger row), so the next run
simply plans them again. The report names each cause once, with the Jira
permission that fixes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from jira_pm.store.ledger import OP_COMMENT, OP_EDIT_COMMENT, OP_LABELS
from jira_pm.words import plural

GIVE_UP_AFTER = 5  # consecutive 401/403 on writes in one project
FAILURE_LINES = 5  # failures listed one by one in a summary; the rest are counted
DENIED = (401, 403)

# What each write needs in Jira: the permission's name in the UI and its key (same on
# Cloud and Data Center), and what the account may not do without it.
PERMISSIONS = {
    OP_LABELS: ("Edit Issues", "EDIT_ISSUES", "edit issues"),
    OP_COMMENT: ("Add Comments", "ADD_COMMENTS", "add comments"),
    OP_EDIT_COMMENT: ("Edit Own Comments", "EDIT_OWN_COMMENTS", "edit its own comments"),
}
_WHAT = {OP_LABELS: "label write", OP_COMMENT: "comment post",
         OP_EDIT_COMMENT: "comment edit"}


def project_of(issue_key: str) -> str:
    """The project key of an issue key (``PAY-12`` → ``PAY``)."""
    project, _, number = issue_key.rpartition("-")
    return project if project and number.isdigit() else issue_key


@dataclass
class Failure:
    """One write that did not happen, with Jira's status and message."""

    issue_key: str
    operation: str
    message: str
    http_status: int | None = None
    unsent: bool = False  # not sent: a read it needed (the marker search) was refused

    @property
    def project(self) -> str:
        return project_of(self.issue_key)

    @property
    def denied(self) -> bool:
        """A write refused for who the account is (401/403), not for what it says."""
        return self.http_status in DENIED and not self.unsent


class ProjectGate:
    """Lets writes through to a project until ``limit`` of them in a row were denied."""

    def __init__(self, limit: int = GIVE_UP_AFTER):
        self.limit = limit
        self._streak: Counter[str] = Counter()
        self.skipped: dict[str, int] = {}  # given-up project -> writes not sent

    def allows(self, issue_key: str) -> bool:
        """Whether to send a write to this issue; a refused one is counted as skipped."""
        project = project_of(issue_key)
        if project in self.skipped:
            self.skipped[project] += 1
            return False
        return True

    def succeeded(self, issue_key: str) -> None:
        self._streak[project_of(issue_key)] = 0

    def refused(self, issue_key: str, status: int | None) -> None:
        """Count a refusal; the ``limit``-th denial in a row gives the project up."""
        if status not in DENIED:
            return  # a 400 or 404 says nothing about the account's permissions
        project = project_of(issue_key)
        self._streak[project] += 1
        if self._streak[project] >= self.limit:
            self.skipped.setdefault(project, 0)


def fix_for(operation: str, status: int | None, project: str) -> str:
    """What to change so that a write denied with ``status`` goes through."""
    if status == 401:
        return ("check that the credentials are current; a Cloud API token with scopes needs "
                "write:jira-work")
    name, key, _ = PERMISSIONS.get(operation, PERMISSIONS[OP_LABELS])
    return (f"grant the jira-pm user the project permission {name} ({key}) in {project}, "
            "or leave the project out of [scope] projects")


def failure_lines(failed: Iterable[Failure], given_up: dict[str, int],
                  limit: int = FAILURE_LINES) -> list[str]:
    """The failure part of a summary: one line per cause of a given-up project, then a few more.

    Lines start with ``failed:`` or ``notice:`` so `run --quiet` shows them.
    """
    failed = list(failed)
    lines: list[str] = []
    summarized: set[int] = set()
    for project, skipped in given_up.items():
        causes: dict[tuple[str, int | None], list[Failure]] = {}
        for index, failure in enumerate(failed):
            if failure.project == project and failure.denied:
                causes.setdefault((failure.operation, failure.http_status), []).append(failure)
                summarized.add(index)
        for (operation, status), those in causes.items():
            first = those[0]
            what = plural(len(those), _WHAT.get(operation, operation))
            lines.append(f"failed: {project}: {what} "
                         f"refused with {status}, so jira-pm stopped writing there — "
                         f"{fix_for(operation, status, project)} (first: {first.issue_key}: "
                         f"{first.message.split(' — ')[0]})")  # Jira's words, not its hint
        if skipped:
            operation = next(iter(causes))[0] if causes else OP_LABELS
            lines.append(f"notice: skipped {plural(skipped, 'write')} to {project}, the account "
                         "may not "
                         f"{PERMISSIONS.get(operation, PERMISSIONS[OP_LABELS])[2]} there; "
                         "the next run tries them again")
    rest = [f for index, f in enumerate(failed) if index not in summarized]
    lines += [f"failed: {f.issue_key} {f.operation}: {f.message}" for f in rest[:limit]]
    if len(rest) > limit:
        lines.append(f"failed: ... and {plural(len(rest) - limit, 'more write')} (the ledger "
                     "has each: status = 'failed')")
    return lines
