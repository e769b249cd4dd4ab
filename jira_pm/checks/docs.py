"""A rule's documentation: its check's docstring plus the rule's own settings.

``jira-pm rules explain ID`` prints :func:`explain`; ``docs/rules/ID.md`` is
:func:`rule_page` (regenerate with ``python -m jira_pm.checks.docs docs/rules``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from jira_pm.checks.registry import DOC_SECTIONS, CheckSpec


def sections(spec: CheckSpec) -> dict[str, str]:
    """The docstring's fixed sections by heading (the first line is the title)."""
    found: dict[str, str] = {}
    current = None
    for line in spec.doc.splitlines()[1:]:
        heading = line.strip().rstrip(":")
        if line.strip().endswith(":") and heading in DOC_SECTIONS:
            current = heading
            found[current] = ""
        elif current is not None:
            found[current] += line.strip() + "\n"
    return {k: " ".join(v.split()).strip() if k != "Configuration" else v.strip()
            for k, v in found.items()}


def settings_lines(rule) -> list[str]:
    """The rule's configuration as ``key = value`` lines."""
    lines = [
        f"id = {rule.id}",
        f"check = {rule.check}",
        f"enabled = {str(rule.enabled).lower()}",
        f"severity = {rule.severity}",
        f"label = {rule.label or '(none: report only)'}",
        f"comment_policy = {rule.comment_policy}",
        f"projects = {', '.join(rule.projects) or '(all)'}",
        f"issue_types = {', '.join(rule.issue_types) or '(all)'}",
    ]
    lines += [f"params.{key} = {value!r}" for key, value in sorted(rule.params.items())]
    lines.append(f"source = {rule.source}")
    return lines


def explain(rule) -> str:
    """What `jira-pm rules explain ID` prints: title, documentation, then the rule's settings."""
    spec = rule.spec
    title = spec.doc.splitlines()[0].rstrip(".") if spec.doc else spec.name
    parts = [f"{rule.id} — {title}", ""]
    if rule.description:
        parts += [rule.description, ""]
    for heading, text in sections(spec).items():
        parts += [f"{heading}:", _indent(text), ""]
    parts += ["This rule:", *("  " + line for line in settings_lines(rule))]
    return "\n".join(parts) + "\n"


def rule_page(rule) -> str:
    """The Markdown page of one built-in rule (docs/rules/ID.md)."""
    from jira_pm.rulepack import toml_value

    spec = rule.spec
    title = spec.doc.splitlines()[0].rstrip(".") if spec.doc else spec.name
    lines = [f"# {rule.id}: {title}", "",
             f"Check `{spec.name}` · default severity `{rule.severity}` · "
             f"label `{rule.label}` · comments `{rule.comment_policy}`", ""]
    for heading, text in sections(spec).items():
        lines += [f"## {heading}", "", text, ""]
    lines += ["## Default settings", "", "```toml", "[[rule]]", f'id = "{rule.id}"',
              f'check = "{rule.check}"', f'severity = "{rule.severity}"',
              f'comment_policy = "{rule.comment_policy}"', "[rule.params]"]
    for key, value in sorted(rule.params.items()):
        lines.append(f"{key} = {toml_value(value)}")
    lines += ["```", "", "_Generated from the check's docstring by "
              "`python -m jira_pm.checks.docs docs/rules`._", ""]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else "" for line in text.splitlines())


def write_pages(folder: Path) -> list[Path]:
    """Write one page per built-in rule into ``folder``; returns the paths."""
    from jira_pm.rulepack import load_pack

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in load_pack(None).rules:
        path = folder / f"{rule.id}.md"
        path.write_text(rule_page(rule), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    for written_path in write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")):
        print(written_path)
