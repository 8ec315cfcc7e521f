"""The staff pages over HTTP: login cookie, CSRF on every form, roles, and the page flows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.app import app
from admin.session_secret import forget_cached_secret, session_secret
from matching.district_pass import match_district
from models import (
    AppSecret,
    AuditAction,
    AuditEntry,
    DismissedSuggestion,
    LearningPlan,
    Student,
    SuggestionRow,
)
from models.db import get_engine, transaction
from tests.admin_support import TestClient, World, add_plan, add_student

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def browser(world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def log_in(client: TestClient, token: str) -> str:
    """Sign in through the login form; returns the session's CSRF token from the next page."""
    form = client.get("/login?district=17001")
    answer = client.post("/login", data={"token": token, "csrf_token": CSRF.search(form.text).group(1)})  # type: ignore[union-attr]
    assert answer.status_code == 303
    page = client.get(answer.headers["location"], follow_redirects=True)
    return CSRF.search(page.text).group(1)  # type: ignore[union-attr]


def count(model: type) -> int:
    with Session(get_engine()) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_page_without_a_session_sends_the_visitor_to_the_login_form(browser: TestClient) -> None:
    answer = browser.get("/link")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")


def test_login_sets_a_secure_httponly_samesite_session_cookie(browser: TestClient, world: World) -> None:
    form = browser.get("/login?district=17001")
    answer = browser.post(
        "/login",
        data={"token": world.tokens["registrar"], "csrf_token": CSRF.search(form.text).group(1)},  # type: ignore[union-attr]
    )
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("ale_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict"} <= flags
    assert world.tokens["registrar"] not in cookie


def test_login_refuses_a_wrong_token_and_a_missing_form_token(browser: TestClient, world: World) -> None:
    form = browser.get("/login?district=17001")
    csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    wrong = browser.post("/login", data={"token": "nope", "csrf_token": csrf})
    assert wrong.status_code == 401
    assert "not valid" in wrong.text
    browser.cookies.clear()
    forged = browser.post("/login", data={"token": world.tokens["registrar"], "csrf_token": csrf})
    assert forged.status_code == 403
    assert "ale_session" not in forged.headers.get("set-cookie", "")


