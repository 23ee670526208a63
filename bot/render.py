"""One Jinja2 environment renders a review as the PR comment and the job summary (pure)."""

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup as Safe  # text we built ourselves: rendered as is

from bot import names
from bot.config import DEFAULT, Config
from bot.workload import PR_SOURCE, Review

MAX_COMMENT = 65_536  # GitHub's limit on a comment's characters
_PACKAGE = Path(__file__).parent


def resource_dir(name: str) -> Path:
    """`templates/` or `handbook/`: inside the installed wheel, or beside the package in a checkout."""
    installed = _PACKAGE / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


@lru_cache(maxsize=4096)  # most printed strings are our own constants
def escape(value) -> str:
    """PR text made inert: one line, Markdown and HTML escaped, no @mentions."""
    text = " ".join(str(value).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("@", "@\u200b")


def code(value) -> Safe:
    """An inline code span that no backtick in the value can break out of."""
    text = " ".join(str(value).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return Safe(f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}")


def url(value) -> Safe:
    return Safe(quote(str(value), safe=":/?#[]@!$&'*+,;=%~-._"))


def _finalize(value):
    """Every string printed from a template is escaped unless it is Safe (macros, code spans, links)."""
    return Safe(escape(value)) if isinstance(value, str) and not isinstance(value, Safe) else value


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(resource_dir("templates"))),
        undefined=StrictUndefined,
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(code=code, url=url)
    env.globals.update(names=names, PR_SOURCE=PR_SOURCE, marker=Safe(names.COMMENT_MARKER))
    return env


def _flowchart(decision) -> dict:
    """Mermaid node ids and edge indexes on the taken path (edges numbered as in the template)."""
    taken, unknown, edges = ["start"], [], [0]
    for index, step in enumerate(decision.path):
        node = f"q{index + 1}"
        if step.answer is None:
            unknown.append(node)
            continue
        synchronous = step.answer == names.SYNC_ANSWER[step.question]
        taken.append(node)
        edges.append(1 + 2 * index if synchronous else 2 + 2 * index)
        if synchronous:
            taken.append(f"s{index + 1}")
        elif index == len(names.QUESTION_IDS) - 1:
            taken.append("batch")
    return {"taken": taken, "unknown": unknown, "edges": edges}


CHECKLIST_INTROS = {
    "pull-request": "Only if this PR adds or changes a call to Claude: tick one box per question; leave it blank otherwise.",
    "design-doc": "Tick one box per question for the Claude workload this document proposes.",
}


def render_checklist(kind: str, handbook: str = names.HANDBOOK_URL) -> str:
    """The checklist section for a PR template (kind "pull-request") or a design doc ("design-doc")."""
    return environment().get_template("checklist.md.j2").render(
        intro=CHECKLIST_INTROS[kind], handbook=handbook, level=3 if kind == "pull-request" else 2)


def render_comment(review: Review, config: Config = DEFAULT, *, summary: bool = False, notices=()) -> str:
    """The sticky comment (or, with summary, the job summary), always under GitHub's size limit.

    `notices` (summary only) name the template's run notes: "read-only", "draft-skipped".
    """
    template = environment().get_template("comment.md.j2")
    for limit in (None, 10, 3, 1, 0):
        text = template.render(
            review=review,
            config=config,
            summary=summary,
            notices=notices,
            shown=review.workloads[:limit] if limit is not None else review.workloads,
            limit=limit,
            flowchart=_flowchart,
        )
        if len(text) < MAX_COMMENT:
            return text
    raise AssertionError("the comment template alone exceeds GitHub's comment size")  # pragma: no cover
