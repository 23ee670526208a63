"""The App end to end: a signed webhook, a worker, the shared review pipeline, a fake GitHub that checks the App's JWT."""

import logging
from datetime import datetime, timezone
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.app.server import create_app
from bot.app.events import REVIEW, Task
from bot.app.store import BUTTONS, CODEOWNERS, FAILED, PENDING, TEAMS
from bot.metric.source import review_facts
from bot.core.names import CHECK_RUN, COMMENT_MARKER, LABEL_STYLES, MERGE_GROUP_CHECK, VERDICT_LABELS, Verdict
from tests.app_support import (
    APP_ID,
    INSTALLATION,
    REPO,
    SECRET,
    command_event,
    deliver,
    github_with_app,
    merge_group_event,
    payload,
    pr_event,
    private_key,
    repo_id,
    serving,
    settings,
    wait_until,
)
from tests.checklists import CANDIDATE, PARTIAL, SYNCHRONOUS
from tests.databases import sqlite_url  # noqa: F401  (a fixture)
from tests.fake_github import NO_WAITS

BOT = "batch-review[bot]"
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest.fixture
def github():
    with github_with_app() as fake:
        yield fake


def app_config(github, database_url, **extra):
    """tests.test_app's settings, talking to the fake GitHub without waits."""
    return settings(database_url, GITHUB_API_URL=github.base_url, GITHUB_PACING=NO_WAITS, **extra)


@pytest.fixture
def served(github, sqlite_url):
    app = create_app(app_config(github, sqlite_url))
    with serving(app) as url:
        yield url, app.extensions["batch-review"].store


def open_pr(url, number=2, action="opened", **fields):
    return deliver(url, "pull_request", pr_event(action, repo=REPO, number=number, installation=INSTALLATION, **fields))


def checks(github, sha=None):
    return [run for run in github.repos[REPO].check_runs if sha in (None, run["head_sha"])]


def test_a_pull_request_gets_its_comment_labels_check_run_and_history(github, served):
    url, store = served
    assert open_pr(url).status_code == 202
    (run,) = wait_until(lambda: checks(github), what="the check run")
    pull = github.repos[REPO].pulls[2]
    assert (run["name"], run["head_sha"], run["status"], run["conclusion"]) == (
        CHECK_RUN, pull.head_sha, "completed", "neutral")
    assert run["app"] == {"id": APP_ID, "slug": "batch-review"} and run["output"]["summary"]
    (comment,) = github.comments(REPO, 2)
    assert comment["user"]["login"] == BOT and COMMENT_MARKER in comment["body"]
    assert VERDICT_LABELS[Verdict.BATCH_CANDIDATE] in pull.labels
    assert github.repos[REPO].labels[VERDICT_LABELS[Verdict.BATCH_CANDIDATE]]["color"] == LABEL_STYLES["batch/candidate"][0]
    assert [installation for installation, _ in github.app.tokens] == [INSTALLATION]
    wait_until(lambda: store.counts()[PENDING] == 0, what="the queue to empty")
    (row,) = store.history()
    assert (row["repo"], row["number"], row["head_sha"], row["verdict"]) == (REPO, 2, pull.head_sha, "batch-candidate")
    assert row["document"]["workloads"][0]["answers"]["volume"]["source"] == "checklist"


