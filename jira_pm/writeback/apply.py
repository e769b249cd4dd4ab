"""Performing a plan against Jira: marker search, the ``max_writes`` bound, the writes, the ledger.

Crash safety of comments: a ``pending`` ledger row is committed before every
POST and marked ``done`` after it. A comment the ledger cannot vouch for (no
row, or only a pending or failed one) is looked for on the issue by its marker
before anything is posted, and an ``AmbiguousWriteError`` triggers the same
search at once. So a kill at any point, a lost store or a retry never posts a
comment twice. A POST answered 503 (Jira did not take it) whose marker search
then finds nothing is posted again, at most ``POST_ATTEMPTS`` times in all.

A refused write (400/401/403/404) is recorded and reported, and the run goes
on; after a few 401/403 in a row in one project the rest of that project's
writes are skipped (see ``failures``). An issue whose comments cannot be read
(404/403/400 on the marker search) fails its comment alone. Anything that
means Jira as a whole is unusable (unreachable, retries exhausted, 401 on a
read) stops the run after recording the write in flight as failed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from jira_pm.errors import (
    EXIT_JIRA,
    EXIT_OK,
    EXIT_PARTIAL,
    AmbiguousWriteError,
    JiraAuthError,
    JiraBadRequest,
    JiraError,
    JiraNotFound,
    JiraPermissionError,
)
from jira_pm.jira.format import (
    CommentText,
    find_markers,
    marker_matches,
    plain_text,
    render,
)
from jira_pm.store import ledger
from jira_pm.writeback.failures import (
    DENIED,
    DENIED_ANSWER,
    OTHER_ANSWER,
    WENT_THROUGH,
    Failure,
    ProjectGate,
)
from jira_pm.writeback.plan import (
    POLICY_ON_CHANGE,
    CommentWrite,
    LabelWrite,
    Plan,
    Write,
)
from jira_pm.writeback.workers import LedgerDesk, Progress, SharedPause, perform_all

log = logging.getLogger(__name__)

# Jira refuses these for one issue; the run goes on without that read or write.
REFUSED = (JiraPermissionError, JiraBadRequest, JiraNotFound)
# A 401 on a write, after reads worked, is about what the account may do (a Cloud token
# without write scope): counted with the 403s, not a reason to stop every project.
WRITE_REFUSED = (*REFUSED, JiraAuthError)

# A comment POST answered 503 and then not found by its marker is sent again, up to
# this many POSTs in all: Jira answered, so the request is not still in progress.
POST_ATTEMPTS = 3

COMMENT_PROPERTY_KEY = "jira-pm"
PROPERTY_NOTICE = "could not tag jira-pm's comments with a comment property"

# An edit whose comment a person has deleted.
_DELETED = object()

# A test seam: called with a point name and the write, e.g. to simulate a crash.
FaultHook = Callable[[str, Write], None]


@dataclass
class Outcome:
    """What an apply did: writes done, writes refused, writes left for the next run."""

    run_id: str
    done: list[Write] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    deferred: int = 0
    adopted: int = 0
    notices: list[str] = field(default_factory=list)
    given_up: dict[str, int] = field(default_factory=dict)  # project -> writes skipped

    @property
    def skipped(self) -> int:
        """Writes not sent because their project refused the account."""
        return sum(self.given_up.values())

    @property
    def exit_code(self) -> int:
        if not self.done and (self.given_up or self.failed and all(
                f.http_status in DENIED for f in self.failed)):
            return EXIT_JIRA  # the account could not write anything at all
        return EXIT_PARTIAL if self.failed else EXIT_OK


class MarkerFinder:
    """Reads an issue's comments (once per issue per run) and finds jira-pm's markers in them."""

    def __init__(self, client: Any):
        self._client = client
        self._cache: dict[int, list[dict]] = {}
        self._refused: dict[int, JiraError] = {}  # asked once per issue, like the comments

    def find(self, issue_id: int, rule_id: str, fingerprint: str,
             fresh: bool = False) -> str | None:
        """The id of the comment carrying this rule's and finding's marker, or None."""
        comment = self.find_comment(issue_id, rule_id, fingerprint, fresh)
        return None if comment is None else str(comment.get("id"))

    def find_comment(self, issue_id: int, rule_id: str, fingerprint: str,
                     fresh: bool = False) -> dict | None:
        """The comment (as Jira returned it) carrying this rule's and finding's marker.

        Raises what Jira raised; a refusal for this issue (REFUSED) is remembered.
        """
        if issue_id in self._refused and not fresh:
            raise self._refused[issue_id]
        if fresh or issue_id not in self._cache:
            try:
                self._cache[issue_id] = list(self._client.comments(issue_id))
            except REFUSED as exc:
                self._refused[issue_id] = exc
                raise
        for comment in self._cache[issue_id]:
            for found in find_markers(comment.get("body")):
                if marker_matches(found, rule_id, fingerprint):
                    return comment
        return None

    def prefetch(self, issue_ids: list[int], parallel: int) -> None:
        """Read these issues' comments, ``parallel`` at a time; errors wait for ``find_comment``."""
        wanted = [i for i in dict.fromkeys(issue_ids)
                  if i not in self._cache and i not in self._refused]
        if parallel < 2 or len(wanted) < 2:
            return

        def read(issue_id: int) -> None:
            try:
                self._cache[issue_id] = list(self._client.comments(issue_id))
            except REFUSED as exc:
                self._refused[issue_id] = exc
            except JiraError:
                pass  # asked again, and raised, when the plan gets to it

        with ThreadPoolExecutor(min(parallel, len(wanted)),
                                thread_name_prefix="jira-pm-search") as pool:
            list(pool.map(read, wanted))


