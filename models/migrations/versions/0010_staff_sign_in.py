"""staff sign-in: district identity providers, server-side sessions, pending sign-ins

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03

Staff sign in to the pages through their district's OpenID Connect provider; an account made at
a first sign-in is keyed by (district, issuer, subject) and has no API token. Page sessions live
in `staff_sessions` (only the hash of the cookie's id), so ending one is a delete. A sign-in sent
to the provider waits in `sign_in_attempts` until its one callback.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _role() -> sa.Enum:
    return sa.Enum(
        "registrar", "secretary", "teacher", name="staff_role", native_enum=False, create_constraint=True, length=32
    )


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.alter_column("staff", "token_hash", existing_type=sa.String(length=64), nullable=True)
    op.add_column("staff", sa.Column("issuer", sa.Text(), nullable=True))
    op.add_column("staff", sa.Column("subject", sa.Text(), nullable=True))
    op.create_unique_constraint(
        op.f("uq_staff_district_id_issuer_subject"), "staff", ["district_id", "issuer", "subject"]
    )
    op.create_check_constraint(op.f("ck_staff_identity_whole"), "staff", "(issuer IS NULL) = (subject IS NULL)")
    op.create_check_constraint(
        op.f("ck_staff_can_sign_in"), "staff", "token_hash IS NOT NULL OR subject IS NOT NULL"
    )
    op.create_table(
        "identity_providers",
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("client_secret_from", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("name_claim", sa.Text(), nullable=False),
        sa.Column("groups_claim", sa.Text(), nullable=False),
        sa.Column("role_rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_identity_providers_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("district_id", name=op.f("pk_identity_providers")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("role", _role(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_sessions_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(op.f("ix_staff_sessions_staff_id"), "staff_sessions", ["staff_id"], unique=False)
    op.create_table(
        "sign_in_attempts",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_sign_in_attempts_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_sign_in_attempts")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
    op.drop_index(op.f("ix_staff_sessions_staff_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("identity_providers")
    # accounts made by a district sign-in keep their audit trail; they get a hash of a token nobody
    # holds (the older schema needs one) and are revoked
    op.execute(
        "UPDATE staff SET token_hash = md5(random()::text) || md5(random()::text),"
        " revoked_at = coalesce(revoked_at, now()) WHERE token_hash IS NULL"
    )
    op.drop_constraint(op.f("ck_staff_can_sign_in"), "staff", type_="check")
    op.drop_constraint(op.f("ck_staff_identity_whole"), "staff", type_="check")
    op.drop_constraint(op.f("uq_staff_district_id_issuer_subject"), "staff", type_="unique")
    op.drop_column("staff", "subject")
    op.drop_column("staff", "issuer")
    op.alter_column("staff", "token_hash", existing_type=sa.String(length=64), nullable=False)
