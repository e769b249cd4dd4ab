"""What jira-pm says about a finding, in a project manager's words.

One place turns a finding's evidence into sentences: what is wrong, why this
issue carries the label, and what clears it, with issue keys, people's display
names and dates in the configured zone, never the evidence's own field names.
``finding_comment`` gives the comment (rendered as ADF or wiki markup by
``jira_pm.jira.format``); ``finding_sentences`` gives the same content as
plain lines for other outputs (the HTML report).

Evidence holds issue ids and account ids where identity matters; ``Lookups``
turns them into keys and names from what the caller already has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from jira_pm.jira.format import (
    Block,
    CommentText,
    Inline,
    IssueLink,
    Paragraph,
    Table,
    marker_text,
)
from jira_pm.model import Finding
from jira_pm.words import day_text, noun, plural

# At most this many issues are named one by one; the rest are counted.
MAX_LISTED = 10
# At most this many people are named as the largest contributors to a budget.
MAX_PEOPLE = 3


@dataclass(frozen=True)
class Lookups:
    """What turns a finding's ids into words: issue keys, display names, the zone, the site."""

    keys: Mapping[int, str] = field(default_factory=dict)  # issue id -> key
    names: Mapping[str, str] = field(default_factory=dict)  # account id -> display name
    zone: tzinfo | None = None
    site_url: str | None = None

    def link(self, key: str) -> IssueLink:
        """The key as a link to ``/browse/KEY`` on the site (plain when no URL is known)."""
        url = f"{self.site_url.rstrip('/')}/browse/{key}" if self.site_url else None
        return IssueLink(key, url)

    def name(self, account_id: str | None) -> str:
        """A person's display name; never the account id itself."""
        if account_id and account_id in self.names:
            return self.names[account_id]
        return "someone jira-pm has no name for" if account_id else "nobody named"


def finding_comment(finding: Finding, issue_key: str, exempt_label: str,
                    lookups: Lookups | None = None) -> CommentText:
    """The comment for one finding on one issue it labels."""
    blocks = finding_blocks(finding, issue_key, exempt_label, lookups or Lookups())
    return CommentText(blocks, marker_text(finding.rule_id, finding.fingerprint))


def finding_sentences(finding: Finding, lookups: Lookups, issue_key: str | None = None,
                      exempt_label: str = "") -> list[str]:
    """The comment's content as plain lines (no marker): for outputs that are not Jira's.

    Without ``issue_key`` the sentences speak of the finding's subject, not of
    one labelled issue.
    """
    return CommentText(finding_blocks(finding, issue_key, exempt_label, lookups)).lines()


def finding_blocks(finding: Finding, issue_key: str | None, exempt_label: str,
                   lookups: Lookups) -> tuple[Block, ...]:
    """The paragraphs, lists and tables that explain one finding (on ``issue_key``)."""
    words = _Words(finding, issue_key, lookups)
    build = _BUILDERS.get(finding.check, _generic)
    blocks = list(build(words))
    tail = "jira-pm removes the label by itself once this is cleared"
    if exempt_label and finding.label and issue_key is not None:
        tail += f"; add the label {exempt_label} to exempt this issue"
    if finding.label and issue_key is not None:
        blocks.append(Paragraph((tail + ".",)))
    return tuple(blocks)


def resolved_comment(rule_id: str, fingerprint: str, message: str,
                     label: str | None) -> CommentText:
    """The text an ``on-change`` comment is edited to once its finding has cleared."""
    what = f"needs the label {label}" if label else "needs attention"
    gone = " and has removed the label" if label else ""
    return CommentText(
        (Paragraph((f"Resolved: this issue no longer {what}.",), strong=True),
         Paragraph((f"What this comment reported has been cleared; jira-pm no longer flags "
                    f"it{gone}.",))),
        marker_text(rule_id, fingerprint),
    )