def _normalized(body: Any) -> str:
    """A comment body's words: ADF or wiki text, escapes and whitespace runs ignored."""
    return " ".join(plain_text(body).split())


def says(body: Any, text: CommentText) -> bool:
    """Whether a comment body found in Jira says what ``text`` renders to now.

    The body is compared with the rendering in its own format (ADF or wiki
    markup), as normalized text, so Jira's re-encoding of a body does not count
    as a change.
    """
    if body is None:
        return False
    return _normalized(body) == _normalized(render(text, adf=not isinstance(body, str)))


def finalize(candidates: Plan, client: Any, max_writes: int, parallel: int = 1) -> Plan:
    """The plan a run performs: comments found by marker dropped, then at most ``max_writes``.

    Marker searches are reads, so a dry run makes them too, and its plan is
    the plan the real run performs. Writes past the bound are deferred (most
    severe go first); they are not searched, to keep a bounded run cheap. The
    searches go out ``parallel`` at a time. A
    comment whose issue refuses the search (deleted, not visible) goes to
    ``plan.unreadable``: it cannot be posted safely, the rest of the plan can.
    """
    finder = MarkerFinder(client)
    plan = Plan(skipped=list(candidates.skipped))
    searched_to = 0  # candidates before this one have had their issues' comments read
    for position, write in enumerate(candidates.writes):
        if len(plan.writes) >= max_writes:
            plan.deferred.append(write)
            continue
        if position >= searched_to:
            # Read ahead, in parallel, the comments of the issues the next writes up to the
            # bound will search: exactly those, so a bounded run reads no more than before.
            searched_to = position + max_writes - len(plan.writes)
            finder.prefetch([w.issue_id for w in candidates.writes[position:searched_to]
                             if isinstance(w, CommentWrite) and w.needs_marker_search],
                            parallel)
        if isinstance(write, CommentWrite) and write.needs_marker_search:
            try:
                found = finder.find_comment(write.issue_id, write.rule_id, write.fingerprint)
            except REFUSED as exc:
                plan.unreadable.append((write, exc.status, exc.one_line()))
                continue
            if found is not None:
                comment_id = str(found.get("id"))
                current = write.text.content_hash()
                # The ledger records the hash of the text the comment carries, so the next
                # on-change decision compares like with like: the current text's hash when
                # the comment already says it, else the text believed posted (or None).
                up_to_date = (write.pending_hash == current
                              or says(found.get("body"), write.text))
                believed = current if up_to_date else write.pending_hash
                plan.adopted.append((write.issue_id, write.issue_key, write.rule_id,
                                     write.fingerprint, comment_id, believed))
                if write.policy != POLICY_ON_CHANGE or up_to_date:
                    continue
                write = replace(write, operation=ledger.OP_EDIT_COMMENT, comment_id=comment_id,
                                needs_marker_search=False, why=f"finding changed: {write.why}")
        plan.writes.append(write)
    return plan


