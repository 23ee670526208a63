"""The App's schema under Alembic: new databases, the hand-written migrations' databases, newer ones refused."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.app import migrations
from bot.app.events import REVIEW, Task
from bot.app.store import METADATA, PENDING, SCANS, Store, StoreError
from tests.app_support import SECRET, private_key
from tests.conftest import ROOT
from tests.databases import database_url, engine_for, load_dump, postgres_database, sqlite_url  # noqa: F401

def differences(url: str) -> list:
    """How the database's schema differs from the store's tables (the hand-written migrations' table aside)."""
    engine = engine_for(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": lambda name, kind, _: (
            kind != "table" or name not in ("schema_version", "alembic_version"))})
        found = compare_metadata(context, METADATA)
    engine.dispose()
    return found


def test_a_new_database_gets_the_tables_as_the_store_declares_them(database_url):
    opened = Store(database_url)
    assert opened.migrated == (None, migrations.head())
    opened.close()
    assert differences(database_url) == []
    again = Store(database_url)
    assert again.migrated == (migrations.head(), migrations.head())
    again.close()


@pytest.mark.parametrize("version", [2, 4])
def test_a_database_of_the_hand_written_migrations_is_upgraded_with_its_rows(database_url, version):
    load_dump(database_url, version)
    opened = Store(database_url)
    assert opened.migrated == (f"schema_version {version}", migrations.head())
    (review,) = opened.history()
    assert (review["repo"], review["number"], review["verdict"]) == ("octo/old", 1, "batch-candidate")
    assert opened.cache_get(SCANS, review["scan_key"])["calls"]  # version 2's scan, keyed by head SHA, is linked
    assert opened.pr_labels() == {("octo/old", 1): ("batch/candidate",)}
    assert opened.counts()[PENDING] == 1
    lease = opened.lease("w", 60)
    assert (lease.repo, lease.subject) == ("octo/old", "2")
    opened.finish(lease, {"head_sha": "b" * 40, "document": {"verdict": "synchronous"}, "labels": []})
    assert opened.record("delivery-1", "pull_request", [Task(REVIEW, 7, "octo/old", "1")]) is False  # still seen
    opened.close()
    assert differences(database_url) == []
    engine = engine_for(database_url)
    with engine.connect() as conn:  # kept for servers of the old version during the rolling deploy
        assert conn.scalar(sa.text("SELECT version FROM schema_version")) == version
    engine.dispose()


def test_the_rows_kept_before_repository_ids_join_their_repository_when_it_is_next_reviewed(database_url):
    load_dump(database_url, 4)
    opened = Store(database_url)
    for number, name in ((3, "octo/old"), (4, "octo/new")):  # reviewed once with its id, then renamed
        opened.record(f"d-{number}", "pull_request", [Task(REVIEW, 7, name, str(number), repo_id=31)])
        lease = next(lease for lease in iter(lambda: opened.lease("w", 60), None) if lease.subject == str(number))
        opened.finish(lease, {"head_sha": "c" * 40, "document": {"verdict": "synchronous"}, "labels": []})
    assert {row["repo"] for row in opened.history()} == {"octo/new"}
    assert set(opened.pr_labels()) == {("octo/new", 1), ("octo/new", 3), ("octo/new", 4)}
    opened.close()


def stamp_unknown_revision(url: str) -> None:
    Store(url).close()
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    engine.dispose()


def test_a_database_migrated_by_a_newer_batch_review_is_refused(database_url):
    stamp_unknown_revision(database_url)
    with pytest.raises(StoreError, match="revision from_the_future, which this batch-review does not know .*"
                                         "upgrade batch-review"):
        Store(database_url)
    with pytest.raises(StoreError, match="upgrade batch-review"):
        Store(database_url, create=False)


def cli(*args, database_url):
    env = {**os.environ, "GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY": private_key(),
           "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": "http://127.0.0.1:9", "DATABASE_URL": database_url,
           "PYTHONPATH": str(ROOT)}
    env.pop("GITHUB_APP_PRIVATE_KEY_PATH", None)
    return subprocess.run([sys.executable, "-m", "bot.cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_server_the_workers_and_migrate_refuse_to_start_on_a_newer_database(sqlite_url):
    stamp_unknown_revision(sqlite_url)
    for command in (["app", "serve", "--port", "0"], ["app", "worker", "--threads", "1"], ["app", "migrate"]):
        done = cli(*command, database_url=sqlite_url)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "from_the_future" in done.stderr and "upgrade batch-review" in done.stderr
        assert "listening" not in done.stdout and "threads on" not in done.stdout


def test_migrate_says_what_it_did(sqlite_url):
    head = migrations.head()
    load_dump(sqlite_url, 4)
    assert cli("app", "migrate", database_url=sqlite_url).stdout.endswith(
        f"is at schema revision {head} (upgraded from schema_version 4)\n")
    assert cli("app", "migrate", database_url=sqlite_url).stdout.endswith(f"is at schema revision {head} (up to date)\n")
