"""The command line: check (text, Markdown and JSON), input files, init, help, pipes, exit codes; as a real process."""

import codecs
import json
import os
import subprocess
import sys

import jsonschema
import pytest

from bot.cli.main import COMMANDS, main
from bot.core.cost import figure
from bot.core.names import CHECKLIST_MARKER, COMMENT_MARKER, HELPER_URL, QUESTIONS, TERMINAL
from bot.core.render import render_comment
from bot.core.workload import assess
from tests.checklists import CANDIDATE, DOC_TEMPLATE, PARTIAL, PR_TEMPLATE, filled
from tests.conftest import ROOT, load_schema

SAMPLE = ROOT / "examples" / "nightly-enrichment-pr.md"
ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
BULK_JOB = "import anthropic\nfor row in rows:\n    anthropic.Anthropic().messages.create(max_tokens=1)\n"


def run_cli(*args, stdin=None, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env={**ENV, **(env or {})})


def test_check_the_bundled_sample_prints_readable_text():
    result = run_cli("check", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Batch candidate"  # the verdict first
    for markup in ("<!--", "<details>", "mermaid", "<sub>", "|", "**", "\033"):
        assert markup not in result.stdout
    table = next(i for i, line in enumerate(lines) if line.startswith("Question"))
    assert [line.split("  ")[0] for line in lines[table + 1:table + 4]] == list(QUESTIONS.values())
    assert "yes (2,000 a day)  checklist in the PR description" in lines[table + 2]
    path = lines.index("Path: Someone waiting: no -> Volume: yes -> Needed within minutes: no -> Batch candidate")
    assert lines[path + 1] == figure(assess(SAMPLE.read_text()).workloads[0].cost, True)  # the cost
    assert "a month synchronously" in lines[path + 1]
    assert lines.index(TERMINAL["next-batch-candidate"].format(helper=HELPER_URL)) > path > table


def test_markdown_prints_the_comment_exactly_as_posted():
    result = run_cli("check", str(SAMPLE), "--format", "markdown")
    assert result.stdout == render_comment(assess(SAMPLE.read_text()))
    assert result.stdout.startswith(COMMENT_MARKER)


@pytest.mark.parametrize("form", ["text", "markdown"])
def test_the_untouched_template_has_no_claude_workload_and_never_no_longer(form):
    result = run_cli("check", str(ROOT / "templates" / "pull_request_template.md"), "--format", form)
    assert result.returncode == 0 and "no longer" not in result.stdout
    assert ("No Claude workload" if form == "text" else "carries no Claude workload") in result.stdout


def test_needs_answers_names_the_labels_that_answer():
    result = run_cli("check", "-", stdin=PARTIAL)
    assert result.stdout.startswith("Needs answers\n")
    assert "  Volume: batch/high-volume or batch/low-volume" in result.stdout


def run_on_a_terminal(*args, env=None):
    """stdout is a pseudo-terminal, as in an interactive shell."""
    leader, follower = os.openpty()
    with open(os.devnull) as stdin:
        result = subprocess.run([sys.executable, "-m", "bot.cli", *args], stdin=stdin, stdout=follower,
                                stderr=subprocess.PIPE, env={**ENV, **(env or {})})
    os.close(follower)
    out = b""
    try:
        while chunk := os.read(leader, 65536):
            out += chunk
    except OSError:  # EIO: the terminal's other end is closed and everything was read
        pass
    os.close(leader)
    return result.returncode, out.decode()


@pytest.mark.parametrize("args", [("check", str(SAMPLE)), ("scan", str(ROOT / "bot" / "helper.py"))])
def test_colour_only_on_a_terminal_and_never_with_no_color(args):
    status, out = run_on_a_terminal(*args)
    assert status == 0 and "\033[" in out
    assert "\033[" not in run_on_a_terminal(*args, env={"NO_COLOR": "1"})[1]
    assert "\033[" not in run_cli(*args).stdout


@pytest.mark.parametrize("encoding, bom", [("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
                                           ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", codecs.BOM_UTF32_LE),
                                           ("utf-32-be", codecs.BOM_UTF32_BE)])
def test_files_with_a_byte_order_mark_are_decoded(tmp_path, encoding, bom):
    pr = tmp_path / "pr.md"
    pr.write_bytes(bom + SAMPLE.read_text().encode(encoding))
    for given, stdin in ((str(pr), None), ("-", pr.read_bytes())):
        result = subprocess.run([sys.executable, "-m", "bot.cli", "check", given, "--format", "json"], input=stdin,
                                capture_output=True, env=ENV)
        assert json.loads(result.stdout)["verdict"] == "batch-candidate" and not result.stderr


def test_invalid_utf8_warns_with_the_file_and_the_first_bad_byte(tmp_path):
    pr = tmp_path / "pr.md"
    pr.write_bytes("Caf\u00e9 listings\n".encode("latin-1") + CANDIDATE.encode())
    result = run_cli("check", str(pr), "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["verdict"] == "batch-candidate"
    assert f"{pr} is not valid UTF-8 (the first bad byte is at offset 3)" in result.stderr


def test_a_binary_file_is_refused(tmp_path):
    image = tmp_path / "diagram.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    result = run_cli("check", str(image))
    assert result.returncode == 2 and result.stdout == ""
    assert f"{image} is a binary file, not text" in result.stderr


@pytest.mark.parametrize("args", [("check", "--format", "json"), ("check",), ("scan", "--format", "json")])
def test_a_closed_pipe_ends_quietly(tmp_path, args):
    doc = tmp_path / "design.md"
    doc.write_text(filled(DOC_TEMPLATE, human_waiting="no", volume="yes", latency="no"))
    code = tmp_path / "jobs"
    code.mkdir()
    for n in range(300):
        (code / f"job{n}.py").write_text(BULK_JOB)
    files = [str(SAMPLE)] + [str(doc)] * 300 if args[0] == "check" else [str(code)]
    with subprocess.Popen([sys.executable, "-m", "bot.cli", *args, *files], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=ENV) as process:
        assert len(process.stdout.read(10)) == 10  # `| head -c 10`
        process.stdout.close()
        assert process.wait() == 0
        assert process.stderr.read() == b""



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


def test_check_reports_every_config_problem_at_once_and_unknown_keys_only_warn(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("volume_threshold: lots\ncolour: blue\nfail_on: [red]\n")
    result = run_cli("check", "-", "--config", str(config), stdin=filled(human_waiting="yes"))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    for line, start in zip(lines, [f"{config} line 1: `volume_threshold", f"{config} line 3: `fail_on",
                                   f"warning: {config} line 2: `colour`"]):
        assert line.startswith(f"batch-review check: {start}")
    config.write_text("colour: blue\nvolume_threshold: 5000\n")
    result = run_cli("check", "-", "--config", str(config), "--format", "json", stdin=filled(volume_text="2k"))
    assert result.returncode == 0 and "warning: " in result.stderr and "`colour`" in result.stderr
    assert json.loads(result.stdout)["workloads"][0]["answers"]["volume"]["value"] == "no"


def test_check_refuses_an_alias_bomb_at_once(tmp_path):
    bomb = tmp_path / "bomb.yml"
    bomb.write_text("design_docs: [" + ", ".join(["&l0 [x,x,x,x,x,x,x,x,x]"] + [
        f"&l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]) + "]\n")
    result = run_cli("check", str(ROOT / "examples" / "nightly-enrichment-pr.md"), "--config", str(bomb))
    assert result.returncode == 2 and "alias" in result.stderr and len(result.stderr) < 300


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
