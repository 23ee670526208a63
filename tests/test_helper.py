"""run_batch against a fake Message Batches API, through the real anthropic SDK."""

import ast
import json
import logging
import sqlite3
import subprocess
import sys
import tracemalloc
from datetime import timedelta

import pytest

from bot import helper
from bot.helper import BatchError, ItemError, Job, Progress, run_batch
from tests.conftest import ROOT
from tests.fake_anthropic import FakeAnthropic

MODEL = "claude-sonnet-4-5"


def params(text, **extra):
    return {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": text}], **extra}


def ids_of(texts):
    return [custom_id for custom_id, _ in helper._requests(texts, params, None)]


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        server.reply = lambda request: "re: " + request["messages"][0]["content"]
        server.outcome_key = text_of
        yield server


def text_of(request):
    """A batch request's prompt: what scripted outcomes are keyed by (the API sees wire ids)."""
    return request["params"]["messages"][0]["content"]


@pytest.fixture
def run(fake, tmp_path):
    """run_batch against the fake, with a store in tmp_path and fast polling."""

    def run_(items, build_params=params, *, job="job", **options):
        options.setdefault("client", fake.client())
        options.setdefault("poll", 0.001)
        result = run_batch(items, build_params, job=job, store=tmp_path, **options)
        opened.append(result)
        return result

    opened = []
    yield run_
    for result in opened:
        result.close()


@pytest.fixture
def sleeps(monkeypatch):
    """Every wait the helper asks for, recorded instead of slept (the fake sleeps only for a stall)."""
    waited = []
    monkeypatch.setattr(helper.time, "sleep", waited.append)
    return waited


def interrupt_on_first_report(progress):
    raise KeyboardInterrupt


def test_three_line_use_returns_text_messages_and_usage_per_item(run, fake, tmp_path, caplog):
    fake.usage = lambda request, text: {
        "input_tokens": 10,
        "output_tokens": 3,
        "cache_creation_input_tokens": 2,
        "cache_read_input_tokens": 5,
    }
    reviews = {f"review-{n}": f"summarise review {n}" for n in range(12)}
    caplog.set_level(logging.DEBUG, logger="bot.helper")

    result = run(reviews, lambda key: params(reviews[key]), custom_id=lambda key: key)

    assert result.ok and len(result) == 12 and result.counts == {"succeeded": 12}
    assert dict(result.texts) == {key: f"re: {text}" for key, text in reviews.items()}
    assert list(result.texts) == list(reviews)  # input order, although the API answers in any order
    assert result.messages["review-3"]["usage"]["service_tier"] == "batch"
    assert result.usage == {
        "input_tokens": 120,
        "output_tokens": 36,
        "cache_creation_input_tokens": 24,
        "cache_read_input_tokens": 60,
    }
    assert result.errors == {} and result.expired == result.canceled == result.missing == []
    assert fake.calls["create"] == 1
    stored = (tmp_path / "job" / "manifest.json").read_text()
    assert json.loads(stored)["usage"] == result.usage  # for the adoption metric
    assert "test-key" not in stored + caplog.text  # the API key is never written or logged


def test_result_reads_one_item_at_a_time_from_the_store(run):
    result = run(["a", "b"])
    first, second = ids_of(["a", "b"])
    assert result.texts[second] == "re: b"
    with pytest.raises(KeyError):
        result.texts["nope"]
    assert list(result.texts.items()) == [(first, "re: a"), (second, "re: b")]
    assert [line["custom_id"] for line in result.lines()] == result.custom_ids == [first, second]
    assert isinstance(result.texts, helper.Mapping) and not isinstance(result.texts, dict)


def test_derived_custom_ids_are_stable_valid_and_distinct_for_repeated_items():
    texts = ["same", "other", "same", "same"]
    ids = ids_of(texts)
    assert ids == ids_of(texts)
    assert len(set(ids)) == 4 and ids[2] == ids[0] + "-2" and ids[3] == ids[0] + "-3"
    assert all(helper.CUSTOM_ID.fullmatch(custom_id) for custom_id in ids)
    assert ids_of(["other"]) == [ids[1]]  # derived from the request itself, not its place


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda text: params(text, stream=True), "'stream' is not allowed inside a batch"),
        (lambda text: params(text, speed="fast"), "'speed' is not allowed inside a batch"),
        (lambda text: {**params(text), "max_tokens": 0}, "max_tokens must be a whole number of at least 1"),
        (lambda text: {"model": MODEL, "messages": []}, "max_tokens must be a whole number of at least 1"),
        (lambda text: [text], "build_params returned list, not Messages API parameters"),
        (lambda text: params(text, metadata={"when": object()}), "the parameters are not JSON"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_sent(run, fake, tmp_path, build, message):
    with pytest.raises(ValueError, match=message) as refused:
        run(["fine", "bad"], lambda text: params(text) if text == "fine" else build(text))
    assert "item 2" in str(refused.value)
    assert fake.calls["create"] == 0 and not (tmp_path / "job").exists()  # no lock, no requests.sqlite
    assert run(["fine"]).ok  # the same job name starts cleanly


@pytest.mark.parametrize(
    "options, message",
    [
        ({"poll": 0}, "poll must be above 0 seconds"),
        ({"retries": -1}, "retries 0 or more"),
    ],
)
def test_bad_settings_are_refused(run, options, message):
    with pytest.raises(ValueError, match=message):
        run(["a"], **options)


@pytest.mark.parametrize(
    "names, message",
    [
        (["ok", "has space"], "custom_id 'has space' must be 1 to 64 letters"),
        (["ok", "x" * 65], "must be 1 to 64 letters"),
        (["twice", "twice"], "custom_id 'twice' is already used by item 1"),
    ],
)
def test_given_custom_ids_are_validated(run, fake, names, message):
    with pytest.raises(ValueError, match=message):
        run(range(len(names)), lambda n: params(str(n)), custom_id=lambda n: names[n])
    assert fake.calls["create"] == 0


def test_running_a_job_again_with_other_items_is_an_error_and_keeps_the_old_results(run, fake):
    first = run(["a", "b"])
    with pytest.raises(ValueError, match=r"job 'job' was started with different requests \(2 then, 3 now\)"):
        run(["a", "b", "c"])
    assert run(["b", "a"]).texts == first.texts  # the same items in another order are the same job
    assert fake.calls["create"] == 1


def test_requests_are_split_by_count_and_bytes(run, fake, monkeypatch):
    monkeypatch.setattr(helper, "MAX_REQUESTS", 3)
    assert run([f"count {n}" for n in range(7)], job="by-count").ok
    assert [len(batch.requests) for batch in fake.batches.values()] == [3, 3, 1]

    fake.batches.clear()
    fake.max_batch_bytes = 1_000
    monkeypatch.setattr(helper, "MAX_BYTES", 1_000)
    result = run([f"bytes {n} " + "x" * 150 for n in range(12)], job="by-bytes")
    assert result.ok and len(fake.batches) > 2
    assert fake.largest_create <= 1_000 and fake.calls["create too large"] == 0


def test_a_batch_the_api_finds_too_large_is_split(run, fake):
    fake.max_batch_bytes = 1_500  # smaller than the helper's own limit: the API answers 413
    result = run([f"item {n} " + "y" * 200 for n in range(10)])
    assert result.ok and len(result) == 10
    assert fake.calls["create too large"] >= 1 and fake.largest_create <= 1_500
    assert sum(len(batch.requests) for batch in fake.batches.values()) == 10


def test_ctrl_c_while_waiting_then_run_again_creates_no_second_batch(run, fake):
    with pytest.raises(KeyboardInterrupt):
        run(["a", "b"], progress=interrupt_on_first_report)
    assert run(["a", "b"]).ok
    assert fake.calls["create"] == 1


@pytest.mark.parametrize(
    "lost",
    [
        {"after_handling": True},  # the connection drops after the API created the batch
        {"after_handling": True, "stall": 0.5},  # the answer is slower than the client's timeout
    ],
    ids=["dropped", "timeout"],
)
def test_a_create_whose_answer_is_lost_is_found_with_list(run, fake, lost):
    fake.fail("create", **lost)
    result = run(["a", "b", "c"], client=fake.client(timeout=0.2, max_retries=2))
    assert result.ok
    # the SDK's own retry of the POST would have made a second batch
    assert fake.calls["create"] == 1 and fake.calls["list"] >= 1 and len(fake.batches) == 1


def test_a_create_whose_answer_is_lost_and_cannot_be_checked_is_found_on_the_next_run(run, fake, tmp_path):
    fake.fail("create", after_handling=True)
    fake.fail("list", 500)  # so this run cannot look for it, and stops
    with pytest.raises(BatchError, match="whether the API made it cannot be told now"):
        run(["a", "b"])
    assert json.loads((tmp_path / "job" / "manifest.json").read_text())["batches"][0]["id"] is None
    assert run(["a", "b"]).ok
    assert fake.calls["create"] == 1


def test_requests_marked_for_a_batch_the_manifest_never_recorded_are_sent(run, fake, tmp_path):
    """A crash between marking requests for a batch and recording it leaves them marked: they still go out."""
    fake.fail("create", 401)
    with pytest.raises(BatchError):
        run(["a", "b"])
    with sqlite3.connect(tmp_path / "job" / "requests.sqlite") as db:
        db.execute("UPDATE requests SET batch = 7")
    assert run(["a", "b"]).ok and fake.calls["create"] == 1


def test_a_lost_create_adopts_only_the_candidate_whose_results_carry_its_tag(run, fake, tmp_path):
    other_team = fake.client().messages.batches.create(
        requests=[{"custom_id": n, "params": params(n)} for n in ("x", "y")]
    )
    fake.fail("create", after_handling=True)
    result = run(["a", "b"])  # both candidates are waited for: only their results tell them apart
    assert dict(result.texts) == dict(zip(ids_of(["a", "b"]), ["re: a", "re: b"]))
    assert fake.calls["create"] == 2  # the other team's and ours: never a third
    (entry,) = json.loads((tmp_path / "job" / "manifest.json").read_text())["batches"]
    assert entry["id"] != other_team.id and "candidates" not in entry


def test_a_lost_create_never_adopts_another_jobs_batch(run, fake):
    """Issue 12.1: job x's create is lost before the API made anything; job y sends as many requests
    under the same custom_ids; running x again must send x's requests, not take y's batch."""
    rows = {f"row-{n}": n for n in range(20)}
    fake.fail("create")  # the connection drops before the API reads it: nothing is made
    fake.fail("list", 500)  # and this run cannot look, so it stops
    with pytest.raises(BatchError):
        run(rows, lambda row: params(f"x asks {rows[row]}"), job="x", custom_id=str)
    assert not fake.batches
    run(rows, lambda row: params(f"y asks {rows[row]}"), job="y", custom_id=str)

    result = run(rows, lambda row: params(f"x asks {rows[row]}"), job="x", custom_id=str)

    assert result.texts["row-7"] == "re: x asks 7"
    assert fake.calls["create"] == 2
    assert {text_of(request)[0] for request in list(fake.batches.values())[-1].requests} == {"x"}


def test_a_candidate_that_cannot_be_told_apart_is_refused(run, fake, tmp_path):
    other_team = fake.client().messages.batches.create(
        requests=[{"custom_id": n, "params": params(n)} for n in ("x", "y")]
    )
    fake.end_all()
    fake.fail("create")  # nothing made, but a candidate is listed
    fake.fail("results", 404, error_type="not_found_error")
    with pytest.raises(BatchError, match="whether the API made it cannot be told now") as refused:
        run(["a", "b"])
    assert "batch-review batch status job` shows the candidates" in str(refused.value)
    (entry,) = json.loads((tmp_path / "job" / "manifest.json").read_text())["batches"]
    assert entry["id"] is None and len(fake.batches) == 1  # neither adopted nor created again
    assert run(["a", "b"]).ok and other_team.id not in json.dumps(Job("job", tmp_path).manifest)


def test_wire_custom_ids_carry_the_job_and_batch_tag_and_map_back(run, fake, tmp_path):
    result = run(["a", "b"], custom_id=lambda text: f"mine-{text}")
    tag = json.loads((tmp_path / "job" / "manifest.json").read_text())["batches"][0]["tag"]
    (batch,) = fake.batches.values()
    assert [request["custom_id"] for request in batch.requests] == [f"{tag}-0", f"{tag}-1"]
    assert all(helper.CUSTOM_ID.fullmatch(request["custom_id"]) for request in batch.requests)
    assert result.custom_ids == ["mine-a", "mine-b"] and result.texts["mine-b"] == "re: b"


def test_a_refused_create_is_reported_and_loses_nothing(run, fake, tmp_path):
    fake.fail("create", 401, error_type="authentication_error")
    with pytest.raises(BatchError, match=r"the API refused batch 1 of job 'job' \(401\): scripted failure"):
        run(["a", "b"])
    assert json.loads((tmp_path / "job" / "manifest.json").read_text())["batches"] == []
    assert run(["a", "b"]).ok and fake.calls["create"] == 1


def test_rate_limits_overload_and_server_errors_are_waited_out(run, fake, sleeps):
    fake.fail("create", 429, headers={"retry-after": "7"})
    fake.fail("create", 529, error_type="overloaded_error", headers={"retry-after-ms": "250"})
    fake.fail("create", 500)
    fake.fail("retrieve", 503, times=2)
    fake.fail("results", 502)
    assert run(["a", "b"]).ok
    assert fake.calls["create"] == 1 and fake.calls["create failed"] == 3
    assert sleeps[:2] == [7.0, 0.25]  # retry-after, then retry-after-ms, as the API asked
    assert fake.calls["list"] == 0  # these answers prove nothing was created


def test_a_broken_results_stream_is_read_again(run, fake):
    fake.fail("results", cut_after_lines=3)
    result = run([f"item {n}" for n in range(8)])
    assert result.ok and len(result.texts) == 8
    assert fake.calls["results"] == 2 and fake.calls["results failed"] == 1


class Misbehaving(FakeAnthropic):
    """A results file that breaks the API's promise of one line per request."""

    def __init__(self, change):
        super().__init__()
        self.change = change

    def results(self, batch_id):
        return self.change(super().results(batch_id))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda lines: lines + lines[:1], "returned '.*' twice"),
        (lambda lines: lines[1:], "returned no result for"),
        (lambda lines: lines[:1] + [lines[1].replace(b'"custom_id": "', b'"custom_id": "z')], "which it was not sent"),
    ],
)
def test_every_custom_id_must_come_back_exactly_once(tmp_path, change, message):
    with Misbehaving(change) as fake:
        with pytest.raises(BatchError, match=message):
            run_batch(["a", "b"], params, job="job", client=fake.client(), store=tmp_path, poll=0.001)
    with Job("job", tmp_path).result() as result:
        assert result.missing == ids_of(["a", "b"])  # a bad file stores nothing


