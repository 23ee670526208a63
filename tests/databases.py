"""The App's tests' databases: a SQLite file per test, and a throwaway PostgreSQL database per run."""

import os
import sqlite3
import uuid

import pytest

from tests.conftest import FIXTURES

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DIALECTS = ("sqlite", "postgresql")


def _admin_engine():
    import sqlalchemy as sa

    return sa.create_engine(POSTGRES_SERVER.replace("postgresql://", "postgresql+psycopg://"),
                            isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@pytest.fixture(scope="session")
def postgres_database():
    """URL of a database made for this run on the local PostgreSQL, dropped afterwards."""
    import sqlalchemy as sa

    admin = _admin_engine()
    name = f"batch_review_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        reason = f"PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres ({error.orig})"
        if os.environ.get("BATCH_REVIEW_REQUIRE_POSTGRES"):
            pytest.fail(reason + "; BATCH_REVIEW_REQUIRE_POSTGRES is set")
        pytest.skip(reason)
    yield POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def engine_for(url: str):
    import sqlalchemy as sa

    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def load_dump(url: str, version: int) -> None:
    """Make the empty database at `url` the one the hand-written migrations left at `version` (fixtures/old-schema)."""
    dump = (FIXTURES / "old-schema" / f"v{version}.{'sqlite' if url.startswith('sqlite') else 'postgresql'}.sql")
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executescript(dump.read_text())
        return
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(dump.read_text())
    engine.dispose()


def _empty_postgres(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    """A SQLite file of the test's own, for the tests that need no PostgreSQL."""
    return f"sqlite:///{tmp_path / 'app.sqlite3'}"


@pytest.fixture(params=DIALECTS)
def database_url(request, tmp_path):
    """An empty database: a SQLite file, then the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'batch-review.sqlite3'}"
    url = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url
