"""action.yml and the workflows `batch-review init` writes: parsed, cross-checked, and run as the runner would."""

import json
import re
import subprocess
import sys

import pytest
import yaml

from bot.cli.version import major_tag
from bot.core.names import ACTION_REPO, ANSWER_LABELS, COMMAND, COMMAND_FROM, COMMENT_MARKER, WRONG_VERB
from tests.checklists import CANDIDATE
from tests.conftest import ROOT
from tests.fake_github import FakeGitHub
from tests.test_cli import run_cli
from tests.test_release import VERSION

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
WORKFLOW = yaml.safe_load((ROOT / "templates" / "workflow.yml").read_text())
FORK_SAFE = yaml.safe_load((ROOT / "templates" / "workflow-fork-safe.yml").read_text())
PULL_REQUEST_TYPES = ["opened", "edited", "synchronize", "reopened", "ready_for_review", "labeled", "unlabeled"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def steps():
    return ACTION["runs"]["steps"]


def review_step():
    (step,) = [s for s in steps() if s.get("id") == "review"]
    return step


def test_action_is_composite_with_the_issues_inputs_and_outputs():
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert set(inputs) == {"github-token", "config-path", "anthropic-api-key", "fail-on", "comment-author"}
    assert inputs["github-token"]["default"] == "${{ github.token }}"
    assert inputs["config-path"]["default"] == ".github/batch-review.yml"
    assert inputs["fail-on"]["default"] == "" and inputs["comment-author"]["default"] == ""
    assert {name: output["value"] for name, output in ACTION["outputs"].items()} == {
        name: f"${{{{ steps.review.outputs.{name} }}}}" for name in ("verdict", "answers", "comment-url")}


def test_no_expression_is_ever_interpolated_into_a_script():
    for step in steps():
        assert "${{" not in step.get("run", ""), step["name"]
    assert all(step.get("shell") == "bash" for step in steps() if "run" in step)


def test_every_input_reaches_the_code_through_env():
    env = review_step()["env"]
    for name in ACTION["inputs"]:
        assert f"${{{{ inputs.{name} }}}}" in env.values(), name
    source = (ROOT / "bot" / "cli" / "action.py").read_text()
    for variable in env:
        if variable.startswith("INPUT_"):
            assert f'"{variable}"' in source, variable


def test_third_party_actions_are_pinned_to_full_commit_shas():
    uses = [line.split("uses:", 1)[1].strip() for line in (ROOT / "action.yml").read_text().splitlines() if "uses:" in line]
    assert len(uses) == 2
    for use in uses:
        assert re.fullmatch(r"actions/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", use), use
    assert any(use.startswith("actions/setup-python@") for use in uses)


def test_the_venv_lives_under_runner_temp_and_pip_is_cached_on_the_lock():
    install = next(s for s in steps() if "venv" in s.get("run", "") and "pip" in s.get("run", ""))
    assert '"$RUNNER_TEMP/batch-review-venv"' in install["run"] and '"$GITHUB_ACTION_PATH"' in install["run"]
    cache = next(s for s in steps() if s.get("uses", "").startswith("actions/cache@"))
    assert "steps.key.outputs.lock" in cache["with"]["key"]
    assert '"$GITHUB_ACTION_PATH/action.lock"' in next(s for s in steps() if s.get("id") == "key")["run"]
    assert install["env"]["PIP_CACHE_DIR"] == cache["with"]["path"]


def test_the_action_installs_only_the_locked_dependencies():
    """Hash-checked dependencies first; then the project alone, built by the locked hatchling."""
    install = next(s for s in steps() if "venv" in s.get("run", "") and "pip" in s.get("run", ""))
    pips = [line.split(" install ", 1)[1] for line in install["run"].splitlines() if " install " in line]
    assert pips == ['--quiet --require-hashes -r "$GITHUB_ACTION_PATH/action.lock"',
                    '--quiet --no-deps --no-build-isolation "$GITHUB_ACTION_PATH"']


@pytest.mark.parametrize("workflow, event", [(WORKFLOW, "pull_request"), (FORK_SAFE, "pull_request_target")])
def test_workflow_triggers_permissions_and_concurrency(workflow, event):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers[event]["types"] == PULL_REQUEST_TYPES
    assert triggers["issue_comment"]["types"] == ["created", "edited"]  # an edited command counts as it stands
    assert "merge_group" in triggers and set(triggers) == {event, "issue_comment", "merge_group"}
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write", "issues": "write"}
    group = job["concurrency"]["group"]
    for key in ("github.event.pull_request.number", "github.event.issue.number", "github.run_id"):
        assert key in group
    assert job["concurrency"]["cancel-in-progress"] is True
    condition = job["if"]
    assert f"github.event_name == '{event}'" in condition and "github.event_name == 'merge_group'" in condition
    assert f"startsWith(github.event.comment.body, '{COMMAND}')" in condition
    assert json.dumps(list(COMMAND_FROM)) in condition
    assert "github.event.comment.user.login == github.event.issue.user.login" in condition  # the PR's author answers
    assert f"startsWith(github.event.comment.body, '{COMMAND} {WRONG_VERB}')" in condition  # anyone says "wrong"
    assert json.dumps(list(ANSWER_LABELS)) in condition  # only answer labels re-run it


@pytest.mark.parametrize("workflow", [WORKFLOW, FORK_SAFE])
def test_workflow_runs_this_action_with_its_inputs_and_never_checks_out(workflow):
    (job,) = workflow["jobs"].values()
    (step,) = job["steps"]
    assert step["uses"].split("@")[0] == "batch-review/batch-review"
    assert set(step["with"]) <= set(ACTION["inputs"])
    text = yaml.safe_dump(workflow)
    assert "checkout" not in text


def test_the_fork_safe_variant_differs_only_where_it_must():
    def normalised(workflow, event):
        (job,) = workflow["jobs"].values()
        (step,) = job["steps"]
        return {**workflow, True: {("EVENT" if k == event else k): v for k, v in workflow[True].items()},
                "jobs": {"batch-review": {**job, "if": job["if"].replace(f"'{event}'", "'EVENT'"),
                                          "steps": [{**step, "with": {**step["with"], "anthropic-api-key": "KEY"}}]}}}

    assert normalised(WORKFLOW, "pull_request") == normalised(FORK_SAFE, "pull_request_target")
    key = FORK_SAFE["jobs"]["batch-review"]["steps"][0]["with"]["anthropic-api-key"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in key  # Claude off for forks


@pytest.mark.parametrize("flag, template", [((), "workflow.yml"), (("--fork-safe",), "workflow-fork-safe.yml")])
def test_init_writes_the_workflow(tmp_path, flag, template):
    result = run_cli("init", *flag, str(tmp_path))
    assert result.returncode == 0 and "created .github/workflows/batch-review.yml" in result.stdout
    written = (tmp_path / ".github" / "workflows" / "batch-review.yml").read_text()
    assert written == (ROOT / "templates" / template).read_text()


def test_init_never_replaces_a_workflow_and_says_how_to_switch(tmp_path):
    run_cli("init", str(tmp_path))
    before = (tmp_path / ".github" / "workflows" / "batch-review.yml").read_text()
    result = run_cli("init", "--fork-safe", str(tmp_path))
    assert "kept .github/workflows/batch-review.yml" in result.stdout
    assert (tmp_path / ".github" / "workflows" / "batch-review.yml").read_text() == before


def evaluate(expression: str, payload: dict, context: dict):
    """A `${{ }}` expression of ==, &&, ||, parentheses, quoted strings and names: `github.event.*` from the
    payload (null when missing), the others from `context`. && and || return an operand, as `and`/`or` do."""

    def value(name: str):
        if not name.startswith("github.event."):
            return context[name]
        found = payload
        for key in name.split(".")[2:]:
            found = found.get(key) if isinstance(found, dict) else None
        return found

    tokens = re.findall(r"'[^']*'|==|&&|\|\||[()]|[\w.]+", expression)
    assert "".join(tokens) == expression.replace(" ", ""), expression  # nothing this reader does not know
    python = " ".join({"&&": "and", "||": "or"}.get(t, t if t[0] in "'()=" else f"value({t!r})") for t in tokens)
    return eval(python, {"value": value})  # noqa: S307 - our template's expression, every name looked up


def resolve(value: str, context: dict) -> str:
    """The runner's `${{ }}` for the few expressions these files use; anything else fails the test."""
    return EXPRESSION.sub(lambda m: context[m.group(1)], value)


def test_the_workflow_init_writes_runs_the_action_as_it_stands(tmp_path):
    """The workflow's `with:` -> action.yml's inputs and defaults -> the review step's env and script -> the CLI."""
    (step,) = WORKFLOW["jobs"]["batch-review"]["steps"]
    token = "actions-token"
    github_context = {"github.token": token, "secrets.ANTHROPIC_API_KEY": ""}
    inputs = {name: resolve(str(spec.get("default", "")), github_context) for name, spec in ACTION["inputs"].items()}
    inputs.update({name: resolve(str(value), github_context) for name, value in step["with"].items()})
    venv_bin = tmp_path / "batch-review-venv" / "bin"  # what the install step builds, standing in for pip
    venv_bin.mkdir(parents=True)
    (venv_bin / "batch-review").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bot.cli.main "$@"\n')
    (venv_bin / "batch-review").chmod(0o755)
    event = tmp_path / "event.json"
    opened = json.loads((ROOT / "tests" / "fixtures" / "webhooks" / "pull_request" / "opened.payload.json").read_text())
    output, summary = tmp_path / "output", tmp_path / "summary"
    with FakeGitHub() as fake:
        fake.add_token(token)
        fake.add_repo("Codertocat/Hello-World")
        fake.add_pull("Codertocat/Hello-World", 2, body=CANDIDATE)
        fake.apply_label("Codertocat/Hello-World", 2, "batch/candidate", by="github-actions[bot]")
        pull = fake.pull_json("Codertocat/Hello-World", fake.repos["Codertocat/Hello-World"].pulls[2])
        event.write_text(json.dumps({**opened, "pull_request": pull}))  # the delivery carries the PR as it is
        context = {f"inputs.{name}": value for name, value in inputs.items()}
        context["inputs.github-token == github.token"] = str(inputs["github-token"] == token).lower()
        env = {name: resolve(str(value), context) for name, value in review_step()["env"].items()}
        env.update(PATH="/usr/bin:/bin", PYTHONPATH=str(ROOT), RUNNER_TEMP=str(tmp_path), GITHUB_EVENT_NAME="pull_request",
                   GITHUB_EVENT_PATH=str(event), GITHUB_REPOSITORY="Codertocat/Hello-World",
                   GITHUB_API_URL=fake.base_url, GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
        result = subprocess.run(["bash", "-e", "-c", review_step()["run"]], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert fake.problems == []
        (comment,) = fake.comments("Codertocat/Hello-World", 2)
    assert comment["body"].startswith(COMMENT_MARKER)
    written = set(re.findall(r"(?m)^([\w-]+)<<", output.read_text()))
    assert written == set(ACTION["outputs"])
    assert "Batch candidate" in summary.read_text()
    assert "::notice title=batch-review::Batch candidate" in result.stdout


def test_the_workflows_run_this_releases_major_tag_and_the_report_installs_this_release():
    for workflow in (WORKFLOW, FORK_SAFE):
        (step,) = workflow["jobs"]["batch-review"]["steps"]
        assert step["uses"] == f"{ACTION_REPO}@{major_tag(VERSION)}"
    report = (ROOT / "templates" / "workflow-metric-report.yml").read_text()
    assert f'pip install --quiet "batch-review[app]=={VERSION}"' in report
    assert "@main" not in report + yaml.safe_dump(WORKFLOW) + yaml.safe_dump(FORK_SAFE)


@pytest.mark.parametrize("flag, template", [((), "workflow.yml"), (("--fork-safe",), "workflow-fork-safe.yml")])
def test_init_points_uses_at_the_ref_and_repository_asked_for(tmp_path, flag, template):
    result = run_cli("init", *flag, "--action-repo", "our-org/batch-review", "--action-ref", "v1.0.0", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = (tmp_path / ".github" / "workflows" / "batch-review.yml").read_text()
    expected = (ROOT / "templates" / template).read_text()
    assert written == expected.replace(f"uses: {ACTION_REPO}@{major_tag(VERSION)}", "uses: our-org/batch-review@v1.0.0")
    assert written != expected


@pytest.mark.parametrize("args", [("--action-ref", "v1 # x"), ("--action-repo", "our-org"),
                                  ("--action-repo", "a/b\nc"), ("--app", "--fork-safe"), ("--app", "--action-ref", "v1")])
def test_init_refuses_what_cannot_go_into_the_workflow_and_writes_nothing(tmp_path, args):
    result = run_cli("init", *args, str(tmp_path))
    assert result.returncode == 2
    assert "--" in result.stderr + result.stdout and list(tmp_path.iterdir()) == []


def test_init_for_the_app_writes_templates_and_config_but_no_workflow(tmp_path):
    first = run_cli("init", "--app", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["created .github/pull_request_template.md", "created docs/design/TEMPLATE.md",
                                         "created .github/batch-review.yml"]
    assert not (tmp_path / ".github" / "workflows").exists()
    again = run_cli("init", "--app", str(tmp_path))
    assert again.stdout.splitlines() == ["kept .github/pull_request_template.md", "kept docs/design/TEMPLATE.md",
                                         "kept .github/batch-review.yml",
                                         "nothing to do: batch-review is already set up here"]
