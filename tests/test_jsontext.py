"""Tests of jira_pm.jsontext and the paths that use it: pages read and raw JSON stored exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses

from jira_pm import jsontext
from jira_pm.jira.http import JiraHttp
from jira_pm.mapping import FieldMap, map_issue
from jira_pm.store import connect
from jira_pm.store.issues import save_issues

BASE = "https://jira.example.test"
# What the standard module reads and orjson would read differently or refuse. (A BOM is
# refused by both paths, as it was before orjson.)
AWKWARD_BODIES = [
    b'{"id": "1", "big": 123456789012345678901234567890}',  # orjson: a float, digits lost
    b'{"id": "1", "neg": -9223372036854775809}',
    b'{"id": "1", "nan": NaN}',
    b'{"id": "1", "s": "\\ud800"}',  # a lone surrogate
]


@pytest.mark.parametrize("body", AWKWARD_BODIES)
def test_a_page_orjson_would_misread_decodes_as_the_standard_module_reads_it(body):
    """Bodies with wide integers, NaN, a BOM or lone surrogates decode exactly as json does."""
    http = JiraHttp(BASE, sleep=lambda s: None)
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE}/rest/api/3/x", body=body, content_type="application/json")
        got = http.get("/rest/api/3/x")
    expected = json.loads(body)
    assert repr(got) == repr(expected)  # repr: NaN != NaN, and 1e29 == 10**29 is not enough


def test_a_page_in_a_declared_non_utf8_charset_decodes_in_that_charset():
    """A Latin-1 body says so in Content-Type and is read in Latin-1, not as UTF-8."""
    http = JiraHttp(BASE, sleep=lambda s: None)
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE}/rest/api/3/x", body='{"name": "Müller"}'.encode("latin-1"),
                 content_type="application/json; charset=ISO-8859-1")
        assert http.get("/rest/api/3/x") == {"name": "Müller"}


def test_dumps_writes_what_the_standard_module_writes_compactly():
    """Compact separators, non-ASCII as is, floats in the shortest form that reads back."""
    value = {"k": "Zoë ✓", "f": [0.1 + 0.2, 1e16, 2.5, -0.0], "n": None, "i": 2**63 - 1}
    assert jsontext.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert json.loads(jsontext.dumps(value)) == value


@pytest.mark.parametrize("value", [{1: "int key"}, {"wide": 2**70}, {"neg": -(2**64)}])
def test_dumps_falls_back_for_what_orjson_refuses(value):
    """Integer keys and integers beyond 64 bits are written as the standard module writes them."""
    assert jsontext.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_a_stored_raw_issue_reads_back_equal_to_what_jira_sent(store_path):
    """The raw column round-trips an issue with a wide integer, floats and non-ASCII text."""
    raw = {"id": "10001", "key": "ABC-1", "fields": {
        "summary": "Größe ✓", "created": "2026-01-01T10:00:00.000+0000",
        "customfield_1": 123456789012345678901234567890,
        "customfield_2": 0.30000000000000004, "customfield_3": 1e-7,
        "project": {"key": "ABC"}, "issuetype": {"name": "Story"},
        "worklog": {"worklogs": []}}}
    conn = connect(store_path)
    save_issues(conn, [map_issue(raw, FieldMap())], [raw], datetime(2026, 1, 1, tzinfo=UTC))
    stored = json.loads(conn.execute("SELECT raw FROM issues").fetchone()[0])
    expected = {**raw, "fields": {k: v for k, v in raw["fields"].items() if k != "worklog"}}
    assert repr(stored) == repr(expected)
