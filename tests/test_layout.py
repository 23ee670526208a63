"""The package's shape: pure modules stay pure, and a plain wheel carries templates and handbook."""

import ast
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

PURE = ("names", "decision", "checklist", "config", "workload", "render", "globs", "review", "inference", "audit",
        "metric", "metric_view", "metric_sample")
SHELL_LIBRARIES = {"github", "flask", "requests", "anthropic", "httpx", "sqlalchemy", "urllib.request", "socket"}


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_network_or_framework(module):
    tree = ast.parse((ROOT / "bot" / f"{module}.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.split(".")[0] in SHELL_LIBRARIES or name in SHELL_LIBRARIES}
    assert all(name.split(".")[0] in sys.stdlib_module_names | {"bot", "yaml", "jinja2", "markupsafe"} for name in imported)


def test_every_module_opens_with_a_one_line_docstring():
    for path in (ROOT / "bot").glob("*.py"):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring and docstring.splitlines()[0].strip(), path


def test_plain_wheel_install_carries_templates_and_handbook(tmp_path):
    """`pip install .` (not editable): the comment renders from the templates inside the wheel."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("batch_review-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("bot/templates/comment.md.j2", "bot/templates/pull_request_template.md",
                     "bot/templates/config.yml", "bot/handbook/README.md", "bot/schemas/review.schema.json"):
        assert required in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    sample = (ROOT / "examples" / "nightly-enrichment-pr.md").read_text()
    result = subprocess.run([sys.executable, "-c", "import sys, bot.cli; sys.exit(bot.cli.main())", "check", "-"],
                            input=sample, capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "Batch candidate" in result.stdout
    checked = subprocess.run([sys.executable, "-c", "import bot.render as r; print(r.resource_dir('handbook'))"],
                             capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target)})
    assert checked.stdout.strip() == str(target / "bot" / "handbook")


def test_the_command_line_parser_imports_no_heavy_library():
    """`batch-review --help` and `check` must not pay for PyGithub, Flask, SQLAlchemy or anthropic."""
    code = ("import sys, bot.cli; bot.cli.build_parser(); "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                check=True).stdout.split())
    assert not loaded & {"github", "flask", "werkzeug", "sqlalchemy", "anthropic", "httpx", "httpx2", "requests", "yaml"}
