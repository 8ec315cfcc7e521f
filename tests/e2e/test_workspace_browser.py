"""The staff workspace in a real Chromium, at a 1366x900 laptop and a 390x844 phone: each
registrar task driven to its outcome in the database, every page state checked by axe-core
(injected from node_modules; `npm ci` installs it) and for horizontal scrolling.

One browser and one server for the module; each test seeds its own students under names of its
own (one set per screen size), so the tests neither wait on nor disturb each other.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Batch, BatchStatus, LearningPlan, Origin, Student
from tests.admin_support import HOME, World, add_plan, add_student, build_world, running_admin
from tests.conftest import ROOT, truncate_all

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# set ALE_SCREENSHOTS to a folder to keep a screenshot of every page state and axe's results there
SHOTS = Path(os.environ["ALE_SCREENSHOTS"]) if os.environ.get("ALE_SCREENSHOTS") else None
SIZES = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium (.ci/run installs it)"
    ),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: run `npm ci` (.ci/run does)"),
]


@dataclass
class Site:
    base: str
    world: World
    browser: Browser
    engine: Engine
    sessions: dict[str, dict] = field(default_factory=dict)  # role -> a signed-in storage state
    axe_results: list[dict] = field(default_factory=list)

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        answer = httpx.request(method, self.base + path, headers=self.world.auth("registrar"), **kwargs)  # type: ignore[arg-type]
        assert answer.status_code < 400, answer.text
        return answer


@pytest.fixture(scope="module")
def site(database_url: str, redis_url: str, engine: Engine) -> Iterator[Site]:
    truncate_all(engine)
    world = build_world(engine)
    with running_admin(database_url, redis_url) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        site = Site(base, world, browser, engine)
        yield site
        browser.close()
        if SHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            (SHOTS / "axe.json").write_text(json.dumps(site.axe_results, indent=1))
    truncate_all(engine)


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_page(site: Site, size: str, who: str = "registrar", **options: object) -> Page:
    """A fresh tab signed in as WHO (signed in once per module and role), every URL it asks for kept."""
    viewport = options.pop("viewport", SIZES[size])
    # bypass_csp: the pages' CSP (rightly) refuses the inline script that injects axe-core
    context = site.browser.new_context(
        base_url=site.base,
        viewport=viewport,
        bypass_csp=True,
        storage_state=site.sessions.get(who),
        **options,
    )  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.requested = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requested.append(r.url))  # type: ignore[attr-defined]
    if who not in site.sessions:
        page.goto(f"/login?district={HOME}")
        page.get_by_label("Staff token").fill(site.world.tokens[who])
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("h1")).not_to_have_text("Sign in")
        site.sessions[who] = context.storage_state()
    return page


def check(site: Site, page: Page, state: str) -> None:
    """Every page state: no horizontal scrolling, and no axe-core violation of any impact.

    Measured once the page has loaded: a state reached by a click can show its rows before the
    stylesheet has arrived, and the unstyled table is wider than a phone."""
    page.wait_for_load_state("load")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    scrolls = f"{state}: the page scrolls sideways ({width[0]} > {width[1]} px)"
    assert width[0] <= width[1], f"{scrolls}: {wider(page)}"
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
             v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    viewport = page.viewport_size or {}
    site.axe_results.append({"state": state, "width": viewport.get("width"), "violations": violations})
    assert violations == [], f"{state}: {violations}"
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{state}-{viewport.get('width')}.png"), full_page=True)


def wider(page: Page) -> list[str]:
    """The innermost elements reaching past the window's right edge: what makes a page scroll sideways."""
    return page.evaluate(
        """() => {
             const past = e => e.getBoundingClientRect().right > window.innerWidth + 0.5;
             return [...document.querySelectorAll("body *")]
               .filter(e => past(e) && ![...e.children].some(past))
               .slice(0, 5)
               .map(e => `${e.tagName.toLowerCase()}${[...e.classList].map(c => "." + c).join("")}`
                         + ` to ${Math.round(e.getBoundingClientRect().right)} px`);
           }"""
    )


