"""`batch-review action` end to end: real webhook payloads in, a fake GitHub API over HTTP answering."""

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

import jsonschema
import pytest

from bot.cli.action import act, parse_fail_on, triage
from bot.clients.github import ACTIONS_LOGIN, Pacing
from bot.core.config import DEFAULTS_USED
from bot.core.names import (ACCEPTED_FORMS, ACTION_NOTES, COMMENT_MARKER, EXEMPTION_NOTES, LABEL_STYLES, REPLIES,
                            REPLY_MARKER, WRONG_THANKS)
from bot.core.render import MAX_COMMENT, read_state
from tests.checklists import CANDIDATE, PARTIAL, PR_TEMPLATE, SYNCHRONOUS, filled
from tests.conftest import FIXTURES, load_schema
from tests.fake_github import NO_WAITS, SECONDARY_RATE_LIMIT, FakeGitHub

REPO, NUMBER, TOKEN = "Codertocat/Hello-World", 2, "actions-token"
PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"
FILES = "/repos/{owner}/{repo}/pulls/{pull_number}/files"
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
COMMENT = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
ISSUE_LABELS = "/repos/{owner}/{repo}/issues/{issue_number}/labels"
CONTENTS = "/repos/{owner}/{repo}/contents/{path}"


def payload(name: str) -> dict:
    return json.loads((FIXTURES / "webhooks" / name).read_text())


def opened(fake, action="opened") -> dict:
    """An `opened` delivery as GitHub sends it: the fixture, carrying the pull request as it is now."""
    pull = fake.repos[REPO].pulls.get(NUMBER) if REPO in fake.repos else None
    event = payload("pull_request/opened.payload.json")
    return {**event, "action": action, "pull_request": fake.pull_json(REPO, pull)} if pull else event


@dataclass
class Run:
    code: int
    outputs: dict
    summary: str
    log: str


