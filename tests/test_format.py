"""Comment rendering (wiki markup and ADF) and the marker that finds jira-pm's comments again."""

from __future__ import annotations

from jira_pm.jira.format import (
    Bullets,
    CommentText,
    IssueLink,
    Paragraph,
    Table,
    adf_plain_text,
    find_markers,
    marker_matches,
    marker_text,
    to_adf,
    to_wiki,
    wiki_escape,
)
from jira_pm.sandbox.adf import adf_problem

FP = "3f9a1b2c4d5e6f708192a3b4c5d6e7f8"
LINK = IssueLink("ABC-7", "https://jira.example.test/browse/ABC-7")
COMMENT = CommentText(
    (Paragraph(("Release ABC 1.4 is 3 working days late.",), strong=True),
     Paragraph(("Still open: ", LINK, " (this issue) and ", IssueLink("ABC-9"), ".")),
     Bullets((("days late: 3",), ("unresolved issues: 7",))),
     Table(("Issue", "By"), ((("ABC-7",), ("Ana [QA]",)),)),
     Paragraph(("To clear it: release the version or move its date.",))),
    marker=marker_text("OD001", FP),
)


def test_marker_names_rule_and_short_fingerprint():
    """The marker shows the rule id and the first 12 characters of the fingerprint."""
    assert marker_text("OD001", FP) == "[jira-pm OD001 3f9a1b2c4d5e]"


def test_wiki_body_ends_with_a_marker_that_is_found_again():
    """A wiki body's last line is the marker, and find_markers reads it back despite escapes."""
    body = to_wiki(COMMENT)
    assert body.splitlines()[-2:] == ["", r"{color:#97a0af}\[jira-pm OD001 3f9a1b2c4d5e\]{color}"]
    assert find_markers(body) == [("OD001", "3f9a1b2c4d5e")]
    assert marker_matches(find_markers(body)[0], "OD001", FP)


def test_adf_body_is_a_document_whose_marker_is_found_again():
    """The ADF body is a version-1 doc whose last paragraph is the grey marker, found again."""
    doc = to_adf(COMMENT)
    assert doc["type"] == "doc" and doc["version"] == 1
    assert adf_problem(doc) is None
    assert doc["content"][-1]["content"] == [{
        "type": "text", "text": "[jira-pm OD001 3f9a1b2c4d5e]",
        "marks": [{"type": "textColor", "attrs": {"color": "#97a0af"}}]}]
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


def test_old_format_markers_are_still_found():
    """Comments posted before the grey marker (wiki {{...}}, ADF code mark) are still found."""
    old_wiki = ("*jira-pm flagged this (OD001, high): late*\n\n* days late: 3\n\n"
                "{{\\[jira-pm OD001 3f9a1b2c4d5e\\]}}")
    old_adf = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "late"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "[jira-pm OD001 3f9a1b2c4d5e]",
                                           "marks": [{"type": "code"}]}]}]}
    assert find_markers(old_wiki) == [("OD001", "3f9a1b2c4d5e")]
    assert find_markers(old_adf) == [("OD001", "3f9a1b2c4d5e")]


def test_issue_keys_are_links_in_both_formats():
    """A key with the site's URL is a wiki link and an ADF link mark; without a URL, plain text."""
    wiki = to_wiki(COMMENT)
    link = "[ABC-7|https://jira.example.test/browse/ABC-7]"
    assert f"Still open: {link} (this issue) and ABC-9." in wiki
    doc = to_adf(COMMENT)
    nodes = doc["content"][1]["content"]
    assert nodes[1] == {"type": "text", "text": "ABC-7", "marks": [
        {"type": "link", "attrs": {"href": "https://jira.example.test/browse/ABC-7"}}]}
    assert nodes[3] == {"type": "text", "text": "ABC-9"}
    assert "mention" not in str(doc)


def test_lists_and_tables_render_in_both_formats():
    """Bullets become wiki bullets and an ADF bulletList; a table a wiki table and an ADF table."""
    wiki = to_wiki(COMMENT).splitlines()
    assert "* days late: 3" in wiki
    assert "||Issue||By||" in wiki and r"|ABC-7|Ana \[QA\]|" in wiki
    content = to_adf(COMMENT)["content"]
    items = [block for block in content if block["type"] == "bulletList"]
    assert adf_plain_text(items[0]).splitlines() == ["days late: 3", "unresolved issues: 7"]
    table = [block for block in content if block["type"] == "table"][0]
    assert [c["type"] for c in table["content"][0]["content"]] == ["tableHeader", "tableHeader"]
    assert adf_plain_text(table["content"][1]).splitlines() == ["ABC-7", "Ana [QA]"]


def test_content_hash_changes_with_the_text_only():
    """The content hash is stable for equal text, ignores the marker and link targets, and
    changes when a sentence changes."""
    same = CommentText(COMMENT.blocks, "[jira-pm OD001 ffffffffffff]")
    changed = CommentText((Paragraph(("Release ABC 1.4 is 4 working days late.",)),
                           *COMMENT.blocks[1:]), COMMENT.marker)
    assert same.content_hash() == COMMENT.content_hash() != changed.content_hash()