def no_names_in_urls(page: Page, *private: str) -> None:
    for url in page.requested:  # type: ignore[attr-defined]
        for value in private:
            assert value.lower() not in url.lower(), f"{value!r} travelled in a URL"


def records_named(engine: Engine, first: str, last: str, origin: Origin = Origin.CREATED) -> list[Student]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Student).where(
                    Student.first_name == first, Student.last_name == last, Student.origin == origin
                )
            )
        )


def row(page: Page, name: str):
    return page.locator("tbody tr").filter(has_text=name)


# --- Create Student for ALE -> learning plan ---------------------------------------------------


def test_a_registrar_creates_a_student_and_starts_the_plan_in_one_flow(site: Site, size: str) -> None:
    first, last = {"laptop": ("Amara", "Okonjo"), "phone": ("Bea", "Lindqvist")}[size]
    page = open_page(site, size)
    page.goto("/students/new")
    expect(page.get_by_label("First name")).to_be_focused()
    check(site, page, "create-form")

    # errors: next to their fields, the first failing one focused, what was typed kept
    page.get_by_label("First name").fill(first)
    page.get_by_label("SSID").fill("12345")
    page.get_by_role("button", name="Create student").click()
    last_name = page.get_by_label("Last name")
    expect(last_name).to_be_focused()
    expect(last_name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#last_name-error")).to_have_text("Error: Enter the student's last name.")
    assert "last_name-error" in (last_name.get_attribute("aria-describedby") or "")
    ssid = page.get_by_label("SSID")
    expect(ssid).to_have_value("12345")
    expect(page.locator("#ssid-error")).to_contain_text("10 digits")
    assert "ssid-error" in (ssid.get_attribute("aria-describedby") or "")
    expect(page.get_by_label("First name")).to_have_value(first)
    check(site, page, "create-errors")

    # saved: post/redirect/get, so a reload creates nothing more
    last_name.fill(last)
    ssid.fill("")
    page.get_by_role("button", name="Create student").click()
    expect(page.get_by_role("status")).to_contain_text(f"{first} {last} was saved")
    check(site, page, "create-saved")
    page.reload()
    expect(page.get_by_role("status")).to_contain_text(f"{first} {last} was saved")
    [record] = records_named(site.engine, first, last)

    # one click to a confirmation naming the student and the year, one more to start
    page.get_by_role("link", name="Start a learning plan for this student").click()
    expect(page.locator("h1")).to_have_text(
        re.compile(rf"Start the \d{{4}}-\d\d learning plan for {first} {last}\?")
    )
    check(site, page, "plan-confirm")
    page.get_by_role("button", name=re.compile("Yes, start the")).click()
    expect(page.get_by_role("status")).to_contain_text(f"learning plan for {first} {last} was started")
    check(site, page, "student-page")
    with Session(site.engine) as session:
        plans = session.scalars(
            select(LearningPlan.student_id).where(LearningPlan.student_id == record.id)
        ).all()
    assert plans == [record.id]

    # the same name again: a warning with a link to the existing student, then a deliberate save
    page.goto("/students/new")
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last.upper())
    page.get_by_role("button", name="Create student").click()
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("already exists in your district")
    expect(warning.get_by_role("link", name=f"{first} {last}")).to_have_attribute(
        "href", f"/students/{record.id}"
    )
    assert len(records_named(site.engine, first, last)) == 1
    check(site, page, "create-duplicate-warning")
    page.get_by_role("button", name="Create anyway: it is a different student").click()
    expect(page.get_by_role("status")).to_contain_text("was saved")
    assert (
        len(records_named(site.engine, first, last)) + len(records_named(site.engine, first, last.upper()))
        == 2
    )
    no_names_in_urls(page, first, last)
    page.context.close()


# --- Link Student to ALE: states, filters, search, sort -------------------------------------------


@dataclass(frozen=True)
class Cases:
    surname: str
    held_name: int  # an SSID that hits a child of another name
    right_child: int  # the SIS student that record really is
    right_ssid: str
    held_ids: int  # SSID and Other ID point at two students
    ssid_child: int
    other_id_child: int
    held_shared: int  # an Other ID that two SIS students share
    shared_child: int
    suggested: int  # an SSID two digits swapped from a same-name student's
    suggested_child: int
    waiting: int
    no_id: int
    no_id_child: int
    with_plan: int


