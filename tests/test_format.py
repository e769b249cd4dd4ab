"""Comment rendering (wiki markup and ADF) and the marker that finds jira-pm's comments again."""

from __future__ import annotations

from jira_pm.jira.format import (
    CommentText,
    adf_plain_text,
    find_markers,
    marker_matches,
    marker_text,
    to_adf,
    to_wiki,
    wiki_escape,
)

FP = "3f9a1b2c4d5e6f708192a3b4c5d6e7f8"
COMMENT = CommentText(
    headline="jira-pm flagged this (OD001, high): version 1.4 is 3 days past its release date",
    facts=(("days late", "3"), ("unresolved issues", "7")),
    advice="To clear it: release the version or move its date.",
    marker=marker_text("OD001", FP),
)


def test_marker_names_rule_and_short_fingerprint():
    """The marker shows the rule id and the first 12 characters of the fingerprint."""
    assert marker_text("OD001", FP) == "[jira-pm OD001 3f9a1b2c4d5e]"


def test_wiki_body_ends_with_a_marker_that_is_found_again():
    """A wiki body's last line is the marker, and find_markers reads it back despite escapes."""
    body = to_wiki(COMMENT)
    assert body.splitlines()[-1] == r"{{\[jira-pm OD001 3f9a1b2c4d5e\]}}"
    assert find_markers(body) == [("OD001", "3f9a1b2c4d5e")]
    assert marker_matches(find_markers(body)[0], "OD001", FP)


def test_adf_body_is_a_document_whose_marker_is_found_again():
    """The ADF body is a version-1 doc ending in a code-marked marker that is found again."""
    doc = to_adf(COMMENT)
    assert doc["type"] == "doc" and doc["version"] == 1
    last = doc["content"][-1]["content"][0]
    assert last["text"] == "[jira-pm OD001 3f9a1b2c4d5e]" and last["marks"] == [{"type": "code"}]
    assert find_markers(doc) == [("OD001", "3f9a1b2c4d5e")]


def test_marker_split_over_adf_text_nodes_is_still_found():
    """Jira may split one text run into several nodes; the marker is read from the joined text."""
    doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "[jira-pm OD0"},
        {"type": "text", "text": "01 3f9a1b2c4d5e]", "marks": [{"type": "em"}]},
    ]}]}
    assert find_markers(doc) == [("OD001", "3f9a1b2c4d5e")]


def test_marker_of_another_rule_or_finding_does_not_match():
    """A marker of another rule, or of another fingerprint, is not this finding's comment."""
    found = find_markers("[jira-pm OD001 3f9a1b2c4d5e]")[0]
    assert not marker_matches(found, "OD002", FP)
    assert not marker_matches(found, "OD001", "ffff" + FP)


def test_person_comments_carry_no_marker():
    """Comments without a marker, empty bodies and None yield no markers."""
    assert find_markers("Looks late to me, see jira-pm docs") == []
    assert find_markers({"type": "doc", "version": 1, "content": []}) == []
    assert find_markers(None) == []


def test_wiki_escape_keeps_a_message_literal():
    """Brackets, braces, stars, pipes and a leading dash are escaped so they render as text."""
    assert wiki_escape("-x [link] {code} *bold* a|b") == r"\-x \[link\] \{code\} \*bold\* a\|b"


def test_facts_render_as_a_list_in_both_formats():
    """Each key number becomes a bullet in wiki markup and a list item in ADF."""
    assert "* days late: 3" in to_wiki(COMMENT).splitlines()
    items = [block for block in to_adf(COMMENT)["content"] if block["type"] == "bulletList"]
    assert adf_plain_text(items[0]).splitlines() == ["days late: 3", "unresolved issues: 7"]


def test_content_hash_changes_with_the_text_only():
    """The content hash is stable for equal text and changes when a fact changes."""
    same = CommentText(COMMENT.headline, COMMENT.facts, COMMENT.advice, COMMENT.marker)
    changed = CommentText(COMMENT.headline, (("days late", "4"),), COMMENT.advice, COMMENT.marker)
    assert same.content_hash() == COMMENT.content_hash() != changed.content_hash()
