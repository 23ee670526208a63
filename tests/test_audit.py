"""The backlog audit: findings, the saving and the report (pure), and whole runs through a fake Message Batches API."""

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from bot.cli.main import main
from bot.core import audit
from bot.core.audit import Document, custom_id, finding, job_name, monthly_saving, report, report_csv, to_ask
from bot.core.inference import ANSWER_SCHEMA, prepare, validate
from bot.core.config import from_mapping
from bot.core.names import Verdict
from bot.helper import BatchResult
from tests.checklists import CANDIDATE, DOC_TEMPLATE, PARTIAL, filled
from tests.conftest import FIXTURES, ROOT
from tests.fake_anthropic import FakeAnthropic
from tests.fake_github import FakeGitHub

SOURCE_LINE = re.compile(r'<source name=(".*?") id="\w+">\n(.*?)\n</source', re.S)
NIGHTLY = "A nightly job classifies every support ticket; nobody waits for the labels, and we expect 2,000 a day."


def evidence_reply(params) -> list:
    """A model that answers 'batch candidate' (JSON text) quoting the first long line of what it was shown."""
    text = SOURCE_LINE.search(params["messages"][0]["content"]).group(2)
    line = next(line.strip() for line in text.splitlines() if len(line.strip()) >= 20)[:200]
    answer = {"human_waiting": {"answer": "no", "quote": line},
              "volume": {"answer": "yes", "quote": line, "requests_per_day": 2000},
              "latency": {"answer": "no", "quote": line}}
    return [{"type": "text", "text": json.dumps(answer)}]


def rows(text: str) -> list:
    return list(csv.DictReader(io.StringIO(text)))


# --- pure ---------------------------------------------------------------------------------------

def test_custom_ids_come_from_the_path_are_valid_and_unique():
    names = [f"docs/design/{i:03d}-a-very-long-design-document-name-about-enrichment.md" for i in range(500)]
    names += ["o/r#12", "///", "ünïcode/δοκ.md", "x" * 300]
    ids = [custom_id(name) for name in names]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids)
    assert ids[0].startswith("document-name-about-enrichment-md-") and custom_id("o/r#12") == ids[-4]


def test_only_documents_without_a_deciding_checklist_are_sent_and_the_job_is_named_after_them():
    docs = [Document("a.md", CANDIDATE), Document("b.md", NIGHTLY), Document("c.md", PARTIAL),
            Document("d.md", DOC_TEMPLATE)]  # d: nothing but the blank template, nothing to read
    prompts = to_ask(docs)
    assert set(prompts) == {custom_id("b.md"), custom_id("c.md")}
    assert job_name("m", prompts) == job_name("m", dict(reversed(prompts.items())))
    assert job_name("m", prompts) != job_name("other", prompts) != job_name("m", {custom_id("b.md"): prompts[custom_id("b.md")]})
    assert re.fullmatch(r"audit-[0-9a-f]{20}", job_name("m", prompts))


def suggested(document: Document, per_day=2000, quote="nobody waits for the labels"):
    answer = {"human_waiting": {"answer": "no", "quote": quote},
              "volume": {"answer": "yes", "quote": "we expect 2,000 a day", "requests_per_day": per_day},
              "latency": {"answer": "no", "quote": "A nightly job classifies every support ticket"}}
    return finding(document, suggestion=validate(answer, prepare([(document.name, document.text)])))


def test_findings_take_the_checklist_first_then_claudes_suggestions():
    ticked = finding(Document("a.md", filled(volume_text="2k", human_waiting="no", latency="no")))
    assert (ticked.verdict, ticked.basis, ticked.per_day, ticked.asked) == (Verdict.BATCH_CANDIDATE, "checklist", 2000, False)
    claude = suggested(Document("b.md", NIGHTLY))
    assert (claude.verdict, claude.basis, claude.per_day) == (Verdict.BATCH_CANDIDATE, "suggested by Claude", 2000)
    assert audit.evidence(claude).startswith("Claude: human_waiting=no “nobody waits for the labels”")
    partly = suggested(Document("c.md", PARTIAL + "\n" + NIGHTLY))
    assert audit.evidence(partly).startswith("checklist: human_waiting=no; Claude: volume=yes")
    unquoted = suggested(Document("d.md", NIGHTLY), quote="an invented sentence")
    assert (unquoted.verdict, unquoted.decision.missing) == (Verdict.NEEDS_ANSWERS, ("human_waiting",))
    low = suggested(Document("e.md", NIGHTLY), per_day=50)
    assert (low.verdict, low.decision.reason) == (Verdict.SYNCHRONOUS, "volume")
    open_ = finding(Document("f.md", "Nothing about volume here."), notes=("Claude gave no answer (expired).",))
    assert (open_.verdict, open_.basis, open_.workload.notes) == (Verdict.NEEDS_ANSWERS, "open", ("Claude gave no answer (expired).",))


