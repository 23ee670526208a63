"""`batch-review scan` over a whole checkout, as a real process: text, JSON against its schema, exit codes."""

import codecs
import json
from textwrap import dedent

import jsonschema

from bot.scan.model import SIGNAL_IDS
from tests.conftest import load_schema
from tests.test_cli import run_cli

FILES = {
    "jobs/enrich.py": """\
        import anthropic

        client = anthropic.Anthropic()

        def main(rows):
            for row in rows:
                client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=[row])
        """,
    "app/chat.py": """\
        from anthropic import Anthropic

        def answer(question):
            return Anthropic().messages.create(model="claude-sonnet-4-5", max_tokens=500, messages=[question])
        """,
    "app/submit.py": """\
        from bot.helper import run_batch

        run_batch(rows, build_params, job="nightly")
        """,
    "web/src/summarize.ts": """\
        import Anthropic from "@anthropic-ai/sdk";
        const client = new Anthropic();
        export const summarize = (docs: string[]) =>
          Promise.all(docs.map((doc) => client.messages.create({ max_tokens: 100, messages: [doc] })));
        """,
    "legacy/report.py": """\
        import anthropic
        print "old"
        anthropic.Anthropic().messages.create(max_tokens=1)
        """,
    "tests/test_enrich.py": "import anthropic\nanthropic.Anthropic().messages.create(max_tokens=1)\n",
    "node_modules/@anthropic-ai/sdk/index.js": "client.messages.create({ max_tokens: 1 });\n",
    ".venv/lib/site.py": "import anthropic\nanthropic.Anthropic().messages.create(max_tokens=1)\n",
    "env2/pyvenv.cfg": "home = /usr/bin\n",
    "env2/lib/x.py": "import anthropic\nanthropic.Anthropic().messages.create(max_tokens=1)\n",
    ".github/workflows/nightly.yml": """\
        on:
          schedule:
            - cron: "0 3 * * *"
        jobs:
          enrich:
            runs-on: ubuntu-latest
            steps:
              - run: python -m jobs.enrich
        """,
    "docs/notes.md": "client.messages.create() in a loop\n",
}


def checkout(tmp_path):
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))
    return tmp_path


