"""Reviews, scans and settings as plain text for a terminal (pure); colour only when asked."""

import json

from bot.core import names
from bot.core.config import DEFAULT, Config
from bot.core.cost import figure
from bot.core.names import TERMINAL, Verdict, plural
from bot.core.origins import DEFAULT_ORIGIN, Shown, settings
from bot.core.workload import PR_SOURCE, Assessment, Workload
from bot.scan.model import ALREADY_BATCHED

# ANSI Select Graphic Rendition codes, by what they mark.
_STYLES = {Verdict.BATCH_CANDIDATE: "1;34", Verdict.SYNCHRONOUS: "1;32", Verdict.NEEDS_ANSWERS: "1;33",
           Verdict.NOT_APPLICABLE: "1", "heading": "1", "warning": "33", "dim": "2"}


def colour_wanted(tty: bool, env) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    return tty and not env.get("NO_COLOR")


def _painter(colour: bool):
    """paint(text, style): the text in its style's ANSI colour when asked, else as it is."""
    return lambda text, style: f"\033[{_STYLES[style]}m{text}\033[0m" if colour else text


def _table(rows) -> list:
    """Columns padded to their widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip() for row in rows]


def _answer(answer) -> str:
    value = answer.value or "not answered"
    return value + (f" ({answer.per_day:,.0f} a day)" if answer.per_day is not None else "")


def _source(answer) -> str:
    return {"label": f"reviewer label {answer.detail}", "checklist": f"checklist in {answer.detail}",
            "design-doc": f"checklist in design doc {answer.detail}"}.get(
        answer.source, f"{answer.source}: {answer.detail}" if answer.source else "-")


def _where(path, line) -> str:
    return f"{path}:{line}" if line else path


def call_line(call) -> str:
    """`jobs/enrich.py:8  messages.create  inside a loop over `rows` (...)`: one call and its evidence."""
    described = [("already batched: " if s.id == ALREADY_BATCHED else "") + s.description
                 + (f" ({_where(s.path, s.line)})" if s.path else "") for s in call.signals]
    described += [(f"{d.signal} set aside: " if d.signal else "no bulk signal: ") + d.reason
                  + (f" (line {d.line})" if d.line else "") for d in call.dismissed]
    return f"{call.path}:{call.line}  {call.api}  {'; '.join(described) or 'no bulk signal'}"


def _workload(workload: Workload, config: Config, paint) -> list:
    decision = workload.decision
    lines = []
    if workload.hints:
        lines += [TERMINAL["hints"]] + [f"  {call_line(call)}" for call in workload.hints] + [""]
    if decision.verdict is Verdict.BATCH_CANDIDATE:
        lines.append(names.WHY[decision.verdict].format(threshold=config.volume_threshold))
    elif decision.verdict is Verdict.SYNCHRONOUS:
        lines.append(names.WHY[decision.verdict].format(reason=names.SYNC_REASONS[decision.reason]))
    else:
        lines.append(TERMINAL["depends"].format(questions=" ".join(names.QUESTIONS[q] for q in decision.missing)))
    rows = [("Question", "Answer", "From")] + [(names.QUESTIONS[q], _answer(workload.answers[q]),
                                                _source(workload.answers[q])) for q in names.QUESTION_IDS]
    table = _table(rows)
    lines += ["", paint(table[0], "heading")] + table[1:] + [""]
    steps = [f"{names.QUESTION_TITLES[s.question]}: {s.answer or 'unknown'}" for s in decision.path]
    end = TERMINAL["waiting"] if decision.verdict is Verdict.NEEDS_ANSWERS else names.HEADLINES[decision.verdict]
    lines.append(TERMINAL["path"].format(path=" -> ".join(steps + [end])))
    if workload.cost:
        lines.append(figure(workload.cost, decision.verdict is Verdict.BATCH_CANDIDATE))
        lines += [paint(f"  {line}", "dim") for line in workload.cost.basis]
    lines += [paint(TERMINAL["conflict"].format(question=names.QUESTIONS[c.question], detail=c.detail), "warning")
              for c in workload.conflicts]
    lines += [paint(note, "warning") for note in workload.notes]
    lines.append("")
    if decision.verdict is Verdict.BATCH_CANDIDATE:
        lines.append(TERMINAL["next-batch-candidate"].format(helper=config.links.helper))
    elif decision.verdict is Verdict.NEEDS_ANSWERS:
        where = "the description" if workload.source == PR_SOURCE else workload.source
        lines.append(TERMINAL["next-needs-answers"].format(where=where))
        lines += [f"  {names.QUESTION_TITLES[q]}: {names.LABEL_FOR_ANSWER[(q, 'yes')]} or "
                  f"{names.LABEL_FOR_ANSWER[(q, 'no')]}" for q in decision.missing]
    else:
        lines.append(names.NOTHING_TO_CHANGE)
    return lines


def review_text(review: Assessment, config: Config = DEFAULT, *, colour: bool = False) -> str:
    """What `batch-review check` prints: the verdict, then each workload's answers, path and next step."""
    paint = _painter(colour)
    lines = [paint(names.HEADLINES[review.verdict], review.verdict), ""]
    lines += [paint(problem, "warning") for problem in review.problems]
    if review.verdict is Verdict.NOT_APPLICABLE:
        lines.append(TERMINAL["not-applicable"])
    else:
        several = len(review.workloads) > 1
        if several:
            lines += [TERMINAL["workloads"].format(count=len(review.workloads)), ""]
        for workload in review.workloads:
            if several:
                source = "The pull request" if workload.source == PR_SOURCE else workload.source
                lines += [paint(f"{source}: {names.HEADLINES[workload.decision.verdict]}", workload.decision.verdict)]
            lines += _workload(workload, config, paint) + [""]
        lines.pop()
    if review.labels_ignored:
        lines += ["", TERMINAL["author-labels"].format(labels=", ".join(label.name for label in review.labels_ignored))]
    lines += ["", paint(TERMINAL["norm"].format(handbook=config.links.handbook), "dim")]
    return "\n".join(lines) + "\n"


