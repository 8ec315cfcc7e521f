"""admin endpoint: sessions and page support

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

The Student Selector searches surname prefixes of active records of both origins; a partial
index on the stored surname key lets Postgres answer it with an index range. One page of the
unlinked table (newest first, by offset) is read from an index that carries the record id.

The staff pages' session key lives in the database when SESSION_SECRET is unset, so every
web process signs and checks cookies with the same key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secrets")),
    )
    op.create_index(
        "ix_students_selector_last",
        "students",
        ["district_id", "search_last"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_students_unlinked_page",
        "students",
        ["district_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("origin = 'created' AND status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_students_unlinked_page", table_name="students")
    op.drop_index("ix_students_selector_last", table_name="students")
    op.drop_table("app_secrets")
