"""Tests of `jira-pm init`: the written file loads back, holds no secret, and is not clobbered."""

from __future__ import annotations

import stat

from click.testing import CliRunner

from jira_pm.cli import main
from jira_pm.cli.setup_cmd import render_config
from jira_pm.config import load_settings

SECRET = "init-secret-TOKEN-9876"


def test_init_writes_a_file_that_loads_back(tmp_path):
    """`jira-pm init PATH --url --project` writes a commented config that loads without error."""
    target = tmp_path / "conf" / "jira-pm.toml"
    result = CliRunner().invoke(main, ["init", str(target), "--url", "https://acme.atlassian.net",
                                       "--project", "ABC", "--project", "OPS"])
    assert result.exit_code == 0, result.output
    settings = load_settings(target, env={})
    assert settings.jira.url == "https://acme.atlassian.net"
    assert settings.scope.projects == ("ABC", "OPS")
    assert settings.store_path == target.parent.resolve() / "jira-pm.sqlite"
    assert "# " in target.read_text() and "jira-pm doctor" in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_init_never_writes_secrets_from_the_environment(tmp_path):
    """Tokens in the environment are not copied into the file; only JIRA_URL is used."""
    target = tmp_path / "jira-pm.toml"
    env = {"JIRA_URL": "https://env.atlassian.net", "JIRA_API_TOKEN": SECRET, "JIRA_PAT": SECRET,
           "JIRA_EMAIL": "bot@example.com"}
    result = CliRunner(env=env).invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert SECRET not in text and SECRET not in result.output
    assert 'url = "https://env.atlassian.net"' in text


def test_init_refuses_to_overwrite_without_force(tmp_path):
    """An existing file is kept (exit 2) unless --force is given."""
    target = tmp_path / "jira-pm.toml"
    target.write_text("keep me")
    refused = CliRunner().invoke(main, ["init", str(target)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert target.read_text() == "keep me"
    forced = CliRunner().invoke(main, ["init", "--force", str(target)])
    assert forced.exit_code == 0 and load_settings(target, env={}).scope.projects == ("ABC",)


def test_init_uses_the_config_option_as_default_path(tmp_path):
    """Without PATH, init writes where --config points."""
    target = tmp_path / "custom.toml"
    result = CliRunner().invoke(main, ["--config", str(target), "init"])
    assert result.exit_code == 0, result.output
    assert target.exists()


def test_rendered_config_quotes_awkward_values(tmp_path):
    """Project keys and URLs are written as valid TOML strings."""
    path = tmp_path / "x.toml"
    path.write_text(render_config("http://127.0.0.1:8080", ('A"B',), "server"))
    settings = load_settings(path, env={})
    assert settings.scope.projects == ('A"B',) and settings.jira.deployment == "server"


def test_init_with_a_bad_url_writes_nothing_and_keeps_an_existing_file(tmp_path):
    """`init --url bad` exits 2 in one line and leaves no file (and --force keeps the old one)."""
    target = tmp_path / "new" / "jira-pm.toml"
    result = CliRunner().invoke(main, ["init", str(target), "--url", "bad"])
    assert result.exit_code == 2
    assert "nothing written" in result.stderr and "'bad' is not an http(s) URL" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not target.parent.exists()
    kept = tmp_path / "jira-pm.toml"
    kept.write_text("keep me")
    forced = CliRunner().invoke(main, ["init", "--force", str(kept), "--url", "http://x.example"])
    assert forced.exit_code == 2 and kept.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["jira-pm.toml"]  # no temp file left
