"""The App's webhook server over a real socket: signatures, routing, dedup, collapse, retries, settings."""

import json
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from bot.app.events import LABELS, MERGE_GROUP, ONBOARD, REVIEW, manifest, manifest_form, signature, signature_matches
from bot.app.server import create_app
from bot.app.settings import SettingsError
from bot.app.events import Task
from bot.app.store import FAILED, PENDING, Store, pending
from bot.app.worker import Workers
from tests.app_support import (
    WEBHOOKS,
    Recorder,
    command_event,
    deliver,
    merge_group_event,
    payload,
    pr_event,
    private_key,
    serving,
    settings,
    wait_until,
)
from tests.databases import database_url, postgres_database, sqlite_url  # noqa: F401  (fixtures)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def served(sqlite_url, recorder):
    """The app with worker threads on a SQLite file; yields (base URL, app)."""
    app = create_app(settings(sqlite_url, WORK=recorder))
    with serving(app) as url:
        yield url, app


def store_of(app):
    return app.extensions["batch-review"].store


def test_githubs_own_signature_test_vector():
    vector = json.loads((WEBHOOKS / "delivery_headers_and_hmac_vector.json").read_text())["hmac_sha256_test_vector"]
    body = vector["payload"].encode()
    assert signature(vector["secret"], body) == vector["x_hub_signature_256"]
    assert signature_matches(vector["secret"], body, vector["x_hub_signature_256"])
    assert not signature_matches(vector["secret"], body + b" ", vector["x_hub_signature_256"])
    assert not signature_matches(vector["secret"], body, None)


def test_the_vector_passes_the_server_signature_check(sqlite_url, recorder):
    vector = json.loads((WEBHOOKS / "delivery_headers_and_hmac_vector.json").read_text())["hmac_sha256_test_vector"]
    app = create_app(settings(sqlite_url, WORK=recorder, GITHUB_WEBHOOK_SECRET=vector["secret"]))
    with serving(app) as url:
        answer = deliver(url, "pull_request", vector["payload"].encode(), sign=False,
                         headers={"X-Hub-Signature-256": vector["x_hub_signature_256"]})
        assert answer.status_code == 400  # signed right; "Hello, World!" is not JSON
        assert "bad payload" in answer.json()["error"]


@pytest.mark.parametrize("headers", [{}, {"X-Hub-Signature-256": "sha256=" + "0" * 64},
                                     {"X-Hub-Signature-256": "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6"},
                                     {"X-Hub-Signature-256": signature("another secret", b"{}")}])
def test_a_missing_or_wrong_signature_is_401_and_nothing_happens(served, recorder, headers):
    url, app = served
    answer = deliver(url, "pull_request", pr_event(), sign=False, headers=headers)
    assert answer.status_code == 401
    answer = deliver(url, "pull_request", b"not even json", sign=False, headers=headers)
    assert answer.status_code == 401
    assert store_of(app).counts() == {PENDING: 0, FAILED: 0}
    assert recorder.calls == 0


@pytest.mark.parametrize("name", ["ping/payload.json", "ping/with-app_id.payload.json",
                                  "ping/with-organization.payload.json"])
def test_ping_is_answered(served, name):
    url, _ = served
    answer = deliver(url, "ping", payload(name))
    assert answer.status_code == 200 and answer.json()["reason"] == "pong"


@pytest.mark.parametrize("event, name", [
    ("pull_request", "pull_request/closed.payload.json"),
    ("pull_request", "pull_request/labeled.payload.json"),  # "bug" is not an answer label
    ("issue_comment", "issue_comment/created.with-installation.payload.json"),  # on an issue, no command
    ("pull_request", "pull_request/ready_for_review.payload.json"),  # no installation: not an App delivery
    ("issues", "issue_comment/created.payload.json"),
])
def test_events_it_does_not_handle_get_2xx_and_nothing_else(served, recorder, event, name):
    url, app = served
    answer = deliver(url, event, payload(name))
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    assert store_of(app).counts()[PENDING] == 0


