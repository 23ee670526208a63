"""GitHub's patches to changed lines, which files to read, and the scan remembered per head SHA."""

import json
from collections import namedtuple

from bot.scan.cache import CACHED_CALLS, from_cache, to_cache
from bot.scan.diff import changed_lines, select, to_change
from bot.scan.model import ALL, Call, FileChange, Note, ScanResult, Signal

Listed = namedtuple("Listed", "path patch status", defaults=("", "modified"))  # as GitHub lists a PR's files

# A real-shaped `patch` field: two hunks, a removed line, a changed line and no newline at the end.
PATCH = """\
@@ -1,4 +1,5 @@
 import anthropic
+import itertools
 
 client = anthropic.Anthropic()
 MODEL = "claude-haiku-4-5"
@@ -20,7 +21,8 @@ def enrich(rows):
     for row in rows:
-        client.messages.create(model=MODEL, max_tokens=10, messages=[row])
+        client.messages.create(model=MODEL, max_tokens=100,
+                               messages=[row])
     return None
-
+# done
\\ No newline at end of file"""


def test_added_and_changed_lines_of_a_patch():
    assert changed_lines(PATCH) == frozenset({2, 22, 23, 25})


def test_no_patch_means_every_line_and_an_empty_patch_none():
    assert changed_lines(None) == ALL
    assert changed_lines("") == frozenset()
    assert changed_lines("@@ -0,0 +1,2 @@\n+a\n+b\n") == frozenset({1, 2})
    assert changed_lines("@@ -5 +5 @@\n-old\n+new\r\n") == frozenset({5})


def test_to_change_reads_the_patch_and_the_status():
    change = to_change(Listed("jobs/a.py", "@@ -0,0 +1 @@\n+x", "added"), "x\n")
    assert change == FileChange("jobs/a.py", "x\n", frozenset({1}), True)


def patch(*lines):
    return "@@ -1,1 +1,%d @@\n" % len(lines) + "\n".join("+" + line for line in lines)


def test_select_reads_only_files_that_mention_claude():
    files = [
        Listed("README.md", patch("Claude is great")),
        Listed("app/views.py", patch("return render(request)")),
        Listed("app/chat.py", patch("reply = client.messages.create(")),
        Listed("app/claude_prompts.py", patch("PROMPT = 'x'")),
        Listed("web/src/ask.ts", patch("import Anthropic from '@anthropic-ai/sdk';")),
        Listed("jobs/old.py", patch("anthropic"), "removed"),
        Listed("tests/test_chat.py", patch("client.messages.create = mock")),
        Listed("tests/test_views.py", patch("assert ok")),
        Listed("assets/logo.png", None),
        Listed("vendor/huge.py", None),
    ]
    selection = select(files)
    assert [f.path for f in selection.fetch] == ["app/chat.py", "app/claude_prompts.py", "web/src/ask.ts",
                                                  "vendor/huge.py"]  # calls first, unknown content last
    assert selection.notes == (Note("tests/test_chat.py", "test file: its calls to Claude are not workloads"),)
    assert not selection.partial


def test_select_takes_workflows_that_add_a_schedule():
    files = [Listed(".github/workflows/nightly.yml", patch("on:", "  schedule:", "    - cron: '0 3 * * *'")),
             Listed(".github/workflows/ci.yml", patch("on: [push]")),
             Listed(".github/workflows/weekly.yaml", patch("  - cron: '0 0 * * 0'"))]
    assert [f.path for f in select(files).fetch] == [".github/workflows/nightly.yml", ".github/workflows/weekly.yaml"]


def test_select_is_capped_and_says_the_scan_is_partial():
    files = [Listed(f"jobs/job{i}.py", patch("import anthropic")) for i in range(60)]
    files.append(Listed("jobs/last.py", patch("client.messages.create(")))
    selection = select(files, max_files=50)
    assert len(selection.fetch) == 50 and selection.partial
    assert selection.fetch[0].path == "jobs/last.py"  # a file that adds a call outranks one that mentions the SDK
    assert not select(files[:50]).partial


def result_with(count):
    quiet = [Call("app/chat.py", n, "messages.create", (), False, False) for n in range(1, count)]
    loud = Call("jobs/enrich.py", 42, "messages.create",
                (Signal("loop", "inside a loop over `rows` --> <!--", 40, True),
                 Signal("scheduled-job", "run on a schedule by `.github/workflows/n.yml`", 3, True, ".github/workflows/n.yml")),
                False, True)
    batched = Call("jobs/submit.py", 7, "run_batch", (Signal("already-batched", "goes through the shared `run_batch` helper", 7),),
                   True, True)
    return ScanResult(tuple([*quiet, loud, batched]), (Note("tests/test_x.py", "test file"),), partial=True)


def test_the_cache_round_trips_through_json():
    result = result_with(3)
    value = json.loads(json.dumps(to_cache(result, "abc123")))
    assert from_cache(value, "abc123") == result


def test_the_cache_is_for_one_head_sha_and_one_version():
    value = to_cache(result_with(2), "abc123")
    assert from_cache(value, "def456") is None
    assert from_cache({**value, "v": 0}, "abc123") is None
    for broken in (None, {}, [], "x", {"v": 1, "sha": "abc123"}, {**value, "calls": [[1]]}, {**value, "calls": 5}):
        assert from_cache(broken, "abc123") is None


def test_the_cache_is_compact_and_keeps_what_makes_a_workload():
    result = result_with(500)
    value = to_cache(result, "abc123")
    assert len(value["calls"]) == CACHED_CALLS
    assert len(json.dumps(value, separators=(",", ":"))) < 8_000
    assert from_cache(value, "abc123").workload == result.workload is True
