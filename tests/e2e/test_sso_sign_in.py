"""Staff sign in through their district's OpenID Connect provider: a real provider process, the
admin server under uvicorn, and an HTTP client following the real redirects between them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.sso.discovery import forget_providers, provider_metadata
from admin.sso.id_token import verify_id_token
from admin.sso.refusals import SignInRefused
from models import Staff, StaffRole, StaffSession
from tests.admin_support import World, build_world, running_admin
from tests.oidc_support import (
    CLIENT_ID,
    SECRET,
    SECRET_VARIABLE,
    add_person,
    configure_district,
    district_provider,
    running_provider,
)

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with running_provider() as url:
        yield url


@pytest.fixture
def world(redis_client: object, committed_engine: Engine) -> World:
    return build_world(committed_engine)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "admin.log"


@pytest.fixture
def admin(
    world: World, issuer: str, database_url: str, redis_url: str, log_path: Path, committed_engine: Engine
) -> Iterator[str]:
    configure_district(committed_engine, district_provider(issuer))
    with running_admin(database_url, redis_url, log_path, **{SECRET_VARIABLE: SECRET}) as base:
        yield base


def sign_in_at_provider(client: httpx.Client, admin: str, subject: str) -> httpx.Response:
    """Start at the district's login, follow to the provider, sign in as `subject`, follow back."""
    form = client.get(f"{admin}/login/sso?district=17001", follow_redirects=True)
    assert form.status_code == 200
    assert "Authorize" in form.text  # the provider's own sign-in page
    return client.post(str(form.url), data={"sub": subject}, follow_redirects=True)


def denied_reasons(log_path: Path) -> list[str]:
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    return [line["reason"] for line in lines if line["event"] == "admin_access_denied"]


def test_a_registrar_signs_in_with_the_district_account_and_gets_an_account_of_their_own(
    admin: str, issuer: str, committed_engine: Engine
) -> None:
    add_person(issuer, "rita-77", name="Rita Registrar", groups=["Staff", "ALE Registrars"])
    with httpx.Client() as client:
        start = client.get(f"{admin}/login/sso?district=17001")
        asked = parse_qs(urlsplit(start.headers["location"]).query)
        assert asked["code_challenge_method"] == ["S256"]
        assert len(asked["code_challenge"][0]) == 43 and "code_verifier" not in asked
        assert {"state", "nonce", "client_id", "redirect_uri"} <= set(asked)
        assert asked["redirect_uri"] == [f"{admin}/login/sso/callback"]
        done = sign_in_at_provider(client, admin, "rita-77")
        assert done.status_code == 200
        assert '<meta http-equiv="refresh" content="0;url=/">' in done.text
        table = client.get(f"{admin}/", follow_redirects=True)
    assert table.url.path == "/link"
    assert "Rita Registrar" in table.text
    with Session(committed_engine) as session:
        staff = session.execute(select(Staff).where(Staff.subject == "rita-77")).scalar_one()
    assert (staff.district_id, staff.issuer, staff.role, staff.token_hash) == (
        "17001",
        issuer,
        StaffRole.REGISTRAR,
        None,
    )


def test_the_role_follows_the_provider_groups_at_each_sign_in_and_a_change_ends_old_sessions(
    admin: str, issuer: str, committed_engine: Engine
) -> None:
    add_person(issuer, "sam-5", name="Sam", groups=["Front Office"])
    with httpx.Client() as first:
        sign_in_at_provider(first, admin, "sam-5")
        assert first.get(f"{admin}/link").status_code == 200
        add_person(issuer, "sam-5", name="Sam", email="sam@teachers.district.example")
        with httpx.Client() as second:
            sign_in_at_provider(second, admin, "sam-5")
            assert second.get(f"{admin}/link").status_code == 403  # a teacher now
            assert second.get(f"{admin}/selector").status_code == 200
        assert first.get(f"{admin}/selector").headers["location"] == "/login?notice=session_ended"
    with Session(committed_engine) as session:
        roles = session.execute(select(Staff.role).where(Staff.subject == "sam-5")).scalars().all()
    assert roles == [StaffRole.TEACHER]  # the same account, its role updated


