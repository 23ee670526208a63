"""One Jinja2 environment renders a review as the PR comment and the job summary (pure)."""

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from markupsafe import Markup as Safe  # text we built ourselves: rendered as is

from bot.core import cost, names
from bot.core.commands import reply_key
from bot.core.config import DEFAULT, Config
from bot.core.workload import PR_SOURCE, Assessment, lead_hint
from bot.scan.model import BULK_SIGNALS

MAX_COMMENT = 65_536  # GitHub's limit on a comment's characters
MAX_STATE = 24_000  # characters of hidden state a comment keeps, so that the comment always fits
_PACKAGE = Path(__file__).parent.parent  # bot/


def resource_dir(name: str) -> Path:
    """`templates/` or `handbook/`: inside the installed wheel, or beside the package in a checkout."""
    installed = _PACKAGE / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


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


@lru_cache(maxsize=4096)  # our own sentences (cost basis, scanner descriptions) repeat on every render
def with_code(text) -> Safe:
    """Our own text with `code` parts (the scanner's descriptions): text escaped, code in code spans."""
    parts = str(text).split("`")
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(code(part))
        elif part.strip():
            out.append((" " if part[0].isspace() else "") + escape(part) + (" " if part[-1].isspace() else ""))
        else:
            out.append(" " * bool(part))
    return Safe("".join(out))


# What the hidden state gives up, in order, when it is too large; each costs only work on the next review (the
# scan and the PR's last-seen facts are read again, Claude's answers asked again). The tokens spent on the PR
# stay to the end, so its budget holds.
_EXPENDABLE = (("scan",), ("pr",), ("inference", "answers"))


def _without(state: dict, path: tuple) -> dict:
    key, *inner = path
    if inner and isinstance(state.get(key), dict):
        return {**state, key: _without(state[key], tuple(inner))}
    return {name: value for name, value in state.items() if name != key}


def _smaller(state: dict):
    """The state, then ever smaller versions of it, down to nothing."""
    yield state
    for path in _EXPENDABLE:
        state = _without(state, path)
        yield state
    yield {}


def hidden_state(state: dict) -> str:
    """A hidden block of JSON for our own comment, at most MAX_STATE characters of it; `--` is escaped so no
    value can close the HTML comment."""
    texts = (json.dumps(smaller, separators=(",", ":"), sort_keys=True).replace("--", "-\\u002d")
             for smaller in _smaller(state))
    return f"{names.STATE_MARKER}{next(text for text in texts if len(text) <= MAX_STATE)} -->"


def read_state(body: str) -> dict:
    """The hidden state of one of our comments; {} when it has none or it cannot be read."""
    start = (body or "").rfind(names.STATE_MARKER)
    end = body.find(" -->", start) if start >= 0 else -1
    try:
        state = json.loads(body[start + len(names.STATE_MARKER):end]) if end >= 0 else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def fill(sentence: str, **values) -> Safe:
    """One of our sentences (names.py), its `code` parts in code spans, its {fields} filled with values made inert."""
    return Safe(str(with_code(sentence)).format(
        **{name: value if isinstance(value, (int, float)) else escape(value) for name, value in values.items()}))


@lru_cache(maxsize=4096)  # most printed strings are our own constants
def _escaped(text: str) -> Safe:
    return Safe(escape(text))


def _finalize(value):
    """Every string printed from a template is escaped unless it is Safe (macros, code spans, links)."""
    return _escaped(value) if isinstance(value, str) and not isinstance(value, Safe) else value


def _bytecode_cache() -> Optional[FileSystemBytecodeCache]:
    """Jinja's per-user cache of compiled templates: a `check` compiles comment.md.j2 once, not on every run."""
    try:
        return FileSystemBytecodeCache()
    except RuntimeError:  # no private temporary directory to be had: compile every time
        return None


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        bytecode_cache=_bytecode_cache(),
        loader=FileSystemLoader(str(resource_dir("templates"))),
        undefined=StrictUndefined,
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the package: no stat() of the file on every render
    )
    env.filters.update(code=code, url=url, with_code=with_code, fill=fill)
    env.globals.update(names=names, PR_SOURCE=PR_SOURCE, marker=Safe(names.COMMENT_MARKER), lead_hint=lead_hint,
                       BULK_SIGNALS=BULK_SIGNALS, cost_figure=cost.figure,
                       cost_note=names.COST_NOTE.format(days=cost.DAYS_A_MONTH))
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


def render_comment(review: Assessment, config: Config = DEFAULT, *, summary: bool = False, notices=(),
                   code_url: str = "", state: Optional[dict] = None, earlier: bool = False) -> str:
    """The sticky comment (or, with summary, the job summary), always under GitHub's size limit.

    `notices` (summary only) name the template's run notes: "read-only", "draft-skipped".
    `code_url` (`https://HOST/OWNER/REPO/blob/HEAD_SHA`) links the diff's hints to their lines;
    `state` (comment only) is kept in a hidden block, read back with `read_state`;
    `earlier`: the PR has our comment already, so a PR without a workload "no longer" carries one.
    """
    template = environment().get_template("comment.md.j2")
    hidden = "" if summary or state is None else "\n" + hidden_state(state) + "\n"
    for limit in (None, 10, 3, 1, 0):
        text = template.render(
            review=review,
            config=config,
            summary=summary,
            earlier=earlier,
            notices=notices,
            shown=review.workloads[:limit],  # [:None] is every one
            limit=limit,
            flowchart=_flowchart,
            code_url=code_url.rstrip("/"),
        ) + hidden
        if len(text) < MAX_COMMENT:
            return text
    raise AssertionError("the comment template alone exceeds GitHub's comment size")  # pragma: no cover


_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?\Z")  # GitHub's logins, bots' included


def render_reply(reply) -> str:
    """A reply to someone's command (commands.Reply): it mentions them, and only them; its marker keeps it unique."""
    who = f"@{reply.login}" if _LOGIN.match(reply.login) else escape(reply.login)
    subject = f"[{names.REPLY_SUBJECTS[reply.subject]}]({url(reply.url)})" if reply.url else names.REPLY_SUBJECTS[
        reply.subject]
    forms = "\n".join(f"- {form}" for form in names.ACCEPTED_FORMS)
    text = names.REPLIES[reply.kind].format(who=who, subject=subject, forms=forms)
    return f"{names.REPLY_MARKER}{reply.kind} {reply_key(reply.login)} -->\n{text}"
