"""The evidence for a pair staff are about to link by hand: the same field-by-field model the
automatic passes decide on (matching/core/evidence.py), weighed with the district's name counts
and judged against the configured link threshold (matching/core/agreement.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from matching.core.agreement import Corroboration, corroborate
from matching.core.evidence import weigh
from matching.core.records import CreatedRecord, SisCandidate
from matching.district_pass import thresholds
from matching.name_directory import name_directory
from models import Student


def pair_evidence(
    session: Session, created: Student, sis: Student, *, ssid: str | None = None, other_id: str | None = None
) -> Corroboration:
    """What the evidence says about linking `created` to `sis`; `ssid` or `other_id` is an id staff
    typed to link with, weighed as if the created record carried it."""
    facts = CreatedRecord.of(created.district_id, created)
    facts = replace(facts, ssid=ssid or facts.ssid, other_id=other_id or facts.other_id)
    directory = name_directory(session, created.district_id)
    candidate = SisCandidate.of(sis.district_id, sis)
    return corroborate(weigh(facts, candidate, directory.frequencies), thresholds().link)


def against_evidence_detail(said: Corroboration) -> dict[str, Any]:
    """What the link audit keeps of a link confirmed against the evidence: field names, no values."""
    return {"fields": list(said.disagreeing), "rule": said.rule, "weight": round(said.weight, 1)}
