"""The district pass: every unlinked created record of a district, matched set-wise.

Runs after every applied batch (and nightly): one gather, pure decisions, one bulk apply,
under the district's match lock so two passes of one district never interleave. Holds are
re-decided every time, so a later SIS correction resolves them.
"""

from __future__ import annotations

import time

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from config.collector import collector_paused
from config.settings import get_settings
from matching.apply import PassSummary, apply_decisions
from matching.core.decide import Decision, Thresholds, decide
from matching.gather import gather
from models.db import lock_district

logger = structlog.get_logger(__name__)


def thresholds() -> Thresholds:
    """The match-weight thresholds configured for this process."""
    settings = get_settings()
    return Thresholds(
        link=settings.match_link_weight,
        suggest=settings.match_suggest_names_weight,
        two_digit_ssid=settings.match_two_digit_ssid_weight,
        possible_match=settings.match_possible_weight,
        margin=settings.match_possible_margin,
        hold_nicknames=settings.match_hold_nicknames,
        link_later_arrivals=settings.match_link_later_arrivals,
    )


# sets the transaction's jit, returning what it was
_JIT = "SELECT current_setting('jit'), set_config('jit', CAST(:jit AS text), true)"


def match_district(session: Session, district_id: str, batch_id: int | None = None) -> PassSummary:
    """Match every unlinked created record of the district; the caller owns the transaction."""
    started = time.perf_counter()
    lock_district(session, "match", district_id)
    # without JIT compilation, set back at the end: the typo statement's row estimate (generate_series
    # over each SSID's length is taken as 1,000 rows) made Postgres spend 2 s compiling a 2 s
    # statement at 250,000 records, and the pass's other statements gain nothing from it either
    jit = session.execute(text(_JIT), {"jit": "off"}).scalar_one()
    # the records, candidates and decisions are plain values with no cycles, a quarter of a million
    # at a million SIS records: with the cycle collector walking them as they were made and again
    # while the links were written, gathering took 3.2-3.3 s, deciding 2.1 s and applying 11.2-12.0 s;
    # without it 2.0-2.1 s, 1.7 s and 10.0-11.0 s (one kept database, alternated)
    with collector_paused():
        gathered = gather(session, district_id)
        limits = thresholds()
        decisions: dict[int, Decision] = {
            cid: decide(
                record,
                gathered.candidates.get(cid, ()),
                limits,
                gathered.dismissed.get(cid, frozenset()),
                gathered.frequencies,
            )
            for cid, record in gathered.records.items()
        }
        summary = apply_decisions(session, district_id, decisions, batch_id, sweep=True)
    session.execute(text(_JIT), {"jit": jit})
    logger.info(
        "district_matched",
        district_id=district_id,
        batch_id=batch_id,
        evaluated=len(decisions),
        linked=summary.linked,
        held=summary.held,
        waiting=summary.waiting,
        suggested=summary.suggested,
        refused=summary.refused,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    return summary