@pytest.mark.parametrize("name", ["opened.payload.json", "opened.with-null-body.json",
                                  "opened.with-organization.payload.json", "synchronize.payload.json",
                                  "reopened.payload.json", "labeled.payload.json", "unlabeled.payload.json",
                                  "ready_for_review.with-installation.payload.json",
                                  "converted_to_draft.with-installation.payload.json"])
def test_pull_request_events_are_reviewed(served, recorder, name):
    url, _ = served
    event = payload(f"pull_request/{name}")
    if "label" in event:
        event["label"]["name"] = "batch/high-volume"  # a change of answer label re-runs the review
    answer = deliver(url, "pull_request", event)
    assert answer.status_code == 202
    wait_until(lambda: recorder.done, what="the review")
    assert recorder.done == [(REVIEW, "Codertocat/Hello-World", "2")]


def test_an_edited_pull_request_from_another_bot_is_reviewed(served, recorder):
    url, _ = served
    edited = payload("third_party/angular-github-robot.pull_request.edited.json")["payload"]
    assert deliver(url, "pull_request", edited).status_code == 202
    wait_until(lambda: recorder.done, what="the review")
    assert recorder.done == [(REVIEW, edited["repository"]["full_name"], str(edited["number"]))]


@pytest.mark.parametrize("body, association, queued", [
    ("/batch-review", "MEMBER", True),
    ("/batch-review please", "OWNER", True),
    ("Thanks!\n/batch-review", "OWNER", False),
    ("/batch-review", "COLLABORATOR", True),
    ("/batch-review", "CONTRIBUTOR", True),  # the review answers it with its one reply to them
    ("/batch-review", "NONE", True),
    ("please run /batch-review", "OWNER", False),
    ("/batch-reviewer", "OWNER", False),
])
def test_a_command_from_anyone_asks_for_a_review_which_decides_who_counts(served, recorder, body, association, queued):
    url, app = served
    answer = deliver(url, "issue_comment", command_event(body, association, sender="hubot"))
    assert answer.status_code == (202 if queued else 200)
    if queued:
        wait_until(lambda: recorder.done, what="the review")
        assert recorder.done == [(REVIEW, "Codertocat/Hello-World", "2")]
    else:
        assert store_of(app).counts()[PENDING] == 0


def test_the_prs_author_may_answer_by_command_without_membership(served, recorder):
    url, _ = served
    answer = deliver(url, "issue_comment", command_event("/batch-review nobody waits", "CONTRIBUTOR"))  # Codertocat's PR
    assert answer.status_code == 202
    wait_until(lambda: recorder.done, what="the review")


def test_installing_creates_labels_and_onboards_each_repository(served, recorder):
    url, _ = served
    assert deliver(url, "installation", payload("installation/created.payload.json")).status_code == 202
    added = payload("installation_repositories/added.payload.json")
    assert deliver(url, "installation_repositories", added).status_code == 202
    wait_until(lambda: len(recorder.done) == 4, what="four tasks")
    assert sorted(recorder.done) == [(LABELS, "Codertocat/Hello-World", ""), (LABELS, "Codertocat/Space", ""),
                                     (ONBOARD, "Codertocat/Hello-World", ""), (ONBOARD, "Codertocat/Space", "")]


def test_a_merge_group_gets_its_check(served, recorder):
    url, _ = served
    assert deliver(url, "merge_group", merge_group_event()).status_code == 202
    wait_until(lambda: recorder.done, what="the merge group task")
    assert recorder.done == [(MERGE_GROUP, "Codertocat/Hello-World", "ec26c3e57ca3a959ca5aad62de7213c562f8c821")]


