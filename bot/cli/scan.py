"""Find calls to Claude in files or a checkout, with the signs of bulk work.

Every line counts as changed. Reads Python, JavaScript and TypeScript (and scheduled
workflows under .github/workflows/); skips .git, node_modules, virtual environments and
caches. Calls in test files are listed as notes, not counted. Exit 0 whatever is found (1 with
--fail-on-bulk when a synchronous call shows a sign of bulk work), 2 when a PATH does not exist.
--format sarif writes SARIF 2.1.0 for GitHub code scanning (github/codeql-action/upload-sarif).

--fix prints the ready change: a unified diff that moves each flagged Python loop onto
`run_batch` (a loop it cannot move safely gets the reason and a snippet to adapt); --apply
writes it. `helper_import` in the config file says how to import a vendored run_batch.

Example:
  batch-review scan ~/src/monorepo
  batch-review scan jobs/enrich.py src/chat.ts --format json
  batch-review scan . --format sarif > batch-review.sarif
  batch-review scan jobs/ --fix
"""

import json
import os
import sys
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

from bot.core.config import DEFAULT, ConfigError, from_mapping, parse_mapping
from bot.core.names import CONFIG_PATH, SCAN_SCHEMA_VERSION
from bot.core.sarif import sarif
from bot.core.terminal import colour_wanted, scan_text
from bot.core.textfile import BinaryFile, decode
from bot.fix.patch import fix_file, render
from bot.scan.diff import language
from bot.scan.model import FileChange, Note
from bot.scan.scanner import scan

SKIPPED_FOLDERS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".venv", "venv",
                   "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
MAX_BYTES = 2_000_000  # larger files are generated or vendored


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to scan")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="text: readable (the default); json: bot/schemas/scan.schema.json; "
                             "sarif: SARIF 2.1.0 for GitHub code scanning")
    parser.add_argument("--fail-on-bulk", action="store_true",
                        help="exit 1 when a synchronous call to Claude shows a sign of bulk work (pre-commit, CI)")
    parser.add_argument("--fix", action="store_true", help="print the ready change: flagged loops onto run_batch")
    parser.add_argument("--apply", action="store_true", help="write the ready change to the files (implies --fix)")
    parser.add_argument("--config", metavar="FILE", help=f"config file for helper_import (default: {CONFIG_PATH})")


def _walk(root: Path):
    """Relative paths of the files under `root` the scanner reads, in a stable order."""

    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders
                               if d not in SKIPPED_FOLDERS and not (Path(folder, d) / "pyvenv.cfg").exists())
        for name in sorted(files):
            relative = Path(folder, name).relative_to(root).as_posix()
            if language(relative):
                yield relative


def _read(path: Path, shown: str, notes: list):
    """The file's text, or None with a note saying why not."""

    try:
        if path.stat().st_size > MAX_BYTES:
            notes.append(Note(shown, f"larger than {MAX_BYTES // 1_000_000} MB (generated?); not scanned"))
            return None
        text, warning = decode(path.read_bytes(), shown)
    except OSError as error:
        notes.append(Note(shown, f"cannot be read: {error.strerror}"))
        return None
    except BinaryFile:
        notes.append(Note(shown, "a binary file; not scanned"))
        return None
    if warning:
        notes.append(Note(shown, warning))
    return text


def _scan_root(root: Path, names, shown) -> tuple:
    """Scan files named relative to `root`; report them under shown(name)."""

    notes, changes = [], []
    for name in names:
        if language(name) is None:
            notes.append(Note(shown(name), "not a Python, JavaScript, TypeScript or workflow file; not scanned"))
            continue
        text = _read(root / name, shown(name), notes)
        if text is not None:
            changes.append(FileChange(name, text))
    result = scan(changes)
    calls = [replace(c, path=shown(c.path), signals=tuple(replace(s, path=s.path and shown(s.path)) for s in c.signals))
             for c in result.calls]
    return (calls, notes + [replace(n, path=shown(n.path)) for n in result.notes],
            [replace(h, path=shown(h.path)) for h in result.hygiene])


def _local(path: str) -> str:
    """A file's path relative to the current folder when it is inside it (for path-based signals)."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else Path(relative).as_posix()


def scan_paths(paths) -> tuple:
    """(calls, notes, hygiene) over files and folders; folders are walked, each file read once."""
    calls, notes, hygiene = [], [], []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = _scan_root(path, _walk(path), lambda name, given=given: os.path.normpath(os.path.join(given, name)))
        else:
            local = _local(given)
            found = _scan_root(Path("."), [local], lambda name: name)
        calls += found[0]
        notes += found[1]
        hygiene += found[2]
    return calls, notes, hygiene


def document(calls, notes, hygiene=()) -> dict:
    """The JSON document (schemas/scan.schema.json)."""

    return {
        "schema_version": SCAN_SCHEMA_VERSION,
        "calls": [{"path": c.path, "line": c.line, "api": c.api, "batched": c.batched,
                   "signals": [{"id": s.id, "description": s.description, "line": s.line, "path": s.path}
                               for s in c.signals],
                   "dismissed": [{"signal": d.signal, "line": d.line, "reason": d.reason} for d in c.dismissed]}
                  for c in calls],
        "notes": [{"path": n.path, "note": n.text} for n in notes],
        "hygiene": [{"path": h.path, "line": h.line, "rule": h.rule, "message": h.message} for h in hygiene],
    }


def run(args) -> int:
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"batch-review scan: no such file or folder: {', '.join(missing)}.", file=sys.stderr)
        return 2
    found = scan_paths(args.paths)
    if args.fix or args.apply:
        return _fix(found[0], args)
    if args.format == "json":
        print(json.dumps(document(*found), indent=2))
    elif args.format == "sarif":
        print(json.dumps(sarif(found[0], found[1], version("batch-review")), indent=2))
    else:
        print(scan_text(*found, colour=colour_wanted(sys.stdout.isatty(), os.environ)), end="")
    return 1 if args.fail_on_bulk and any(call.bulk for call in found[0]) else 0


def _fix(calls, args) -> int:
    """Print (and with --apply write) the ready change of every file with a flagged loop."""
    config_file = args.config or (CONFIG_PATH if Path(CONFIG_PATH).is_file() else None)
    try:
        config = from_mapping(parse_mapping(Path(config_file).read_text(encoding="utf-8"), config_file)) \
            if config_file else DEFAULT
    except (OSError, UnicodeDecodeError, ConfigError) as error:
        print(f"batch-review scan: {error}", file=sys.stderr)
        return 2
    fixes = []
    for path in dict.fromkeys(call.path for call in calls):
        try:  # bytes in and out: line endings and every untouched byte stay as they are
            text = Path(path).read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            text = None
        fix = fix_file(path, text, [c for c in calls if c.path == path], config.helper_import)
        if args.apply and fix.after != fix.before:
            Path(path).write_bytes(fix.after.encode("utf-8"))
        fixes.append(fix)
    print(render(fixes, applied=args.apply), end="")
    return 0