def test_a_flagged_workload_is_counted_under_its_codeowners_team(github, served):
    """CODEOWNERS at the base commit names the team; the file is read once per commit, and the metric shows it."""
    url, store = served
    github.put_file(REPO, ".github/CODEOWNERS", "*.py @acme/platform\n/jobs/ @alice @acme/data\n", ref="b" * 40)
    github.add_files(REPO, 2, [("jobs/enrich.py", "@@ -1 +1 @@\n-a\n+b")])
    assert open_pr(url).status_code == 202
    wait_until(lambda: store.counts()[PENDING] == 0 and store.history(), what="the review")
    assert store.cache_get(TEAMS, f"{REPO}#2") == {"team": "@acme/data"}
    assert store.cache_get(CODEOWNERS, f"{REPO}@{'b' * 40}")["text"].startswith("*.py")
    (flag,), _ = review_facts(store, datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert flag.team == "@acme/data"


def test_a_verdict_in_fail_on_fails_the_check_run(github, served):
    url, _ = served
    github.put_file(REPO, ".github/batch-review.yml", "fail_on: [batch-candidate]\n")
    open_pr(url)
    (run,) = wait_until(lambda: checks(github), what="the check run")
    assert run["conclusion"] == "failure"


def test_the_organisation_default_applies_without_a_repo_file(github, served):
    url, _ = served
    github.add_repo("octo-org/.github")
    github.put_file("octo-org/.github", ".github/batch-review.yml", "comment_on: [synchronous]\nfail_on: [synchronous]\n")
    github.add_pull(REPO, 3, body=SYNCHRONOUS)
    open_pr(url, number=3)
    (run,) = wait_until(lambda: checks(github), what="the check run")
    assert run["conclusion"] == "failure"
    assert len(github.comments(REPO, 3)) == 1  # comment_on from the organisation's file


def test_a_review_reads_each_config_file_once_and_the_next_review_reads_them_again(github, served):
    """The rollout check and the review's own config share the organisation's file within a task, not beyond it."""
    url, store = served
    github.add_repo("octo-org/.github")
    github.put_file("octo-org/.github", ".github/batch-review.yml", "fail_on: [synchronous]\n")
    github.put_file(REPO, ".github/batch-review.yml", "comment_on: [synchronous]\n")
    github.add_pull(REPO, 3, body=SYNCHRONOUS)

    def config_reads():
        return sorted(c.path for c in github.calls if c.path.endswith("/contents/.github/batch-review.yml"))

    files = ["/repos/octo-org/.github/contents/.github/batch-review.yml", f"/repos/{REPO}/contents/.github/batch-review.yml"]
    open_pr(url, number=3)
    (run,) = wait_until(lambda: checks(github), what="the check run")
    assert run["conclusion"] == "failure" and config_reads() == files
    github.put_file("octo-org/.github", ".github/batch-review.yml", "fail_on: []\n")
    github.calls.clear()
    open_pr(url, number=3, action="synchronize")
    wait_until(lambda: checks(github)[0]["conclusion"] != "failure", what="the organisation's new file")
    wait_until(lambda: store.counts()[PENDING] == 0, what="the queue to empty")
    assert config_reads() == files


def test_extends_follows_a_chain_to_another_repository(github, served):
    url, _ = served
    github.add_repo("octo-org/policies")
    github.put_file("octo-org/policies", "batch/base.yml", "fail_on: [batch-candidate]\ncomment_on: []\n")
    github.put_file(REPO, ".github/batch-review.yml", "_extends: policies:batch/base.yml\n")
    open_pr(url)
    (run,) = wait_until(lambda: checks(github), what="the check run")
    assert run["conclusion"] == "failure"
    assert github.comments(REPO, 2) == []


def test_installing_the_app_creates_every_label_in_each_repository(github, served):
    url, _ = served
    installed = payload("installation/created.payload.json")
    installed["installation"]["id"] = INSTALLATION
    installed["repositories"] = [{"id": 1, "name": "service", "full_name": REPO, "private": False},
                                 {"id": 2, "name": "web", "full_name": "octo-org/web", "private": True}]
    github.add_repo("octo-org/web").labels["batch/candidate"] = {"color": "000000", "description": "ours"}
    assert deliver(url, "installation", installed).status_code == 202
    wait_until(lambda: all(len(github.repos[name].labels) == len(LABEL_STYLES) for name in (REPO, "octo-org/web")),
               what="the labels")
    assert github.repos[REPO].labels["batch/can-wait"] == {"color": LABEL_STYLES["batch/can-wait"][0],
                                                           "description": LABEL_STYLES["batch/can-wait"][1]}
    assert github.repos["octo-org/web"].labels["batch/candidate"]["color"] == "000000"  # a team's choice stays


def test_github_server_errors_are_retried_and_the_review_recovers(github, served):
    url, store = served
    github.fail("POST", COMMENTS, 502, times=2 * (NO_WAITS.retries + 1))  # two whole attempts fail
    open_pr(url)
    wait_until(lambda: checks(github), what="the check run")
    assert len(github.comments(REPO, 2)) == 1
    wait_until(lambda: store.counts() == {PENDING: 0, FAILED: 0}, what="the queue to empty")
    assert len(store.history()) == 1


def test_ten_events_at_once_leave_one_comment(github, served):
    url, store = served
    actions = ["opened", "reopened", "labeled", "unlabeled", "synchronize"] * 2
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda action: open_pr(url, action=action), actions))
    assert all(answer.status_code == 202 for answer in answers)
    wait_until(lambda: store.counts()[PENDING] == 0 and checks(github), what="the reviews")
    assert len(github.comments(REPO, 2)) == 1
    assert store.history()  # events that came during a review made one more; each found the one comment


