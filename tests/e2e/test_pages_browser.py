"""The registrar's whole day in a real Chromium: log in, create, select, plan, find, link by name."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import LearningPlan, Origin, Student
from tests.admin_support import World, add_student, build_world, running_admin

CHROMIUM = Path("/usr/bin/chromium")
# set ALE_SCREENSHOTS to a folder to keep a screenshot of each step there
SHOTS = Path(os.environ["ALE_SCREENSHOTS"]) if os.environ.get("ALE_SCREENSHOTS") else None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium (.ci/run installs it)"
    ),
]


def shot(page: Page, name: str) -> None:
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.fixture
def world(redis_url: str, committed_engine: Engine) -> World:
    return build_world(committed_engine)


@pytest.fixture
def base_url(world: World, database_url: str, redis_url: str) -> Iterator[str]:
    with running_admin(database_url, redis_url) as base:
        yield base


@pytest.fixture
def page(base_url: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_a_registrar_creates_plans_and_links_a_student_by_name(
    page: Page, world: World, committed_engine: Engine
) -> None:
    sis_id = add_student(
        committed_engine,
        sis_source_id="stu-1",
        first_name="Ava",
        last_name="Nguyen",
        ssid="0012347890",
        birth_date=date(2020, 5, 1),
        grade="K",
        school_id="sch-1",
    )
    add_student(committed_engine, sis_source_id="stu-2", first_name="Avery", last_name="Nguen", grade="2")

    # log in by pasting the token
    page.goto("/login?district=17001")
    page.get_by_label("Staff token").fill(world.tokens["registrar"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Link Student to ALE")).to_be_visible()

    # Create Student for ALE: names, and the birth date, grade and school that tell namesakes apart
    page.get_by_role("link", name="Create Student for ALE").click()
    page.get_by_label("First name").fill("Ava")
    page.get_by_label("Last name").fill("Nguyen")
    page.get_by_label("Birth date").fill("2020-05-01")
    page.get_by_label("Grade").select_option(label="Kindergarten")
    page.get_by_label("School").select_option(label="Maple Elementary")
    page.get_by_role("button", name="Create student").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists in your district")  # the SIS Ava Nguyen
    page.get_by_role("button", name="Create anyway: it is a different student").click()
    expect(page.get_by_role("status")).to_contain_text("Ava Nguyen was saved")
    shot(page, "1-create.png")

    # Student Selector: find the created record and initiate its plan
    page.get_by_role("link", name="Student Selector").click()
    page.get_by_label("Student name").fill("nguyen")
    page.keyboard.press("Enter")
    created_row = page.get_by_role("row").filter(has_text="Created for ALE")
    expect(created_row).to_contain_text("Nguyen, Ava")
    created_row.get_by_role("link", name="Initiate Learning Plan").click()
    page.get_by_role("button", name=re.compile("Yes, start the")).click()
    expect(page.get_by_role("status")).to_contain_text("was started")
    shot(page, "2-selector.png")

    # Link Student to ALE: the row, its action menu opened from the keyboard, search by name
    page.get_by_role("link", name="Link Student to ALE").click()
    row = page.get_by_role("row").filter(has_text="Nguyen, Ava")
    expect(row).to_contain_text("Rita Registrar")
    expect(row).to_contain_text("Has a plan")
    row.get_by_text("More").focus()
    page.keyboard.press("Enter")
    expect(row.get_by_role("link", name="Enter SSID")).to_be_focused()
    shot(page, "3-link-table.png")
    page.keyboard.press("Escape")
    row.get_by_role("link", name="Search by name for Ava Nguyen").click()

    candidate = page.get_by_role("row").filter(has_text="Nguyen, Ava")
    expect(candidate).to_contain_text("******7890")
    expect(candidate).to_contain_text("Maple Elementary")
    # each field against the created record: names, birth date, grade and school all equal
    expect(candidate.locator(".tag.agree.equal")).to_have_count(5)
    shot(page, "4-search.png")
    candidate.get_by_role("link", name=re.compile("Link to Ava Nguyen")).click()

    # the confirmation before the permanent merge
    expect(page.get_by_role("heading", name="Link these records permanently?")).to_be_visible()
    shot(page, "5-confirm.png")
    page.get_by_role("button", name="Yes, link permanently").click()
    expect(page.get_by_role("status")).to_contain_text("merged for good")
    expect(page.get_by_text("Nothing needs a person")).to_be_visible()
    shot(page, "6-linked.png")

    # the plan now belongs to the SIS student, and the selector shows only the SIS record
    with Session(committed_engine) as session:
        owners = session.execute(select(LearningPlan.student_id)).scalars().all()
        created = session.execute(select(Student).where(Student.origin == Origin.CREATED)).scalar_one()
    assert owners == [sis_id]
    assert created.merged_into_id == sis_id
    page.get_by_role("link", name="Student Selector").click()
    page.get_by_label("Student name").fill("ava nguyen")
    page.keyboard.press("Enter")
    rows = page.get_by_role("row").filter(has_text="Nguyen, Ava")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(re.compile(r"Has the \d{4}-\d\d plan"))
    expect(rows).to_contain_text("SIS")