def test_a_whole_checkout_as_text(tmp_path):
    result = run_cli("scan", ".", cwd=checkout(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "app/chat.py:4  messages.create  no bulk signal: no loop, comprehension, pool or offline job around it",
        "app/submit.py:3  run_batch  already batched: goes through the shared `run_batch` helper",
        "jobs/enrich.py:7  messages.create  inside a loop over `rows`; in an offline-job folder (`jobs/`); "
        "run on a schedule by `.github/workflows/nightly.yml` (.github/workflows/nightly.yml:2)",
        "legacy/report.py:3  messages.create  no bulk signal: no loop, comprehension, pool or offline job around it",
        "web/src/summarize.ts:4  @anthropic-ai/sdk messages.create  mapped over `docs` by `.map`",
    ]
    assert lines[5].startswith("legacy/report.py: not valid Python 3 (line 2:")
    assert lines[6] == "tests/test_enrich.py: test file: its calls to Claude are not workloads (1 not counted)"
    assert lines[7] == "5 calls to Claude in 5 files: 2 synchronous with bulk signals, 1 already batched."
    assert "node_modules" not in result.stdout and "venv" not in result.stdout and "env2" not in result.stdout


def test_json_matches_the_schema_and_paths_keep_the_folder_given(tmp_path):
    checkout(tmp_path / "repo")
    result = run_cli("scan", "repo", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, load_schema("scan.schema.json"))
    enrich = next(c for c in document["calls"] if c["path"] == "repo/jobs/enrich.py")
    assert enrich == {"path": "repo/jobs/enrich.py", "line": 7, "api": "messages.create", "batched": False, "signals": [
        {"id": "loop", "description": "inside a loop over `rows`", "line": 6, "path": None},
        {"id": "scheduled-job", "description": "in an offline-job folder (`jobs/`)", "line": None, "path": None},
        {"id": "scheduled-job", "description": "run on a schedule by `.github/workflows/nightly.yml`", "line": 2,
         "path": "repo/.github/workflows/nightly.yml"}], "dismissed": []}
    assert {n["path"] for n in document["notes"]} == {"repo/legacy/report.py", "repo/tests/test_enrich.py"}


def test_the_schemas_allow_exactly_the_scanners_signal_ids():
    scan_signal = load_schema("scan.schema.json")["$defs"]["signal"]
    review_hint = load_schema("review.schema.json")["$defs"]["hint"]["properties"]["signals"]["items"]
    for signal in (scan_signal, review_hint):
        assert signal["properties"]["id"]["enum"] == list(SIGNAL_IDS)


def test_single_files_and_files_it_does_not_read(tmp_path):
    checkout(tmp_path)
    result = run_cli("scan", "jobs/enrich.py", "docs/notes.md", "--format", "json", cwd=tmp_path)
    document = json.loads(result.stdout)
    jsonschema.validate(document, load_schema("scan.schema.json"))
    assert [(c["path"], c["line"]) for c in document["calls"]] == [("jobs/enrich.py", 7)]
    assert document["notes"] == [{"path": "docs/notes.md",
                                  "note": "not a Python, JavaScript, TypeScript or workflow file; not scanned"}]


def test_an_empty_folder_finds_nothing(tmp_path):
    result = run_cli("scan", str(tmp_path))
    assert result.returncode == 0 and result.stdout == "0 calls to Claude in 0 files: 0 synchronous with bulk signals, 0 already batched.\n"


def test_a_missing_path_exits_2(tmp_path):
    result = run_cli("scan", str(tmp_path), str(tmp_path / "nope"))
    assert result.returncode == 2 and f"no such file or folder: {tmp_path / 'nope'}" in result.stderr
    assert run_cli("scan").returncode == 2  # no PATH at all: argparse's usage error


def test_encodings_and_binary_files(tmp_path):
    (tmp_path / "bom.py").write_bytes(codecs.BOM_UTF16_LE + FILES["jobs/enrich.py"].replace("        ", "").encode("utf-16-le"))
    (tmp_path / "latin.py").write_bytes(b"# caf\xe9\n" + dedent(FILES["app/chat.py"]).encode())
    (tmp_path / "blob.py").write_bytes(b"\x00\x01binary")
    result = run_cli("scan", str(tmp_path), "--format", "json")
    document = json.loads(result.stdout)
    assert result.returncode == 0
    assert sorted(call["path"] for call in document["calls"]) == [f"{tmp_path}/bom.py", f"{tmp_path}/latin.py"]
    notes = {note["path"]: note["note"] for note in document["notes"]}
    assert notes[f"{tmp_path}/blob.py"] == "a binary file; not scanned"
    assert "not valid UTF-8 (the first bad byte is at offset 5)" in notes[f"{tmp_path}/latin.py"]


def test_a_folder_with_a_file_too_deep_for_a_recursive_walk_reports_every_file(tmp_path):
    checkout(tmp_path)
    elifs = "".join(f"    elif x == {n}:\n        y = {n}\n" for n in range(600))
    (tmp_path / "jobs" / "router.py").write_text(
        "import anthropic\n\ndef route(x, rows):\n    if x == -1:\n        y = 0\n" + elifs
        + "    for row in rows:\n        anthropic.Anthropic().messages.create(max_tokens=5, messages=[row])\n")
    result = run_cli("scan", ".", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert [line.split("  ")[0] for line in result.stdout.splitlines()[:6]] == [
        "app/chat.py:4", "app/submit.py:3", "jobs/enrich.py:7", "jobs/router.py:1207", "legacy/report.py:3",
        "web/src/summarize.ts:4"]