class _Words:
    """The pieces every rule's sentences are made of, for one finding on one issue."""

    def __init__(self, finding: Finding, issue_key: str | None, lookups: Lookups):
        self.finding = finding
        self.ev = finding.evidence
        self.issue_key = issue_key
        self.lookups = lookups
        self.label = finding.label or ""

    @property
    def on_subject(self) -> bool:
        """Whether the comment sits on the finding's subject itself (an epic on itself)."""
        return (self.issue_key is not None and self.finding.subject_type in ("issue", "epic")
                and self.finding.subject_name == self.issue_key)

    def key(self, key: str) -> tuple[Inline, ...]:
        """An issue key as a link, marked when it is the issue the comment is on."""
        link = self.lookups.link(key)
        return (link, " (this issue)") if key == self.issue_key else (link,)

    def day(self, value: Any) -> str:
        """A date or instant from the evidence as "Tue 10 Nov 2026" in the configured zone."""
        if isinstance(value, datetime | date):
            return day_text(value, self.lookups.zone)
        text = str(value)
        if len(text) == 10:
            return day_text(date.fromisoformat(text))
        return day_text(datetime.fromisoformat(text.replace("Z", "+00:00")), self.lookups.zone)

    def version(self) -> str:
        project = self.finding.project_key
        return (f"release {project} {self.finding.subject_name}" if project
                else f"release {self.finding.subject_name}")

    def container(self) -> tuple[Inline, ...]:
        """The scope-creep container as people name it: sprint, release or epic (linked)."""
        kind, name = self.finding.subject_type, self.finding.subject_name
        if kind == "sprint":
            return (name,) if "sprint" in name.lower() else (f"sprint {name}",)
        if kind == "version":
            return (self.version(),)
        return ("epic ", self.lookups.link(name))

    def open_keys(self) -> list[str]:
        """The keys of the issues the finding labels (the evidence's keys as a fallback)."""
        keys = [self.lookups.keys[i] for i in self.finding.issue_ids if i in self.lookups.keys]
        if not keys:
            keys = [str(k) for k in self.ev.get("unresolved_keys") or ()]
        return keys

    def key_list(self, keys: Sequence[str], total: int | None = None) -> list[Inline]:
        """"A, B (this issue) and C": at most ten keys, then "and N more"; this issue always."""
        total = max(total or 0, len(keys))
        shown = list(keys[:MAX_LISTED])
        if self.issue_key in keys and self.issue_key not in shown:
            shown[-1] = self.issue_key
        parts: list[Inline] = []
        more = total - len(shown)
        for index, key in enumerate(shown):
            if index:
                last = index == len(shown) - 1 and not more
                parts.append(" and " if last else ", ")
            parts.extend(self.key(key))
        if more:
            parts.append(f" and {more:,} more")
        return parts


def _clause(text: str) -> str:
    return text[:1].upper() + text[1:]


def _num(value: float, decimals: int = 1) -> str:
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(fraction: float) -> str:
    return f"{fraction:.0%}"


# --- overdue -----------------------------------------------------------------------------


def _version_overdue(w: _Words) -> list[Block]:
    ev = w.ev
    late = int(ev.get("working_days_late") or 0)
    grace = int(ev.get("grace_days") or 0)
    keys = w.open_keys()
    total = int(ev.get("unresolved") or len(keys))
    grace_text = f" (after {plural(grace, 'working day')} of grace)" if grace else ""
    blocks: list[Block] = [Paragraph((
        f"{_clause(w.version())} is {plural(late, 'working day')} late: it was due "
        f"{w.day(ev['release_date'])}{grace_text} and {plural(total, 'issue')} "
        f"{noun(total, 'is')} still open.",), strong=True)]
    blocks.append(Paragraph(("Still open: ", *w.key_list(keys, total), ".")))
    why = ("This issue is one of them, so it carries the label " + w.label + ". "
           if w.issue_key in keys else "")
    blocks.append(Paragraph((
        f"{why}To clear it, resolve the open issues, move them to a later release, or "
        "release the version if it has shipped.",)))
    return blocks


