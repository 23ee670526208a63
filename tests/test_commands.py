"""`/batch-review answer ...` in a PR's comments: parsing, who counts, and what the review makes of it."""

from dataclasses import replace
from datetime import date

import pytest

from bot.core.config import DEFAULT
from bot.core.commands import (CommandAnswer, Disagreement, Reply, answers, command_line, disagreements, exemption,
                               judge, parse_answers, reactions, replies)
from bot.core.names import ACCEPTED_FORMS, ANSWER_WORDS, REPLY_MARKER
from bot.core.render import render_reply
from bot.core.plan import Comment
from bot.core.workload import assess
from tests.checklists import PARTIAL, SYNCHRONOUS

AUTHOR = "alice"


def said(login, body, association="NONE", at="2026-01-01T00:00:00Z", comment_id=1):
    return Comment(comment_id, login, body, f"https://github.com/o/r/pull/1#issuecomment-{comment_id}", association, at)


@pytest.mark.parametrize("body, words", [
    ("/batch-review answer volume=no", "answer volume=no"),
    ("  /batch-review nobody waits\nthanks", "nobody waits"),
    ("/batch-review", ""),
    ("please /batch-review", None),
    ("/batch-reviewer answer", None),
    (None, None),
])
def test_command_line_reads_the_first_line_only(body, words):
    assert command_line(body) == words


def test_answer_pairs_any_subset_and_a_volume_number():
    assert parse_answers("answer human_waiting=no volume=2000 latency=no", 500) == {
        "human_waiting": ("no", None), "volume": ("yes", 2000.0), "latency": ("no", None)}
    assert parse_answers("answer Volume=100", 500) == {"volume": ("no", 100.0)}
    assert parse_answers("answer latency=maybe colour=blue human_waiting=yes", 500) == {"human_waiting": ("yes", None)}


@pytest.mark.parametrize("phrase, answer", list(ANSWER_WORDS.items()))
def test_visible_words_answer(phrase, answer):
    question, value = answer
    assert parse_answers(f"{phrase.title()}, thanks", 500) == {question: (value, None)}


def test_no_answer_in_other_words():
    assert parse_answers("please look again", 500) == {} and parse_answers("answer", 500) == {}


def test_who_counts_and_the_newest_per_person_and_question_wins():
    comments = (
        said("bob", "/batch-review answer latency=yes", "MEMBER", comment_id=1),
        said("mallory", "/batch-review answer latency=no", "CONTRIBUTOR", comment_id=2),  # ignored
        said(AUTHOR, "/batch-review nobody waits", "CONTRIBUTOR", comment_id=3),  # the author counts
        said("bob", "/batch-review answer latency=no volume=yes", "MEMBER", "2026-01-02T00:00:00Z", comment_id=4),
        said("carol", "Looks good", "OWNER", comment_id=5),
    )
    assert answers(comments, AUTHOR, 500) == (
        CommandAnswer("human_waiting", "no", None, AUTHOR, "author-command", comments[2].url, comments[2].updated_at),
        CommandAnswer("latency", "no", None, "bob", "reviewer-command", comments[3].url, "2026-01-02T00:00:00Z"),
        CommandAnswer("volume", "yes", None, "bob", "reviewer-command", comments[3].url, "2026-01-02T00:00:00Z"),
    )


def test_a_reviewers_command_beats_the_checklist_and_the_authors_command_counts_as_it():
    commands = answers((said("bob", "/batch-review answer human_waiting=no", "COLLABORATOR"),
                        said(AUTHOR, "/batch-review answer volume=2000 latency=no", comment_id=2)), AUTHOR, 500)
    (workload,) = assess(SYNCHRONOUS, commands=commands).workloads
    assert workload.decision.verdict.value == "batch-candidate"
    waiting, volume = workload.answers["human_waiting"], workload.answers["volume"]
    assert (waiting.source, volume.source, volume.per_day) == ("reviewer-command", "author-command", 2000.0)
    assert "bob" in waiting.detail and "#issuecomment-1" in waiting.detail and "2026-01-01" in waiting.detail


def test_reviewers_who_disagree_make_a_conflict():
    commands = answers((said("bob", "/batch-review someone waits", "MEMBER"),
                        said("carol", "/batch-review nobody waits", "OWNER", comment_id=2)), AUTHOR, 500)
    (workload,) = assess(PARTIAL, commands=commands).workloads
    assert [c.question for c in workload.conflicts] == ["human_waiting"]


def test_a_command_alone_makes_the_pr_a_workload_even_checklist_only():
    commands = answers((said("bob", "/batch-review nobody waits", "MEMBER"),), AUTHOR, 500)
    assert assess(None).workloads == ()
    assert len(assess(None, commands=commands, config=replace(DEFAULT, trigger="checklist-only")).workloads) == 1


def test_wrong_is_taken_from_anyone_newest_per_person():
    comments = (said("mallory", "/batch-review wrong: a chat endpoint"), said("bob", "/batch-review answer volume=no"),
                said("mallory", "/batch-review wrong   because", comment_id=3), said("eve", "/batch-review wrongly"))
    assert disagreements(comments) == (Disagreement("mallory", "because", comments[2].url, comments[2].updated_at),)


