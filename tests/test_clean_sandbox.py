"""`jira-pm clean` against the sandbox in both flavours: it takes back jira-pm's writes only."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pg_support import store_section
from test_ownership_sandbox import people_labelled
from test_run_sandbox import (
    EXPECTED_COMMENTS,
    FLAVORS,
    Crash,
    labels,
    markers,
    run,
    settings_for,
    writes,
)

from jira_pm.cli import main
from jira_pm.jira.client import JiraClient
from jira_pm.rulepack import load_pack
from jira_pm.sandbox.server import Sandbox
from jira_pm.store import ledger
from jira_pm.store.schema import connect
from jira_pm.sync import sync
from jira_pm.writeback.clean import clean_from_store

pytestmark = pytest.mark.integration

# The labels people gave the issues, once jira-pm's are gone (ABC-4's stale pm-at-risk
# went in the first run: the pack owns it).
PEOPLE_LABELS = {"ABC-1": ["backend", "pm-custom"], "ABC-2": ["pm-custom"],
                 "ABC-3": ["pm-ignore"], "ABC-4": ["frontend", "pm-approved"], "ABC-5": [],
                 "ABC-6": [], "ABC-7": [], "ABC-8": [], "OUT-1": ["pm-stale"]}
QUOTE = "I disagree with [jira-pm OD001 000000000000], see the release notes"


def clean(settings, comments=False, dry_run=False, fault=None):
    conn = connect(settings.store)
    try:
        return clean_from_store(conn, JiraClient.from_settings(settings.jira), settings, "c1",
                                pack_labels=load_pack(settings).owned_labels(),
                                comments=comments, dry_run=dry_run, fault=fault)
    finally:
        conn.close()


def comment_bodies(app, key):
    return [c.body for c in app.state.get_issue(key).comments]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_clean_removes_jira_pm_labels_keeps_peoples_and_reruns_as_a_no_op(flavor, store_path):
    """Clean removes the labels jira-pm owns, keeps pm-custom and comments; a rerun is a no-op."""
    with Sandbox(flavor, scenario=people_labelled()) as app:
        settings = settings_for(app, store_path)
        assert run(settings).exit_code == 0
        dry = clean(settings, dry_run=True)
        before = writes(app)
        assert dry.outcome is None and writes(app) == before
        result = clean(settings)
        assert result.exit_code == 0
        assert result.plan.lines() == dry.plan.lines()
        assert labels(app) == PEOPLE_LABELS
        assert markers(app) == EXPECTED_COMMENTS  # without --comments they stay
        assert result.plan.skipped == []  # ABC-3 (pm-ignore) carries no label of jira-pm's
        before = writes(app)
        assert clean(settings).plan.writes == [] and writes(app) == before


@pytest.mark.parametrize("flavor", FLAVORS)
def test_clean_comments_deletes_jira_pm_comments_and_not_a_persons_quote(flavor, store_path):
    """--comments deletes jira-pm's comments (by ledger, or by marker in a rebuilt store) only."""
    with Sandbox(flavor, scenario=people_labelled()) as app:
        settings = settings_for(app, store_path)
        assert run(settings).exit_code == 0
        app.add_comment("ABC-1", QUOTE, author="dev")
        # A rebuilt store has no ledger: its comments are found by marker and author.
        fresh = settings_for(app, store_path.with_name("rebuilt.sqlite"))
        conn = connect(fresh.store)
        sync(fresh, conn, JiraClient.from_settings(fresh.jira), full=True)
        conn.close()
        by_marker = clean(fresh, comments=True, dry_run=True)
        found = [(key, why) for key, op, _, why in by_marker.plan.lines()
                 if op.startswith("delete-comment")]
        assert sorted(found) == [(key, "jira-pm clean (found by its marker)")
                                 for key in sorted(EXPECTED_COMMENTS)]  # not the quote
        ledgered = clean(settings, comments=True)
        deleted = [w for w in ledgered.outcome.done if w.operation == "delete-comment"]
        assert sorted(w.issue_key for w in deleted) == sorted(EXPECTED_COMMENTS)
        assert {w.why for w in deleted} == {"jira-pm clean (ledger)"}
        assert markers(app) == {"ABC-1": ["OD001"]}  # the person's quote, kept
        assert len(comment_bodies(app, "ABC-1")) == 1
        assert labels(app) == PEOPLE_LABELS