def _due_date_overdue(w: _Words) -> list[Block]:
    ev = w.ev
    late = int(ev.get("working_days_late") or 0)
    kind = w.finding.subject_type
    who = f"This {kind}" if w.on_subject else f"{_clause(kind)} {w.finding.subject_name}"
    status = ev.get("status")
    still = f"; it is still {status}" if status else ""
    return [
        Paragraph((f"{who} was due {w.day(ev['due_date'])} and is "
                   f"{plural(late, 'working day')} late{still}.",), strong=True),
        Paragraph((f"To clear it, resolve the {kind} or agree a new due date and set it.",)),
    ]


def _version_at_risk(w: _Words) -> list[Block]:
    ev = w.ev
    keys = w.open_keys()
    remaining = int(ev.get("remaining_issues") or len(keys))
    due = w.day(ev["release_date"])
    pace = float(ev.get("throughput_per_working_day") or 0)
    window = int(ev.get("window_working_days") or ev.get("window_days") or 0)
    percentile = int(ev.get("percentile") or 85)
    open_now = f"{plural(remaining, 'open issue')}"
    if ev.get("forecast_finish") and pace > 0:
        why = (f"at the project's pace over the last {plural(window, 'working day')} "
               f"({_num(pace, 2)} issues a working day), {percentile}% of simulated outcomes "
               f"finish its {open_now} only by {w.day(ev['forecast_finish'])}")
    elif pace > 0:
        why = (f"at the project's pace over the last {plural(window, 'working day')} "
               f"({_num(pace, 2)} issues a working day) its {open_now} would take more than "
               "ten years")
    else:
        why = (f"the project resolved nothing in the last {plural(window, 'working day')}, "
               f"and {plural(remaining, 'issue')} {noun(remaining, 'is')} still open")
    blocks: list[Block] = [
        Paragraph((f"{_clause(w.version())} is due {due} but is likely to be late: {why}.",),
                  strong=True),
        Paragraph(("Still open: ", *w.key_list(keys, len(keys)), ".")),
    ]
    why_here = ("This issue is one of them, so it carries the label " + w.label + ". "
                if w.issue_key in keys else "")
    blocks.append(Paragraph((f"{why_here}To clear it, cut scope from the release, add "
                             "capacity, or move its release date.",)))
    return blocks


# --- scope creep -------------------------------------------------------------------------


def _amount(value: float, measure: str) -> str:
    if measure == "hours":
        return f"{_num(value)} h"
    if measure == "issues":
        return plural(int(value), "issue")
    return plural(int(value), "point") if float(value).is_integer() else f"{_num(value)} points"


