from click.testing import CliRunner

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


def test_a_damaged_store_is_one_line_and_exit_2(tmp_path, monkeypatch):
    """A store whose pages are damaged after it opened gives one store error line, exit 2."""
    from jira_pm.checks.testing import at, issue
    from jira_pm.store import connect
    from jira_pm.store.issues import save_issues

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIRA_PM_CONFIG", raising=False)
    (tmp_path / "jira-pm.toml").write_text(
        '[jira]\nurl = "https://example.atlassian.net"\n[scope]\nprojects = ["ABC"]\n'
        '[store]\npath = "store.sqlite"\n', encoding="utf-8")
    conn = connect(tmp_path / "store.sqlite")
    issues = [issue(n) for n in range(1, 400)]
    save_issues(conn, issues, {i.id: {"id": str(i.id), "pad": "x" * 500} for i in issues},
                at("2026-04-13"))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    store = tmp_path / "store.sqlite"
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
