"""The App database's schema changes: Alembic revisions, run in order by the store.

Each revision in `versions/` moves the schema one step; the store runs those a database lacks when
it opens (`batch-review app migrate` does only that), one process at a time. Alembic is configured
here, in code: no alembic.ini, no env.py, nothing to find at run time but this package.

The rule for every revision: servers of the old and the new version run side by side during a
rolling deploy, so the schema after it must still serve the code before it.
- Add, never change in place: new tables, nullable columns (or with a server default), new indexes.
- Backfill what the database already knows in the revision; the code fills in the rest as it goes
  (rows written by old servers during the deploy lack the new columns: reads fall back).
- Switch reads to the new columns in the release that adds them, with the fallback.
- Drop or tighten (a column, a constraint, NOT NULL) only in a later release, once no server of the
  version that needed it can be running.
Never edit a revision that was released; add one. A revision's `down_revision` names the one before.

A database whose revision this code does not know was migrated by a newer batch-review: the store
refuses it (NewerSchema) rather than guessing, and says to upgrade.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory


class NewerSchema(RuntimeError):
    """The database is at a revision this batch-review does not know: a newer one migrated it."""


@functools.cache
def scripts() -> ScriptDirectory:
    """The revisions shipped in this package (read once per process)."""
    return ScriptDirectory(str(Path(__file__).parent))


def head() -> str:
    return scripts().get_current_head()


def current(conn) -> Optional[str]:
    """The database's revision, None when Alembic never ran on it."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn) -> tuple:
    """Run the revisions the database on `conn` lacks, inside the caller's transaction; (revision before, after),
    before being None for a new database and "schema_version N" for one of the hand-written migrations.

    NewerSchema when the database's revision is not among ours.
    """
    script, before = scripts(), current(conn)
    if before is not None and before not in {revision.revision for revision in script.walk_revisions()}:
        raise NewerSchema(f"the database's schema is at revision {before}, which this batch-review does not know "
                          f"(its latest is {head()}): a newer batch-review migrated it; upgrade batch-review.")
    if before == head():
        return before, before
    if before is None and sa.inspect(conn).has_table("schema_version"):  # the hand-written migrations' database
        before = f"schema_version {conn.scalar(sa.text('SELECT max(version) FROM schema_version'))}"
    with EnvironmentContext(Config(), script, fn=lambda revision, _: script._upgrade_revs("head", revision)) as env:
        env.configure(connection=conn)
        env.run_migrations()
    return before, head()
