"""matching: name search keys and indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Blocking keys for name search as generated columns (Postgres computes them on every write,
set-based ingest included) and one partial index over SIS records. The expressions are
frozen copies of matching/search_keys.py at this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_LAST = "regexp_replace(lower(CASE WHEN octet_length(last_name) = char_length(last_name) THEN last_name ELSE translate(last_name, 'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľŁłŃńŅņŇňŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ', 'aaaaaaaceeeeiiiidnoooooouuuuytsaaaaaaaceeeeiiiidnoooooouuuuytyaaaaaaccccccccddddeeeeeeeeeegggggggghhiiiiiiiiiijjkkllllllllnnnnnnoooooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzs') END), '[^a-z]+', '', 'g')"
SEARCH_FIRST = "regexp_replace(lower(CASE WHEN octet_length(first_name) = char_length(first_name) THEN first_name ELSE translate(first_name, 'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľŁłŃńŅņŇňŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ', 'aaaaaaaceeeeiiiidnoooooouuuuytsaaaaaaaceeeeiiiidnoooooouuuuytyaaaaaaccccccccddddeeeeeeeeeegggggggghhiiiiiiiiiijjkkllllllllnnnnnnoooooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzs') END), '[^a-z]+', '', 'g')"


def _key_column(name: str, expression: str) -> "sa.Column[str]":
    return sa.Column(name, sa.Text(collation="C"), sa.Computed(expression, persisted=True), nullable=True)


def upgrade() -> None:
    op.add_column("students", _key_column("search_last", SEARCH_LAST))
    op.add_column("students", _key_column("search_first", SEARCH_FIRST))
    op.create_index(
        "ix_students_name_search",
        "students",
        ["district_id", "search_last", "search_first"],
        postgresql_where=sa.text("origin = 'sis'"),
    )


def downgrade() -> None:
    op.drop_index("ix_students_name_search", table_name="students")
    op.drop_column("students", "search_first")
    op.drop_column("students", "search_last")
