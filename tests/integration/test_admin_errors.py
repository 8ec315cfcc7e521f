"""Every error answer is ours: the login page's words and status are its own, each error carries
the JSON body or the error page, every security header and no-store; limits answer 429."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis

from admin.app import app
from config.settings import get_settings
from tests.admin_support import HOME, TestClient, World

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000",
}


@pytest.fixture
def browser(world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings changed by the test (rate limits, cookies) are read afresh, and forgotten after."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def sign_in(client: TestClient, token: str) -> str:
    form = client.get(f"/login?district={HOME}")
    client.post("/login", data={"token": token, "csrf_token": CSRF.search(form.text).group(1)})  # type: ignore[union-attr]
    return CSRF.search(client.get("/selector").text).group(1)  # type: ignore[union-attr]


def assert_ours(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    for name, value in HEADERS.items():
        assert headers[name] == value, name
    assert "default-src 'self'" in headers["content-security-policy"]


@pytest.mark.parametrize(
    "query",
    [
        "error=Your+account+is+locked.+Call+555-0100",
        "status=600",
        "status=302",
        "notice=Call+555-0100",
        "notice=bad_token&status=500",
    ],
)
def test_no_query_sets_the_login_pages_words_or_status(browser: TestClient, query: str) -> None:
    page = browser.get(f"/login?{query}")
    assert page.status_code == 200
    assert "555" not in page.text
    assert 'role="alert"' not in page.text
    assert_ours(page)


def test_the_login_page_says_only_what_it_chose(browser: TestClient) -> None:
    assert "You are signed out." in browser.get("/login?notice=signed_out").text
    unknown = browser.get("/login?district=99999")
    assert (unknown.status_code, "No district has that code" in unknown.text) == (404, True)
    too_long = browser.get("/login?district=" + "9" * 40)
    assert too_long.status_code == 422


def test_every_api_error_has_the_json_body_and_every_header(browser: TestClient, world: World) -> None:
    teacher = world.auth("teacher")
    answers = {
        401: browser.get("/api/unlinked"),
        403: browser.get("/api/unlinked", headers=teacher),
        404: browser.get("/api/nowhere", headers=teacher),
        405: browser.put("/api/me", headers=teacher),
        422: browser.get("/api/unlinked?page=0", headers=world.auth("registrar")),
    }
    for status, answer in answers.items():
        assert answer.status_code == status
        assert set(answer.json()) == {"code", "message", "fields"}
        assert_ours(answer)


def test_error_pages_keep_the_navigation_and_the_signed_in_staff_member(
    browser: TestClient, world: World
) -> None:
    sign_in(browser, world.tokens["teacher"])
    for path, status in (("/link", 403), ("/nowhere", 404)):
        page = browser.get(path)
        assert page.status_code == status
        assert page.headers["content-type"].startswith("text/html")
        assert "Tess Teacher" in page.text
        assert ">Sign out</button>" in page.text
        assert 'href="/selector"' in page.text
        assert_ours(page)


def test_no_hsts_when_cookies_are_not_secure(browser: TestClient, limits: pytest.MonkeyPatch) -> None:
    limits.setenv("COOKIE_SECURE", "false")
    get_settings.cache_clear()
    answer = browser.get("/login")
    assert "strict-transport-security" not in answer.headers
    assert answer.headers["cache-control"] == "no-store"


def test_the_stylesheet_is_kept_and_asked_for_again_while_every_page_stays_unstored(
    browser: TestClient, world: World
) -> None:
    sheet = browser.get("/static/admin.css")
    assert sheet.status_code == 200
    assert sheet.headers["cache-control"] == "no-cache"
    assert "pragma" not in sheet.headers
    assert sheet.headers["x-content-type-options"] == "nosniff"
    again = browser.get("/static/admin.css", headers={"If-None-Match": sheet.headers["etag"]})
    assert (again.status_code, again.content, again.headers["cache-control"]) == (304, b"", "no-cache")
    missing = browser.get("/static/nowhere.css")
    assert (missing.status_code, missing.headers["cache-control"]) == (404, "no-store")
    assert browser.get("/login").headers["cache-control"] == "no-store"


def test_wrong_token_sign_ins_are_answered_429_once_the_address_spent_its_limit(
    browser: TestClient, redis_client: redis.Redis
) -> None:
    browser.get(f"/login?district={HOME}")

    def guess(n: int) -> int:  # each answer renews the form's token, as a script would read it
        csrf = str(browser.cookies["ale_login_csrf"])
        return browser.post("/login", data={"token": f"guess-{n}", "csrf_token": csrf}).status_code

    statuses = [guess(n) for n in range(200)]
    assert statuses[:30] == [401] * 30  # the default: 30 a minute per address
    assert set(statuses[30:]) == {429}
    refused = browser.post("/login", data={"token": "guess", "csrf_token": "x"})
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Too many requests" in refused.text
    assert_ours(refused)
    assert redis_client.keys("ale-sync-limits*")  # counted in Redis, where every web process looks


def test_api_requests_are_limited_per_staff_member_and_per_address(
    world: World, limits: pytest.MonkeyPatch
) -> None:
    limits.setenv("RATE_LIMIT_REQUESTS_PER_STAFF", "3/minute")
    limits.setenv("RATE_LIMIT_REQUESTS_PER_ADDRESS", "8/minute")
    get_settings.cache_clear()
    with TestClient(app, base_url="https://testserver") as client:
        rita = [client.get("/api/me", headers=world.auth("registrar")).status_code for _ in range(4)]
        assert rita == [200, 200, 200, 429]
        spent = client.get("/api/me", headers=world.auth("registrar"))
        assert spent.json()["code"] == "rate_limited"
        assert int(spent.headers["retry-after"]) >= 1
        assert_ours(spent)
        # another staff member has their own count, until the address as a whole is spent
        sam = [client.get("/api/me", headers=world.auth("secretary")).status_code for _ in range(4)]
        assert sam == [200, 200, 200, 429]
        anonymous = client.get("/api/me")
        assert anonymous.status_code == 429  # the address's 9th request: refused before any token check
