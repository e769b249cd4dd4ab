"""The write-back planner: open findings + issues as synced + the ledger → writes. Pure.

Labels are level-triggered: every run computes the owned labels each issue
*should* carry and plans the difference as one labels write per issue (Jira's
``update.labels`` add/remove, never an overwrite). Only owned labels are ever
added or removed: the labels the loaded rule pack can produce and the labels
the ledger shows jira-pm wrote. The prefix alone makes no label jira-pm's (a
team's ``pm-approved`` is theirs), the exempt label is never owned, and exempt
issues are never written to.

Comments follow each finding's policy: ``once`` posts one comment per issue
the finding labels; ``on-change`` also edits that comment in place when its
text changes, and once more when the finding clears; ``never`` posts nothing.
``[writeback] comments = false`` (labels-only mode) plans no comment at all.
Whether a comment without a ledger record already exists is decided later,
by the marker search in ``apply``: the planner only says "needs a comment".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from jira_pm.exemptions import exemption_reason
from jira_pm.jira.format import CommentText
from jira_pm.model import Finding, severity_rank
from jira_pm.store.ledger import DONE, OP_COMMENT, OP_EDIT_COMMENT, OP_LABELS, CommentRecord
from jira_pm.store.ledger import key_order as _key_order
from jira_pm.words import plural
from jira_pm.writeback.comments import Lookups, finding_comment, resolved_comment

POLICY_ONCE = "once"
POLICY_NEVER = "never"
POLICY_ON_CHANGE = "on-change"

# A plan line's why for a write past max_writes.
DEFERRED_WHY = "deferred to a later run (max_writes)"
# A comment the finding has not had on this issue yet. Not "new finding": the finding
# may be old (first seen by an earlier run whose comment was deferred or failed).
NOT_COMMENTED_WHY = "not commented on yet"


@dataclass(frozen=True)
class IssueState:
    """What the planner needs of one issue: who it is and the labels it has now."""

    id: int
    key: str
    project_key: str
    issue_type: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedFinding:
    """A finding that has cleared, as far as editing its ``on-change`` comment needs."""

    rule_id: str
    fingerprint: str
    message: str
    label: str | None
    comment_policy: str


@dataclass(frozen=True)
class Policy:
    """The write-back settings the planner obeys."""

    label_prefix: str = "pm-"
    owned_labels: frozenset[str] = frozenset()
    exempt_label: str = "pm-ignore"
    exempt_issue_types: frozenset[str] = frozenset()
    exempt_projects: frozenset[str] = frozenset()
    comments: bool = True

    @classmethod
    def from_settings(cls, writeback, owned_labels: Iterable[str] = ()) -> Policy:
        """The policy of ``settings.writeback`` and the labels jira-pm owns."""
        return cls(
            label_prefix=writeback.label_prefix,
            owned_labels=frozenset(owned_labels),
            exempt_label=writeback.exempt_label,
            exempt_issue_types=frozenset(t.lower() for t in writeback.exempt_issue_types),
            exempt_projects=frozenset(writeback.exempt_projects),
            comments=writeback.comments,
        )

    def owns(self, label: str) -> bool:
        """Whether jira-pm may add or remove this label: only the owned set, never the prefix."""
        if label == self.exempt_label:
            return False  # a person sets it to stop jira-pm; jira-pm never takes it away
        return label in self.owned_labels

    def leaves_alone(self, label: str) -> bool:
        """A label that looks like jira-pm's (it has the prefix) but is a person's to keep."""
        return (bool(self.label_prefix) and label.startswith(self.label_prefix)
                and label != self.exempt_label and not self.owns(label))

    def exemption(self, issue: IssueState) -> str | None:
        """Why jira-pm must not write to this issue, or None (the engine's own rule)."""
        return exemption_reason(issue, self.exempt_label, self.exempt_issue_types,
                                self.exempt_projects)


@dataclass(frozen=True)
class Reason:
    """Why a label is added or removed: the rule and finding behind it, in words."""

    label: str
    action: str  # "add" or "remove"
    rule_id: str | None
    fingerprint: str | None
    why: str


@dataclass(frozen=True)
class LabelWrite:
    """One ``PUT /issue/{id}`` with ``update.labels`` add and remove operations."""

    issue_id: int
    issue_key: str
    add: tuple[str, ...]
    remove: tuple[str, ...]
    reasons: tuple[Reason, ...]
    rank: int  # severity rank of the most severe finding behind it (-1: removals only)

    operation = OP_LABELS

    def describe(self) -> list[tuple[str, str, str, str]]:
        """Plan lines: (issue, operation, rule, why)."""
        return [
            (self.issue_key, f"{r.action}-label {r.label}", r.rule_id or "-", r.why)
            for r in self.reasons
        ]


@dataclass(frozen=True)
class CommentWrite:
    """A comment to post (``comment``) or to edit in place (``edit-comment``)."""

    issue_id: int
    issue_key: str
    operation: str  # OP_COMMENT or OP_EDIT_COMMENT
    rule_id: str
    fingerprint: str
    text: CommentText
    why: str
    rank: int
    comment_id: str | None = None  # the comment to edit
    # A comment the ledger cannot vouch for: search the issue for its marker first.
    needs_marker_search: bool = True
    policy: str = POLICY_ONCE
    # The text hash of an earlier POST whose outcome is unknown (a pending ledger row).
    pending_hash: str | None = None

    def describe(self) -> list[tuple[str, str, str, str]]:
        """Plan lines: (issue, operation, rule, why)."""
        return [(self.issue_key, self.operation, self.rule_id, self.why)]


Write = LabelWrite | CommentWrite


@dataclass
class Plan:
    """The writes a run will make, the writes left for the next run, and the issues skipped."""

    writes: list[Write] = field(default_factory=list)
    deferred: list[Write] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (issue key, why)
    # Comments found by their marker (no write needed): (issue id, key, rule, fingerprint,
    # comment id, content hash of the text believed to be there)
    adopted: list[tuple[int, str, str, str, str, str | None]] = field(default_factory=list)
    # Comments not planned because the issue's comments could not be read for the marker
    # (404/403/400 on that issue): (write, Jira's status, message). Each fails this run.
    unreadable: list[tuple[Write, int | None, str]] = field(default_factory=list)

    def lines(self) -> list[tuple[str, str, str, str]]:
        """Every planned write as (issue, operation, rule, why), in the order they run."""
        return [line for write in self.writes for line in write.describe()]

    def lines_by_issue(self) -> list[tuple[str, str, str, str]]:
        """The writes, then the deferred writes (their why says so), each issue's lines together.

        Issues come in the order of their first write (most severe first).
        """
        grouped: dict[str, list[tuple[str, str, str, str]]] = {}
        for write in self.writes:
            grouped.setdefault(write.issue_key, []).extend(write.describe())
        for write in self.deferred:
            grouped.setdefault(write.issue_key, []).extend(
                (issue, operation, rule, f"{DEFERRED_WHY}: {why}")
                for issue, operation, rule, why in write.describe())
        return [line for lines in grouped.values() for line in lines]


def plan_candidates(
    issues: Mapping[int, IssueState],
    findings: Sequence[Finding],
    comments: Mapping[tuple[str, int], CommentRecord],
    policy: Policy,
    resolved: Sequence[ResolvedFinding] = (),
    lookups: Lookups | None = None,
) -> Plan:
    """Every write the findings call for, most severe first, before any bound or marker search.

    ``lookups`` turn the findings' issue and account ids into keys and names for
    the comments; without it the keys of ``issues`` are used.
    """
    plan = Plan()
    if lookups is None:
        lookups = Lookups(keys={i: s.key for i, s in issues.items()})
    wanted = _wanted_labels(findings, issues, policy)
    exempt: dict[int, str] = {}
    for issue in issues.values():
        why = policy.exemption(issue)
        if why:
            exempt[issue.id] = why

    for issue_id in sorted(issues, key=lambda i: _key_order(issues[i].key)):
        issue = issues[issue_id]
        if issue_id in exempt:
            if wanted.get(issue_id) or any(policy.owns(x) for x in issue.labels):
                plan.skipped.append((issue.key, exempt[issue_id]))
            continue
        write = _label_write(issue, wanted.get(issue_id, {}), policy)
        if write:
            plan.writes.append(write)

    for finding in findings if policy.comments else ():
        if finding.comment_policy == POLICY_NEVER:
            continue
        for issue_id in dict.fromkeys(finding.issue_ids):
            issue = issues.get(issue_id)
            if issue is None or issue_id in exempt:
                continue
            write = _comment_write(finding, issue, comments.get((finding.fingerprint, issue_id)),
                                   policy, lookups)
            if write:
                plan.writes.append(write)

    for gone in resolved if policy.comments else ():
        if gone.comment_policy != POLICY_ON_CHANGE:
            continue
        text = resolved_comment(gone.rule_id, gone.fingerprint, gone.message, gone.label)
        for (fingerprint, issue_id), record in comments.items():
            if fingerprint != gone.fingerprint or record.status != DONE or not record.comment_id:
                continue
            issue = issues.get(issue_id)
            if issue is None or issue_id in exempt or record.content_hash == text.content_hash():
                continue
            plan.writes.append(CommentWrite(
                issue_id, issue.key, OP_EDIT_COMMENT, gone.rule_id, gone.fingerprint, text,
                "finding resolved: mark the comment resolved", -1, record.comment_id,
                needs_marker_search=False, policy=POLICY_ON_CHANGE,
            ))

    plan.writes.sort(key=_write_order)
    return plan


def _wanted_labels(
    findings: Sequence[Finding], issues: Mapping[int, IssueState], policy: Policy
) -> dict[int, dict[str, Finding]]:
    """issue id → owned label → the most severe open finding that wants it there."""
    wanted: dict[int, dict[str, Finding]] = {}
    for finding in findings:
        if not finding.label or not policy.owns(finding.label):
            continue  # a rule may only write the labels the pack owns
        for issue_id in finding.issue_ids:
            if issue_id not in issues:
                continue
            labels = wanted.setdefault(issue_id, {})
            held = labels.get(finding.label)
            if held is None or severity_rank(finding.severity) > severity_rank(held.severity):
                labels[finding.label] = finding
    return wanted


def _label_write(issue: IssueState, wanted: Mapping[str, Finding],
                 policy: Policy) -> LabelWrite | None:
    have = set(issue.labels)
    add = sorted(label for label in wanted if label not in have)
    remove = sorted(label for label in have if policy.owns(label) and label not in wanted)
    if not add and not remove:
        return None
    reasons = [
        Reason(label, "add", wanted[label].rule_id, wanted[label].fingerprint,
               wanted[label].message)
        for label in add
    ]
    reasons += [
        Reason(label, "remove", None, None, "no open finding wants this label")
        for label in remove
    ]
    rank = max((severity_rank(wanted[label].severity) for label in add), default=-1)
    return LabelWrite(issue.id, issue.key, tuple(add), tuple(remove), tuple(reasons), rank)


def _comment_write(
    finding: Finding, issue: IssueState, record: CommentRecord | None, policy: Policy,
    lookups: Lookups,
) -> CommentWrite | None:
    text = finding_comment(finding, issue.key, policy.exempt_label, lookups)
    rank = severity_rank(finding.severity)
    if record is None or record.status != DONE or not record.comment_id:
        return CommentWrite(issue.id, issue.key, OP_COMMENT, finding.rule_id, finding.fingerprint,
                            text, f"{NOT_COMMENTED_WHY}: {finding.message}", rank,
                            policy=finding.comment_policy,
                            pending_hash=record.content_hash if record else None)
    if finding.comment_policy == POLICY_ON_CHANGE and record.content_hash != text.content_hash():
        return CommentWrite(issue.id, issue.key, OP_EDIT_COMMENT, finding.rule_id,
                            finding.fingerprint, text, f"finding changed: {finding.message}",
                            rank, record.comment_id, needs_marker_search=False,
                            policy=POLICY_ON_CHANGE)
    return None


def _write_order(write: Write) -> tuple:
    # Most severe first; for one issue, the label before its comment.
    return (-write.rank, _key_order(write.issue_key), 0 if isinstance(write, LabelWrite) else 1,
            write.fingerprint if isinstance(write, CommentWrite) else "")


@dataclass(frozen=True)
class PlanSize:
    """How much a plan writes: what an admin is shown before the first write-back to a site."""

    label_changes: int  # labels added plus labels removed
    comments: int  # comments posted or edited
    issues: int  # distinct issues written to
    notified_issues: int  # issues whose watchers Jira e-mails about these writes
    deferred: int  # writes past max_writes, left for later runs

    def lines(self, notify_users: bool) -> list[str]:
        """The size in words; watchers are counted as issues (the store holds no watcher lists)."""
        deferred = (f" ({plural(self.deferred, 'more write')} deferred to later runs)"
                    if self.deferred else "")
        why = ("notify_users = true" if notify_users
               else "notify_users = false: only new comments notify")
        return [
            f"{plural(self.label_changes, 'label change')} and "
            f"{plural(self.comments, 'comment')} on {plural(self.issues, 'issue')}{deferred}",
            f"watchers notified: those of {plural(self.notified_issues, 'issue')} ({why})",
        ]


def plan_size(plan: Plan, notify_users: bool) -> PlanSize:
    """Count a plan's writes; a new comment notifies watchers even when notify_users is off."""
    labels = sum(len(w.add) + len(w.remove) for w in plan.writes if isinstance(w, LabelWrite))
    comments = sum(1 for w in plan.writes if isinstance(w, CommentWrite))
    issues = {w.issue_id for w in plan.writes}
    notified = issues if notify_users else {
        w.issue_id for w in plan.writes if w.operation == OP_COMMENT}
    return PlanSize(labels, comments, len(issues), len(notified), len(plan.deferred))