HAIKU = from_mapping({"cost": {"model": "claude-haiku-4-5"}})  # $1 / $5 in the built-in table
UNPRICED = from_mapping({"cost": {"model": "gpt-x"}})


def test_the_saving_is_half_the_spend_where_volume_and_prices_are_known():
    found = suggested(Document("b.md", NIGHTLY))
    # 2,000 a day x 30 days x (1,000 x $1 + 500 x $5) / 1M = $210 a month synchronous; half is saved
    assert monthly_saving(found, HAIKU) == pytest.approx(105.0)
    assert monthly_saving(found, UNPRICED) is None
    assert audit.monthly_tokens(found, UNPRICED) == 2000 * 30 * 1500
    # the same cost settings as a pull request's figure: the default model, overridden prices
    assert monthly_saving(found, from_mapping({})) == pytest.approx(2000 * 30 * (1000 * 2 + 500 * 10) / 1e6 / 2)
    overridden = from_mapping({"cost": {"model": "claude-haiku-4-5", "prices": {"claude-haiku": {"input": 2, "output": 10}}}})
    assert monthly_saving(found, overridden) == pytest.approx(210.0)
    above = finding(Document("c.md", filled(human_waiting="no", volume="yes", latency="no")))
    assert above.per_day is None and above.cost(HAIKU).at_least and above.cost(HAIKU).requests_per_day == 300


def test_the_report_lists_candidates_with_evidence_saving_and_assumptions():
    findings = [suggested(Document("docs/b.md", NIGHTLY)), finding(Document("docs/a.md", filled(human_waiting="yes"))),
                finding(Document("docs/c.md", "Nothing decided <b>yet</b>."), notes=("Claude gave no answer.",))]
    text = report(findings, HAIKU, title="batch-review audit", job="audit-1", usage={"input_tokens": 1234, "output_tokens": 56})
    assert "3 documents: **1 batch candidate**, 1 synchronous, 1 still open." in text
    assert "| `docs/b.md` | suggested by Claude | 2,000 | 90,000,000 | $105.00 |" in text
    assert "**$105.00 a month**" in text and "1,234 input and 56 output tokens" in text and "`audit-1`" in text
    assert "| `docs/a.md` | checklist | someone is waiting |" in text
    assert "| `docs/c.md` | Someone waiting, Volume, Needed within minutes | Claude gave no answer. |" in text
    assert "$1 per million input tokens and $5 per million output tokens" in text
    unpriced = report(findings, UNPRICED, title="t")
    assert "| unpriced |" in unpriced and "the saving is unpriced" in unpriced and "1,000 input and 500 output" in unpriced
    assert "No price is known for `gpt-x`" in unpriced and "`cost.prices`" in unpriced


def test_the_csv_has_every_document_and_no_cell_a_spreadsheet_would_run():
    findings = [suggested(Document("=HYPERLINK(\"http://evil\")", NIGHTLY)), finding(Document("a.md", "-1+2"))]
    table = rows(report_csv(findings, UNPRICED))
    assert [row["document"] for row in table] == ["'=HYPERLINK(\"http://evil\")", "a.md"]
    assert table[0]["verdict"] == "batch-candidate" and table[0]["requests_per_day"] == "2000"
    assert table[0]["monthly_tokens"] == "90000000" and table[0]["monthly_saving_usd"] == ""


# --- runs through the fake Message Batches API, with the real SDK --------------------------------------

@pytest.fixture
def batches():
    with FakeAnthropic() as fake:
        fake.reply = evidence_reply
        yield fake


