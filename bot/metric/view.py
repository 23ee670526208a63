"""The metric as people read it (pure): the dashboard page and the report."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup as Safe
from markupsafe import escape

from bot.core import cost, names
from bot.core.render import environment as markdown_environment
from bot.core.render import resource_dir
from bot.metric import compute as metric
from bot.metric import format as fmt


def sources(period: metric.Period) -> str:
    return " and ".join(metric.SOURCE_NAMES[source] for source in period.sources) or "no usage data"


FORMATS = {"percent": fmt.percent, "tokens": fmt.tokens, "dollars": cost.dollars, "sources": sources}


@lru_cache(maxsize=1)
def html_environment() -> Environment:
    """HTML escaping only (the Markdown environment's escaping would put backslashes into the page)."""
    env = Environment(loader=FileSystemLoader(str(resource_dir("templates"))), undefined=StrictUndefined,
                      autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["code_spans"] = code_spans
    return env


def code_spans(text: str) -> Safe:
    """Our own text with `code` parts: escaped, the parts between backticks in <code>."""
    parts = str(text).split("`")
    return Safe("".join(Safe("<code>%s</code>") % part if index % 2 else escape(part)
                        for index, part in enumerate(parts)))


def movement_text(movement: Optional[metric.Movement]) -> str:
    """Up, down or steady, said plainly; empty without two months to compare."""
    if movement is None:
        return ""
    return names.MOVEMENT[movement.direction].format(
        points=abs(movement.points), before=movement.before.label,
        before_share=fmt.percent(movement.before.eligible.share),
        after_share=fmt.percent(movement.after.eligible.share))


def _context(figures: metric.Figures) -> dict:
    return {"m": figures, "movement": movement_text(figures.movement), "names": names, "tiers": metric.TIERS, **FORMATS}


def dashboard(figures: metric.Figures, *, generated_at: datetime, sample: bool = False) -> str:
    """The page `GET /dashboard` serves: no script, the trend as an inline SVG."""
    return html_environment().get_template("dashboard.html.j2").render(
        **_context(figures), chart=fmt.chart(figures.months), generated_at=generated_at, sample=sample)


def report_title(figures: metric.Figures) -> str:
    return names.REPORT_TITLE.format(month=figures.focus.label)


def report_marker(figures: metric.Figures) -> str:
    return names.REPORT_MARKER.format(month=figures.focus.key)


def mermaid(periods) -> Safe:
    """The trend as a Mermaid `xychart-beta` (an issue cannot embed a local image): eligible line, then overall."""
    shown = [p for p in periods if p.eligible.share is not None or p.overall.share is not None]
    if not shown:
        return Safe("")

    def values(share_of):
        return ", ".join(f"{100 * (share_of(p) or 0):.1f}" for p in shown)

    return Safe("\n".join((
        "```mermaid",
        "xychart-beta",
        '    title "Batch share of token volume (%)"',
        "    x-axis [" + ", ".join(f'"{p.start:%b %y}"' for p in shown) + "]",
        '    y-axis "%" 0 --> 100',
        f"    line [{values(lambda p: p.eligible.share)}]",
        f"    line [{values(lambda p: p.overall.share)}]",
        "```",
    )))


def report(figures: metric.Figures) -> str:
    """The Markdown report for the monthly engineering retro (the focus month and the months before it)."""
    return markdown_environment().get_template("metric-report.md.j2").render(
        **_context(figures), marker=Safe(report_marker(figures)), title=report_title(figures),
        chart=mermaid(figures.months))