def test_failed_items_are_resent_within_the_retry_budget(run, fake):
    texts = ["fine", "expires once", "server error once", "invalid", "canceled", "always overloaded"]
    fine, expires, server_error, invalid, canceled, overloaded = ids_of(texts)
    fake.outcomes = {
        "expires once": ["expired"],
        "server error once": ["api_error"],
        "invalid": ["invalid_request_error"],
        "canceled": ["canceled"],
        "always overloaded": ["overloaded_error"] * 5,
    }

    result = run(texts, retries=2)

    assert list(result.texts) == [fine, expires, server_error]
    assert result.errors == {
        invalid: ItemError("invalid_request_error", "scripted invalid_request_error"),
        overloaded: ItemError("overloaded_error", "scripted overloaded_error"),
    }
    assert result.canceled == [canceled] and not result.ok
    sent = [sorted(text_of(request) for request in batch.requests) for batch in fake.batches.values()]
    assert sent == [sorted(texts), ["always overloaded", "expires once", "server error once"], ["always overloaded"]]


def test_progress_goes_to_the_callback(run, fake):
    fake.retrieves_before_end = 2
    reports = []
    run(["a", "b", "c"], progress=reports.append)
    assert reports[0] == Progress("job", requests=3, answered=0, succeeded=0, batches=1, open_batches=1)
    assert reports[-1] == Progress("job", requests=3, answered=3, succeeded=3, batches=1, open_batches=0)


