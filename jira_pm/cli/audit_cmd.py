"""``jira-pm audit`` (findings from the store) and ``jira-pm rules list|explain``."""

from __future__ import annotations

from pathlib import Path

import click

from jira_pm.cli.common import echo, load_settings_from_ctx, note, open_store, project_keys
from jira_pm.cli.main import main
from jira_pm.errors import EXIT_FINDINGS, UsageError
from jira_pm.model import SEVERITIES, severity_rank

RULES_DIR = click.Path(exists=True, path_type=Path)


@main.command("audit")
@click.option("--project", "projects", multiple=True, callback=project_keys,
              help="Only findings in this project (repeatable).")
@click.option("--rule", "rule_ids", multiple=True, help="Only this rule id (repeatable).")
@click.option("--severity", type=click.Choice(SEVERITIES), default=None,
              help="Only findings at or above this severity.")
@click.option("--as-of", "as_of_text", default=None, metavar="DATE|DATETIME",
              help="Evaluate as of this moment (a date means the end of that day in the "
                   "configured time zone). Nothing is recorded.")
@click.option("--rules", "rules_dirs", multiple=True, type=RULES_DIR,
              help="Extra rule folder or file (read after [rules] paths). Nothing is recorded.")
@click.option("--no-record", is_flag=True,
              help="Only look: record nothing in the store, which is opened read-only.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]),
              default="table", show_default=True)
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="Exit 1 when a shown finding is at or above this severity (for CI).")
@click.pass_context
def audit(ctx, projects, rule_ids, severity, as_of_text, rules_dirs, no_record, fmt, fail_on):
    """Evaluate the rule pack on the store (no Jira needed) and print the findings.

    A plain audit records the findings in the store, so the next run knows
    what is new; --no-record, --as-of and --rules only look and record nothing.
    On a store this user may not write, audit records nothing and says so.
    """
    from jira_pm.calendar import calendar_from_settings
    from jira_pm.engine import evaluate_store
    from jira_pm.report import NAMELESS_FORMATS, lookup_from_store, render
    from jira_pm.rulepack import load_pack
    from jira_pm.runner import never_synced_error, require_synced

    settings = load_settings_from_ctx(ctx)
    pack = load_pack(settings, extra_paths=rules_dirs)
    known = {rule.id for rule in pack.rules}
    unknown = [rid for rid in rule_ids if rid not in known]
    if unknown:
        raise UsageError(f"--rule {unknown[0]} is not a rule of the pack",
                         hint="run `jira-pm rules list` for the rule ids")
    as_of = calendar_from_settings(settings).parse_as_of(as_of_text) if as_of_text else None
    # An audit of a store that was never synced would say "No findings" and pass a
    # CI gate; a wrong [store] path must fail loudly instead (and create no file).
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        raise never_synced_error(settings, "audit")
    record = as_of is None and not rules_dirs and not no_record
    conn, record = _open_for_audit(settings, record)
    try:
        require_synced(conn, settings, "audit")
        if conn.execute("SELECT COUNT(*) FROM issues").fetchone()[0] == 0:
            note(f"the store {settings.store_name} holds no issues: the scope matched none")
        evaluation = evaluate_store(conn, settings, pack, as_of, record=record)
        lookup = lookup_from_store(conn, settings, names=fmt not in NAMELESS_FORMATS)
    finally:
        conn.close()

    def shown(finding) -> bool:
        return (
            (not projects or finding.project_key in projects)
            and (not rule_ids or finding.rule_id in rule_ids)
            and (severity is None or severity_rank(finding.severity) >= severity_rank(severity))
        )

    # On stderr, so `--format json` stays parseable; a CI log still shows it.
    for problem in evaluation.problems:
        echo(f"jira-pm: notice: {problem}", err=True)
    findings = [f for f in evaluation.findings if shown(f)]
    status = {f.fingerprint: "new" for f in evaluation.new}
    resolved = [f for f in evaluation.resolved if shown(f)]
    click.echo(render(findings, fmt, status=status, resolved=resolved, as_of=evaluation.as_of,
                      lookup=lookup, width=output_width()), nl=False)
    if fail_on:
        failing = [f for f in findings if severity_rank(f.severity) >= severity_rank(fail_on)]
        if failing:
            for line in fail_on_lines(failing, fail_on):
                echo(line, err=True)
            ctx.exit(EXIT_FINDINGS)


