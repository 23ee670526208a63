"""Exemptions belong to the workload, in the App: a later PR changing the path inherits one, and a lapse opens
(or updates) one issue in the repository, once per lapse, mentioning only those who asked."""

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.app import expired
from bot.app.server import create_app
from bot.app.store import EXEMPTIONS, PENDING, Store
from bot.clients.github import GitHubApp
from bot.core.names import EXEMPT_LABEL, EXPIRED_MARKER
from tests.app_support import (APP_ID, INSTALLATION, REPO, command_event, deliver, github_with_app, pr_event, private_key,
                               queued_by_two_schedulers, serving, wait_until)
from tests.checklists import CANDIDATE
from tests.databases import sqlite_url  # noqa: F401  (a fixture)
from tests.fake_github import NO_WAITS
from tests.test_app_github import app_config
from tests.test_scan_review import ADDS_THE_JOB, ENRICH

TODAY = date.today()


@pytest.fixture
def github():
    with github_with_app(pulls=()) as fake:
        fake.repos[REPO].installation = INSTALLATION
        for number in (2, 3):
            pull = fake.add_pull(REPO, number, body=CANDIDATE)
            fake.add_files(REPO, number, [("jobs/enrich.py", ADDS_THE_JOB)])
            fake.put_file(REPO, "jobs/enrich.py", ENRICH, ref=pull.head_sha)
        yield fake


def exempt(github, number, login, until, reason, *, said=TODAY):
    """An owner's exempt command on the PR, as GitHub holds it and as its `issue_comment` payload carries it."""
    body = f"/batch-review exempt until {until.isoformat()}: {reason}"
    comment = github.add_comment(REPO, number, login, body, association="OWNER")
    comment["updated_at"] = f"{said.isoformat()}T09:00:00Z"
    return command_event(body, "OWNER", number, REPO, login) | {"installation": {"id": INSTALLATION}}


def settled(store):
    return store.counts()[PENDING] == 0


def test_a_later_pr_changing_the_path_inherits_the_exemption_and_its_lapse_is_told_once(github, sqlite_url):
    app = create_app(app_config(github, sqlite_url, EXPIRED_CHECK_SECONDS=600))
    with serving(app) as url:
        parts = app.extensions["batch-review"]
        store = parts.store
        wait_until(lambda: store.held({f"{expired.KIND}:{datetime.now(timezone.utc).date().isoformat()}"}) and settled(store),
                   what="the day's task, run at start-up with nothing to tell")
        until = TODAY + timedelta(days=10)
        assert deliver(url, "issue_comment", exempt(github, 2, "carol", until, "launch week @mallory #1")).status_code == 202
        wait_until(lambda: EXEMPT_LABEL in github.repos[REPO].pulls[2].labels, what="PR 2 exempted")
        wait_until(lambda: store.cache_get(EXEMPTIONS, f"{REPO}#2"), what="PR 2's exemption kept")
        assert store.cache_get(EXEMPTIONS, f"{REPO}#2")["paths"] == ["jobs/enrich.py"]

        deliver(url, "pull_request", pr_event("opened", repo=REPO, number=3, installation=INSTALLATION))
        wait_until(lambda: EXEMPT_LABEL in github.repos[REPO].pulls[3].labels, what="PR 3 inherits the exemption")
        wait_until(lambda: settled(store), what="the queue to empty")
        (comment,) = github.comments(REPO, 3)
        assert "It was given on \\#2 for a workload this pull request changes: `jobs/enrich.py`.\n\n" in comment["body"]
        latest = store.history()[-1]
        assert latest["number"] == 3 and latest["document"]["exemption"]["pull_request"] == 2
        assert store.cache_get(EXEMPTIONS, f"{REPO}#3") is None  # inherited, not given: PR 2 keeps it

        after = until + timedelta(days=1)
        assert expired.tell(store, parts.github, until) == 0  # its last day: it still runs
        assert expired.tell(store, parts.github, after) == 1
        assert expired.tell(store, parts.github, after + timedelta(days=1)) == 0  # never twice for one lapse
        (issue,) = github.repos[REPO].issues.values()
        assert issue["title"] == "Exemption expired: jobs/enrich.py" and issue["user"]["login"] == "batch-review[bot]"
        assert issue["body"].startswith(EXPIRED_MARKER.format(workload="jobs/enrich.py"))
        assert "@carol" in issue["body"] and "@mallory" not in issue["body"] and "#1" not in issue["body"]
        assert "@&#8203;mallory #&#8203;1" in issue["body"] and until.isoformat() in issue["body"]

        # Exempted again on PR 3 by dan (a new lapse of the same workload): the open issue is updated, not doubled.
        again = until + timedelta(days=20)
        deliver(url, "issue_comment", exempt(github, 3, "dan", again, "one more week"))
        wait_until(lambda: (store.cache_get(EXEMPTIONS, f"{REPO}#3") or {}).get("until") == again.isoformat(),
                   what="PR 3's own exemption kept")
        wait_until(lambda: settled(store), what="the queue to empty")
        assert expired.tell(store, parts.github, again + timedelta(days=1)) == 1
    (issue,) = github.repos[REPO].issues.values()
    assert "@dan" in issue["body"] and "@carol" not in issue["body"] and again.isoformat() in issue["body"]
    creating = [c for c in github.calls if c.route == "/repos/{owner}/{repo}/issues"]
    updating = [c for c in github.calls if c.route == "/repos/{owner}/{repo}/issues/{issue_number}"]
    assert (len(creating), len(updating)) == (1, 1) and updating[0].method == "PATCH"


