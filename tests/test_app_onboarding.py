"""The App's rollout: onboarding pull requests on install, include/exclude globs and shadow mode, end to end.

Real `installation` and `installation_repositories` payloads (their repositories set to the test's), a worker,
and the fake GitHub, which checks every write against the OpenAPI subset.
"""

import logging
from contextlib import contextmanager

import pytest

from bot.app.onboard import onboard
from bot.app.server import create_app
from bot.cli.main import main
from bot.clients.github import GitHub
from bot.core.config import DEFAULT
from bot.app.store import FAILED, PENDING
from bot.core.names import (
    CONFIG_PATH,
    LABEL_STYLES,
    ONBOARDING_BRANCH,
    ONBOARDING_TITLE,
    VERDICT_LABELS,
    Verdict,
)
from bot.core.onboarding import DONE, NOT_WANTED, OPEN, RESUME, starter_text
from bot.core.render import render_checklist
from tests.app_support import INSTALLATION, deliver, github_with_app, payload, pr_event, serving, settings, wait_until
from tests.checklists import CANDIDATE
from tests.databases import sqlite_url  # noqa: F401  (a fixture)
from tests.fake_github import NO_WAITS

ORG = "octo-org"
ORG_CONFIG = f"{ORG}/.github"
OPT_IN = "onboarding: pull-request\n"
TEMPLATE = ".github/pull_request_template.md"
SECTION = render_checklist("pull-request")


def installed(*repos: str) -> dict:
    """The real `installation` created payload, installed on `repos` by the test's installation."""
    event = payload("installation/created.payload.json")
    event["installation"]["id"] = INSTALLATION
    event["repositories"] = [{"id": n, "name": repo.split("/")[1], "full_name": repo, "private": False}
                             for n, repo in enumerate(repos, 1)]
    return event


def added(*repos: str, action: str = "added") -> dict:
    """The real `installation_repositories` payload (npm @octokit/webhooks-examples), adding or removing `repos`."""
    event = payload(f"installation_repositories/{action}.payload.json")
    event["installation"]["id"] = INSTALLATION
    listed = [{"id": n, "node_id": f"R_{n}", "name": repo.split("/")[1], "full_name": repo, "private": False}
              for n, repo in enumerate(repos, 1)]
    event["repositories_added"], event["repositories_removed"] = (listed, []) if action == "added" else ([], listed)
    return event


@pytest.fixture
def github():
    with github_with_app(pulls=()) as fake:
        fake.add_repo(ORG_CONFIG)
        fake.put_file(ORG_CONFIG, CONFIG_PATH, OPT_IN)
        yield fake


@contextmanager
def running(github, database_url, **extra):
    """The App on a real socket, talking to the fake GitHub: (url, store)."""
    app = create_app(settings(database_url, GITHUB_API_URL=github.base_url, GITHUB_PACING=NO_WAITS, **extra))
    with serving(app) as url:
        yield url, app.extensions["batch-review"].store


def idle(store):
    """Wait until every queued task is done (a row leaves the queue when its task ends)."""
    wait_until(lambda: store.counts()[PENDING] == 0, what="every task")


def app_onboard(capsys, monkeypatch, github, database_url, *options) -> tuple:
    """`batch-review app onboard` in this process with the App's settings: (exit status, stdout, stderr)."""
    for name, value in settings(database_url, GITHUB_API_URL=github.base_url).items():
        monkeypatch.setenv(name, str(value))
    capsys.readouterr()
    status = main(["app", "onboard", *options])
    return (status, *capsys.readouterr())


def pulls_of(github, repo):
    return [pull for pull in github.repos[repo].pulls.values() if pull.head_ref == ONBOARDING_BRANCH]


def on_branch(github, repo) -> dict:
    return {path: text for (ref, path), text in github.repos[repo].contents.items() if ref == ONBOARDING_BRANCH}


