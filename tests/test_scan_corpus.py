"""The labelled corpus (tests/scan_corpus): complete, and scanned with precision and recall of at least 0.9."""

import json

import jsonschema

from benchmarks.bench_scan_quality import CORPUS, score
from bot.cli.scan import document as scan_document
from bot.cli.scan import scan_paths
from bot.scan.diff import language
from tests.conftest import load_schema

MANIFEST = json.loads((CORPUS / "manifest.json").read_text())["files"]


def test_the_manifest_labels_every_code_file_once_with_a_reason():
    code = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
                  if p.is_file() and language(p.name) in ("python", "script"))
    assert sorted(entry["path"] for entry in MANIFEST) == code
    assert len(code) >= 40
    assert {entry["label"] for entry in MANIFEST} == {"bulk", "not-bulk"}
    assert all(entry["reason"].strip() and "\n" not in entry["reason"] for entry in MANIFEST)


def test_precision_and_recall_are_at_least_0_9():
    result = score()
    assert result["precision"] >= 0.9 and result["recall"] >= 0.9, result["wrong"]


def test_every_call_ends_with_signals_or_reasons():
    calls, _, _ = scan_paths([str(CORPUS)])
    assert calls and all(c.signals or c.dismissed for c in calls)


def test_the_corpus_scan_document_follows_schema_2_with_reasons_and_hygiene():
    document = scan_document(*scan_paths([str(CORPUS)]))
    jsonschema.validate(document, load_schema("scan.schema.json"))
    assert document["schema_version"] == 2 and document["hygiene"]
    assert any(call["dismissed"] for call in document["calls"])