def test_a_form_post_without_the_sessions_csrf_token_changes_nothing(
    browser: TestClient, world: World
) -> None:
    log_in(browser, world.tokens["registrar"])
    answer = browser.post(
        "/students/new", data={"first_name": "Ava", "last_name": "Nguyen", "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert count(Student) == 0
    missing = browser.post("/students/new", data={"first_name": "Ava", "last_name": "Nguyen"})
    assert missing.status_code == 422
    assert count(Student) == 0


def test_a_registrar_creates_a_student_on_the_create_page(browser: TestClient, world: World) -> None:
    csrf = log_in(browser, world.tokens["registrar"])
    page = browser.post(
        "/students/new",
        data={"first_name": "Ava", "last_name": "Nguyen", "ssid": "", "other_id": "", "csrf_token": csrf},
    )
    assert page.status_code == 303  # post/redirect/get: a reload of the next page creates nothing
    saved = browser.get(page.headers["location"])
    assert "Ava Nguyen</strong> was saved" in saved.text
    assert "Start a learning plan for this student" in saved.text
    refused = browser.post(
        "/students/new", data={"first_name": "Ava", "last_name": "", "ssid": "12", "csrf_token": csrf}
    )
    assert refused.status_code == 422
    assert (
        'id="last_name-error"><span class="sr-only">Error: </span>Enter the student&#39;s last name.'
        in refused.text
    )
    assert 'aria-describedby="ssid-hint ssid-error"' in refused.text
    assert 'value="Ava"' in refused.text  # what was typed is kept for correcting
    assert 'value="12"' in refused.text
    assert re.search(r'<input id="last_name"[^>]*autofocus', refused.text)  # the first failing field
    assert not re.search(r'<input id="first_name"[^>]*autofocus', refused.text)
    assert count(Student) == 1


def test_a_teacher_sees_the_selector_only_and_initiates_a_plan(browser: TestClient, world: World) -> None:
    created = add_student(get_engine(), first_name="Kim", last_name="Lee")
    csrf = log_in(browser, world.tokens["teacher"])
    assert browser.get("/link").status_code == 403
    assert browser.get("/students/new").status_code == 403
    selector = browser.get("/selector")
    assert "Link Student to ALE" not in selector.text
    found = browser.post("/selector", data={"query": "lee", "csrf_token": csrf})
    assert "Lee, Kim" in found.text
    assert "Created for ALE" in found.text
    confirm = browser.get(f"/students/{created}/plan")
    assert "learning plan for Kim Lee?" in confirm.text
    assert count(LearningPlan) == 0  # nothing started before the confirmation
    started = browser.post(f"/students/{created}/plan", data={"csrf_token": csrf})
    assert started.headers["location"] == f"/students/{created}?done=plan_started"
    assert "learning plan for Kim Lee was started" in browser.get(started.headers["location"]).text
    again = browser.post("/selector", data={"query": "lee", "csrf_token": csrf})
    assert "Has the " in again.text
    assert count(LearningPlan) == 1


def test_the_link_table_lists_records_with_the_row_action_menu(browser: TestClient, world: World) -> None:
    created = add_student(get_engine(), first_name="Kim", last_name="Lee", ssid="0012345678")
    log_in(browser, world.tokens["secretary"])
    assert "Lee, Kim" not in browser.get("/link").text  # it has an id: it needs no person yet
    table = browser.get("/link?state=all").text
    assert "Lee, Kim" in table
    assert "Will link when the SIS sends this student" in table
    assert "******5678" in table
    assert "0012345678" not in table
    for action in ("search", "enter/ssid", "enter/other_id", "ids", "delete"):
        assert f'href="/link/{created}/{action}"' in table


def test_delete_asks_first_then_deletes_and_audits(browser: TestClient, world: World) -> None:
    created = add_student(get_engine(), first_name="Kim", last_name="Lee")
    csrf = log_in(browser, world.tokens["registrar"])
    confirm = browser.get(f"/link/{created}/delete")
    assert "cannot be undone" in confirm.text
    assert count(Student) == 1
    done = browser.post(f"/link/{created}/delete", data={"csrf_token": csrf})
    assert (done.status_code, done.headers["location"]) == (303, "/link?done=deleted")
    assert count(Student) == 0
    with Session(get_engine()) as session:
        action = session.execute(
            select(AuditEntry.action).where(AuditEntry.student_id == created)
        ).scalar_one()
    assert action == AuditAction.DELETE


def test_delete_of_a_record_with_a_plan_is_refused_on_the_page(browser: TestClient, world: World) -> None:
    created = add_student(get_engine(), first_name="Kim", last_name="Lee")
    add_plan(get_engine(), created)
    csrf = log_in(browser, world.tokens["registrar"])
    assert "cannot be deleted" in browser.get(f"/link/{created}/delete").text
    refused = browser.post(f"/link/{created}/delete", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert count(Student) == 1


def test_sign_out_ends_the_session(browser: TestClient, world: World) -> None:
    csrf = log_in(browser, world.tokens["registrar"])
    assert browser.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert browser.get("/link").headers["location"] == "/login"


def test_entering_an_ssid_shows_the_sis_student_before_the_permanent_merge(
    browser: TestClient, world: World
) -> None:
    target = add_student(
        get_engine(), sis_source_id="s-1", first_name="Ava", last_name="Nguyen", ssid="0012345678", grade="K"
    )
    created = add_student(get_engine(), first_name="Ava", last_name="Nguyen")
    csrf = log_in(browser, world.tokens["registrar"])
    unknown = browser.post(f"/link/{created}/enter/ssid", data={"value": "0099999999", "csrf_token": csrf})
    assert unknown.status_code == 404
    assert "No active SIS student of your district has that id" in unknown.text
    assert 'value="0099999999"' in unknown.text  # kept for correcting
    preview = browser.post(f"/link/{created}/enter/ssid", data={"value": "0012345678", "csrf_token": csrf})
    assert "Link these records permanently?" in preview.text
    assert "******5678" in preview.text
    assert student_status(created) == "active"  # nothing merged before the confirmation
    done = browser.post(
        f"/link/{created}/enter/ssid", data={"value": "0012345678", "confirmed": "true", "csrf_token": csrf}
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/link?done=linked&record={created}")
    assert student_status(created) == "merged"
    with Session(get_engine()) as session:
        assert session.get(Student, created).merged_into_id == target  # type: ignore[union-attr]


def student_status(student_id: int) -> str:
    with Session(get_engine()) as session:
        return str(session.execute(select(Student.status).where(Student.id == student_id)).scalar_one())


def test_the_held_records_page_names_the_reason_and_the_candidate(browser: TestClient, world: World) -> None:
    add_student(
        get_engine(), sis_source_id="s-1", first_name="Zachary", last_name="Whitfield", ssid="0012345678"
    )
    csrf = log_in(browser, world.tokens["secretary"])
    saved = browser.post(
        "/students/new",
        data={"first_name": "Ava", "last_name": "Nguyen", "ssid": "0012345678", "csrf_token": csrf},
    )
    assert "needs a person to check" in browser.get(saved.headers["location"]).text
    assert browser.get("/held").headers["location"] == "/link?state=held"
    held = browser.get("/link?state=held").text
    assert "Nguyen, Ava" in held
    assert "Needs review" in held
    assert "The SSID belongs to Zachary Whitfield" in held


def test_web_processes_share_one_generated_session_key_kept_in_the_database(world: World) -> None:
    forget_cached_secret()  # this process starts afresh on the emptied tables
    first = session_secret()
    forget_cached_secret()  # as a second web process would start
    assert session_secret() == first
    with Session(get_engine()) as session:
        assert session.execute(select(AppSecret.value)).scalars().all() == [first]
    assert len(first) >= 48


def test_an_out_of_range_or_foreign_id_in_a_page_url_answers_cleanly(
    browser: TestClient, world: World
) -> None:
    theirs = add_student(get_engine(), "27010", first_name="Kim", last_name="Lee")
    log_in(browser, world.tokens["registrar"])
    too_big = browser.get(f"/link/{2**70}/delete")
    assert (too_big.status_code, too_big.headers["content-type"].split(";")[0]) == (422, "text/html")
    assert browser.get("/link/1/confirm?sis_record_id=99999999999999999999").status_code == 422
    foreign = browser.get(f"/link/{theirs}/delete")
    assert foreign.status_code == 404
    assert "Lee" not in foreign.text


def test_created_anyway_is_never_suggested_the_sis_students_the_warning_named(
    browser: TestClient, world: World
) -> None:
    """The registrar was warned of the SIS Ava Nguyen and said "a different student": she is not
    then offered as the new record's possible SIS match, today or after any later batch."""
    warned = add_student(
        get_engine(), sis_source_id="s-1", first_name="Ava", last_name="Nguyen", birth_date=date(2020, 5, 1)
    )
    csrf = log_in(browser, world.tokens["registrar"])
    form = {"first_name": "Ava", "last_name": "Nguyen", "birth_date": "2020-05-01", "csrf_token": csrf}
    warning = browser.post("/students/new", data=form)
    assert "already exists in your district" in warning.text
    checked = re.search(r'name="checked_names" value="([^"]*)"', warning.text)
    assert checked is not None
    saved = browser.post("/students/new", data=form | {"checked_names": checked.group(1)})
    assert saved.status_code == 303, saved.text
    created = int(saved.headers["location"].split("/")[2])

    with transaction(get_engine()) as session:
        match_district(session, "17001")
    with Session(get_engine()) as session:
        dismissed = session.scalars(
            select(DismissedSuggestion.sis_record_id).where(DismissedSuggestion.created_record_id == created)
        ).all()
        suggested = session.scalars(
            select(SuggestionRow.sis_record_id).where(SuggestionRow.created_record_id == created)
        ).all()
    assert (list(dismissed), list(suggested)) == ([warned], [])


def test_a_held_record_says_in_words_which_rule_held_it(browser: TestClient, world: World) -> None:
    """Name mismatches are told apart: a nickname that is another child's name, a sibling's shape."""
    engine = get_engine()
    add_student(engine, sis_source_id="s-1", first_name="William", last_name="Ng", ssid="0012345678")
    add_student(engine, sis_source_id="s-2", first_name="Bill", last_name="Ortiz")  # a Bill of its own
    add_student(engine, sis_source_id="s-3", first_name="Eric", last_name="Ng", ssid="0012345679")
    for first, ssid in (("Bill", "0012345678"), ("Erin", "0012345679")):
        body = {"first_name": first, "last_name": "Ng", "ssid": ssid}
        saved = browser.post("/api/students", json=body, headers=world.auth("registrar"))
        assert (saved.status_code, saved.json()["match"]) == (201, "held"), saved.text
    log_in(browser, world.tokens["registrar"])
    held = " ".join(browser.get("/link?state=held").text.split())
    assert "Bill is also the name of other students in your district: perhaps a twin or sibling" in held
    assert "a student of the same family name with another given name: perhaps a brother or sister" in held
