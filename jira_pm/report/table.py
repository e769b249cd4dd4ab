"""The terminal table: one row per finding that fits the terminal's width.

The narrow columns keep their width; the message takes what is left and wraps
onto continuation lines; on a terminal too narrow for that, each message goes on
its own lines under its row. Below the rows: one line per rule, then the totals.
"""

from __future__ import annotations

import re
import textwrap

from jira_pm.model import Finding
from jira_pm.report.rows import row, rule_summaries, summary

# The width when output is not a terminal and $COLUMNS is unset (a pipe, a file, cron):
# wide enough for a message per line on most rows, narrow enough for a CI log.
DEFAULT_WIDTH = 100
HEADERS = (("severity", "SEVERITY"), ("rule_id", "RULE"), ("subject", "SUBJECT"),
           ("project", "PROJECT"), ("status", "STATUS"), ("issues", "ISSUES"))
GAP = "  "
MAX_SUBJECT = 30
# Below this the message would wrap a word or two a line: the subject gives up room
# first, and if that is not enough each message goes under its row, indented.
MIN_MESSAGE = 20
UNDER = "    "
# Text that is not words between single spaces: whitespace other than a space, two
# spaces together, a space at either end, or nothing at all.
_NOT_PLAIN = re.compile(r"[^\S ]|  |^ | $|^$")


def _trim(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    width = max(width, 10)
    # textwrap costs a tenth of an audit at a million issues (270k rows). For plain
    # text (words between single spaces, none longer than a line) it packs words
    # greedily, which _pack does in a fraction of the time; anything else goes to it.
    if not _NOT_PLAIN.search(text):
        words = text.split(" ")
        if max(map(len, words)) <= width - len(indent):
            return _pack(words, width, indent)
    return textwrap.wrap(text, width=width, subsequent_indent=indent,
                         break_on_hyphens=False) or [""]


def _pack(words: list[str], width: int, indent: str) -> list[str]:
    """Words between single spaces, as many a line as fit (what textwrap.wrap does with them)."""
    lines, line = [], words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line = f"{line} {word}"
        else:
            lines.append(line)
            line = indent + word
    lines.append(line)
    return lines


def _layout(rows: list[list[str]], width: int) -> tuple[list[int], int]:
    """Widths of the fixed columns and of the message column."""
    titles = [title for _, title in HEADERS]
    widths = [max(len(titles[i]), *(len(r[i]) for r in rows)) for i in range(len(titles))]
    subject = [key for key, _ in HEADERS].index("subject")
    widths[subject] = min(widths[subject], MAX_SUBJECT)
    message = width - sum(widths) - len(GAP) * len(widths)
    if message < MIN_MESSAGE:
        widths[subject] = max(len("SUBJECT"), widths[subject] - (MIN_MESSAGE - message))
        message = width - sum(widths) - len(GAP) * len(widths)
    return widths, message


def render_table(findings: list[Finding], *, status, resolved, as_of=None, lookup,
                 width: int = DEFAULT_WIDTH) -> str:
    lines: list[str] = []
    if not findings:
        lines.append("No findings.")
    else:
        rows, messages = [], []
        for finding in findings:
            values = row(finding, status, lookup, keys=False)
            rows.append([str(values[key]) for key, _ in HEADERS])
            messages.append(values["message"])
        widths, message_width = _layout(rows, width)
        under = message_width < MIN_MESSAGE  # a narrow terminal: messages below their rows
        titles = [title for _, title in HEADERS] + ["MESSAGE"]
        for cells, message in [(titles[:-1], titles[-1]), *zip(rows, messages, strict=True)]:
            cells = [_trim(c, w).ljust(w) for c, w in zip(cells, widths, strict=True)]
            if under:
                lines.append(GAP.join(cells).rstrip())
                if message != titles[-1]:
                    lines.extend(UNDER + part for part in _wrap(message, width - len(UNDER)))
                continue
            wrapped = _wrap(message, message_width)
            lines.append(GAP.join([*cells, wrapped[0]]).rstrip())
            blank = GAP.join(" " * w for w in widths)
            lines.extend(f"{blank}{GAP}{more}" for more in wrapped[1:])
        lines.append("")
        for text in rule_summaries(findings, status):
            lines.extend(_wrap(text, width, indent="    "))
    lines.append("")
    when = as_of if isinstance(as_of, str) or as_of is None else lookup.moment(as_of)
    totals = summary(findings, status, resolved) + (f" (as of {when})" if when else "")
    lines.extend(_wrap(totals, width, indent="    "))
    return "\n".join(lines) + "\n"
