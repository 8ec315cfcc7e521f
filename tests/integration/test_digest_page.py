"""The /digest page: staff stop and resume their own daily e-mail; teachers get none to manage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from admin.app import app
from models import Staff
from models.db import get_engine, transaction
from tests.admin_support import TestClient, World
from tests.integration.test_admin_pages import CSRF, log_in


@pytest.fixture
def browser(world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def opted_out(staff_id: int) -> bool:
    with transaction(get_engine()) as session:
        return session.scalar(select(Staff.digest_opted_out_at).where(Staff.id == staff_id)) is not None


def test_a_registrar_stops_the_daily_email_and_resumes_it(browser: TestClient, world: World) -> None:
    log_in(browser, world.tokens["registrar"])
    assert 'href="/digest"' in browser.get("/link").text  # every page of theirs links to it
    page = browser.get("/digest")
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    assert "You receive the daily e-mail." in page.text

    stopped = browser.post("/digest", data={"csrf_token": csrf, "receive": "false"})

    assert stopped.status_code == 200
    assert "You do not receive the daily e-mail." in stopped.text
    assert opted_out(world.staff_ids["registrar"])
    assert not opted_out(world.staff_ids["secretary"])  # only the caller's own choice changes
    browser.post("/digest", data={"csrf_token": csrf, "receive": "true"})
    assert not opted_out(world.staff_ids["registrar"])


def test_the_choice_needs_the_form_token(browser: TestClient, world: World) -> None:
    log_in(browser, world.tokens["secretary"])

    refused = browser.post("/digest", data={"csrf_token": "forged", "receive": "false"})

    assert refused.status_code == 403
    assert not opted_out(world.staff_ids["secretary"])


def test_a_teacher_gets_no_digest_page(browser: TestClient, world: World) -> None:
    log_in(browser, world.tokens["teacher"])

    assert browser.get("/digest").status_code == 403
