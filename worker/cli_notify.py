"""`ale-sync notifications`: where e-mails go (staff addresses, a district's ops address), the
digest opt-out, and a notification round run now (the scheduled task's body)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from models import District, Staff
from models.db import get_engine, transaction
from worker.cli_output import console, fail, print_json
from worker.notify.mail import mail_configured
from worker.notify.run import notify_round

notifications_app = typer.Typer(
    help="E-mail: the daily digest to registrars and secretaries, alerts to a district's ops address.",
    no_args_is_help=True,
)
Address = Annotated[str, typer.Argument(help="An e-mail address; an empty string removes it.")]


def _address(value: str) -> str | None:
    value = value.strip()
    if value and ("@" not in value or any(c.isspace() for c in value)):
        raise fail(f"not an e-mail address: {value}", 2)
    return value or None


def _staff(session: Session, staff_id: int) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise fail(f"no staff member {staff_id}")
    return staff


@notifications_app.command("ops-address")
def ops_address(district: str, address: Address) -> None:
    """Set where DISTRICT's alerts go (a batch held, rejected or failed; no delivery for days)."""
    with transaction() as session:
        row = session.get(District, district)
        if row is None:
            raise fail(f"no district {district}")
        row.ops_email = _address(address)
    console.print(f"district {district}: alerts to {row.ops_email or 'nobody'}", markup=False)


@notifications_app.command("staff-address")
def staff_address(staff_id: int, address: Address) -> None:
    """Set a staff member's e-mail address (registrars and secretaries get the daily digest there)."""
    with transaction() as session:
        staff = _staff(session, staff_id)
        staff.email = _address(address)
    console.print(f"staff {staff_id}: e-mail {staff.email or 'none'}", markup=False)


@notifications_app.command("digest")
def digest(
    staff_id: int,
    off: Annotated[bool, typer.Option("--off/--on", help="Stop (--off) or resume (--on) the daily digest.")],
) -> None:
    """Opt a staff member out of the daily digest, or back in."""
    with transaction() as session:
        _staff(session, staff_id).digest_opted_out_at = datetime.now(UTC) if off else None
    console.print(f"staff {staff_id}: daily digest {'off' if off else 'on'}")


@notifications_app.command("send")
def send(as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False) -> None:
    """Send the alerts and digests due now (what the scheduled task does); each goes out once."""
    if not mail_configured():
        raise fail("no SMTP_HOST is set: nothing can be sent")
    report = notify_round(get_engine())
    if as_json:
        print_json({"alerts": report.alerts, "digests": report.digests})
        return
    console.print(f"sent {report.alerts} alert(s) and {report.digests} digest(s)")