class Applier:
    """Performs one plan's writes through a Jira client, recording each in the ledger."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        client: Any,
        run_id: str,
        *,
        adf: bool,
        notify_users: bool = True,
        fault: FaultHook | None = None,
        on_labels_written: Callable[[int, tuple[str, ...], tuple[str, ...]], None] | None = None,
        parallel: int = 1,
        progress: Progress | None = None,
        pause: SharedPause | None = None,
    ):
        self.conn = conn
        self.client = client
        self.run_id = run_id
        self.adf = adf
        self.notify_users = notify_users
        self.fault = fault or (lambda point, write: None)
        self.on_labels_written = on_labels_written
        self.finder = MarkerFinder(client)
        self.parallel = max(1, parallel)
        self.progress = progress
        self.pause = pause or SharedPause()
        self.desk = LedgerDesk()
        self._notices: list[str] = []
        self._notice_lock = threading.Lock()
        self._properties_refused = False  # no comment properties here: stop asking this run
        # Until Jira first answers a comment property PUT, one at a time: a refusal is
        # then tried once, not once per worker.
        self._properties_answered = False
        self._property_probe = threading.Lock()

    def apply(self, plan: Plan) -> Outcome:
        """Perform every write of a finalized plan; refused writes are recorded, not raised."""
        outcome = Outcome(self.run_id, deferred=len(plan.deferred), adopted=len(plan.adopted))
        for issue_id, issue_key, rule_id, fingerprint, comment_id, believed in plan.adopted:
            self._record(
                ledger.record_done, run_id=self.run_id, issue_id=issue_id, issue_key=issue_key,
                operation=ledger.OP_COMMENT, rule_id=rule_id, fingerprint=fingerprint,
                comment_id=comment_id, content_hash=believed,
                detail="found on the issue by its marker; not posted again",
            )
            # Found after a kill, its POST's run never tagged it: tag it unless it is.
            self._ensure_property(issue_id, issue_key, rule_id, fingerprint, comment_id,
                                  believed, outcome)
        for write, status, message in plan.unreadable:
            self._unreadable(write, status, message, outcome)
        gate = ProjectGate([write.issue_key for write in plan.writes])
        results = [Outcome(self.run_id) for _ in plan.writes]

        def step(index: int) -> str:
            return self._perform(plan.writes[index], results[index])

        if self.progress is not None:
            self.progress.start(len(plan.writes))
        try:
            with self._pauses_on_429(), self._stops_on_kill():
                perform_all([write.issue_id for write in plan.writes], gate, step,
                            parallel=self.parallel, desk=self.desk,
                            on_finished=self.progress.advance if self.progress else
                            lambda count: None)
        finally:
            if self.progress is not None:
                self.progress.finish()
            # In plan order whatever order the answers came in: the summary reads the same.
            for result in results:
                outcome.done.extend(result.done)
                outcome.failed.extend(result.failed)
            outcome.notices.extend(self._notices)
            outcome.given_up = dict(gate.skipped)
        return outcome

    def _perform(self, write: Write, outcome: Outcome) -> str:
        """One write (and, for a new comment, its property); its answer for the ProjectGate."""
        if isinstance(write, LabelWrite):
            self._labels(write, outcome)
        elif write.operation == ledger.OP_COMMENT:
            self._post_comment(write, outcome)
        else:
            self._edit_comment(write, outcome)
        if outcome.done:
            return WENT_THROUGH
        return DENIED_ANSWER if any(f.denied for f in outcome.failed) else OTHER_ANSWER

    @contextmanager
    def _pauses_on_429(self) -> Iterator[None]:
        """Feed the client's retry waits to the shared pause while the writes go out."""
        http = getattr(self.client, "http", None)
        if http is None or not hasattr(http, "add_wait_observer"):  # a test's fake client
            yield
            return
        http.add_wait_observer(self.pause.observe)
        try:
            yield
        finally:
            http.remove_wait_observer(self.pause.observe)

    @contextmanager
    def _stops_on_kill(self) -> Iterator[None]:
        """On Ctrl-C (or a kill) during the writes, wake the waiting workers and send no more.

        A worker asleep before a retry, or in a 429 pause, would otherwise send its
        write when it wakes, after the run was stopped; its ledger row stays pending
        for the next run to check, as a kill leaves it.
        """
        http = getattr(self.client, "http", None)
        stoppable = http is not None and hasattr(http, "stop")  # a test's fake client: no
        try:
            yield
        except BaseException as exc:
            if not isinstance(exc, Exception):
                self.pause.stop()
                if stoppable:
                    http.stop()
            raise

    def _notice(self, text: str, once: str | None = None) -> None:
        """Say ``text`` in the summary; with ``once``, unless a notice starting so was said."""
        with self._notice_lock:
            if once is None or not any(n.startswith(once) for n in self._notices):
                self._notices.append(text)

    def _record(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A ledger or store write, committed on the store's own thread before this returns."""
        return self.desk.call(function, self.conn, *args, **kwargs)

    def _unreadable(self, write: Write, status: int | None, message: str,
                    outcome: Outcome) -> None:
        """Record a comment not posted because its issue's comments could not be searched."""
        why = (f"could not search the issue's comments for jira-pm's marker ({message}); "
               "not posted, the next run searches again")
        # The hash of any earlier unknown POST is kept: the next adoption compares with it.
        entry = self._record(
            ledger.record_pending, run_id=self.run_id, issue_id=write.issue_id,
            issue_key=write.issue_key,
            operation=write.operation, rule_id=write.rule_id, fingerprint=write.fingerprint,
            content_hash=write.pending_hash, detail=write.why,
        )
        self._record(ledger.record_result, entry, ledger.FAILED, http_status=status, detail=why)
        outcome.failed.append(Failure(write.issue_key, write.operation, why, status,
                                      unsent=True))

    def _send(self, entry: int, write: Write, call: Callable[[], Any],
              outcome: Outcome) -> tuple[bool, Any]:
        """One request for one write: ``(True, answer)``, or ``(False, None)`` if Jira refused it.

        A refusal is recorded and reported and the run goes on; any other Jira
        error is recorded and raised, since it means Jira as a whole is unusable.
        """
        self.fault("before-request", write)
        self.pause.wait()
        try:
            answer = call()
        except WRITE_REFUSED as exc:
            self._record(ledger.record_result, entry, ledger.FAILED, http_status=exc.status,
                                 detail=exc.one_line())
            outcome.failed.append(Failure(write.issue_key, write.operation, exc.one_line(),
                                          exc.status))
            return False, None
        except JiraError as exc:
            self._record(ledger.record_result, entry, ledger.FAILED, http_status=exc.status,
                                 detail=exc.one_line())
            raise
        self.fault("after-request", write)
        return True, answer

    # ---- labels -------------------------------------------------------------------------

    def _labels(self, write: LabelWrite, outcome: Outcome) -> None:
        first = write.reasons[0]
        entry = self._record(
            ledger.record_pending, run_id=self.run_id, issue_id=write.issue_id,
            issue_key=write.issue_key,
            operation=ledger.OP_LABELS, label=ledger.labels_text(write.add, write.remove),
            rule_id=first.rule_id, fingerprint=first.fingerprint,
            detail="; ".join(f"{r.action} {r.label}: {r.why}" for r in write.reasons),
        )
        sent, _ = self._send(entry, write, lambda: self._edit_labels(write, outcome), outcome)
        if not sent:
            return
        self._record(ledger.record_result, entry, ledger.DONE)
        if self.on_labels_written:
            self.desk.call(self.on_labels_written, write.issue_id, write.add, write.remove)
        outcome.done.append(write)

    def _edit_labels(self, write: LabelWrite, outcome: Outcome) -> None:
        notify = self.notify_users  # another worker may turn it on meanwhile
        try:
            self.client.edit_labels(write.issue_id, list(write.add), list(write.remove),
                                    notify_users=notify)
        except (JiraPermissionError, JiraBadRequest) as exc:
            if notify:
                raise
            # Only admins may silence notifications; Jira says so with a 400 or 403.
            # Try once with notifications on: if that works, keep them on and say so once.
            self.client.edit_labels(write.issue_id, list(write.add), list(write.remove),
                                    notify_users=True)
            self._notifying_after_all(exc, outcome)

    def _notifying_after_all(self, exc: JiraError, outcome: Outcome) -> None:
        """A write refused as silent went through notifying: keep notifying, say so once."""
        self.notify_users = True
        self._notice(
            f"Jira refused notify_users = false ({exc.one_line()}); label changes and comment "
            "edits in this run notify watchers — give the jira-pm user admin rights or set "
            "[writeback] notify_users = true", once="Jira refused notify_users = false")

    # ---- comments -----------------------------------------------------------------------

    def _post_comment(self, write: CommentWrite, outcome: Outcome) -> None:
        content_hash = write.text.content_hash()
        entry = self._record(
            ledger.record_pending, run_id=self.run_id, issue_id=write.issue_id,
            issue_key=write.issue_key,
            operation=ledger.OP_COMMENT, rule_id=write.rule_id, fingerprint=write.fingerprint,
            content_hash=content_hash, detail=write.why,
        )
        sent, comment_id = self._send(entry, write, lambda: self._add_comment(write), outcome)
        if not sent:
            return
        if comment_id is None:
            message = ("the comment POST's outcome is unknown and the comment is not on the "
                       "issue; the next run searches again before posting")
            self._record(ledger.record_result, entry, ledger.FAILED, detail=message)
            outcome.failed.append(Failure(write.issue_key, write.operation, message))
            return
        self._record(ledger.record_result, entry, ledger.DONE, comment_id=comment_id)
        outcome.done.append(write)
        self._set_property(write.issue_id, write.issue_key, write.rule_id, write.fingerprint,
                           comment_id, content_hash, outcome)

    def _add_comment(self, write: CommentWrite) -> str | None:
        """POST the comment; after an ambiguous POST, the id found by marker (or None).

        Only a POST Jira answered 503 (it did not take the request) and whose
        marker then is not on the issue is sent again; a dropped connection or
        another 5xx may still be in progress at Jira, so the next run checks it.
        """
        body = render(write.text, self.adf)
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                created = self.client.add_comment(write.issue_id, body)
            except AmbiguousWriteError as exc:
                log.warning("%s: %s; searching the issue for the comment", write.issue_key,
                            exc.one_line())
                try:
                    found = self.finder.find(write.issue_id, write.rule_id, write.fingerprint,
                                             fresh=True)
                except JiraError as search_exc:
                    log.warning("marker search on %s failed: %s", write.issue_key,
                                search_exc.one_line())
                    return None
                if found is not None or exc.status != 503 or attempt == POST_ATTEMPTS:
                    return found
                log.warning("%s: the comment is not there; posting it again (%d of %d)",
                            write.issue_key, attempt + 1, POST_ATTEMPTS)
                continue
            return str(created.get("id"))
        return None  # not reached: the last attempt returns above

    def _edit_comment(self, write: CommentWrite, outcome: Outcome) -> None:
        content_hash = write.text.content_hash()
        entry = self._record(
            ledger.record_pending, run_id=self.run_id, issue_id=write.issue_id,
            issue_key=write.issue_key,
            operation=ledger.OP_EDIT_COMMENT, rule_id=write.rule_id,
            fingerprint=write.fingerprint, comment_id=write.comment_id,
            content_hash=content_hash, detail=write.why,
        )
        sent, answer = self._send(entry, write,
                                  lambda: self._update_comment(write, outcome), outcome)
        if not sent:
            return
        if answer is _DELETED:
            # A person deleted the comment: respect that, do not post it again.
            self._record(ledger.record_result, entry, ledger.FAILED, http_status=404,
                                 detail="the comment no longer exists; not posted again")
            self._notice(f"{write.issue_key}: jira-pm's comment {write.comment_id} "
                         "was deleted in Jira; it is not posted again")
            return
        self._record(ledger.record_result, entry, ledger.DONE)
        outcome.done.append(write)

    def _update_comment(self, write: CommentWrite, outcome: Outcome) -> object:
        body = render(write.text, self.adf)
        notify = self.notify_users  # another worker may turn it on meanwhile
        try:
            try:
                return self.client.update_comment(write.issue_id, write.comment_id, body,
                                                  notify_users=notify)
            except (JiraPermissionError, JiraBadRequest) as exc:
                if notify:
                    raise
                # As for labels: Jira refuses silent edits to a non-admin; notify instead.
                answer = self.client.update_comment(write.issue_id, write.comment_id, body,
                                                    notify_users=True)
                self._notifying_after_all(exc, outcome)
                return answer
        except JiraNotFound:
            return _DELETED

    def _ensure_property(self, issue_id: int, issue_key: str, rule_id: str, fingerprint: str,
                         comment_id: str, content_hash: str | None, outcome: Outcome) -> None:
        """Tag an adopted comment unless it already carries this finding's property (a read)."""
        if self._properties_refused:
            return
        try:
            have = self.client.get_comment_property(comment_id, COMMENT_PROPERTY_KEY)
        except JiraError:
            have = None  # the PUT below says why, once
        if have and have.get("rule") == rule_id and have.get("fingerprint") == fingerprint:
            return
        self._set_property(issue_id, issue_key, rule_id, fingerprint, comment_id, content_hash,
                           outcome)

    def _set_property(self, issue_id: int, issue_key: str, rule_id: str, fingerprint: str,
                      comment_id: str, content_hash: str | None, outcome: Outcome) -> None:
        """Tag the comment with a machine-readable property; the visible marker stays the truth.

        A refusal (no property endpoint behind some proxies and Data Center set-ups)
        is said once, and no more properties are sent in this run.
        """
        if self._properties_answered:
            self._send_property(issue_id, issue_key, rule_id, fingerprint, comment_id,
                                content_hash)
            return
        with self._property_probe:
            self._send_property(issue_id, issue_key, rule_id, fingerprint, comment_id,
                                content_hash)
            self._properties_answered = True

    def _send_property(self, issue_id: int, issue_key: str, rule_id: str, fingerprint: str,
                       comment_id: str, content_hash: str | None) -> None:
        if self._properties_refused:
            return
        entry = self._record(
            ledger.record_pending, run_id=self.run_id, issue_id=issue_id, issue_key=issue_key,
            operation=ledger.OP_COMMENT_PROPERTY, rule_id=rule_id,
            fingerprint=fingerprint, comment_id=comment_id, content_hash=content_hash,
        )
        value = {"rule": rule_id, "fingerprint": fingerprint, "hash": content_hash}
        self.pause.wait()
        try:
            self.client.set_comment_property(comment_id, COMMENT_PROPERTY_KEY, value)
        except JiraError as exc:
            self._record(ledger.record_result, entry, ledger.FAILED, http_status=exc.status,
                         detail=exc.one_line())
            if isinstance(exc, REFUSED):
                self._properties_refused = True
            self._notice(f"{PROPERTY_NOTICE} ({exc.one_line()}); their visible markers suffice",
                         once=PROPERTY_NOTICE)
            return
        self._record(ledger.record_result, entry, ledger.DONE)