@pytest.mark.parametrize("flavor", FLAVORS)
def test_the_next_run_after_clean_writes_everything_again_once(flavor, store_path):
    """Clean is an undo: the next run adds the labels and posts each comment again, once."""
    with Sandbox(flavor, scenario=people_labelled()) as app:
        settings = settings_for(app, store_path)
        assert run(settings).exit_code == 0
        first = labels(app)
        assert clean(settings, comments=True).exit_code == 0
        assert markers(app) == {}
        again = run(settings)
        assert again.exit_code == 0
        assert labels(app) == first and markers(app) == EXPECTED_COMMENTS


def test_a_killed_clean_is_finished_by_the_next_one(store_path):
    """Killed after its first comment DELETE, a rerun deletes the rest and fails nothing."""
    with Sandbox("server", scenario=people_labelled()) as app:
        settings = settings_for(app, store_path)
        assert run(settings).exit_code == 0

        def kill(point, write):
            if point == "after-request" and write.operation == "delete-comment":
                raise Crash

        with pytest.raises(Crash):
            clean(settings, comments=True, fault=kill)
        conn = connect(settings.store)
        pending = [e for e in ledger.entries(conn) if e.operation == "delete-comment"]
        conn.close()
        assert [e.status for e in pending] == ["pending"]
        rerun = clean(settings, comments=True)
        assert rerun.exit_code == 0 and rerun.outcome.failed == []
        assert markers(app) == {} and labels(app) == PEOPLE_LABELS


def test_clean_cli_dry_run_lists_and_writes_nothing_then_cleans(tmp_path, store_path):
    """`clean --dry-run` lists each removal and writes nothing; `clean` then removes them."""
    with Sandbox("server", scenario=people_labelled()) as app:
        config = tmp_path / "jira-pm.toml"
        config.write_text(
            f'[jira]\nurl = "{app.url}"\ndeployment = "server"\n'
            f'pat = "{app.credentials("admin")["pat"]}"\n'
            '[scope]\nprojects = ["ABC"]\n' + store_section(store_path), encoding="utf-8")
        cli = CliRunner()
        assert cli.invoke(main, ["--config", str(config), "run", "--yes"]).exit_code == 0
        before = writes(app)
        dry = cli.invoke(main, ["--config", str(config), "clean", "--dry-run", "--comments"])
        assert dry.exit_code == 0, dry.output
        assert writes(app) == before
        removals = [line.split()[:3] for line in dry.stdout.splitlines() if "remove-label" in line]
        assert removals == [["ABC-1", "remove-label", "pm-overdue"],
                            ["ABC-5", "remove-label", "pm-over-estimate"],
                            ["ABC-8", "remove-label", "pm-scope-creep"]]
        assert sum("delete-comment" in line for line in dry.stdout.splitlines()) == 3
        assert "clean is an undo, not a stop" in dry.stdout
        real = cli.invoke(main, ["--config", str(config), "clean"])
        assert real.exit_code == 0 and "writes: 3 done, 0 failed" in real.stdout, real.output
        assert labels(app) == PEOPLE_LABELS and markers(app) == EXPECTED_COMMENTS


@pytest.mark.parametrize("flavor", FLAVORS)
def test_an_issue_deleted_since_the_sync_does_not_stop_clean_comments(flavor, store_path):
    """--comments skips an issue Jira no longer shows and still cleans every other one."""
    with Sandbox(flavor, scenario=people_labelled()) as app:
        settings = settings_for(app, store_path)
        assert run(settings).exit_code == 0
        app.delete_issue("ABC-8")  # deleted in Jira after the last sync
        result = clean(settings, comments=True)
        assert [key for key, _ in result.plan.skipped] == ["ABC-8"]
        assert "cannot be read" in result.plan.skipped[0][1]
        assert labels(app) == {k: v for k, v in PEOPLE_LABELS.items() if k != "ABC-8"}
        assert set(markers(app)) <= {"ABC-8"}  # every other comment of jira-pm's is gone
