"""sync pauses: blackout windows and a summer pause per district, and the district's time zone

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-20

`sync_pauses` holds each district's pause windows as wall-clock times in the district's zone
(the end exclusive) and what a pause does to pulls: skip them, or hold what they deliver for ops.
`districts.timezone` names that zone (an IANA name); empty, the deployment's DISTRICT_TIMEZONE
applies. The column is added only if missing, since provisioning a district sets it too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "sync_pauses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("kind", _enum("pause_kind", "blackout", "summer"), nullable=False),
        sa.Column("action", _enum("pause_action", "skip", "hold"), nullable=False),
        sa.Column("starts_local", sa.DateTime(timezone=False), nullable=False),
        sa.Column("ends_local", sa.DateTime(timezone=False), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("ends_local > starts_local", name=op.f("ck_sync_pauses_ends_after_start")),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name=op.f("fk_sync_pauses_district_id_districts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_pauses")),
    )
    op.create_index(
        op.f("ix_sync_pauses_district_id_ends_local"), "sync_pauses", ["district_id", "ends_local"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_pauses_district_id_ends_local"), table_name="sync_pauses")
    op.drop_table("sync_pauses")
