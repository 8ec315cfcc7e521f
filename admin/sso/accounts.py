"""The Staff row of a person signed in through their district's provider: made at the first
sign-in, keyed by (district, issuer, subject); name and role refreshed from the rules each time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from admin.sessions import end_sessions_of
from admin.sso.refusals import SignInRefused
from admin.sso.role_mapping import display_name
from config.identity_provider import ProviderSettings
from models import Staff, StaffRole


def staff_for_identity(
    session: Session, provider: ProviderSettings, claims: dict[str, Any], role: StaffRole
) -> Staff:
    """The person's staff account, role and name brought up to date; a revoked one is refused."""
    key = {"district_id": provider.district, "issuer": provider.issuer, "subject": str(claims["sub"])}
    name = display_name(provider, claims)
    # two first sign-ins at once both insert; the unique key keeps one and both read it back
    session.execute(
        insert(Staff)
        .values(**key, name=name, role=role)
        .on_conflict_do_nothing(index_elements=["district_id", "issuer", "subject"])
    )
    staff = session.execute(select(Staff).filter_by(**key).with_for_update()).scalar_one()
    if staff.revoked_at is not None:
        raise SignInRefused("revoked", staff.id)
    if staff.role != role:
        end_sessions_of(session, staff.id)  # a role change ends every session opened with the old one
        staff.role = role
    staff.name = name
    return staff