def scan_text(calls, notes, hygiene=(), *, colour: bool = False) -> str:
    """What `batch-review scan` prints: each call with its evidence, the notes, the batch hygiene, then the totals."""
    paint = _painter(colour)
    lines = [paint(call_line(call), "warning") if call.bulk else call_line(call) for call in calls]
    lines += [paint(f"{note.path}: {note.text}", "dim") for note in notes]
    lines += [paint(TERMINAL["hygiene"].format(where=f"{h.path}:{h.line}", rule=h.rule, message=h.message), "warning")
              for h in hygiene]
    files = len({c.path for c in calls})
    lines.append(paint(TERMINAL["scan-total"].format(
        calls=plural(len(calls), "call"), files=plural(files, "file"),
        bulk=sum(1 for c in calls if c.bulk), batched=sum(1 for c in calls if c.batched))
        + (TERMINAL["scan-hygiene"].format(findings=plural(len(hygiene), "batch hygiene finding")) if hygiene else ""),
        "heading"))
    return "\n".join(lines) + "\n"


def config_text(shown: Shown, repo=None, *, local: bool = False, colour: bool = False) -> str:
    """What `batch-review config show` prints: the files read, any problems, then each setting and its origin."""
    paint = _painter(colour)
    named = f" for {repo}" if repo else ""
    files = ", ".join(f"{layer.location} ({layer.kind})" for layer in shown.layers)
    lines = [paint(TERMINAL["config-read"].format(repo=named, files=files) if files
                   else TERMINAL["config-none"].format(repo=named), "heading")]
    if shown.problems:
        lines += ["", paint(TERMINAL["config-problems"], "warning")] + [paint(f"  {p}", "warning")
                                                                          for p in shown.problems]
    rows = [("setting", "value", "from")] + [
        (key, item["value"] if isinstance(item["value"], str) and item["value"] else json.dumps(item["value"]),
         item["from"] if item["from"] == DEFAULT_ORIGIN else f"{item['file']} ({item['from']})")
        for key, item in settings(shown).items()]
    table = _table(rows)
    lines += ["", paint(table[0], "heading")] + table[1:]
    if local:
        lines += ["", paint(TERMINAL["config-local"], "dim")]
    return "\n".join(lines) + "\n"
