"""The database builds exactly the SSID typo neighbours the pure core defines."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from matching.core.typos import ssid_typo_variants
from matching.gather import TYPO_VARIANTS


@pytest.mark.parametrize("ssid", ["0123456789", "0000000000", "1122334455", "9"])
def test_the_sql_typo_neighbours_equal_the_core_definition(db_session: Session, ssid: str) -> None:
    rows = db_session.execute(
        text(TYPO_VARIANTS + "SELECT created_id, ssid FROM variants"), {"created": [7], "ssids": [ssid]}
    ).all()
    assert {created_id for created_id, _ in rows} == {7}
    variants = [variant for _, variant in rows]
    assert len(variants) == len(set(variants))
    assert set(variants) == ssid_typo_variants(ssid)