def test_a_redelivery_is_a_duplicate_even_after_a_restart(sqlite_url, recorder):
    event = pr_event()
    app = create_app(settings(sqlite_url, WORK=recorder))
    with serving(app) as url:
        assert deliver(url, "pull_request", event, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958").status_code == 202
        wait_until(lambda: recorder.done, what="the review")
        answer = deliver(url, "pull_request", event, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
        assert answer.status_code == 200 and answer.json()["status"] == "duplicate"
    again = create_app(settings(sqlite_url, WORK=recorder))
    with serving(again) as url:
        answer = deliver(url, "pull_request", event, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
        assert answer.json()["status"] == "duplicate"
        assert store_of(again).counts()[PENDING] == 0
    assert recorder.done == [(REVIEW, "Codertocat/Hello-World", "2")]


def test_ten_events_for_one_pr_at_once_make_one_review(database_url, recorder):
    app = create_app(settings(database_url, WORK=recorder, BATCH_REVIEW_WORKERS="0"))
    actions = ["opened", "labeled", "unlabeled", "synchronize", "reopened"] * 2
    with serving(app) as url:
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(lambda action: deliver(url, "pull_request", pr_event(action)), actions))
        assert [answer.status_code for answer in answers] == [202] * 10
        store = store_of(app)
        assert store.counts()[PENDING] == 1
        workers = Workers(store, recorder, 3, poll_seconds=0.02).start()
        wait_until(lambda: store.counts()[PENDING] == 0, what="the queue to empty")
        workers.stop()
    assert recorder.done == [(REVIEW, "Codertocat/Hello-World", "2")]


def test_an_event_during_a_review_makes_one_more_review(served, recorder):
    url, app = served
    recorder.gate.clear()
    deliver(url, "pull_request", pr_event("opened"))
    assert recorder.entered.wait(30)
    for action in ("labeled", "unlabeled", "synchronize"):
        assert deliver(url, "pull_request", pr_event(action)).status_code == 202
    recorder.gate.set()
    wait_until(lambda: store_of(app).counts()[PENDING] == 0 and len(recorder.done) == 2, what="two reviews")
    assert recorder.calls == 2


def test_a_failing_review_is_retried_until_it_works(sqlite_url):
    recorder = Recorder(failures=2)
    app = create_app(settings(sqlite_url, WORK=recorder))
    with serving(app) as url:
        deliver(url, "pull_request", pr_event())
        wait_until(lambda: recorder.done, what="the review")
        assert store_of(app).counts() == {PENDING: 0, FAILED: 0}
    assert recorder.calls == 3 and recorder.done == [(REVIEW, "Codertocat/Hello-World", "2")]


def test_a_review_that_keeps_failing_is_kept_as_failed_until_a_new_event(sqlite_url):
    recorder = Recorder(failures=3)
    app = create_app(settings(sqlite_url, WORK=recorder, MAX_ATTEMPTS=3))
    with serving(app) as url:
        deliver(url, "pull_request", pr_event())
        store = store_of(app)
        wait_until(lambda: store.counts()[FAILED] == 1, what="the failed row")
        assert store.failures() == [(REVIEW, "Codertocat/Hello-World", "2",
                                     "RuntimeError: GitHub answered 502 (call 3)")]
        deliver(url, "issue_comment", command_event())
        # the recorder notes the review before the worker clears the row: wait for both
        wait_until(lambda: recorder.done and store.counts() == {PENDING: 0, FAILED: 0}, what="the review after the command")


def test_a_body_over_25_mb_is_413(served):
    url, app = served
    answer = deliver(url, "pull_request", b"x" * (25 * 1024 * 1024 + 1))
    assert answer.status_code == 413
    assert store_of(app).counts()[PENDING] == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", json.dumps({"action": "opened", "installation": {"id": 1}}).encode()])
def test_a_malformed_payload_with_a_valid_signature_is_400_and_harms_nothing(served, recorder, body, caplog):
    url, _ = served
    answer = deliver(url, "pull_request", body)
    assert answer.status_code == 400 and "bad payload" in answer.json()["error"]
    assert "bad payload" in caplog.text
    assert deliver(url, "pull_request", pr_event()).status_code == 202
    wait_until(lambda: recorder.done, what="the next review")


def test_a_handled_delivery_without_its_id_is_400(served):
    url, _ = served
    assert deliver(url, "pull_request", pr_event(), headers={"X-GitHub-Delivery": ""}).status_code == 400


def without(name):
    return {name: ""}


@pytest.mark.parametrize("changes, named", [
    (without("GITHUB_APP_ID"), "GITHUB_APP_ID"),
    ({"GITHUB_APP_ID": "my-app"}, "GITHUB_APP_ID"),
    (without("GITHUB_APP_PRIVATE_KEY"), "GITHUB_APP_PRIVATE_KEY"),
    ({"GITHUB_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----"},
     "GITHUB_APP_PRIVATE_KEY"),
    ({"GITHUB_APP_PRIVATE_KEY": "", "GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent/key.pem"},
     "GITHUB_APP_PRIVATE_KEY_PATH"),
    ({"GITHUB_APP_PRIVATE_KEY_PATH": "/etc/hostname"}, "GITHUB_APP_PRIVATE_KEY_PATH"),
    (without("GITHUB_WEBHOOK_SECRET"), "GITHUB_WEBHOOK_SECRET"),
    ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL"),
    ({"DATABASE_URL": "mysql://localhost/db"}, "DATABASE_URL"),
    ({"BATCH_REVIEW_WORKERS": "many"}, "BATCH_REVIEW_WORKERS"),
    ({"BATCH_REVIEW_RETENTION_DAYS": "0"}, "BATCH_REVIEW_RETENTION_DAYS"),
])
def test_a_missing_or_malformed_setting_stops_start_up_by_name(sqlite_url, monkeypatch, changes, named):
    for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match=named) as raised:
        create_app({**settings(sqlite_url, WORK=Recorder()), **changes})
    assert private_key().splitlines()[1] not in str(raised.value)


def test_start_up_names_every_bad_setting_at_once(monkeypatch):
    for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as raised:
        create_app({"GITHUB_API_URL": "api.github.com", "BATCH_REVIEW_WORKERS": "many"})
    lines = str(raised.value).splitlines()
    assert lines[0] == "5 settings need fixing:"
    assert [line.split()[1] for line in lines[1:]] == ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET",
                                                       "GITHUB_API_URL", "BATCH_REVIEW_WORKERS"]


