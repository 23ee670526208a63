"""The ready change on the pull request: a batch candidate's new loop as a GitHub suggested change."""

import requests

from bot.clients.github import ACTIONS_LOGIN
from bot.fix.model import DEFAULT_HELPER_IMPORT
from bot.fix.patch import fix_file
from bot.fix.suggest import ready_change
from bot.scan.model import ALL, FileChange
from bot.scan.scanner import scan
from tests.checklists import CANDIDATE, PR_TEMPLATE
from tests.test_action import NUMBER, REPO, TOKEN, action, comments_by, github, payload  # noqa: F401

PATH = "jobs/enrich.py"
JOB = """\
import anthropic

client = anthropic.Anthropic()


def main(rows):
    summaries = []
    for row in rows:
        response = client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": row}],
        )
        summaries.append(response.content[0].text)
    return summaries
"""
REVIEWS = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"
DELETE = "/repos/{owner}/{repo}/pulls/comments/{comment_id}"


def added(text: str) -> str:
    """The patch GitHub lists for a new file."""
    return f"@@ -0,0 +1,{text.count(chr(10))} @@\n+" + text.rstrip("\n").replace("\n", "\n+")


def open_pr(fake, text=JOB, body=CANDIDATE, head_sha="a" * 40):
    pull = fake.add_pull(REPO, NUMBER, body=body, author="Codertocat", head_sha=head_sha)
    fake.add_files(REPO, NUMBER, [(PATH, added(text))])
    fake.put_file(REPO, PATH, text, ref=head_sha)
    return pull


def review_comments(fake) -> list:
    return fake.repos[REPO].review_comments.get(NUMBER, [])


def committed(text: str, comment: dict) -> str:
    """The file after GitHub's "Commit suggestion" button and the one line the comment says to add."""
    lines = text.splitlines()
    suggested = comment["body"].split("```suggestion\n", 1)[1].split("\n```", 1)[0]
    lines[comment["start_line"] - 1:comment["line"]] = suggested.splitlines()
    lines.insert(1, DEFAULT_HELPER_IMPORT)  # "Add this line with the file's imports"
    return "\n".join(lines) + "\n"


def test_a_candidates_new_loop_gets_its_ready_change_as_one_suggestion_once(github, action):
    open_pr(github)
    assert action().outputs["verdict"] == "batch-candidate"
    (comment,) = review_comments(github)
    assert (comment["path"], comment["start_line"], comment["line"], comment["side"]) == (PATH, 8, 14, "RIGHT")
    assert comment["user"]["login"] == ACTIONS_LOGIN and comment["commit_id"] == "a" * 40
    assert f"Add this line with the file's imports: `{DEFAULT_HELPER_IMPORT}`" in comment["body"]
    after = fix_file(PATH, JOB, scan([FileChange(PATH, JOB, ALL)]).calls).after
    assert committed(JOB, comment) == after  # the button leaves the ready change
    compile(after, PATH, "exec")
    (review,) = [c for c in github.calls if c.route == REVIEWS]
    assert review.body["event"] == "COMMENT"

    github.calls.clear()
    action("pull_request", payload("pull_request/synchronize.payload.json"))
    action("pull_request", {**payload("pull_request/opened.payload.json"), "action": "edited"})
    assert review_comments(github) == [comment]  # never posted twice
    assert not [c for c in github.calls if c.route == REVIEWS]


def test_a_changed_loop_replaces_the_suggestion(github, action):
    pull = open_pr(github)
    action()
    (first,) = review_comments(github)
    changed = JOB.replace("max_tokens=100", "max_tokens=200")
    pull.head_sha = "b" * 40
    pull.files = []
    github.add_files(REPO, NUMBER, [(PATH, added(changed))])
    github.put_file(REPO, PATH, changed, ref=pull.head_sha)
    action("pull_request", payload("pull_request/synchronize.payload.json"))
    (second,) = review_comments(github)
    assert second["id"] != first["id"] and "max_tokens=200" in second["body"]
    assert [c.path.rsplit("/", 1)[-1] for c in github.calls if c.route == DELETE] == [str(first["id"])]


def test_no_suggestion_when_turned_off_or_not_a_candidate(github, action):
    github.put_file(REPO, ".github/batch-review.yml", "fix:\n  suggest: false\n")
    open_pr(github)
    assert action().outputs["verdict"] == "batch-candidate"
    assert review_comments(github) == [] and comments_by(github, ACTIONS_LOGIN)

    github.put_file(REPO, ".github/batch-review.yml", "")
    github.repos[REPO].pulls[NUMBER].body = PR_TEMPLATE
    github.repos[REPO].comments.clear()
    assert action().outputs["verdict"] == "needs-answers"
    assert review_comments(github) == []


def test_the_fake_refuses_lines_outside_one_hunk(github):
    open_pr(github, head_sha="c" * 40)
    github.repos[REPO].pulls[NUMBER].files = [{"filename": PATH, "status": "modified",
                                               "patch": "@@ -1,2 +1,2 @@\n a\n+b\n@@ -9,2 +9,2 @@\n c\n+d"}]
    url = f"{github.base_url}/repos/{REPO}/pulls/{NUMBER}/reviews"
    comment = {"path": PATH, "start_line": 2, "line": 9, "side": "RIGHT", "body": "x"}
    answer = requests.post(url, json={"event": "COMMENT", "comments": [comment]},
                           headers={"Authorization": f"token {TOKEN}"})
    assert answer.status_code == 422 and "must be part of the diff" in answer.text
    answer = requests.post(url, json={"event": "COMMENT", "comments": [{**comment, "start_line": 9, "line": 10}]},
                           headers={"Authorization": f"token {TOKEN}"})
    assert answer.status_code == 200


# --- what to post, pure -------------------------------------------------------------------------

def suggestion(patch, text=JOB):
    return ready_change(PATH, text, scan([FileChange(PATH, text, ALL)]).calls, patch, DEFAULT_HELPER_IMPORT)


def test_only_loops_in_the_changed_lines_and_within_one_hunk_are_suggested():
    assert suggestion(added(JOB)).start_line == 8
    assert suggestion("@@ -1,3 +1,3 @@\n-import os\n+import anthropic\n \n client = anthropic.Anthropic()") is None
    two_hunks = "@@ -6,4 +6,4 @@\n def main(rows):\n summaries = []\n+    for row in rows:\n x\n@@ -13,2 +13,2 @@\n a\n b"
    assert suggestion(two_hunks) is None  # the loop changed, but its lines span two hunks
    assert suggestion(None) is None


def test_a_backtick_in_the_code_gets_a_longer_fence():
    text = JOB.replace("content\": row}", "content\": f\"```{row}```\"}")
    body = suggestion(added(text), text).body
    assert "````suggestion\n" in body and body.count("````") == 2
