"""Batch hygiene: what loses results or money in code already on `messages.batches`, each with its line."""

from textwrap import dedent

from benchmarks.bench_scan_quality import CORPUS
from bot.scan.model import ALL, FileChange
from bot.scan.scanner import scan

SLOPPY = (CORPUS / "batches" / "sloppy_batch.py").read_text()
CAREFUL = (CORPUS / "batches" / "careful_batch.py").read_text()


def findings(source, path="jobs/classify.py", changed=ALL):
    return [(h.line, h.rule) for h in scan([FileChange(path, dedent(source), changed)]).hygiene]


def test_each_rule_on_code_that_loses_results_or_money():
    result = scan([FileChange("jobs/classify.py", SLOPPY)])
    assert [(h.line, h.rule) for h in result.hygiene] == [
        (7, "no-split"), (8, "custom-id-from-index"), (11, "poll-without-sleep"), (14, "only-succeeded"),
        (14, "results-not-kept")]
    messages = {h.rule: h.message for h in result.hygiene}
    assert messages["custom-id-from-index"].startswith("`custom_id` comes from the loop index `i`")
    assert "`classify()`" in messages["results-not-kept"] and "`texts`" in messages["no-split"]
    assert all(h.path == "jobs/classify.py" and h.changed for h in result.hygiene)


def test_careful_batch_code_and_the_shared_helper_get_no_finding():
    assert findings(CAREFUL) == []
    assert findings("""
        from bot.helper import run_batch
        for i, part in enumerate(parts):
            run_batch(part, build, job=f"nightly-{i}")
        """) == []


def test_a_returned_result_a_stable_id_and_a_split_by_the_callers_loop_are_fine():
    assert findings("""
        import anthropic
        client = anthropic.Anthropic()

        def send(shard):
            return client.messages.batches.create(requests=[{"custom_id": r.key, "params": {}} for r in shard])

        def fetch(batch_id):
            return {r.custom_id: r.result for r in client.messages.batches.results(batch_id)}

        for shard in shards:
            send(shard)
        """) == []


def test_findings_say_whether_the_diff_changes_their_line():
    (changed,) = [h for h in scan([FileChange("jobs/classify.py", SLOPPY, frozenset({11}))]).hygiene if h.changed]
    assert changed.rule == "poll-without-sleep"
