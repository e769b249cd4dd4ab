"""Property tests: Jira's timestamp and legacy sprint formats read back what was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from jira_pm.mapping import map_sprints, parse_jira_datetime

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def jira_format(instant: datetime, zone: timezone) -> str:
    """How Jira writes a timestamp: milliseconds and an offset without a colon."""
    local = instant.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + (
        local.strftime("%z")
    )


@given(instants, offsets)
def test_any_jira_timestamp_reads_back_as_the_same_utc_instant(instant, zone):
    """A timestamp in any offset, written as Jira does, parses to the same instant in UTC."""
    parsed = parse_jira_datetime(jira_format(instant, zone))
    assert parsed == instant and parsed.tzinfo == UTC


# The legacy format cannot tell ",goal=x" inside a name from the next field; real names
# with a comma right before one of Jira's field names are the one case it cannot keep.
LEGACY_KEYS = ("id", "rapidViewId", "state", "name", "goal", "startDate", "endDate",
               "completeDate", "activatedDate", "sequence", "synced", "autoStartStop",
               "incompleteIssuesDestinationId")
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="[]"),
    min_size=1, max_size=40,
).filter(lambda s: s.strip() == s and s != "<null>"
         and not any(f",{key}=" in s for key in LEGACY_KEYS))


@given(st.integers(min_value=1, max_value=10**6), names,
       st.sampled_from(["ACTIVE", "CLOSED", "FUTURE"]), names)
def test_legacy_sprint_strings_keep_any_name_and_goal(sprint_id, name, state, goal):
    """A DC legacy sprint string keeps its id, state and name, whatever the name and goal hold."""
    text = (
        f"com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id={sprint_id},rapidViewId=3,"
        f"state={state},name={name},goal={goal},startDate=2026-01-05T09:00:00.000Z,"
        f"endDate=<null>,completeDate=<null>,sequence={sprint_id}]"
    )
    (sprint,) = map_sprints([text])
    assert (sprint.id, sprint.state, sprint.name) == (sprint_id, state.lower(), name)
    assert sprint.end is None and sprint.board_id == 3