SEEDED = itertools.count(1)


def seed_cases(site: Site, surname: str) -> Cases:
    """One record in each state under SURNAME (one surname per test and screen size)."""
    n = next(SEEDED)
    tag = f"case{n}"
    engine = site.engine

    def sis(first: str, last: str = surname, **more: object) -> int:
        return add_student(
            engine, sis_source_id=f"{tag}-{first}-{last}", first_name=first, last_name=last, grade="3",
            school_id="sch-1", birth_date=date(2017, 1 + n % 12, 3), **more,
        )  # fmt: skip

    def create(first: str, **ids: str) -> int:
        answer = site.api("POST", "/api/students", json={"first_name": first, "last_name": surname, **ids})
        return int(answer.json()["created_record_id"])

    wrong = sis("Zachary", "Whitfield", ssid=f"1{n:02d}0000001")
    right = sis("Nora", ssid=f"1{n:02d}0000002")
    a = sis("Otto", ssid=f"1{n:02d}0000003", other_id=f"O-{n}-3")
    b = sis("Otto", "Brandt", other_id=f"O-{n}-4")
    shared_1 = sis("Pia", other_id=f"O-{n}-5")
    sis("Pia", "Kowalski", other_id=f"O-{n}-5")
    near = sis("Quinn", ssid=f"1{n:02d}0000012")
    plain = sis("Rosa")
    cases = Cases(
        surname=surname,
        held_name=create("Nora", ssid=f"1{n:02d}0000001"),
        right_child=right,
        right_ssid=f"1{n:02d}0000002",
        held_ids=create("Otto", ssid=f"1{n:02d}0000003", other_id=f"O-{n}-4"),
        ssid_child=a,
        other_id_child=b,
        held_shared=create("Pia", other_id=f"O-{n}-5"),
        shared_child=shared_1,
        suggested=create("Quinn", ssid=f"1{n:02d}0000021"),
        suggested_child=near,
        waiting=create("Sven", ssid=f"1{n:02d}0000099"),
        no_id=create("Rosa"),
        no_id_child=plain,
        with_plan=create("Tove"),
    )
    add_plan(engine, cases.with_plan)
    assert wrong  # the child the mistyped SSID hits
    return cases


def test_each_row_says_what_it_needs_and_the_table_filters_finds_and_sorts(site: Site, size: str) -> None:
    cases = seed_cases(site, {"laptop": "Abernathy", "phone": "Castellano"}[size])
    with Session(site.engine) as session, session.begin():  # a delivery that waits for the operations team
        session.add(
            Batch(
                district_id=HOME, source_name="inbox", location="x", checksum=f"held-{size}",
                status=BatchStatus.HELD, hold_reason="too many deactivations",
            )
        )  # fmt: skip
    page = open_page(site, size)
    page.goto("/link")
    expect(page.locator(".sync")).to_contain_text("Sync held")
    expect(page.get_by_role("link", name=re.compile(r"^Needs a person \d+"))).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_label("Find a name in this table").fill(cases.surname.lower())
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#table-count")).to_contain_text("6 records: needs a person")
    expect(row(page, "Nora")).to_contain_text("Needs review")
    expect(row(page, "Nora")).to_contain_text("The SSID belongs to Zachary Whitfield")
    expect(row(page, "Otto")).to_contain_text("The SSID and the Other ID belong to two different students")
    expect(row(page, "Pia")).to_contain_text("2 SIS students share this Other ID")
    expect(row(page, "Quinn")).to_contain_text("Possible SIS match")
    expect(row(page, "Quinn")).to_contain_text(f"Possibly Quinn {cases.surname}")
    expect(row(page, "Rosa")).to_contain_text("No id: search by name")
    expect(row(page, "Sven")).to_have_count(0)  # it needs nobody
    # oldest first: the order they were created in
    in_order(page, cases.surname, "Nora", "Otto", "Pia", "Quinn", "Rosa", "Tove")
    check(site, page, "link-table-needs-person")

    page.get_by_role("button", name=re.compile(r"^Will link by itself")).click()
    expect(row(page, "Sven")).to_contain_text("Will link when the SIS sends this student")
    expect(page.locator("tbody tr")).to_have_count(1)
    check(site, page, "link-table-waiting")
    page.get_by_role("button", name=re.compile(r"^All")).click()
    expect(page.locator("tbody tr")).to_have_count(7)
    page.get_by_role("button", name="Newest first").click()
    in_order(page, cases.surname, "Tove", "Rosa", "Sven", "Quinn", "Pia", "Otto", "Nora")
    check(site, page, "link-table-all-newest")

    # delete only where allowed, and why not elsewhere
    page.goto("/link?state=no_id")
    tove = row(page, f"{cases.surname}, Tove")
    tove.get_by_text("More").click()
    expect(tove.get_by_text("Cannot be deleted: a learning plan was started on it")).to_be_visible()
    expect(tove.get_by_role("link", name="Delete")).to_have_count(0)
    rosa = row(page, f"{cases.surname}, Rosa")
    rosa.get_by_text("More").click()
    expect(rosa.get_by_role("link", name="Delete")).to_be_visible()
    check(site, page, "link-table-menu-open")
    no_names_in_urls(page, cases.surname, "Nora", "Otto")
    page.context.close()


