"""`jira-pm demo`: the whole pipeline on the seeded demo site, fast, from the installed package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jira_pm.cli import main
from jira_pm.demo import demo_scenario_path

pytestmark = pytest.mark.integration


def test_demo_scenario_ships_inside_the_package():
    """The demo site is package data next to the sandbox, so an installed jira-pm finds it."""
    path = demo_scenario_path()
    assert path.is_file() and path.parent.name == "data" and path.parent.parent.name == "sandbox"


@pytest.mark.parametrize("flavor", ["cloud", "server"])
def test_demo_finds_each_rule_family_and_writes_labels_and_comments(flavor, tmp_path):
    """The demo reports overdue, scope creep and budget findings, the writes, and a quiet rerun."""
    result = CliRunner().invoke(main, ["demo", "--flavor", flavor, "--keep", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    for rule in ("OD001", "SC001", "BU002", "BU004"):
        assert rule in out
    assert "PAY-3   labels: backend, pm-overdue   (+pm-overdue)" in out
    assert "PAY-7   labels: (none)   (-pm-overdue)" in out
    assert "PAY-8   labels: customer-request, pm-scope-creep   (+pm-scope-creep)" in out
    assert "PAY-9" not in out.split("3. written to Jira")[1]  # pm-ignore: never written
    assert out.count("           comment: ") == 6
    assert ("comment: Release PAY 2.4 is 3 working days late: it was due Fri 13 Mar 2026 and 2 "
            "issues are still open.") in out
    assert "run again with nothing changed in Jira: 0 writes." in out
    assert (tmp_path / "demo.sqlite").is_file()


def test_demo_runs_from_the_installed_console_script():
    """The installed `jira-pm demo` exits 0 and prints the findings."""
    script = Path(sys.executable).with_name("jira-pm")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    done = subprocess.run([str(script), "demo"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2. findings (4):" in done.stdout and done.stderr == ""
