"""The backlog audit: documents in, findings and a report out (pure).

A document with an answered checklist is decided by it; one without (or whose checklist leaves the
verdict open) gets Claude's suggestions, which the report shows as such. The saving is estimated
where the volume is known, as on a pull request (bot/core/cost.py, the `cost` settings).
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from typing import Mapping, Optional

from bot.core import checklist
from bot.core.config import DEFAULT, Config
from bot.core.cost import CONFIGURED, DAYS_A_MONTH, Estimate, estimate, price
from bot.core.decision import Decision, decide
from bot.core.inference import PROMPT_VERSION, Prompt, Suggestion, attach, prepare
from bot.core.names import QUESTION_IDS, Verdict
from bot.core.render import environment
from bot.core.workload import Answer, Assessment, Workload, assess

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs cells that start like this


@dataclass(frozen=True)
class Document:
    name: str  # a path, or owner/name#number for a pull request
    text: str
    url: str = ""


@dataclass(frozen=True)
class Finding:
    document: Document
    workload: Workload  # answers and verdict from the checklist (or none); Claude's as suggestions
    asked: bool = False  # Claude was asked about it

    @property
    def decision(self) -> Decision:
        """The checklist's decision when it decides, else the one Claude's suggestions lead to."""
        decided = self.workload.decision
        if decided.verdict is not Verdict.NEEDS_ANSWERS or self.workload.suggested is None:
            return decided
        return self.workload.suggested

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def basis(self) -> str:
        if self.workload.decision.verdict is not Verdict.NEEDS_ANSWERS:
            return "checklist"
        return "suggested by Claude" if self.workload.suggested is not None else "open"

    @property
    def answers(self) -> dict:
        """question -> Answer: the checklist's, else Claude's suggestion, else unknown."""
        return {q: self.workload.suggestions.get(q, self.workload.answers[q]) for q in QUESTION_IDS}

    @property
    def per_day(self) -> Optional[float]:
        return self.answers["volume"].per_day

    def cost(self, config: Config) -> Optional[Estimate]:
        """The monthly figure, from the volume the checklist or Claude gave (a lower bound when only "above")."""
        volume = self.answers["volume"]
        return estimate(volume.per_day, volume.value == "yes", threshold=config.volume_threshold, settings=config.cost)


def custom_id(name: str) -> str:
    """A batch request id from a path or PR name: its readable tail and a hash, within `^[a-zA-Z0-9_-]{1,64}$`."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    readable = _UNSAFE_ID.sub("-", name).strip("-")
    if len(readable) > 40:  # keep the end (the file name), from a word boundary
        readable = readable[-40:].split("-", 1)[-1]
    return f"{readable}-{digest[:12]}" if readable else digest[:16]


def job_name(model: str, prompts: Mapping[str, Prompt]) -> str:
    """The helper job of one audit: the same documents, model and prompt resume the same job."""
    digest = hashlib.sha256(f"{model}\n{PROMPT_VERSION}".encode())
    for request_id in sorted(prompts):
        digest.update(f"\n{request_id}\n{prompts[request_id].cache_key(model)}".encode())
    return f"audit-{digest.hexdigest()[:20]}"


def checklist_workload(document: Document, config: Config = DEFAULT) -> Optional[Workload]:
    """The document's workload from its answered checklist, or None when the checklist is blank or missing."""
    if not checklist.parse(document.text).answered:
        return None
    (workload,) = assess(None, [(document.name, document.text)], config=config).workloads
    return workload


def to_ask(documents, config: Config = DEFAULT) -> dict:
    """custom_id -> Prompt for every document whose verdict is still open, with text left to show."""
    found = {}
    for document in documents:
        workload = checklist_workload(document, config)
        if workload is None or workload.decision.verdict is Verdict.NEEDS_ANSWERS:
            prompt = prepare([(document.name, document.text)], config.volume_threshold)
            if prompt.sources:
                found[custom_id(document.name)] = prompt
    return found


def finding(document: Document, config: Config = DEFAULT, suggestion: Optional[Suggestion] = None,
            notes: tuple = ()) -> Finding:
    """One document's finding, with Claude's suggestion (or the notes that say why there is none)."""
    workload = checklist_workload(document, config)
    if workload is None:
        workload = Workload(document.name, decide({}), {q: Answer() for q in QUESTION_IDS})
    review = attach(Assessment((workload,)), {document.name: suggestion} if suggestion else {},
                    {document.name: notes} if notes else {})
    return Finding(document, review.workloads[0], asked=suggestion is not None)


def monthly_tokens(finding: Finding, config: Config) -> Optional[float]:
    """Tokens a month the workload would send, when its volume is known."""
    figure = finding.cost(config)
    return figure and figure.requests_per_day * DAYS_A_MONTH * (figure.input_tokens + figure.output_tokens)


def monthly_saving(finding: Finding, config: Config) -> Optional[float]:
    """Dollars a month the batch discount saves, when the volume is known and the model priced."""
    figure = finding.cost(config)
    return figure and figure.saving


def evidence(finding: Finding) -> str:
    """The known answers on one line: the checklist's, then Claude's with their quotes."""
    ticked = [f"{q}={a.value}" for q, a in finding.workload.answers.items() if a.value is not None]
    quoted = [f"{q}={a.value} {a.detail.removeprefix(finding.document.name + ': ')}"
              for q, a in finding.workload.suggestions.items()]
    return "; ".join(part for part in (ticked and "checklist: " + ", ".join(ticked),
                                       quoted and "Claude: " + ", ".join(quoted)) if part)


def report(findings, config: Config, *, title: str, job: Optional[str] = None,
           usage: Optional[Mapping] = None) -> str:
    """The Markdown report (templates/audit.md.j2); `config.cost` prices the savings."""
    by_verdict = {verdict: [f for f in findings if f.verdict is verdict] for verdict in Verdict}
    candidates = sorted(by_verdict[Verdict.BATCH_CANDIDATE], key=lambda f: -(f.per_day or 0))
    savings = [monthly_saving(f, config) for f in candidates]
    return environment().get_template("audit.md.j2").render(
        title=title, findings=findings, candidates=candidates, by_verdict=by_verdict, Verdict=Verdict,
        settings=config.cost, job=job, usage=usage, evidence=evidence, asked=sum(f.asked for f in findings),
        figure=lambda f: f.cost(config), tokens=lambda f: monthly_tokens(f, config),
        total_saving=sum(s for s in savings if s is not None), price=price(config.cost.model, config.cost.prices),
        days=DAYS_A_MONTH, configured=CONFIGURED,
    )


CSV_COLUMNS = ("document", "url", "verdict", "basis", "human_waiting", "volume", "requests_per_day", "latency",
               "monthly_tokens", "monthly_saving_usd", "evidence", "notes")


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: no formula can start it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def report_csv(findings, config: Config) -> str:
    """One row per document, the same facts as the report."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        saving = monthly_saving(f, config)
        tokens = monthly_tokens(f, config)
        writer.writerow(_cell(value) for value in (
            f.document.name, f.document.url, f.verdict.value, f.basis,
            *(f.answers[q].value or "" for q in ("human_waiting", "volume")),
            "" if f.per_day is None else f"{f.per_day:g}", f.answers["latency"].value or "",
            "" if tokens is None else f"{tokens:.0f}", "" if saving is None else f"{saving:.2f}",
            evidence(f), " ".join(f.workload.notes)))
    return out.getvalue()