def in_order(page: Page, surname: str, *given: str) -> None:
    """The table's rows are these children, in this order (waited for: a sort arrives as a new page)."""
    expect(page.locator("tbody tr strong")).to_have_text([f"{surname}, {name}" for name in given])


def merged_into(engine: Engine, created_record_id: int) -> int | None:
    with Session(engine) as session:
        record = session.get(Student, created_record_id)
        assert record is not None
        return record.merged_into_id


def review(page: Page, cases: Cases, first: str) -> None:
    page.goto("/link?state=held" if first != "Quinn" else "/link?state=suggested")
    row(page, f"{cases.surname}, {first}").get_by_role("link", name=re.compile("^Review")).click()
    expect(page.locator("h1")).to_have_text(f"Review {first} {cases.surname}")


def test_each_hold_reason_is_fixed_where_it_is_shown(site: Site, size: str) -> None:
    cases = seed_cases(site, {"laptop": "Fairbanks", "phone": "Gallagher"}[size])
    page = open_page(site, size)

    # an SSID that hit a child of another name: correct it in place; it links by itself
    review(page, cases, "Nora")
    expect(page.get_by_role("heading", name=re.compile("^SIS student with this SSID"))).to_be_visible()
    check(site, page, "review-name-mismatch")
    page.get_by_role("link", name="Correct the ids, birth date, grade or school").click()
    check(site, page, "correct-ids")
    ssid = page.get_by_role("textbox", name=re.compile("^SSID"))
    ssid.fill("12")
    page.get_by_role("button", name="Save and match again").click()
    expect(ssid).to_be_focused()
    expect(ssid).to_have_value("12")
    check(site, page, "correct-ids-error")
    ssid.fill(cases.right_ssid)
    page.get_by_role("button", name="Save and match again").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Nora {cases.surname} is now linked to the SIS student"
    )
    assert merged_into(site.engine, cases.held_name) == cases.right_child

    # SSID and Other ID point at two students: both side by side, pick one
    review(page, cases, "Otto")
    expect(
        page.get_by_role("heading", name=f"SIS student with this SSID: Otto {cases.surname}")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="SIS student with this Other ID: Otto Brandt")).to_be_visible()
    # each student's card says how it agrees with the created record, field by field
    brandt = page.get_by_role("table", name="Each field of the created record against Otto Brandt")
    expect(brandt.locator("tr", has_text="family name")).to_contain_text("different")
    same = page.get_by_role("table", name=f"Each field of the created record against Otto {cases.surname}")
    expect(same.locator("tr", has_text="family name")).to_contain_text("equal")
    expect(page.get_by_text("These fields disagree: family name")).to_be_visible()
    check(site, page, "review-ids-disagree")
    page.get_by_role("link", name="Link to Otto Brandt…").click()
    # only the given name (and the Other ID) agree: the page says so, and asks to confirm twice
    expect(page.get_by_role("alert")).to_contain_text("These fields disagree: family name")
    check(site, page, "link-confirm-against-evidence")
    page.get_by_role("button", name="Yes, link permanently").click()
    box = page.get_by_role("checkbox", name=re.compile("Link against the evidence"))
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#confirm-mismatch-error")).to_contain_text("Tick the box")
    assert merged_into(site.engine, cases.held_ids) is None
    check(site, page, "link-confirm-against-evidence-unticked")
    box.check()
    page.get_by_role("button", name="Yes, link permanently").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Otto {cases.surname} is now linked to the SIS student Otto Brandt"
    )
    assert merged_into(site.engine, cases.held_ids) == cases.other_id_child

    # an Other ID two SIS students share: both shown, pick one
    review(page, cases, "Pia")
    expect(page.get_by_role("link", name=re.compile("^Link to Pia"))).to_have_count(2)
    check(site, page, "review-ambiguous-other-id")
    page.get_by_role("link", name=f"Link to Pia {cases.surname}…").click()
    check(site, page, "link-confirm")
    page.get_by_role("button", name="Yes, link permanently").click()
    expect(page.get_by_role("status")).to_contain_text(f"Pia {cases.surname} is now linked")
    assert merged_into(site.engine, cases.held_shared) == cases.shared_child

    # a possible match: not this student, and it is not suggested again
    review(page, cases, "Quinn")
    check(site, page, "review-suggested")
    page.get_by_role("button", name="Not this student").click()
    expect(page.get_by_role("status")).to_contain_text("will not be suggested again")
    page.goto("/link?state=all")
    expect(row(page, f"{cases.surname}, Quinn")).to_contain_text("Will link when the SIS sends this student")
    assert merged_into(site.engine, cases.suggested) is None
    no_names_in_urls(page, cases.surname, cases.right_ssid)
    page.context.close()


