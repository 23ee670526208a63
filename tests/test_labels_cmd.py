"""`batch-review labels sync`: every answer, verdict and adoption label, created once, never recoloured."""

import subprocess
import sys

import pytest

from bot.clients.github import GitHub
from bot.core.labels import compare
from bot.core.names import ADOPTED_LABEL, ANSWER_LABELS, EXEMPT_LABEL, LABEL_STYLES, VERDICT_LABELS
from bot.review import sync_labels as sync
from tests.conftest import ROOT
from tests.fake_github import NO_WAITS, FakeGitHub

REPO = "octo/service"


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add_token("token")
        server.add_repo(REPO)
        yield server
        assert server.problems == []


def test_every_label_users_see_is_synced():
    assert set(LABEL_STYLES) == set(ANSWER_LABELS) | set(VERDICT_LABELS.values()) | {ADOPTED_LABEL, EXEMPT_LABEL}


def test_compare_is_case_insensitive_and_notices_other_styles():
    color, description = LABEL_STYLES["batch/candidate"]
    states = {name: state for name, state, _ in compare({"Batch/Candidate": (color.upper(), description),
                                                          "batch/can-wait": ("ededed", "")})}
    assert states["batch/candidate"] == "same" and states["batch/can-wait"] == "differs"
    assert states["batch/adopted"] == "create"


def test_sync_creates_every_label_with_its_style_and_is_idempotent(fake):
    gh = GitHub("token", base_url=fake.base_url, pacing=NO_WAITS)
    lines = sync(gh, REPO)
    assert all(line.startswith("created ") for line in lines) and len(lines) == len(LABEL_STYLES)
    assert fake.repos[REPO].labels == {name: {"color": c, "description": d} for name, (c, d) in LABEL_STYLES.items()}
    fake.calls.clear()
    assert all(line.startswith("exists ") for line in sync(gh, REPO))
    assert fake.writes == 0 and fake.reads == 1  # one page lists every label


def test_sync_keeps_a_label_the_team_recoloured(fake):
    fake.repos[REPO].labels["batch/candidate"] = {"color": "000000", "description": None}
    lines = sync(GitHub("token", base_url=fake.base_url, pacing=NO_WAITS), REPO)
    assert "kept    batch/candidate as it is (#000000: no description)" in "\n".join(lines)
    assert fake.repos[REPO].labels["batch/candidate"]["color"] == "000000"
    assert ("POST", "/repos/{owner}/{repo}/labels") in fake.routes() and len(fake.routes("POST")) == len(LABEL_STYLES) - 1


def run_cli(*args, **env):
    return subprocess.run([sys.executable, "-m", "bot.cli", "labels", *args], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **env})


def test_the_command_line(fake):
    for name, (color, description) in list(LABEL_STYLES.items())[1:]:
        fake.repos[REPO].labels[name] = {"color": color, "description": description}
    result = run_cli("sync", "--repo", REPO, GITHUB_TOKEN="token", GITHUB_API_URL=fake.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"created {next(iter(LABEL_STYLES))}")


def test_command_line_errors(fake):
    assert run_cli("sync", "--repo", REPO).returncode == 2  # no token
    assert run_cli("sync", "--repo", "service", GITHUB_TOKEN="token", GITHUB_API_URL=fake.base_url).returncode == 2
    bad = run_cli("sync", "--repo", REPO, GITHUB_TOKEN="wrong", GITHUB_API_URL=fake.base_url)
    assert bad.returncode == 1 and "401" in bad.stderr and "wrong" not in bad.stderr
