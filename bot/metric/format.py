"""Display formats of the metric: percent, tokens and chart geometry (dollars: core.cost)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


def percent(share: Optional[float]) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"


def tokens(count: int) -> str:
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if count >= size:
            return f"{count / size:.1f}{suffix}"
    return str(count)


# --- The chart ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    x: float
    y: float
    share: float
    label: str
    partial: bool = False  # drawn hollow


@dataclass(frozen=True)
class Chart:
    """The trend as geometry for an inline SVG: lines split where a month has no share."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    eligible: tuple  # tuple of segments, each a tuple of Point
    overall: tuple
    grid: tuple  # (y, label)
    ticks: tuple  # (x, label)


def chart(periods, width: int = 960, height: int = 280) -> Chart:
    left, right, top, bottom = 48, 16, 16, 36
    plot_width, plot_height = width - left - right, height - top - bottom
    step = plot_width / max(len(periods) - 1, 1)

    def lines(share_of):
        segments = [[]]
        for index, p in enumerate(periods):
            share = share_of(p)
            if share is None:
                segments.append([])  # a month without a share breaks the line
            else:
                segments[-1].append(Point(round(left + index * step, 1), round(top + plot_height * (1 - share), 1),
                                          round(100 * share, 1), p.label, p.partial))
        return tuple(tuple(segment) for segment in segments if segment)

    grid = tuple((round(top + plot_height * (1 - value / 100), 1), f"{value}%") for value in (0, 25, 50, 75, 100))
    ticks = tuple((round(left + index * step, 1), p.start.strftime("%b %y" if index == 0 or p.start.month == 1 else "%b"))
                  for index, p in enumerate(periods))
    return Chart(width, height, left, top, plot_width, plot_height,
                 lines(lambda p: p.eligible.share), lines(lambda p: p.overall.share), grid, ticks)


# --- CSV import --------------------------------------------------------------------------------
