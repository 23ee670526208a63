"""`batch-review batch run|status|results|cancel` against the fake Message Batches API."""

import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from bot import helper
from bot.cli import batch as batch_cmd
from bot.cli.main import main
from bot.helper import run_batch
from tests.conftest import ROOT
from tests.fake_anthropic import FakeAnthropic

PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 8}


def ask(text):
    return {**PARAMS, "messages": [{"role": "user", "content": text}]}


@pytest.fixture
def fake(monkeypatch):
    with FakeAnthropic() as server:
        server.reply = lambda params: "re: " + params["messages"][0]["content"]
        server.outcome_key = lambda request: request["params"]["messages"][0]["content"]
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        yield server


@pytest.fixture
def requests_file(tmp_path):
    path = tmp_path / "requests.jsonl"
    lines = [ask("first"), {"custom_id": "given-id", "params": ask("second")}, ask("third")]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def batch(*args, store):
    return main(["batch", *args, "--store", str(store)])


def run_job(requests_file, store):
    return batch("run", str(requests_file), "--job", "nightly", "--poll", "0.001", store=store)


def test_run_then_results_and_status(fake, requests_file, tmp_path, capsys):
    assert run_job(requests_file, tmp_path) == 0
    err = capsys.readouterr().err
    assert "job nightly: 3 requests: 3 succeeded" in err and "batch-review batch results nightly" in err

    assert batch("results", "nightly", store=tmp_path) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["custom_id"] for line in lines][1] == "given-id" and len(lines) == 3
    assert [line["result"]["message"]["content"][0]["text"] for line in lines] == [
        fake.reply(ask(text)) for text in ("first", "second", "third")
    ]

    assert batch("status", store=tmp_path) == 0
    out = capsys.readouterr().out
    assert "job nightly: 3 requests: 3 succeeded" in out and "ended, results saved" in out


