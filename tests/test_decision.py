"""The flowchart, checked against every combination of answers and an independent oracle."""

import itertools

import pytest

from bot.core.decision import decide, most_actionable, volume_answer
from bot.core.names import Verdict

VALUES = ("yes", "no", None)


def flowchart(human_waiting, volume, latency):
    """The brief's flowchart, transcribed literally for fully known answers."""
    if human_waiting == "yes":
        return "synchronous", "human_waiting"
    if volume == "no":
        return "synchronous", "volume"
    if latency == "yes":
        return "synchronous", "latency"
    return "batch-candidate", None


def oracle(answers):
    """Verdict over every way the unknown answers could turn out: decided only when they all agree."""
    unknown = [i for i, a in enumerate(answers) if a is None]
    outcomes = set()
    for filling in itertools.product(("yes", "no"), repeat=len(unknown)):
        full = list(answers)
        for index, value in zip(unknown, filling):
            full[index] = value
        outcomes.add(flowchart(*full)[0])
    return outcomes.pop() if len(outcomes) == 1 else "needs-answers"


@pytest.mark.parametrize("answers", list(itertools.product(VALUES, repeat=3)))
def test_every_combination_matches_the_flowchart(answers):
    human_waiting, volume, latency = answers
    decision = decide({"human_waiting": human_waiting, "volume": volume, "latency": latency})
    assert decision.verdict.value == oracle(answers)
    if decision.verdict is Verdict.SYNCHRONOUS:
        first_sync = next(q for q, a, s in zip(("human_waiting", "volume", "latency"), answers, ("yes", "no", "yes"))
                          if a == s)
        assert decision.reason == first_sync
        assert decision.path[-1].question == first_sync
    else:
        assert decision.reason is None
    if decision.verdict is Verdict.NEEDS_ANSWERS:
        assert decision.missing == tuple(q for q, a in zip(("human_waiting", "volume", "latency"), answers) if a is None)
    else:
        assert decision.missing == ()


def test_paths():
    assert [(s.question, s.answer) for s in decide({"human_waiting": "no", "volume": "yes", "latency": "no"}).path] == [
        ("human_waiting", "no"), ("volume", "yes"), ("latency", "no")]
    assert [(s.question, s.answer) for s in decide({"human_waiting": "yes"}).path] == [("human_waiting", "yes")]
    # Q1 unknown but Q2 decides: both branches of Q1 end synchronous.
    assert [(s.question, s.answer) for s in decide({"volume": "no"}).path] == [("human_waiting", None), ("volume", "no")]
    # needs-answers: the walk stops where the path forks.
    assert [(s.question, s.answer) for s in decide({"human_waiting": "no"}).path] == [
        ("human_waiting", "no"), ("volume", None)]


def test_missing_answers_do_not_count_as_no():
    assert decide({}).verdict is Verdict.NEEDS_ANSWERS
    assert decide({}).missing == ("human_waiting", "volume", "latency")


@pytest.mark.parametrize("per_day, threshold, expected", [
    (None, 300, None), (0, 300, "no"), (299, 300, "no"), (300, 300, "no"), (300.5, 300, "yes"),
    (301, 300, "yes"), (2000, 300, "yes"), (999, 1000, "no"), (1001, 1000, "yes"),
])
def test_volume_is_above_the_threshold_only_when_strictly_greater(per_day, threshold, expected):
    assert volume_answer(per_day, threshold) == expected


def test_most_actionable():
    assert most_actionable([]) is Verdict.NOT_APPLICABLE
    assert most_actionable([Verdict.SYNCHRONOUS, Verdict.NEEDS_ANSWERS]) is Verdict.NEEDS_ANSWERS
    assert most_actionable([Verdict.SYNCHRONOUS, Verdict.BATCH_CANDIDATE, Verdict.NEEDS_ANSWERS]) is Verdict.BATCH_CANDIDATE
    assert most_actionable([Verdict.SYNCHRONOUS]) is Verdict.SYNCHRONOUS
