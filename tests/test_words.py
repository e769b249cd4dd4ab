"""Counts, plurals and dates as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from jira_pm.words import day_text, moment_text, noun, plural


@pytest.mark.parametrize(("count", "word", "expected"), [
    (0, "issue", "0 issues"), (1, "issue", "1 issue"), (2, "issue", "2 issues"),
    (1, "sprint", "1 sprint"), (3, "history entry", "3 history entries"),
    (2, "entry", "2 entries"), (2, "day", "2 days"), (2, "match", "2 matches"),
    (2, "person", "2 people"), (1200, "write", "1,200 writes"),
])
def test_plural_is_right_for_zero_one_and_many(count, word, expected):
    """A count reads right for 0, 1 and many, irregular nouns included, with thousands marked."""
    assert plural(count, word) == expected


def test_an_explicit_plural_form_wins():
    """A caller's plural form is used for any count but one."""
    assert noun(2, "working day", "working days") == "working days"
    assert plural(1, "criterion", "criteria") == "1 criterion"
    assert plural(4, "criterion", "criteria") == "4 criteria"


def test_dates_read_as_a_person_reads_them_in_the_configured_zone():
    """An instant is shown as the date it is in the configured zone, weekday first."""
    assert day_text(date(2026, 11, 10)) == "Tue 10 Nov 2026"
    late = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
    assert day_text(late, ZoneInfo("Europe/Berlin")) == "Wed 11 Nov 2026"


def test_moments_have_no_microseconds_and_name_their_zone():
    """An instant shows to the minute in the zone, with the zone's abbreviation."""
    instant = datetime(2026, 11, 21, 9, 5, 7, 123456, tzinfo=UTC)
    assert moment_text(instant, ZoneInfo("Europe/Berlin")) == "2026-11-21 10:05 CET"
    assert moment_text(instant) == "2026-11-21 09:05 UTC"
    assert moment_text(instant, ZoneInfo("Asia/Kolkata")) == "2026-11-21 14:35 IST"
