"""The report's charts: matplotlib figures saved as SVG text for inline use.

matplotlib is the well-kept, widely packaged choice that writes SVG with no
browser or JavaScript involved; it is imported here only, so no command but
`report` pays its import time. Text stays text (``svg.fonttype = none``) so
the page is searchable and small; a fixed hash salt and no date metadata make
the same data give the same SVG.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({
    "svg.fonttype": "none",
    "svg.hashsalt": "jira-pm",
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
})

TOTAL, DONE, RELEASE, FORECAST = "#5b6b7f", "#2e7d32", "#c62828", "#ef6c00"
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)


def _dates(values: list[str]) -> list[date]:
    return [date.fromisoformat(v[:10]) for v in values]


def _svg(fig) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    # Inline in HTML: no XML declaration or DOCTYPE before the <svg> element.
    return _PROLOGUE.sub("", out.getvalue(), count=1)


def _figure(width: float = 7.0, height: float = 2.8):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    return fig, ax


def burn_up(version: dict[str, Any]) -> str:
    """Total and completed scope per day, the release date, and the forecast as a range."""
    fig, ax = _figure()
    days = _dates(version["days"])
    unit = version["unit"]
    ax.step(days, version["total"], where="post", color=TOTAL, label=f"total scope ({unit})")
    ax.step(days, version["done"], where="post", color=DONE, label=f"completed ({unit})")
    ax.fill_between(days, version["done"], step="post", color=DONE, alpha=0.12)
    if version.get("release_date"):
        ax.axvline(date.fromisoformat(version["release_date"]), color=RELEASE, linestyle="--",
                   linewidth=1, label="release date")
    forecast = version.get("forecast") or {}
    if forecast.get("50") and forecast.get("95"):
        ax.axvspan(date.fromisoformat(forecast["50"]), date.fromisoformat(forecast["95"]),
                   color=FORECAST, alpha=0.18, label="forecast 50%–95%")
        if forecast.get("85"):
            ax.axvline(date.fromisoformat(forecast["85"]), color=FORECAST, linewidth=1,
                       label="forecast 85%")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    fig.autofmt_xdate()
    return _svg(fig)


def sprint_scope(sprint: dict[str, Any]) -> str:
    """Scope per day: baseline kept, re-estimates and additions stacked; removals below zero."""
    fig, ax = _figure()
    days = _dates(sprint["days"])
    grown = [max(v, 0.0) for v in sprint["re_estimated"]]
    ax.stackplot(days, sprint["baseline"], grown, sprint["added"],
                 colors=(TOTAL, FORECAST, RELEASE), alpha=0.75, step="post",
                 labels=("baseline", "re-estimated", "added"))
    ax.fill_between(days, [-v for v in sprint["removed"]], step="post", color="#9e9e9e",
                    alpha=0.6, label="removed")
    ax.axhline(0, color="#616161", linewidth=0.6)
    ax.set_ylabel(sprint["unit"])
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=4)
    fig.autofmt_xdate()
    return _svg(fig)


def budget(entry: dict[str, Any]) -> str:
    """Cumulative spend per week against the budget and warn lines, and the forecast."""
    fig, ax = _figure()
    weeks = _dates(entry["weeks"])
    unit = "hours" if entry["unit"] == "hours" else (entry.get("currency") or "money")
    ax.step(weeks, entry["cumulative"], where="post", color=TOTAL, marker="o", markersize=3,
            label=f"spent ({unit})")
    ax.axhline(entry["budget"], color=RELEASE, linewidth=1, label="budget")
    ax.axhline(entry["warn_line"], color=FORECAST, linestyle="--", linewidth=1, label="warn line")
    ax.plot([weeks[-1]], [entry["forecast"]], marker="D", color=FORECAST, linestyle="none",
            label="forecast at completion")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    fig.autofmt_xdate()
    return _svg(fig)


def trend(points: list[dict[str, Any]]) -> str:
    """Open findings after each run: a small line."""
    fig, ax = _figure(4.0, 1.4)
    ax.plot([datetime.fromisoformat(p["at"]) for p in points], [p["open"] for p in points],
            color=TOTAL, marker="o", markersize=2, linewidth=1)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=4))
    return _svg(fig)
