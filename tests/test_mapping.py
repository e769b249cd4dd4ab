"""Mapping Jira JSON to the model, over synthetic edge cases and the recorded payloads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from conftest import load_recorded

from jira_pm.mapping import (
    FieldMap,
    discover_fields,
    map_changelog,
    map_issue,
    map_sprints,
    map_status,
    map_version,
    map_worklog,
    parse_duration,
    parse_jira_datetime,
)
from jira_pm.model import CATEGORY_DONE, CATEGORY_IN_PROGRESS, CATEGORY_TODO, Person

# Recorded files holding whole issues (search pages, single issues, DevLake elements, webhooks).
RECORDED_ISSUE_FILES = [
    "airbyte/search_v3_issue_element.json",
    "atlassian-python-api/agile_epic_issues.json",
    "atlassian-python-api/issue_FOO-123_v2.json",
    "devlake/cloud_agile_board_issues_expand_changelog.elements.json",
    "devlake/server_agile_board_issues_expand_changelog.elements.json",
    "go-jira/agile_sprint_issues.json",
    "go-jira/agile_sprint_issues_expand_changelog.json",
    "jira-ruby/issue_10002.json",
    "jira-ruby/search_v2.json",
    "jira-ruby/search_v2_with_agile_customfields.json",
    "jirametrics/issue_SP-1_expand_changelog.json",
    "jirametrics/issue_SP-5_expand_changelog.json",
    "jirametrics/issue_SP-10_expand_changelog.json",
    "jirametrics/issue_SP-13_expand_changelog.json",
    "jirametrics/issue_SP-14_expand_changelog.json",
    "jirametrics/issue_SP-15_expand_changelog.json",
    "jirareport/search_expand_changelog_anonymised.json",
    "jrjc/issue_HST-1_with_changelog.json",
    "jrjc/issue_TIMETRACKING-2.json",
    "jrjc/issue_TST-13_changelog_worklog.json",
    "jrjc/issue_TST-2_all_expanded.json",
    "jrjc/search_many_issues.json",
    "mattermost-webhooks/webhook_cloud_issue_created_many_fields.json",
    "mattermost-webhooks/webhook_cloud_issue_updated_custom_number_field.json",
    "mattermost-webhooks/webhook_server_issue_comment_edited.json",
]


def recorded_issues(relative: str) -> list[dict]:
    """The top-level issue objects of one recorded file, unwrapped from its envelope."""
    data = load_recorded(relative)
    if "issues" in data:
        return data["issues"]
    if "elements" in data:
        return [element["data"] for element in data["elements"]]
    if "issue" in data:
        return [data["issue"]]
    return [data]


def field_map_for(raw: dict) -> FieldMap:
    """The custom field ids these recorded sites used (their /field answers are not recorded)."""
    fields = raw.get("fields", {})
    points = next(
        (f for f in ("customfield_10036", "customfield_10016", "customfield_10106") if f in fields),
        None,
    )
    sprint = next((f for f in ("customfield_10020", "customfield_10104") if f in fields), None)
    return FieldMap(story_points=points, sprint=sprint, epic_link="customfield_10014")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2012-01-11T13:33:25.604+1300", datetime(2012, 1, 11, 0, 33, 25, 604000, tzinfo=UTC)),
        ("2021-06-18T18:41:29.398-0700", datetime(2021, 6, 19, 1, 41, 29, 398000, tzinfo=UTC)),
        ("2022-04-15T00:55:17.688Z", datetime(2022, 4, 15, 0, 55, 17, 688000, tzinfo=UTC)),
        ("2026-11-21T10:00:00+00:00", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
        ("2026-11-21T10:00:00+0200", datetime(2026, 11, 21, 8, 0, tzinfo=UTC)),
        ("2019-05-23T14:02+0000", datetime(2019, 5, 23, 14, 2, tzinfo=UTC)),
        ("2026-11-21T10:00:00", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
    ],
)
def test_jira_timestamps_of_every_recorded_form_become_aware_utc(text, expected):
    """Offsets with or without a colon, Z, and missing millis or seconds all parse to UTC."""
    value = parse_jira_datetime(text)
    assert value == expected
    assert value.tzinfo == UTC


@pytest.mark.parametrize("empty", [None, "", "<null>"])
def test_empty_timestamps_are_none(empty):
    """Null, empty and Agile's ``<null>`` timestamps map to None."""
    assert parse_jira_datetime(empty) is None


