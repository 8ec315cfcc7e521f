"""districts provisioned explicitly: each keeps its time zone

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-14

`ale-sync district add CODE --name ... --timezone ...` provisions a district before its SIS
delivers anything; the time zone (an IANA name, Pacific by default) is where the district's
local dates and times are read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "districts",
        sa.Column("timezone", sa.Text(), nullable=False, server_default="America/Los_Angeles"),
    )


def downgrade() -> None:
    op.drop_column("districts", "timezone")
