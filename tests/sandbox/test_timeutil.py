"""Dates and durations as the sandbox parses and renders them."""

from __future__ import annotations

import random
import time

import pytest

from jira_pm.sandbox.timeutil import (
    format_duration,
    jira_timestamp,
    parse_duration,
    parse_instant,
)


def test_jira_timestamp_matches_strftime_for_many_instants():
    """The fast renderer gives exactly strftime's UTC text with Jira's +0000 offset."""
    rng = random.Random(4)
    for ms in [0, 86_399_999, 1_790_294_400_000] + [rng.randrange(0, 4_102_444_800_000)
                                                    for _ in range(2000)]:
        expected = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(ms // 1000))
        assert jira_timestamp(ms) == f"{expected}{ms % 1000:03d}+0000"


@pytest.mark.parametrize(("text", "ms"), [
    ("2026-11-20T10:00:00Z", 1_795_168_800_000),
    ("2026-11-20T11:00:00+01:00", 1_795_168_800_000),
    ("2026-11-20T10:00:00.000+0000", 1_795_168_800_000),
    ("2026-11-20", 1_795_132_800_000),
])
def test_parse_instant_accepts_iso_and_jira_forms(text, ms):
    """ISO instants, Jira's colon-less offsets and plain dates parse to epoch milliseconds."""
    assert parse_instant(text) == ms


@pytest.mark.parametrize(("text", "seconds"), [
    ("1w 2d 4h 30m", 5 * 8 * 3600 + 2 * 8 * 3600 + 4 * 3600 + 1800),
    ("16h", 57_600), ("90", 90), (3600, 3600), (None, None), ("", None),
])
def test_parse_duration_uses_jira_working_time(text, seconds):
    """Durations use Jira's defaults: a day is 8 hours and a week 5 days."""
    assert parse_duration(text) == seconds


def test_bad_duration_is_refused():
    """Text that is not a Jira duration raises ValueError naming it."""
    with pytest.raises(ValueError, match="3 parsecs"):
        parse_duration("3 parsecs")


@pytest.mark.parametrize(("seconds", "text"), [
    (57_600, "2d"), (5400, "1h 30m"), (0, "0m"), (None, None), (180_000, "1w 1d 2h"),
])
def test_format_duration_is_jiras_short_form(seconds, text):
    """Seconds render as Jira's short duration text."""
    assert format_duration(seconds) == text


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kolkata", "America/St_Johns",
                                  "Australia/Lord_Howe", "UTC"])
def test_jira_timestamp_in_a_zone_matches_zoneinfo(zone):
    """In any zone (DST, half hours, negative offsets) the text equals zoneinfo's, colon-less."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    rng = random.Random(zone)
    for ms in [rng.randrange(1_700_000_000_000, 1_900_000_000_000) for _ in range(1500)]:
        local = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(ZoneInfo(zone))
        expected = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + local.strftime(
            "%z")
        assert jira_timestamp(ms, zone) == expected


@pytest.mark.parametrize(("zone", "year"), [
    ("Australia/Lord_Howe", 2027),  # moves by 30 minutes, at 15:00 and 15:30 UTC
    ("Pacific/Chatham", 2027),  # +12:45 / +13:45
    ("Antarctica/Casey", 2022),  # changed at 16:01 UTC
    ("America/St_Johns", 2010),  # changed at 03:31 UTC until 2011
])
def test_jira_timestamp_is_right_on_both_sides_of_every_offset_change(zone, year):
    """Every offset change of a year, wherever in the hour it falls, renders right just
    before and just after it, whatever instant of that hour was rendered first."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    info = ZoneInfo(zone)

    def offset(ms):
        return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(info).utcoffset()

    def expected(ms):
        local = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(info)
        return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + local.strftime("%z")

    hour = 3_600_000
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000)
    changes = 0
    for first in range(start, start + 366 * 24 * hour, hour):
        low, high = first - 1, first + hour - 1  # a change at the hour's first instant too
        if offset(low) == offset(high):
            continue
        before = offset(low)
        while high - low > 1:  # high ends as the first instant of the new offset
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == before else (low, middle)
        changes += 1
        jira_timestamp(first, zone)  # the hour's first instant first: a per-hour cache breaks
        for ms in (high - 1, high, high + 60_000):
            assert jira_timestamp(ms, zone) == expected(ms)
    assert changes >= 1  # the year has a change, so the loop checked something