def test_a_person_no_rule_maps_gets_no_access_and_no_account(
    admin: str, issuer: str, committed_engine: Engine, log_path: Path
) -> None:
    add_person(issuer, "bob-9", name="Bob Bus", groups=["Transport"], email="bob@district.example")
    with httpx.Client() as client:
        refused = sign_in_at_provider(client, admin, "bob-9")
        assert refused.status_code == 403
        assert "not given access to ALE student records" in refused.text
        assert "ale_session" not in client.cookies
    with Session(committed_engine) as session:
        assert session.execute(select(Staff).where(Staff.subject == "bob-9")).first() is None
    assert "not_mapped" in denied_reasons(log_path)


def test_a_replayed_state_or_an_answer_in_another_browser_is_refused(
    admin: str, issuer: str, committed_engine: Engine, log_path: Path
) -> None:
    add_person(issuer, "rita-77", name="Rita", groups=["ALE Registrars"])
    with httpx.Client() as client:
        form = client.get(f"{admin}/login/sso?district=17001", follow_redirects=True)
        back = client.post(str(form.url), data={"sub": "rita-77"})
        callback = back.headers["location"]
        assert client.get(callback).status_code == 200
        replay = client.get(callback)
    assert replay.status_code == 401
    assert "did not finish" in replay.text
    with httpx.Client() as attacker, httpx.Client() as victim:
        form = attacker.get(f"{admin}/login/sso?district=17001", follow_redirects=True)
        answer = attacker.post(str(form.url), data={"sub": "rita-77"}).headers["location"]
        assert victim.get(answer).status_code == 401  # the answer is bound to the browser that asked
    with Session(committed_engine) as session:
        assert len(session.execute(select(StaffSession)).all()) == 1
    assert denied_reasons(log_path) == ["unknown_or_used_state", "other_browser"]


def test_an_expired_id_token_is_refused(
    world: World, database_url: str, redis_url: str, committed_engine: Engine, tmp_path: Path
) -> None:
    log_path = tmp_path / "admin.log"
    with running_provider(token_max_age_seconds=-300) as stale_issuer:
        configure_district(committed_engine, district_provider(stale_issuer))
        add_person(stale_issuer, "rita-77", name="Rita", groups=["ALE Registrars"])
        secret = {SECRET_VARIABLE: SECRET}
        with running_admin(database_url, redis_url, log_path, **secret) as base, httpx.Client() as client:
            refused = sign_in_at_provider(client, base, "rita-77")
    assert refused.status_code == 401
    assert denied_reasons(log_path) == ["id_token_expired"]


def real_id_token(issuer: str, client_id: str, nonce: str) -> str:
    """An ID token the provider really issues to another application (`client_id`)."""
    redirect = "http://127.0.0.1/elsewhere"
    query = {
        "client_id": client_id,
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": "openid email profile",
        "state": "s",
        "nonce": nonce,
    }
    with httpx.Client() as client:
        answer = client.post(f"{issuer}/oauth2/authorize", params=query, data={"sub": "rita-77"})
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        token = client.post(
            f"{issuer}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(client_id, "another-secret"),
        )
    return str(token.json()["id_token"])


def test_an_id_token_for_another_application_or_another_sign_in_is_refused(issuer: str) -> None:
    add_person(issuer, "rita-77", name="Rita", groups=["ALE Registrars"])
    forget_providers()
    ours = district_provider(issuer)
    metadata = provider_metadata(issuer)
    theirs = real_id_token(issuer, "another-school-app", nonce="n-1")
    with pytest.raises(SignInRefused) as wrong_audience:
        verify_id_token(theirs, ours, metadata, "n-1", None)
    assert wrong_audience.value.reason == "id_token_audience"
    ours_token = real_id_token(issuer, CLIENT_ID, nonce="n-2")
    assert verify_id_token(ours_token, ours, metadata, "n-2", None)["sub"] == "rita-77"
    with pytest.raises(SignInRefused) as other_nonce:
        verify_id_token(ours_token, ours, metadata, "n-3", None)
    assert other_nonce.value.reason == "id_token_nonce"
    forged = ours_token[:-8] + ("A" * 8 if not ours_token.endswith("A" * 8) else "B" * 8)
    with pytest.raises(SignInRefused) as bad_signature:
        verify_id_token(forged, ours, metadata, "n-2", None)
    assert bad_signature.value.reason == "id_token_invalid"


def test_the_login_page_of_a_district_with_a_provider_offers_only_the_district_account(admin: str) -> None:
    page = httpx.get(f"{admin}/login?district=17001")
    assert 'href="/login/sso?district=17001"' in page.text
    assert 'name="token"' not in page.text
    other = httpx.get(f"{admin}/login?district=27010")  # no provider: the token form
    assert 'name="token"' in other.text
