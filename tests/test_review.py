"""The review recipe's pure core: a PR snapshot, config and identity in, every write as a value out."""

import dataclasses

import jsonschema
import pytest

from bot.core.config import DEFAULT, from_mapping
from bot.core import names
from bot.core.plan import as_last_seen, payload_is_current
from bot.core.names import COMMENT_MARKER, HEADLINES, VERDICT_LABELS, Verdict
from bot.core.plan import Comment, PullRequest, is_ours, plan
from bot.core.render import MAX_COMMENT, render_comment
from bot.core.workload import Label
from tests.checklists import CANDIDATE, DOC_TEMPLATE, PARTIAL, PR_TEMPLATE, SYNCHRONOUS, filled
from tests.conftest import load_schema

BOT = "github-actions[bot]"
CANDIDATE_LABEL = VERDICT_LABELS[Verdict.BATCH_CANDIDATE]
SYNC_LABEL = VERDICT_LABELS[Verdict.SYNCHRONOUS]
NEEDS_LABEL = VERDICT_LABELS[Verdict.NEEDS_ANSWERS]


def pull(body=CANDIDATE, **fields) -> PullRequest:
    return PullRequest(repo="octo/service", number=7, head_sha="a" * 40, body=body, author="author", **fields)


def config(**fields):
    return dataclasses.replace(DEFAULT, **fields)


def ours(text: str, comment_id: int = 1, author: str = BOT) -> Comment:
    return Comment(comment_id, author, text, f"https://github.com/octo/service/pull/7#issuecomment-{comment_id}")


def current_text(pr: PullRequest, cfg=DEFAULT) -> str:
    """What the sticky comment says once the plan for `pr` is written."""
    return plan(pr, cfg, BOT).comment_body


def test_first_review_creates_the_comment_and_the_verdict_label():
    result = plan(pull(), DEFAULT, BOT)
    assert result.review.verdict is Verdict.BATCH_CANDIDATE
    assert result.comment_body.startswith(COMMENT_MARKER) and result.comment_id is None
    assert result.add_labels == (CANDIDATE_LABEL,) and result.remove_labels == () and result.delete == ()
    assert not result.failed and result.conclusion == "neutral" and result.writes == 2
    assert COMMENT_MARKER not in result.summary and HEADLINES[Verdict.BATCH_CANDIDATE] in result.summary
    jsonschema.validate(result.document, load_schema("review.schema.json"))


def test_unchanged_rerun_writes_nothing():
    text = current_text(pull())
    result = plan(pull(labels=(Label(CANDIDATE_LABEL),), comments=(ours(text),)), DEFAULT, BOT)
    assert result.writes == 0 and result.comment_body is None
    assert result.sticky.id == 1  # its URL is still the step's comment-url


def test_edited_body_updates_the_same_comment():
    old = current_text(pull(PARTIAL))
    result = plan(pull(labels=(Label(NEEDS_LABEL),), comments=(ours(old, 41),)), DEFAULT, BOT)
    assert result.comment_id == 41 and result.comment_body != old
    assert result.add_labels == (CANDIDATE_LABEL,) and result.remove_labels == (NEEDS_LABEL,)


def test_duplicates_of_ours_are_deleted_and_the_oldest_kept():
    text = current_text(pull())
    result = plan(pull(comments=(ours("stale " + COMMENT_MARKER, 5), ours(text, 6), ours(text, 9))), DEFAULT, BOT)
    assert result.comment_id == 5 and result.comment_body == text
    assert result.delete == (6, 9)


def test_a_humans_comment_quoting_the_marker_is_never_ours():
    human = Comment(3, "alice", f"Why does it say {COMMENT_MARKER}?", "u")
    other_bot_comment = Comment(4, BOT, "Coverage went up", "u")  # our login, but not our comment
    assert not is_ours(human, BOT) and not is_ours(other_bot_comment, BOT)
    result = plan(pull(comments=(human, other_bot_comment)), DEFAULT, BOT)
    assert result.comment_id is None and result.comment_body and result.delete == ()


def test_identity_decides_which_comments_are_ours():
    text = current_text(pull())
    comments = (ours(text, 1, author="someone-else[bot]"), ours(text, 2, author="my-app[bot]"))
    result = plan(pull(comments=comments, labels=(Label(CANDIDATE_LABEL),)), DEFAULT, "my-app[bot]")
    assert result.writes == 0 and result.sticky.id == 2


@pytest.mark.parametrize("body", [PR_TEMPLATE, None, "", "Fixes a typo."])
def test_no_workload_no_comment_no_label(body):
    result = plan(pull(body), DEFAULT, BOT)
    assert result.review.verdict is Verdict.NOT_APPLICABLE and result.writes == 0


def test_a_pr_that_stops_qualifying_says_so_and_loses_its_label():
    old = current_text(pull())
    result = plan(pull(PR_TEMPLATE, labels=(Label(CANDIDATE_LABEL), Label("bug")), comments=(ours(old),)), DEFAULT, BOT)
    assert result.comment_id == 1 and "no longer carries a Claude workload" in result.comment_body
    assert result.remove_labels == (CANDIDATE_LABEL,) and result.add_labels == ()  # `bug` is not ours


def test_a_first_comment_on_a_pr_without_a_workload_never_says_no_longer():
    config = from_mapping({"comment_on": ["not-applicable"]})
    result = plan(pull(PR_TEMPLATE), config, BOT)
    assert "carries no Claude workload" in result.comment_body and "no longer" not in result.comment_body


