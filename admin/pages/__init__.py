"""Server-rendered staff pages, one module a screen, over the same staff functions as the JSON API;
every form post carries a CSRF token."""

from __future__ import annotations

from fastapi import APIRouter

from admin.pages import create, digest, enter_id, link_table, login, selector, sso, students
from admin.pages.rendering import error_page, is_page, refusal_page, to_login

__all__ = ["error_page", "is_page", "refusal_page", "router", "to_login"]

router = APIRouter(include_in_schema=False)
# create before students: /students/new is matched before /students/{student_id}
for screen in (login, sso, create, students, selector, link_table, enter_id, digest):
    router.include_router(screen.router)