def parse_outputs(text: str) -> dict:
    return {name: value for name, delimiter, value in re.findall(r"(?m)^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.S)}


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        fake.add_token(TOKEN)  # the Actions token: GET /user answers 403, it writes as github-actions[bot]
        fake.add_repo(REPO)
        yield fake
        assert fake.problems == []  # every route known, every request body valid against the OpenAPI subset


@pytest.fixture
def action(github, tmp_path, capsys):
    """Run the entry point on an event, as the composite action's last step does."""

    def run(event="pull_request", event_payload=None, *, fake=None, pacing=NO_WAITS, **env) -> Run:
        fake = fake or github
        event_path = tmp_path / "event.json"
        event_path.write_text(json.dumps(event_payload or opened(fake)))
        output, summary = tmp_path / "output", tmp_path / "summary"
        output.write_text("")
        summary.write_text("")
        environ = {"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REPOSITORY": REPO,
                   "GITHUB_API_URL": fake.base_url, "GITHUB_TOKEN": TOKEN, "GITHUB_OUTPUT": str(output),
                   "GITHUB_STEP_SUMMARY": str(summary), **env}
        code = act(environ, pacing)
        return Run(code, parse_outputs(output.read_text()), summary.read_text(), capsys.readouterr().out)

    return run


def pr(fake, body=CANDIDATE, **fields):
    fields.setdefault("author", "Codertocat")
    pull = fake.add_pull(REPO, NUMBER, body=body, **fields)
    fake.add_files(REPO, NUMBER, [(f"src/module_{i}.py", "@@ -1 +1 @@\n-a\n+b") for i in range(3)])
    return pull


def comments_by(fake, login):
    """`login`'s comments on the PR but replies to commands (see `replies_by`)."""
    return [c for c in fake.comments(REPO, NUMBER) if c["user"]["login"] == login and REPLY_MARKER not in c["body"]]


def replies_by(fake, login):
    """`login`'s replies to someone's command: (kind, the person it mentions) of each."""
    return [tuple(re.match(re.escape(REPLY_MARKER) + r"(\S+) (\S+) -->", c["body"]).groups())
            for c in fake.comments(REPO, NUMBER) if c["user"]["login"] == login and REPLY_MARKER in c["body"]]


# --- the review --------------------------------------------------------------------------------


def test_first_review_comments_labels_and_reports(github, action):
    pr(github)
    run = action()
    assert run.code == 0
    (comment,) = comments_by(github, ACTIONS_LOGIN)
    assert comment["body"].startswith(COMMENT_MARKER) and "Batch candidate" in comment["body"]
    assert github.repos[REPO].pulls[NUMBER].labels == ["batch/candidate"]
    color, description = LABEL_STYLES["batch/candidate"]
    assert github.repos[REPO].labels["batch/candidate"] == {"color": color, "description": description}
    writes = [route for method, route in github.routes() if method != "GET"]
    assert writes == [COMMENTS, ISSUE_LABELS, "/repos/{owner}/{repo}/labels/{name}"]  # applied, then styled once
    assert ("GET", PULL) not in github.routes()  # the opened payload is the pull request as it is
    assert run.outputs["verdict"] == "batch-candidate"
    assert run.outputs["comment-url"] == comment["html_url"]
    jsonschema.validate(json.loads(run.outputs["answers"]), load_schema("review.schema.json"))
    assert "Batch candidate" in run.summary and COMMENT_MARKER not in run.summary
    assert "::notice title=batch-review::Batch candidate (batch-candidate)" in run.log


def test_unchanged_rerun_makes_no_write(github, action):
    pr(github)
    action()
    github.calls.clear()
    run = action("pull_request", payload("pull_request/synchronize.payload.json"))
    assert github.writes == 0 and github.reads <= 6
    assert run.outputs["comment-url"] == comments_by(github, ACTIONS_LOGIN)[0]["html_url"]


def test_edited_body_updates_the_same_comment(github, action):
    pull = pr(github, PARTIAL)
    action()
    (first,) = comments_by(github, ACTIONS_LOGIN)
    assert "Needs answers" in first["body"]
    pull.body = CANDIDATE
    action("pull_request", {**payload("pull_request/opened.payload.json"), "action": "edited"})
    (updated,) = comments_by(github, ACTIONS_LOGIN)
    assert updated["id"] == first["id"] and "Batch candidate" in updated["body"]
    assert ("PATCH", COMMENT) in github.routes() and github.routes("POST").count(("POST", COMMENTS)) == 1
    assert github.repos[REPO].pulls[NUMBER].labels == ["batch/candidate"]  # needs-answers removed, one by one


def test_a_reviewers_label_answers_and_is_credited(github, action):
    pr(github, PARTIAL)
    github.apply_label(REPO, NUMBER, "batch/high-volume", by="a-reviewer")
    github.apply_label(REPO, NUMBER, "batch/can-wait", by="a-reviewer")
    event = {**payload("pull_request/labeled.payload.json"), "label": {"name": "batch/can-wait"}}
    run = action("pull_request", event)
    assert run.outputs["verdict"] == "batch-candidate"
    (comment,) = comments_by(github, ACTIONS_LOGIN)
    assert "reviewer label batch/can-wait (applied by a-reviewer)" in comment["body"]
    assert ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events") in github.routes()


def test_label_answers_from_reviewers_ignores_the_authors_labels(github, action):
    pr(github, CANDIDATE)
    github.put_file(REPO, ".github/batch-review.yml", "label_answers_from: reviewers\n")
    github.apply_label(REPO, NUMBER, "batch/within-minutes", by="Codertocat")  # the PR's author
    run = action("pull_request", {**payload("pull_request/labeled.payload.json"), "label": {"name": "batch/within-minutes"}})
    assert run.outputs["verdict"] == "batch-candidate"
    assert "label_answers_from: reviewers" in comments_by(github, ACTIONS_LOGIN)[0]["body"]


def test_other_labels_do_not_rerun_the_review(github, action):
    pr(github)
    run = action("pull_request", payload("pull_request/labeled.payload.json"))  # the label `bug`
    assert run.code == 0 and github.calls == []
    assert ACTION_NOTES["other-label"].format(label="bug") in run.log


def test_our_comment_is_found_on_a_later_page(github, action):
    pr(github)
    action()
    (ours,) = comments_by(github, ACTIONS_LOGIN)
    github.comments(REPO, NUMBER).clear()
    for i in range(230):
        github.add_comment(REPO, NUMBER, "chatty", f"comment {i}")
    github.comments(REPO, NUMBER).append({**ours, "body": ours["body"].replace("Batch candidate", "Stale")})
    github.calls.clear()
    action()
    pages = [c.query.get("page", "1") for c in github.calls if c.route == COMMENTS]
    assert pages == ["1", "2", "3"]
    assert comments_by(github, ACTIONS_LOGIN)[0]["body"] == ours["body"]
    assert github.routes("POST") == [] and github.routes("PATCH") == [("PATCH", COMMENT)]


def test_duplicate_marked_comments_are_deleted(github, action):
    pr(github)
    action()
    (ours,) = comments_by(github, ACTIONS_LOGIN)
    github.add_comment(REPO, NUMBER, ACTIONS_LOGIN, ours["body"])
    github.add_comment(REPO, NUMBER, ACTIONS_LOGIN, COMMENT_MARKER + "\nan older version")
    action()
    assert [c["id"] for c in comments_by(github, ACTIONS_LOGIN)] == [ours["id"]]
    assert github.routes("DELETE").count(("DELETE", COMMENT)) == 2


def test_the_jobs_own_token_needs_no_identity_call_and_a_current_payload_no_pull_read(github, action):
    pr(github)
    action(INPUT_ACTIONS_TOKEN="true")
    assert ("GET", "/user") not in github.routes() and ("GET", PULL) not in github.routes()
    github.calls.clear()
    rerun = action(INPUT_ACTIONS_TOKEN="true")  # the Actions UI's re-run replays the same payload
    assert github.writes == 0 and github.reads == 3  # comments and the two config files: nothing changed
    replayed = opened(github)
    github.repos[REPO].pulls[NUMBER].body = PARTIAL  # edited since, and reviewed on its `edited` event
    github.repos[REPO].pulls[NUMBER].updated_at = "2026-02-01T00:00:00Z"
    action("pull_request", opened(github, "edited"), INPUT_ACTIONS_TOKEN="true")
    github.calls.clear()
    action("pull_request", replayed, INPUT_ACTIONS_TOKEN="true")  # older than what our comment saw: read
    assert ("GET", PULL) in github.routes()
    assert rerun.outputs["verdict"] == "batch-candidate" and "Needs answers" in comments_by(github, ACTIONS_LOGIN)[0]["body"]


def test_a_humans_comment_containing_the_marker_is_never_touched(github, action):
    pr(github)
    human = github.add_comment(REPO, NUMBER, "alice", f"The bot hides {COMMENT_MARKER} in its comment.")
    action()
    assert github.comments(REPO, NUMBER)[0] == human
    assert len(comments_by(github, ACTIONS_LOGIN)) == 1
    assert not [c for c in github.calls if c.method in ("PATCH", "DELETE") and c.route in (COMMENT, COMMENTS)]


def test_a_label_added_by_someone_else_during_the_run_is_kept(github, action):
    pr(github)
    github.before("POST", COMMENTS, lambda fake: fake.apply_label(REPO, NUMBER, "bug", by="alice"))
    action()
    assert github.repos[REPO].pulls[NUMBER].labels == ["bug", "batch/candidate"]
    assert all(method != "PUT" for method, _ in github.routes())  # never replaces the whole label set


def test_a_verdict_label_that_exists_is_not_created_again(github, action):
    pr(github)
    github.repos[REPO].labels["batch/candidate"] = {"color": "000000", "description": "ours, recoloured"}
    action()
    assert ("POST", "/repos/{owner}/{repo}/labels") not in github.routes()
    assert github.repos[REPO].labels["batch/candidate"]["color"] == "000000"


def test_fork_pr_with_a_read_only_token_reports_in_the_summary(github, action):
    github.add_token("read-only", write=False)
    pr(github, fork="someone/Hello-World")
    run = action(GITHUB_TOKEN="read-only")
    assert run.code == 0 and github.comments(REPO, NUMBER) == []
    assert run.outputs["verdict"] == "batch-candidate" and run.outputs["comment-url"] == ""
    assert "Batch candidate" in run.summary and "pull_request_target" in run.summary
    assert "batch-review init --fork-safe" in run.summary
    assert ACTION_NOTES["read-only"] in run.log


def test_a_stale_edited_payload_is_not_trusted(github, action):
    edited = payload("third_party/angular-github-robot.pull_request.edited.json")["payload"]
    assert "checklist" not in (edited["pull_request"]["body"] or "")
    github.add_repo("ocombe/test")
    github.add_pull("ocombe/test", 10, body=CANDIDATE, author="ocombe")
    run = action("pull_request", edited, GITHUB_REPOSITORY="ocombe/test")
    assert run.outputs["verdict"] == "batch-candidate"
    stale = {**payload("pull_request/opened.payload.json"), "action": "edited"}
    stale["pull_request"] = {**stale["pull_request"], "body": CANDIDATE}
    pr(github, PR_TEMPLATE)  # the description as it is now: the checklist left blank
    assert action("pull_request", stale).outputs["verdict"] == "not-applicable"
    assert github.comments(REPO, NUMBER) == []


def test_github_enterprise_server_base_url(action):
    with FakeGitHub(prefix="/api/v3") as ghes:
        ghes.add_token(TOKEN)
        ghes.add_repo(REPO)
        pr(ghes)
        run = action(fake=ghes)
        assert run.code == 0 and ghes.base_url.endswith("/api/v3")
        assert len(ghes.comments(REPO, NUMBER)) == 1
        assert ghes.problems == [] and all(c.route for c in ghes.calls)


def test_a_broken_config_is_reported_and_the_defaults_apply(github, action):
    pr(github)
    github.put_file(REPO, ".github/batch-review.yml", "volume_threshold: 300\ndrafts: sometimes\n")
    run = action()
    (comment,) = comments_by(github, ACTIONS_LOGIN)
    for text in (comment["body"], run.summary):
        assert "line 2" in text and "drafts" in text and "comment, label-only, skip" in text
    assert run.outputs["verdict"] == "batch-candidate" and run.code == 0


def test_an_unknown_key_only_warns_and_the_rest_of_the_file_applies(github, action):
    pr(github)
    github.put_file(REPO, ".github/batch-review.yml", "colour: blue\nfail_on: [batch-candidate]\n")
    run = action()
    (comment,) = comments_by(github, ACTIONS_LOGIN)
    assert "line 1: \\`colour\\` is not a batch-review setting" in comment["body"]
    assert DEFAULTS_USED not in comment["body"] and run.code == 1  # the file's fail_on applies


def test_config_comes_from_the_default_branch_and_the_config_path_input(github, action):
    pr(github, SYNCHRONOUS)
    github.put_file(REPO, ".github/batch-review.yml", "comment_on: [synchronous]\n", ref=f"{NUMBER:040x}")  # PR head
    action()
    assert github.comments(REPO, NUMBER) == []  # the head's config does not count
    github.put_file(REPO, "ci/batch-review.yml", "comment_on: [synchronous]\n")
    action(INPUT_CONFIG_PATH="ci/batch-review.yml")
    assert len(comments_by(github, ACTIONS_LOGIN)) == 1


def test_design_docs_are_read_at_the_head_sha(github, action):
    pr(github, PR_TEMPLATE)
    doc = filled(human_waiting="no", volume="yes", latency="no")
    github.add_files(REPO, NUMBER, [("docs/design/enrich.md", None)])
    github.put_file(REPO, "docs/design/enrich.md", doc, ref=f"{NUMBER:040x}")
    run = action()
    assert run.outputs["verdict"] == "batch-candidate"
    (read,) = [c for c in github.calls if c.route == CONTENTS and "enrich" in c.path]
    assert read.query == {"ref": f"{NUMBER:040x}"}


def test_an_event_sent_by_the_bot_itself_does_nothing(github, action):
    pr(github)
    event = {**payload("pull_request/opened.payload.json"), "sender": {"login": ACTIONS_LOGIN, "type": "Bot"}}
    run = action("pull_request", event)
    assert run.code == 0 and github.routes() == [("GET", "/user")]


def test_a_pr_opened_by_another_bot_is_reviewed(github, action):
    pr(github, author="renovate[bot]", author_type="Bot")
    event = {**opened(github), "sender": {"login": "renovate[bot]", "type": "Bot"}}
    assert action("pull_request", event).outputs["verdict"] == "batch-candidate"
    assert len(comments_by(github, ACTIONS_LOGIN)) == 1


def command(body="/batch-review", association="MEMBER", login="hubot") -> dict:
    """The fixture's comment as a command on the PR (opened by Codertocat) from `login`."""
    event = payload("issue_comment/created.payload.json")
    event["issue"] = {**event["issue"], "number": NUMBER, "pull_request": {"url": "https://api.github.com/x"}}
    event["comment"] = {**event["comment"], "body": body, "author_association": association,
                        "user": {**event["comment"]["user"], "login": login}}
    return event


@pytest.mark.parametrize("event", [command(association="NONE"), command(association="CONTRIBUTOR"),
                                   command("/batch-reviewer"), command("please /batch-review")])
def test_a_command_from_a_non_member_or_no_command_is_ignored(github, action, event):
    pr(github)
    run = action("issue_comment", event)
    assert run.code == 0 and github.calls == []


def test_a_comment_on_an_issue_is_no_command(github, action):
    run = action("issue_comment", payload("issue_comment/created.payload.json"))
    assert run.code == 0 and github.calls == []


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_a_command_from_a_member_reruns_the_review(github, action, association):
    pr(github)
    run = action("issue_comment", command("/batch-review please look again", association))
    assert run.outputs["verdict"] == "batch-candidate" and len(comments_by(github, ACTIONS_LOGIN)) == 1


@pytest.mark.parametrize("drafts, comments, labels", [(None, 0, ["batch/candidate"]), ("comment", 1, ["batch/candidate"]),
                                                      ("skip", 0, [])])
def test_draft_pull_requests(github, action, drafts, comments, labels):
    pr(github, draft=True)
    if drafts:
        github.put_file(REPO, ".github/batch-review.yml", f"drafts: {drafts}\n")
    run = action("pull_request", payload("pull_request/converted_to_draft.with-installation.payload.json"))
    assert len(github.comments(REPO, NUMBER)) == comments
    assert github.repos[REPO].pulls[NUMBER].labels == labels
    assert run.outputs["verdict"] == "batch-candidate"
    assert ("`drafts: skip`" in run.summary) is (drafts == "skip")


def test_comment_on_decides_which_verdicts_get_a_comment(github, action):
    pr(github, SYNCHRONOUS)
    action()
    assert github.comments(REPO, NUMBER) == [] and github.repos[REPO].pulls[NUMBER].labels == ["batch/sync-ok"]
    github.put_file(REPO, ".github/batch-review.yml", "comment_on: [synchronous]\n")
    action()
    assert "Synchronous is fine" in comments_by(github, ACTIONS_LOGIN)[0]["body"]


def test_fail_on_fails_the_job_only_when_asked(github, action):
    pr(github)
    assert action().code == 0
    run = action(INPUT_FAIL_ON="needs-answers, batch-candidate")
    assert run.code == 1 and ACTION_NOTES["failed"].format(verdict="batch-candidate") in run.log
    assert action(INPUT_FAIL_ON="synchronous").code == 0
    github.put_file(REPO, ".github/batch-review.yml", "fail_on: [batch-candidate]\n")
    assert action().code == 1


def test_a_bad_fail_on_input_is_ignored_with_a_warning(github, action):
    pr(github)
    run = action(INPUT_FAIL_ON="batch-candidat")
    assert run.code == 0 and "::warning title=batch-review::The fail-on input 'batch-candidat'" in run.log


@pytest.mark.parametrize("text, verdicts", [("", None), ("  ", None), ("needs-answers", ["needs-answers"]),
                                            ("[batch-candidate, synchronous]", ["batch-candidate", "synchronous"]),
                                            ("needs-answers\nsynchronous\n", ["needs-answers", "synchronous"])])
def test_parse_fail_on(text, verdicts):
    assert parse_fail_on(text) == verdicts


def test_a_null_body_is_no_workload(github, action):
    pr(github, None)
    run = action("pull_request", payload("pull_request/opened.with-null-body.json"))
    assert run.code == 0 and run.outputs["verdict"] == "not-applicable" and github.writes == 0


def test_a_one_megabyte_body(github, action):
    pr(github, CANDIDATE + "\n" + "x" * 1_000_000)
    run = action()
    assert run.outputs["verdict"] == "batch-candidate"
    assert len(comments_by(github, ACTIONS_LOGIN)[0]["body"]) < MAX_COMMENT


def test_three_thousand_changed_files(github, action):
    pr(github, PR_TEMPLATE)
    github.add_files(REPO, NUMBER, [(f"pkg/file_{i}.py", "@@ -1 +1 @@\n+x") for i in range(2_996)])
    github.add_files(REPO, NUMBER, [("rfcs/0001-enrich.md", None)])  # the last of 3,000, on the last page
    github.put_file(REPO, "rfcs/0001-enrich.md", filled(human_waiting="yes"), ref=f"{NUMBER:040x}")
    run = action()
    assert len([c for c in github.calls if c.route == FILES]) == 30
    assert run.outputs["verdict"] == "synchronous"


def test_forty_earlier_comments(github, action):
    pr(github)
    for i in range(40):
        github.add_comment(REPO, NUMBER, f"user{i % 4}", f"comment {i}" + (f" {COMMENT_MARKER}" if i % 10 == 0 else ""))
    action()
    assert len(github.comments(REPO, NUMBER)) == 41 and len(comments_by(github, ACTIONS_LOGIN)) == 1


# --- when GitHub misbehaves --------------------------------------------------------------------


def test_rate_limits_and_server_errors_are_retried_then_succeed(github, action):
    pr(github)
    github.fail("GET", PULL, 502, times=2)
    github.fail("GET", FILES, 429, headers={"Retry-After": "0"})
    github.fail("POST", COMMENTS, 403, headers={"Retry-After": "0"}, message=SECONDARY_RATE_LIMIT)
    github.fail("POST", ISSUE_LABELS, 500)
    run = action("pull_request", opened(github, "edited"))  # an edited payload: the PR is read
    assert run.code == 0 and run.outputs["verdict"] == "batch-candidate"
    assert len(comments_by(github, ACTIONS_LOGIN)) == 1  # the rate-limited POST was retried, not lost or doubled
    statuses = [(c.route, c.status) for c in github.calls]
    assert statuses.count((PULL, 502)) == 2 and (FILES, 429) in statuses and (COMMENTS, 403) in statuses
    assert github.repos[REPO].pulls[NUMBER].labels == ["batch/candidate"]


def test_a_secondary_rate_limit_without_retry_after_waits_and_retries(github, action):
    pr(github)
    github.fail("GET", COMMENTS, 403, message=SECONDARY_RATE_LIMIT)
    assert action().outputs["verdict"] == "batch-candidate"


def test_retry_after_is_honoured(github, action):
    pr(github)
    github.fail("GET", PULL, 429, headers={"Retry-After": "1"})
    action("pull_request", opened(github, "edited"), pacing=Pacing(backoff=0, max_retry_after=1, between_requests=0, between_writes=0))
    first, second = [c.at for c in github.calls if c.route == PULL][:2]
    assert second - first >= 0.9


def test_retries_are_bounded_and_never_fail_the_job(github, action):
    pr(github)
    github.fail("GET", PULL, 503, times=50)
    run = action("pull_request", opened(github, "edited"))  # an edited payload: the PR is read
    assert run.code == 0 and "::warning title=batch-review::" in run.log and "503" in run.log
    assert len([c for c in github.calls if c.route == PULL]) == NO_WAITS.retries + 1
    assert github.writes == 0 and run.outputs == {}


def test_a_pull_request_that_is_gone_is_a_notice(github, action):
    run = action()  # no such pull request in the fake
    assert run.code == 0 and "::notice title=batch-review::The pull request or one of its files is gone" in run.log


def test_a_design_doc_gone_at_the_head_sha_is_a_notice(github, action):
    pr(github, PR_TEMPLATE)
    github.add_files(REPO, NUMBER, [("docs/design/gone.md", None)])
    run = action()
    assert run.code == 0 and "gone" in run.log and "404" in run.log and github.writes == 0


def test_a_deleted_comment_between_read_and_write_is_a_notice(github, action):
    pr(github, PARTIAL)
    action()
    github.repos[REPO].pulls[NUMBER].body = CANDIDATE
    github.fail("PATCH", COMMENT, 404)
    run = action()
    assert run.code == 0 and "::notice title=batch-review::The pull request or one of its files is gone" in run.log


# --- identity and events -----------------------------------------------------------------------


def test_a_personal_token_comments_as_its_user(github, action):
    github.add_token("pat", login="release-bot")
    pr(github)
    action(GITHUB_TOKEN="pat")
    assert len(comments_by(github, "release-bot")) == 1
    action(GITHUB_TOKEN="pat")  # found again as its own: updated, not duplicated
    assert len(comments_by(github, "release-bot")) == 1


def test_comment_author_overrides_the_identity(github, action):
    github.add_token("installation", login=None)
    pr(github)
    github.add_comment(REPO, NUMBER, "my-app[bot]", COMMENT_MARKER + "\nwritten by the App earlier")
    action(GITHUB_TOKEN="installation", INPUT_COMMENT_AUTHOR="my-app[bot]")
    assert ("GET", "/user") not in github.routes()
    assert github.routes("POST").count(("POST", COMMENTS)) == 0  # it updated the App's comment


def test_merge_group_exits_at_once(github, action):
    assert action("merge_group", {"action": "checks_requested", "merge_group": {"head_sha": "a" * 40}}).code == 0
    assert github.calls == []


def test_other_events_are_a_notice(github, action):
    run = action("push", {"ref": "refs/heads/main"})
    assert run.code == 0 and github.calls == []
    assert "::notice title=batch-review::" + ACTION_NOTES["unhandled-event"].format(event="push") in run.log


def test_pull_request_target_is_reviewed_like_pull_request(github, action):
    pr(github, fork="someone/Hello-World")
    assert action("pull_request_target").outputs["verdict"] == "batch-candidate"
    assert len(comments_by(github, ACTIONS_LOGIN)) == 1


def test_missing_token_or_payload_never_fails_the_job(github, action, tmp_path):
    assert action(GITHUB_TOKEN="").code == 0
    assert act({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(tmp_path / "none.json")}) == 0
    assert github.calls == []


def test_a_malformed_payload_is_a_warning(github, action):
    run = action("pull_request", {"action": "opened"})
    assert run.code == 0 and "::warning title=batch-review::Cannot read the event payload" in run.log
    assert github.calls == []


def test_an_error_of_its_own_never_fails_the_job(github, action, tmp_path):
    pr(github)
    run = action(GITHUB_OUTPUT=str(tmp_path))  # a folder: writing the outputs fails
    assert run.code == 0 and "::warning title=batch-review::batch-review stopped on an error of its own" in run.log


def test_triage_reads_only_the_pr_number_from_the_payload():
    assert triage("pull_request", payload("pull_request/opened.payload.json")).number == NUMBER
    assert triage("pull_request", payload("pull_request/labeled.payload.json")).note == "other-label"
    assert triage("issue_comment", command()).number == NUMBER
    assert triage("merge_group", {}).number is None and triage("merge_group", {}).note == ""
    assert triage("workflow_dispatch", {}).note == "unhandled-event"


# --- answers by command ------------------------------------------------------------------------


def test_answers_by_command_are_read_from_the_comments_on_every_review(github, action):
    """The reviewer's command counts as a label, the author's as the checklist; an outsider's not at all."""
    pr(github, body=PARTIAL)  # human_waiting=no ticked; Codertocat is the author
    github.add_comment(REPO, NUMBER, "mallory", "/batch-review answer volume=no latency=yes", association="NONE")
    github.add_comment(REPO, NUMBER, "Codertocat", "/batch-review answer volume=5000", association="CONTRIBUTOR")
    reviewer = github.add_comment(REPO, NUMBER, "hubot", "/batch-review can wait", association="MEMBER")
    run = action("issue_comment", command("/batch-review can wait"))
    assert run.outputs["verdict"] == "batch-candidate"
    answers = json.loads(run.outputs["answers"])["workloads"][0]["answers"]
    assert answers["volume"] == {"value": "yes", "per_day": 5000.0, "source": "author-command", "detail": answers[
        "volume"]["detail"]}
    assert answers["latency"]["source"] == "reviewer-command" and reviewer["html_url"] in answers["latency"]["detail"]
    (sticky,) = comments_by(github, ACTIONS_LOGIN)
    assert f"reviewer's [`/batch-review` comment]({reviewer['html_url']}) from hubot at 2026-01-01" in sticky["body"]
    jsonschema.validate(json.loads(run.outputs["answers"]), load_schema("review.schema.json"))

    github.repos[REPO].comments[NUMBER].remove(reviewer)  # a deleted command no longer counts
    assert action("issue_comment", command("/batch-review")).outputs["verdict"] == "needs-answers"


def test_the_authors_command_is_taken_without_membership(github, action):
    pr(github, body=PARTIAL)
    github.add_comment(REPO, NUMBER, "Codertocat", "/batch-review answer volume=2k latency=no", association="NONE")
    run = action("issue_comment", command("/batch-review answer volume=2k latency=no", "NONE", login="Codertocat"))
    assert run.outputs["verdict"] == "batch-candidate"


REACTIONS_OF = "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"


def test_each_command_gets_a_reaction_and_each_outsider_one_reply_once(github, action):
    """+1 taken, confused not understood (with a reply listing the forms), outsiders one reply; nothing twice."""
    pr(github, body=PARTIAL)
    taken = github.add_comment(REPO, NUMBER, "hubot", "/batch-review can wait", association="MEMBER")
    garbled = github.add_comment(REPO, NUMBER, "Codertocat", "/batch-review answer volume=lots", association="NONE")
    outsider = [github.add_comment(REPO, NUMBER, "mallory", f"/batch-review answer latency={v}") for v in ("no", "yes")]
    action("issue_comment", command("/batch-review can wait"))
    assert github.reactions(REPO, taken["id"]) == [(ACTIONS_LOGIN, "+1")]
    assert github.reactions(REPO, garbled["id"]) == [(ACTIONS_LOGIN, "confused")]
    assert all(github.reactions(REPO, c["id"]) == [] for c in outsider)
    assert replies_by(github, ACTIONS_LOGIN) == [("not-understood", "codertocat"), ("not-allowed", "mallory")]
    texts = [c["body"] for c in github.comments(REPO, NUMBER) if REPLY_MARKER in c["body"]]
    assert all(form in texts[0] for form in ACCEPTED_FORMS) and texts[0].count("@") == 1
    assert f"@mallory:{REPLIES['not-allowed'][6:].split('{')[0]}" in texts[1]
    assert f"[your command]({outsider[0]['html_url']})" in texts[1]
    assert not any(c.method == "GET" and c.route == REACTIONS_OF for c in github.calls)  # none of ours could be there

    github.calls.clear()
    action("issue_comment", command("/batch-review can wait"))  # again: no reaction, no reply written twice
    assert not [c for c in github.calls if c.write and c.route.startswith(REACTIONS_OF)]
    assert len(replies_by(github, ACTIONS_LOGIN)) == 2 and github.reactions(REPO, taken["id"]) == [(ACTIONS_LOGIN, "+1")]


def test_an_edited_command_swaps_our_reaction_and_others_reactions_stay(github, action):
    pr(github, body=PARTIAL)
    garbled = github.add_comment(REPO, NUMBER, "hubot", "/batch-review answer volume=lots", association="MEMBER")
    github.react(REPO, garbled["id"], "octocat", "+1")  # someone agrees: ours is not there yet
    action("issue_comment", command("/batch-review answer volume=lots"))
    assert github.reactions(REPO, garbled["id"]) == [("octocat", "+1"), (ACTIONS_LOGIN, "confused")]
    github.repos[REPO].comments[NUMBER][0]["body"] = "/batch-review answer volume=5000 latency=no"
    action("issue_comment", command("/batch-review answer volume=5000 latency=no"))
    assert github.reactions(REPO, garbled["id"]) == [("octocat", "+1"), (ACTIONS_LOGIN, "+1")]
    assert replies_by(github, ACTIONS_LOGIN) == [("not-understood", "hubot")]  # once, from the first run


def test_a_read_only_token_reacts_to_nothing(github, action):
    github.add_token("read-only", write=False)
    pr(github, body=PARTIAL)
    github.add_comment(REPO, NUMBER, "mallory", "/batch-review nobody waits")
    run = action("issue_comment", command("/batch-review nobody waits", "NONE", "mallory"), GITHUB_TOKEN="read-only")
    assert run.code == 0 and github.comments(REPO, NUMBER)[1:] == [] and github.repos[REPO].reactions == {}


# --- /batch-review wrong -----------------------------------------------------------------------


def test_wrong_from_anyone_is_thanked_recorded_and_stops_asking(github, action):
    pr(github, body=PARTIAL)
    github.add_comment(REPO, NUMBER, "mallory", "/batch-review wrong: this runs behind a chat endpoint")
    run = action("issue_comment", command("/batch-review wrong: this runs behind a chat endpoint", "NONE", "mallory"))
    document = json.loads(run.outputs["answers"])
    jsonschema.validate(document, load_schema("review.schema.json"))
    (said,) = document["disagreements"]
    assert (said["by"], said["reason"], said["verdict"]) == ("mallory", "this runs behind a chat endpoint",
                                                            "needs-answers")
    (sticky,) = comments_by(github, ACTIONS_LOGIN)
    thanks = WRONG_THANKS.format(by="mallory", reason="this runs behind a chat endpoint")
    assert sticky["body"].count(thanks) == 1 and "**To answer:**" not in sticky["body"]
    assert read_state(sticky["body"])["wrong"] == [said]  # the Action's record, in the comment's hidden state


# --- exemptions --------------------------------------------------------------------------------


def test_an_exemption_replaces_the_verdict_label_and_fail_on_does_not_fail_it(github, action):
    pr(github)  # a batch candidate
    github.put_file(REPO, ".github/batch-review.yml", "fail_on: [batch-candidate]\n")
    until = (date.today() + timedelta(days=30)).isoformat()
    said = f"/batch-review exempt until {until}: launch week"
    exempting = github.add_comment(REPO, NUMBER, "carol", said, association="OWNER")
    exempting["updated_at"] = f"{date.today().isoformat()}T00:00:00Z"
    github.add_comment(REPO, NUMBER, "mallory", f"/batch-review exempt until {until}: me too", association="NONE")
    run = action("issue_comment", command(said, "OWNER", "carol"))
    document = json.loads(run.outputs["answers"])
    jsonschema.validate(document, load_schema("review.schema.json"))
    assert document["verdict"] == "batch-candidate"  # the verdict itself is unchanged
    assert document["exemption"] == {"by": "carol", "reason": "launch week", "until": until, "url": exempting["html_url"],
                                     "paths": [], "pull_request": None}  # the checklist's workload: no path
    assert run.code == 0 and github.repos[REPO].pulls[NUMBER].labels == ["batch/exempt"]
    (sticky,) = comments_by(github, ACTIONS_LOGIN)
    said = EXEMPTION_NOTES["active"].format(by="carol", until=until, reason="launch week")
    assert said.split(". ")[0] in sticky["body"]  # who, until when and why


