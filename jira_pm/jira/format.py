"""Comment text for Jira users: one neutral ``CommentText``, rendered as wiki
markup (Data Center, REST v2) or Atlassian Document Format (Cloud, REST v3).

Every comment ends with a visible marker naming the rule and the finding's
fingerprint, ``[jira-pm OD001 3f9a1b2c4d5e]``, alone on its last line in grey
(older comments carry it as monospace code: both are found). The marker is how
jira-pm finds its own comment again when its ledger has no record of it (a
crash between the POST and the ledger write, a lost store), so ``find_markers``
reads it back from either body format, whatever Jira did to the text around it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Long enough to be unique among one issue's comments, short enough to read.
MARKER_FINGERPRINT_CHARS = 12

# Tolerates the backslash escapes of wiki markup and any surrounding brackets.
_MARKER_RE = re.compile(r"jira-pm\s+([A-Za-z][A-Za-z0-9_.-]*)\s+([A-Za-z0-9_-]{6,64})")

# Characters that start wiki-markup syntax (links, macros, bold, emphasis, tables,
# images, super/subscript). A dash or hash only means something at a line start.
_WIKI_SPECIAL = re.compile(r"([\\\[\]{}*_+^~|!])")
_WIKI_LINE_START = re.compile(r"^(\s*)([-#])", re.MULTILINE)


@dataclass(frozen=True)
class IssueLink:
    """An issue key in a comment, shown as a link to the issue when the site's URL is known."""

    key: str
    url: str | None = None

    def __str__(self) -> str:
        return self.key


# A run of inline content: plain text and issue links.
Inline = str | IssueLink
Text = tuple[Inline, ...]


@dataclass(frozen=True)
class Paragraph:
    """One paragraph; ``strong`` for the sentence that says what is wrong."""

    parts: Text
    strong: bool = False


@dataclass(frozen=True)
class Bullets:
    """A bulleted list, one item per entry."""

    items: tuple[Text, ...]


@dataclass(frozen=True)
class Table:
    """A small table: a header row of words, then rows of cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[Text, ...], ...]


Block = Paragraph | Bullets | Table


@dataclass(frozen=True)
class CommentText:
    """What a comment says, before it is rendered for one Jira flavour.

    ``blocks`` are the sentences, lists and tables people read; ``marker`` is
    rendered alone on the last line, small and grey.
    """

    blocks: tuple[Block, ...]
    marker: str = ""

    def lines(self) -> list[str]:
        """The comment as plain lines of text (no marker): one per paragraph, item or row."""
        return [line for block in self.blocks for line in block_lines(block)]

    def content_hash(self) -> str:
        """A short hash of everything the comment says: a changed hash means an edit is due."""
        return hashlib.sha256("\n".join(self.lines()).encode("utf-8")).hexdigest()[:16]


def inline_text(parts: Text) -> str:
    """A run of inline content as plain text."""
    return "".join(str(part) for part in parts)


def block_lines(block: Block) -> list[str]:
    """One block as plain lines: a paragraph, ``- item`` per item, ``a | b`` per table row."""
    if isinstance(block, Paragraph):
        return [inline_text(block.parts)]
    if isinstance(block, Bullets):
        return [f"- {inline_text(item)}" for item in block.items]
    return [" | ".join(block.header),
            *(" | ".join(inline_text(cell) for cell in row) for row in block.rows)]


def marker_text(rule_id: str, fingerprint: str) -> str:
    """The visible marker for one rule and finding, e.g. ``[jira-pm OD001 3f9a1b2c4d5e]``."""
    return f"[jira-pm {rule_id} {fingerprint[:MARKER_FINGERPRINT_CHARS]}]"


def marker_matches(found: tuple[str, str], rule_id: str, fingerprint: str) -> bool:
    """Whether a marker read from a comment names this rule and fingerprint."""
    found_rule, found_fp = found
    return found_rule == rule_id and found_fp == fingerprint[:MARKER_FINGERPRINT_CHARS]


def find_markers(body: str | Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Every ``(rule_id, fingerprint prefix)`` marker in a wiki string or an ADF document."""
    if body is None:
        return []
    return [(m.group(1), m.group(2)) for m in _MARKER_RE.finditer(plain_text(body))]