def test_the_key_can_come_from_a_file_or_from_one_escaped_line(sqlite_url, tmp_path):
    path = tmp_path / "app.pem"
    path.write_text(private_key())
    for key in ({"GITHUB_APP_PRIVATE_KEY": "", "GITHUB_APP_PRIVATE_KEY_PATH": str(path)},
                {"GITHUB_APP_PRIVATE_KEY": private_key().strip().replace("\n", "\\n")}):
        app = create_app({**settings(sqlite_url, WORK=Recorder(), BATCH_REVIEW_WORKERS="0"), **key})
        with serving(app) as url:
            assert deliver(url, "ping", payload("ping/payload.json")).status_code == 200


def test_the_manifest_asks_for_the_least_it_needs():
    document = manifest("https://review.example.com/")
    assert document["hook_attributes"] == {"url": "https://review.example.com/webhook", "active": True}
    assert document["default_permissions"] == {"pull_requests": "write", "issues": "write", "checks": "write",
                                               "contents": "write", "metadata": "read"}
    assert document["default_events"] == ["pull_request", "issue_comment", "merge_group", "check_run"]
    page = manifest_form(document, org="octo-org")
    assert 'action="https://github.com/organizations/octo-org/settings/apps/new"' in page
    assert "&quot;default_events&quot;" in page


def test_workers_in_the_web_process_stop_with_it(served):
    _, app = served
    state = app.extensions["batch-review"]
    assert state.workers.alive() == 2
    state.workers.stop(timeout=10)
    assert state.workers.alive() == 0


