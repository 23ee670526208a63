"""Baseline: the hand-written migrations' schema version 4, made or completed.

A new database gets the tables below. A database of the hand-written steps (table `schema_version`,
versions 1 to 4) gets what its version lacked: the tables of later steps, and the review columns of
version 3 with its link from old scans (cached by head SHA) to their reviews. `schema_version` stays,
at its value, for servers of the old version during the rolling deploy; a later revision drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None

V4 = sa.MetaData()  # the schema as version 4 left it; never edit (later revisions change it)

sa.Table(
    "deliveries", V4,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("event", sa.String(100), nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Index("deliveries_by_time", "received_at"),
)
sa.Table(
    "pending", V4,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("lease_expires", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("kind", "repo", "subject", name="pending_one_per_subject"),
    sa.Index("pending_due", "state", "due_at"),
)
reviews = sa.Table(
    "reviews", V4,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("head_sha", sa.String(64), nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("suggested_verdict", sa.String(20)),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("scan_key", sa.String(200)),
    sa.Index("reviews_by_pr", "repo", "number"),
    sa.Index("reviews_by_time", "reviewed_at"),
)
cache = sa.Table(
    "cache", V4,
    sa.Column("kind", sa.String(50), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("stored_at", sa.Float, nullable=False),
)
sa.Table(
    "usage", V4,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("origin", sa.String(200), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("api_key_id", sa.String(200), nullable=False),
    sa.Column("workspace_id", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("service_tier", sa.String(50), nullable=False),
    sa.Column("uncached_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_creation_5m_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_creation_1h_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("cache_read_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Index("usage_by_day", "day"),
    sa.Index("usage_by_source", "source", "origin", "day"),
)
sa.Table(
    "usage_months", V4,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed", sa.Boolean, nullable=False),
)
sa.Table(
    "pr_labels", V4,
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Table(
    "check_runs", V4,
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("head_sha", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.BigInteger, nullable=False),
)
sa.Table(
    "github_writes", V4,
    sa.Column("installation_id", sa.BigInteger, primary_key=True),
    sa.Column("window", sa.Integer, primary_key=True),
    sa.Column("start", sa.BigInteger, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    V4.create_all(bind)  # the tables missing (all of them in a new database)
    present = {column["name"] for column in sa.inspect(bind).get_columns("reviews")}
    if "scan_key" in present:
        return
    op.add_column("reviews", sa.Column("error", sa.Text))  # version 3, on a database of version 1 or 2
    op.add_column("reviews", sa.Column("scan_key", sa.String(200)))
    legacy = sa.select(cache.c.key).where(cache.c.kind == "scan", cache.c.key == reviews.c.head_sha)
    op.execute(reviews.update().where(reviews.c.scan_key.is_(None), legacy.exists()).values(scan_key=reviews.c.head_sha))
