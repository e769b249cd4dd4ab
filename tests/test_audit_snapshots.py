"""Snapshots of every `jira-pm audit` format on a generated sandbox site, both flavours.

The expected outputs are files under tests/snapshots/. After a deliberate change
to the output, regenerate them with

    JIRA_PM_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_audit_snapshots.py

and review the diff like code. The site is generated from a fixed seed and
`--as-of` is pinned, so the outputs do not change from one run to the next.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BACKENDS
from pg_support import store_section, wide_store

from jira_pm.cli import main
from jira_pm.sandbox import Sandbox
from jira_pm.store import connect

pytestmark = pytest.mark.integration

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("JIRA_PM_UPDATE_SNAPSHOTS") == "1"
ISSUES, SEED, AS_OF = 120, 3, "2026-11-20"
# Audit reads only the store: the config it reads names a fixed site, so the
# Markdown links do not carry the sandbox's random port.
SITE_URL = "https://jira.example.test"
OUTPUTS = {"table-80": ("table", 80), "table-120": ("table", 120), "markdown": ("markdown", 120),
           "csv": ("csv", 120), "json": ("json", 120)}
SUFFIX = {"table": "txt", "markdown": "md", "csv": "csv", "json": "json"}


def _config(url: str, projects, store) -> str:
    return "\n".join([
        "[jira]", f'url = "{url}"', "[scope]",
        "projects = [" + ", ".join(f'"{k}"' for k in sorted(projects)) + "]",
        store_section(store).rstrip("\n"), "[calendar]", 'timezone = "Europe/Berlin"', ""])


# One synced site per flavour and store backend (module-scoped, so not the store_path
# fixture): the same snapshot files serve both backends, so they must read alike.
@pytest.fixture(scope="module", params=[(flavor, backend) for flavor in ("cloud", "server")
                                        for backend in BACKENDS], ids="-".join)
def synced(request, tmp_path_factory):
    """A folder whose store holds a generated site, and the ids and account ids in it.

    One per flavour and store backend: the same snapshot files serve both
    backends, so a PostgreSQL store must read exactly as a SQLite one.
    """
    flavor, backend = request.param
    folder = tmp_path_factory.mktemp(flavor)
    with wide_store(request, backend, folder) as store:
        with Sandbox(flavor=flavor, issues=ISSUES, seed=SEED) as site:
            config = folder / "jira-pm.toml"
            config.write_text(_config(site.url, site.state.projects, store), encoding="utf-8")
            creds = site.credentials("admin")
            env = ({"JIRA_EMAIL": creds["email"], "JIRA_API_TOKEN": creds["api_token"]}
                   if site.flavor == "cloud" else {"JIRA_PAT": creds["pat"]})
            cwd = Path.cwd()
            os.chdir(folder)
            try:
                result = CliRunner().invoke(main, ["sync"], env=env)
            finally:
                os.chdir(cwd)
            assert result.exit_code == 0, result.output
            config.write_text(_config(SITE_URL, site.state.projects, store), encoding="utf-8")
        conn = connect(store)
        ids = {str(row[0]) for row in conn.execute("SELECT id FROM issues")}
        people = {row[0] for row in conn.execute(
            "SELECT author_id FROM worklogs UNION SELECT author_id FROM changes")} - {None}
        conn.close()
        yield flavor, folder, ids, people


def audit(folder: Path, fmt: str, width: int) -> str:
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, ["audit", "--no-record", "--as-of", AS_OF, "--format",
                                           fmt], env={"COLUMNS": str(width),
                                                      "JIRA_PM_CONFIG": None})
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_audit_output_matches_its_snapshot(synced, name):
    """Each format's output on the generated site is the reviewed snapshot, byte for byte."""
    flavor, folder, _, _ = synced
    fmt, width = OUTPUTS[name]
    text = audit(folder, fmt, width)
    path = SNAPSHOTS / f"audit-{flavor}-{name}.{SUFFIX[fmt]}"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with JIRA_PM_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs: review, then regenerate with JIRA_PM_UPDATE_SNAPSHOTS=1")


@pytest.mark.parametrize("width", [80, 120])
def test_table_lines_fit_the_terminal_width(synced, width):
    """No line of the table is wider than the terminal width it was given."""
    _, folder, _, _ = synced
    lines = audit(folder, "table", width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert lines[0].split()[-1] == "MESSAGE"


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_outputs_for_people_show_keys_names_and_local_minutes(synced, fmt):
    """Table, Markdown and CSV name issues by key and people by name, times local, no µs."""
    flavor, folder, ids, people = synced
    text = audit(folder, fmt, 120)
    words = set(re.findall(r"[\w.@-]+", text))
    # The site's first issue id, 10000, is also the at-risk forecast's trial count (CSV evidence).
    assert not words & (ids - {"10000"}), "a numeric issue id is shown"
    if flavor == "cloud":  # Server user names read like names; Cloud account ids do not
        assert not words & people, "an account id is shown"
    assert not re.search(r"\d\d:\d\d:\d\d\.\d+", text) and "+00:00" not in text
    assert "(s)" not in text and "is 1 working day late" in text
    assert re.search(r"\b[A-Z]+-\d+\b", text)
    assert "as of 2026-11-20 23:59 CET" in text.replace("As of", "as of") or fmt == "csv"


def test_csv_and_json_name_the_people_behind_a_budget(synced):
    """A budget finding's spend by person reads as names in CSV and beside the ids in JSON."""
    flavor, folder, _, people = synced
    rows = list(csv.DictReader(io.StringIO(audit(folder, "csv", 120))))
    spend = [r["evidence.by_person"] for r in rows if r["evidence.by_person"]]
    assert spend and all(re.match(r"^[A-Z][a-z]+", cell) for cell in spend)
    data = json.loads(audit(folder, "json", 120))
    budgets = [f for f in data["findings"] if "by_person" in f["evidence"]]
    assert budgets and all(set(f["evidence"]["by_person"]) <= people for f in budgets)
    assert all(f["evidence"]["by_person_names"] for f in budgets)
    assert data["as_of"] == "2026-11-20T23:59:59+01:00"
    assert all(len(f["issue_keys"]) == len(f["issue_ids"]) for f in data["findings"])
