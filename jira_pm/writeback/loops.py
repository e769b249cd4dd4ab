"""Label changes that do not stick: stop sending a write Jira accepts but something undoes.

A workflow post-function or an automation rule may take a label off again
right after jira-pm adds it (or put back one it removed), or Jira may accept
an edit of a field that is not on the issue's edit screen and drop it. Labels
are level-triggered, so without this jira-pm would send the same change on
every run for ever: two bots fighting over a label.

A change (``+label`` or ``-label`` on one issue) is counted each run Jira
accepts it. Once it was sent on ``STUCK_AFTER`` runs and the sync after the
last one still shows it undone, it is *stuck*: it is left out of the plan,
reported once, and listed by `jira-pm status` and `jira-pm log` until a
person runs `jira-pm unstick KEY` (or a sync shows the change in effect).

Runs that plan nothing for the issue (the finding cleared for a while, the
write deferred by ``max_writes``, a run that stopped before write-back) leave
the count alone. A sync that shows the change in effect after it was sent
forgets the count, so a label a person removes now and then is not "stuck".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from jira_pm.store.ledger import LoopRecord
from jira_pm.writeback.plan import IssueState, LabelWrite, Plan

# Runs in a row that sent a change a sync then showed undone, before it stops being sent.
STUCK_AFTER = 3

LIKELY_CAUSES = ("a workflow post-function or an automation rule undoes it, or the Labels "
                 "field is not on the issue's edit screen")


@dataclass(frozen=True)
class HeldChange:
    """A label change left out of this run's plan because it does not stick."""

    issue_id: int
    issue_key: str
    change: str  # "+label" or "-label"
    rule_id: str | None
    runs: int
    newly_stuck: bool  # True: this run found it stuck (report it); False: stuck before

    def notice(self) -> str:
        """The one line said when a change becomes stuck."""
        verb, label = ("added", self.change[1:]) if self.change[0] == "+" else (
            "removed", self.change[1:])
        return (f"{self.issue_key}: jira-pm {verb} the label {label} on {self.runs} runs in a "
                f"row and each time the next sync showed it undone; it stops sending it "
                f"(likely cause: {LIKELY_CAUSES}); fix that, then run "
                f"`jira-pm unstick {self.issue_key}`")


@dataclass
class LoopCheck:
    """What loop detection decided for one plan."""

    held: list[HeldChange] = field(default_factory=list)
    # (issue id, change) pairs a sync showed in effect after they were sent: stop counting.
    took_effect: list[tuple[int, str]] = field(default_factory=list)

    @property
    def newly_stuck(self) -> list[HeldChange]:
        return [h for h in self.held if h.newly_stuck]


def changes_of(write: LabelWrite) -> list[str]:
    """A labels write as changes: ``["+pm-overdue", "-pm-at-risk"]``."""
    return [*(f"+{x}" for x in write.add), *(f"-{x}" for x in write.remove)]


def in_effect(change: str, labels: Iterable[str]) -> bool:
    """Whether an issue carrying ``labels`` shows ``change`` done."""
    return (change[1:] in labels) == (change[0] == "+")


def _synced_after_send(record: LoopRecord) -> bool:
    """Whether a sync saved the issue after the change was last sent (so its labels are Jira's)."""
    if record.synced_at is None:
        return False
    return datetime.fromisoformat(record.synced_at) > datetime.fromisoformat(record.last_sent)


def check_loops(plan: Plan, records: Iterable[LoopRecord],
                issues: Mapping[int, IssueState]) -> tuple[Plan, LoopCheck]:
    """The plan without its stuck label changes, and what was held back or took effect. Pure."""
    check = LoopCheck()
    counted: dict[tuple[int, str], LoopRecord] = {}
    for record in records:
        issue = issues.get(record.issue_id)
        if (issue is not None and _synced_after_send(record)
                and in_effect(record.change, issue.labels)):
            check.took_effect.append((record.issue_id, record.change))
        else:
            counted[(record.issue_id, record.change)] = record
    writes = []
    for write in plan.writes:
        if not isinstance(write, LabelWrite):
            writes.append(write)
            continue
        held = set()
        for change in changes_of(write):
            record = counted.get((write.issue_id, change))
            if record is None:
                continue
            if record.stuck_at is None and not (record.runs >= STUCK_AFTER
                                                 and _synced_after_send(record)):
                continue
            held.add(change)
            check.held.append(HeldChange(write.issue_id, write.issue_key, change,
                                         record.rule_id, record.runs,
                                         newly_stuck=record.stuck_at is None))
        kept = _without(write, held)
        if kept is not None:
            writes.append(kept)
    return replace(plan, writes=writes), check


def _without(write: LabelWrite, held: set[str]) -> LabelWrite | None:
    """``write`` minus the held changes; None when nothing is left to send."""
    if not held:
        return write
    add = tuple(x for x in write.add if f"+{x}" not in held)
    remove = tuple(x for x in write.remove if f"-{x}" not in held)
    if not add and not remove:
        return None
    sign = {"add": "+", "remove": "-"}
    reasons = tuple(r for r in write.reasons if f"{sign[r.action]}{r.label}" not in held)
    return replace(write, add=add, remove=remove, reasons=reasons)


def sends(done: Iterable[object]) -> list[tuple[int, str, str, str | None]]:
    """The label changes among a run's done writes: (issue id, key, change, rule id)."""
    found = []
    for write in done:
        if not isinstance(write, LabelWrite):
            continue
        rules = {f"{'+' if r.action == 'add' else '-'}{r.label}": r.rule_id
                 for r in write.reasons}
        found += [(write.issue_id, write.issue_key, change, rules.get(change))
                  for change in changes_of(write)]
    return found
