"""a link staff made against the evidence: the fields that disagreed, on its link audit row

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12

A staff member may link a pair whose fields disagree (after a second, explicit confirmation);
the link audit row keeps what the evidence said then: the disagreeing fields, the rule and the
match weight. NULL for every link the evidence corroborated (all automatic ones).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("link_audit", sa.Column("against_evidence", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("link_audit", "against_evidence")
