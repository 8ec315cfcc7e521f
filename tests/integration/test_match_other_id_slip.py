"""An exact Other ID with an SSID one digit off: one SIS student, shown once, held because the two
ids disagree, never "several SIS students share the Other ID"."""

from __future__ import annotations

from models.db import get_engine
from tests.admin_support import HOME, TestClient, World, add_student


def test_a_record_saved_with_the_exact_other_id_and_a_one_digit_ssid_slip_is_held_on_its_one_student(
    client: TestClient, world: World
) -> None:
    target = add_student(
        get_engine(), HOME, sis_source_id="s-1", first_name="Ana", last_name="Reyes", ssid="0012345678",
        other_id="S-7",
    )  # fmt: skip
    # the SSID typo lookup finds the very record the Other ID found: it is listed once, not as a second
    saved = client.post(
        "/api/students",
        json={"first_name": "Ana", "last_name": "Reyes", "ssid": "0012345679", "other_id": "S-7"},
        headers=world.auth("registrar"),
    ).json()
    assert (saved["match"], saved["hold_reason"]) == ("held", "ids_disagree")
    row = client.get("/api/held", headers=world.auth("registrar")).json()["rows"][0]
    pointed = [(p["student"]["sis_record_id"], p["shares"]) for p in row["pointed_at"]]
    assert pointed == [(target, ["Other ID"])]