def test_events_sent_by_the_app_itself_are_ignored(github, served):
    url, store = served
    wait_until(lambda: requests.get(f"{url}/healthz").json()["identity"] == BOT, what="the identity")
    answer = open_pr(url, action="labeled", sender=BOT)
    assert answer.status_code == 200 and BOT in answer.json()["reason"]
    answer = deliver(url, "issue_comment", command_event(repo=REPO, sender=BOT))
    assert answer.status_code == 200
    assert store.counts()[PENDING] == 0 and not checks(github)


def test_a_member_command_reviews_again(github, served):
    url, _ = served
    event = command_event(repo=REPO, number=2)
    event["installation"]["id"] = INSTALLATION
    assert deliver(url, "issue_comment", event).status_code == 202
    wait_until(lambda: checks(github), what="the check run")


def test_a_merge_group_gets_a_successful_check(github, served):
    url, _ = served
    event = merge_group_event("d" * 40)
    event["repository"]["full_name"], event["installation"]["id"] = REPO, INSTALLATION
    assert deliver(url, "merge_group", event).status_code == 202
    (run,) = wait_until(lambda: checks(github, "d" * 40), what="the merge group check")
    assert (run["name"], run["conclusion"], run["output"]["title"]) == (CHECK_RUN, "success", MERGE_GROUP_CHECK[0])


def test_an_installation_token_is_reused_until_shortly_before_it_expires(github, served):
    url, store = served
    for number in (3, 4):
        github.add_pull(REPO, number, body=CANDIDATE)
    for number in (2, 3, 4, 2):
        open_pr(url, number=number, action="synchronize")
        wait_until(lambda: store.counts()[PENDING] == 0, what="the review")
    assert len(store.history()) == 4
    assert {installation for installation, _ in github.app.tokens} == {INSTALLATION}
    assert len(github.app.tokens) <= 2  # at most one per worker thread
    github.app.token_seconds = 10  # PyGithub renews a token 20 s before it expires: each request now renews it
    deliver(url, "pull_request", pr_event("synchronize", repo=REPO, number=2, installation=7))
    wait_until(lambda: len(store.history()) == 5, what="the review on installation 7")
    assert sum(installation == 7 for installation, _ in github.app.tokens) > 1


