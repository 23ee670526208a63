"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright; the chart and figures match the data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.server import create_app
from bot.metric import format as fmt
from bot.metric import sample as metric_sample
from tests.app_support import serving, settings
from tests.conftest import ROOT
from tests.metric_support import metric_config, metric_database  # noqa: F401  (fixtures)

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "browser-test-token"


@pytest.fixture(scope="module")
def browser():
    """Chromium driven by Playwright; skipped (failed in CI: BATCH_REVIEW_REQUIRE_BROWSER) when either is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright package is not installed (pip install '.[test]')"
    else:
        reason = None if Path(CHROMIUM).exists() else f"chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if reason:
        if os.environ.get("BATCH_REVIEW_REQUIRE_BROWSER"):
            pytest.fail(reason + "; BATCH_REVIEW_REQUIRE_BROWSER is set")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


def circles(page, series):
    """{month label: share} of the chart's points in one series, read from the rendered SVG."""
    found = page.locator(f'#trend-chart g[data-series="{series}"] circle')
    return {found.nth(i).get_attribute("data-month"): float(found.nth(i).get_attribute("data-share"))
            for i in range(found.count())}


def test_the_apps_dashboard_shows_the_databases_figures(metric_database, metric_config, page):
    app = create_app(settings(metric_database, DASHBOARD_TOKEN=TOKEN, BATCH_REVIEW_CONFIG=str(metric_config)))
    with serving(app) as base:
        refused = page.goto(f"{base}/dashboard?month=2026-10")
        assert refused.status == 401 and "DASHBOARD_TOKEN" in page.inner_text("body")
        page.goto(f"{base}/dashboard/login")  # the sign-in form sets the cookie
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        shown = page.goto(f"{base}/dashboard?month=2026-10")
        assert shown.status == 200
        chart = page.locator("#trend-chart")
        assert chart.is_visible() and chart.bounding_box()["width"] > 600
        eligible, overall = circles(page, "eligible"), circles(page, "overall")
        assert {month: eligible[month] for month in ("Aug 2026", "Sep 2026", "Oct 2026")} == {
            "Aug 2026": 20.0, "Sep 2026": 40.0, "Oct 2026": 70.0}
        assert overall["Oct 2026"] == 10.0 and len(eligible) == len(overall) == 3
        heights = [page.locator(f'#trend-chart g[data-series="eligible"] circle[data-month="{m}"]').bounding_box()["y"]
                   for m in ("Aug 2026", "Sep 2026", "Oct 2026")]
        assert heights == sorted(heights, reverse=True)  # a rising share climbs on screen
        assert page.inner_text("#eligible-share") == "70.0%" and page.inner_text("#overall-share") == "10.0%"
        assert page.inner_text("#movement").startswith("Up 30.0 points from Sep 2026")
        assert page.inner_text("#money-left") == "$75" and page.inner_text("#funnel-focus") == "2 / 1"
        october = page.locator('#months tr[data-month="2026-10"]')
        assert october.locator(".eligible-share").inner_text() == "70.0%"
        assert october.locator(".overall-share").inner_text() == "10.0%"
        assert page.locator('#funnel tr[data-month="2026-10"] .adopted').inner_text() == "1"
        assert page.locator("#repos td").first.inner_text() == "acme/<jobs>"


def test_a_newcomer_reads_the_sample_trend_from_batch_review_dashboard(page):
    served = subprocess.Popen([sys.executable, "-m", "bot.cli", "dashboard", "--sample", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        line = served.stdout.readline()
        assert "http://127.0.0.1:" in line, served.stderr.read()
        address = line.split()[3]
        assert page.goto(address).status == 200
        expected = metric_sample.compute()
        shown = circles(page, "eligible")
        assert shown == {p.label: round(100 * p.eligible.share, 1) for p in expected.months if p.eligible.share is not None}
        assert page.inner_text("#eligible-share") == fmt.percent(expected.focus.eligible.share)
        assert page.inner_text("#movement").startswith("Up ") and "sample data" in page.inner_text("header")
        rows = page.locator("#months tbody tr")
        assert rows.count() == len(expected.months)
        assert page.locator("#months tr.focus td").first.inner_text() == expected.focus.label
        teams = page.locator("#teams tbody tr")
        assert teams.count() == len(expected.teams) and teams.first.get_attribute("data-team") == expected.teams[0].name
        first_pr = page.locator("#teams tbody tr a").first
        assert first_pr.get_attribute("href") == "https://github.com/{}/pull/{}".format(*expected.teams[0].open_prs[0])
    finally:
        served.terminate()
        served.wait(timeout=10)