def test_a_malformed_timestamp_is_a_value_error_naming_it():
    """A text that is not a timestamp raises ValueError quoting the text."""
    with pytest.raises(ValueError, match="yesterday"):
        parse_jira_datetime("yesterday")


def test_human_durations_use_jiras_default_working_week():
    """Durations read 1w as 5d and 1d as 8h, as Jira's default time tracking does."""
    assert parse_duration("18w 2d") == (18 * 5 + 2) * 8 * 3600
    assert parse_duration("2h 25m") == 2 * 3600 + 25 * 60
    assert parse_duration("") is None


def test_legacy_sprint_strings_from_server_webhooks_parse_to_sprints():
    """The DC ``Sprint@…[id=…,state=ACTIVE,…]`` string yields id, state, name, board and dates."""
    raw = load_recorded("mattermost-webhooks/webhook_server_issue_comment_edited.json")
    sprints = map_sprints(raw["issue"]["fields"]["customfield_10104"])
    assert len(sprints) == 1
    sprint = sprints[0]
    assert (sprint.id, sprint.state, sprint.name, sprint.board_id) == (
        1, "active", "Sample Sprint 2", 1,
    )
    assert sprint.start == datetime(2018, 5, 9, 6, 39, 30, 147000, tzinfo=UTC)
    assert sprint.complete is None


def test_a_legacy_sprint_name_with_commas_and_equals_is_kept_whole():
    """A comma or ``=`` inside a sprint name does not split the legacy string wrongly."""
    text = (
        "com.atlassian.greenhopper.service.sprint.Sprint@1f[id=7,rapidViewId=3,state=CLOSED,"
        "name=Sprint 7, the one with a=b,goal=ship it, fast,startDate=2020-01-01T00:00:00.000Z,"
        "endDate=2020-01-14T00:00:00.000Z,completeDate=2020-01-15T09:00:00.000Z,sequence=7]"
    )
    (sprint,) = map_sprints([text])
    assert sprint.name == "Sprint 7, the one with a=b"
    assert sprint.state == "closed"
    assert sprint.complete == datetime(2020, 1, 15, 9, tzinfo=UTC)


def test_cloud_sprint_objects_and_a_single_agile_object_both_map():
    """Cloud's list of sprint objects and the Agile API's single object map to Sprints."""
    raw = load_recorded("jirametrics/issue_SP-13_expand_changelog.json")
    (sprint,) = map_sprints(raw["fields"]["customfield_10020"])
    assert (sprint.id, sprint.state, sprint.board_id) == (3, "active", 2)
    assert sprint.end == datetime(2022, 4, 26, 16, 51, tzinfo=UTC)
    assert map_sprints({"id": "5", "name": "S5", "state": "FUTURE"})[0].id == 5
    assert map_sprints(None) == []


def test_cloud_field_discovery_prefers_jira_softwares_story_point_estimate():
    """On Cloud the jsw-story-points field wins over other "Story points" number fields."""
    fields = load_recorded("bitovi/fields_cloud.json")
    found = discover_fields(fields, None)
    assert found == FieldMap(
        story_points="customfield_10016",
        sprint="customfield_10020",
        epic_link="customfield_10014",
        start_date="customfield_10015",
        budget=None,
    )


def test_server_field_discovery_finds_story_points_sprint_and_epic_link_by_schema():
    """On Server/DC the "Story Points" float, gh-sprint and gh-epic-link fields are found."""
    found = discover_fields(load_recorded("jirareport/fields_server.json"), None)
    assert (found.story_points, found.sprint, found.epic_link) == (
        "customfield_10142", "customfield_10480", "customfield_10680",
    )


def test_field_overrides_by_exact_name_or_id_win_over_discovery():
    """A [fields] override given as a name resolves to its id; one given as an id is used."""
    fields = load_recorded("bitovi/fields_cloud.json")
    overrides = SimpleNamespace(
        story_points="Story points", sprint=None, epic_link=None, start_date="customfield_10022",
        budget="customfield_99999",
    )
    found = discover_fields(fields, overrides)
    assert found.story_points == "customfield_10034"
    assert found.start_date == "customfield_10022"
    assert found.budget == "customfield_99999"
    assert found.sprint == "customfield_10020"