def test_exit_status_1_when_an_item_did_not_succeed(fake, requests_file, tmp_path, capsys):
    fake.outcomes["second"] = ["invalid_request_error"]  # the request named given-id
    assert run_job(requests_file, tmp_path) == 1
    assert "errored given-id: invalid_request_error: scripted invalid_request_error" in capsys.readouterr().err
    assert batch("results", "nightly", store=tmp_path) == 1
    assert batch("status", "nightly", store=tmp_path) == 1


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json", "line 2 is not JSON"),
        ("", "line 2 is empty"),
        ("[1, 2]", "line 2 is not a JSON object"),
        ('{"custom_id": "x"}', "line 2: a line with a custom_id holds the request under params"),
        ('{"custom_id": "x", "params": {}, "extra": 1}', "line 2: a line with params holds only custom_id and params"),
        (json.dumps({**ask("hi"), "stream": True}), "item 2: 'stream' is not allowed inside a batch"),
    ],
)
def test_bad_input_exits_2_sends_nothing_and_leaves_nothing_behind(fake, tmp_path, capsys, line, message):
    path = tmp_path / "requests.jsonl"
    path.write_text(json.dumps(ask("fine")) + "\n" + line + "\n")
    assert batch("run", str(path), "--job", "nightly", store=tmp_path / "store") == 2
    assert message in capsys.readouterr().err
    assert fake.calls["create"] == 0
    assert not (tmp_path / "store").exists()  # no lock, no requests.sqlite, no folders
    assert main(["batch", "validate", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_credentials_exit_2_before_anything_is_sent(fake, requests_file, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    assert run_job(requests_file, tmp_path / "store") == 2
    assert "no Anthropic credentials: set ANTHROPIC_API_KEY" in capsys.readouterr().err
    assert fake.calls["create"] == 0 and not (tmp_path / "store").exists()

    requests_file.write_text(requests_file.read_text() + "not json\n")
    assert run_job(requests_file, tmp_path / "store") == 2
    assert "line 4 is not JSON" in capsys.readouterr().err  # the file is checked before credentials


def test_validate_and_dry_run_check_the_file_offline(fake, requests_file, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setattr(helper, "MAX_REQUESTS", 2)
    assert main(["batch", "validate", str(requests_file)]) == 0
    out = capsys.readouterr().out
    assert f"{requests_file}: 3 requests, all valid" in out
    assert re.search(r"a run makes 2 batches: 2 requests \(\d+ bytes\), 1 request \(\d+ bytes\)", out)

    store = tmp_path / "store"
    assert batch("run", str(requests_file), "--job", "nightly", "--dry-run", store=store) == 0
    assert "a run makes 2 batches" in capsys.readouterr().out
    assert not store.exists() and not fake.calls

    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    run_job(requests_file, store)
    capsys.readouterr()
    assert batch("run", str(requests_file), "--job", "nightly", "--dry-run", store=store) == 0
    assert f"job nightly in {store} holds these requests: a run resumes it" in capsys.readouterr().out
    requests_file.write_text(json.dumps(ask("other")) + "\n")
    assert batch("run", str(requests_file), "--job", "nightly", "--dry-run", store=store) == 2
    assert "job 'nightly' was started with different requests (3 then, 1 now)" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["run", "validate", "status", "results", "cancel"])
def test_every_action_has_a_description_and_an_example(action, capsys):
    with pytest.raises(SystemExit) as done:
        main(["batch", action, "--help"])
    assert done.value.code == 0
    summary, description, example, *_ = batch_cmd.HELP[action]
    out = " ".join(capsys.readouterr().out.split())
    assert description in out and f"Example: {example}" in out


def test_one_request_is_singular(fake, tmp_path, capsys):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(ask("only")) + "\n")
    assert batch("run", str(path), "--job", "one", "--poll", "0.001", store=tmp_path) == 0
    assert "job one: 1 request: 1 succeeded" in capsys.readouterr().err
    assert batch("status", "one", store=tmp_path) == 0
    assert ": 1 request, ended" in capsys.readouterr().out


def test_status_shows_what_a_create_without_an_answer_may_have_made(fake, requests_file, tmp_path, capsys, monkeypatch):
    fake.fail("create", after_handling=True)
    fake.retrieves_before_end = 1_000
    manifest = tmp_path / "nightly" / "manifest.json"

    def stop_once_candidates_are_noted(seconds):
        if "candidates" in manifest.read_text():
            raise KeyboardInterrupt

    monkeypatch.setattr(helper.time, "sleep", stop_once_candidates_are_noted)
    assert run_job(requests_file, tmp_path) == 130
    capsys.readouterr()
    assert batch("status", "nightly", store=tmp_path) == 1
    (made,) = fake.batches
    out = capsys.readouterr().out
    assert "batch 1: sent without an answer; the next run adopts a listed batch only when its results carry" in out
    assert f"candidate {made}: still processing: its results will show whose it is" in out


@pytest.mark.parametrize("action", ["run", "status", "results"])
def test_a_damaged_job_is_named_and_left_alone(fake, requests_file, tmp_path, capsys, action):
    run_job(requests_file, tmp_path)
    manifest = tmp_path / "nightly" / "manifest.json"
    manifest.write_text("{}")
    capsys.readouterr()
    code = run_job(requests_file, tmp_path) if action == "run" else batch(action, "nightly", store=tmp_path)
    assert code == 1 and f"batch-review batch: {manifest} is damaged" in capsys.readouterr().err
    assert fake.calls["create"] == 1 and manifest.read_text() == "{}"


def test_an_unreadable_file_exits_2(fake, tmp_path, capsys):
    assert batch("run", str(tmp_path / "missing.jsonl"), "--job", "nightly", store=tmp_path) == 2
    assert "cannot use " + str(tmp_path / "missing.jsonl") + ": No such file or directory" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["status", "results", "cancel"])
def test_an_unknown_job_exits_2(fake, tmp_path, capsys, action):
    assert batch(action, "nope", store=tmp_path) == 2
    assert "no job 'nope'" in capsys.readouterr().err


def test_a_killed_run_resumes_without_a_second_batch(fake, requests_file, tmp_path, capsys):
    """kill -9 of `batch run` between creating its batch and polling it; the same command again picks it up."""
    fake.fail("retrieve", stall=10)  # the first status check hangs, and the run is killed there
    command = [
        sys.executable,
        "-m",
        "bot.cli.main",
        "batch",
        "run",
        str(requests_file),
        "--job",
        "nightly",
        "--store",
        str(tmp_path),
        "--poll",
        "0.01",
    ]
    child = subprocess.Popen(command, cwd=ROOT, env=os.environ, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not fake.calls["retrieve failed"] and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for the event, not asserting on time
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL, child.stderr.read()
    child.stderr.close()
    assert fake.calls["create"] == 1

    assert run_job(requests_file, tmp_path) == 0
    # the batch id was on disk before the first poll: no second batch, and no need to search for it
    assert fake.calls["create"] == 1 and fake.calls["list"] == 0 and fake.calls["results"] == 1


def test_cancel_then_run_again_saves_what_was_canceled(fake, requests_file, tmp_path, capsys):
    fake.retrieves_before_end = 1_000

    def interrupt(progress):
        raise KeyboardInterrupt

    with requests_file.open() as lines, pytest.raises(KeyboardInterrupt):
        run_batch(
            batch_cmd._items(lines),
            batch_cmd._params,
            custom_id=batch_cmd._custom_id,
            job="nightly",
            store=tmp_path,
            client=fake.client(),
            poll=0.001,
            progress=interrupt,
        )
    assert batch("cancel", "nightly", store=tmp_path) == 0
    (batch_id,) = fake.batches
    assert f"canceling {batch_id}" in capsys.readouterr().out
    assert fake.batches[batch_id].status == "canceling"

    assert run_job(requests_file, tmp_path) == 1
    assert "3 canceled" in capsys.readouterr().err
    assert batch("cancel", "nightly", store=tmp_path) == 0
    assert "nothing to cancel" in capsys.readouterr().err


def test_status_without_a_name_lists_every_job(fake, requests_file, tmp_path, capsys):
    run_job(requests_file, tmp_path)
    batch("run", str(requests_file), "--job", "weekly", "--poll", "0.001", store=tmp_path)
    capsys.readouterr()
    assert batch("status", store=tmp_path) == 0
    out = capsys.readouterr().out
    assert "job nightly:" in out and "job weekly:" in out

    (tmp_path / "nightly" / "manifest.json").write_text("null")
    assert batch("status", store=tmp_path) == 1
    out, err = capsys.readouterr()
    assert "job weekly:" in out and f"{tmp_path / 'nightly' / 'manifest.json'} is damaged" in err


class ClosedPipe(io.StringIO):
    """Standard output whose reader went away (`| head`)."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        return self.devnull


def test_a_closed_pipe_ends_results_quietly(fake, requests_file, tmp_path, monkeypatch):
    run_job(requests_file, tmp_path)
    closed = ClosedPipe()
    closed.devnull = os.open(os.devnull, os.O_WRONLY)
    monkeypatch.setattr(sys, "stdout", closed)
    try:
        assert batch("results", "nightly", store=tmp_path) == 0
    finally:
        os.close(closed.devnull)