def test_installing_opens_one_set_up_pull_request_where_the_checklist_is_missing(github, sqlite_url):
    service, bare, ready = f"{ORG}/service", f"{ORG}/bare", f"{ORG}/ready"
    github.add_repo(service).contents[("main", TEMPLATE)] = "## What\n\n## Why\n"
    github.add_repo(bare)
    github.add_repo(ready).contents[("main", "docs/PULL_REQUEST_TEMPLATE.md")] = "## What\n\n" + SECTION
    github.add_repo(f"{ORG}/old", archived=True)
    github.add_repo(f"{ORG}/copy", fork=True)
    github.add_repo(f"{ORG}/nothing-yet", empty=True)
    repos = (service, bare, ready, f"{ORG}/old", f"{ORG}/copy", f"{ORG}/nothing-yet")
    with running(github, sqlite_url) as (url, store):
        assert deliver(url, "installation", installed(*repos)).status_code == 202
        idle(store)
    (pull,) = pulls_of(github, service)
    assert (pull.title, pull.author, pull.head_ref, pull.base_ref) == (ONBOARDING_TITLE, "batch-review[bot]",
                                                                        ONBOARDING_BRANCH, "main")
    assert "[The norm](" in pull.body and f"- adds the checklist to `{TEMPLATE}`" in pull.body
    assert on_branch(github, service) == {TEMPLATE: "## What\n\n## Why\n\n" + SECTION,
                                          "docs/design/TEMPLATE.md": starter_text("design_doc.md"),
                                          CONFIG_PATH: starter_text("config.yml")}
    assert github.repos[service].contents[("main", TEMPLATE)] == "## What\n\n## Why\n"  # the default branch untouched
    assert [path for branch, path, _ in github.repos[service].commits] == [TEMPLATE, "docs/design/TEMPLATE.md", CONFIG_PATH]
    assert on_branch(github, bare)[TEMPLATE] == SECTION and f"- creates `{TEMPLATE}`" in pulls_of(github, bare)[0].body
    assert store.onboarding(service) == {"state": OPEN, "url": f"https://github.com/{service}/pull/1"}
    for skipped in (ready, f"{ORG}/old", f"{ORG}/copy", f"{ORG}/nothing-yet"):
        assert not pulls_of(github, skipped) and not github.repos[skipped].commits, skipped
        assert ONBOARDING_BRANCH not in github.repos[skipped].branches
    assert not github.problems


def test_app_onboard_asks_the_repositories_installed_before_the_opt_in_once(github, sqlite_url, capsys, monkeypatch):
    github.put_file(ORG_CONFIG, CONFIG_PATH, "drafts: skip\n")  # no onboarding yet
    earlier, ready = f"{ORG}/earlier", f"{ORG}/ready"
    github.add_repo(earlier).installation = INSTALLATION
    github.add_repo(ready).contents[("main", TEMPLATE)] = "## What\n\n" + SECTION
    github.repos[ready].installation = INSTALLATION
    github.add_repo("elsewhere/tool").installation = 7
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(earlier, ready))
        idle(store)
        assert not pulls_of(github, earlier)  # installed before the organisation opted in
        github.put_file(ORG_CONFIG, CONFIG_PATH, OPT_IN)
        for _ in range(2):
            assert app_onboard(capsys, monkeypatch, github, sqlite_url, "--installation", str(INSTALLATION)) == (
                0, "queued onboarding for 2 repositories of 1 installation; the workers open the pull requests where "
                   "the organisation's config says `onboarding: pull-request`, within the write budget\n", "")
            idle(store)
        assert store.onboarding(earlier)["state"] == OPEN
    assert len(pulls_of(github, earlier)) == 1 and len(github.repos[earlier].commits) == 3
    assert not pulls_of(github, ready) and not github.repos["elsewhere/tool"].labels
    listed = [c.route for c in github.calls if c.route in ("/app/installations", "/installation/repositories")]
    assert listed == ["/app/installations", "/installation/repositories"] * 2  # installation 7 not asked


