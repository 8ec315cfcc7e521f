"""Who is calling: one staff member of one district, with one role."""

from __future__ import annotations

from dataclasses import dataclass

from admin.roles import Permission, allows
from models import StaffRole


@dataclass(frozen=True)
class Caller:
    staff_id: int
    district_id: str
    role: StaffRole
    name: str
    csrf_token: str = ""  # pages only: the token every form post must echo

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)
