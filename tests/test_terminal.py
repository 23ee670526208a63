"""The terminal text of a review (pure): several workloads, contradictions, ignored labels, colour."""

from bot.core.config import from_mapping
from bot.core.names import HEADLINES, NOTHING_TO_CHANGE, QUESTIONS, Verdict
from bot.core.terminal import colour_wanted, review_text
from bot.core.workload import Label, assess
from tests.checklists import CANDIDATE, DOC_TEMPLATE, SYNCHRONOUS, filled

DOC = filled(DOC_TEMPLATE, human_waiting="yes")


def test_several_workloads_each_get_a_heading_under_the_verdict():
    text = review_text(assess(CANDIDATE, [("docs/design/chat.md", DOC)]))
    lines = text.splitlines()
    assert lines[0] == HEADLINES[Verdict.BATCH_CANDIDATE]
    assert "2 workloads; the verdict above is the most actionable of them." in lines
    assert "The pull request: Batch candidate" in lines
    assert "docs/design/chat.md: Synchronous is fine" in lines
    assert NOTHING_TO_CHANGE in lines and "\033[" not in text


def test_contradictions_and_labels_left_out_are_shown():
    body = filled(human_waiting="no", volume="yes", latency="no").replace("- [ ] Yes: the result", "- [x] Yes: the result")
    text = review_text(assess(body))
    assert f'Contradicting answers to "{QUESTIONS["latency"]}": both yes and no are ticked' in text
    config = from_mapping({"label_answers_from": "reviewers"})
    ignored = review_text(assess(SYNCHRONOUS, labels=[Label("batch/can-wait", "author")], config=config,
                                 pr_author="author"))
    assert "not counted (label_answers_from: reviewers): batch/can-wait." in ignored


def test_colour_is_asked_for_and_never_with_no_color():
    coloured = review_text(assess(CANDIDATE), colour=True)
    assert coloured.startswith("\033[1;34mBatch candidate\033[0m\n")
    assert colour_wanted(True, {}) and not colour_wanted(False, {})
    assert not colour_wanted(True, {"NO_COLOR": "1"}) and colour_wanted(True, {"NO_COLOR": ""})