def test_an_exemption_longer_than_max_days_or_lapsed_is_not_taken():
    from_owner = (Comment(1, "carol", "/batch-review exempt until 2026-06-01: later", "u", "OWNER",
                          "2026-01-01T00:00:00Z"),)
    assert exemption(from_owner, 90, None).state == "too-long"
    assert exemption(from_owner, 200, None).state == "active"
    assert exemption(from_owner, 200, date(2026, 6, 2)).state == "lapsed"
    assert exemption((replace(from_owner[0], association="CONTRIBUTOR"),), 200, None) is None


# --- how a command is taken: reactions and replies -----------------------------------------------


@pytest.mark.parametrize("login, body, association, taken", [
    (AUTHOR, "/batch-review answer human_waiting=no volume=2k", "NONE", "taken"),
    ("bob", "/batch-review nobody waits, can wait", "MEMBER", "taken"),
    ("bob", "/batch-review", "COLLABORATOR", "taken"),  # alone: review again
    ("bob", "/batch-review wrong: a chat endpoint", "NONE", "taken"),  # anyone
    ("bob", "/batch-review exempt until 2027-03-31: launch", "OWNER", "taken"),
    (AUTHOR, "/batch-review exempt until 2027-03-31: launch", "CONTRIBUTOR", "not-allowed"),
    ("bob", "/batch-review exempt till March: launch", "OWNER", "not-understood"),
    ("bob", "/batch-review answer latency=maybe", "MEMBER", "not-understood"),
    ("bob", "/batch-review answer volume=2000 colour=blue", "MEMBER", "not-understood"),
    ("bob", "/batch-review answer volume=2000 please", "MEMBER", "not-understood"),
    ("bob", "/batch-review answer", "MEMBER", "not-understood"),
    (AUTHOR, "/batch-review it depends", "NONE", "not-understood"),
    ("mallory", "/batch-review nobody waits", "CONTRIBUTOR", "not-allowed"),
    ("mallory", "/batch-review", "NONE", "not-allowed"),
    ("bob", "thanks, /batch-review answer volume=no", "MEMBER", None),  # not on the first line's start
])
def test_each_command_is_taken_not_understood_or_not_allowed(login, body, association, taken):
    assert judge(said(login, body, association), AUTHOR, 300) == taken


def test_reactions_skip_our_own_comments_and_those_not_allowed():
    comments = [said("bob", "/batch-review can wait", "MEMBER", comment_id=1),
                said("bob", "/batch-review huh", "MEMBER", comment_id=2),
                said("mallory", "/batch-review nobody waits", comment_id=3),
                said("batch-review[bot]", "/batch-review", comment_id=4),
                said("carol", "just a comment", "OWNER", comment_id=5)]
    assert [(c.id, content) for c, content in reactions(comments, AUTHOR, 300, "batch-review[bot]")] == [
        (1, "+1"), (2, "confused")]


def test_one_reply_per_person_and_kind_ever_found_again_by_its_marker():
    comments = [said("mallory", "/batch-review nobody waits", comment_id=1),
                said("mallory", "/batch-review answer volume=no", comment_id=2),
                said("bob", "/batch-review whatever", "MEMBER", comment_id=3),
                said("bob", "/batch-review huh?", "MEMBER", comment_id=4)]
    owed = replies(comments, AUTHOR, 300, "me")
    assert [(r.kind, r.login, r.url) for r in owed] == [("not-allowed", "mallory", comments[0].url),
                                                        ("not-understood", "bob", comments[2].url)]
    posted = [said("me", render_reply(reply), comment_id=10 + i) for i, reply in enumerate(owed)]
    assert replies(comments + posted, AUTHOR, 300, "me") == ()
    assert replies(comments + posted, AUTHOR, 300, "someone-else")  # only our own replies count
    click = Reply("not-allowed", "Mallory", "https://github.com/o/r/runs/1", "button")
    assert replies(comments + posted, AUTHOR, 300, "me", clicks=(click,)) == ()  # logins ignore case


def test_a_reply_mentions_only_the_commenter_and_lists_the_accepted_forms():
    text = render_reply(Reply("not-understood", "bob", "https://github.com/o/r/pull/1#issuecomment-3"))
    assert text.startswith(f"{REPLY_MARKER}not-understood bob -->\n@bob: ")
    assert all(form in text for form in ACCEPTED_FORMS)
    assert "[your command](https://github.com/o/r/pull/1#issuecomment-3)" in text
    assert [word for word in text.split() if word.startswith("@")] == ["@bob:"]
    odd = render_reply(Reply("not-allowed", "x @team <b>", ""))  # no GitHub login looks like this: not mentioned
    assert "@team" not in odd.replace("@\u200b", "") and "<b>" not in odd and f"{REPLY_MARKER}not-allowed xteamb -->" in odd
