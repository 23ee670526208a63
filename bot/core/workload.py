"""Which workloads a PR holds, who answered each question, and the verdicts (pure)."""

from dataclasses import dataclass, field, replace
from typing import Optional

from bot.core import checklist
from bot.core.cost import Estimate, estimate
from bot.core.config import DEFAULT, Config
from bot.core.decision import Decision, decide, most_actionable, volume_answer
from bot.core.names import ANSWER_LABELS, BUTTON_SOURCES, COMMAND_SOURCES, QUESTION_IDS, SCHEMA_VERSION, Verdict
from bot.scan.model import BULK_SIGNALS, ScanResult

PR_SOURCE = "pull-request"


@dataclass(frozen=True)
class Label:
    name: str
    applied_by: Optional[str] = None  # login, when the PR's events say who


@dataclass(frozen=True)
class Answer:
    value: Optional[str] = None  # "yes", "no" or None
    per_day: Optional[float] = None
    source: Optional[str] = None  # label, reviewer-/author-command, reviewer-/author-button, checklist, design-doc, claude, diff
    detail: Optional[str] = None  # which label (and who applied it), which file, or who commented where and when


@dataclass(frozen=True)
class Conflict:
    question: str
    source: str
    detail: str


@dataclass(frozen=True)
class Workload:
    source: str  # PR_SOURCE or a design doc's path
    decision: Decision
    answers: dict  # question -> Answer
    conflicts: tuple = ()
    notes: tuple = ()
    suggested: Optional[Decision] = None  # from Claude's suggestions; never the verdict
    suggestions: dict = field(default_factory=dict)  # question -> Answer from Claude (source "claude"), unknowns only
    hints: tuple = ()  # scan.Call: the diff's calls to Claude and their signals; hints never answer
    cost: Optional[Estimate] = None  # the monthly figure, when the volume is known; never decides anything


@dataclass(frozen=True)
class Assessment:
    workloads: tuple = ()
    problems: tuple = ()  # config errors and other things the reader should fix
    labels_ignored: tuple = ()  # answer labels left out by `label_answers_from: reviewers`
    hygiene: tuple = ()  # scan.Hygiene on lines the diff changes: code already on batches that loses results
    disagreements: tuple = ()  # commands.Disagreement: `/batch-review wrong`; the bot stops asking
    exemption: Optional[object] = None  # commands.Exemption, active, lapsed or refused

    @property
    def exempt(self) -> bool:
        return self.exemption is not None and self.exemption.state == "active"

    @property
    def verdict(self) -> Verdict:
        return most_actionable(w.decision.verdict for w in self.workloads)

    @property
    def suggested_verdict(self) -> Optional[Verdict]:
        suggested = [w.suggested.verdict for w in self.workloads if w.suggested]
        return most_actionable(suggested) if suggested else None

    @property
    def savings_usd_month(self) -> Optional[float]:
        """What moving the batch candidates saves a month; None when none of them has a priced figure."""
        savings = [w.cost.saving for w in self.workloads
                   if w.decision.verdict is Verdict.BATCH_CANDIDATE and w.cost and w.cost.saving is not None]
        return sum(savings) if savings else None


def lead_hint(hints):
    """The call that best shows why the PR is a workload: one the diff adds, not batched, bulk signals first."""
    added = [call for call in hints if call.new and not call.batched]
    bulk = [call for call in added if any(s.id in BULK_SIGNALS for s in call.signals)]
    return (bulk or added or [None])[0]


def costed(workload: Workload, config: Config) -> Workload:
    """The workload with its monthly figure, priced at its lead call's model and max_tokens when the scan read them."""
    volume = workload.answers["volume"]
    return replace(workload, cost=estimate(volume.per_day, volume.value == "yes", threshold=config.volume_threshold,
                                                settings=config.cost, call=lead_hint(workload.hints)))


def _command_answer(command) -> Answer:
    return Answer(command.value, command.per_day, command.source, f"from {command.by} at {command.at}, {command.url}")


def _reviewer_answers(labels, commands) -> tuple:
    """question -> Answer from answer labels and reviewers' commands, plus conflicts where a question got both values."""
    found, conflicts = {}, []
    for label in labels:
        question, value = ANSWER_LABELS[label.name]
        by = f" (applied by {label.applied_by})" if label.applied_by else ""
        found.setdefault(question, []).append(Answer(value, None, "label", f"{label.name}{by}"))
    for command in commands:
        if command.source in (COMMAND_SOURCES["reviewer"], BUTTON_SOURCES["reviewer"]):
            found.setdefault(command.question, []).append(_command_answer(command))
    answers = {}
    for question, given in found.items():
        if len({a.value for a in given}) > 1:
            conflicts.append(Conflict(question, given[0].source, " and ".join(a.detail for a in given)))
        else:
            answers[question] = given[0]
    return answers, conflicts


def _checklist_answers(found: checklist.Checklist, source: str, detail: str, threshold: float) -> tuple:
    """question -> Answer from one text's checklist, with its conflicts and notes."""
    answers = {q: Answer(v, None, source, detail) for q, v in found.answers.items()}
    conflicts = [Conflict(q, source, f"both yes and no are ticked in {detail}") for q in found.conflicts]
    notes = []
    if found.volume_text is not None:
        per_day = found.per_day
        if per_day is None:
            notes.append(f"The volume in {detail} reads {found.volume_text[:80]!r}, which is not a number "
                         "we understand; write it like 2,000, 2k, ~1500/day or 50 per hour.")
        else:
            value = volume_answer(per_day, threshold)
            ticked = answers.get("volume")
            if ticked and ticked.value != value:
                notes.append(f"In {detail} the volume box says {ticked.value} but {per_day:g} requests a day "
                             f"is {'above' if value == 'yes' else 'not above'} the threshold of "
                             f"{threshold:g}; the number counts.")
            answers["volume"] = Answer(value, per_day, source, detail)
    return answers, conflicts, notes


