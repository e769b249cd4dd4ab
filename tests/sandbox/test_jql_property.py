"""JQL subset against a brute-force reference: random conjunctions select the same issues."""

from __future__ import annotations

import operator
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jira_pm.sandbox.generator import generate
from jira_pm.sandbox.jql import parse
from jira_pm.sandbox.search import SearchCursor

NOW = 1_795_176_000_000  # 2026-11-20T12:00Z, fixed so dates in queries and checks agree
SITE = generate(issues=900, seed=11, clock=lambda: NOW)
ISSUES = sorted(SITE.issues.values(), key=lambda i: i.id)
IDS = [i.id for i in ISSUES]
OPS = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
       "<": operator.lt, "<=": operator.le}


def key_number(issue):
    return int(issue.key.rsplit("-", 1)[1])


clause = st.one_of(
    st.builds(lambda op, i: (f"id {op} {IDS[i]}", lambda x: OPS[op](x.id, IDS[i])),
              st.sampled_from(list(OPS)), st.integers(0, len(IDS) - 1)),
    st.builds(lambda keys: (f"project in ({', '.join(keys)})",
                            lambda x: x.project_key in keys),
              st.lists(st.sampled_from(sorted(SITE.projects)), min_size=1, unique=True)),
    st.builds(lambda op, minutes, field: (
        f"{field} {op} '{datetime.fromtimestamp(_at(minutes) / 1000, UTC):%Y/%m/%d %H:%M}'",
        lambda x: OPS[op](getattr(x, field), _at(minutes))),
        st.sampled_from([">", ">=", "<", "<="]), st.integers(0, 90 * 24 * 60),
        st.sampled_from(["created", "updated"])),
    st.builds(lambda op, i: (f"key {op} {ISSUES[i].key}",
                             lambda x: x.project_key == ISSUES[i].project_key
                             and OPS[op](key_number(x), key_number(ISSUES[i]))),
              st.sampled_from([">", ">=", "<", "<="]), st.integers(0, len(IDS) - 1)),
)


def _at(minutes_ago: int) -> int:
    """The instant ``minutes_ago`` before NOW, on a whole minute (JQL's resolution)."""
    return NOW // 60_000 * 60_000 - minutes_ago * 60_000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(clause, min_size=1, max_size=3), st.booleans())
def test_random_conjunctions_match_brute_force(clauses, by_id):
    """Any AND of supported clauses selects exactly what a direct filter selects, in order."""
    jql = " AND ".join(text for text, _ in clauses) + (" ORDER BY id" if by_id else
                                                      " ORDER BY key DESC")
    expected = [i for i in ISSUES if all(check(i) for _, check in clauses)]
    if not by_id:
        expected.sort(key=lambda i: (i.project_key, key_number(i)), reverse=True)
    cursor = SearchCursor(parse(jql, SITE, "UTC"), SITE)
    ids, done = cursor.take(None)
    assert done and ids == [i.id for i in expected]