@pytest.fixture
def keyed(batches, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", batches.base_url)


def audit_run(tmp_path, *args) -> int:
    return main(["audit", *map(str, args), "--store", str(tmp_path / "jobs"), "--poll", "0.01"])


def sent_ids(tmp_path) -> list[str]:
    """The custom_ids of the audit's job (the API sees the helper's wire ids, <tag>-<seq>)."""
    (job,) = (tmp_path / "jobs").iterdir()
    with BatchResult(job.name, job) as result:
        return result.custom_ids


def test_the_audit_of_the_shared_design_docs_goes_through_one_batch(tmp_path, batches, keyed, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in (FIXTURES / "design-docs").glob("*.md"):
        (docs / path.name).write_text(path.read_text())
    (docs / "answered.md").write_text(filled(DOC_TEMPLATE, volume_text="5k/day", human_waiting="no", latency="no"))
    (docs / "notes.png").write_bytes(b"\x89PNG")
    assert audit_run(tmp_path, docs, "--out", tmp_path / "audit.md") == 0
    (batch,) = batches.batches.values()
    assert len(batch.requests) == len(sent_ids(tmp_path))
    assert set(sent_ids(tmp_path)) == {custom_id(str(docs / p.name)) for p in (FIXTURES / "design-docs").glob("*.md")}
    assert all(request["params"]["output_config"]["format"]["schema"] == ANSWER_SCHEMA for request in batch.requests)
    text = (tmp_path / "audit.md").read_text()
    assert "5 documents: **5 batch candidates**" in text and "Message Batches API" in text
    assert "| checklist | 5,000 |" in text and text.count("| suggested by Claude |") == 4
    assert "“# Batch gateway”" not in text and "Claude: human\\_waiting=no “" in text
    table = rows((tmp_path / "audit.csv").read_text())
    assert len(table) == 5 and {row["basis"] for row in table} == {"checklist", "suggested by Claude"}
    assert "report: " in capsys.readouterr().err


def test_without_a_key_only_checklists_count_and_nothing_is_sent(tmp_path, batches, monkeypatch, capsys):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", batches.base_url)
    (tmp_path / "a.md").write_text(NIGHTLY)
    (tmp_path / "b.md").write_text(CANDIDATE)
    assert audit_run(tmp_path, tmp_path / "a.md", tmp_path / "b.md") == 0
    assert sum(batches.calls.values()) == 0
    out = capsys.readouterr().out
    assert "**1 batch candidate**" in out and "set ANTHROPIC\\_API\\_KEY" in out


def test_bad_input_is_named(tmp_path, capsys):
    assert audit_run(tmp_path, tmp_path / "missing.md") == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["audit"]) == 2 and "either PATHs or --repo" in capsys.readouterr().err
    assert main(["audit", "--repo", "o/r", "--since", "last week"]) == 2
    assert "is not a day" in capsys.readouterr().err
    (tmp_path / "bad.yml").write_text("inference: {enabled: maybe}\n")
    assert audit_run(tmp_path, tmp_path / "bad.yml", "--config", tmp_path / "bad.yml") == 2
    assert "inference.enabled" in capsys.readouterr().err
    (tmp_path / "latin1.yml").write_bytes("inference: {model: caf\u00e9}\n".encode("latin-1"))
    assert audit_run(tmp_path, tmp_path / "bad.yml", "--config", tmp_path / "latin1.yml") == 2
    assert "cannot read the config file" in capsys.readouterr().err


def test_merged_pull_requests_since_a_day_are_audited(tmp_path, batches, keyed, monkeypatch, capsys):
    with FakeGitHub() as github:
        github.add_token("ghp_audit", "auditor")
        github.add_repo("acme/platform")
        github.add_pull("acme/platform", 1, body=NIGHTLY, merged_at="2026-02-03T10:00:00Z", updated_at="2026-02-03T10:00:00Z")
        github.add_pull("acme/platform", 2, body=CANDIDATE, merged_at="2026-02-01T10:00:00Z", updated_at="2026-02-02T10:00:00Z")
        github.add_pull("acme/platform", 3, body="Still open, about a chatbot.", updated_at="2026-02-04T10:00:00Z")
        github.add_pull("acme/platform", 4, body=NIGHTLY + " Old.", merged_at="2025-12-01T10:00:00Z", updated_at="2025-12-01T10:00:00Z")
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_audit")
        monkeypatch.setenv("GITHUB_API_URL", github.base_url)
        assert audit_run(tmp_path, "--repo", "acme/platform", "--since", "2026-01-01") == 0
        assert github.problems == []
    out = capsys.readouterr().out
    assert "2 documents: **2 batch candidates**" in out
    assert "[acme/platform\\#1](https://github.com/acme/platform/pull/1)" in out and "\\#4" not in out
    (batch,) = batches.batches.values()
    assert len(batch.requests) == 1 and sent_ids(tmp_path) == [custom_id("acme/platform#1")]


def test_500_documents_interrupted_then_resumed_make_exactly_one_batch(tmp_path, batches):
    docs = tmp_path / "backlog"
    docs.mkdir()
    for i in range(500):
        (docs / f"workload-{i:03d}.md").write_text(
            f"# Workload {i}\n\nA scheduled job summarises {i + 1} batches of tickets every night for report {i}.\n")
    batches.retrieves_before_end = 10**9  # the batch stays in progress until the test ends it
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": batches.base_url,
           "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot.cli", "audit", str(docs), "--out", str(tmp_path / "audit.md"),
               "--store", str(tmp_path / "jobs"), "--poll", "0.05"]
    first = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    manifests = tmp_path / "jobs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            entry.get("id") for path in manifests.glob("*/manifest.json")
            for entry in json.loads(path.read_text() or "{}").get("batches", [])):
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130 and "run the same command again" in err
    assert len(batches.batches) == 1 and not (tmp_path / "audit.md").exists()

    batches.end_all()  # the batch finished while nobody was watching
    resumed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert len(batches.batches) == 1 and batches.calls["create"] == 1
    (batch,) = batches.batches.values()
    assert len(batch.requests) == 500
    assert "500 documents: **500 batch candidates**" in (tmp_path / "audit.md").read_text()
    assert len(rows((tmp_path / "audit.csv").read_text())) == 500
