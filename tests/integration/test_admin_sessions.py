"""Server-side page sessions: they really end (sign out, revoke, role change, idle, lifetime), the
id changes at every sign-in, and only a hash of it is stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from admin.app import app
from admin.sessions import SESSION_COOKIE, digest
from config.identity_provider import ProviderSettings
from models import Staff, StaffRole, StaffSession
from models.db import get_engine
from models.sign_in import save_provider
from tests.admin_support import HOME, TestClient, World

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def browser(world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def other_browser() -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def sign_in(client: TestClient, token: str) -> str:
    """The token form of the district's login page; returns the new session cookie's value."""
    form = client.get(f"/login?district={HOME}")
    answer = client.post("/login", data={"token": token, "csrf_token": CSRF.search(form.text).group(1)})  # type: ignore[union-attr]
    assert answer.status_code == 303
    return str(client.cookies[SESSION_COOKIE])


def opens_pages(session_id: str) -> bool:
    with other_browser() as copy:
        copy.cookies.set(SESSION_COOKIE, session_id)
        return copy.get("/selector").status_code == 200


def age_sessions(**columns: timedelta) -> None:
    now = datetime.now(UTC)
    with Session(get_engine()) as session, session.begin():
        session.execute(update(StaffSession).values({k: now - v for k, v in columns.items()}))


def test_a_copied_cookie_opens_nothing_once_its_owner_signed_out(browser: TestClient, world: World) -> None:
    session_id = sign_in(browser, world.tokens["registrar"])
    assert opens_pages(session_id)
    csrf = CSRF.search(browser.get("/selector").text).group(1)  # type: ignore[union-attr]
    assert (
        browser.post("/logout", data={"csrf_token": csrf}).headers["location"] == "/login?notice=signed_out"
    )
    assert not opens_pages(session_id)
    with other_browser() as copy:
        copy.cookies.set(SESSION_COOKIE, session_id)
        assert copy.get("/link").headers["location"] == "/login?notice=session_ended"


def test_sign_out_ends_the_staff_members_sessions_on_every_browser(browser: TestClient, world: World) -> None:
    with other_browser() as laptop:
        on_laptop = sign_in(laptop, world.tokens["registrar"])
    colleague = sign_in(other_browser(), world.tokens["secretary"])
    sign_in(browser, world.tokens["registrar"])
    csrf = CSRF.search(browser.get("/selector").text).group(1)  # type: ignore[union-attr]
    browser.post("/logout", data={"csrf_token": csrf})
    assert not opens_pages(on_laptop)
    assert opens_pages(colleague)  # another staff member's session is untouched


def test_a_revoked_account_or_a_changed_role_ends_its_sessions_at_the_next_request(
    browser: TestClient, world: World
) -> None:
    revoked = sign_in(browser, world.tokens["secretary"])
    demoted = sign_in(other_browser(), world.tokens["registrar"])
    with Session(get_engine()) as session, session.begin():
        session.execute(
            update(Staff).where(Staff.id == world.staff_ids["secretary"]).values(revoked_at=func.now())
        )
        session.execute(
            update(Staff).where(Staff.id == world.staff_ids["registrar"]).values(role=StaffRole.TEACHER)
        )
    assert not opens_pages(revoked)
    assert not opens_pages(demoted)
    with Session(get_engine()) as session:  # ended for good, not only refused once
        assert session.execute(select(func.count()).select_from(StaffSession)).scalar_one() == 0


def test_a_session_ends_after_the_idle_timeout_and_after_its_lifetime(
    browser: TestClient, world: World
) -> None:
    idle = sign_in(browser, world.tokens["registrar"])
    age_sessions(last_seen_at=timedelta(minutes=31))
    assert not opens_pages(idle)
    busy = sign_in(browser, world.tokens["registrar"])
    age_sessions(created_at=timedelta(hours=8, minutes=1), last_seen_at=timedelta(minutes=0))
    assert not opens_pages(busy)
    fresh = sign_in(browser, world.tokens["registrar"])
    age_sessions(created_at=timedelta(hours=7), last_seen_at=timedelta(minutes=29))
    assert opens_pages(fresh)


def test_the_idle_timeout_and_lifetime_are_settings(
    browser: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings  # noqa: PLC0415 (cleared around the changed environment)

    monkeypatch.setenv("SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "1")
    get_settings.cache_clear()
    try:
        idle = sign_in(browser, world.tokens["registrar"])
        age_sessions(last_seen_at=timedelta(minutes=6))
        assert not opens_pages(idle)
        old = sign_in(browser, world.tokens["registrar"])
        age_sessions(created_at=timedelta(minutes=61))
        assert not opens_pages(old)
    finally:
        get_settings.cache_clear()


def test_signing_in_again_gives_a_new_session_id_and_ends_the_old_one(
    browser: TestClient, world: World
) -> None:
    first = sign_in(browser, world.tokens["registrar"])
    second = sign_in(browser, world.tokens["registrar"])
    assert first != second
    assert not opens_pages(first)
    assert opens_pages(second)


def test_only_a_hash_of_the_session_id_is_stored(browser: TestClient, world: World) -> None:
    session_id = sign_in(browser, world.tokens["teacher"])
    with Session(get_engine()) as session:
        stored = session.execute(select(StaffSession.id_hash, StaffSession.csrf_token)).one()
    assert stored.id_hash == digest(session_id)
    assert session_id not in (stored.id_hash, stored.csrf_token)


def test_a_district_with_an_identity_provider_refuses_the_token_form(
    browser: TestClient, world: World
) -> None:
    with Session(get_engine()) as session, session.begin():
        save_provider(
            session,
            ProviderSettings(
                district=HOME,
                issuer="https://login.district.example",
                client_id="ale-sync",
                client_secret_from="env:ALE_NOT_NEEDED",
                role_rules={"teacher": ["domain:district.example"]},
            ),
        )
    page = browser.get(f"/login?district={HOME}")
    assert "Sign in with your district account" in page.text
    assert 'name="token"' not in page.text
    csrf = str(browser.cookies["ale_login_csrf"])  # a script posting the form straight away
    refused = browser.post("/login", data={"token": world.tokens["registrar"], "csrf_token": csrf})
    assert refused.status_code == 403
    assert "signs in with its own account" in refused.text
    assert SESSION_COOKIE not in browser.cookies
    # the JSON API keeps taking the district's tokens: scripts have no browser to sign in with
    assert browser.get("/api/me", headers=world.auth("registrar")).status_code == 200