def test_a_record_without_ids_is_linked_by_name_in_three_clicks(site: Site, size: str) -> None:
    cases = seed_cases(site, {"laptop": "Hargreaves", "phone": "Ivanova"}[size])
    page = open_page(site, size)
    page.goto("/link?state=no_id")
    check(site, page, "link-table-no-id")
    row(page, f"{cases.surname}, Rosa").get_by_role("link", name=re.compile("^Search by name")).click()  # 1
    candidate = row(page, f"{cases.surname}, Rosa")
    expect(candidate).to_contain_text("Maple Elementary")
    check(site, page, "search-by-name")
    candidate.get_by_role("link", name=f"Link to Rosa {cases.surname}").click()  # 2
    page.get_by_role("button", name="Yes, link permanently").click()  # 3
    expect(page.get_by_role("status")).to_contain_text(f"Rosa {cases.surname} is now linked")
    check(site, page, "link-table-linked")
    assert merged_into(site.engine, cases.no_id) == cases.no_id_child

    # Recently linked names it, and opens the student's link history
    page.get_by_role("link", name="Recently linked").first.click()
    link = row(page, f"Rosa {cases.surname}")
    expect(link).to_contain_text("By name search")
    expect(link).to_contain_text("Rita Registrar")
    check(site, page, "recently-linked")
    link.get_by_role("link", name=f"Rosa {cases.surname}").click()
    expect(page.locator(".history")).to_contain_text(f"the created record Rosa {cases.surname} was linked")
    expect(page.locator(".history")).to_contain_text("By name search, by Rita Registrar")
    check(site, page, "student-history")
    page.context.close()


def test_entering_an_id_keeps_it_beside_its_error_and_delete_asks_or_says_why_not(
    site: Site, size: str
) -> None:
    cases = seed_cases(site, {"laptop": "Kettering", "phone": "Lindgren"}[size])
    page = open_page(site, size)
    page.goto(f"/link/{cases.no_id}/enter/ssid")
    check(site, page, "enter-ssid")
    page.get_by_label("SSID").fill("0000000000")
    page.get_by_role("button", name="Find student").click()
    field = page.get_by_label("SSID")
    expect(field).to_have_value("0000000000")
    expect(field).to_be_focused()
    expect(page.locator("#value-error")).to_contain_text("No active SIS student of your district has that id")
    assert "value-error" in (field.get_attribute("aria-describedby") or "")
    check(site, page, "enter-ssid-error")
    page.goto(f"/link/{cases.no_id}/delete")
    expect(page.get_by_role("button", name="Yes, delete this record")).to_be_visible()
    check(site, page, "delete-confirm")
    page.goto(f"/link/{cases.with_plan}/delete")
    expect(page.get_by_role("alert")).to_contain_text("cannot be deleted")
    check(site, page, "delete-refused")
    page.context.close()