def test_app_onboard_takes_named_repositories_and_names_those_the_app_is_not_on(github, sqlite_url, capsys, monkeypatch):
    for repo in (f"{ORG}/one", f"{ORG}/two"):
        github.add_repo(repo).installation = INSTALLATION
    with running(github, sqlite_url) as (url, store):
        status, out, err = app_onboard(capsys, monkeypatch, github, sqlite_url, "--repo", f"{ORG}/One")
        assert (status, out.split(";")[0], err) == (0, "queued onboarding for 1 repository of 1 installation", "")
        idle(store)
        assert app_onboard(capsys, monkeypatch, github, sqlite_url, "--repo", f"{ORG}/two", "--repo", f"{ORG}/gone") == (
            2, "", f"batch-review app: the App is not installed on {ORG}/gone\n")
        assert store.counts()[PENDING] == 0  # nothing queued when a name is wrong
    assert pulls_of(github, f"{ORG}/one") and not pulls_of(github, f"{ORG}/two")


def test_without_the_opt_in_nothing_is_written_but_labels(github, sqlite_url):
    github.put_file(ORG_CONFIG, CONFIG_PATH, "drafts: skip\n")
    github.add_repo(f"{ORG}/service")
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(f"{ORG}/service"))
        idle(store)
    assert len(github.repos[f"{ORG}/service"].labels) == len(LABEL_STYLES)
    writes = [c.route for c in github.calls if c.write and not c.route.startswith("/app/")]
    assert writes == ["/repos/{owner}/{repo}/labels"] * len(LABEL_STYLES)


def test_the_organisations_template_with_the_checklist_means_no_pull_request(github, sqlite_url):
    github.put_file(ORG_CONFIG, "docs/pull_request_template.md", "## Org\n\n" + SECTION)
    github.add_repo(f"{ORG}/uses-org")
    github.add_repo(f"{ORG}/own").contents[("main", "pull_request_template.md")] = "## Ours\n"
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(f"{ORG}/uses-org", f"{ORG}/own"))
        idle(store)
    assert pulls_of(github, f"{ORG}/own") and not pulls_of(github, f"{ORG}/uses-org") and not github.repos[f"{ORG}/uses-org"].commits


def test_never_twice_open_closed_unmerged_and_merged_are_found_again_by_branch(github, sqlite_url):
    repo = f"{ORG}/service"
    github.add_repo(repo)
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(repo))
        idle(store)
        deliver(url, "installation", installed(repo))  # installed again while it is open: nothing new
        idle(store)
        assert len(pulls_of(github, repo)) == 1 and len(github.repos[repo].commits) == 3
        pulls_of(github, repo)[0].closed = True  # the team closes it unmerged
        deliver(url, "installation_repositories", added(repo, action="removed"))  # the App forgets the repository
        idle(store)
        assert store.onboarding(repo) is None
        deliver(url, "installation_repositories", added(repo))  # it comes back: the branch's closed PR says "not wanted"
        idle(store)
        assert store.onboarding(repo)["state"] == NOT_WANTED
        github.repos[repo].branches.pop(ONBOARDING_BRANCH)  # the branch deleted too: the database still says no
        deliver(url, "installation_repositories", added(repo))
        idle(store)
    assert len(pulls_of(github, repo)) == 1 and len(github.repos[repo].commits) == 3


@pytest.mark.parametrize("state, remembered", [("closed", NOT_WANTED), ("merged", DONE), ("open", OPEN)])
def test_what_the_branchs_pull_request_says_is_remembered(github, sqlite_url, state, remembered):
    repo = f"{ORG}/service"
    github.add_repo(repo)
    github.repos[repo].branches[ONBOARDING_BRANCH] = "e" * 40
    github.add_pull(repo, 1, head_ref=ONBOARDING_BRANCH, closed=state == "closed",
                    merged_at="2026-01-02T00:00:00Z" if state == "merged" else None)
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(repo))
        idle(store)
    assert store.onboarding(repo) == {"state": remembered, "url": f"https://github.com/{repo}/pull/1"}
    assert len(github.repos[repo].pulls) == 1 and not github.repos[repo].commits


