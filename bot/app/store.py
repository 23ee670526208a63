"""The App's database: deliveries, pending reviews, history, cache, usage.

SQLAlchemy Core over `DATABASE_URL`. The default is a SQLite file in the working directory
(`sqlite:///batch-review.sqlite3`): one process, worker threads inside it. PostgreSQL
(`postgresql://user@host/db`, driven by psycopg 3) serves several web and worker machines.
The schema is created and migrated on open (Alembic revisions in bot/app/migrations; the tables
below are their latest shape). Every dialect difference lives in the functions under
"Dialects" below; the rest is one code path.

The queue's rules:
- a delivery id is recorded once; a redelivery, even after a restart, is a duplicate;
- one pending row per (kind, repo, subject), e.g. ("review", "o/r", "42"): events for a PR
  collapse into it, each bumping its `generation`;
- a worker leases the oldest due row (a row whose lease expired, because its worker died, is
  due again); when it finishes, the row goes unless an event bumped the generation meanwhile,
  in which case it is left for one more run;
- a failed run is retried at a later `due_at`; after the last attempt the row stays `failed`
  with its error until a new event (or `batch-review app requeue`) puts it back.

Rows keep the repository's id (from the payload) beside its owner/name: the history shows each id's
latest name, and a repository that leaves is forgotten under every name it had. Rows kept without an
id (before ids were stored, or by an older server during a rolling deploy) go by their name.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

from bot.app import migrations
from bot.core.names import NO_DATABASE, Verdict
from bot.metric.compute import Usage
from bot.core.codeowners import STORE_KIND as TEAM_KIND
from bot.core.exemptions import STORE_KIND as EXEMPTION_KIND
from bot.scan.cache import STORE_KIND

PENDING, FAILED = "pending", "failed"

# The cache's kinds, named in one place: Claude's answers by prompt hash, tokens per repository and month,
# diff scans (keyed as the scanner's cache says), and the monthly report issue per month.
ANSWERS, TOKENS, SCANS, METRIC_REPORTS = "answers", "tokens", STORE_KIND, "metric-report"
CODEOWNERS, TEAMS = "codeowners", TEAM_KIND  # a commit's CODEOWNERS text; a flagged PR's owning team
EXEMPTIONS, EXPIRED = EXEMPTION_KIND, "exemption-expired"  # each PR's exemption; each workload's lapse told
BUTTONS = "buttons"  # a PR's answers given with the check run's buttons (key: owner/name#number)
# What the retention purge deletes from the cache once stored longer ago than the retention (scans go with their reviews).
PURGED = (ANSWERS, TOKENS, CODEOWNERS, TEAMS, EXEMPTIONS, BUTTONS)  # not EXPIRED: a lapse once told is never told again

METADATA = sa.MetaData()

deliveries = sa.Table(
    "deliveries", METADATA,
    sa.Column("id", sa.String(100), primary_key=True),  # X-GitHub-Delivery
    sa.Column("event", sa.String(100), nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),  # Unix time
    sa.Index("deliveries_by_time", "received_at"),
)

pending = sa.Table(
    "pending", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(20), nullable=False),  # review, merge-group, labels
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("repo", sa.String(300), nullable=False),  # owner/name
    sa.Column("subject", sa.String(100), nullable=False),  # PR number, merge group head SHA, or ""
    sa.Column("repo_id", sa.BigInteger),  # the repository's id (None: not known, e.g. written by an older version)
    sa.Column("state", sa.String(10), nullable=False),  # pending or failed
    sa.Column("generation", sa.Integer, nullable=False),  # bumped by every event for this row
    sa.Column("due_at", sa.Float, nullable=False),  # not leased before (backoff after an error)
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("lease_expires", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False),  # leases taken since the last success or event
    sa.Column("last_error", sa.Text),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("kind", "repo", "subject", name="pending_one_per_subject"),
    sa.Index("pending_due", "state", "due_at"),
)

reviews = sa.Table(
    "reviews", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("head_sha", sa.String(64), nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("suggested_verdict", sa.String(20)),
    # The review document (bot/schemas/review.schema.json): every workload's answers and their sources.
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),  # UTC
    sa.Column("error", sa.Text),  # why the repository's content could not be reviewed (then verdict "")
    sa.Column("scan_key", sa.String(200)),  # the diff scan's key in the cache
    sa.Column("repo_id", sa.BigInteger),
    sa.Index("reviews_by_pr", "repo", "number"),
    sa.Index("reviews_by_time", "reviewed_at"),
    sa.Index("reviews_by_repo_id", "repo_id", "number"),
)

cache = sa.Table(
    "cache", METADATA,
    sa.Column("kind", sa.String(50), primary_key=True),  # e.g. scan (key: head SHA), answers (key: text hash)
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("stored_at", sa.Float, nullable=False),
    sa.Column("repo_id", sa.BigInteger),  # the repository a value belongs to (token counts, teams), if any
    sa.Index("cache_by_repo_id", "repo_id"),
)

# Each repository id's latest name, from its latest kept review: what the history shows for the id's rows.
repositories = sa.Table(
    "repositories", METADATA,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("full_name", sa.String(300), nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),  # Unix time
)


# The adoption metric's usage, by day: the Admin usage report's (`batch-review metric sync`), an
# imported CSV's, and the helper's job totals; see bot/metric.py.
usage = sa.Table(
    "usage", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(10), nullable=False),  # admin, csv or helper
    sa.Column("origin", sa.String(200), nullable=False),  # the helper job's name, else ""
    sa.Column("day", sa.Date, nullable=False),  # UTC
    sa.Column("api_key_id", sa.String(200), nullable=False),
    sa.Column("workspace_id", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("service_tier", sa.String(50), nullable=False),  # as reported, unknown tiers included
    sa.Column("uncached_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_creation_5m_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_creation_1h_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Index("usage_by_day", "day"),
    sa.Index("usage_by_source", "source", "origin", "day"),
)

# The months the Admin usage report was fetched for; a month fetched after it ended is never fetched again.
usage_months = sa.Table(
    "usage_months", METADATA,
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed", sa.Boolean, nullable=False),  # fetched after the month was over
)

# Each pull request's labels at its latest review (the metric counts `batch/adopted`).
pr_labels = sa.Table(
    "pr_labels", METADATA,
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("repo_id", sa.BigInteger),
)

# The App's check run on each commit, updated by every later review of that commit.
check_runs = sa.Table(
    "check_runs", METADATA,
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("head_sha", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    sa.Column("repo_id", sa.BigInteger),
)

# GitHub writes per installation in each budget window (fixed windows of `window` seconds from Unix time 0),
# shared by every worker on every machine; see bot/app/budgets.py.
onboarding = sa.Table(
    "onboarding", METADATA,  # each repository's "Set up batch-review" pull request (bot/app/onboard.py)
    sa.Column("repo", sa.String(300), primary_key=True),  # owner/name
    sa.Column("state", sa.String(20), nullable=False),  # one of bot.core.onboarding.REMEMBERED
    sa.Column("url", sa.String(500), nullable=False),  # the pull request's web address, "" before it is open
    sa.Column("updated_at", sa.Float, nullable=False),
)

github_writes = sa.Table(
    "github_writes", METADATA,
    sa.Column("installation_id", sa.BigInteger, primary_key=True),
    sa.Column("window", sa.Integer, primary_key=True),  # seconds
    sa.Column("start", sa.BigInteger, primary_key=True),  # Unix time, a multiple of `window`
    sa.Column("count", sa.Integer, nullable=False),
)

_USAGE_COLUMNS = {"uncached_input_tokens": "uncached_input", "cache_creation_5m_input_tokens": "cache_creation_5m",
                  "cache_creation_1h_input_tokens": "cache_creation_1h", "cache_read_input_tokens": "cache_read",
                  "output_tokens": "output"}


class StoreError(RuntimeError):
    """The database cannot be used as it is; the message says why."""


class NoDatabase(FileNotFoundError):
    """A command that only reads found no batch-review database (and created none)."""


@dataclass(frozen=True)
class Lease:
    """A pending row a worker holds until `expires`."""

    id: int
    kind: str
    installation_id: int
    repo: str
    subject: str
    generation: int
    attempts: int
    owner: str
    expires: float
    last_error: Optional[str] = None
    repo_id: Optional[int] = None


# --- Dialects ---------------------------------------------------------------------------------

def _engine(url: str) -> sa.Engine:
    """An engine; SQLite gets WAL and `BEGIN IMMEDIATE`, so each transaction writes alone."""
    url = sa.engine.make_url(url)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below opens transactions
        _write_ahead_log(dbapi_connection)
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _write_ahead_log(dbapi_connection, seconds: float = 30) -> None:
    """SQLite's WAL mode (kept in the file). SQLite does not wait for a busy file to switch a new database's mode,
    as it waits for other locks: processes opening a new database together try again for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _insert(engine, table):
    """INSERT with ON CONFLICT support (the same API on both dialects)."""
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


