"""`batch-review scan --format sarif`: valid SARIF 2.1.0 with a rule per bulk signal, results at file and line."""

import json

import jsonschema
import pytest

from bot.cli.main import main
from bot.core.names import HANDBOOK_URL, SIGNAL_RULES
from bot.scan.model import BULK_SIGNALS
from tests.conftest import FIXTURES
from tests.test_scan_cmd import checkout

# The OASIS SARIF 2.1.0 schema (errata 01), as published; its origin is in tests/fixtures/README.md.
SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def scanned(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(checkout(tmp_path))

    def scan(*args):
        status = main(["scan", *args])
        return status, json.loads(capsys.readouterr().out)
    return scan


def test_the_log_is_valid_sarif_2_1_0(scanned):
    status, log = scanned(".", "--format", "sarif")
    assert status == 0
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1


def test_one_rule_per_bulk_signal_with_help_and_the_handbook(scanned):
    rules = scanned(".", "--format", "sarif")[1]["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(BULK_SIGNALS) and set(SIGNAL_RULES) == set(BULK_SIGNALS)
    for rule in rules:
        assert rule["helpUri"] == HANDBOOK_URL and HANDBOOK_URL in rule["help"]["text"]
        assert "batch candidate" in rule["help"]["text"] and rule["shortDescription"]["text"]
    assert len({rule["name"] for rule in rules}) == len(rules)


def test_results_are_the_bulk_signals_at_their_file_and_line(scanned):
    _, scan = scanned(".", "--format", "json")
    _, log = scanned(".", "--format", "sarif")
    expected = sorted((call["path"], call["line"], signal["id"]) for call in scan["calls"] if not call["batched"]
                      for signal in call["signals"] if signal["id"] in BULK_SIGNALS)
    run = log["runs"][0]
    found = sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                    r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"]) for r in run["results"])
    assert found == expected and ("jobs/enrich.py", 7, "loop") in found
    assert not any(uri == "app/submit.py" for uri, _, _ in found)  # already batched: no finding
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    loop = next(r for r in run["results"] if r["ruleId"] == "loop")
    assert loop["message"]["text"] == ("messages.create inside a loop over `rows`; if nothing waits on it, "
                                       "this is a batch candidate.")
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tests/test_enrich.py" for n in notes)


def test_absolute_paths_become_file_uris(scanned, tmp_path):
    _, log = scanned(str(tmp_path / "jobs"), "--format", "sarif")
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {f"file://{tmp_path}/jobs/enrich.py"}


def test_fail_on_bulk_fails_only_on_a_bulk_signal(scanned):
    assert scanned("jobs/enrich.py", "--format", "json")[0] == 0
    assert scanned("jobs/enrich.py", "--format", "json", "--fail-on-bulk")[0] == 1
    assert scanned("app/chat.py", "app/submit.py", "--format", "json", "--fail-on-bulk")[0] == 0
