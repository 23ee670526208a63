"""`batch-review config show`: every setting with its origin, locally and through the API's lookup."""

import json

import jsonschema
import pytest

from bot.cli.main import main
from bot.clients.github import GitHub
from bot.core import origins
from bot.core.config import DEFAULTS_USED
from bot.core.names import CONFIG_PATH, HANDBOOK_URL
from tests.conftest import load_schema
from tests.fake_github import NO_WAITS, FakeGitHub
from tests.test_config import ORG_FILE, REPO_FILE, reader

SCHEMA = load_schema("config.schema.json")


def origin_of(shown, key):
    item = origins.settings(shown)[key]
    return item["from"], item["file"]


def test_the_repository_file_over_the_organisation_default_over_the_defaults():
    shown = origins.from_repo(reader({REPO_FILE: "drafts: comment\nlinks: {helper: https://h}",
                                      ORG_FILE: "drafts: skip\nvolume_threshold: 5\nlinks: {handbook: https://n}"}),
                              "acme/api")
    assert [(layer.location, layer.kind) for layer in shown.layers] == [(REPO_FILE, "repository file"),
                                                                        (ORG_FILE, "org .github")]
    assert origin_of(shown, "drafts") == ("repository file", REPO_FILE)
    assert origin_of(shown, "volume_threshold") == ("org .github", ORG_FILE)
    assert origin_of(shown, "links.helper") == ("repository file", REPO_FILE)  # sections merge key by key
    assert origin_of(shown, "links.handbook") == ("org .github", ORG_FILE)
    assert origin_of(shown, "trigger") == ("default", None)
    assert origins.settings(shown)["volume_threshold"]["value"] == 5


def test_extends_chains_and_the_organisation_alone():
    files = {REPO_FILE: "_extends: policies:batch/base.yml\ndrafts: comment",
             "acme/policies:batch/base.yml": "fail_on: [batch-candidate]", ORG_FILE: "trigger: always"}
    shown = origins.from_repo(reader(files), "acme/api")
    assert origin_of(shown, "fail_on") == ("_extends", "acme/policies:batch/base.yml")
    assert origin_of(shown, "trigger") == ("default", None)  # an explicit _extends replaces the organisation's file
    alone = origins.from_repo(reader({ORG_FILE: "trigger: always"}), "acme/api")
    assert origin_of(alone, "trigger") == ("org .github", ORG_FILE)


def test_a_problem_shows_the_defaults_reviews_use():
    shown = origins.from_repo(reader({REPO_FILE: "drafts: comment", ORG_FILE: "drafts: sometimes"}), "acme/api")
    assert shown.defaults_used and "drafts" in shown.problems[1]
    assert all(item["from"] == "default" for item in origins.settings(shown).values())


def test_an_unknown_key_is_a_warning_and_the_file_still_applies():
    shown = origins.from_repo(reader({REPO_FILE: "drafts: comment\ncolour: blue"}), "acme/api")
    assert not shown.defaults_used and "line 2: `colour`" in shown.problems[0]
    assert origins.settings(shown)["drafts"]["from"] == "repository file"


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def show(capsys, *args):
    status = main(["config", "show", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_locally_it_reads_the_repository_file(here, capsys):
    (here / ".github").mkdir()
    (here / CONFIG_PATH).write_text("volume_threshold: 500\nfail_on: [batch-candidate]\n_extends: shared\n")
    status, out, _ = show(capsys)
    assert status == 0 and out.startswith(f"Configuration from: {CONFIG_PATH} (repository file)\n")
    rows = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()[2:] if line and line[0] != " "}
    assert rows["volume_threshold"].split() == ["500.0", CONFIG_PATH, "(repository", "file)"]
    assert rows["links.handbook"].split() == [HANDBOOK_URL, "default"]
    assert "config show --repo OWNER/NAME" in out  # the organisation's file and _extends need the API
    status, out, _ = show(capsys, "--format", "json")
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["settings"]["fail_on"] == {"value": ["batch-candidate"], "from": "repository file",
                                               "file": CONFIG_PATH}


def test_a_given_file_no_file_and_a_bad_file(here, capsys):
    status, out, _ = show(capsys, "--format", "json")
    assert status == 0 and json.loads(out)["files"] == []
    assert all(item["from"] == "default" for item in json.loads(out)["settings"].values())
    (here / "other.yml").write_text("drafts: skip\n")
    assert json.loads(show(capsys, "--config", "other.yml", "--format", "json")[1])["settings"]["drafts"]["file"] == "other.yml"
    (here / "bad.yml").write_text("drafts: sometimes\n")
    status, out, err = show(capsys, "--config", "bad.yml")
    assert status == 2 and out == "" and "bad.yml line 1: `drafts: 'sometimes'`" in err
    assert show(capsys, "--config", "missing.yml")[0] == 2


@pytest.fixture
def github(monkeypatch):
    with FakeGitHub() as fake:
        fake.add_token("token")
        for repo in ("acme/api", "acme/.github", "acme/policies"):
            fake.add_repo(repo)
        monkeypatch.setenv("GITHUB_TOKEN", "token")
        monkeypatch.setattr(GitHub, "from_env", classmethod(lambda cls, token, env: cls(
            token, base_url=fake.base_url, pacing=NO_WAITS)))
        yield fake
        assert fake.problems == []


def test_through_the_api_as_reviews_read_it(github, capsys):
    github.put_file("acme/api", CONFIG_PATH, "_extends: policies:batch/base.yml\ndrafts: comment\n")
    github.put_file("acme/policies", "batch/base.yml", "_extends: false\nvolume_threshold: 1000\n")
    status, out, _ = show(capsys, "--repo", "acme/api", "--format", "json")
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert status == 0 and document["repo"] == "acme/api"
    assert document["files"] == [{"file": f"acme/api:{CONFIG_PATH}", "from": "repository file"},
                                 {"file": "acme/policies:batch/base.yml", "from": "_extends"}]
    assert document["settings"]["volume_threshold"]["from"] == "_extends"
    github.put_file("acme/api", CONFIG_PATH, "drafts: sometimes\n")
    status, out, _ = show(capsys, "--repo", "acme/api")
    assert status == 1 and DEFAULTS_USED in out


def test_the_api_needs_a_token_and_a_repository(monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    status, _, err = show(capsys, "--repo", "acme/api")
    assert status == 2 and "set GITHUB_TOKEN" in err
    monkeypatch.setenv("GITHUB_TOKEN", "token")
    assert show(capsys, "--repo", "api")[0] == 2