class _Compiled:
    """A statement compiled once for a dialect and run on the DBAPI cursor: the webhook's two statements skip
    SQLAlchemy's per-execution work, which cost more than SQLite's own (their types need no conversion)."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql, self.order = compiled.string, compiled.positiontup  # names in order (SQLite's ?), else None
        self.literals = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}

    def run(self, cursor, **values):
        values = {**self.literals, **values}
        cursor.execute(self.sql, [values[name] for name in self.order] if self.order else values)
        return cursor


@contextmanager
def _raw_transaction(engine):
    """A DBAPI cursor in a transaction of its own, without SQLAlchemy's Connection: the webhook's hot path. SQLite
    (autocommit at the driver, see _engine) opens it with BEGIN IMMEDIATE; psycopg opens one implicitly."""
    connection = engine.raw_connection()
    try:
        with closing(connection.cursor()) as cursor:
            if engine.dialect.name == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            yield cursor
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()  # back to the pool


def _one_writer(engine):
    """SQLite: this process's threads queue on a lock rather than on SQLite's sleeping busy handler."""
    return threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()


def _serialise_migrations(conn) -> None:
    """Processes starting together migrate one after the other (SQLite: BEGIN IMMEDIATE does it)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(2025051401)"))


# --- The store --------------------------------------------------------------------------------