def test_namesakes_are_told_apart_by_the_birth_date_grade_and_school_typed(site: Site, size: str) -> None:
    surname = {"laptop": "Khalil", "phone": "Mansour"}[size]
    born = {"laptop": date(2017, 3, 14), "phone": date(2016, 5, 20)}[size]
    right = add_student(
        site.engine, sis_source_id=f"gus-{size}-1", first_name="Gus", last_name=surname, birth_date=born,
        grade="03", school_id="sch-1",
    )  # fmt: skip
    add_student(
        site.engine, sis_source_id=f"gus-{size}-2", first_name="Gus", last_name=surname,
        birth_date=date(2014, 9, 1), grade="06", school_id="sch-1",
    )  # fmt: skip
    blind = int(site.api("POST", "/api/students", json={"first_name": "Gus", "last_name": surname}).json()[
        "created_record_id"
    ])  # fmt: skip
    page = open_page(site, size)

    # nothing but the names typed: a tie, and the field that would break it
    page.goto(f"/link/{blind}/search")
    expect(page.get_by_role("note").filter(has_text="agree equally")).to_contain_text("birth date")
    check(site, page, "search-tied")

    # the id editor takes a birth date, a grade and a school; the search then ranks the right Gus first
    page.get_by_role("link", name="Add them").click()
    page.get_by_label("Birth date").fill(born.isoformat())
    page.get_by_label("Grade").select_option(label="Grade 3")
    page.get_by_label("School").select_option(label="Maple Elementary")
    check(site, page, "correct-details")
    page.get_by_role("button", name="Save and match again").click()
    page.goto(f"/link/{blind}/search")
    first = page.locator("tbody tr").first
    expect(first.get_by_role("link", name=f"Link to Gus {surname}")).to_have_attribute(
        "href", f"/link/{blind}/confirm?sis_record_id={right}"
    )
    expect(first).to_contain_text("equal")
    expect(page.locator("tbody tr").nth(1)).to_contain_text("different")
    expect(page.get_by_text("agree equally")).to_have_count(0)
    check(site, page, "search-told-apart")

    # typed on the create form: kept, and shown in the table
    page.goto("/students/new")
    page.get_by_label("First name").fill("Gus")
    other = {"laptop": "Ferreira", "phone": "Nakamura"}[size]  # no student of this name yet
    page.get_by_label("Last name").fill(other)
    page.get_by_label("Birth date").fill("2999-01-01")
    page.get_by_role("button", name="Create student").click()
    expect(page.get_by_label("Birth date")).to_be_focused()
    expect(page.locator("#birth_date-error")).to_contain_text("in the past")
    check(site, page, "create-details-error")
    page.get_by_label("Birth date").fill(born.isoformat())
    page.get_by_label("Grade").select_option(label="Kindergarten")
    page.get_by_role("button", name="Create student").click()
    expect(page.get_by_role("status")).to_contain_text("was saved")
    [record] = records_named(site.engine, "Gus", other)
    assert (record.birth_date, record.grade) == (born, "KG")
    page.goto("/link?state=all")
    page.get_by_label("Find a name in this table").fill(other)  # other tests' records fill the first page
    page.get_by_role("button", name="Find").click()
    expect(row(page, f"{other}, Gus")).to_contain_text("grade KG")
    check(site, page, "link-table-details")
    page.context.close()