@pytest.mark.parametrize("relative", RECORDED_ISSUE_FILES)
def test_every_recorded_issue_maps_with_all_its_history_and_worklogs(relative):
    """Each recorded issue maps with UTC dates, one Change per history item, each inline worklog."""
    for raw in recorded_issues(relative):
        issue = map_issue(raw, field_map_for(raw))
        assert issue.id == int(raw["id"])
        assert issue.created.tzinfo == UTC and issue.updated.tzinfo == UTC
        assert issue.status_category in (CATEGORY_TODO, CATEGORY_IN_PROGRESS, CATEGORY_DONE)
        histories = (raw.get("changelog") or {}).get("histories") or []
        assert len(issue.changes) == sum(len(h["items"]) for h in histories)
        inline = ((raw["fields"].get("worklog") or {}).get("worklogs")) or []
        assert len(issue.worklogs) == len(inline)
        project = (raw["fields"].get("project") or {}).get("key")
        assert issue.project_key == (project or issue.key.rsplit("-", 1)[0])


def test_cloud_story_points_sprint_and_changelog_items_map_exactly():
    """SP-13 maps its story points, sprint, status category and its Story Points/Sprint changes."""
    raw = load_recorded("jirametrics/issue_SP-13_expand_changelog.json")
    issue = map_issue(raw, field_map_for(raw))
    assert issue.story_points == 13.0
    assert issue.sprint_ids == (3,)
    assert issue.status_category == CATEGORY_DONE and issue.resolution == "Done"
    points = [c for c in issue.changes if c.field == "Story Points"]
    assert [(p.to_value, p.to_string, p.field_id) for p in points] == [
        (None, "13", "customfield_10036")
    ]
    (sprint_change,) = [c for c in issue.changes if c.field == "Sprint"]
    assert (sprint_change.from_value, sprint_change.to_value) == ("", "3")
    assert sprint_change.at == datetime(2022, 4, 15, 0, 52, 8, 258000, tzinfo=UTC)
    assert [c.history_id for c in issue.changes] == sorted(c.history_id for c in issue.changes)


def test_empty_timetracking_and_null_story_points_map_to_none():
    """``timetracking: {}`` and a null story point field leave estimates None, not zero."""
    raw = load_recorded("jirametrics/issue_SP-15_expand_changelog.json")
    assert raw["fields"]["timetracking"] == {}
    raw["fields"]["customfield_10036"] = None
    issue = map_issue(raw, field_map_for(raw))
    assert issue.original_estimate_seconds is None
    assert issue.story_points is None


def test_a_cloud_epic_parent_becomes_the_epic_link_and_parent_id():
    """A story whose parent is a hierarchy-level-1 issue gets that epic's key and id."""
    raw = next(
        r
        for r in recorded_issues("devlake/cloud_agile_board_issues_expand_changelog.elements.json")
        if r["key"] == "K5-2"
    )
    issue = map_issue(raw, field_map_for(raw))
    assert (issue.parent_id, issue.epic_key) == (int(raw["fields"]["parent"]["id"]), "K5-1")


def test_epics_are_recognised_by_hierarchy_level_even_with_a_localised_name():
    """Issue types are epics by hierarchyLevel 1 (or the name Epic), sub-tasks by ``subtask``."""
    issues = [
        map_issue(r, field_map_for(r))
        for r in recorded_issues("devlake/cloud_agile_board_issues_expand_changelog.elements.json")
    ]
    by_key = {i.key: i for i in issues}
    assert by_key["K5-4"].is_epic
    assert not by_key["EE-2"].is_epic
    subtask_stub = load_recorded("jrjc/issue_TST-2_all_expanded.json")
    subtask_stub["fields"]["issuetype"] = {"name": "Sub-task", "subtask": True}
    assert map_issue(subtask_stub, FieldMap()).is_subtask


