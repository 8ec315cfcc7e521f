"""Staff sign-in state kept in the database: each district's identity provider, the server-side
page sessions, and the sign-ins waiting for the provider's answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text, delete, func
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from config.identity_provider import ProviderSettings
from models.base import Base, StaffRole, created_at_column, text_enum


class IdentityProvider(Base):
    """A district's OpenID Connect provider (`ale-sync sso set`). The client secret itself is
    never stored: `client_secret_from` names an environment variable or a file that holds it."""

    __tablename__ = "identity_providers"

    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    issuer: Mapped[str] = mapped_column(Text, nullable=False)
    client_id: Mapped[str] = mapped_column(Text, nullable=False)
    client_secret_from: Mapped[str] = mapped_column(Text, nullable=False)  # env:NAME or file:/path
    scopes: Mapped[str] = mapped_column(Text, nullable=False)
    name_claim: Mapped[str] = mapped_column(Text, nullable=False)
    groups_claim: Mapped[str] = mapped_column(Text, nullable=False)
    # role -> matchers ("group:NAME", "email:ADDRESS", "domain:DOMAIN")
    role_rules: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class StaffSession(Base):
    """A signed-in page session. The cookie carries a random id; only its SHA-256 is kept, so a
    copy of this table opens nothing. Deleting the row ends the session at the next request."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # the role the session was opened with: a session whose staff member's role changed has ended
    role: Mapped[StaffRole] = mapped_column(text_enum(StaffRole, "staff_role"), nullable=False)
    csrf_token: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = created_at_column()


class SignInAttempt(Base):
    """A sign-in sent to the district's provider and not yet answered: the PKCE verifier and the
    nonce, found by the state's hash and taken exactly once; bound to the browser that started it."""

    __tablename__ = "sign_in_attempts"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), nullable=False)
    browser_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    nonce: Mapped[str] = mapped_column(Text, nullable=False)
    code_verifier: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


PROVIDER_FIELDS = ("issuer", "client_id", "client_secret_from", "scopes", "name_claim", "groups_claim")


def provider_settings(session: Session, district_id: str) -> ProviderSettings | None:
    """The district's identity provider, or None when its staff sign in with tokens."""
    row = session.get(IdentityProvider, district_id)
    if row is None:
        return None
    values = {field: getattr(row, field) for field in PROVIDER_FIELDS}
    return ProviderSettings(district=district_id, role_rules=row.role_rules, **values)


def save_provider(session: Session, provider: ProviderSettings) -> None:
    values = {field: getattr(provider, field) for field in PROVIDER_FIELDS}
    values["role_rules"] = provider.role_rules
    session.execute(
        insert(IdentityProvider)
        .values(district_id=provider.district, **values)
        .on_conflict_do_update(index_elements=["district_id"], set_={**values, "updated_at": func.now()})
    )


def remove_provider(session: Session, district_id: str) -> bool:
    removed = session.execute(delete(IdentityProvider).where(IdentityProvider.district_id == district_id))
    return bool(removed.rowcount)  # type: ignore[attr-defined]
