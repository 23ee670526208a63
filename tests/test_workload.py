"""Workloads of a PR: the one rule, where answers come from, conflicts, notes and the JSON document."""

import jsonschema
import pytest

from bot.core.config import from_mapping
from bot.core.names import Verdict
from bot.core.workload import PR_SOURCE, Label, assess, document
from tests.checklists import CANDIDATE, DOC_TEMPLATE, PARTIAL, PR_TEMPLATE, SYNCHRONOUS, filled
from tests.conftest import load_schema

SCHEMA = load_schema("review.schema.json")


def check(review):
    jsonschema.validate(document(review), SCHEMA)
    return review


def test_untouched_template_and_no_labels_is_not_applicable():
    review = check(assess(PR_TEMPLATE))
    assert review.verdict is Verdict.NOT_APPLICABLE and review.workloads == ()
    assert assess(None).verdict is Verdict.NOT_APPLICABLE


def test_answered_checklist_is_the_prs_workload():
    review = check(assess(CANDIDATE))
    assert review.verdict is Verdict.BATCH_CANDIDATE
    (workload,) = review.workloads
    assert workload.source == PR_SOURCE
    assert {q: a.source for q, a in workload.answers.items()} == dict.fromkeys(workload.answers, "checklist")


def test_volume_field_alone_answers_and_is_compared_with_the_threshold():
    review = assess(filled(volume_text="2k"))
    answer = review.workloads[0].answers["volume"]
    assert (answer.value, answer.per_day) == ("yes", 2000)
    lower = assess(filled(volume_text="2k"), config=from_mapping({"volume_threshold": 5000}))
    assert lower.workloads[0].answers["volume"].value == "no"
    assert lower.verdict is Verdict.SYNCHRONOUS and lower.workloads[0].decision.reason == "volume"


def test_a_number_that_contradicts_the_box_counts_and_is_reported():
    review = assess(filled(volume="yes", volume_text="120/day"))
    workload = review.workloads[0]
    assert workload.answers["volume"].value == "no"
    assert "120 requests a day is not above the threshold of 300" in workload.notes[0]


def test_unreadable_volume_is_reported():
    workload = assess(filled(volume_text="loads")).workloads[0]
    assert workload.answers["volume"].value is None
    assert "'loads'" in workload.notes[0] and "2,000" in workload.notes[0]


def test_an_answer_label_alone_makes_a_workload():
    review = check(assess(PR_TEMPLATE, labels=[Label("batch/human-waiting", "rev")]))
    assert review.verdict is Verdict.SYNCHRONOUS
    answer = review.workloads[0].answers["human_waiting"]
    assert (answer.source, answer.detail) == ("label", "batch/human-waiting (applied by rev)")


def test_labels_beat_the_checklist():
    review = assess(SYNCHRONOUS, labels=[Label("batch/no-human-waiting"), Label("batch/high-volume"), Label("batch/can-wait")])
    assert review.verdict is Verdict.BATCH_CANDIDATE
    assert all(a.source == "label" for a in review.workloads[0].answers.values())


def test_unknown_and_verdict_labels_are_ignored():
    review = assess(PR_TEMPLATE, labels=[Label("bug"), Label("batch/candidate"), Label("batch/unknown")])
    assert review.verdict is Verdict.NOT_APPLICABLE


def test_contradicting_labels_are_reported_and_the_checklist_answers():
    labels = [Label("batch/human-waiting", "a"), Label("batch/no-human-waiting", "b")]
    workload = check(assess(SYNCHRONOUS, labels=labels)).workloads[0]
    assert workload.conflicts[0].question == "human_waiting" and workload.conflicts[0].source == "label"
    assert "applied by a" in workload.conflicts[0].detail and "applied by b" in workload.conflicts[0].detail
    assert workload.answers["human_waiting"].source == "checklist"