def test_a_moved_issue_takes_its_project_from_the_project_field_not_the_key():
    """BAR-111 lives in project MIRCOLL now: the project field wins over the key prefix."""
    (raw,) = recorded_issues("atlassian-python-api/agile_epic_issues.json")
    issue = map_issue(raw, FieldMap())
    assert (issue.key, issue.project_key) == ("BAR-111", "MIRCOLL")


def test_a_dc_epic_link_string_becomes_the_epic_key():
    """On DC the Epic Link custom field holds the epic's key as a plain string."""
    raw = load_recorded("jirametrics/issue_SP-1_expand_changelog.json")
    raw["fields"]["customfield_10680"] = "OPS-7"
    issue = map_issue(raw, FieldMap(epic_link="customfield_10680"))
    assert issue.epic_key == "OPS-7"


def test_dc_issue_with_worklogs_versions_and_timetracking_maps_fully():
    """TST-2 (DC) maps its 5 worklogs by DC user name, its fix version and its time tracking."""
    raw = load_recorded("jrjc/issue_TST-2_all_expanded.json")
    issue = map_issue(raw, FieldMap())
    assert issue.fix_version_ids == (10000,)
    assert issue.time_spent_seconds == 8700
    assert issue.original_estimate_seconds == 0
    assert issue.assignee.id == "wseliga"
    assert len(issue.worklogs) == 5
    assert all(w.author is not None and w.author.id for w in issue.worklogs)
    assert issue.status_category == CATEGORY_IN_PROGRESS  # no statusCategory: guessed from name


def test_worklogs_without_seconds_fall_back_to_the_human_duration():
    """Jira 5.0 worklogs with only ``timeSpent`` get seconds from that text."""
    page = load_recorded("jira-ruby/issue_10002_worklogs.json")
    worklogs = [map_worklog(10002, w) for w in page["worklogs"]]
    assert len(worklogs) == page["total"]
    first = worklogs[0]
    assert first.seconds == parse_duration(page["worklogs"][0]["timeSpent"]) > 0
    assert first.started == datetime(2012, 1, 11, 0, 33, tzinfo=UTC)


def test_cloud_worklog_and_changelog_elements_map_including_anonymous_authors():
    """DevLake's Cloud worklog and changelog elements map; an empty accountId means no author."""
    worklog_pages = load_recorded("devlake/cloud_v2_issue_worklogs.elements.json")["pages"]
    for url, elements in worklog_pages.items():
        issue_id = int(url.split("/issue/")[1].split("/")[0])
        for element in elements:
            worklog = map_worklog(issue_id, element)
            assert worklog.seconds == element["timeSpentSeconds"]
    changelog_pages = load_recorded("devlake/cloud_v3_issue_changelog_small.elements.json")["pages"]
    for url, histories in changelog_pages.items():
        issue_id = int(url.split("/issue/")[1].split("/")[0])
        changes = map_changelog(issue_id, histories)
        assert len(changes) == sum(len(h["items"]) for h in histories)
        for change, history in ((c, h) for h in histories for c in changes if
                                c.history_id == int(h["id"])):
            if not history["author"].get("accountId"):
                assert change.author is None


def test_versions_map_dates_and_flags():
    """A DC project's versions keep their release dates and released/archived flags."""
    project = load_recorded("go-jira/project_ABDERA_issues_apache_org.json")
    versions = [map_version(v, "ABDERA") for v in project["versions"]]
    assert versions[0].release_date == date(2007, 2, 19)
    assert versions[0].released and not versions[0].archived
    assert all(v.project_key == "ABDERA" for v in versions)
    hand_made = [map_version(v, "X") for v in load_recorded("jira-cli/project_versions.json")]
    assert [v.archived for v in hand_made] == [False, False, True]


def test_statuses_map_to_their_category_keys():
    """A /status answer maps to (id, name, category key) triples."""
    statuses = [map_status(s) for s in load_recorded("jirametrics/statuses.json")]
    assert ("3", "In Progress", CATEGORY_IN_PROGRESS) in statuses
    assert all(category in (CATEGORY_TODO, CATEGORY_IN_PROGRESS, CATEGORY_DONE)
               for _, _, category in statuses)