@pytest.mark.parametrize("terminal", [True, False])
def test_a_progress_bar_is_drawn_only_on_a_terminal(run, monkeypatch, capsys, terminal):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    run(["a", "b"])
    drawn = capsys.readouterr().err
    assert ("[##############################] 2/2 answered" in drawn) is terminal


def test_polling_waits_grow_with_jitter_up_to_a_cap(fake, tmp_path, sleeps):
    fake.retrieves_before_end = 12
    with run_batch(["a"], params, job="job", client=fake.client(), store=tmp_path, poll=2.0):
        pass
    assert len(sleeps) == 12
    for wait, interval in zip(sleeps, [2.0, 3.0, 4.5, 6.75, 10.125, 15.1875, 20.0, 20.0]):
        assert 0.8 * interval <= wait <= 1.2 * interval
    assert len(set(sleeps)) == len(sleeps)  # jittered, so many clients do not poll in step


def test_a_batch_running_long_past_its_expiry_stops_the_wait(run, fake):
    fake.now = lambda: helper._now() - timedelta(hours=26)  # created 26 h ago: expired 2 h ago
    fake.retrieves_before_end = 1_000
    with pytest.raises(BatchError, match="is still in_progress although it expired"):
        run(["a"])


def warning_days_later(days, run, fake, tmp_path, monkeypatch):
    """The one warning of a job stopped before its results were saved, `days` days after its batch was created."""
    with pytest.raises(KeyboardInterrupt):
        run(["a", "b"], progress=interrupt_on_first_report)
    fake.end_all()
    later = helper._now() + timedelta(days=days)
    monkeypatch.setattr(helper, "_now", lambda: later)
    fake.now = lambda: later
    with Job("job", tmp_path) as job:
        (warning,) = job.warnings()
    return warning