def _scope_creep(w: _Words) -> list[Block]:
    ev = w.ev
    measure = str(ev.get("measure") or "points")
    kind = w.finding.subject_type
    since = {"sprint": "the sprint started", "version": "the release's start",
             "epic": "work on the epic began"}.get(kind, "its start")
    growth = float(ev.get("growth") or 0)
    threshold = float(ev.get("threshold") or 0)
    added = list(ev.get("added") or ())
    grown = list(ev.get("re_estimated") or ()) if measure != "issues" else []
    container = w.container()
    subject: tuple[Inline, ...] = ((f"This {kind}",) if w.on_subject
                                   else (_clause(str(container[0])), *container[1:]))
    blocks: list[Block] = [Paragraph((
        *subject, f" has grown {_percent(growth)} since {since} on {w.day(ev['baseline_at'])}, "
        f"more than the {_percent(threshold)} allowed: "
        f"{_amount(float(ev.get('growth_amount') or 0), measure)} on top of a baseline of "
        f"{_amount(float(ev.get('baseline_amount') or 0), measure)}.",), strong=True)]

    rows: list[tuple[tuple[Inline, ...], ...]] = []
    unit = {"hours": "Hours", "issues": "Estimate"}.get(measure, "Points")
    for entry in added:
        where = {"sprint": "sprint", "version": "release"}.get(kind, "epic")
        how = f"created in the {where}" if entry.get("added_how") == "created in it" else "added"
        rows.append((w.key(entry["key"]), (how,), (entry.get("added_by") or "unknown",),
                     (w.day(entry["added_at"]) if entry.get("added_at") else "",),
                     (_num(entry["estimate"]) if entry.get("estimate") is not None else "none",)))
    for entry in grown:
        before = _num(entry.get("from") or 0)
        rows.append((w.key(entry["key"]), (f"re-estimated from {before}",),
                     (entry.get("changed_by") or "unknown",),
                     (w.day(entry["changed_at"]) if entry.get("changed_at") else "",),
                     (f"+{_num(entry.get('increase') or 0)}",)))
    if rows:
        blocks.append(Table(("Issue", "Change", "By", "On", unit), tuple(rows[:MAX_LISTED])))
        if len(rows) > MAX_LISTED:
            blocks.append(Paragraph((f"... and {len(rows) - MAX_LISTED:,} more.",)))

    added_keys = {entry["key"] for entry in added}
    grown_keys = {entry["key"] for entry in grown}
    if w.issue_key in added_keys:
        why = f"This issue carries the label {w.label} because it came in after {since}. "
    elif w.issue_key in grown_keys:
        why = f"This issue carries the label {w.label} because its estimate grew after {since}. "
    else:
        why = ""
    where = {"sprint": "the sprint", "version": "the release"}.get(kind, "the epic")
    blocks.append(Paragraph((
        f"{why}To clear it, agree the added work with the project manager and move what does "
        f"not fit out of {where}, until the growth is back within {_percent(threshold)}.",)))
    return blocks


# --- budgets -----------------------------------------------------------------------------


def _money(w: _Words) -> Callable[[float], str]:
    ev = w.ev
    if ev.get("unit") == "hours":
        return lambda value: f"{_num(value)} h"
    currency = ev.get("currency") or ""
    return lambda value: f"{value:,.2f} {currency}".strip()


def _budget_subject(w: _Words) -> tuple[str, str]:
    """(subject as a sentence starts it, "its" or the subject's possessive)."""
    kind = w.finding.subject_type
    if w.on_subject:
        named = str(w.ev.get("subject_kind") or kind).lower()
        return f"This {named}", "its"
    if kind == "version":
        return _clause(w.version()), "its"
    if kind == "project":
        return f"Project {w.finding.subject_name}", "its"
    named = str(w.ev.get("subject_kind") or kind).capitalize()
    return f"{named} {w.finding.subject_name}", "its"


def _budget(w: _Words) -> list[Block]:
    ev = w.ev
    fmt = _money(w)
    budget = float(ev.get("budget") or 0)
    actual = float(ev.get("actual") or 0)
    spent = actual / budget if budget > 0 else 0.0
    forecast = float(ev.get("forecast") or actual)
    remaining = float(ev.get("remaining_estimate") or 0)
    warn = float(ev.get("warn_at") or 0.8)
    who, its = _budget_subject(w)
    check = w.finding.check
    if check == "budget_breach":
        head = (f"{who} is over budget: {fmt(actual)} spent of {its} {fmt(budget)} budget "
                f"({_percent(spent)}).")
    elif check == "budget_risk":
        head = (f"{who} is forecast to overrun {its} budget: {fmt(actual)} spent plus "
                f"{fmt(remaining)} of remaining estimates comes to {fmt(forecast)} against "
                f"a budget of {fmt(budget)} ({_percent(forecast / budget if budget else 0)}).")
    else:
        head = (f"{who} has spent {fmt(actual)} of {its} {fmt(budget)} budget "
                f"({_percent(spent)}), past the warning level of {_percent(warn)}.")
    blocks: list[Block] = [Paragraph((head,), strong=True)]

    detail = []
    if check != "budget_risk" and remaining > 0:
        detail.append(f"With the remaining estimates it is forecast to finish at "
                      f"{fmt(forecast)} ({_percent(forecast / budget if budget else 0)}).")
    people = _contributors(w, fmt)
    if people:
        detail.append(people)
    unpriced = float(ev.get("unpriced_hours") or 0)
    if unpriced > 0:
        detail.append(f"{_num(unpriced)} h logged by people without an hourly rate "
                      "are not counted.")
    if detail:
        blocks.append(Paragraph((" ".join(detail),)))

    if w.on_subject:
        why = ""
    else:
        why = (f"This issue is open work of {who[0].lower() + who[1:]}, so it carries the "
               f"label {w.label}. ") if w.issue_key is not None else ""
    from_field = ev.get("source") == "field"
    raise_it = ("raise the Budget field of the epic" if from_field
                else "ask the jira-pm administrator to raise the budget")
    advice = {
        "budget_breach": f"To clear it, agree with the project manager how the overrun is "
                         f"covered and {raise_it}.",
        "budget_risk": f"To clear it, cut or re-estimate the remaining work, or {raise_it}.",
    }.get(check, f"To clear it, review the remaining work against the budget with the "
                 f"project manager, or {raise_it}.")
    blocks.append(Paragraph((why + advice,)))
    return blocks


