"""Manual links weighed like automatic ones: refusals known before the confirm page, a pair the
evidence does not corroborate linked only on a second, explicit confirmation (API flag or page
checkbox), and such a link audited as made against the evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.app import app
from matching.core.vocabulary import LinkMethod, Topic
from matching.link import link_created_record
from models import AuditAction, AuditEntry, LinkAudit, OutboxEvent, Student, StudentStatus
from models.db import get_engine
from tests.admin_support import HOME, TestClient, World, add_student
from tests.integration.test_admin_pages import log_in

SSID = "0012345678"


@pytest.fixture
def browser(world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def add(**fields: object) -> int:
    return add_student(get_engine(), HOME, **fields)


def status_of(student_id: int) -> str:
    with Session(get_engine()) as session:
        record = session.get(Student, student_id)
        assert record is not None
        return str(record.status)


def link_audit(created_record_id: int) -> LinkAudit:
    with Session(get_engine()) as session:
        return session.execute(
            select(LinkAudit).where(LinkAudit.created_record_id == created_record_id)
        ).scalar_one()


def test_another_childs_ssid_typed_by_hand_is_refused_naming_the_fields_that_disagree(
    client: TestClient, world: World
) -> None:
    created = add(first_name="Jose", last_name="Okafor")
    add(sis_source_id="s-1", first_name="Nguyen", last_name="Lee", ssid=SSID)
    answer = client.post(
        f"/api/unlinked/{created}/link-by-ssid", json={"ssid": SSID}, headers=world.auth("registrar")
    )
    body = answer.json()
    assert (answer.status_code, body["code"]) == (409, "evidence_disagrees")
    assert body["fields"] == ["given name", "family name"]
    assert "given name, family name" in body["message"] and "Okafor" not in body["message"]
    assert status_of(created) == "active"  # nothing merged


def test_a_link_confirmed_against_the_evidence_is_audited_as_such(client: TestClient, world: World) -> None:
    created = add(first_name="Jose", last_name="Okafor")
    target = add(sis_source_id="s-1", first_name="Nguyen", last_name="Lee", ssid=SSID)
    answer = client.post(
        f"/api/unlinked/{created}/link-by-ssid",
        json={"ssid": SSID, "confirm_mismatch": True},
        headers=world.auth("registrar"),
    )
    assert (answer.status_code, answer.json()["sis_record_id"]) == (200, target)
    audit = link_audit(created)
    assert audit.against_evidence is not None
    assert (audit.against_evidence["fields"], audit.against_evidence["rule"]) == (
        ["given name", "family name"],
        "fields_disagree",
    )
    assert audit.against_evidence["weight"] < 0
    with Session(get_engine()) as session:
        logged = session.execute(
            select(AuditEntry.detail).where(
                AuditEntry.student_id == created, AuditEntry.action == AuditAction.LINK
            )
        ).scalar_one()
        event = session.execute(
            select(OutboxEvent.payload).where(OutboxEvent.topic == Topic.RECORD_LINKED)
        ).scalar_one()
    assert logged is not None and logged["against_evidence"]["fields"] == ["given name", "family name"]
    assert event["against_evidence"] is True
    history = client.get(f"/api/students/{created}/links", headers=world.auth("registrar")).json()
    assert [h["against_evidence"] for h in history] == [["given name", "family name"]]
    recent = client.get("/api/links/recent", headers=world.auth("registrar")).json()["rows"]
    assert [r["against_evidence"] for r in recent] == [["given name", "family name"]]


def test_a_link_the_evidence_corroborates_needs_no_second_confirmation(
    client: TestClient, world: World
) -> None:
    created = add(first_name="Mihcael", last_name="Green")
    target = add(sis_source_id="s-1", first_name="Michael", last_name="Green")
    answer = client.post(
        f"/api/unlinked/{created}/link", json={"sis_record_id": target}, headers=world.auth("registrar")
    )
    assert answer.status_code == 200
    assert link_audit(created).against_evidence is None
    with Session(get_engine()) as session:
        logged = session.execute(
            select(AuditEntry.detail).where(AuditEntry.student_id == created, AuditEntry.action == "link")
        ).scalar_one()
    assert logged is not None and "against_evidence" not in logged


def test_a_sibling_chosen_by_name_needs_the_flag_too(client: TestClient, world: World) -> None:
    created = add(first_name="Noah", last_name="Patel")
    sibling = add(sis_source_id="s-1", first_name="Liam", last_name="Patel")
    answer = client.post(
        f"/api/unlinked/{created}/link", json={"sis_record_id": sibling}, headers=world.auth("registrar")
    )
    assert (answer.status_code, answer.json()["fields"]) == (409, ["given name"])


def test_refusals_are_answered_before_the_confirm_page(browser: TestClient, world: World) -> None:
    csrf = log_in(browser, world.tokens["registrar"])
    created = add(first_name="Ava", last_name="Nguyen")
    gone = add(sis_source_id="s-1", first_name="Ava", last_name="Nguyen", status=StudentStatus.INACTIVE)
    inactive = browser.get(f"/link/{created}/confirm?sis_record_id={gone}")
    assert inactive.status_code == 409 and "no longer active" in inactive.text
    taken = add(sis_source_id="s-2", first_name="Ava", last_name="Nguyen", ssid=SSID)
    first = add(first_name="Ava", last_name="Nguyen")
    with Session(get_engine()) as session, session.begin():
        link_created_record(
            session,
            district_id=HOME,
            created_record_id=first,
            sis_record_id=taken,
            method=LinkMethod.NAME_SEARCH,
        )
    already = browser.get(f"/link/{created}/confirm?sis_record_id={taken}")
    assert already.status_code == 409 and "already has a created record" in already.text
    by_id = browser.post(f"/link/{created}/enter/ssid", data={"value": SSID, "csrf_token": csrf})
    assert by_id.status_code == 409 and "already has a created record" in by_id.text
    add(sis_source_id="s-3", first_name="Ava", last_name="Nguyen", ssid="0099999999", status="inactive")
    old_id = browser.post(f"/link/{created}/enter/ssid", data={"value": "0099999999", "csrf_token": csrf})
    assert old_id.status_code == 409 and "no longer active" in old_id.text


def test_the_confirm_page_lists_the_disagreement_and_links_only_with_the_box_ticked(
    browser: TestClient, world: World
) -> None:
    csrf = log_in(browser, world.tokens["registrar"])
    created = add(first_name="Jose", last_name="Okafor")
    add(sis_source_id="s-1", first_name="Nguyen", last_name="Lee", ssid=SSID)
    preview = browser.post(f"/link/{created}/enter/ssid", data={"value": SSID, "csrf_token": csrf})
    assert preview.status_code == 200
    assert "These fields disagree: <strong>given name, family name</strong>" in preview.text
    assert 'name="confirm_mismatch"' in preview.text
    confirm = {"value": SSID, "confirmed": "true", "csrf_token": csrf}
    unticked = browser.post(f"/link/{created}/enter/ssid", data=confirm)
    assert unticked.status_code == 422 and 'aria-invalid="true"' in unticked.text
    assert status_of(created) == "active"
    ticked = browser.post(f"/link/{created}/enter/ssid", data={**confirm, "confirm_mismatch": "true"})
    assert ticked.status_code == 303
    assert status_of(created) == "merged"
    assert link_audit(created).against_evidence is not None


def test_a_corroborated_pair_shows_no_box_and_links_at_once(browser: TestClient, world: World) -> None:
    csrf = log_in(browser, world.tokens["registrar"])
    created = add(first_name="Ava", last_name="Nguyen")
    target = add(sis_source_id="s-1", first_name="Ava", last_name="Nguyen")
    page = browser.get(f"/link/{created}/confirm?sis_record_id={target}")
    assert page.status_code == 200 and 'name="confirm_mismatch"' not in page.text
    assert "How the two records agree" in page.text
    done = browser.post(f"/link/{created}/confirm", data={"sis_record_id": str(target), "csrf_token": csrf})
    assert done.status_code == 303 and status_of(created) == "merged"