def test_the_app_command_prints_the_manifest_names_a_missing_setting_and_requeues(sqlite_url, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    def app_command(*words, **env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DATABASE_URL"))}
        return subprocess.run([sys.executable, "-m", "bot.cli", "app", *words], capture_output=True, text=True,
                              cwd=tmp_path, env={**clean, "PYTHONPATH": str(ROOT), **env})

    printed = app_command("manifest", "--url", "https://review.example.com")
    assert json.loads(printed.stdout) == manifest("https://review.example.com")
    refused = app_command("serve", "--port", "0")
    assert refused.returncode == 2 and "GITHUB_APP_ID is not set" in refused.stderr
    app = create_app(settings(sqlite_url, WORK=Recorder(failures=1), MAX_ATTEMPTS=1))
    with serving(app) as url:
        deliver(url, "pull_request", pr_event())
        wait_until(lambda: store_of(app).counts()[FAILED] == 1, what="the failed review")
    requeued = app_command("requeue", DATABASE_URL=sqlite_url)
    assert requeued.returncode == 0 and requeued.stdout.startswith("1 failed review back in the queue")


def test_a_chunked_body_over_25_mb_is_413(served):
    url, app = served
    pieces = (b"x" * (1024 * 1024) for _ in range(26))  # no Content-Length: sent chunked
    answer = requests.post(f"{url}/webhook", data=pieces, headers={"X-GitHub-Event": "pull_request"}, timeout=60)
    assert answer.status_code == 413
    assert store_of(app).counts()[PENDING] == 0


def test_a_signed_body_nested_100000_deep_is_400(served, recorder):
    url, _ = served
    answer = deliver(url, "pull_request", b"[" * 100_000 + b"]" * 100_000)
    assert answer.status_code == 400 and "bad payload" in answer.json()["error"]
    assert deliver(url, "pull_request", pr_event()).status_code == 202
    wait_until(lambda: recorder.done, what="the next review")


def _set(data, path, value):
    *parents, last = path.split(".")
    for name in parents:
        data = data[name]
    data[last] = value
    return data


@pytest.mark.parametrize("event, data, field, value", [
    ("pull_request", pr_event, "pull_request.number", "2abc"),
    ("pull_request", pr_event, "pull_request.number", True),
    ("pull_request", pr_event, "installation.id", "42"),
    ("pull_request", pr_event, "repository.full_name", "no-slash"),
    ("pull_request", pr_event, "repository.full_name", 7),
    ("pull_request", pr_event, "repository.id", "186853002"),
    ("issue_comment", command_event, "issue.number", 2.5),
    ("merge_group", merge_group_event, "merge_group.head_sha", "not a sha"),
])
def test_a_field_the_app_uses_is_checked_at_the_door(served, recorder, event, data, field, value):
    url, app = served
    body = data()
    _set(body, field, value)
    answer = deliver(url, event, body)
    assert answer.status_code == 400 and field in answer.json()["error"]
    assert store_of(app).counts()[PENDING] == 0


def lease_expires(store):
    with store.engine.connect() as conn:
        return conn.scalar(sa.select(pending.c.lease_expires))


def test_a_heartbeat_keeps_a_review_longer_than_the_lease_from_other_workers(sqlite_url):
    recorder = Recorder()
    recorder.gate.clear()
    app = create_app(settings(sqlite_url, WORK=recorder, LEASE_SECONDS=0.5, BATCH_REVIEW_WORKERS="1"))
    with serving(app) as url:
        store = store_of(app)
        other = Workers(store, recorder, 1, lease_seconds=0.5, poll_seconds=0.02).start()  # as if another machine
        deliver(url, "pull_request", pr_event())
        assert recorder.entered.wait(10)
        first = lease_expires(store)
        wait_until(lambda: lease_expires(store) > first + 2, what="the lease renewed past four lease periods")
        recorder.gate.set()
        wait_until(lambda: store.counts()[PENDING] == 0, what="the review")
        other.stop(10)
    assert recorder.calls == 1


def test_a_started_server_frees_the_rows_of_its_hosts_dead_processes_at_once(sqlite_url):
    store = Store(sqlite_url)
    store.record("d1", "pull_request", [Task(REVIEW, 1, "o/dead", "1"), Task(REVIEW, 1, "o/elsewhere", "2")])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    store.lease(f"{host}:{dead.stdout.strip()}:1.00:0", 600)  # a process that ran here and is gone
    store.lease(f"{host}-other-machine:1:1.00:0", 600)  # another machine's: it may still be working
    store.close()
    recorder = Recorder()
    app = create_app(settings(sqlite_url, WORK=recorder))
    with serving(app):
        wait_until(lambda: store_of(app).counts()[PENDING] == 1, what="the dead process's row reviewed")
        assert recorder.done == [(REVIEW, "o/dead", "1")]
