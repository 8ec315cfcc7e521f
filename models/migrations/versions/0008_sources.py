"""sources: where each batch came from, its archived delivery, replays, and per-source state

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

`batches` gains `provenance` (source kind, file or API read: watermark, pages, counts),
`archive_path` (the delivery as received, compressed, content-addressed) and `replay_of` (a
replay of an archived delivery is a second batch of the same content, so the ledger's
uniqueness of (district, checksum) now holds for original deliveries only).
`source_states` keeps each API source's watermark and a full read asked for by ops;
`source_seen_files` the SFTP files already downloaded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("batches", sa.Column("provenance", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("batches", sa.Column("archive_path", sa.Text(), nullable=True))
    op.add_column("batches", sa.Column("replay_of", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_batches_replay_of_batches"), "batches", "batches", ["replay_of"], ["id"]
    )
    op.drop_constraint("uq_batches_district_id_checksum", "batches", type_="unique")
    op.create_index(
        "uq_batches_district_id_checksum",
        "batches",
        ["district_id", "checksum"],
        unique=True,
        postgresql_where=sa.text("replay_of IS NULL"),
    )
    op.create_table(
        "source_states",
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("watermark_batch_id", sa.BigInteger(), nullable=True),
        sa.Column("full_read_requested", sa.Boolean(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_source_states_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("district_id", "source_name", name=op.f("pk_source_states")),
    )
    op.create_table(
        "source_seen_files",
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("modified", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_source_seen_files_district_id_districts")
        ),
        sa.PrimaryKeyConstraint(
            "district_id", "source_name", "file_name", "size", "modified", name=op.f("pk_source_seen_files")
        ),
    )


def downgrade() -> None:
    op.drop_table("source_seen_files")
    op.drop_table("source_states")
    op.drop_index("uq_batches_district_id_checksum", table_name="batches")
    op.execute("DELETE FROM batches WHERE replay_of IS NOT NULL")
    op.create_unique_constraint("uq_batches_district_id_checksum", "batches", ["district_id", "checksum"])
    op.drop_constraint(op.f("fk_batches_replay_of_batches"), "batches", type_="foreignkey")
    op.drop_column("batches", "replay_of")
    op.drop_column("batches", "archive_path")
    op.drop_column("batches", "provenance")