def test_someone_elses_branch_of_that_name_is_left_alone(github, sqlite_url, caplog):
    caplog.set_level(logging.INFO)
    repo = f"{ORG}/service"
    github.add_repo(repo)
    github.repos[repo].branches[ONBOARDING_BRANCH] = "a" * 40
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(repo))
        idle(store)
    assert any("the App did not make it" in record.getMessage() for record in caplog.records)
    assert not github.repos[repo].pulls and not github.repos[repo].commits


def test_an_excluded_repository_gets_no_review_no_label_and_no_onboarding(github, sqlite_url, caplog):
    caplog.set_level(logging.INFO)
    github.put_file(ORG_CONFIG, CONFIG_PATH, OPT_IN + "repositories: {include: ['*'], exclude: [legacy-*]}\n")
    legacy, served = f"{ORG}/Legacy-Billing", f"{ORG}/service"
    github.add_repo(legacy)
    github.add_pull(legacy, 2, body=CANDIDATE)
    github.add_repo(served)
    github.add_pull(served, 2, body=CANDIDATE)
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation", installed(legacy, served))
        for repo in (legacy, served):
            deliver(url, "pull_request", pr_event(repo=repo, number=2, installation=INSTALLATION))
        idle(store)
        assert [review["repo"] for review in store.history()] == [served]
    assert not [c for c in github.calls if c.write and legacy in c.path]
    assert not github.repos[legacy].labels and not github.comments(legacy, 2) and not github.repos[legacy].check_runs
    assert pulls_of(github, served) and github.comments(served, 2) and github.repos[served].check_runs
    assert any("not served" in record.getMessage() and legacy in record.getMessage() for record in caplog.records)


def test_shadow_mode_keeps_the_review_and_labels_but_comments_and_checks_nothing(github, sqlite_url):
    github.put_file(ORG_CONFIG, CONFIG_PATH, "mode: shadow\n")
    repo = f"{ORG}/service"
    github.add_repo(repo)
    github.add_pull(repo, 2, body=CANDIDATE)
    with running(github, sqlite_url) as (url, store):
        deliver(url, "pull_request", pr_event(repo=repo, number=2, installation=INSTALLATION))
        idle(store)
        (review,) = store.history()
    assert (review["repo"], review["number"], review["verdict"]) == (repo, 2, Verdict.BATCH_CANDIDATE.value)
    assert github.repos[repo].pulls[2].labels == [VERDICT_LABELS[Verdict.BATCH_CANDIDATE]]
    assert github.comments(repo, 2) == [] and github.repos[repo].check_runs == []
    assert not [c for c in github.calls if c.write and c.route not in (
        "/repos/{owner}/{repo}/issues/{issue_number}/labels", "/repos/{owner}/{repo}/labels/{name}",
        "/app/installations/{installation_id}/access_tokens")]


def test_a_repositorys_own_file_cannot_leave_shadow_mode(github, sqlite_url):
    github.put_file(ORG_CONFIG, CONFIG_PATH, "mode: shadow\n")
    repo = f"{ORG}/service"
    github.add_repo(repo)
    github.put_file(repo, CONFIG_PATH, "mode: live\n")
    github.add_pull(repo, 2, body=CANDIDATE)
    with running(github, sqlite_url) as (url, store):
        deliver(url, "pull_request", pr_event(repo=repo, number=2, installation=INSTALLATION))
        idle(store)
        assert len(store.history()) == 1
    assert github.comments(repo, 2) == [] and github.repos[repo].check_runs == []


