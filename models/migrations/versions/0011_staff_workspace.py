"""the staff workspace: Student Selector indexes that serve a page in name order, recent links

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-10

The Student Selector reads one page of active students in name order straight from an index,
whatever the size of a surname block: `(district_id, search_last, search_first, id)` over active
records replaces both the selector's surname-only index (which left a block of 80,000 Nguyens to
be sorted for every page) and name search's `(district_id, search_last, search_first)` over SIS
records (matching only ever looks at active ones), so an SIS row still enters two name indexes;
`(district_id, search_first, search_last, id)` serves a search by given name alone. Link Student
to ALE reads each state of an unlinked record (no id / with an id) in creation order, and counts
it, from an index of its own, and looks the names typed in its search box up among the unlinked
records only (these four indexes hold created records only, so they cost the SIS ingest
nothing); its "Recently linked" reads the district's links of the last 30 days newest first from
`(district_id, linked_at)`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")
UNLINKED = "origin = 'created' AND status = 'active'"
UNLINKED_NAMES = {
    "ix_students_unlinked_names": ["district_id", "search_last", "search_first"],
    "ix_students_unlinked_given": ["district_id", "search_first"],
}
UNLINKED_STATES = {
    "ix_students_unlinked_no_id": "origin = 'created' AND status = 'active' AND ssid IS NULL AND other_id IS NULL",
    "ix_students_unlinked_with_id": (
        "origin = 'created' AND status = 'active' AND (ssid IS NOT NULL OR other_id IS NOT NULL)"
    ),
}


def upgrade() -> None:
    op.drop_index("ix_students_selector_last", table_name="students")
    op.drop_index("ix_students_name_search", table_name="students")
    op.create_index(
        "ix_students_selector_names",
        "students",
        ["district_id", "search_last", "search_first", "id"],
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "ix_students_selector_given",
        "students",
        ["district_id", "search_first", "search_last", "id"],
        postgresql_where=ACTIVE,
    )
    op.create_index("ix_link_audit_district_linked_at", "link_audit", ["district_id", "linked_at"])
    for name, where in UNLINKED_STATES.items():
        op.create_index(name, "students", ["district_id", "created_at", "id"], postgresql_where=sa.text(where))
    for name, columns in UNLINKED_NAMES.items():
        op.create_index(name, "students", columns, postgresql_where=sa.text(UNLINKED))


def downgrade() -> None:
    for name in (*UNLINKED_STATES, *UNLINKED_NAMES):
        op.drop_index(name, table_name="students")
    op.drop_index("ix_link_audit_district_linked_at", table_name="link_audit")
    op.drop_index("ix_students_selector_given", table_name="students")
    op.drop_index("ix_students_selector_names", table_name="students")
    op.create_index(
        "ix_students_selector_last", "students", ["district_id", "search_last"], postgresql_where=ACTIVE
    )
    op.create_index(
        "ix_students_name_search",
        "students",
        ["district_id", "search_last", "search_first"],
        postgresql_where=sa.text("origin = 'sis'"),
    )
