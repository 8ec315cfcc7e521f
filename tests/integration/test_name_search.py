"""Search by name: blocking keys agree between Python and Postgres, the right child ranks first,
linked records are marked, every score is explained, and nothing leaves the district."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from config.settings import SourceConfig
from matching.core.search_keys import name_key
from matching.link import link_created_record
from matching.name_directory import name_directory
from matching.name_search import rank_candidates
from models import LinkMethod, Student, StudentStatus
from models.db import transaction
from tests.fixtures.rosters.bundles import student, write_oneroster
from tests.integration.test_match_support import created, district, sis
from worker.ingest import ingest_batch
from worker.pull import register_delivery

AWKWARD = [
    ("José", "García-López"),
    ("Seán", "O'Brien"),
    ("Zoë", "de la Cruz"),
    ("Łukasz", "Żółkiewski"),
    ("Ærin", "Straße"),
    ("Mary Ann", "St. John Jr."),
    ("Nguyễn", "Thị"),
    ("", "---"),
    ("'Émile", "Ørsted"),
    ("Ísak", "Þórsson"),
    ("Ștefan", "Đặng"),
    ("Ĳsbrand", "Ŀlull"),
    ("Ǎnh", "Ｔrần"),
]


def test_the_key_columns_postgres_keeps_equal_the_python_keys(db_session: Session) -> None:
    d = district(db_session)
    ids = {
        sis(db_session, d, first, last, sis_source_id=f"k{i}").id: (first, last)
        for i, (first, last) in enumerate(AWKWARD)
    }
    rows = db_session.execute(
        text("SELECT id, search_first, search_last FROM students WHERE id = ANY(:ids)"),
        {"ids": list(ids)},
    )
    for row in rows:
        first, last = ids[row.id]
        assert (row.search_first, row.search_last) == (name_key(first), name_key(last))


def test_keys_follow_a_name_change_and_the_ingest_writes_the_same_keys(committed_engine, tmp_path) -> None:
    """The ingest computes the keys in its own statements; they must be the ones the trigger
    gives, and a name changed later (by the ORM here) gets new keys."""
    named = [(first, last) for first, last in AWKWARD if first.strip("'") and name_key(last)]
    users = [student(f"n{i}", givenName=first, familyName=last) for i, (first, last) in enumerate(named)]
    write_oneroster(tmp_path / "b", users)
    source = SourceConfig(district="17099", name="test", inbox=tmp_path)
    with transaction(committed_engine) as session:
        batch_id, _ = register_delivery(session, source, tmp_path / "b")
    assert ingest_batch(committed_engine, batch_id).counts["inserted"] == len(named)

    with transaction(committed_engine) as session:
        stored = session.execute(
            text("SELECT sis_source_id, search_first, search_last FROM students WHERE district_id = '17099'")
        ).all()
        assert {sid: (f, last) for sid, f, last in stored} == {
            f"n{i}": (name_key(first), name_key(last)) for i, (first, last) in enumerate(named)
        }
        record = session.query(Student).filter_by(district_id="17099", sis_source_id="n0").one()
        record.last_name = "Ștefănescu"
    with transaction(committed_engine) as session:
        record = session.query(Student).filter_by(district_id="17099", sis_source_id="n0").one()
        assert (record.search_last, record.search_first) == ("stefanescu", name_key(named[0][0]))


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("García-López", "garcialopez"),
        ("de la Cruz", "delacruz"),
        ("Nguyễn", "nguyen"),  # letters past Latin Extended-A decompose too
        ("Ștefănescu", "stefanescu"),
        ("Đặng", "dang"),
        ("Ørsted", "orsted"),  # letters that do not decompose are spelt plainly
        ("Straße", "strase"),
        ("O'Brien Jr.", "obrienjr"),
        ("Ελένη", ""),  # other scripts leave no key: search falls back to the other name
    ],
)
def test_a_name_key_is_its_latin_letters_folded_to_a_z(name: str, key: str) -> None:
    assert name_key(name) == key


DECOYS = [
    ("Ana", "Reyes"), ("Maria", "Garcia"), ("Josue", "Garza"), ("Jose", "Gomez"), ("Joseph", "Smith"),
    ("Livia", "Brown"), ("Ruth", "French"), ("Omar", "Sallah"), ("Ingrid", "Peters"), ("Gus", "Okafor"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "actual"),
    [
        (("Jose", "Garcia"), ("José", "García")),  # diacritics
        (("Jose", "Garcia"), ("José", "García-López")),  # compound surname on the SIS side
        (("Jose", "Garcia Lopez"), ("José", "López")),  # compound surname typed
        (("Luis", "Delacruz"), ("Luis", "de la Cruz")),  # particles written as one word
        (("Bill", "Smyth"), ("William", "Smith")),  # nickname and a misspelt surname
        (("Nguyen", "Linh"), ("Linh", "Nguyen")),  # given and family swapped
        (("Kathrine", "Wojciehowski"), ("Katherine", "Wojciechowski")),  # a slip in each name
        (("Ruth", "Fnich"), ("Ruth", "Finch")),  # a slip in the second letter of the family name
        (("Omar", "Sleh"), ("Omar", "Saleh")),  # a letter dropped early in a short family name
        (("Pertsen", "Ingrid"), ("Ingrid", "Petersen")),  # swapped, and two slips
        (("Ana", "Mac Kenzie"), ("Ana", "MacKenzie")),  # a family name split by a space
        (("Ana", "Reys-Garcia"), ("Ana", "Reyes Garcia")),  # hyphen for space, and a slip
        (("Xochitl", "Haddad"), ("Maria", "Haddad")),  # the family name alone (goes by another name)
        (("Gwendolyn", "Okafor"), ("Gwendolyn", "Smith")),  # the given name alone (family name changed)
    ],
)
def test_the_right_child_ranks_first(
    db_session: Session, typed: tuple[str, str], actual: tuple[str, str]
) -> None:
    d = district(db_session)
    for i, (first, last) in enumerate(DECOYS):
        sis(db_session, d, first, last, sis_source_id=f"decoy{i}")
    right = sis(db_session, d, *actual, sis_source_id="right")
    record = created(db_session, d, *typed)
    ranked = rank_candidates(db_session, d, record.id)
    assert ranked and ranked[0].sis_record_id == right.id
    assert ranked == sorted(ranked, key=lambda r: -r.score)


def test_birth_date_breaks_a_tie_between_same_named_children_and_is_explained(db_session: Session) -> None:
    d = district(db_session)
    sis(db_session, d, "Ana", "Reyes", birth_date=date(2015, 1, 1), sis_source_id="older")
    right = sis(db_session, d, "Ana", "Reyes", birth_date=date(2019, 5, 5), sis_source_id="right")
    record = created(db_session, d, "Ana", "Reyes", birth_date=date(2019, 5, 5))
    first, second = rank_candidates(db_session, d, record.id)[:2]
    assert first.sis_record_id == right.id and first.score > second.score
    assert first.agreement["birth date"] == "equal" and second.agreement["birth date"] == "different"
    assert first.agreement["given name"] == "equal" and not first.tied


def test_a_record_already_linked_to_another_created_record_is_marked(db_session: Session) -> None:
    d = district(db_session)
    target = sis(db_session, d, "Ana", "Reyes", ssid="0000000001")
    earlier = created(db_session, d, "Ana", "Reyes", ssid="0000000001")
    link_created_record(
        db_session,
        district_id=d,
        created_record_id=earlier.id,
        sis_record_id=target.id,
        method=LinkMethod.SSID,
    )
    record = created(db_session, d, "Ana", "Reyes")
    (found,) = rank_candidates(db_session, d, record.id)
    assert (found.sis_record_id, found.already_linked_created_record_id) == (target.id, earlier.id)


def test_search_never_shows_other_districts_or_inactive_records(db_session: Session) -> None:
    d, elsewhere = district(db_session), district(db_session, "27010")
    sis(db_session, elsewhere, "Ana", "Reyes", sis_source_id="x")
    sis(db_session, d, "Ana", "Reyes", sis_source_id="gone", status=StudentStatus.INACTIVE)
    record = created(db_session, d, "Ana", "Reyes")
    assert rank_candidates(db_session, d, record.id) == []
    assert rank_candidates(db_session, elsewhere, record.id) == []


def test_the_limit_keeps_the_best(db_session: Session) -> None:
    d = district(db_session)
    for i in range(30):
        sis(db_session, d, "Ana", "Reyes", sis_source_id=f"r{i}", birth_date=date(2015, 1, 1 + i % 28))
    record = created(db_session, d, "Ana", "Reyes", birth_date=date(2015, 1, 3))
    ranked = rank_candidates(db_session, d, record.id, limit=5)
    assert len(ranked) == 5
    assert ranked[0].agreement["birth date"] == "equal"


def test_identical_names_are_said_to_tie_and_the_field_that_would_separate_them_is_named(
    db_session: Session,
) -> None:
    d = district(db_session)
    for i, born in enumerate((date(2015, 1, 1), date(2016, 2, 2))):
        sis(db_session, d, "Gus", "Haddad", birth_date=born, sis_source_id=f"gus{i}")
    record = created(db_session, d, "Gus", "Haddad")
    first, second = rank_candidates(db_session, d, record.id)
    assert first.tied and second.tied and first.weight == second.weight
    assert first.separating_fields == ("birth date",)


def test_an_exact_given_name_with_a_slipped_family_name_outranks_another_given_name(
    db_session: Session,
) -> None:
    d = district(db_session)
    sis(db_session, d, "Livia", "Brown", sis_source_id="livia")
    right = sis(db_session, d, "Olivia", "Brown", sis_source_id="olivia")
    record = created(db_session, d, "Olivia", "Brwon")
    first, second = rank_candidates(db_session, d, record.id)[:2]
    assert first.sis_record_id == right.id and first.weight > second.weight


def test_the_search_leaves_the_transactions_parallel_worker_setting_as_it_found_it(
    db_session: Session,
) -> None:
    d = district(db_session)
    sis(db_session, d, "Ana", "Reyes", sis_source_id="right")
    record = created(db_session, d, "Ana", "Reyes")
    db_session.execute(text("SET LOCAL max_parallel_workers_per_gather = 3"))
    assert rank_candidates(db_session, d, record.id)
    assert db_session.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one() == "3"


def test_a_new_sis_record_made_after_a_search_is_found_by_its_misspelling_at_once(
    db_session: Session,
) -> None:
    d = district(db_session)
    sis(db_session, d, "Ana", "Reyes", sis_source_id="first")
    rank_candidates(db_session, d, created(db_session, d, "Ana", "Reyes").id)  # the directory is read
    created(db_session, d, "Ruth", "Fnich")  # a created record only: the directory is kept
    right = sis(db_session, d, "Ruth", "Finch", sis_source_id="new")
    ranked = rank_candidates(db_session, d, created(db_session, d, "Ruht", "Fnich").id)
    assert [r.sis_record_id for r in ranked] == [right.id]


def test_the_name_directory_is_kept_while_only_created_records_are_made_and_read_again_for_an_sis_one(
    db_session: Session,
) -> None:
    d = district(db_session)
    sis(db_session, d, "Ana", "Reyes", sis_source_id="first")
    first = name_directory(db_session, d)
    created(db_session, d, "Ruth", "Fnich")
    created(db_session, d, "Omar", "Sleh")
    assert name_directory(db_session, d) is first  # created records only: the copy is kept
    sis(db_session, d, "Ruth", "Finch", sis_source_id="new")
    created(db_session, d, "Ingrid", "Peters")  # newer than the SIS record: still looked past
    again = name_directory(db_session, d)
    assert again is not first
    assert again.count("family", "finch") == 1
