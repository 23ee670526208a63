"""The package's shape: pure modules stay pure (the built wheel: tests/test_release.py)."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PURE_PACKAGES = ("core", "scan", "metric/compute.py", "metric/format.py", "metric/csv_import.py")
# Function-level imports are kept for optional heavy dependencies only (each with a comment saying why).
LAZY = ("anthropic", "flask", "werkzeug", "playwright", "psycopg", "bot.app")


def modules(*parts):
    for part in parts:
        path = ROOT / "bot" / part
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_imports_flow_one_way_by_the_import_linter_contracts():
    """pyproject.toml's [tool.importlinter]: the layers, and no network or framework in the pure core."""
    linted = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "0 broken" in linted.stdout


@pytest.mark.parametrize("path", list(modules(*PURE_PACKAGES)), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_pure_core_never_imports_urllib_request(path):
    """import-linter cannot name a standard-library submodule, so this one is checked here."""
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module for alias in node.names} | {node.module for node in ast.walk(tree)
                                                             if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name == "urllib.request" or name.startswith("urllib.request.")}


def test_function_level_imports_are_only_for_optional_heavy_dependencies():
    for path in modules("."):
        tree, lines = ast.parse(path.read_text()), path.read_text().splitlines()
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or path.name == "helper.py":
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    assert name.startswith(LAZY), f"{where} imports {name} inside a function"
                    above = lines[function.lineno:node.lineno]  # from the def line on
                    assert any("#" in line for line in above), f"{where}: say why it is lazy"


def test_every_module_opens_with_a_short_one_line_docstring():
    for path in modules("."):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring and docstring.splitlines()[0].strip(), path
        assert len(docstring.splitlines()[0]) <= 90, f"{path}: the first line says the module's job in a line"


def test_the_command_line_parser_imports_no_heavy_library():
    """`batch-review --help` and `check` must not pay for PyGithub, Flask, SQLAlchemy or anthropic."""
    code = ("import sys, bot.cli.main; bot.cli.main.build_parser(); "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                check=True).stdout.split())
    assert not loaded & {"github", "flask", "werkzeug", "sqlalchemy", "anthropic", "httpx", "httpx2", "requests", "yaml"}


def test_help_imports_no_command_module():
    """The CLI table carries each command's help, so `batch-review --help` loads none of them."""
    code = ("import sys, contextlib, io, bot.cli.main as m\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()): m.main(['--help'])\n"
            "print(' '.join(name for name in sys.modules if name.startswith('bot.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert set(loaded.stdout.split()) == {"bot.cli", "bot.cli.main"}


DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "handbook").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_name_only_files_that_exist(doc):
    """A path of the project the docs name (`bot/...py`, a Markdown link) survives every move of the layout."""
    named = set(re.findall(r"\((?:\.\./)?((?:bot|tests|benchmarks|templates|handbook|examples)/[\w./-]+)\)", doc.read_text()))
    named |= set(re.findall(r"`((?:bot|benchmarks)/[\w/]+\.py)`", doc.read_text()))
    assert not sorted(path for path in named if not (ROOT / path).exists())
