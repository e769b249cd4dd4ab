"""Comment text for Jira users: one neutral ``CommentText``, rendered as wiki
markup (Data Center, REST v2) or Atlassian Document Format (Cloud, REST v3).

Every comment ends with a visible marker naming the rule and the finding's
fingerprint, ``[jira-pm OD001 3f9a1b2c4d5e]``. The marker is how jira-pm finds
its own comment again when its ledger has no record of it (a crash between the
POST and the ledger write, a lost store), so ``find_markers`` reads it back
from either body format, whatever Jira did to the text around it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
class CommentText:
    """What a comment says, before it is rendered for one Jira flavour."""

    headline: str
    facts: tuple[tuple[str, str], ...] = ()
    advice: str = ""
    marker: str = ""
    extra: tuple[str, ...] = field(default_factory=tuple)

    def content_hash(self) -> str:
        """A short hash of everything the comment says: a changed hash means an edit is due."""
        parts = [self.headline, *(f"{k}={v}" for k, v in self.facts), self.advice, *self.extra]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


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


def to_wiki(comment: CommentText) -> str:
    """The comment as Jira wiki markup (REST v2 bodies, Data Center)."""
    lines = [f"*{wiki_escape(comment.headline)}*"]
    lines.extend(wiki_escape(line) for line in comment.extra)
    if comment.facts:
        lines.append("")
        lines.extend(f"* {wiki_escape(k)}: {wiki_escape(v)}" for k, v in comment.facts)
    if comment.advice:
        lines.append("")
        lines.append(wiki_escape(comment.advice))
    if comment.marker:
        lines.append("")
        lines.append("{{" + wiki_escape(comment.marker) + "}}")
    return "\n".join(lines)


def to_adf(comment: CommentText) -> dict[str, Any]:
    """The comment as an Atlassian Document Format document (REST v3 bodies, Cloud)."""
    content: list[dict[str, Any]] = [
        _paragraph([_text(comment.headline, marks=[{"type": "strong"}])])
    ]
    content.extend(_paragraph([_text(line)]) for line in comment.extra)
    if comment.facts:
        content.append(
            {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [_paragraph([_text(f"{k}: {v}")])]}
                    for k, v in comment.facts
                ],
            }
        )
    if comment.advice:
        content.append(_paragraph([_text(comment.advice)]))
    if comment.marker:
        content.append(_paragraph([_text(comment.marker, marks=[{"type": "code"}])]))
    return {"type": "doc", "version": 1, "content": content}


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
