"""Rows keyed by repository id: nullable repo_id columns, and each id's latest name.

Rolling-deploy safe: the columns are nullable and nothing else changes, so servers of the previous
version go on writing rows without an id (reads fall back to the name for those). The database
holds no id to backfill from: a worker that first meets a repository's id gives it to the rows
kept under that name without one (Store.finish).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_repo_ids"
down_revision = "0002_onboarding"

TABLES = ("pending", "reviews", "pr_labels", "check_runs", "cache")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("repo_id", sa.BigInteger))
    op.create_index("reviews_by_repo_id", "reviews", ["repo_id", "number"])
    op.create_index("cache_by_repo_id", "cache", ["repo_id"])
    op.create_table(
        "repositories",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
