"""name search keys spelt from decomposed letters

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

The generated key columns fold any Latin letter that decomposes (Unicode NFKD), not only the
accented letters up to U+017F: Nguyễn, Ștefan or Đặng now get the keys nguyen, stefan and
dang (they lost the letters before), and the fold no longer walks a 190-letter map for every
accented name, which roughly halves what the columns cost an insert. Postgres cannot change a
generated column's expression in place, so the columns (and their two indexes) are rebuilt:
on a large table this rewrites it once. The expressions are frozen copies of
matching/search_keys.py at this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_LAST = "regexp_replace(CASE WHEN octet_length(last_name) = char_length(last_name) THEN lower(last_name) ELSE translate(normalize(lower(last_name), NFKD), 'øđłßæœþðı', 'odlsaotdi') END, '[^a-z]+', '', 'g')"
SEARCH_FIRST = "regexp_replace(CASE WHEN octet_length(first_name) = char_length(first_name) THEN lower(first_name) ELSE translate(normalize(lower(first_name), NFKD), 'øđłßæœþðı', 'odlsaotdi') END, '[^a-z]+', '', 'g')"

# 0002's expressions, for the downgrade
BEFORE_SEARCH_LAST = "regexp_replace(lower(CASE WHEN octet_length(last_name) = char_length(last_name) THEN last_name ELSE translate(last_name, 'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľŁłŃńŅņŇňŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ', 'aaaaaaaceeeeiiiidnoooooouuuuytsaaaaaaaceeeeiiiidnoooooouuuuytyaaaaaaccccccccddddeeeeeeeeeegggggggghhiiiiiiiiiijjkkllllllllnnnnnnoooooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzs') END), '[^a-z]+', '', 'g')"
BEFORE_SEARCH_FIRST = "regexp_replace(lower(CASE WHEN octet_length(first_name) = char_length(first_name) THEN first_name ELSE translate(first_name, 'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľŁłŃńŅņŇňŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ', 'aaaaaaaceeeeiiiidnoooooouuuuytsaaaaaaaceeeeiiiidnoooooouuuuytyaaaaaaccccccccddddeeeeeeeeeegggggggghhiiiiiiiiiijjkkllllllllnnnnnnoooooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzs') END), '[^a-z]+', '', 'g')"


def _rebuild(search_last: str, search_first: str) -> None:
    op.drop_index("ix_students_selector_last", table_name="students")
    op.drop_index("ix_students_name_search", table_name="students")
    op.drop_column("students", "search_first")
    op.drop_column("students", "search_last")
    for name, expression in (("search_last", search_last), ("search_first", search_first)):
        op.add_column(
            "students",
            sa.Column(name, sa.Text(collation="C"), sa.Computed(expression, persisted=True), nullable=True),
        )
    op.create_index(
        "ix_students_name_search",
        "students",
        ["district_id", "search_last", "search_first"],
        postgresql_where=sa.text("origin = 'sis'"),
    )
    op.create_index(
        "ix_students_selector_last",
        "students",
        ["district_id", "search_last"],
        postgresql_where=sa.text("status = 'active'"),
    )


def upgrade() -> None:
    _rebuild(SEARCH_LAST, SEARCH_FIRST)


def downgrade() -> None:
    _rebuild(BEFORE_SEARCH_LAST, BEFORE_SEARCH_FIRST)
