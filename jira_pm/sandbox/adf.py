"""Atlassian Document Format: the little the sandbox needs (text <-> ADF, validation)."""

from __future__ import annotations

# Node types Jira accepts in comment bodies (block and inline), from the ADF schema.
_NODE_TYPES = {
    "doc", "paragraph", "text", "heading", "bulletList", "orderedList", "listItem",
    "codeBlock", "blockquote", "rule", "hardBreak", "mention", "emoji", "panel", "table",
    "tableRow", "tableHeader", "tableCell", "inlineCard", "mediaSingle", "mediaGroup", "media",
    "status", "date", "expand", "nestedExpand", "taskList", "taskItem", "decisionList",
    "decisionItem", "mediaInline", "placeholder", "extension", "inlineExtension",
    "bodiedExtension", "blockCard", "embedCard",
}


def text_to_adf(text: str) -> dict:
    """Plain or wiki text as an ADF document, one paragraph per line."""
    paragraphs = []
    for line in str(text).split("\n"):
        content = [{"type": "text", "text": line}] if line else []
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(doc: dict) -> str:
    """The text of an ADF document, paragraphs joined by newlines."""
    blocks = []
    for block in doc.get("content", []):
        blocks.append("".join(_inline_text(node) for node in block.get("content", [])))
    return "\n".join(blocks)


def _inline_text(node: dict) -> str:
    if node.get("type") == "text":
        return node.get("text", "")
    if node.get("type") == "hardBreak":
        return "\n"
    return "".join(_inline_text(child) for child in node.get("content", []))


def adf_problem(doc) -> str | None:
    """Why ``doc`` is not a valid ADF document, or None when it is."""
    if not isinstance(doc, dict):
        return "the body is not an object"
    if doc.get("type") != "doc" or doc.get("version") != 1:
        return "the root must be {type: doc, version: 1}"
    if not isinstance(doc.get("content"), list):
        return "the document has no content list"
    stack = list(doc["content"])
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or node.get("type") not in _NODE_TYPES - {"doc"}:
            return f"unknown node {node!r:.60}"
        if node["type"] == "text" and not isinstance(node.get("text"), str):
            return "a text node without text"
        children = node.get("content", [])
        if not isinstance(children, list):
            return "content is not a list"
        stack.extend(children)
    return None
