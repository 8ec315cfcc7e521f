"""suggestion kind possible_sis_match

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

A created record typed without ids may now be suggested the SIS record its names, birth date,
grade and school point at (matching/core/decide.py): the suggestions' kind accepts
`possible_sis_match` beside `possible_ssid_typo`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_suggestions_suggestion_kind"


def _kinds(*kinds: str) -> None:
    op.execute(f"ALTER TABLE suggestions DROP CONSTRAINT {CONSTRAINT}")
    listed = ", ".join(f"'{k}'" for k in kinds)
    op.execute(f"ALTER TABLE suggestions ADD CONSTRAINT {CONSTRAINT} CHECK (kind IN ({listed}))")


def upgrade() -> None:
    _kinds("possible_ssid_typo", "possible_sis_match")


def downgrade() -> None:
    op.execute("DELETE FROM suggestions WHERE kind = 'possible_sis_match'")
    _kinds("possible_ssid_typo")