def test_ids_given_as_numbers_map_like_strings():
    """An issue whose ids are JSON numbers maps the same as one with string ids."""
    raw = load_recorded("jirametrics/issue_SP-13_expand_changelog.json")
    as_numbers = {**raw, "id": int(raw["id"])}
    as_numbers["fields"] = {
        **raw["fields"],
        "fixVersions": [{"id": 10001, "name": "v1"}],
        "status": {**raw["fields"]["status"], "id": int(raw["fields"]["status"]["id"])},
    }
    issue = map_issue(as_numbers, field_map_for(raw))
    assert issue.id == int(raw["id"])
    assert issue.fix_version_ids == (10001,)
    assert issue.status_id == str(raw["fields"]["status"]["id"])


def test_agile_sprint_lists_map_with_their_board_and_completion():
    """Agile /board/{id}/sprint values (go-jira, DevLake Cloud) map with originBoardId and dates."""
    values = load_recorded("go-jira/agile_board_sprints.json")["values"]
    sprints = map_sprints(values)
    assert len(sprints) == len(values)
    first = sprints[0]
    assert (first.id, first.state, first.board_id) == (740, "closed", 734)
    assert first.complete == datetime(2016, 4, 28, 12, 8, 48, 543000, tzinfo=UTC)
    pages = load_recorded("devlake/cloud_agile_board_sprints.elements.json")["pages"]
    for elements in pages.values():
        assert [s.id for s in map_sprints(elements)] == [int(e["id"]) for e in elements]


def test_paged_cloud_changelog_elements_map_every_item():
    """Every element of DevLake's paged Cloud /changelog recording maps, one Change per item."""
    pages = load_recorded("devlake/cloud_v3_issue_changelog_pages.elements.json")["pages"]
    for url, histories in pages.items():
        issue_id = int(url.split("/issue/")[1].split("/")[0])
        changes = map_changelog(issue_id, histories)
        assert len(changes) == sum(len(h["items"]) for h in histories)
        assert all(c.at.tzinfo == UTC and c.issue_id == issue_id for c in changes)


@pytest.mark.parametrize("relative, key", [
    ("jira-ruby/version_10000.json", None),
    ("jrjc/project_jira_5_0.json", "versions"),
])
def test_dc_version_payloads_map(relative, key):
    """A single DC version and a project's embedded versions map, dates optional."""
    data = load_recorded(relative)
    raws = data[key] if key else [data]
    versions = [map_version(raw, "P") for raw in raws]
    assert [v.id for v in versions] == [int(raw["id"]) for raw in raws]
    assert all(v.release_date is None or v.release_date.year > 2000 for v in versions)


def test_the_creator_maps_from_cloud_account_ids_and_dc_user_names():
    """``fields.creator`` becomes Issue.creator: the accountId on Cloud, the user name on DC."""
    cloud = load_recorded("atlassian-python-api/issue_FOO-123_v2.json")
    assert map_issue(cloud, FieldMap()).creator == Person("abc123", "ABC")
    (server, *_) = recorded_issues("jirareport/search_expand_changelog_anonymised.json")
    assert map_issue(server, FieldMap()).creator == Person(
        "leonardo.ferreira", "Leonardo Ferreira"
    )


@pytest.mark.parametrize(
    "hidden_creator",
    [None, {"displayName": "Former user", "active": False}],
    ids=["creator-field-hidden", "creator-anonymised"],
)
def test_without_a_usable_creator_the_reporter_is_the_creator(hidden_creator):
    """A hidden creator (absent) or an anonymised one (no id) falls back to the reporter."""
    raw = load_recorded("atlassian-python-api/issue_FOO-123_v2.json")
    raw["fields"]["reporter"] = {"accountId": "rep-9", "displayName": "Rita Reporter"}
    if hidden_creator is None:
        del raw["fields"]["creator"]
    else:
        raw["fields"]["creator"] = hidden_creator
    assert map_issue(raw, FieldMap()).creator == Person("rep-9", "Rita Reporter")


def test_an_issue_with_neither_creator_nor_reporter_has_no_creator():
    """With both fields absent the creator is unknown (None), not an empty Person."""
    raw = load_recorded("atlassian-python-api/issue_FOO-123_v2.json")
    del raw["fields"]["creator"], raw["fields"]["reporter"]
    assert map_issue(raw, FieldMap()).creator is None
