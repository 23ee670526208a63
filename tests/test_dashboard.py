"""The dashboard and the report from a database: the App's GET /dashboard and its token, the page, the Markdown report."""

import re
import subprocess
import sys

import pytest
import requests

from bot.app.dashboard import refusal, session
from bot.app.server import create_app
from bot.app.store import Store
from bot.core.names import DASHBOARD_REFUSALS
from bot.metric import compute as metric
from bot.metric import source as metric_source
from bot.metric import view as metric_view
from bot.metric.source import load_config
from tests.app_support import serving, settings
from tests.conftest import ROOT
from tests.metric_support import metric_config, metric_database  # noqa: F401  (fixtures)

TOKEN = "s3cret-dashboard-token"


def figures(metric_database, metric_config, month="2026-10"):
    store = Store(metric_database)
    try:
        return metric_source.from_store(store, load_config(str(metric_config)), focus=metric.parse_month(month))
    finally:
        store.close()


def test_the_figures_come_from_the_stored_usage_and_history(metric_database, metric_config):
    shown = figures(metric_database, metric_config)
    assert shown.focus.key == "2026-10" and shown.focus.eligible.share == pytest.approx(0.7)
    assert shown.focus.overall.share == pytest.approx(0.1) and not shown.focus.partial
    assert shown.movement.direction == "up" and shown.movement.points == pytest.approx(30)
    assert shown.focus.money_left == pytest.approx(75.0)
    oct_ = next(f for f in shown.funnel if f.month == "2026-10")
    assert (oct_.flagged, oct_.adopted) == (2, 1)
    assert [(r.name, r.tokens, r.open_candidates) for r in shown.repos] == [("acme/<jobs>", 30_000_000, 1)]


@pytest.mark.parametrize("token, header, cookie, query, expected", [
    (None, None, None, False, "off"), ("", "Bearer x", session("x"), False, "off"),
    ("t0k", None, None, False, "token"), ("t0k", "Bearer nope", None, False, "token"),
    ("t0k", None, "t0k", False, "token"), ("t0k", None, session("nope"), False, "token"),
    ("t0k", "Bearer t0k", None, False, None), ("t0k", "bearer   t0k ", None, False, None),
    ("t0k", None, session("t0k"), False, None), ("t0k", "Basic dXNlcg==", session("t0k"), False, None),
    ("t0k", "Bearer", session("t0k"), False, "token"), ("t0k", "Bearer t0k", None, True, "query"),
])
def test_who_may_see_the_page(token, header, cookie, query, expected):
    assert refusal(token, header, cookie, query) == expected


