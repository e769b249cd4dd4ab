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