def _workload(source, found, detail, labels, config, kind, commands=()) -> Workload:
    label_answers, label_conflicts = _reviewer_answers(labels, commands)
    text_answers, text_conflicts, notes = _checklist_answers(found, kind, detail, config.volume_threshold)
    text_answers.update({c.question: _command_answer(c) for c in commands
                         if c.source in (COMMAND_SOURCES["author"], BUTTON_SOURCES["author"])})
    answers = {q: label_answers.get(q) or text_answers.get(q) or Answer() for q in QUESTION_IDS}
    stated = text_answers.get("volume")
    if stated and stated.per_day is not None and answers["volume"].value == stated.value:
        answers["volume"] = replace(answers["volume"], per_day=stated.per_day)  # a label that agrees keeps the number
    decision = decide({q: a.value for q, a in answers.items()})
    return Workload(source, decision, answers, tuple(label_conflicts + text_conflicts), tuple(notes))


def assess(body: Optional[str], docs=(), labels=(), *, config: Config = DEFAULT,
           pr_author: Optional[str] = None, diff_workload: bool = False, problems=(),
           scan: Optional[ScanResult] = None, commands=()) -> Assessment:
    """The PR's workloads: its description's (when answered, labelled, or found in the diff) and each answered doc.

    `docs` is (path, text) pairs of changed design docs; `labels` are Label values (others are ignored);
    `diff_workload` says the diff adds a call to Claude; `scan` (the diff scan) implies it when it adds a
    call site or a bulk signal, and its calls attach to the PR's workload as hints. `commands` are
    commands.CommandAnswer values: a reviewer's counts as a label does, the author's as the checklist does.
    """
    diff_workload = diff_workload or bool(scan and scan.workload)
    answer_labels = [label for label in labels if label.name in ANSWER_LABELS]
    ignored = ()
    if config.label_answers_from == "reviewers" and pr_author:
        ignored = tuple(label for label in answer_labels if label.applied_by == pr_author)
        answer_labels = [label for label in answer_labels if label not in ignored]
    body_checklist = checklist.parse(body)
    has_pr_workload = {
        "always": True,
        "auto": body_checklist.answered or bool(answer_labels) or bool(commands) or diff_workload,
        "checklist-only": body_checklist.answered or bool(answer_labels) or bool(commands),
    }[config.trigger]
    workloads = []
    if has_pr_workload:
        workload = _workload(PR_SOURCE, body_checklist, "the PR description", answer_labels, config, "checklist",
                             commands)
        if scan:
            partial = (f"Only the first {config.scan.max_files} changed files that mention Claude were read "
                       "(setting scan.max_files); the diff scan is partial.",) if scan.partial else ()
            workload = replace(workload, hints=scan.calls, notes=workload.notes + partial)
        workloads.append(workload)
    for path, text in docs:
        found = checklist.parse(text)
        if found.answered:
            workloads.append(_workload(path, found, path, answer_labels, config, "design-doc", commands))
    hygiene = tuple(finding for finding in scan.hygiene if finding.changed) if scan else ()
    return Assessment(tuple(costed(w, config) for w in workloads), tuple(problems), ignored, hygiene)


def _answer_document(answer: Answer) -> dict:
    return {"value": answer.value, "per_day": answer.per_day, "source": answer.source, "detail": answer.detail}


def _hint_document(call) -> dict:
    """A call found in the diff; `source: "diff"` marks hints, which never answer a question."""
    return {"source": "diff", "path": call.path, "line": call.line, "api": call.api, "batched": call.batched,
            "new": call.new, "signals": [{"id": s.id, "description": s.description, "line": s.line, "path": s.path}
                                         for s in call.signals]}


def document(review: Assessment) -> dict:
    """The JSON document of a review (schemas/review.schema.json)."""
    signals = sorted({s.id for w in review.workloads for call in w.hints for s in call.signals})
    return {
        "schema_version": SCHEMA_VERSION,
        "exemption": ({"by": review.exemption.by, "reason": review.exemption.reason, "until": review.exemption.until,
                       "url": review.exemption.url, "paths": list(review.exemption.paths),
                       "pull_request": review.exemption.number or None} if review.exempt else None),
        "disagreements": [{**vars(d), "verdict": review.verdict.value, "signals": signals}
                          for d in review.disagreements],
        "verdict": review.verdict.value,
        "suggested_verdict": review.suggested_verdict and review.suggested_verdict.value,
        "problems": list(review.problems),
        "savings_usd_month": None if review.savings_usd_month is None else round(review.savings_usd_month, 2),
        "workloads": [
            {
                "source": w.source,
                "verdict": w.decision.verdict.value,
                "suggested_verdict": w.suggested and w.suggested.verdict.value,
                "reason": w.decision.reason,
                "answers": {q: _answer_document(w.suggestions.get(q, a)) for q, a in w.answers.items()},
                "missing": list(w.decision.missing),
                "conflicts": [vars(c) for c in w.conflicts],
                "notes": list(w.notes),
                "path": [{"question": s.question, "answer": s.answer} for s in w.decision.path],
                "hints": [_hint_document(call) for call in w.hints],
                "cost": w.cost and w.cost.document(),
            }
            for w in review.workloads
        ],
    }
