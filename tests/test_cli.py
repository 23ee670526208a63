"""The command line: check (Markdown and JSON), init, help, exit codes; run as a real process."""

import json
import subprocess
import sys

import jsonschema
import pytest

from bot.cli.main import COMMANDS, main
from bot.core.names import CHECKLIST_MARKER, COMMENT_MARKER
from tests.checklists import CANDIDATE, DOC_TEMPLATE, PARTIAL, PR_TEMPLATE, filled
from tests.conftest import ROOT, load_schema


def run_cli(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_check_the_bundled_sample_prints_the_comment():
    result = run_cli("check", str(ROOT / "examples" / "nightly-enrichment-pr.md"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(COMMENT_MARKER) and "Batch candidate" in result.stdout


def test_check_json_matches_the_schema(tmp_path):
    pr = tmp_path / "pr.md"
    pr.write_text(PARTIAL)
    doc = tmp_path / "design.md"
    doc.write_text(filled(DOC_TEMPLATE, human_waiting="no", volume="yes", latency="no"))
    result = run_cli("check", str(pr), str(doc), "--label", "batch/within-minutes", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, load_schema("review.schema.json"))
    assert [w["source"] for w in document["workloads"]] == ["pull-request", str(doc)]
    assert document["verdict"] == "synchronous"  # the label answers every workload
    assert document["workloads"][0]["answers"]["latency"]["source"] == "label"


@pytest.mark.parametrize("body, verdict", [(CANDIDATE, "batch-candidate"), (PR_TEMPLATE, "not-applicable"), ("", "not-applicable")])
def test_check_reads_standard_input(body, verdict):
    result = run_cli("check", "-", "--format", "json", stdin=body)
    assert result.returncode == 0 and json.loads(result.stdout)["verdict"] == verdict


def test_unknown_labels_are_ignored_with_a_warning():
    result = run_cli("check", "-", "--label", "batch/can-wai", "--format", "json", stdin=PR_TEMPLATE)
    assert result.returncode == 0 and "ignoring label 'batch/can-wai'" in result.stderr
    assert json.loads(result.stdout)["verdict"] == "not-applicable"


def test_config_is_used_and_errors_exit_2(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("volume_threshold: 5000\n")
    body = filled(human_waiting="no", latency="no", volume_text="2k")
    result = run_cli("check", "-", "--config", str(good), "--format", "json", stdin=body)
    assert json.loads(result.stdout)["verdict"] == "synchronous"
    bad = tmp_path / "bad.yml"
    bad.write_text("drafts: sometimes\n")
    result = run_cli("check", "-", "--config", str(bad), stdin=body)
    assert result.returncode == 2 and "`drafts: 'sometimes'`" in result.stderr and "comment, label-only, skip" in result.stderr


def test_config_in_the_current_repository_is_found(tmp_path):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "batch-review.yml").write_text("volume_threshold: 5000\n")
    result = run_cli("check", "-", "--format", "json", stdin=filled(volume_text="2k"), cwd=tmp_path)
    assert json.loads(result.stdout)["workloads"][0]["answers"]["volume"]["value"] == "no"


def test_missing_file_exits_2():
    result = run_cli("check", "/nonexistent/pr.md")
    assert result.returncode == 2 and "cannot read /nonexistent/pr.md" in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "Example" in capsys.readouterr().out


def test_init_adds_what_is_missing_and_is_idempotent(tmp_path):
    (tmp_path / ".github").mkdir()
    own = "## What changed\n\n- [ ] tests added\n"
    (tmp_path / ".github" / "PULL_REQUEST_TEMPLATE.md").write_text(own)
    first = run_cli("init", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "added the checklist to .github/PULL_REQUEST_TEMPLATE.md" in first.stdout
    template = (tmp_path / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text()
    assert template.startswith(own) and CHECKLIST_MARKER in template
    assert (tmp_path / ".github" / "batch-review.yml").read_text() == (ROOT / "templates" / "config.yml").read_text()
    assert CHECKLIST_MARKER in (tmp_path / "docs" / "design" / "TEMPLATE.md").read_text()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    second = run_cli("init", str(tmp_path))
    assert "nothing to do" in second.stdout
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_init_creates_a_template_and_never_overwrites(tmp_path):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "batch-review.yml").write_text("drafts: skip\n")
    run_cli("init", str(tmp_path))
    assert CHECKLIST_MARKER in (tmp_path / ".github" / "pull_request_template.md").read_text()
    assert (tmp_path / ".github" / "batch-review.yml").read_text() == "drafts: skip\n"


def test_init_on_a_missing_directory_exits_2(tmp_path):
    assert run_cli("init", str(tmp_path / "nope")).returncode == 2