def test_results_near_the_29_day_limit_warn_and_are_saved(run, fake, tmp_path, monkeypatch, caplog):
    warning = warning_days_later(27, run, fake, tmp_path, monkeypatch)
    assert "will be deleted on" in warning and "were never saved: run job 'job' again now to save them" in warning
    assert run(["a", "b"]).ok
    assert "will be deleted on" in caplog.text  # the run said so too
    with Job("job", tmp_path) as job:
        assert job.warnings() == []


def test_results_past_the_29_day_limit_are_reported_lost(run, fake, tmp_path, monkeypatch, caplog):
    warning = warning_days_later(30, run, fake, tmp_path, monkeypatch)
    assert "were deleted by the API on" in warning and "they are lost" in warning
    result = run(["a", "b"])
    assert result.missing == ids_of(["a", "b"]) and not result.ok
    assert "they are lost" in caplog.text and fake.calls["results"] == 0


def test_two_runs_of_one_job_never_overlap(run, tmp_path):
    with Job("job", tmp_path).locked():
        with pytest.raises(BatchError, match="job 'job' is being run by another process"):
            run(["a"])


def test_importing_the_helper_is_cheap_and_it_needs_only_anthropic():
    tree = ast.parse((ROOT / "bot" / "helper.py").read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported - sys.stdlib_module_names == {"anthropic"}
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.helper; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    assert not {"anthropic", "flask", "github", "httpx2"} & set(eval(loaded))


def damage_manifest(damage, text):
    return {
        "{}": "{}",
        "[]": "[]",
        "null": "null",
        "0": "0",
        "cut short": text[: len(text) // 2],
        "batches 5": json.dumps({**json.loads(text), "batches": 5}),
        "a bad batch": json.dumps({**json.loads(text), "batches": [{"number": "1"}]}),
    }[damage]


@pytest.mark.parametrize("damage", ["{}", "[]", "null", "0", "cut short", "batches 5", "a bad batch"])
def test_a_damaged_manifest_stops_the_run_naming_the_file_and_keeps_the_results(run, fake, tmp_path, damage):
    """Issue 12.7: damaged state is never taken for a fresh job (which deleted the results and paid again)."""
    assert run(["a", "b"]).ok
    manifest = tmp_path / "job" / "manifest.json"
    manifest.write_text(damage_manifest(damage, manifest.read_text()))
    with pytest.raises(BatchError) as stopped:
        run(["a", "b"])
    assert f"{manifest} is damaged (" in str(stopped.value) and "Restore it from a backup" in str(stopped.value)
    assert fake.calls["create"] == 1
    with helper.BatchResult("job", tmp_path / "job") as kept:
        assert kept.ok and len(kept.texts) == 2


def test_a_damaged_requests_file_stops_the_run_naming_the_file(run, fake, tmp_path):
    assert run([f"item {n} " + "z" * 2_000 for n in range(40)]).ok
    database = tmp_path / "job" / "requests.sqlite"
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    manifest = (tmp_path / "job" / "manifest.json").read_text()
    with pytest.raises(BatchError, match=f"{database} is damaged .*Restore it from a backup"):
        run([f"item {n} " + "z" * 2_000 for n in range(40)])
    assert fake.calls["create"] == 1 and (tmp_path / "job" / "manifest.json").read_text() == manifest


def test_creating_a_batch_holds_its_body_once(tmp_path):
    """Issue 13: the create body is written from the stored JSON text, not rebuilt as dicts and serialised again."""
    import anthropic.types.messages  # loaded before counting: importing the SDK is not the helper's memory

    server = subprocess.Popen(  # its own process, so that its allocations are not counted here
        [sys.executable, "-m", "tests.fake_anthropic"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        client = anthropic.Anthropic(base_url=server.stdout.readline().strip(), api_key="test-key", max_retries=0)
        requests = {n: params(f"{n} " + "w" * 1_000) for n in range(2_000)}  # the caller's, not counted
        tracemalloc.start()
        with run_batch(requests, requests.get, job="job", client=client, store=tmp_path, poll=0.001):
            peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        server.stdin.close()
        server.wait()
    body = json.loads((tmp_path / "job" / "manifest.json").read_text())["batches"][0]["bytes"]
    assert peak < 1.5 * body  # was 5.3 times: dicts, then the SDK's JSON of them, then its bytes


def test_a_job_begun_before_wire_ids_resumes_its_batch(run, fake, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(["a", "b"], progress=interrupt_on_first_report)
    # as the helper before schema 2 left it: the callers' ids on the wire, no tags in the manifest
    manifest = tmp_path / "job" / "manifest.json"
    old = json.loads(manifest.read_text())
    del old["tag"], old["batches"][0]["tag"]
    manifest.write_text(json.dumps({**old, "schema_version": 1}))
    (batch,) = fake.batches.values()
    for request, custom_id in zip(batch.requests, ids_of(["a", "b"])):
        request["custom_id"] = custom_id

    assert dict(run(["a", "b"]).texts) == dict(zip(ids_of(["a", "b"]), ["re: a", "re: b"]))
    assert fake.calls["create"] == 1
    upgraded = json.loads(manifest.read_text())
    assert upgraded["schema_version"] == helper.SCHEMA_VERSION and len(upgraded["tag"]) == 12
