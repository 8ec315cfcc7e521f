"""Which staff role may do what: the one place the product's role rules live."""

from __future__ import annotations

import enum

from models import StaffRole


class Permission(enum.StrEnum):
    USE_SELECTOR = "use_selector"  # Student Selector and Initiate Learning Plan
    MANAGE_RECORDS = "manage_records"  # create, link, delete, the unlinked table and held records


GRANTS: dict[Permission, frozenset[StaffRole]] = {
    Permission.USE_SELECTOR: frozenset({StaffRole.REGISTRAR, StaffRole.SECRETARY, StaffRole.TEACHER}),
    Permission.MANAGE_RECORDS: frozenset({StaffRole.REGISTRAR, StaffRole.SECRETARY}),
}


def allows(role: StaffRole, permission: Permission) -> bool:
    return role in GRANTS[permission]
