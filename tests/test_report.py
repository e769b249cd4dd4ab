"""Audit output formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jira_pm.model import Finding
from jira_pm.report import Lookup, render

LOOKUP = Lookup(issue_keys={1: "ABC-1", 2: "ABC-2", 10: "ABC-10"},
                people={"5b10ac8d": "Alice Example", "bob": "Bob Builder"},
                zone=ZoneInfo("Europe/Berlin"), site_url="https://jira.example.test/")


def finding(rule="OD002", subject="ABC-1|x", message="late | very", fp="f1", severity="medium",
            project="ABC", issue_ids=(1,), evidence=None, subject_type="issue"):
    return Finding(rule, "due_date_overdue", subject_type, "1", subject, project, severity,
                   message, {"days": 3} if evidence is None else evidence, issue_ids,
                   "pm-overdue", "once", fp)


BUDGET = {"actual": 20.0, "by_person": {"5b10ac8d": 12.0, "bob": 8.0}}
SCOPE = {"baseline_at": "2026-11-09T08:00:00.123456+00:00",
         "added": [{"key": "ABC-2", "added_at": "2026-11-12T10:00:00+00:00",
                    "added_by": "bob", "estimate": 3.0}]}


def test_empty_table_says_no_findings_and_counts_resolved():
    """With nothing open, the table says so and counts what resolved, with right plurals."""
    text = render([], "table", resolved=[finding()])
    assert text.startswith("No findings.")
    assert "0 findings: 0 new, 0 still open, 1 resolved since the last run" in text
    assert "1 finding:" in render([finding()], "table")


def test_markdown_escapes_pipes_in_cells():
    """A | in a subject or message cannot break the Markdown table."""
    text = render([finding()], "markdown", status={"f1": "new"})
    assert "issue ABC-1\\|x" in text and "late \\| very" in text and "| new |" in text


def test_markdown_links_every_issue_by_key_to_the_site():
    """Markdown names each labelled issue by key, linked to {url}/browse/KEY, never by id."""
    text = render([finding(subject="ABC-10", issue_ids=(10, 2))], "markdown", lookup=LOOKUP)
    assert "[ABC-10](https://jira.example.test/browse/ABC-10)" in text
    assert "[ABC-2](https://jira.example.test/browse/ABC-2)" in text
    assert "issue [ABC-10](https://jira.example.test/browse/ABC-10)" in text


def test_json_carries_evidence_status_and_resolved():
    """JSON holds every finding field, its status, and the resolved fingerprints."""
    data = json.loads(render([finding()], "json", status={"f1": "new"},
                             resolved=[finding(fp="f0")], as_of="2026-04-13T00:00:00+00:00"))
    assert data["as_of"] == "2026-04-13T00:00:00+00:00"
    [item] = data["findings"]
    assert item["status"] == "new" and item["evidence"] == {"days": 3}
    assert item["issue_ids"] == [1] and item["label"] == "pm-overdue"
    assert data["resolved"][0]["fingerprint"] == "f0"


def test_json_puts_keys_names_and_local_instants_beside_the_ids():
    """JSON keeps issue_ids and by_person ids, adds issue_keys and by_person_names, local times."""
    as_of = datetime(2026, 11, 20, 22, 59, 59, 999999, tzinfo=UTC)
    data = json.loads(render([finding(issue_ids=(1, 2), evidence={**BUDGET, **SCOPE})], "json",
                             lookup=LOOKUP, as_of=as_of))
    assert data["as_of"] == "2026-11-20T23:59:59+01:00"
    [item] = data["findings"]
    assert item["issue_ids"] == [1, 2] and item["issue_keys"] == ["ABC-1", "ABC-2"]
    evidence = item["evidence"]
    assert evidence["by_person"] == {"5b10ac8d": 12.0, "bob": 8.0}
    assert evidence["by_person_names"] == {"Alice Example": 12.0, "Bob Builder": 8.0}
    assert evidence["baseline_at"] == "2026-11-09T09:00:00+01:00"
    assert evidence["added"][0]["added_by"] == "Bob Builder"


def test_csv_has_issue_keys_and_flat_evidence_with_names_and_local_dates():
    """CSV has an issue_keys column and one evidence.* column per field, no JSON in cells."""
    rows = list(csv.DictReader(io.StringIO(render(
        [finding(issue_ids=(1, 2), evidence={**BUDGET, **SCOPE}), finding(fp="f2")], "csv",
        lookup=LOOKUP))))
    first = rows[0]
    assert first["issue_keys"] == "ABC-1 ABC-2"
    assert first["evidence.by_person"] == "Alice Example: 12.0; Bob Builder: 8.0"
    assert first["evidence.baseline_at"] == "2026-11-09 09:00 CET"
    assert first["evidence.added"] == (
        "ABC-2 (added_at 2026-11-12 11:00 CET, added_by Bob Builder, estimate 3.0)")
    assert first["evidence.days"] == "" and rows[1]["evidence.days"] == "3"
    assert rows[1]["evidence.by_person"] == ""
    assert not any(cell.startswith(("{", "[")) for row in rows for cell in row.values())


def test_two_people_of_one_name_stay_apart():
    """Two accounts with the same display name are not summed into one person."""
    lookup = Lookup(people={"a1": "Sam", "a2": "Sam"})
    data = json.loads(render([finding(evidence={"by_person": {"a1": 1.0, "a2": 2.0}})], "json",
                             lookup=lookup))
    assert data["findings"][0]["evidence"]["by_person_names"] == {"Sam (a1)": 1.0,
                                                                  "Sam (a2)": 2.0}


def test_table_shows_the_as_of_moment_in_the_calendar_zone_without_microseconds():
    """The table's as-of is local, to the minute, with the zone's name."""
    as_of = datetime(2026, 11, 20, 22, 59, 59, 999999, tzinfo=UTC)
    text = render([finding()], "table", lookup=LOOKUP, as_of=as_of)
    assert "(as of 2026-11-20 23:59 CET)" in text and ".999999" not in text


def test_long_subjects_are_trimmed_in_the_table():
    """A very long subject name is shortened so the table stays readable."""
    text = render([finding(subject="X" * 80)], "table")
    assert "X" * 80 not in text and "…" in text


def test_table_wraps_the_message_to_fit_the_width_and_keeps_the_columns():
    """At 80 or 120 columns no line is wider; the message wraps and every column stays."""
    long = "word " * 60
    for width in (80, 120):
        text = render([finding(message=long), finding(fp="f2", subject="Sprint of a long name",
                                                     subject_type="sprint")],
                      "table", width=width)
        assert max(len(line) for line in text.splitlines()) <= width
        header = text.splitlines()[0].split()
        assert header == ["SEVERITY", "RULE", "SUBJECT", "PROJECT", "STATUS", "ISSUES", "MESSAGE"]
        assert text.count("word") == 60


def test_outputs_list_the_most_severe_first_then_project_then_key():
    """Findings are ordered by severity (highest first), then project, then issue key."""
    rows = [finding(rule="BU004", fp="a", subject="ABC-10"),
            finding(rule="OD002", fp="b", subject="ABC-9"),
            finding(rule="BU004", fp="c", subject="AAA-1", project="AAA"),
            finding(rule="OD001", fp="d", subject="2.0", severity="high", project="ZZZ")]
    data = json.loads(render(rows, "json"))
    assert [f["subject"] for f in data["findings"]] == ["2.0", "AAA-1", "ABC-9", "ABC-10"]


def test_table_ends_with_one_summary_line_per_rule():
    """After the rows, each rule that found something has one line with its counts."""
    rows = [finding(rule="OD002", fp="a", issue_ids=(1,)),
            finding(rule="OD002", fp="b", issue_ids=(2,)),
            finding(rule="OD001", fp="c", severity="high", issue_ids=(1, 2, 10))]
    text = render(rows, "table", status={"a": "new"})
    lines = text.splitlines()
    od001 = next(i for i, line in enumerate(lines) if line.startswith("OD001 "))
    assert lines[od001] == ("OD001 due_date_overdue: 1 finding (0 new), 3 issues to label "
                            "pm-overdue")
    assert lines[od001 + 1] == ("OD002 due_date_overdue: 2 findings (1 new), 2 issues to label "
                                "pm-overdue")
    markdown = render(rows, "markdown")
    assert "- OD002 due_date_overdue: 2 findings (0 new), 2 issues to label pm-overdue" in markdown


def test_an_issue_missing_from_the_store_is_not_shown_by_its_id():
    """An issue id the lookup does not know is never printed as a number."""
    data = json.loads(render([finding(issue_ids=(987654,))], "json", lookup=LOOKUP))
    assert "987654" not in json.dumps(data["findings"][0]["issue_keys"])
