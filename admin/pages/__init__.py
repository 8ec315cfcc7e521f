"""Server-rendered staff pages, one module a screen, over the same staff functions as the JSON API;
every form post carries a CSRF token."""

from __future__ import annotations

from fastapi import APIRouter

from admin.pages import create, enter_id, held, link_table, login, selector, sso
from admin.pages.rendering import error_page, is_page, refusal_page, to_login

__all__ = ["error_page", "is_page", "refusal_page", "router", "to_login"]

router = APIRouter(include_in_schema=False)
for screen in (login, sso, create, selector, link_table, enter_id, held):
    router.include_router(screen.router)
