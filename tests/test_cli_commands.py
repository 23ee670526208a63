"""Every command: help with an example, the database only made by the commands that own it, URLs checked."""

import argparse

import pytest

from bot.app.settings import SettingsError, http_url
from bot.app.store import NoDatabase, Store
from bot.cli.main import COMMANDS, build_parser, main
from bot.core.config import ConfigError, from_mapping
from bot.core.names import NO_DATABASE, plural
from tests.checklists import DOC_TEMPLATE, filled
from tests.databases import database_url, postgres_database  # noqa: F401  (fixtures)


def _subcommands(command):
    parser = build_parser(command)
    chosen = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    found = [a for a in chosen._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(found[0].choices) if found else []


EVERY_SUBCOMMAND = [(command, sub) for command in sorted(COMMANDS) for sub in _subcommands(command)]


@pytest.mark.parametrize("command, sub", EVERY_SUBCOMMAND)
def test_every_subcommand_has_a_description_and_an_example(command, sub, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, sub, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    description = out.split("\n\n")[1]
    assert not description.startswith(("options:", "positional arguments:")), f"{command} {sub}: no description"
    assert "Example:\n  " in out and f"batch-review {command} {sub}" in out.split("Example:")[1]


@pytest.mark.parametrize("command", [c for c in sorted(COMMANDS) if _subcommands(c)])
def test_a_command_lists_its_subcommands_once(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for sub in _subcommands(command):
        assert sum(line.split()[:1] == [sub] for line in out.splitlines()) == 1, (command, sub)


def test_check_format_has_help_text(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "markdown: the PR comment exactly as it would be posted" in " ".join(capsys.readouterr().out.split())


def test_audit_counts_one_document_as_one(here, monkeypatch, capsys):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    (here / "design.md").write_text(filled(DOC_TEMPLATE, human_waiting="no", volume="yes", latency="no"))
    status, _, err = cli(capsys, "audit", "design.md", "--out", "audit.md")
    assert status == 0 and "batch-review audit: 1 document, 1 batch candidate; report: audit.md" in err


def test_plurals():
    assert [plural(n, "batch candidate") for n in (0, 1, 2)] == ["0 batch candidates", "1 batch candidate",
                                                                  "2 batch candidates"]
    assert plural(1_500, "request") == "1,500 requests" and plural(1, "query", "queries") == "1 query"


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A fresh working directory without DATABASE_URL, as a new user's terminal."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


def cli(capsys, *args):
    """(exit status, stdout, stderr) of the command run in this process."""
    status = main(list(args))
    return (status, *capsys.readouterr())


@pytest.mark.parametrize("args", [("report",), ("dashboard", "--output", "page.html"), ("app", "requeue")])
def test_readers_refuse_a_missing_database_and_create_none(here, monkeypatch, capsys, args):
    assert cli(capsys, *args) == (2, "", f"batch-review {args[0]}: "
                                         f"{NO_DATABASE.format(url='sqlite:///batch-review.sqlite3')}\n")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{here}/elsewhere.db")
    status, _, err = cli(capsys, *args)
    assert status == 2 and NO_DATABASE.format(url=f"sqlite:///{here}/elsewhere.db") in err
    assert list(here.iterdir()) == []


def test_migrate_creates_the_database_the_readers_then_read(here, capsys):
    status, out, _ = cli(capsys, "app", "migrate")
    assert status == 0 and out.startswith("the batch-review database at sqlite:///batch-review.sqlite3 is at schema revision")
    assert (here / "batch-review.sqlite3").is_file()
    assert cli(capsys, "app", "requeue")[:2] == (0, "0 failed reviews back in the queue\n")
    assert cli(capsys, "report", "--month", "2026-10")[0] == 0


def test_sample_figures_need_no_database(here, capsys):
    assert cli(capsys, "report", "--sample")[0] == 0
    assert cli(capsys, "dashboard", "--sample", "--output", "page.html")[0] == 0
    assert [p.name for p in here.iterdir()] == ["page.html"]


def test_an_empty_database_is_not_one_of_ours(database_url):  # noqa: F811  (fixture)
    with pytest.raises(NoDatabase, match="no batch-review database at"):
        Store(database_url, create=False)
    Store(database_url).close()
    Store(database_url, create=False).close()


@pytest.mark.parametrize("value", ["batch-review.example.com", "https://", "ftp://example.com", "example.com/webhook",
                                   "http:///path"])
def test_urls_without_a_scheme_or_host_are_refused(value):
    with pytest.raises(SettingsError, match="--url must be an http\\(s\\) URL with a host"):
        http_url(value, "--url", "https://batch-review.example.com")


@pytest.mark.parametrize("key", ["handbook", "helper"])
def test_configured_links_need_a_scheme_and_host(key):
    with pytest.raises(ConfigError, match=f"`links.{key}: 'wiki.example.com/norm'` must be an http\\(s\\) URL"):
        from_mapping({"links": {key: "wiki.example.com/norm"}})
    assert getattr(from_mapping({"links": {key: "https://wiki.example.com/norm"}}).links, key).startswith("https://")


def test_the_manifest_refuses_a_url_without_a_scheme(capsys):
    status, out, err = cli(capsys, "app", "manifest", "--url", "batch-review.example.com")
    assert status == 2 and out == ""
    assert "--url must be an http(s) URL with a host" in err and "'batch-review.example.com'" in err
    status, out, _ = cli(capsys, "app", "manifest", "--url", "https://batch-review.example.com/")
    assert status == 0 and '"url": "https://batch-review.example.com/webhook"' in out
    assert cli(capsys, "app", "manifest", "--url", "https://x.example", "--html", "--github-url", "ghe.example")[0] == 2


def test_metric_sync_refuses_a_bad_anthropic_base_url(here, monkeypatch, capsys):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "api.anthropic.com")
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin-x")
    status, _, err = cli(capsys, "metric", "sync")
    assert status == 2 and "ANTHROPIC_BASE_URL must be an http(s) URL" in err