# --- Student Selector ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def selector_students(site: Site) -> dict[str, int]:
    engine = site.engine
    people = {
        "liam": ("Liam", "St. John", date(2015, 4, 2), "5"),
        "maria": ("Maria", "De Los Santos", date(2016, 1, 9), "4"),
        "sean": ("Sean", "O'Brien", date(2018, 7, 21), "2"),
    }
    ids = {
        key: add_student(
            engine, sis_source_id=f"sel-{key}", first_name=first, last_name=last, birth_date=born,
            grade=grade, school_id="sch-1",
        )
        for key, (first, last, born, grade) in people.items()
    }  # fmt: skip
    for n in range(7):  # seven children of one name, told apart by birth date and grade
        ids[f"ana{n}"] = add_student(
            engine, sis_source_id=f"sel-ana-{n}", first_name="Ana", last_name="Haddad",
            birth_date=date(2012 + n, 3, 1 + n), grade=str(n), school_id="sch-1",
        )  # fmt: skip
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("liam", "St. John, Liam"),  # a given name alone
        ("st john", "St. John, Liam"),
        ("st. john", "St. John, Liam"),
        ("de los santos", "De Los Santos, Maria"),
        ("santos", "De Los Santos, Maria"),  # the particles left out
        ("o'brien", "O'Brien, Sean"),
        ("obrien", "O'Brien, Sean"),
    ],
)
def test_the_selector_finds_a_student_however_the_name_is_typed(
    site: Site, selector_students: dict[str, int], query: str, expected: str
) -> None:
    page = open_page(site, "phone" if len(query) % 2 else "laptop", who="teacher")
    page.goto("/selector")
    page.get_by_label("Student name").fill(query)
    page.keyboard.press("Enter")
    expect(row(page, expected)).to_have_count(1)
    no_names_in_urls(page, query.rsplit(maxsplit=1)[-1].strip(".'"))
    page.context.close()


def test_the_selector_tells_same_name_students_apart_and_confirms_the_plan(
    site: Site, selector_students: dict[str, int], size: str
) -> None:
    page = open_page(site, size, who="teacher")
    page.goto("/selector")
    check(site, page, "selector-empty")
    page.get_by_label("Student name").fill("")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("Student name")).to_be_focused()
    expect(page.locator("#query-error")).to_contain_text(
        "Type the beginning of the student's first or last name."
    )
    check(site, page, "selector-error")
    page.get_by_label("Student name").fill("haddad")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_contain_text("of 7 students")
    rows = page.locator("tbody tr").filter(has_text="Haddad, Ana")
    expect(rows).to_have_count(7)
    details = rows.locator("td:nth-child(2)").all_inner_texts()
    assert len(set(details)) == 7, details  # birth date and grade tell them apart
    check(site, page, "selector-results")
    n = {"laptop": 3, "phone": 4}[size]
    target = rows.filter(has_text=f"grade {n}")
    target.get_by_role("link", name="Initiate Learning Plan for Ana Haddad").click()
    expect(page.locator("h1")).to_contain_text("learning plan for Ana Haddad?")
    expect(page.locator(".facts")).to_contain_text(f"{n}")
    with Session(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(LearningPlan).where(
            LearningPlan.student_id == selector_students[f"ana{n}"])) == 0  # fmt: skip
    page.get_by_role("button", name=re.compile("Yes, start the")).click()
    expect(page.get_by_role("status")).to_contain_text("learning plan for Ana Haddad was started")
    with Session(site.engine) as session:
        owners = session.scalars(select(LearningPlan.student_id).where(
            LearningPlan.student_id == selector_students[f"ana{n}"])).all()  # fmt: skip
    assert owners == [selector_students[f"ana{n}"]]
    page.context.close()


# --- 200% zoom on a laptop ------------------------------------------------------------------------


def test_every_page_reflows_at_200_percent_zoom_on_a_laptop(
    site: Site, selector_students: dict[str, int]
) -> None:
    cases = seed_cases(site, "Jablonski")
    page = open_page(site, "laptop", viewport={"width": 683, "height": 450}, device_scale_factor=2)
    paths = [
        "/link?state=all",
        "/link/recent",
        "/students/new",
        "/selector",
        f"/students/{cases.right_child}",
    ]
    paths += [f"/link/{cases.no_id}/search", f"/link/{cases.held_ids}/review", f"/link/{cases.held_name}/ids"]
    for path in paths:
        page.goto(path)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways at 200% zoom: {width}"
    page.context.close()
