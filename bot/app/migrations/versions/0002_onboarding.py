"""Onboarding: each repository's "Set up batch-review" pull request, as the App last saw it.

A new table only, so servers of the version before run beside it unchanged.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_onboarding"
down_revision = "0001_baseline"


def upgrade() -> None:
    op.create_table(
        "onboarding",
        sa.Column("repo", sa.String(300), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