def test_both_boxes_ticked_is_a_reported_conflict():
    workload = check(assess(filled(human_waiting="yes") .replace("- [ ] No: nothing", "- [x] No: nothing"))).workloads[0]
    assert workload.decision.verdict is Verdict.NEEDS_ANSWERS
    assert [c.question for c in workload.conflicts] == ["human_waiting"]


def test_reviewers_only_ignores_the_authors_labels():
    config = from_mapping({"label_answers_from": "reviewers"})
    labels = [Label("batch/human-waiting", "author"), Label("batch/high-volume", "reviewer")]
    review = assess(PARTIAL, labels=labels, config=config, pr_author="author")
    answers = review.workloads[0].answers
    assert answers["human_waiting"].source == "checklist" and answers["volume"].source == "label"
    assert [label.name for label in review.labels_ignored] == ["batch/human-waiting"]
    # Only the author's label on a blank checklist: no workload.
    assert assess(PR_TEMPLATE, labels=labels[:1], config=config, pr_author="author").workloads == ()


def test_design_docs_with_answered_checklists_are_workloads_of_their_own():
    docs = [("docs/design/ingest.md", filled(DOC_TEMPLATE, human_waiting="no", volume="yes", latency="no")),
            ("docs/design/blank.md", DOC_TEMPLATE),
            ("rfcs/chat.md", filled(DOC_TEMPLATE, human_waiting="yes"))]
    review = check(assess(PR_TEMPLATE, docs))
    assert [w.source for w in review.workloads] == ["docs/design/ingest.md", "rfcs/chat.md"]
    assert review.verdict is Verdict.BATCH_CANDIDATE
    assert review.workloads[0].answers["human_waiting"].source == "design-doc"


def test_labels_answer_every_workload():
    docs = [("rfcs/a.md", filled(DOC_TEMPLATE, human_waiting="no", volume="yes"))]
    review = assess(PARTIAL, docs, labels=[Label("batch/within-minutes")])
    assert [w.decision.verdict for w in review.workloads] == [Verdict.SYNCHRONOUS, Verdict.SYNCHRONOUS]


@pytest.mark.parametrize("verdicts, expected", [
    ((SYNCHRONOUS, CANDIDATE), Verdict.BATCH_CANDIDATE),
    ((SYNCHRONOUS, PARTIAL), Verdict.NEEDS_ANSWERS),
    ((SYNCHRONOUS, SYNCHRONOUS), Verdict.SYNCHRONOUS),
])
def test_pr_verdict_is_the_most_actionable(verdicts, expected):
    body, doc = verdicts
    assert assess(body, [("rfcs/x.md", doc)]).verdict is expected


@pytest.mark.parametrize("trigger, body, diff, has_workload", [
    ("auto", PR_TEMPLATE, False, False), ("auto", PR_TEMPLATE, True, True), ("auto", PARTIAL, False, True),
    ("always", PR_TEMPLATE, False, True), ("always", None, False, True),
    ("checklist-only", PR_TEMPLATE, True, False), ("checklist-only", PARTIAL, False, True),
])
def test_trigger(trigger, body, diff, has_workload):
    review = assess(body, config=from_mapping({"trigger": trigger}), diff_workload=diff)
    assert bool(review.workloads) is has_workload


def test_document_shape():
    doc = document(assess(PARTIAL, problems=["broken"]))
    assert doc["schema_version"] == 2 and doc["verdict"] == "needs-answers" and doc["suggested_verdict"] is None
    assert doc["problems"] == ["broken"] and doc["savings_usd_month"] is None
    workload = doc["workloads"][0]
    assert workload["missing"] == ["volume", "latency"]
    assert workload["path"] == [{"question": "human_waiting", "answer": "no"}, {"question": "volume", "answer": None}]
    assert workload["answers"]["latency"] == {"value": None, "per_day": None, "source": None, "detail": None}
    assert workload["cost"] is None  # no volume, no figure
    jsonschema.validate(doc, SCHEMA)
