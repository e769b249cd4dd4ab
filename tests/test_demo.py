"""`jira-pm demo`: the whole pipeline on the seeded demo site, fast, from the installed package."""

from __future__ import annotations

import json
import os
import re
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


SNAPSHOT = Path(__file__).parent / "snapshots" / "demo-cloud-80.txt"


def _masked(text: str, folder: Path) -> str:
    """The story with what changes run to run (port, temporary paths) masked."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return text.replace(str(folder), "KEEP")


@pytest.mark.parametrize("flavor", ["cloud", "server"])
def test_demo_finds_each_rule_family_and_writes_labels_and_comments(flavor, tmp_path):
    """The demo reports overdue, scope creep and budget findings, the writes, and a quiet rerun."""
    result = CliRunner(env={"COLUMNS": "100"}).invoke(
        main, ["demo", "--flavor", flavor, "--keep", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    for rule in ("OD001", "SC001", "BU002", "BU004"):
        assert rule in out
    assert "PAY-3   labels now: backend, pm-overdue; added pm-overdue" in out
    assert ("PAY-7   labels now: (none)\n           removed pm-overdue: none of the rules that "
            "set it (OD001, OD002) flags PAY-7 now") in out
    assert "PAY-8   labels now: customer-request, pm-scope-creep; added pm-scope-creep" in out
    assert "PAY-9" not in out.split("3. Written to Jira")[1]  # pm-ignore: never written
    assert out.count("           comment: ") == 6
    assert "comment: Release PAY 2.4 is 3 working days late: it was due Fri 13 Mar 2026" in out
    assert "4. Ran again with nothing changed in Jira: 0 writes." in out
    assert "requests" not in out  # an engineer's number, shown with -v only
    assert all(len(line) <= 100 for line in _masked(out, tmp_path).splitlines())
    assert (tmp_path / "demo.sqlite").is_file()


def test_demo_story_reads_as_its_snapshot_at_80_columns(tmp_path):
    """The whole story at 80 columns: plain words, a legend of the rules, every line fits."""
    result = CliRunner(env={"COLUMNS": "80"}).invoke(main, ["demo", "--keep", str(tmp_path)])
    assert result.exit_code == 0, result.output
    story = _masked(result.output, tmp_path)
    assert all(len(line) <= 80 for line in story.splitlines())
    if os.environ.get("JIRA_PM_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(story, encoding="utf-8")
    assert story == SNAPSHOT.read_text(encoding="utf-8"), \
        "the demo story changed: review, then regenerate with JIRA_PM_UPDATE_SNAPSHOTS=1"


def test_verbose_demo_adds_the_request_counts(tmp_path):
    """-v adds the sync's request counts for an engineer."""
    result = CliRunner().invoke(main, ["demo", "-v"])
    assert result.exit_code == 0, result.output
    assert "requests in all" in result.output


def test_kept_demo_config_serves_the_kept_store_and_a_rerun_starts_afresh(tmp_path):
    """--keep leaves a config that audits the kept store; a second demo in the folder works too."""
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo", "--keep", str(tmp_path)])
        assert result.exit_code == 0, result.output
    config = tmp_path / "jira-pm.toml"
    assert "token" not in config.read_text(encoding="utf-8").lower()
    audit = CliRunner().invoke(main, ["--config", str(config), "audit", "--as-of", "2026-03-18",
                                      "--format", "json"])
    assert audit.exit_code == 0, audit.output
    assert sorted(f["rule_id"] for f in json.loads(audit.stdout)["findings"]) == [
        "BU002", "BU004", "OD001", "SC001"]
    assert (tmp_path / "report" / "index.html").is_file()


def test_demo_runs_from_the_installed_console_script():
    """The installed `jira-pm demo` exits 0 and prints the findings."""
    script = Path(sys.executable).with_name("jira-pm")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    done = subprocess.run([str(script), "demo"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2. Found 4 problems:" in done.stdout and done.stderr == ""
