"""``jira-pm sandbox serve``: run the local Jira-compatible site in the foreground."""

from __future__ import annotations

import re
import signal
import time
from typing import Any

import click

from jira_pm.cli.main import main
from jira_pm.errors import UsageError
from jira_pm.sandbox.limits import parse_limit


def _rate(value: str | None) -> float | None:
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/s)?\s*", value)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"--rate-limit {value!r} is not a rate",
                         hint="give requests per second, e.g. --rate-limit 10/s")
    return float(match.group(1))


def _limit(option: str, value: str | None, windows: tuple[str, ...] = ("s",)):
    """A Cloud limit option's value as (count, window seconds), or None when not given."""
    if value is None:
        return None
    try:
        return parse_limit(value, windows=windows)
    except ValueError:
        example = "1500/min" if "min" in windows else "10/s"
        raise UsageError(f"{option} {value!r} is not a limit",
                         hint=f"give a count per {' or '.join(windows)}, e.g. "
                              f"{option} {example}") from None


@main.group("sandbox")
def sandbox() -> None:
    """A local Jira-compatible server (Cloud or Data Center flavour) to try jira-pm safely."""


@sandbox.command("serve")
@click.option("--flavor", type=click.Choice(["cloud", "server"]), default="cloud",
              show_default=True, help="Which Jira to imitate.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8089, show_default=True, help="Port (0 = any free).")
@click.option("--issues", type=int, default=500, show_default=True,
              help="How many issues to generate (ignored with --data).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for data and faults.")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A scenario file (TOML or JSON; see docs/sandbox.md) instead of generated data.")
@click.option("--latency-ms", type=float, default=0, show_default=True,
              help="Every answer takes at least this long (building it counts toward it).")
@click.option("--rate-limit", default=None, help="Requests per second before 429s, e.g. 10/s.")
@click.option("--burst-limit", default=None,
              help="Cloud: requests per second to each endpoint and method, e.g. 10/s.")
@click.option("--issue-write-limit", default=None,
              help="Cloud: writes per second to one issue, e.g. 2/s.")
@click.option("--quota-limit", default=None,
              help="Cloud: requests per minute or hour for the whole site, e.g. 1500/min.")
@click.option("--near-limit-at", type=click.FloatRange(0, 1, max_open=True), default=0.2,
              show_default=True,
              help="Cloud: send X-RateLimit-NearLimit when less than this share of a "
                   "budget remains.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests answered with a 5xx.")
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of connections closed without an answer.")
@click.option("--max-results-cap", type=click.IntRange(1), default=1000, show_default=True,
              help="Largest search page the server flavour grants.")
@click.option("--retry-after", type=click.Choice(["seconds", "http-date"]), default="seconds",
              show_default=True, help="How 429 answers state Retry-After.")
@click.option("--search-lag-ms", type=click.IntRange(0), default=0, show_default=True,
              help="Cloud search sees changes only this long after they happen.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve https with this PEM certificate (needs --tls-key).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The PEM private key of --tls-cert.")
def serve(flavor, host, port, issues, seed, data_file, latency_ms, rate_limit, burst_limit,
          issue_write_limit, quota_limit, near_limit_at, error_rate, drop_rate, max_results_cap,
          retry_after, search_lag_ms, tls_cert, tls_key) -> None:
    """Serve a sandbox Jira until Ctrl-C; prints the URL and the credentials to use."""
    from jira_pm.sandbox import Sandbox

    if bool(tls_cert) != bool(tls_key):
        raise UsageError("--tls-cert and --tls-key go together",
                         hint="give both PEM files, or neither for plain http")
    burst = _limit("--burst-limit", burst_limit)
    issue_write = _limit("--issue-write-limit", issue_write_limit)
    quota = _limit("--quota-limit", quota_limit, ("min", "h"))
    if flavor == "server" and (burst or issue_write or quota):
        raise UsageError("--burst-limit, --issue-write-limit and --quota-limit are Jira "
                         "Cloud's limits",
                         hint="use --flavor cloud, or --rate-limit for Data Center's limiter")
    started = time.perf_counter()
    site = Sandbox(flavor=flavor, issues=issues, seed=seed, scenario=data_file,
                   latency_ms=latency_ms, rate_limit=_rate(rate_limit), error_rate=error_rate,
                   drop_rate=drop_rate, max_results_cap=max_results_cap,
                   retry_after=retry_after, host=host, port=port,
                   tls=(tls_cert, tls_key) if tls_cert else None, search_lag_ms=search_lag_ms,
                   burst_limit=burst[0] if burst else None,
                   issue_write_limit=issue_write[0] if issue_write else None,
                   quota_limit=quota, near_limit_at=near_limit_at)
    try:
        site.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}",
                         hint="pick another --port (0 = any free port)") from exc
    for line in banner_lines(site, time.perf_counter() - started):
        click.echo(line)
    # Ctrl-C stops, even when started in the background (which ignores SIGINT); so does
    # SIGTERM, the same clean way (the server thread is shut down, the port released).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("sandbox stopped")
    finally:
        site.stop()


def banner_lines(site: Any, ready_seconds: float) -> list[str]:
    """What `sandbox serve` prints first: the URL, the projects, and each user's login.

    Every user is listed with what logs in as them in this flavour (Cloud:
    JIRA_EMAIL and JIRA_API_TOKEN; Data Center: JIRA_PAT, or the e-mail and token
    for basic auth), so a rule pack can be tried as the admin, a plain user or
    the read-only account without reading the docs.
    """
    from jira_pm.words import noun, plural

    state = site.state
    lines = [f"Jira sandbox ({site.flavor}) with {plural(len(state.issues), 'issue')} at "
             f"{site.url} (ready in {ready_seconds:.1f}s)"]
    projects = ", ".join(f"{p.key} ({p.name})" for p in state.projects.values())
    lines.append(f"  {noun(len(state.projects), 'project')}: {projects or 'none'}")
    rows = [("user", "role", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT")]
    for user in state.users.values():
        role = "admin" if user.admin else "read-only" if user.readonly else "user"
        rows.append((user.name, role, user.email, user.api_token, user.pat))
    if site.flavor == "cloud":  # Cloud has no personal access tokens
        rows = [row[:4] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths,
                                                                        strict=True)).rstrip())
    lines.append(f"  counters: {site.url}/__sandbox/stats — Ctrl-C stops")
    return lines


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
