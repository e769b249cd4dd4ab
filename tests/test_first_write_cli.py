"""The first write-back to a site: its size is shown, a terminal is asked, cron is not."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from test_run_cli import configured
from test_run_sandbox import EXPECTED_LABELS, scenario

from jira_pm.cli import apply_cmd, main
from jira_pm.config import load_settings
from jira_pm.store import ledger
from jira_pm.store.schema import connect

pytestmark = pytest.mark.integration

UNTOUCHED = {i["key"]: i.get("labels", []) for i in scenario()["issues"]}


def invoke(config, *args, answer=None):
    return CliRunner().invoke(main, ["--config", str(config), *args], input=answer)


def site_labels(sandbox):
    return {k: sandbox.labels(k) for k in EXPECTED_LABELS}


def ledger_rows(config):
    conn = connect(load_settings(config).store)
    try:
        return ledger.entries(conn)
    finally:
        conn.close()


@pytest.fixture
def terminal(monkeypatch):
    """Pretend a person sits at a terminal (CliRunner's stdin is never a tty)."""
    monkeypatch.setattr(apply_cmd, "asks_first", lambda: True)


def test_declining_the_first_write_back_writes_nothing_and_exits_2(tmp_path, store_path, terminal):
    """On a terminal, "no" to the first write-back exits 2 with no write and no ledger row."""
    with configured(tmp_path, store_path) as (sandbox, config):
        assert invoke(config, "sync").exit_code == 0
        result = invoke(config, "apply", answer="n\n")
        assert result.exit_code == 2, result.output
        assert "4 label changes and 3 comments on 4 issues" in result.stderr
        assert "watchers notified: those of 4 issues (notify_users = true)" in result.stderr
        assert "Write these to Jira now? [y/N]" in result.stderr
        assert "nothing written: the first write-back" in result.stderr
        assert site_labels(sandbox) == UNTOUCHED
        assert sandbox.stats()["by_method"].get("PUT", 0) == 0
        assert ledger_rows(config) == []


def test_yes_at_the_prompt_writes_and_later_runs_do_not_ask(tmp_path, store_path, terminal):
    """Answering yes writes the plan; once the ledger has writes, no later run asks again."""
    with configured(tmp_path, store_path) as (sandbox, config):
        first = invoke(config, "run", answer="y\n")
        assert first.exit_code == 0, first.output
        assert site_labels(sandbox) == EXPECTED_LABELS
        sandbox.release_version("ABC", "1.0")  # the next run has a label to remove
        again = invoke(config, "run")
        assert again.exit_code == 0 and "Write these" not in again.output
        assert sandbox.labels("ABC-1") == ["backend"]


def test_yes_flag_skips_the_question_on_a_terminal(tmp_path, store_path, terminal):
    """`run --yes` on a terminal writes without asking."""
    with configured(tmp_path, store_path) as (sandbox, config):
        result = invoke(config, "run", "--yes")
        assert result.exit_code == 0 and "Write these" not in result.output
        assert "first write-back to" in result.stderr
        assert site_labels(sandbox) == EXPECTED_LABELS


def test_cron_is_never_asked(tmp_path, store_path):
    """Without a terminal (cron) the first run prints its size on stderr and writes unasked."""
    with configured(tmp_path, store_path) as (sandbox, config):
        result = invoke(config, "run")
        assert result.exit_code == 0, result.output
        assert "4 label changes and 3 comments on 4 issues" in result.stderr
        assert "Write these" not in result.output
        assert site_labels(sandbox) == EXPECTED_LABELS
