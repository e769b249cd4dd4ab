"""A small SVG plotter for the report's charts: axes, date ticks, step lines and areas.

The report draws hundreds of charts on a large site (a burn-up per open
version, a spend chart per budget), and a plotting library costs about a
fifth of a second per figure; writing the few SVG elements these charts need
costs a millisecond. Presentation attributes only (no ``style``), text as
text, and the same data always gives the same SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

WIDTH, HEIGHT = 700, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 30, 30, 44
FONT = 'font-family="sans-serif" font-size="11" fill="#424242"'
_DAY_STEPS = (1, 2, 7, 14, 28, 56, 91, 182, 364, 728)


def nice_ticks(low: float, high: float, most: int = 5) -> list[float]:
    """Round values (1, 2, 2.5 or 5 times a power of ten) covering ``low``..``high``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value < high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _number(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0") if value != int(value) else f"{int(value):,}"


def _xy(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


@dataclass
class Plot:
    """One chart: x in days (or instants) from ``start`` to ``end``, y from ``low`` to ``high``."""

    start: date | datetime
    end: date | datetime
    low: float
    high: float
    height: int = HEIGHT
    width: int = WIDTH
    parts: list[str] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, colour, text)

    def __post_init__(self) -> None:
        self.start, self.end = _moment(self.start), _moment(self.end)
        self.yticks = nice_ticks(self.low, self.high)
        self.low, self.high = min(self.yticks[0], self.low), max(self.yticks[-1], self.high)
        if self.end <= self.start:
            self.end = self.start + timedelta(days=1)

    # --- scales -------------------------------------------------------------------------

    def x(self, when: date | datetime) -> float:
        moment = _moment(when)
        span = (self.end - self.start).total_seconds()
        fraction = (moment - self.start).total_seconds() / span
        return LEFT + fraction * (self.width - LEFT - RIGHT)

    def y(self, value: float) -> float:
        fraction = (value - self.low) / (self.high - self.low)
        return self.height - BOTTOM - fraction * (self.height - TOP - BOTTOM)

    # --- marks --------------------------------------------------------------------------

    def _steps(self, days: Sequence[date], values: Sequence[float]) -> list[tuple[float, float]]:
        """Corner points of a step line: each day's value holds until the next day.

        Only the days where the value changes make corners, so a long flat
        stretch is one segment.
        """
        points: list[tuple[float, float]] = []
        previous = None
        for day, value in zip(days, values, strict=True):
            if value != previous:
                py = self.y(value)
                px = self.x(day)
                if points:
                    points.append((px, points[-1][1]))
                points.append((px, py))
                previous = value
        if points:
            points.append((self.x(days[-1] + timedelta(days=1)), points[-1][1]))
        return points

    def step_line(self, days, values, colour: str, label: str | None = None,
                  dots: bool = False) -> None:
        if days:
            self._path(self._steps(days, values), colour)
        if dots:
            self._dots([(self.x(d), self.y(v)) for d, v in zip(days, values, strict=True)],
                       colour)
        self._legend("line", colour, label)

    def step_area(self, days, upper, lower, colour: str, opacity: float,
                  label: str | None = None) -> None:
        """The band between two step series (``lower`` None: down to zero)."""
        if days:
            lower = lower if lower is not None else [0.0] * len(days)
            top = self._steps(days, upper)
            bottom = list(reversed(self._steps(days, lower)))
            points = " ".join(f"{_xy(px)},{_xy(py)}" for px, py in top + bottom)
            self.parts.append(f'<polygon points="{points}" fill="{colour}" '
                              f'fill-opacity="{opacity}" stroke="none"/>')
        self._legend("area", colour, label)

    def line(self, moments, values, colour: str, label: str | None = None,
             dots: bool = False) -> None:
        points = [(self.x(m), self.y(v)) for m, v in zip(moments, values, strict=True)]
        self._path(points, colour)
        if dots:
            self._dots(points, colour)
        self._legend("line", colour, label)

    def vline(self, when, colour: str, label: str | None = None, dashed: bool = False) -> None:
        if self.start <= _moment(when) <= self.end:
            px = _xy(self.x(when))
            dash = ' stroke-dasharray="4 3"' if dashed else ""
            self.parts.append(f'<line x1="{px}" y1="{TOP}" x2="{px}" '
                              f'y2="{self.height - BOTTOM}" stroke="{colour}"{dash}/>')
        self._legend("dash" if dashed else "line", colour, label)

    def hline(self, value: float, colour: str, label: str | None = None,
              dashed: bool = False, width: float = 1) -> None:
        py = _xy(self.y(value))
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        self.parts.append(f'<line x1="{LEFT}" y1="{py}" x2="{self.width - RIGHT}" y2="{py}" '
                          f'stroke="{colour}" stroke-width="{width}"{dash}/>')
        self._legend("dash" if dashed else "line", colour, label)

    def span(self, first, last, colour: str, opacity: float, label: str | None = None) -> None:
        left = max(self.x(first), LEFT)
        right = min(self.x(last), self.width - RIGHT)
        if right > left:
            self.parts.append(
                f'<rect x="{_xy(left)}" y="{TOP}" width="{_xy(right - left)}" '
                f'height="{self.height - TOP - BOTTOM}" fill="{colour}" '
                f'fill-opacity="{opacity}"/>')
        self._legend("area", colour, label)

    def diamond(self, when, value: float, colour: str, label: str | None = None) -> None:
        px, py = self.x(when), self.y(value)
        self.parts.append(f'<polygon points="{_xy(px)},{_xy(py - 5)} {_xy(px + 5)},{_xy(py)} '
                          f'{_xy(px)},{_xy(py + 5)} {_xy(px - 5)},{_xy(py)}" fill="{colour}"/>')
        self._legend("dot", colour, label)

    def _dots(self, points: list[tuple[float, float]], colour: str) -> None:
        for px, py in points:
            self.parts.append(f'<circle cx="{_xy(px)}" cy="{_xy(py)}" r="2.5" fill="{colour}"/>')

    def _path(self, points: list[tuple[float, float]], colour: str) -> None:
        if points:
            d = "M" + " L".join(f"{_xy(px)},{_xy(py)}" for px, py in points)
            self.parts.append(f'<path d="{d}" fill="none" stroke="{colour}" '
                              f'stroke-width="1.5"/>')

    def _legend(self, kind: str, colour: str, label: str | None) -> None:
        if label:
            self.legend.append((kind, colour, label))

    # --- frame --------------------------------------------------------------------------

    def svg(self, title: str, y_label: str | None = None, date_format: str = "%d %b") -> str:
        """The finished chart; ``title`` is for screen readers."""
        frame = [self._grid(), *self.parts, self._axes(y_label, date_format), self._key()]
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
                f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img">'
                f"<title>{escape(title)}</title>{''.join(frame)}</svg>")

    def _grid(self) -> str:
        return "".join(f'<line x1="{LEFT}" y1="{_xy(self.y(t))}" x2="{self.width - RIGHT}" '
                       f'y2="{_xy(self.y(t))}" stroke="#e0e0e0" stroke-width="0.6"/>'
                       for t in self.yticks)

    def _axes(self, y_label: str | None, date_format: str) -> str:
        bottom = self.height - BOTTOM
        out = [f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#616161"/>',
               f'<line x1="{LEFT}" y1="{bottom}" x2="{self.width - RIGHT}" y2="{bottom}" '
               f'stroke="#616161"/>']
        for tick in self.yticks:
            out.append(f'<text x="{LEFT - 6}" y="{_xy(self.y(tick) + 4)}" text-anchor="end" '
                       f"{FONT}>{_number(tick)}</text>")
        for tick in self._xticks():
            px = _xy(self.x(tick))
            out.append(f'<line x1="{px}" y1="{bottom}" x2="{px}" y2="{bottom + 4}" '
                       f'stroke="#616161"/><text x="{px}" y="{bottom + 16}" '
                       f'text-anchor="middle" {FONT}>{tick.strftime(date_format)}</text>')
        if y_label:
            middle = _xy((TOP + bottom) / 2)
            out.append(f'<text x="12" y="{middle}" text-anchor="middle" '
                       f'transform="rotate(-90 12 {middle})" {FONT}>{escape(y_label)}</text>')
        return "".join(out)

    def _xticks(self) -> list[datetime]:
        """Midnights at a whole number of days (a week, two, four...), at most seven."""
        days = (self.end - self.start).total_seconds() / 86400
        step = next((s for s in _DAY_STEPS if days / s <= 7), _DAY_STEPS[-1])
        first = _moment(self.start.date())
        if first < self.start:
            first += timedelta(days=1)
        if step >= 7:  # weekly and longer steps start on a Monday
            first += timedelta(days=(7 - first.weekday()) % 7)
        ticks, tick = [], first
        while tick <= self.end:
            ticks.append(tick)
            tick += timedelta(days=step)
        return ticks

    def _key(self) -> str:
        out, px = [], float(LEFT)
        for kind, colour, text in self.legend:
            if kind in ("line", "dash"):
                dash = ' stroke-dasharray="4 3"' if kind == "dash" else ""
                out.append(f'<line x1="{_xy(px)}" y1="12" x2="{_xy(px + 16)}" y2="12" '
                           f'stroke="{colour}" stroke-width="2"{dash}/>')
            elif kind == "area":
                out.append(f'<rect x="{_xy(px)}" y="7" width="16" height="10" fill="{colour}" '
                           f'fill-opacity="0.5"/>')
            else:
                out.append(f'<circle cx="{_xy(px + 8)}" cy="12" r="4" fill="{colour}"/>')
            out.append(f'<text x="{_xy(px + 20)}" y="16" {FONT}>{escape(text)}</text>')
            px += 20 + 6.2 * len(text) + 14  # a generous average glyph width: no overlap
        return "".join(out)


def _moment(when: date | datetime) -> datetime:
    if isinstance(when, datetime):
        return when.replace(tzinfo=None)
    return datetime.combine(when, datetime.min.time())