def test_worker_threads_reviewing_one_installation_at_once_keep_their_requests_apart(github, sqlite_url):
    """PyGithub's client is not thread-safe: shared, two requests at once get each other's method or URL."""
    for number in range(3, 15):
        github.add_pull(REPO, number, body=CANDIDATE)
    app = create_app(app_config(github, sqlite_url, BATCH_REVIEW_WORKERS="4"))
    with serving(app) as url:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda number: open_pr(url, number=number), range(2, 15)))
        store = app.extensions["batch-review"].store
        wait_until(lambda: store.counts()[PENDING] == 0, what="the reviews")
        assert sorted(row["number"] for row in store.history()) == list(range(2, 15))
    for number in range(2, 15):
        assert len(github.comments(REPO, number)) == 1
        assert len(checks(github, github.repos[REPO].pulls[number].head_sha)) == 1
    assert not github.problems


def test_each_thread_has_its_own_client_per_installation(github):
    from bot.clients.github import GitHubApp

    app = GitHubApp(APP_ID, private_key(), base_url=github.base_url, pacing=NO_WAITS)
    here = app.installation(INSTALLATION)
    assert app.installation(INSTALLATION) is here and app.installation(7) is not here
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(app.installation(INSTALLATION)))
    thread.start()
    thread.join()
    assert elsewhere[0] is not here


