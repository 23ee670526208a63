"""The monthly report as an issue: queued once a month by the App, opened once through its installation; search funnel."""

import json
import threading
import time
from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlsplit

import responses

from bot.app import monthly_issue as metric_issue
from bot.app.server import create_app
from bot.app.store import Lease, Store
from bot.clients.github import GitHub, GitHubApp
from bot.core.names import REPORT_MARKER
from bot.metric.source import load_config, search_funnel
from tests.app_support import private_key, queued_by_two_schedulers, serving, settings, wait_until
from tests.fake_github import NO_WAITS
from tests.metric_support import metric_config, metric_database  # noqa: F401  (fixtures)

API = "https://ghe.example:443/api/v3"  # PyGithub spells the port out
RETRO = "acme/retro"
TITLE = "batch-review: batch share for Oct 2026"


def github_api(found_issue=None):
    """GitHub as the report needs it (installation lookup and token, issue search, issue creation), via `responses`."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_passthru("http://127.0.0.1")
    mock.get(f"{API}/app", json={"id": 12345, "slug": "batch-review", "name": "batch-review"})
    mock.get(f"{API}/repos/{RETRO}/installation", json={"id": 77, "app_id": 12345, "account": {"login": "acme"}})
    mock.post(f"{API}/app/installations/77/access_tokens", status=201,
              json={"token": "ghs_installation", "expires_at": "2099-01-01T00:00:00Z"})
    mock.get(f"{API}/search/issues", json={"total_count": len(found_issue or ()), "incomplete_results": False,
                                            "items": found_issue or []})
    mock.post(f"{API}/repos/{RETRO}/issues", status=201,
              json={"number": 12, "html_url": f"https://ghe.example/{RETRO}/issues/12", "title": TITLE})
    return mock


def created(mock):
    return [json.loads(call.request.body) for call in mock.calls
            if call.request.method == "POST" and call.request.url.endswith("/issues")]


def report_lease():
    return Lease(id=1, kind=metric_issue.KIND, installation_id=0, repo=RETRO, subject="2026-10", generation=1,
                 attempts=1, owner="test", expires=0.0)


def test_the_worker_opens_the_report_issue_once(metric_database, metric_config):
    store = Store(metric_database)
    app = GitHubApp(12345, private_key(), base_url=API, pacing=NO_WAITS)
    work = metric_issue.with_reports(lambda lease: "reviewed", store, app, lambda: load_config(str(metric_config)))
    with github_api() as mock:
        assert work(report_lease()) is None
        assert work(report_lease()) is None  # done already: GitHub is not asked again
        assert work(Lease(2, "review", 1, "acme/app", "3", 1, 1, "test", 0.0)) == "reviewed"
        (issue,) = created(mock)  # (responses forgets its calls on leaving the block)
        token_use = [call.request.headers.get("Authorization") for call in mock.calls if "/search/" in call.request.url]
    assert issue["title"] == TITLE and set(issue) == {"title", "body"}
    assert issue["body"].startswith(REPORT_MARKER.format(month="2026-10")) and "**70.0%**" in issue["body"]
    assert "xychart-beta" in issue["body"] and "Up 30.0 points" in issue["body"]
    assert token_use == ["token ghs_installation"]
    assert store.cache_get(metric_issue.KIND, "2026-10")["url"].endswith("/issues/12")
    store.close()


def test_an_issue_already_opened_for_the_month_is_found_not_duplicated(metric_database, metric_config):
    store = Store(metric_database)
    app = GitHubApp(12345, private_key(), base_url=API, pacing=NO_WAITS)
    work = metric_issue.with_reports(lambda lease: None, store, app, lambda: load_config(str(metric_config)))
    existing = {"number": 9, "title": TITLE, "html_url": f"https://ghe.example/{RETRO}/issues/9",
                "body": REPORT_MARKER.format(month="2026-10") + "\n# earlier run"}
    with github_api(found_issue=[existing]) as mock:
        work(report_lease())
        assert created(mock) == []
    assert store.cache_get(metric_issue.KIND, "2026-10")["url"].endswith("/issues/9")
    store.close()


def test_servers_sharing_a_database_queue_the_month_once(metric_database, metric_config):
    store = Store(metric_database)
    clock = lambda: datetime(2026, 11, 3, 8, tzinfo=timezone.utc).timestamp()  # noqa: E731
    config = lambda: load_config(str(metric_config))  # noqa: E731
    queued = queued_by_two_schedulers(store, lambda store, wake, stop: metric_issue.schedule(
        store, config, wake, stop, every=0.01, clock=clock))
    assert queued == ([(metric_issue.KIND, RETRO, "2026-10")], 1)
    store.close()


def test_no_report_repo_queues_nothing(tmp_path, metric_database):
    store = Store(metric_database)
    stop = threading.Event()
    config = tmp_path / "quiet.yml"
    config.write_text("metric: {eligible: [apikey_01Jobs]}\n")
    looked = threading.Event()

    def config_of():
        looked.set()
        return load_config(str(config))

    thread = metric_issue.schedule(store, config_of, lambda: None, stop, every=0.01)
    looked.wait(5)
    stop.set()
    thread.join(5)
    assert store.counts() == {"pending": 0, "failed": 0}
    store.close()


def test_the_app_opens_last_months_report_where_configured(metric_database, metric_config):
    config = settings(metric_database, BATCH_REVIEW_CONFIG=str(metric_config), GITHUB_API_URL=API, GITHUB_PACING=NO_WAITS,
                      REPORT_CHECK_SECONDS=0.05)
    month = metric_issue.due_month(datetime.now(timezone.utc))
    with github_api() as mock:
        app = create_app(config)
        with serving(app):
            wait_until(lambda: created(mock), what="the report issue")
            store = app.extensions["batch-review"].store
            wait_until(lambda: store.cache_get(metric_issue.KIND, month), what="the issue remembered")
            time.sleep(0.2)  # the scheduler looked again
        (issue,) = created(mock)
    assert issue["body"].startswith(REPORT_MARKER.format(month=month))


def test_the_funnel_of_an_action_only_install_comes_from_githubs_search():
    asked = []

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)["q"][0]
        asked.append(query)
        count = 0 if "2026-09" in query else (1 if "batch/adopted" in query else 4)
        return 200, {}, json.dumps({"total_count": count, "incomplete_results": False, "items": []})

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, f"{API}/search/issues", callback=answer)
        funnel = search_funnel(GitHub("ghp_test", base_url=API, pacing=NO_WAITS), "org:acme",
                               [date(2026, 9, 1), date(2026, 10, 1)])
    assert [(f.month, f.flagged, f.adopted) for f in funnel] == [("2026-09", 0, 0), ("2026-10", 4, 1)]
    assert asked == ['org:acme is:pr label:"batch/candidate" created:2026-09-01..2026-09-30',
                     'org:acme is:pr label:"batch/candidate" created:2026-10-01..2026-10-31',
                     'org:acme is:pr label:"batch/candidate" created:2026-10-01..2026-10-31 label:"batch/adopted"']


def test_the_scheduled_workflow_for_action_only_installs():
    import shlex

    import yaml

    from bot.cli.main import build_parser
    from tests.conftest import ROOT

    workflow = yaml.safe_load((ROOT / "templates" / "workflow-metric-report.yml").read_text())
    assert workflow[True]["schedule"] == [{"cron": "17 6 1 * *"}] and "workflow_dispatch" in workflow[True]
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write", "pull-requests": "read"}
    steps = job["steps"]
    assert all("${{" not in step.get("run", "") for step in steps)  # expressions reach scripts through env only
    holders = [step["name"] for step in steps if "ANTHROPIC_ADMIN_KEY" in json.dumps(step.get("env", {}))]
    assert holders == ["Fetch the Admin usage report"]
    commands = [line.strip() for step in steps for line in step.get("run", "").splitlines()
                if line.strip().startswith("batch-review ")]
    assert len(commands) == 2
    for command in commands:
        args = build_parser(shlex.split(command)[1]).parse_args(shlex.split(command)[1:])  # each command line is one the CLI takes
        assert args.command in ("metric", "report")