def migrate(engine: sa.Engine) -> tuple:
    """Create or upgrade the schema (bot/app/migrations); (revision before, after). StoreError on a newer one."""
    with engine.begin() as conn:
        _serialise_migrations(conn)
        try:
            return migrations.upgrade(conn)
        except migrations.NewerSchema as error:
            raise StoreError(str(error)) from None


def _exists(engine: sa.Engine) -> bool:
    """Whether the database holds batch-review's schema; a missing SQLite file is not created by asking."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and not (database and database != ":memory:" and Path(database).is_file()):
        return False
    tables = set(sa.inspect(engine).get_table_names())
    return "alembic_version" in tables or "schema_version" in tables  # the hand-written migrations' table


def window_start(now: float, window: int) -> int:
    """The start of the fixed window of `window` seconds that holds the time `now`."""
    return int(now // window) * window


def _lease(row) -> Lease:
    return Lease(id=row.id, kind=row.kind, installation_id=row.installation_id, repo=row.repo,
                 subject=row.subject, generation=row.generation, attempts=row.attempts,
                 owner=row.lease_owner, expires=row.lease_expires, last_error=row.last_error, repo_id=row.repo_id)


class Store:
    """The App's state behind a handful of transactions; `now` (Unix time) is a parameter for tests."""

    def __init__(self, url: str, create: bool = True):
        """Open the database at `url`, upgrading its schema; only with `create` may it be made from nothing
        (the App, its workers, `metric sync` and `import`); readers get NoDatabase instead."""
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        try:
            self.engine = _engine(url)
            if not create and not _exists(self.engine):
                self.engine.dispose()
                raise NoDatabase(NO_DATABASE.format(url=shown))
            self._one_writer = _one_writer(self.engine)
            self.migrated = migrate(self.engine)
            self._statements()
        except sa.exc.SQLAlchemyError as error:
            raise StoreError(f"cannot open the database at DATABASE_URL ({shown}): "
                             f"{error.orig if getattr(error, 'orig', None) else error}") from None

    def _statements(self) -> None:
        """The queue's hot statements, built once (building SQLAlchemy expressions costs more than running them)."""
        now = sa.bindparam("now")
        self._seen = _Compiled(_insert(self.engine, deliveries)
                               .values(id=sa.bindparam("delivery"), event=sa.bindparam("event"), received_at=now)
                               .on_conflict_do_nothing().returning(deliveries.c.id), self.engine.dialect)
        row = _insert(self.engine, pending).values(
            kind=sa.bindparam("kind"), installation_id=sa.bindparam("installation_id"), repo=sa.bindparam("repo"),
            subject=sa.bindparam("subject"), repo_id=sa.bindparam("repo_id"), state=PENDING, generation=1, due_at=now,
            attempts=0, updated_at=now)
        was_failed = pending.c.state == FAILED
        self._upsert = _Compiled(row.on_conflict_do_update(
            index_elements=["kind", "repo", "subject"],
            set_={"generation": pending.c.generation + 1,
                  "installation_id": row.excluded.installation_id,
                  "repo_id": sa.func.coalesce(row.excluded.repo_id, pending.c.repo_id),
                  "state": PENDING,
                  "attempts": sa.case((was_failed, 0), else_=pending.c.attempts),
                  "due_at": sa.case((was_failed, now), else_=pending.c.due_at),
                  "updated_at": now}), self.engine.dialect)
        due = sa.and_(pending.c.state == PENDING, pending.c.due_at <= now,
                      sa.or_(pending.c.lease_expires.is_(None), pending.c.lease_expires < now))
        oldest = (sa.select(pending.c.id).where(due).order_by(pending.c.due_at, pending.c.id).limit(1)
                  .with_for_update(skip_locked=True).scalar_subquery())
        self._take = (pending.update().where(pending.c.id == oldest, due)
                      .values(lease_owner=sa.bindparam("owner"), lease_expires=sa.bindparam("expires"),
                              attempts=pending.c.attempts + 1)
                      .returning(*pending.c))

    @contextmanager
    def _transaction(self):
        with self._one_writer, self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def record(self, delivery: str, event_name: str, tasks: Iterable, now: Optional[float] = None) -> bool:
        """Record a delivery and upsert its tasks (kind, installation_id, repo, subject) in one transaction.

        False when the delivery was seen before: then nothing changes.
        """
        now = time.time() if now is None else now
        with self._one_writer, _raw_transaction(self.engine) as cursor:
            if self._seen.run(cursor, delivery=delivery, event=event_name, now=now).fetchone() is None:
                return False
            for task in tasks:
                self._upsert.run(cursor, kind=task.kind, installation_id=task.installation_id, repo=task.repo,
                                 subject=task.subject, repo_id=task.repo_id, now=now)
        return True

    def lease(self, owner: str, seconds: float, now: Optional[float] = None) -> Optional[Lease]:
        """Take the oldest due row for `seconds`, or None when nothing is due."""
        now = time.time() if now is None else now
        with self._transaction() as conn:
            row = conn.execute(self._take, {"now": now, "owner": owner, "expires": now + seconds}).first()
        return _lease(row) if row else None

    @staticmethod
    def _held(lease: Lease):
        return sa.and_(pending.c.id == lease.id, pending.c.lease_owner == lease.owner)

    def finish(self, lease: Lease, review: Optional[dict] = None, now: Optional[float] = None) -> None:
        """The work is done: keep the review (head_sha, document, labels, scan_key; or error) and drop the row.

        A kept review names its repository (the id's latest name). If an event came in while the work ran,
        the row stays for one more run.
        """
        now = time.time() if now is None else now
        with self._transaction() as conn:
            if review is not None:
                if lease.repo_id is not None:
                    self._name(conn, lease.repo_id, lease.repo, now)
                document = review.get("document", {})
                conn.execute(reviews.insert().values(
                    repo=lease.repo, repo_id=lease.repo_id, number=int(lease.subject), head_sha=review.get("head_sha", ""),
                    verdict=document.get("verdict", ""), suggested_verdict=document.get("suggested_verdict"),
                    document=document, error=review.get("error"), scan_key=review.get("scan_key"),
                    reviewed_at=datetime.fromtimestamp(now, timezone.utc)))
                if "labels" in review:
                    row = _insert(self.engine, pr_labels).values(
                        repo=lease.repo, repo_id=lease.repo_id, number=int(lease.subject), labels=list(review["labels"]),
                        updated_at=datetime.fromtimestamp(now, timezone.utc))
                    conn.execute(row.on_conflict_do_update(index_elements=["repo", "number"], set_={
                        "labels": row.excluded.labels, "updated_at": row.excluded.updated_at,
                        "repo_id": row.excluded.repo_id}))
            done = conn.execute(pending.delete().where(self._held(lease), pending.c.generation == lease.generation))
            if not done.rowcount:
                conn.execute(pending.update().where(self._held(lease)).values(
                    lease_owner=None, lease_expires=None, attempts=0, due_at=now, updated_at=now))

    def _name(self, conn, repo_id: int, name: str, now: float) -> None:
        """`name` is the repository `repo_id`'s latest; the first time the id is met, the rows kept under that
        name without an id (before ids were stored, or by an older version) become the id's."""
        if conn.scalar(sa.select(repositories.c.full_name).where(repositories.c.id == repo_id)) is None:
            for table in (reviews, pr_labels, check_runs):
                conn.execute(table.update().where(table.c.repo_id.is_(None), table.c.repo == name).values(repo_id=repo_id))
        row = _insert(self.engine, repositories).values(id=repo_id, full_name=name, seen_at=now)
        conn.execute(row.on_conflict_do_update(index_elements=["id"], set_={
            "full_name": row.excluded.full_name, "seen_at": row.excluded.seen_at}))

    def retry(self, lease: Lease, error: str, at: float, now: Optional[float] = None) -> None:
        """The work failed; lease the row again from `at`."""
        now = time.time() if now is None else now
        with self._transaction() as conn:
            conn.execute(pending.update().where(self._held(lease)).values(
                lease_owner=None, lease_expires=None, due_at=at, last_error=error, updated_at=now))

    def fail(self, lease: Lease, error: str, now: Optional[float] = None) -> None:
        """The last attempt failed: keep the row as failed, unless an event came in meanwhile."""
        now = time.time() if now is None else now
        with self._transaction() as conn:
            kept = conn.execute(pending.update().where(self._held(lease), pending.c.generation == lease.generation)
                                .values(state=FAILED, lease_owner=None, lease_expires=None,
                                        last_error=error, updated_at=now))
            if not kept.rowcount:
                conn.execute(pending.update().where(self._held(lease)).values(
                    lease_owner=None, lease_expires=None, attempts=0, due_at=now, last_error=error, updated_at=now))

    def postpone(self, lease: Lease, until: float, now: Optional[float] = None) -> None:
        """The lease's installation may not write to GitHub before `until`: give the lease back without using an
        attempt, and let none of that installation's pending rows be due before then."""
        now = time.time() if now is None else now
        with self._transaction() as conn:
            conn.execute(pending.update().where(self._held(lease)).values(
                lease_owner=None, lease_expires=None, attempts=pending.c.attempts - 1, updated_at=now))
            conn.execute(pending.update().where(pending.c.installation_id == lease.installation_id,
                                                pending.c.state == PENDING, pending.c.due_at < until)
                         .values(due_at=until))

    def count_write(self, installation_id: int, windows: Iterable[int], now: Optional[float] = None) -> None:
        """One write to GitHub by the installation, counted in its current window of each length (seconds) in
        `windows`; the windows that ended are dropped."""
        now = time.time() if now is None else now
        windows = list(windows)
        with self._transaction() as conn:
            for window in windows:
                row = _insert(self.engine, github_writes).values(installation_id=installation_id, window=window,
                                                                 start=window_start(now, window), count=1)
                conn.execute(row.on_conflict_do_update(index_elements=["installation_id", "window", "start"],
                                                       set_={"count": github_writes.c.count + 1}))
            conn.execute(github_writes.delete().where(github_writes.c.start + github_writes.c.window <= now))

    def writes(self, installation_id: int, windows: Iterable[int], now: Optional[float] = None) -> dict:
        """window -> the installation's writes to GitHub in its current window of that length (seconds)."""
        now = time.time() if now is None else now
        current = [sa.and_(github_writes.c.window == window, github_writes.c.start == window_start(now, window))
                   for window in windows]
        query = sa.select(github_writes.c.window, github_writes.c.count).where(
            github_writes.c.installation_id == installation_id, sa.or_(sa.false(), *current))
        with self._transaction() as conn:
            return dict(conn.execute(query).all())

    def counts(self) -> dict:
        """{"pending": rows waiting or running, "failed": rows given up on}."""
        with self._transaction() as conn:
            found = dict(conn.execute(sa.select(pending.c.state, sa.func.count()).group_by(pending.c.state)).all())
        return {PENDING: found.get(PENDING, 0), FAILED: found.get(FAILED, 0)}

    def waiting_since(self) -> Optional[float]:
        """When the oldest row that is due (leased or not) became due; None when none is."""
        query = sa.select(sa.func.min(pending.c.due_at)).where(pending.c.state == PENDING, pending.c.due_at <= time.time())
        with self._transaction() as conn:
            return conn.scalar(query)

    def failures(self, limit: int = 5) -> list:
        """The latest failed rows: (kind, repo, subject, last_error)."""
        query = (sa.select(pending.c.kind, pending.c.repo, pending.c.subject, pending.c.last_error)
                 .where(pending.c.state == FAILED).order_by(pending.c.updated_at.desc()).limit(limit))
        with self._transaction() as conn:
            return [tuple(row) for row in conn.execute(query)]

    def requeue(self, now: Optional[float] = None) -> int:
        """Put every failed row back in the queue with fresh attempts; return how many."""
        now = time.time() if now is None else now
        with self._transaction() as conn:
            return conn.execute(pending.update().where(pending.c.state == FAILED).values(
                state=PENDING, attempts=0, due_at=now, updated_at=now)).rowcount

    def renew(self, process: str, expires: float) -> int:
        """The heartbeat: extend every lease `process` (host:pid:start) holds to `expires`; how many."""
        with self._transaction() as conn:
            return conn.execute(pending.update().where(pending.c.lease_owner.startswith(f"{process}:", autoescape=True))
                                .values(lease_expires=expires)).rowcount

    def lease_owners(self, host: str) -> set:
        """Who holds leases among the processes of `host`."""
        query = sa.select(pending.c.lease_owner).distinct().where(
            pending.c.lease_owner.startswith(f"{host}:", autoescape=True))
        with self._transaction() as conn:
            return set(conn.scalars(query))

    def release(self, owners: Iterable[str]) -> int:
        """Free the leases of `owners`, whose processes are gone: their rows are due again at once."""
        with self._transaction() as conn:
            return conn.execute(pending.update().where(pending.c.lease_owner.in_(list(owners)))
                                .values(lease_owner=None, lease_expires=None)).rowcount

    def forget(self, repo: str, but: int, repo_id: Optional[int] = None) -> dict:
        """Delete what is kept of the repository `repo_id` under any name, and of `repo` where no id was kept (its
        queue rows but row `but`, reviews and their scans, labels, check runs, token counts, teams, exemptions,
        button answers) in one transaction; how many of each."""
        scans = sa.select(reviews.c.scan_key).where(_of(reviews, repo, repo_id), reviews.c.scan_key.is_not(None))
        named = sa.or_(sa.and_(cache.c.kind == TOKENS, cache.c.key.startswith(f"{repo} ", autoescape=True)),
                       sa.and_(cache.c.kind.in_([TEAMS, EXEMPTIONS, EXPIRED]),
                               cache.c.key.startswith(f"{repo}#", autoescape=True)))
        deletes = {
            "scans": cache.delete().where(cache.c.kind == SCANS, cache.c.key.in_(scans)),
            "token counts, teams and exemptions": cache.delete().where(
                named if repo_id is None else sa.or_(cache.c.repo_id == repo_id, sa.and_(cache.c.repo_id.is_(None), named))),
            "onboarding states": onboarding.delete().where(onboarding.c.repo == repo),
            "button answers": cache.delete().where(cache.c.kind == BUTTONS,
                                                   cache.c.key.startswith(f"{repo}#", autoescape=True)),
            "reviews": reviews.delete().where(_of(reviews, repo, repo_id)),
            "label sets": pr_labels.delete().where(_of(pr_labels, repo, repo_id)),
            "check runs": check_runs.delete().where(_of(check_runs, repo, repo_id)),
            "queued tasks": pending.delete().where(_of(pending, repo, repo_id), pending.c.id != but),
        }
        with self._transaction() as conn:
            counts = {what: conn.execute(statement).rowcount for what, statement in deletes.items()}
            conn.execute(repositories.delete().where(repositories.c.id == repo_id))
            return counts

    def purge(self, before: float) -> dict:
        """Delete the history from before `before` (Unix time) in one transaction: reviews and the scans no later
        review uses, the PR-derived cached values (PURGED), label sets and delivery ids; how many of each. Queued
        tasks, usage and the monthly reports' records stay."""
        stamp = datetime.fromtimestamp(before, timezone.utc)
        old = reviews.c.reviewed_at < stamp
        deletes = {
            "reviews' scans": cache.delete().where(cache.c.kind == SCANS, cache.c.key.not_in(_scan_keys(sa.not_(old))),
                                                   sa.or_(cache.c.key.in_(_scan_keys(old)), cache.c.stored_at < before)),
            "reviews": reviews.delete().where(old),
            "cached values": cache.delete().where(cache.c.kind.in_(PURGED), cache.c.stored_at < before),
            "label sets": pr_labels.delete().where(pr_labels.c.updated_at < stamp),
            "delivery ids": deliveries.delete().where(deliveries.c.received_at < before),
        }
        with self._transaction() as conn:
            return {what: conn.execute(statement).rowcount for what, statement in deletes.items()}

    def held(self, delivery_ids: Iterable[str]) -> set:
        """Those of `delivery_ids` recorded (a redelivery of them would be a duplicate)."""
        ids = list(set(delivery_ids))
        with self._transaction() as conn:
            return {found for chunk in range(0, len(ids), 500)
                    for found in conn.scalars(sa.select(deliveries.c.id).where(deliveries.c.id.in_(ids[chunk:chunk + 500])))}

    def forget_deliveries(self, before: float) -> int:
        """Drop delivery ids received before `before` (GitHub redelivers only recent ones)."""
        with self._transaction() as conn:
            return conn.execute(deliveries.delete().where(deliveries.c.received_at < before)).rowcount

    def history(self, repo: Optional[str] = None, since: Optional[datetime] = None) -> list:
        """Every stored review, oldest first, as dicts (the metric reads this); `repo` is the repository's latest
        name, whatever it was called at the review."""
        name = _current_name(reviews)
        query = (sa.select(*(column for column in reviews.c if column.name != "repo"), name.label("repo"))
                 .select_from(_named(reviews)).order_by(reviews.c.reviewed_at, reviews.c.id))
        if repo is not None:
            query = query.where(name == repo)
        if since is not None:
            query = query.where(reviews.c.reviewed_at >= since)
        with self._transaction() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def cache_get(self, kind: str, key: str):
        with self._transaction() as conn:
            return conn.scalar(sa.select(cache.c.value).where(cache.c.kind == kind, cache.c.key == key))

    def cache_put(self, kind: str, key: str, value, now: Optional[float] = None, repo_id: Optional[int] = None) -> None:
        """Keep `value`; `repo_id`: the repository it belongs to, if any (forgotten with it)."""
        now = time.time() if now is None else now
        with self._transaction() as conn:
            row = _insert(self.engine, cache).values(kind=kind, key=key, value=value, stored_at=now, repo_id=repo_id)
            conn.execute(row.on_conflict_do_update(index_elements=["kind", "key"], set_={
                "value": row.excluded.value, "stored_at": now, "repo_id": row.excluded.repo_id}))

    def onboarding(self, repo: str) -> Optional[dict]:
        """The repository's onboarding pull request as the App last saw it: {"state", "url"}, or None."""
        with self._transaction() as conn:
            row = conn.execute(sa.select(onboarding.c.state, onboarding.c.url).where(onboarding.c.repo == repo)).first()
        return dict(row._mapping) if row else None

    def keep_onboarding(self, repo: str, state: str, url: str = "", now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            row = _insert(self.engine, onboarding).values(repo=repo, state=state, url=url, updated_at=now)
            conn.execute(row.on_conflict_do_update(index_elements=["repo"],
                                                   set_={"state": state, "url": url, "updated_at": now}))

    def cache_update(self, kind: str, key: str, change, now: Optional[float] = None):
        """Read, change and write one cached value in one transaction, so that two writers lose nothing (the row is
        locked on PostgreSQL, SQLite writes alone); `change(value or None)` returns the new value, which is returned."""
        now = time.time() if now is None else now
        where = sa.and_(cache.c.kind == kind, cache.c.key == key)
        with self._transaction() as conn:
            conn.execute(_insert(self.engine, cache).values(kind=kind, key=key, value={}, stored_at=now)
                         .on_conflict_do_nothing())
            value = change(conn.scalar(sa.select(cache.c.value).where(where).with_for_update()) or None)
            conn.execute(cache.update().where(where).values(value=value, stored_at=now))
        return value

    def check_run(self, repo: str, head_sha: str, repo_id: Optional[int] = None) -> Optional[int]:
        """The id of the App's check run on this commit, when known (under any name of the repository `repo_id`)."""
        query = sa.select(check_runs.c.run_id).where(_of(check_runs, repo, repo_id), check_runs.c.head_sha == head_sha)
        with self._transaction() as conn:
            return conn.scalar(query.limit(1))

    def keep_check_run(self, repo: str, head_sha: str, run_id: int, repo_id: Optional[int] = None) -> None:
        with self._transaction() as conn:
            row = _insert(self.engine, check_runs).values(repo=repo, head_sha=head_sha, run_id=run_id, repo_id=repo_id)
            conn.execute(row.on_conflict_do_update(index_elements=["repo", "head_sha"],
                                                   set_={"run_id": row.excluded.run_id, "repo_id": row.excluded.repo_id}))

    # --- The adoption metric ------------------------------------------------------------------

    def replace_usage(self, source: str, rows: Iterable, *, start=None, end=None, origins=(),
                      month: Optional[tuple] = None) -> int:
        """Replace the usage of `source` between the days `start` and `end` (exclusive) or of the helper jobs
        `origins` with `rows` (bot.metric.Usage) in one transaction; `month` (YYYY-MM, fetched_at, closed) logs
        an Admin report fetch. Returns the rows stored."""
        rows = list(rows)
        gone = usage.c.source == source
        if start is not None:
            gone = sa.and_(gone, usage.c.day >= start, usage.c.day < end)
        if origins:
            gone = sa.and_(gone, usage.c.origin.in_(list(origins)))
        with self._transaction() as conn:
            conn.execute(usage.delete().where(gone))
            if rows:
                conn.execute(usage.insert(), [_usage_row(row) for row in rows])
            if month is not None:
                name, fetched_at, closed = month
                logged = _insert(self.engine, usage_months).values(month=name, fetched_at=fetched_at, closed=closed)
                conn.execute(logged.on_conflict_do_update(index_elements=["month"], set_={
                    "fetched_at": logged.excluded.fetched_at, "closed": logged.excluded.closed}))
        return len(rows)

    def usage(self, since=None) -> list:
        """Every stored usage row from the day `since` on, as bot.metric.Usage."""

        columns = [usage.c[name] for name in ("day", "service_tier", *_USAGE_COLUMNS, "api_key_id", "workspace_id",
                                              "model", "source", "origin")]  # Usage's fields, in order
        query = sa.select(*columns).order_by(usage.c.day, usage.c.id)
        if since is not None:
            query = query.where(usage.c.day >= since)
        with self._transaction() as conn:
            return [Usage(*row) for row in conn.execute(query)]

    def usage_months(self) -> dict:
        """YYYY-MM -> (fetched_at, closed) for every month the Admin usage report was fetched for."""
        with self._transaction() as conn:
            return {row.month: (row.fetched_at, row.closed) for row in conn.execute(sa.select(usage_months))}

    def first_flags(self) -> list:
        """(repo, number, reviewed_at) of each PR's first review with the batch-candidate verdict (the latest name)."""
        name = _current_name(reviews)
        query = (sa.select(name, reviews.c.number, sa.func.min(reviews.c.reviewed_at)).select_from(_named(reviews))
                 .where(reviews.c.verdict == Verdict.BATCH_CANDIDATE.value).group_by(name, reviews.c.number))
        with self._transaction() as conn:
            return [tuple(row) for row in conn.execute(query)]

    def pr_labels(self) -> dict:
        """(repo, number) -> the PR's labels at its latest review (the repository's latest name)."""
        query = (sa.select(_current_name(pr_labels).label("repo"), pr_labels.c.number, pr_labels.c.labels)
                 .select_from(_named(pr_labels)).order_by(pr_labels.c.updated_at))
        with self._transaction() as conn:
            return {(row.repo, row.number): tuple(row.labels) for row in conn.execute(query)}

    def cache_prefix(self, kind: str, prefix: str = "") -> dict:
        """key -> value of everything cached under `kind` whose key starts with `prefix`."""
        query = sa.select(cache.c.key, cache.c.value).where(cache.c.kind == kind,
                                                             cache.c.key.startswith(prefix, autoescape=True))
        with self._transaction() as conn:
            return {row.key: row.value for row in conn.execute(query)}

    def cache_values(self, kind: str, keys: Iterable[str]) -> dict:
        """key -> value for those of `keys` cached under `kind`."""
        keys = list(set(keys))
        found = {}
        with self._transaction() as conn:
            for chunk in range(0, len(keys), 500):
                query = sa.select(cache.c.key, cache.c.value).where(cache.c.kind == kind,
                                                                     cache.c.key.in_(keys[chunk:chunk + 500]))
                found.update((row.key, row.value) for row in conn.execute(query))
        return found


def _scan_keys(which):
    """The scan keys of the reviews `which` selects."""
    return sa.select(reviews.c.scan_key).where(reviews.c.scan_key.is_not(None), which)


def _of(table: sa.Table, repo: str, repo_id: Optional[int]):
    """The rows of the repository `repo_id` under any name, and those kept under `repo` without an id."""
    unnamed = table.c.repo == repo
    if repo_id is None:
        return unnamed
    return sa.or_(table.c.repo_id == repo_id, sa.and_(table.c.repo_id.is_(None), unnamed))


def _named(table: sa.Table):
    """`table` beside the latest name of each row's repository."""
    return table.outerjoin(repositories, table.c.repo_id == repositories.c.id)


def _current_name(table: sa.Table):
    """A row's repository by its latest name: the id's, else the name the row was kept under."""
    return sa.func.coalesce(repositories.c.full_name, table.c.repo)


def _usage_row(row) -> dict:
    return {"source": row.source, "origin": row.origin, "day": row.day, "api_key_id": row.api_key_id,
            "workspace_id": row.workspace_id, "model": row.model, "service_tier": row.service_tier,
            **{column: getattr(row, name) for column, name in _USAGE_COLUMNS.items()}}
