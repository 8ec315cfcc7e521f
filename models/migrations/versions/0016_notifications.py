"""notifications: the ledger of e-mails sent, staff e-mail and digest opt-out, a district's ops address

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-20

`sent_notifications` holds one row per digest or alert, its unique key making each go out once
across retries and restarts. Staff get an e-mail address and an opt-out of the daily digest; a
district gets the address its delivery alerts go to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("districts", sa.Column("ops_email", sa.Text(), nullable=True))
    op.add_column("staff", sa.Column("email", sa.Text(), nullable=True))
    op.add_column("staff", sa.Column("digest_opted_out_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sent_notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_sent_notifications_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_sent_notifications_key")),
    )


def downgrade() -> None:
    op.drop_table("sent_notifications")
    op.drop_column("staff", "digest_opted_out_at")
    op.drop_column("staff", "email")
    op.drop_column("districts", "ops_email")
