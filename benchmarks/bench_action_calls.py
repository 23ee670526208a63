"""How many GitHub API calls the Action makes per event, on a PR with 10 changed files and 5 comments.

Runs `batch-review action` against the fake GitHub API from the tests, for a first review, an
unchanged re-run and a reviewer's answer label, and prints the reads and writes of each.

Run: python benchmarks/bench_action_calls.py
"""

import contextlib
import io
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli.action import act
from tests.checklists import filled  # noqa: E402
from tests.fake_github import NO_WAITS, FakeGitHub  # noqa: E402

REPO, NUMBER, TOKEN = "Codertocat/Hello-World", 2, "actions-token"
WEBHOOKS = ROOT / "tests" / "fixtures" / "webhooks" / "pull_request"


def run(fake, folder: Path, event: dict) -> Counter:
    """One Action run; the calls it made, by method and route."""
    path = folder / "event.json"
    path.write_text(json.dumps(event))
    fake.calls.clear()
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": REPO,
           "GITHUB_API_URL": fake.base_url, "GITHUB_TOKEN": TOKEN, "GITHUB_OUTPUT": str(folder / "output"),
           "GITHUB_STEP_SUMMARY": str(folder / "summary"), "INPUT_ACTIONS_TOKEN": "true"}
    with contextlib.redirect_stdout(io.StringIO()):  # the Action's own log lines
        assert act(env, NO_WAITS) == 0
    assert not fake.problems, fake.problems
    return Counter(f"{c.method} {c.route}" for c in fake.calls)


def event(fake, action: str, number: int = NUMBER) -> dict:
    delivery = json.loads((WEBHOOKS / f"{action}.payload.json").read_text())
    return {**delivery, "action": action, "pull_request": fake.pull_json(REPO, fake.repos[REPO].pulls[number])}


def main() -> None:
    with FakeGitHub() as fake, tempfile.TemporaryDirectory() as folder:
        fake.add_token(TOKEN)
        fake.add_repo(REPO)
        fake.put_file(REPO, ".github/batch-review.yml", "volume_threshold: 300\n")
        fake.add_pull(REPO, NUMBER, body=filled(human_waiting="no", volume="yes"), author="Codertocat")
        fake.add_files(REPO, NUMBER, [(f"src/module_{i}.py", "@@ -1 +1 @@\n-a\n+b") for i in range(10)])
        for i in range(5):
            fake.add_comment(REPO, NUMBER, f"reviewer{i}", f"Looks good, one nit ({i}).")
        opened = event(fake, "opened")  # each delivery carries the pull request as it is, as GitHub's do
        rows = [("first review (opened)", run(fake, Path(folder), opened)),
                ("unchanged re-run (opened again)", run(fake, Path(folder), opened))]
        fake.apply_label(REPO, NUMBER, "batch/can-wait", by="a-reviewer")
        rows.append(("answer label applied (labeled)", run(fake, Path(folder), {**event(fake, "labeled"),
                                                                               "label": {"name": "batch/can-wait"}})))
        fake.add_pull(REPO, NUMBER + 1, body=filled(human_waiting="no", volume="yes"), author="Codertocat")
        fake.add_files(REPO, NUMBER + 1, [(f"src/module_{i}.py", "@@ -1 +1 @@\n-a\n+b") for i in range(10)])
        rows.append(("first review, label exists", run(fake, Path(folder), event(fake, "opened", NUMBER + 1))))
    print("GitHub API calls per event: a PR with 10 changed files and 5 comments, config file present\n")
    goals = ["<= 7 (label created)", "<= 3 reads, 0 writes", "", "<= 6"]
    print(f"{'event':<32} {'reads':>5} {'writes':>6} {'total':>5}  goal")
    for (name, calls), goal in zip(rows, goals):
        reads = sum(n for call, n in calls.items() if call.startswith("GET "))
        total = sum(calls.values())
        print(f"{name:<32} {reads:>5} {total - reads:>6} {total:>5}  {goal}")
    for name, calls in rows:
        print(f"\n{name}:")
        for call, count in calls.items():
            print(f"  {count} x {call}")


def app_first_review() -> Counter:
    """The App's calls for one PR's first review (10 files, 5 comments), check run and installation token included."""
    import tempfile as files  # the App's imports (Flask, SQLAlchemy) only for this part

    from bot.app.server import create_app
    from bot.app.store import PENDING
    from tests.app_support import INSTALLATION, REPO as APP_REPO, deliver, github_with_app, pr_event, serving, settings, wait_until

    with github_with_app() as fake, files.TemporaryDirectory() as folder:
        fake.put_file(APP_REPO, ".github/batch-review.yml", "volume_threshold: 300\n")
        fake.add_files(APP_REPO, 2, [(f"src/module_{i}.py", "@@ -1 +1 @@\n-a\n+b") for i in range(10)])
        for i in range(5):
            fake.add_comment(APP_REPO, 2, f"reviewer{i}", f"Looks good, one nit ({i}).")
        app = create_app(settings(f"sqlite:///{folder}/app.sqlite3", GITHUB_API_URL=fake.base_url,
                                  GITHUB_PACING=NO_WAITS))
        store = app.extensions["batch-review"].store
        with serving(app) as url:
            wait_until(lambda: fake.calls, what="the App's identity")  # GET /app at start-up, not per review
            fake.calls.clear()
            deliver(url, "pull_request", pr_event("opened", repo=APP_REPO, number=2, installation=INSTALLATION))
            wait_until(lambda: store.counts()[PENDING] == 0 and store.history(), what="the review")
        app.extensions["batch-review"].workers.stop()
        return Counter(f"{c.method} {c.route}" for c in fake.calls)


if __name__ == "__main__":
    main()
    calls = app_first_review()
    print(f"\nApp, first review (check run and installation token included): {sum(calls.values())} calls (goal <= 8)")
    for call, count in calls.items():
        print(f"  {count} x {call}")