def test_a_large_installation_is_onboarded_over_time_within_githubs_secondary_limit(github, sqlite_url, caplog):
    caplog.set_level(logging.INFO)
    repos = [f"{ORG}/service-{n:03}" for n in range(10)]
    for repo in repos:
        github.add_repo(repo)
    per_repo = len(LABEL_STYLES) + 5  # each label, then the branch, three files and the pull request
    github.limit_writes(12, 1)  # GitHub's limit, small: 12 writes per installation in each second
    with running(github, sqlite_url, GITHUB_WRITE_BUDGETS="10/1") as (url, store):  # the budget below it
        deliver(url, "installation", installed(*repos[:5]))
        deliver(url, "installation_repositories", added(*repos[5:]))
        idle(store)
    assert all(len(pulls_of(github, repo)) == 1 and len(github.repos[repo].commits) == 3 for repo in repos)
    assert all(len(github.repos[repo].labels) == len(LABEL_STYLES) for repo in repos)
    assert not [c for c in github.calls if c.status in (403, 429)]  # no secondary limit answer, ever
    writes = sorted(c.at for c in github.calls if c.write and not c.route.startswith("/app/"))
    assert len(writes) == 10 * per_repo and writes[-1] - writes[0] >= 10 * per_repo // 12 - 1  # spread over the windows
    assert any(" waits " in record.getMessage() for record in caplog.records)


class Budget(Exception):
    """What `before_write` raises when the test's budget is spent (the App raises `Wait`)."""


class Remembered(dict):
    def put(self, repo, state, url=""):
        self[repo] = state


def test_a_task_stopped_between_writes_finishes_where_it_stopped(github):
    repo = f"{ORG}/service"
    github.add_repo(repo).contents[("main", "docs/pull_request_template.md")] = "## What\n"
    github.add_token("t")
    gh = GitHub("t", base_url=github.base_url, pacing=NO_WAITS)
    memory, allowed = Remembered(), iter([True, True, False])  # two writes, then the budget is spent

    def before_write():
        if not next(allowed, True):
            raise Budget()

    with pytest.raises(Budget):
        onboard(gh, repo, DEFAULT, memory, before_write)
    assert memory[repo] == RESUME and [path for _, path, _ in github.repos[repo].commits] == ["docs/pull_request_template.md"]
    assert "opened" in onboard(gh, repo, DEFAULT, memory, before_write)
    assert [path for _, path, _ in github.repos[repo].commits] == ["docs/pull_request_template.md", "docs/design/TEMPLATE.md",
                                                                  CONFIG_PATH]
    assert len(pulls_of(github, repo)) == 1 and memory[repo] == OPEN
    assert "is open" in onboard(gh, repo, DEFAULT, memory, before_write)
    assert sum(c.write for c in github.calls) == 5  # the branch, three files, the pull request: each once


def test_without_contents_write_onboarding_is_logged_not_retried(github, sqlite_url, caplog):
    repo = f"{ORG}/service"
    github.add_repo(repo)
    github.fail("POST", "/repos/{owner}/{repo}/git/refs", 403, message="Resource not accessible by integration")
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(repo))
        idle(store)
        assert store.counts()[FAILED] == 0
    assert sum(c.route == "/repos/{owner}/{repo}/git/refs" for c in github.calls) == 1
    assert any("does the installation grant contents: write?" in record.getMessage() for record in caplog.records)
    assert not pulls_of(github, repo)


def test_an_organisation_file_with_errors_is_logged_and_gives_the_defaults(github, sqlite_url, caplog):
    github.put_file(ORG_CONFIG, CONFIG_PATH, "onboarding: pull-request\nmode: shadwo\n")
    repo = f"{ORG}/service"
    github.add_repo(repo)
    with running(github, sqlite_url) as (url, store):
        deliver(url, "installation_repositories", added(repo))
        idle(store)
    assert not pulls_of(github, repo)  # the defaults: no onboarding
    assert any("organisation's settings have errors" in record.getMessage() and "shadwo" in record.getMessage()
               for record in caplog.records)
