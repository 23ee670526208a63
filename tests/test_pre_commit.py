"""The pre-commit hook: a valid manifest, the scanner's own files, hints printed, failing only when asked."""

import re
import shlex

import pytest
from pre_commit.clientlib import load_manifest

from bot.scan.diff import language
from tests.conftest import ROOT
from tests.test_cli import BULK_JOB, run_cli

HOOKS = {hook["id"]: hook for hook in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
HOOK = HOOKS["batch-review-scan"]


def run_hook(files, args=(), cwd=None):
    """The hook as pre-commit runs it: its entry, its args, then the staged files' names."""
    entry = shlex.split(HOOK["entry"])
    assert entry[0] == "batch-review"  # the console script of this package (language: python installs it)
    return run_cli(*entry[1:], *HOOK["args"], *args, *files, cwd=cwd)


@pytest.mark.parametrize("path", ["jobs/enrich.py", "web/a.ts", "web/b.tsx", "web/c.mjs", "web/d.cjs", "web/e.jsx",
                                  "web/f.mts", ".github/workflows/nightly.yml", "sub/.github/workflows/x.yaml",
                                  "README.md", "config.yml", "setup.cfg", "notes.txt", "py.typed", "web/a.json"])
def test_the_hook_gets_exactly_the_files_the_scanner_reads(path):
    assert bool(re.search(HOOK["files"], path)) == (language(path) is not None)


def test_the_hook_prints_hints_and_fails_only_with_fail_on_bulk(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "enrich.py").write_text(BULK_JOB)
    (tmp_path / "chat.py").write_text("import anthropic\nanthropic.Anthropic().messages.create(max_tokens=1)\n")
    assert HOOK["language"] == "python" and HOOK["verbose"] and HOOK["pass_filenames"]
    passed = run_hook(["jobs/enrich.py", "chat.py"], cwd=tmp_path)
    assert passed.returncode == 0 and "jobs/enrich.py:3  messages.create  inside a loop over `rows`" in passed.stdout
    assert run_hook(["jobs/enrich.py", "chat.py"], ["--fail-on-bulk"], cwd=tmp_path).returncode == 1
    assert run_hook(["chat.py"], ["--fail-on-bulk"], cwd=tmp_path).returncode == 0