def test_healthz_counts_failed_reviews_until_they_recover(github, sqlite_url):
    app = create_app(app_config(github, sqlite_url, MAX_ATTEMPTS=2))
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        wait_until(lambda: requests.get(f"{url}/healthz").status_code == 200, what="a healthy start")
        github.fail("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 503, times=2 * (NO_WAITS.retries + 1))
        open_pr(url)
        wait_until(lambda: store.counts()[FAILED] == 1, what="the failed review")
        health = requests.get(f"{url}/healthz")
        assert health.status_code == 503
        assert health.json()["failed"] == 1 and f"review {REPO} 2" in health.json()["reason"]
        assert "503" in health.json()["reason"]
        open_pr(url, action="synchronize")
        wait_until(lambda: checks(github) and store.counts()[PENDING] == 0, what="the review after the new event")
        health = requests.get(f"{url}/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "pending": 0, "failed": 0, "workers": 2, "identity": BOT}


def test_a_key_github_does_not_accept_is_reported_by_healthz(github, sqlite_url):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    app = create_app(app_config(github, sqlite_url, GITHUB_APP_PRIVATE_KEY=other))
    with serving(app) as url:
        health = wait_until(lambda: (answer := requests.get(f"{url}/healthz")).status_code == 503 and answer.json(),
                            what="healthz to report the key")
        assert "cannot authenticate as the App" in health["reason"] and "401" in health["reason"]


def reviewed(store, github, count):
    return store.counts()[PENDING] == 0 and len(store.history()) == count


def test_each_commit_keeps_one_check_run_updated_by_later_reviews(github, sqlite_url, tmp_path):
    app = create_app(app_config(github, sqlite_url))
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        open_pr(url)
        wait_until(lambda: reviewed(store, github, 1), what="the first review")
        github.put_file(REPO, ".github/batch-review.yml", "fail_on: [batch-candidate]\n")
        open_pr(url, action="synchronize")  # the fake's head SHA stays: a re-review of the same commit
        wait_until(lambda: reviewed(store, github, 2), what="the second review")
    (run,) = checks(github)
    assert run["conclusion"] == "failure"  # the same run, updated
    app = create_app(app_config(github, f"sqlite:///{tmp_path / 'other.sqlite3'}"))  # a store that lost the id
    github.put_file(REPO, ".github/batch-review.yml", "fail_on: []\n")
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        open_pr(url, action="reopened")
        wait_until(lambda: reviewed(store, github, 1), what="the review with a fresh store")
    (run,) = checks(github)  # found on the commit by name and App id
    assert run["conclusion"] == "neutral"


def test_prs_sharing_a_head_commit_are_scanned_each_for_its_own_diff(github, served):
    from tests.checklists import PR_TEMPLATE
    from tests.test_scan_review import ADDS_THE_JOB, ENRICH

    url, store = served
    sha = "c" * 40
    github.add_pull(REPO, 10, body=PR_TEMPLATE, head_sha=sha)
    github.add_files(REPO, 10, [("README.md", "@@ -1 +1 @@\n-x\n+y")])
    github.add_pull(REPO, 11, body=PR_TEMPLATE, head_sha=sha)
    github.add_files(REPO, 11, [("jobs/enrich.py", ADDS_THE_JOB)])
    github.put_file(REPO, "jobs/enrich.py", ENRICH, ref=sha)
    open_pr(url, number=10)
    wait_until(lambda: reviewed(store, github, 1), what="PR 10's review")
    open_pr(url, number=11)
    wait_until(lambda: reviewed(store, github, 2), what="PR 11's review")
    assert [(row["number"], row["verdict"]) for row in store.history()] == [(10, "not-applicable"), (11, "needs-answers")]
    assert len(github.comments(REPO, 11)) == 1


def test_a_review_the_repository_content_breaks_is_kept_with_its_reason_and_never_retried(github, sqlite_url,
                                                                                         monkeypatch):
    from bot import review

    calls = []

    def breaks(*args, **kwargs):
        calls.append(args)
        raise RecursionError("maximum recursion depth exceeded")  # e.g. a config nested too deep

    monkeypatch.setattr(review, "run", breaks)
    app = create_app(app_config(github, sqlite_url, MAX_ATTEMPTS=2))
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        wait_until(lambda: requests.get(f"{url}/healthz").status_code == 200, what="a healthy start")
        open_pr(url)
        wait_until(lambda: reviewed(store, github, 1), what="the review kept in the history")
        (row,) = store.history()
        assert (row["number"], row["verdict"], row["error"]) == (
            2, "", "RecursionError: maximum recursion depth exceeded")
        assert len(calls) == 1 and store.counts() == {PENDING: 0, FAILED: 0}
        assert requests.get(f"{url}/healthz").status_code == 200


def test_no_secret_reaches_any_log_line(github, sqlite_url, caplog):
    caplog.set_level(logging.DEBUG)  # every logger at its most talkative: ours, werkzeug, PyGithub, urllib3
    caplog.set_level(logging.DEBUG, logger="github")
    dashboard_token = "dashboard-" + "7" * 24
    app = create_app(app_config(github, sqlite_url, DASHBOARD_TOKEN=dashboard_token))
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        open_pr(url)
        deliver(url, "pull_request", pr_event(repo=REPO, installation=INSTALLATION), secret="wrong secret")
        wait_until(lambda: reviewed(store, github, 1), what="the review")
        signed_in = requests.Session()
        signed_in.post(f"{url}/dashboard/login", data={"token": dashboard_token})
        assert signed_in.get(f"{url}/dashboard").status_code == 200
        assert requests.get(f"{url}/dashboard", headers={"Authorization": f"Bearer {dashboard_token}"}).status_code == 200
        cookie = signed_in.cookies["batch-review-dashboard"]
    key_lines = [line for line in private_key().splitlines() if "PRIVATE KEY" not in line]
    secrets = [SECRET, dashboard_token, cookie, *key_lines, *(token for _, token in github.app.tokens)]
    assert github.app.tokens and {"github.Requester", "werkzeug", "bot.app.server"} <= {r.name for r in caplog.records}
    for record in caplog.records:
        line = logging.Formatter().format(record)
        assert not [secret for secret in secrets if secret in line], line


def test_a_renamed_repository_keeps_one_history_under_its_new_name_and_leaves_with_it_by_id(github, served):
    url, store = served
    renamed, number = "octo-org/renamed", 2
    deliver(url, "pull_request", pr_event(repo=REPO, number=number, installation=INSTALLATION, repository_id=4242))
    wait_until(lambda: reviewed(store, github, 1), what="the review under the old name")
    moved = github.repos.pop(REPO)  # GitHub renames the repository; its id stays
    moved.full_name, github.repos[renamed] = renamed, moved
    deliver(url, "pull_request", pr_event("synchronize", repo=renamed, number=number, installation=INSTALLATION,
                                          repository_id=4242))
    wait_until(lambda: reviewed(store, github, 2), what="the review under the new name")
    assert [row["repo"] for row in store.history()] == [renamed, renamed]
    assert store.history(repo=renamed) == store.history() and store.history(repo=REPO) == []
    flags, facts = review_facts(store, datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert [(flag.repo, flag.number) for flag in flags] == [(renamed, number)]
    assert [(fact.repo, fact.number) for fact in facts] == [(renamed, number)]
    assert len(moved.check_runs) == 1  # the commit's check run, found by id, was updated rather than made again
    left = payload("installation/deleted.payload.json")
    left["installation"]["id"] = INSTALLATION
    left["repositories"] = [{**left["repositories"][0], "full_name": renamed, "id": 4242}]
    assert deliver(url, "installation", left).status_code == 202
    wait_until(lambda: store.history() == [], what="both names' history forgotten")
    assert store.pr_labels() == {} and store.check_run(REPO, moved.pulls[number].head_sha) is None
    assert store.check_run(renamed, moved.pulls[number].head_sha) is None


@pytest.mark.parametrize("event, action", [("installation", "deleted"), ("installation_repositories", "removed")])
def test_a_repository_that_leaves_the_app_leaves_nothing_behind(github, served, event, action):
    url, store = served
    open_pr(url)
    wait_until(lambda: reviewed(store, github, 1), what="the review")
    github.add_repo("octo-org/other")  # another repository of the installation, reviewed by the running workers
    github.add_pull("octo-org/other", 7, body=CANDIDATE)
    store.record("kept", "pull_request", [Task(REVIEW, INSTALLATION, "octo-org/other", "7")])
    wait_until(lambda: len(store.history()) == 2 and store.counts()[PENDING] == 0, what="the other repository's review")
    left = payload("installation/deleted.payload.json")
    left["installation"]["id"] = INSTALLATION
    repos = [{**left["repositories"][0], "full_name": REPO, "id": repo_id(REPO)}]
    left = {**left, "action": action, **({"repositories": repos} if action == "deleted" else
                                         {"repositories_removed": repos, "repositories_added": []})}
    assert deliver(url, event, left).status_code == 202
    wait_until(lambda: [row["repo"] for row in store.history()] == ["octo-org/other"], what="the repository forgotten")
    assert store.check_run(REPO, github.repos[REPO].pulls[2].head_sha) is None
    assert list(store.pr_labels()) == [("octo-org/other", 7)]


def test_the_app_reacts_to_commands_and_replies_once_to_someone_who_may_not_answer(github, served):
    """A command from anyone is queued; the review reacts +1 to a member's, and replies to an outsider once."""
    url, store = served
    member = github.add_comment(REPO, 2, "hubot", "/batch-review can wait", association="MEMBER")
    outsider = github.add_comment(REPO, 2, "mallory", "/batch-review nobody waits", association="NONE")
    assert deliver(url, "issue_comment", command_event("/batch-review nobody waits", "NONE", repo=REPO,
                                                       sender="mallory")).status_code == 202
    wait_until(lambda: [c for c in github.comments(REPO, 2) if "mallory" in c["body"]], what="the reply")
    assert github.reactions(REPO, member["id"]) == [(BOT, "+1")] and github.reactions(REPO, outsider["id"]) == []
    github.add_comment(REPO, 2, "mallory", "/batch-review answer latency=no", association="NONE")
    assert deliver(url, "issue_comment", command_event("/batch-review answer latency=no", "NONE", repo=REPO,
                                                       sender="mallory")).status_code == 202
    wait_until(lambda: len(store.history()) == 2 and store.counts()[PENDING] == 0, what="the second review")
    assert [c["body"].count("@mallory") for c in github.comments(REPO, 2) if c["user"]["login"] == BOT
            and "@mallory" in c["body"]] == [1]  # one reply, ever


PERMISSION = "/repos/{owner}/{repo}/collaborators/{username}/permission"


def click(github, number: int, identifier: str, login: str) -> dict:
    """octokit's real `check_run` `requested_action` delivery, for a button on our check run of PR `number`."""
    event = payload("check_run/requested_action.payload.json")
    (run,) = checks(github, github.repos[REPO].pulls[number].head_sha)
    event["check_run"].update(id=run["id"], external_id=run["external_id"], head_sha=run["head_sha"],
                              html_url=f"https://github.com/{REPO}/runs/{run['id']}")
    event["repository"]["full_name"], event["installation"]["id"] = REPO, INSTALLATION
    event["requested_action"], event["sender"]["login"] = {"identifier": identifier}, login
    return event


def buttons_of(github, number: int) -> list:
    (run,) = checks(github, github.repos[REPO].pulls[number].head_sha)
    return [action["identifier"] for action in run["actions"]]


def test_check_run_buttons_answer_as_a_comment_would_and_their_answers_stay(github, served):
    """A triager's click counts as a label, the author's as the checklist, an outsider's gets the one reply;
    the buttons move on to the next question, and the answers stay for later reviews (roles checked once)."""
    url, store = served
    github.add_pull(REPO, 3, body=PARTIAL)  # nobody waits; volume and latency open
    github.repos[REPO].roles["bob"] = "triage"
    open_pr(url, number=3)
    wait_until(lambda: checks(github, github.repos[REPO].pulls[3].head_sha), what="the check run")
    assert buttons_of(github, 3) == ["volume=yes", "volume=no"]
    assert checks(github)[0]["external_id"] == "3" and [a["label"] for a in checks(github)[0]["actions"]] == [
        "High volume", "Low volume"]

    assert deliver(url, "check_run", click(github, 3, "volume=yes", "bob")).status_code == 202
    wait_until(lambda: buttons_of(github, 3) == ["latency=yes", "latency=no"], what="the next question's buttons")
    (sticky,) = github.comments(REPO, 3)
    run_url = f"https://github.com/{REPO}/runs/{checks(github)[0]['id']}"
    assert f"reviewer's [check run button]({run_url}) from bob at " in sticky["body"]

    assert deliver(url, "check_run", click(github, 3, "latency=no", "eve")).status_code == 202  # only reads
    wait_until(lambda: len(github.comments(REPO, 3)) == 2, what="the reply to eve")
    assert "@eve" in github.comments(REPO, 3)[1]["body"] and buttons_of(github, 3) == ["latency=yes", "latency=no"]

    assert deliver(url, "check_run", click(github, 3, "latency=no", "octocat")).status_code == 202  # the author
    wait_until(lambda: buttons_of(github, 3) == [], what="the verdict, no button left")
    wait_until(lambda: store.counts()[PENDING] == 0, what="the queue to empty")
    answers = store.history()[-1]["document"]["workloads"][0]["answers"]
    assert (answers["volume"]["source"], answers["latency"]["source"]) == ("reviewer-button", "author-button")
    assert store.history()[-1]["verdict"] == "batch-candidate"

    github.repos[REPO].pulls[3].updated_at = "2026-02-01T00:00:00Z"
    open_pr(url, number=3, action="synchronize")  # a later review still has them, and asks no permission again
    wait_until(lambda: len(store.history()) == 5 and store.counts()[PENDING] == 0, what="the later review")
    assert store.history()[-1]["verdict"] == "batch-candidate"
    assert sorted(c.path.rsplit("/", 2)[1] for c in github.calls if c.route == PERMISSION) == ["bob", "eve"]
    assert len(github.comments(REPO, 3)) == 2  # eve's reply once
    assert {c["by"]: c["role"] for c in store.cache_get(BUTTONS, f"{REPO}#3")["clicks"]} == {
        "bob": "reviewer", "eve": "none", "octocat": "author"}
