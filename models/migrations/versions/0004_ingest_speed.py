"""ingest speed: students.last_batch_id without a foreign key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

`last_batch_id` only tells which batch last wrote a record (batches are never deleted).
Its foreign key cost a lookup and a row lock on `batches` for every student row a batch
inserts or updates, about a sixth of a fresh load's insert.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("fk_students_last_batch_id_batches", "students", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        "fk_students_last_batch_id_batches", "students", "batches", ["last_batch_id"], ["id"]
    )