FAIL_ON_LINES = 10  # findings named on stderr when --fail-on exits 1; the rest are counted


def fail_on_lines(failing, fail_on: str, limit: int = FAIL_ON_LINES) -> list[str]:
    """Why the exit code is 1: how many findings reached --fail-on, and which."""
    from jira_pm.report.rows import ordered
    from jira_pm.words import plural

    shown = ordered(failing)
    lines = [f"jira-pm: exit 1 because of {plural(len(shown), 'finding')} at or above "
             f"--fail-on {fail_on}:"]
    lines += [f"  {f.severity} {f.rule_id} {f.subject_type} {f.subject_name}"
              + (f" ({f.project_key})" if f.project_key else "") for f in shown[:limit]]
    if len(shown) > limit:
        lines.append(f"  ... and {len(shown) - limit:,} more (listed above)")
    return lines


def output_width() -> int:
    """The width the table must fit: $COLUMNS, else the terminal's, else DEFAULT_WIDTH.

    Output that is not a terminal (a pipe, a file, cron, CI) gets DEFAULT_WIDTH
    unless $COLUMNS says otherwise, so a log does not depend on who ran it.
    """
    import os
    import shutil
    import sys

    from jira_pm.report import DEFAULT_WIDTH

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def _open_for_audit(settings, record: bool):
    """The store, and whether this audit records: a read-only store is read, not refused."""
    from jira_pm.errors import StoreReadOnly
    from jira_pm.store.schema import is_writable

    if not record:
        return open_store(settings, readonly=True), False
    try:
        conn = open_store(settings)
    except StoreReadOnly:  # e.g. a read-only folder: sqlite cannot even start its WAL files
        conn = open_store(settings, readonly=True)
    else:
        try:
            writable = is_writable(conn)
        except BaseException:
            conn.close()
            raise
        if writable:
            return conn, True
    echo(f"jira-pm: notice: the store {settings.store_name} is read-only, so these findings "
         "are not recorded (pass --no-record to say that is meant)", err=True)
    return conn, False


@main.group("rules")
def rules_group():
    """The rule pack: list the rules, explain one."""


def _pack(ctx: click.Context, rules_dirs):
    """The pack of the config file when there is one, else the built-in pack alone."""
    from jira_pm.config import DEFAULT_CONFIG_NAME
    from jira_pm.rulepack import load_pack

    # main fills config_path from --config or $JIRA_PM_CONFIG (its envvar).
    explicit = (ctx.find_root().obj or {}).get("config_path")
    settings = None
    if explicit or Path(DEFAULT_CONFIG_NAME).is_file():
        settings = load_settings_from_ctx(ctx)
    return load_pack(settings, extra_paths=rules_dirs)


@rules_group.command("list")
@click.option("--rules", "rules_dirs", multiple=True, type=RULES_DIR,
              help="Extra rule folder or file to include.")
@click.pass_context
def rules_list(ctx, rules_dirs):
    """One line per rule: id, on/off, severity, label, check and title."""
    pack = _pack(ctx, rules_dirs)
    rows = [("ID", "ON", "SEVERITY", "LABEL", "CHECK", "TITLE")]
    for rule in sorted(pack.rules, key=lambda r: r.id):
        rows.append((rule.id, "yes" if rule.enabled else "no", rule.severity,
                     rule.label or "-", rule.check, rule.title))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


@rules_group.command("explain")
@click.argument("rule_id")
@click.option("--rules", "rules_dirs", multiple=True, type=RULES_DIR,
              help="Extra rule folder or file to include.")
@click.pass_context
def rules_explain(ctx, rule_id, rules_dirs):
    """Print a rule's documentation and its settings."""
    from jira_pm.checks.docs import explain

    pack = _pack(ctx, rules_dirs)
    try:
        rule = pack.get(rule_id)
    except KeyError:
        lowered = {r.id.lower(): r for r in pack.rules}
        rule = lowered.get(rule_id.lower())
        if rule is None:
            raise UsageError(f"no rule {rule_id!r} in the pack",
                             hint="run `jira-pm rules list` for the rule ids") from None
    echo(explain(rule).rstrip("\n"))
