"""The App's check run buttons: which are offered (within GitHub's bounds) and what a click answers."""

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.app.events import REVIEW, Click, Task, route
from bot.core.buttons import (MAX_ACTIONS, MAX_DESCRIPTION, MAX_IDENTIFIER, MAX_LABEL, actions, answer_of, answers,
                              next_question, unchecked, with_click, with_roles)
from bot.core.commands import CommandAnswer, Disagreement, Reply, newest
from bot.core.decision import decide
from bot.core.names import BUTTONS, QUESTION_IDS, Verdict
from bot.core.workload import Answer, Assessment, Workload
from tests.conftest import FIXTURES

REQUESTED = json.loads((FIXTURES / "webhooks" / "check_run" / "requested_action.payload.json").read_text())
ANSWER = st.sampled_from(["yes", "no", None])


def review_of(answered, disagreed=False) -> Assessment:
    workloads = tuple(Workload("pull-request" if i == 0 else f"docs/{i}.md", decide(given_answers),
                               {q: Answer(v) for q, v in given_answers.items()}) for i, given_answers in enumerate(answered))
    return Assessment(workloads, disagreements=(Disagreement("mallory", "no"),) if disagreed else ())


def test_every_button_fits_githubs_bounds():
    for (question, value), (label, description) in BUTTONS.items():
        identifier = f"{question}={value}"
        assert len(label) <= MAX_LABEL and len(description) <= MAX_DESCRIPTION and len(identifier) <= MAX_IDENTIFIER
        assert answer_of(identifier) == (question, value)
    assert {question for question, _ in BUTTONS} == set(QUESTION_IDS)


@given(st.lists(st.fixed_dictionaries({q: ANSWER for q in QUESTION_IDS}), max_size=4), st.booleans())
def test_the_buttons_answer_the_next_question_that_decides_the_verdict(answered, disagreed):
    review = review_of(answered, disagreed)
    offered = actions(review)
    assert len(offered) <= MAX_ACTIONS
    for action in offered:
        assert set(action) == {"label", "description", "identifier"}
        assert len(action["label"]) <= MAX_LABEL and len(action["description"]) <= MAX_DESCRIPTION
        assert len(action["identifier"]) <= MAX_IDENTIFIER
    waiting = [w for w in review.workloads if w.decision.verdict is Verdict.NEEDS_ANSWERS]
    if disagreed or not waiting:
        assert offered == () and next_question(review) is None
        return
    question = waiting[0].decision.missing[0]  # the first workload's first question still open, flowchart order
    assert [answer_of(action["identifier"]) for action in offered] == [(question, "yes"), (question, "no")]
    assert all(waiting[0].answers[q].value is not None for q in QUESTION_IDS[:QUESTION_IDS.index(question)])


@given(st.text(max_size=30))
def test_only_our_identifiers_are_answers(text):
    found = answer_of(text)
    assert found is None or (found in BUTTONS and text == "=".join(found))


def test_the_newest_click_per_person_and_question_stands_and_roles_are_checked_once():
    kept = with_click(None, "bob", "volume", "no", "2026-01-01T00:00:00Z", "https://github.com/o/r/runs/1")
    kept = with_click(kept, "bob", "volume", "yes", "2026-01-02T00:00:00Z", "https://github.com/o/r/runs/1")
    kept = with_click(kept, "eve", "latency", "no", "2026-01-02T00:00:00Z", "https://github.com/o/r/runs/1")
    assert [(c["by"], c["value"]) for c in unchecked(kept)] == [("bob", "yes"), ("eve", "no")]
    assert answers(kept) == ((), ())  # nothing counts before the role is known
    kept = with_roles(kept, {("bob", "2026-01-02T00:00:00Z"): "reviewer", ("eve", "2026-01-02T00:00:00Z"): "none"})
    assert unchecked(kept) == []
    counted, refused = answers(kept)
    assert counted == (CommandAnswer("volume", "yes", None, "bob", "reviewer-button", "https://github.com/o/r/runs/1",
                                     "2026-01-02T00:00:00Z"),)
    assert refused == (Reply("not-allowed", "eve", "https://github.com/o/r/runs/1", "button"),)


def test_a_click_and_a_comment_newest_wins_per_person_and_question():
    comment = CommandAnswer("volume", "no", 100.0, "bob", "reviewer-command", "u", "2026-01-03T00:00:00Z")
    click = CommandAnswer("volume", "yes", None, "bob", "reviewer-button", "r", "2026-01-02T00:00:00Z")
    other = CommandAnswer("volume", "yes", None, "carol", "reviewer-button", "r", "2026-01-04T00:00:00Z")
    assert newest((comment,), (click, other)) == (comment, other)


def test_a_real_requested_action_routes_a_review_and_a_click():
    """octokit's example (electron's own button, `lgtm|26764`) is not ours; with our identifier it is a click."""
    assert route("check_run", REQUESTED).reason.endswith("is not one of batch-review's buttons")
    ours = {**REQUESTED, "requested_action": {"identifier": "human_waiting=no"}}
    routed = route("check_run", ours)
    assert routed.tasks == (Task(REVIEW, 690857, "electron/electron", "26764", repo_id=9384267),)
    assert routed.click == Click("electron/electron", 26764, "codebytere", "human_waiting", "no",
                                 "https://github.com/electron/electron/runs/1494503112")
    named = {**ours, "check_run": {**ours["check_run"], "external_id": "31"}}  # ours says which PR, forks too
    assert route("check_run", named).tasks[0].subject == "31"
    assert route("check_run", {**ours, "action": "rerequested"}).reason == "check_run rerequested is not handled"
    orphan = {**ours, "check_run": {**ours["check_run"], "pull_requests": []}}
    assert route("check_run", orphan).reason == "the check run names no pull request"