def _contributors(w: _Words, fmt: Callable[[float], str]) -> str:
    """"Most of it was logged by A (30 h), B (12 h) and 2 other people (4 h)." when it helps."""
    by_person = {k: float(v) for k, v in (w.ev.get("by_person") or {}).items() if float(v) > 0}
    if len(by_person) < 2:
        return ""  # one person's name tells nothing the total does not
    ranked = sorted(by_person.items(), key=lambda item: (-item[1], item[0]))
    named = [
        f"{'unattributed time' if pid == '(unknown)' else w.lookups.name(pid)} ({fmt(value)})"
        for pid, value in ranked[:MAX_PEOPLE]
    ]
    rest = ranked[MAX_PEOPLE:]
    if rest:
        others = f"{len(rest)} other {noun(len(rest), 'person')}"
        named.append(f"{others} ({fmt(sum(v for _, v in rest))})")
    listed = ", ".join(named[:-1]) + " and " + named[-1]
    return f"The largest shares were logged by {listed}."


def _over_estimate(w: _Words) -> list[Block]:
    ev = w.ev
    estimate = float(ev.get("original_estimate_hours") or 0)
    spent = float(ev.get("time_spent_hours") or 0)
    over = float(ev.get("over_fraction") or 0)
    tolerance = float(ev.get("tolerance") or 0)
    who = "This issue" if w.on_subject else f"Issue {w.finding.subject_name}"
    return [
        Paragraph((f"{who} has {_num(spent)} h logged against an original estimate of "
                   f"{_num(estimate)} h: {_percent(over)} over, beyond the "
                   f"{_percent(tolerance)} tolerance.",), strong=True),
        Paragraph(("To clear it, raise the original estimate if the work really is bigger, "
                   "or split the remaining work into a new issue.",)),
    ]


def _generic(w: _Words) -> list[Block]:
    """A third-party check's finding: its own message, and where the issue stands."""
    blocks: list[Block] = [Paragraph((w.finding.message.rstrip(".") + ".",), strong=True)]
    if not w.on_subject and w.issue_key is not None:
        blocks.append(Paragraph((f"This issue carries the label {w.label} because of "
                                 f"{w.finding.subject_type} {w.finding.subject_name}.",)))
    return blocks


_BUILDERS: dict[str, Callable[[_Words], list[Block]]] = {
    "version_overdue": _version_overdue,
    "due_date_overdue": _due_date_overdue,
    "version_at_risk": _version_at_risk,
    "scope_creep_sprint": _scope_creep,
    "scope_creep_version": _scope_creep,
    "scope_creep_epic": _scope_creep,
    "budget_warning": _budget,
    "budget_breach": _budget,
    "budget_risk": _budget,
    "over_estimate": _over_estimate,
}

# Every built-in check has its own sentences (a test holds the registry to it).
BUILT_IN_CHECKS = frozenset(_BUILDERS)