def test_the_app_serves_the_dashboard_only_with_its_token(tmp_path, metric_database, metric_config):
    app = create_app(settings(metric_database, DASHBOARD_TOKEN=TOKEN, BATCH_REVIEW_CONFIG=str(metric_config)))
    with serving(app) as url:
        page = f"{url}/dashboard?month=2026-10"
        missing = requests.get(page, timeout=10)
        wrong = requests.get(page, headers={"Authorization": "Bearer wrong"}, timeout=10)
        by_header = requests.get(page, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        by_query = requests.get(f"{page}&token={TOKEN}", timeout=10)
        signed_in, refused = requests.Session(), requests.Session()
        wrong_login = refused.post(f"{url}/dashboard/login", data={"token": "wrong"}, timeout=10)
        login = signed_in.post(f"{url}/dashboard/login", data={"token": TOKEN}, allow_redirects=False, timeout=10)
        by_cookie = signed_in.get(page, timeout=10)
        bad_month = requests.get(f"{url}/dashboard?month=October", headers={"Authorization": f"Bearer {TOKEN}"},
                                 timeout=10)
    assert missing.status_code == wrong.status_code == 401
    assert missing.text.strip() == DASHBOARD_REFUSALS["token"] and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert by_query.status_code == 400 and by_query.text.strip() == DASHBOARD_REFUSALS["query"]
    assert wrong_login.status_code == 401 and not refused.cookies
    assert login.status_code == 303 and login.headers["Location"].endswith("/dashboard")
    cookie = login.headers["Set-Cookie"]
    assert TOKEN not in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert by_header.status_code == by_cookie.status_code == 200
    assert by_header.headers["Cache-Control"] == "no-store" and by_header.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in by_header.headers["Content-Security-Policy"] and "<script" not in by_header.text
    for answer in (by_header, by_cookie):
        assert 'id="eligible-share">70.0%<' in answer.text and "acme/&lt;jobs&gt;" in answer.text
    assert "<jobs>" not in by_header.text
    assert bad_month.status_code == 400 and "YYYY-MM" in bad_month.text


def test_without_a_token_setting_the_app_refuses_and_says_how_to_turn_it_on(metric_database, metric_config):
    app = create_app(settings(metric_database, BATCH_REVIEW_CONFIG=str(metric_config)))
    with serving(app) as url:
        answer = requests.get(f"{url}/dashboard", headers={"Authorization": "Bearer anything"}, timeout=10)
    assert answer.status_code == 403 and "DASHBOARD_TOKEN" in answer.text and "batch-review dashboard" in answer.text


def test_a_broken_config_file_is_a_clear_error_not_a_crash(tmp_path, metric_database):
    broken = tmp_path / "broken.yml"
    broken.write_text("metric: {eligible: 3}\n")
    app = create_app(settings(metric_database, DASHBOARD_TOKEN=TOKEN, BATCH_REVIEW_CONFIG=str(broken)))
    with serving(app) as url:
        answer, again = (requests.get(f"{url}/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
                         for _ in range(2))
    assert answer.status_code == again.status_code == 500 and "`metric.eligible: 3` has the wrong type" in answer.text


def test_the_report_says_the_share_went_up_with_a_table_and_a_mermaid_chart(metric_database, metric_config):
    text = metric_view.report(figures(metric_database, metric_config))
    assert text.startswith("<!-- batch-review: report 2026-10 -->\n# batch-review: batch share for Oct 2026\n")
    assert "**70.0%** of the eligible token volume" in text and "overall, 10.0%" in text
    assert "Up 30.0 points from Sep 2026 (40.0% to 70.0%)" in text and "Celebrate" in text
    assert "| **Oct 2026** | 70.0% | 10.0% | 100.0M | 70.0M | 30.0M | $75 | complete |" in text
    chart = re.search(r"```mermaid\n(.*?)```", text, re.S).group(1)
    assert chart.startswith("xychart-beta\n") and '"Aug 26", "Sep 26", "Oct 26"' in chart
    assert "line [20.0, 40.0, 70.0]" in chart and "line [3.3, 6.7, 10.0]" in chart
    assert "| acme/&lt;jobs&gt; | 30.0M | $75 | 1 |" in text  # repository names are escaped


def test_report_command_writes_the_sample_and_the_database(tmp_path, metric_database, metric_config):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DATABASE_URL": metric_database}
    sample = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--sample"], capture_output=True, text=True,
                            env=env, cwd=tmp_path)
    assert sample.returncode == 0, sample.stderr
    assert "# batch-review: batch share for Oct 2026" in sample.stdout and "xychart-beta" in sample.stdout
    teams = sample.stdout.split("## By team", 1)[1].split("##", 1)[0]
    assert "| @\u200bacme/data | 8 | 4 |" in teams and "[acme/search-indexer\\#119]" in teams and "#129]" not in teams  # no @mention
    out = tmp_path / "retro.md"
    written = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--month", "2026-09", "--config",
                              str(metric_config), "--output", str(out)], capture_output=True, text=True, env=env,
                             cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "40.0%" in out.read_text() and "Up 20.0 points from Aug 2026" in out.read_text()
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--month", "Sept"], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_dashboard_command_writes_the_sample_page(tmp_path):
    page = tmp_path / "dashboard.html"
    done = subprocess.run([sys.executable, "-m", "bot.cli", "dashboard", "--sample", "--output", str(page)],
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "<svg" in page.read_text() and "sample data" in page.read_text()


def test_report_asks_for_a_token_before_touching_github(tmp_path, metric_database):
    done = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--open-issue", "acme/retro"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DATABASE_URL": metric_database})
    assert done.returncode == 2 and "GITHUB_TOKEN is not set" in done.stderr and done.stdout == ""