def test_a_closed_issue_is_left_closed_and_the_next_lapse_opens_a_new_one(github, sqlite_url):
    store = Store(sqlite_url)
    store.cache_put(EXEMPTIONS, f"{REPO}#2", {"by": "carol", "reason": "", "until": "2026-11-01", "url": "u",
                                              "paths": ["jobs/enrich.py"], "number": 2})
    parts_github = GitHubApp(APP_ID, private_key(), base_url=github.base_url, pacing=NO_WAITS)
    assert expired.tell(store, parts_github, date(2026, 11, 2)) == 1
    (issue,) = github.repos[REPO].issues.values()
    issue["state"] = "closed"  # someone closed it
    store.cache_put(EXEMPTIONS, f"{REPO}#2", {"by": "carol", "reason": "", "until": "2026-12-01", "url": "u",
                                              "paths": ["jobs/enrich.py"], "number": 2})
    assert expired.tell(store, parts_github, date(2026, 12, 2)) == 1
    assert [i["state"] for i in github.repos[REPO].issues.values()] == ["closed", "open"]
    assert expired.tell(store, parts_github, date(2027, 2, 1)) == 0  # told already
    store.close()


def test_a_lapse_older_than_a_month_when_first_seen_is_not_told_and_a_refusing_repository_waits(github, sqlite_url):
    store = Store(sqlite_url)
    app = GitHubApp(APP_ID, private_key(), base_url=github.base_url, pacing=NO_WAITS)
    store.cache_put(EXEMPTIONS, f"{REPO}#2", {"by": "carol", "reason": "", "until": "2026-01-01", "url": "u",
                                              "paths": ["jobs/enrich.py"], "number": 2})
    store.cache_put(EXEMPTIONS, "octo-org/gone#4", {"by": "carol", "reason": "", "until": "2026-11-01", "url": "u",
                                                    "paths": ["a.py"], "number": 4})  # the App is not installed there
    assert expired.tell(store, app, date(2026, 11, 2)) == 0
    assert github.repos[REPO].issues == {} and store.cache_get(expired.KIND, "octo-org/gone#a.py") is None
    store.close()


def test_an_organisation_in_shadow_mode_hears_of_a_lapse_only_once_it_is_live(github, sqlite_url):
    store = Store(sqlite_url)
    app = GitHubApp(APP_ID, private_key(), base_url=github.base_url, pacing=NO_WAITS)
    store.cache_put(EXEMPTIONS, f"{REPO}#2", {"by": "carol", "reason": "", "until": "2026-11-01", "url": "u",
                                              "paths": ["jobs/enrich.py"], "number": 2})
    organisation = f"{REPO.split('/')[0]}/.github"
    github.add_repo(organisation)
    github.put_file(organisation, ".github/batch-review.yml", "mode: shadow\n")
    assert expired.tell(store, app, date(2026, 11, 2)) == 0 and github.repos[REPO].issues == {}
    github.put_file(organisation, ".github/batch-review.yml", "mode: live\n")
    assert expired.tell(store, app, date(2026, 11, 3)) == 1 and len(github.repos[REPO].issues) == 1
    store.close()


def test_servers_sharing_a_database_queue_the_day_once(sqlite_url):
    store = Store(sqlite_url)
    clock = lambda: datetime(2026, 11, 3, 8, tzinfo=timezone.utc).timestamp()  # noqa: E731
    queued = queued_by_two_schedulers(store, lambda *args: expired.schedule(*args, every=0.01, clock=clock))
    assert queued == ([(expired.KIND, "", "2026-11-03")], 1)
    store.close()

def test_a_repository_with_two_lapses_is_reached_once_a_run(github, sqlite_url):
    store = Store(sqlite_url)
    app = GitHubApp(APP_ID, private_key(), base_url=github.base_url, pacing=NO_WAITS)
    for number, path in ((2, "jobs/enrich.py"), (3, "jobs/tag.py")):
        store.cache_put(EXEMPTIONS, f"{REPO}#{number}", {"by": "carol", "reason": "", "until": "2026-11-01", "url": "u",
                                                         "paths": [path], "number": number})
    assert expired.tell(store, app, date(2026, 11, 2)) == 2
    assert [c.route for c in github.calls].count("/repos/{owner}/{repo}/installation") == 1
    store.close()