def test_verdicts_outside_comment_on_get_only_the_label():
    result = plan(pull(SYNCHRONOUS), DEFAULT, BOT)
    assert result.comment_body is None and result.add_labels == (SYNC_LABEL,)
    commented = plan(pull(SYNCHRONOUS), config(comment_on=("synchronous",)), BOT)
    assert commented.comment_body.startswith(COMMENT_MARKER)


def test_an_existing_comment_is_kept_up_to_date_whatever_comment_on_says():
    old = current_text(pull())
    result = plan(pull(SYNCHRONOUS, labels=(Label(CANDIDATE_LABEL),), comments=(ours(old),)), DEFAULT, BOT)
    assert result.comment_id == 1 and HEADLINES[Verdict.SYNCHRONOUS] in result.comment_body
    assert result.add_labels == (SYNC_LABEL,) and result.remove_labels == (CANDIDATE_LABEL,)


@pytest.mark.parametrize("drafts, comment, label", [("comment", True, True), ("label-only", False, True),
                                                    ("skip", False, False)])
def test_draft_pull_requests_follow_drafts(drafts, comment, label):
    result = plan(pull(draft=True), config(drafts=drafts), BOT)
    assert (result.comment_body is not None) is comment
    assert (result.add_labels == (CANDIDATE_LABEL,)) is label
    assert result.skipped is (drafts == "skip")
    assert ("`drafts: skip`" in result.summary) is (drafts == "skip")


def test_a_label_only_draft_still_updates_an_existing_comment():
    old = current_text(pull(PARTIAL))
    result = plan(pull(draft=True, comments=(ours(old),)), config(drafts="label-only"), BOT)
    assert result.comment_id == 1 and result.comment_body


@pytest.mark.parametrize("fail_on, failed", [((), False), (("needs-answers",), False),
                                             (("batch-candidate",), True), (("needs-answers", "batch-candidate"), True)])
def test_fail_on(fail_on, failed):
    result = plan(pull(), config(fail_on=fail_on), BOT)
    assert result.failed is failed and result.conclusion == ("failure" if failed else "neutral")


def test_a_skipped_draft_never_fails():
    assert not plan(pull(draft=True), config(drafts="skip", fail_on=("batch-candidate",)), BOT).failed


def test_reviewer_labels_answer_and_are_credited():
    labels = (Label("batch/no-human-waiting", "reviewer"), Label("batch/high-volume", "reviewer"),
              Label("batch/can-wait", "reviewer"))
    result = plan(pull(PR_TEMPLATE, labels=labels), DEFAULT, BOT)
    assert result.review.verdict is Verdict.BATCH_CANDIDATE
    assert "reviewer label batch/can-wait (applied by reviewer)" in result.comment_body


def test_label_answers_from_reviewers_ignores_the_authors_labels():
    labels = (Label("batch/within-minutes", "author"),)
    result = plan(pull(CANDIDATE, labels=labels), config(label_answers_from="reviewers"), BOT)
    assert result.review.verdict is Verdict.BATCH_CANDIDATE
    assert "label_answers_from: reviewers" in result.comment_body
    counted = plan(pull(CANDIDATE, labels=labels), DEFAULT, BOT)
    assert counted.review.verdict is Verdict.SYNCHRONOUS


def test_design_docs_are_workloads_of_their_own():
    doc = filled(DOC_TEMPLATE, human_waiting="no", volume="yes", latency="no")
    result = plan(pull(PR_TEMPLATE, docs=(("docs/design/enrich.md", doc),)), DEFAULT, BOT)
    assert [w.source for w in result.review.workloads] == ["docs/design/enrich.md"]
    assert result.review.verdict is Verdict.BATCH_CANDIDATE and "docs/design/enrich.md" in result.comment_body


def test_config_problems_reach_the_comment_and_the_summary():
    problem = "octo/service:.github/batch-review.yml line 3: `drafts: 'sometimes'` is not allowed."
    result = plan(pull(), DEFAULT, BOT, problems=(problem,))
    assert "line 3" in result.comment_body and "line 3" in result.summary
    assert result.document["problems"] == [problem]


def test_a_one_megabyte_body_renders_within_githubs_limit():
    body = CANDIDATE + "\n" + ("lorem ipsum " * 90_000)
    result = plan(pull(body), DEFAULT, BOT)
    assert len(body) > 1_000_000 and len(result.comment_body) < MAX_COMMENT


def test_the_summary_is_the_comment_without_the_marker():
    result = plan(pull(), DEFAULT, BOT)
    assert result.summary == render_comment(result.review, DEFAULT, summary=True)
    shown = result.comment_body.removeprefix(COMMENT_MARKER + "\n").split("\n" + names.STATE_MARKER)[0]
    assert shown.rstrip("\n") == result.summary.rstrip("\n")


def test_a_replayed_payload_gains_our_verdict_label_and_keeps_a_reviewers_label():
    kept = {"pr": {"updated_at": "2026-01-01T00:00:00Z", "labels": ["batch/candidate"]}}
    pull = {"updated_at": "2026-01-01T00:00:00Z", "labels": [{"name": "batch/can-wait"}, {"name": "batch/needs-answers"}]}
    assert [label["name"] for label in as_last_seen(pull, kept)["labels"]] == ["batch/can-wait", "batch/candidate"]
    assert as_last_seen({**pull, "updated_at": "2026-01-02T00:00:00Z"}, kept)["labels"] == pull["labels"]
    assert payload_is_current("edited", pull, kept) and not payload_is_current("opened", {"updated_at": "2025"}, kept)
    assert payload_is_current("opened", pull, {}) and not payload_is_current("edited", pull, {})
