"""Progress on a terminal: counts against a total, a running count without one, silence in cron."""

from __future__ import annotations

import io

from click.testing import CliRunner
from pg_support import store_section
from test_run_sandbox import site

from jira_pm.cli import apply_cmd, main
from jira_pm.cli.common import BarProgress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_bar_counts_against_the_total_and_grows_past_a_low_estimate(monkeypatch):
    """With a total the bar shows done of total, growing if the estimate was low."""
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert BarProgress.wanted()
    bar = BarProgress("Syncing issues")
    bar.start(5)
    bar.advance(3)
    bar.advance(4)
    bar.finish()
    assert "Syncing issues" in terminal.getvalue() and "7/7" in terminal.getvalue()


def test_without_a_total_it_counts_and_never_shows_a_total_of_zero(monkeypatch):
    """Data Center gives no total: a running count ("Syncing issues: 1,500"), never "500/0"."""
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    bar = BarProgress("Syncing issues")
    bar.start(None)
    bar.advance(1000)
    bar.advance(500)
    bar.finish()
    shown = terminal.getvalue()
    assert "\rSyncing issues: 1,500" in shown and "/0" not in shown and shown.endswith("\n")


def test_not_on_a_terminal_there_is_no_bar(monkeypatch):
    """Cron and pipes get no progress at all."""
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not BarProgress.wanted()
    assert apply_cmd.write_progress(quiet=False) is None


def test_apply_on_a_terminal_counts_its_writes_and_quiet_run_shows_none(tmp_path, store_path,
                                                                       monkeypatch):
    """`apply` shows 'Writing to Jira' with done/total; `run --quiet` shows no bar."""
    shown: list[tuple[str, int | None, int]] = []

    class Recording(BarProgress):
        def start(self, total):
            self.done = 0
            self.total = total

        def advance(self, count):
            self.done += count

        def finish(self):
            shown.append((self.label, self.total, self.done))

    monkeypatch.setattr(apply_cmd, "BarProgress", Recording)
    monkeypatch.setattr(Recording, "wanted", staticmethod(lambda: True))
    with site("server", store_path) as (app, settings):
        config = tmp_path / "jira-pm.toml"
        login = app.credentials("admin")
        config.write_text(f'[jira]\nurl = "{app.url}"\npat = "{login["pat"]}"\n'
                          f'deployment = "server"\n[scope]\nprojects = ["ABC"]\n'
                          + store_section(store_path), encoding="utf-8")
        runner = CliRunner()
        assert runner.invoke(main, ["--config", str(config), "sync"]).exit_code == 0
        applied = runner.invoke(main, ["--config", str(config), "apply", "--yes"])
        assert applied.exit_code == 0, applied.output
        quiet = runner.invoke(main, ["--config", str(config), "run", "--quiet"])
        assert quiet.exit_code == 0, quiet.output
    [(label, total, done)] = shown
    assert label == "Writing to Jira" and total == done and done > 0
