"""The report's charts as inline SVG text (drawn by ``svgplot``), one function per chart.

Each takes the entry of report.json it draws, so a chart shows exactly the
numbers the JSON holds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from jira_pm.statusreport.svgplot import Plot

TOTAL, DONE, RELEASE, FORECAST, REMOVED = "#5b6b7f", "#2e7d32", "#c62828", "#ef6c00", "#9e9e9e"


def _dates(values: list[str]) -> list[date]:
    return [date.fromisoformat(v[:10]) for v in values]


def burn_up(version: dict[str, Any]) -> str:
    """Total and completed scope per day, the release date, and the forecast as a range."""
    days = _dates(version["days"])
    unit = version["unit"]
    forecast = version.get("forecast") or {}
    release = date.fromisoformat(version["release_date"]) if version.get("release_date") else None
    marks = [d for d in (release, *(_day(forecast.get(p)) for p in ("50", "85", "95"))) if d]
    end = max([days[-1] + timedelta(days=1), *(d + timedelta(days=1) for d in marks)])
    plot = Plot(days[0], end, 0.0, max(version["total"] + version["done"] + [1.0]))
    if forecast.get("50") and forecast.get("95"):
        plot.span(_day(forecast["50"]), _day(forecast["95"]) + timedelta(days=1), FORECAST,
                  0.18, "forecast 50%–95%")
    plot.step_area(days, version["done"], None, DONE, 0.12)
    plot.step_line(days, version["total"], TOTAL, f"total scope ({unit})")
    plot.step_line(days, version["done"], DONE, f"completed ({unit})")
    if release:
        plot.vline(release, RELEASE, "release date", dashed=True)
    if forecast.get("50") and forecast.get("95") and forecast.get("85"):
        plot.vline(_day(forecast["85"]), FORECAST, "forecast 85%")
    return plot.svg(f"Burn-up of {version['name']} in {unit}")


def sprint_scope(sprint: dict[str, Any]) -> str:
    """Scope per day: baseline kept, re-estimates and additions stacked; removals below zero."""
    days = _dates(sprint["days"])
    grown = [max(v, 0.0) for v in sprint["re_estimated"]]
    level1 = sprint["baseline"]
    level2 = [a + b for a, b in zip(level1, grown, strict=True)]
    level3 = [a + b for a, b in zip(level2, sprint["added"], strict=True)]
    removed = [-v for v in sprint["removed"]]
    plot = Plot(days[0], days[-1] + timedelta(days=1), min(removed + [0.0]),
                max(level3 + [1.0]))
    plot.step_area(days, level1, None, TOTAL, 0.75, "baseline")
    plot.step_area(days, level2, level1, FORECAST, 0.75, "re-estimated")
    plot.step_area(days, level3, level2, RELEASE, 0.75, "added")
    plot.step_area(days, removed, None, REMOVED, 0.6, "removed")
    plot.hline(0, "#616161", width=0.6)
    return plot.svg(f"Scope of {sprint['name']} in {sprint['unit']}", y_label=sprint["unit"])


def budget(entry: dict[str, Any]) -> str:
    """Cumulative spend per week against the budget and warn lines, and the forecast."""
    weeks = _dates(entry["weeks"])
    unit = "hours" if entry["unit"] == "hours" else (entry.get("currency") or "money")
    # Each point is the total at the end of its week (a Sunday): the week before it leads up.
    first = weeks[0] - timedelta(days=6)
    plot = Plot(first, weeks[-1] + timedelta(days=1), 0.0,
                max(entry["cumulative"] + [entry["budget"], entry["forecast"], 1.0]))
    plot.step_line(weeks, entry["cumulative"], TOTAL, f"spent ({unit})", dots=True)
    plot.hline(entry["budget"], RELEASE, "budget")
    plot.hline(entry["warn_line"], FORECAST, "warn line", dashed=True)
    plot.diamond(weeks[-1], entry["forecast"], FORECAST, "forecast at completion")
    return plot.svg(f"Spend of {entry['name']} in {unit}")


def trend(points: list[dict[str, Any]]) -> str:
    """Open findings after each run: a small line."""
    moments = [datetime.fromisoformat(p["at"]) for p in points]
    counts = [p["open"] for p in points]
    plot = Plot(moments[0], moments[-1], 0.0, max(counts + [1]), height=140, width=400)
    plot.line(moments, counts, TOTAL, dots=len(points) <= 60)
    return plot.svg("Open findings after each run")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
