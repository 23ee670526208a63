"""Releases: one version, its changelog entry, release.yml, the built sdist and wheel, and the Action's lock file."""

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.app import migrations
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
RELEASE_TEXT = (ROOT / ".github" / "workflows" / "release.yml").read_text()
RELEASE = yaml.safe_load(RELEASE_TEXT)
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
LOCK = (ROOT / "action.lock").read_text()
# The pins this release checked against the actions' release pages (issue 18), and action.yml's own.
PINS = {"actions/checkout": "08c6903cd8c0fde910a37f88322edcfb5dd907a8  # v5.0.0",
        "pypa/gh-action-pypi-publish": "ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e  # v1.13.0"}


def release_step(job: str, name: str) -> dict:
    return next(step for step in RELEASE["jobs"][job]["steps"] if step.get("name", "").startswith(name))


def run_step(step: dict, cwd: Path, **env) -> subprocess.CompletedProcess:
    """A `run:` step as the runner runs it (bash -e); its env values here are given, never `${{ }}`."""
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **env})


# --- one version ---------------------------------------------------------------------------------


def test_a_checkout_says_pyprojects_version_whatever_its_metadata_says(tmp_path):
    """An editable install's metadata keeps the version it was installed with; the checkout's file is current."""
    stale = tmp_path / "batch_review-0.0.1.dist-info"
    stale.mkdir()
    (stale / "METADATA").write_text("Metadata-Version: 2.1\nName: batch-review\nVersion: 0.0.1\n")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True,
                            cwd=ROOT, env={"PYTHONPATH": f"{ROOT}:{tmp_path}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"batch-review {VERSION}\n"


def test_the_changelog_has_an_entry_for_this_version_below_unreleased():
    headings = re.findall(r"(?m)^## \[([^\]]+)\](.*)$", CHANGELOG)
    assert headings[0] == ("Unreleased", "")
    assert headings[1][0] == VERSION and re.fullmatch(r" - \d{4}-\d{2}-\d{2}", headings[1][1])
    for name, _ in headings:
        assert re.search(rf"(?m)^\[{re.escape(name)}\]: https://github\.com/batch-review/batch-review/", CHANGELOG)


# --- release.yml ---------------------------------------------------------------------------------


def test_release_runs_on_version_tags_only():
    assert RELEASE[True] == {"push": {"tags": ["v*.*.*"]}}  # YAML 1.1 reads the key `on` as true


def test_every_job_asks_for_its_own_permissions_and_only_publish_gets_an_id_token():
    assert RELEASE["permissions"] == {}
    jobs = RELEASE["jobs"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "build": {"contents": "read"}, "test": {"contents": "read"},
        "publish": {"id-token": "write"}, "github-release": {"contents": "write"}}
    assert jobs["test"]["needs"] == "build" and jobs["publish"]["needs"] == ["build", "test"]
    assert jobs["github-release"]["needs"] == ["build", "publish"]
    assert jobs["publish"]["environment"]["name"] == "pypi"
    assert [step["uses"].split("@")[0] for step in jobs["publish"]["steps"]] == [
        "actions/download-artifact", "pypa/gh-action-pypi-publish"]  # nothing of the repository runs there


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_tag():
    uses = re.findall(r"(?m)^\s*(?:- )?uses: (.*)$", RELEASE_TEXT)
    assert len(uses) == sum("uses" in step for job in RELEASE["jobs"].values() for step in job["steps"])
    for use in uses:
        assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", use), use
    pins = dict(use.split("@") for use in uses)
    assert len(pins) == len(set(uses))  # one pin per action
    action_pins = dict(re.findall(r"uses: ([\w-]+/[\w-]+)@(.+)", (ROOT / "action.yml").read_text()))
    assert pins["actions/setup-python"] == action_pins["actions/setup-python"]
    assert {action: pins[action] for action in PINS} == PINS


def test_checkouts_keep_no_credentials_except_where_the_major_tag_is_pushed():
    for name, job in RELEASE["jobs"].items():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials", True) is (name == "github-release"), name


def test_the_tests_run_with_the_locked_dependencies_on_the_built_files():
    step = release_step("test", "The tests")
    assert step["env"]["BATCH_REVIEW_DIST"] == "dist"
    assert step["run"].splitlines()[0] == "python -m pip install --quiet --require-hashes -r action.lock"
    assert step["run"].splitlines()[-1] == "python -m pytest"


def test_the_release_notes_are_the_changelogs_entry_for_the_tag(tmp_path):
    checkout, output = tmp_path / "checkout", tmp_path / "output"
    checkout.mkdir()
    (checkout / "CHANGELOG.md").write_text(CHANGELOG)
    step = release_step("build", "This version's entry")
    done = run_step(step, checkout, TAG=f"v{VERSION}", GITHUB_OUTPUT=str(output), RUNNER_TEMP=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    entry = CHANGELOG.split(f"## [{VERSION}]", 1)[1].split("\n", 1)[1].split("\n## [", 1)[0].split("\n[", 1)[0]
    notes = re.fullmatch(r"notes<<batch-review-notes\n(.*)\nbatch-review-notes\n", output.read_text(), re.S)
    assert notes and notes.group(1).strip() == entry.strip() and "### Added" in entry
    assert [path.name for path in checkout.iterdir()] == ["CHANGELOG.md"]  # nothing left for the sdist to pack
    missing = run_step(step, checkout, TAG="v0.0.1", GITHUB_OUTPUT=str(output), RUNNER_TEMP=str(tmp_path))
    assert missing.returncode == 1 and "::error::CHANGELOG.md has no entry for 0.0.1" in missing.stdout


def git(cwd: Path, *args) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_major_tag_moves_to_each_release(tmp_path):
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    step = release_step("github-release", "Move the major tag")
    for tag in ("v1.0.0", "v1.1.0"):
        git(clone, "commit", "-q", "--allow-empty", "-m", tag)
        git(clone, "tag", tag)
        git(clone, "push", "-q", "origin", "HEAD", tag)
        head = git(clone, "rev-parse", "HEAD")
        done = run_step(step, clone, TAG=tag, GITHUB_SHA=head)
        assert done.returncode == 0, done.stderr
        assert git(origin, "rev-parse", "v1^{commit}") == head
    assert git(origin, "rev-parse", "v1.0.0^{commit}") != head  # the release tags themselves never move


# --- the built sdist and wheel (release.yml's, or built here as it builds them) -----------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    if os.environ.get("BATCH_REVIEW_DIST"):  # the files release.yml and .ci/run built
        return Path(os.environ["BATCH_REVIEW_DIST"]).resolve()
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                           capture_output=True, text=True)  # the sdist, then the wheel built from it
    assert built.returncode == 0, built.stdout + built.stderr
    return out


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """The wheel unpacked as pip installs a pure-Python one: a folder to put first on PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(dist / f"batch_review-{VERSION}-py3-none-any.whl").extractall(target)
    return target


def from_wheel(installed: Path, *args, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=installed.parent, env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"})


def test_both_files_are_built_for_this_version(dist):
    assert sorted(path.name for path in dist.iterdir()) == [
        f"batch_review-{VERSION}-py3-none-any.whl", f"batch_review-{VERSION}.tar.gz"]


def test_the_wheel_carries_templates_handbook_and_schemas(dist):
    names = zipfile.ZipFile(dist / f"batch_review-{VERSION}-py3-none-any.whl").namelist()
    for required in ("bot/templates/comment.md.j2", "bot/templates/pull_request_template.md",
                     "bot/templates/config.yml", "bot/templates/workflow.yml", "bot/handbook/README.md",
                     "bot/schemas/review.schema.json"):
        assert required in names


def test_the_installed_wheel_says_its_version_from_its_metadata(installed):
    result = from_wheel(installed, "--version")
    assert result.stdout == f"batch-review {VERSION}\n", result.stderr


def test_the_installed_wheel_reviews_from_its_own_templates(installed):
    result = from_wheel(installed, "check", "--format", "markdown", "-",
                        stdin=(ROOT / "examples" / "nightly-enrichment-pr.md").read_text())
    assert result.returncode == 0, result.stderr
    assert "Batch candidate" in result.stdout
    checked = subprocess.run([sys.executable, "-c", "import bot.core.render as r; print(r.resource_dir('handbook'))"],
                             capture_output=True, text=True, cwd=installed.parent, env={"PYTHONPATH": str(installed)})
    assert checked.stdout.strip() == str(installed / "bot" / "handbook")


def test_the_installed_wheel_migrates_a_database_with_its_own_revisions(installed):
    result = from_wheel(installed, "app", "migrate")  # DATABASE_URL's default: a SQLite file beside the folder
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"is at schema revision {migrations.head()} (created)\n")
    found = subprocess.run([sys.executable, "-c", "import bot.app.migrations as m; print(m.scripts().versions)"],
                           capture_output=True, text=True, cwd=installed.parent, env={"PYTHONPATH": str(installed)})
    assert found.stdout.strip() == str(installed / "bot" / "app" / "migrations" / "versions")


# --- the Action's lock file ----------------------------------------------------------------------


def locked() -> dict:
    """action.lock's `name==version` pins, each with the number of hashes under it."""
    entries = re.findall(r"(?m)^([\w.-]+)==(\S+) \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", LOCK)
    return {canonicalize_name(name): (version, hashes.count("--hash=")) for name, version, hashes in entries}


def test_every_runtime_dependency_and_the_build_backend_are_pinned_with_hashes():
    pins = locked()
    assert len(pins) == len(re.findall(r"(?m)^\S+==", LOCK))  # every pin has its hashes
    for text in PYPROJECT["project"]["dependencies"] + PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(text)
        version, hashes = pins.get(canonicalize_name(requirement.name), ("", 0))
        assert requirement.specifier.contains(version) and hashes >= 1, \
            f"{text} is not in action.lock: regenerate it with the pip-compile command in its header"


@pytest.mark.skipif(not os.environ.get("BATCH_REVIEW_DIST"), reason="a release check (~30 s of PyPI downloads): "
                    ".ci/run's release step and release.yml run it, with BATCH_REVIEW_DIST set")
def test_the_action_installs_from_the_lock_alone(tmp_path):
    """action.yml's install step as the runner runs it: hash-checked, then the project without its deps."""
    (step,) = [s for s in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
               if s.get("name") == "Install batch-review into its own venv"]
    done = run_step(step, tmp_path, PYTHON=sys.executable, RUNNER_TEMP=str(tmp_path), GITHUB_ACTION_PATH=str(ROOT),
                    PIP_DISABLE_PIP_VERSION_CHECK="1")
    assert done.returncode == 0, done.stdout + done.stderr
    venv = tmp_path / "batch-review-venv" / "bin"
    assert subprocess.run([venv / "batch-review", "--version"], capture_output=True, text=True).stdout == \
        f"batch-review {VERSION}\n"
    frozen = subprocess.run([venv / "python", "-m", "pip", "freeze", "--exclude", "batch-review"],
                            capture_output=True, text=True, check=True).stdout
    assert {canonicalize_name(line.split("==")[0]): line.split("==")[1] for line in frozen.split()} == {
        name: version for name, (version, _) in locked().items()}
