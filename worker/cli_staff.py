"""`ale-sync staff add|list|revoke`: staff accounts of a district and their API tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select

from models import District, Staff, StaffRole
from models.db import transaction
from models.staff import hash_staff_token, new_staff_token
from worker.cli_ops import DistrictOption, JsonOption
from worker.cli_output import console, fail, local_time, print_json, print_rows
from worker.ops_queries import staff_accounts

staff_app = typer.Typer(
    help="Staff accounts (Registrar, Secretary, Teacher) and their tokens.", no_args_is_help=True
)


@staff_app.command("add")
def staff_add(
    district: Annotated[str, typer.Option("--district", "-d", help="The staff member's district.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    role: Annotated[StaffRole, typer.Option("--role", help="What they may do.")],
    as_json: JsonOption = False,
) -> None:
    """Create a staff account and print its token once (only a hash is stored)."""
    token = new_staff_token()
    with transaction() as session:
        if session.get(District, district) is None:
            raise fail(f"no district {district}")
        staff = Staff(district_id=district, name=name, role=role, token_hash=hash_staff_token(token))
        session.add(staff)
        session.flush()
        staff_id = staff.id
    if as_json:
        print_json({"staff_id": staff_id, "district_id": district, "role": str(role), "token": token})
        return
    console.print(f"staff {staff_id} added to district {district} as {role}")
    console.print(f"token (shown once, keep it safe): {token}", markup=False, highlight=False)


@staff_app.command("list")
def staff_list(district: DistrictOption = None, as_json: JsonOption = False) -> None:
    """List staff accounts; revoked ones show when they were revoked."""
    with transaction() as session:
        rows = staff_accounts(session, district)

    def cells(row: dict[str, Any]) -> list[str]:
        return [
            str(row["staff_id"]),
            row["district_id"],
            row["name"],
            row["role"],
            local_time(row["created_at"]),
            local_time(row["revoked_at"]),
        ]

    columns = ("id", "district", "name", "role", "created", "revoked")
    print_rows(rows, as_json=as_json, title="staff", columns=columns, cells=cells, wrap=columns)


@staff_app.command("revoke")
def staff_revoke(staff_id: Annotated[int, typer.Argument(help="The staff id from `staff list`.")]) -> None:
    """Revoke a staff account's token at once; the account and its audit trail stay."""
    with transaction() as session:
        staff = session.scalars(select(Staff).where(Staff.id == staff_id).with_for_update()).first()
        if staff is None:
            raise fail(f"no staff {staff_id}")
        if staff.revoked_at is None:
            staff.revoked_at = datetime.now(UTC)
    console.print(f"staff {staff_id} revoked")
