"""The table's fast word-packing gives exactly what textwrap gives."""

import random
import textwrap

from jira_pm.report.table import _wrap


def test_wrap_matches_textwrap_for_plain_and_odd_text():
    """_wrap's lines equal textwrap's for plain words, long words, tabs, runs of spaces, edges."""
    rng = random.Random(7)
    samples = ["", " ", "a", " a", "a ", "a  b", "a\tb", "a\nb", "x" * 11, "x" * 200,
               "Scope grew by 12 points (40%) since the sprint started on 2026-11-02"]
    for _ in range(3000):
        letters = "ab -\t\n." if rng.random() < 0.3 else "aaab "
        samples.append("".join(rng.choice(letters) for _ in range(rng.randint(0, 60))))
    for text in samples:
        for width in (0, 12, 25, 40):
            for indent in ("", "    "):
                expected = textwrap.wrap(text, width=max(width, 10), subsequent_indent=indent,
                                         break_on_hyphens=False) or [""]
                assert _wrap(text, width, indent) == expected, (text, width, indent)
