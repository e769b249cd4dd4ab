import logging
import os

import pytest
from click.testing import CliRunner
from pg_support import store_section

from jira_pm import __version__
from jira_pm.cli import main


def test_version_prints_the_package_version():
    """`jira-pm --version` prints the installed version and exits 0."""
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_the_group():
    """`jira-pm --help` describes the tool and exits 0."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "scope creep" in result.output


@pytest.mark.sqlite_only("damages the SQLite file's pages")
def test_a_damaged_store_is_one_line_and_exit_2(tmp_path, store_path, monkeypatch):
    """A store whose pages are damaged after it opened gives one store error line, exit 2."""
    from jira_pm.checks.testing import at, issue
    from jira_pm.store import connect
    from jira_pm.store.issues import save_issues

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIRA_PM_CONFIG", raising=False)
    (tmp_path / "jira-pm.toml").write_text(
        '[jira]\nurl = "https://example.atlassian.net"\n[scope]\nprojects = ["ABC"]\n'
        + store_section(store_path), encoding="utf-8")
    conn = connect(store_path)
    issues = [issue(n) for n in range(1, 400)]
    save_issues(conn, issues, {i.id: {"id": str(i.id), "pad": "x" * 500} for i in issues},
                at("2026-04-13"))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    store = store_path
    data = bytearray(store.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    # Keep the schema pages (the store opens), damage the data pages read later.
    half = len(data) // 2 // page * page
    data[half:] = b"\xa5" * (len(data) - half)
    store.write_bytes(bytes(data))

    result = CliRunner().invoke(main, ["audit"])
    assert result.exit_code == 2
    assert f"the store {store} is damaged" in result.stderr
    assert "copy it somewhere safe first" in result.stderr  # the ledger lives there
    assert "internal error" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_reader_closing_the_pipe_is_not_an_error(monkeypatch):
    """When stdout's reader goes away (`jira-pm rules list | head`), jira-pm exits 0 quietly."""
    import click

    def closed_pipe(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(click, "echo", closed_pipe)
    result = CliRunner().invoke(main, ["rules", "list"])
    assert result.exit_code == 0
    assert "internal error" not in result.output


def _store_and_config(folder, store):
    """A config at folder/other.toml with a synced ``store`` holding one overdue issue."""
    from jira_pm.checks.testing import at, day, issue
    from jira_pm.store import connect
    from jira_pm.store.issues import save_issues

    config = folder / "other.toml"
    config.write_text('[jira]\nurl = "https://example.atlassian.net"\n[scope]\n'
                      'projects = ["ABC"]\n' + store_section(store), encoding="utf-8")
    conn = connect(store)
    issues = [issue(1, due_date=day("2026-04-01"))]
    save_issues(conn, issues, {1: {"id": "1"}}, at("2026-04-13"))
    conn.close()
    return config


def test_config_is_accepted_after_the_subcommand_too(tmp_path, store_path, monkeypatch):
    """`jira-pm audit --config X` reads X exactly as `jira-pm --config X audit` does."""
    config = _store_and_config(tmp_path, store_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("JIRA_PM_CONFIG", raising=False)
    args = ["--format", "json", "--as-of", "2026-04-13"]
    before = CliRunner().invoke(main, ["--config", str(config), "audit", *args])
    after = CliRunner().invoke(main, ["audit", *args, "--config", str(config)])
    assert before.exit_code == after.exit_code == 0, after.output
    assert '"OD002"' in after.stdout and after.stdout == before.stdout
    nested = CliRunner().invoke(main, ["rules", "explain", "OD002", "--config", str(config)])
    assert nested.exit_code == 0, nested.output


def test_debug_is_accepted_after_the_subcommand_too(tmp_path, monkeypatch):
    """`jira-pm run --debug` shows the traceback of an error as `jira-pm --debug run` does."""
    monkeypatch.setattr(logging.getLogger(), "level", logging.getLogger().level)
    missing = str(tmp_path / "missing.toml")
    for args in (["--debug", "run", "--config", missing], ["run", "--config", missing, "--debug"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        assert "Traceback" in result.stderr and "no configuration file at" in result.stderr
    plain = CliRunner().invoke(main, ["run", "--config", missing])
    assert plain.exit_code == 2 and "Traceback" not in plain.stderr


@pytest.mark.parametrize("shell, marker", [("bash", "_jira_pm_completion()"),
                                           ("zsh", "#compdef jira-pm"),
                                           ("fish", "function _jira_pm_completion")])
def test_the_installed_command_prints_its_shell_completion_script(shell, marker):
    """`_JIRA_PM_COMPLETE=<shell>_source jira-pm` prints the script the README says to source."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("jira-pm")
    result = subprocess.run([str(script)], env={**os.environ, "_JIRA_PM_COMPLETE":
                                                f"{shell}_source"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout


def test_the_readme_documents_shell_completion():
    """The README shows how to enable completion for bash, zsh and fish."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for shell in ("bash", "zsh", "fish"):
        assert f"_JIRA_PM_COMPLETE={shell}_source jira-pm" in readme