def plain_text(body: str | Mapping[str, Any]) -> str:
    """A comment body as plain text, wiki or ADF alike, without wiki escapes."""
    text = body if isinstance(body, str) else adf_plain_text(body)
    return text.replace("\\", "")


def adf_plain_text(node: Any) -> str:
    """The text of an ADF node: text nodes joined within a block, blocks on separate lines.

    Jira may split one text run into several nodes (marks, edits in the
    editor), so the marker is looked for in the joined text, not per node.
    """
    if isinstance(node, Mapping):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        children = node.get("content") or []
        joined = "".join(adf_plain_text(child) for child in children)
        if node.get("type") in ("paragraph", "heading", "codeBlock"):
            return joined + "\n"
        return joined
    if isinstance(node, list):
        return "".join(adf_plain_text(child) for child in node)
    return ""


def wiki_escape(text: str) -> str:
    """Text with wiki-markup syntax characters escaped, so a message renders as written."""
    return _WIKI_LINE_START.sub(r"\1\\\2", _WIKI_SPECIAL.sub(r"\\\1", text))


# Grey, like Jira's own secondary text: the marker is for jira-pm, not for people.
MARKER_COLOR = "#97a0af"


def to_wiki(comment: CommentText) -> str:
    """The comment as Jira wiki markup (REST v2 bodies, Data Center)."""
    chunks = ["\n".join(_wiki_block(block)) for block in comment.blocks]
    if comment.marker:
        chunks.append("{color:" + MARKER_COLOR + "}" + wiki_escape(comment.marker) + "{color}")
    return "\n\n".join(chunks)


def _wiki_block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        text = _wiki_inline(block.parts)
        return [f"*{text}*" if block.strong else text]
    if isinstance(block, Bullets):
        return [f"* {_wiki_inline(item)}" for item in block.items]
    lines = ["||" + "||".join(wiki_escape(h) for h in block.header) + "||"]
    lines += ["|" + "|".join(_wiki_inline(cell) or " " for cell in row) + "|"
              for row in block.rows]
    return lines


def _wiki_inline(parts: Text) -> str:
    out = []
    for part in parts:
        if isinstance(part, IssueLink):
            out.append(f"[{part.key}|{part.url}]" if part.url else wiki_escape(part.key))
        else:
            out.append(wiki_escape(part))
    return "".join(out)


def to_adf(comment: CommentText) -> dict[str, Any]:
    """The comment as an Atlassian Document Format document (REST v3 bodies, Cloud)."""
    content = [_adf_block(block) for block in comment.blocks]
    if comment.marker:
        grey = [{"type": "textColor", "attrs": {"color": MARKER_COLOR}}]
        content.append(_paragraph([_text(comment.marker, marks=grey)]))
    return {"type": "doc", "version": 1, "content": content}


def _adf_block(block: Block) -> dict[str, Any]:
    if isinstance(block, Paragraph):
        return _paragraph(_adf_inline(block.parts, block.strong))
    if isinstance(block, Bullets):
        return {"type": "bulletList", "content": [
            {"type": "listItem", "content": [_paragraph(_adf_inline(item))]}
            for item in block.items]}
    header = {"type": "tableRow", "content": [
        {"type": "tableHeader", "content": [_paragraph(_adf_inline((h,)))]}
        for h in block.header]}
    rows = [{"type": "tableRow", "content": [
        {"type": "tableCell", "content": [_paragraph(_adf_inline(cell))]} for cell in row]}
        for row in block.rows]
    return {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
            "content": [header, *rows]}


def _adf_inline(parts: Text, strong: bool = False) -> list[dict[str, Any]]:
    nodes = []
    for part in parts:
        marks = [{"type": "strong"}] if strong else []
        if isinstance(part, IssueLink) and part.url:
            marks.append({"type": "link", "attrs": {"href": part.url}})
        if str(part):
            nodes.append(_text(str(part), marks=marks or None))
    return nodes


def render(comment: CommentText, adf: bool) -> str | dict[str, Any]:
    """The comment in the body format Jira expects: ADF for v3, wiki markup for v2."""
    return to_adf(comment) if adf else to_wiki(comment)


def _paragraph(nodes: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(nodes)}


def _text(text: str, marks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = marks
    return node
