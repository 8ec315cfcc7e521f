"""The daily digest page, linked from every digest e-mail: staff stop or resume it themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from admin.auth import check_csrf
from admin.digest_choice import choose_digest, digest_choice
from admin.pages.rendering import Csrf, Manager, render

router = APIRouter()


@router.get("/digest")
def digest_page(request: Request, staff: Manager) -> HTMLResponse:
    return render(request, "digest.html", staff.caller, choice=staff.read(digest_choice), changed=False)


@router.post("/digest")
def digest_change(
    request: Request, staff: Manager, csrf_token: Csrf, receive: Annotated[bool, Form()]
) -> HTMLResponse:
    check_csrf(request, staff.caller, csrf_token)
    choice = staff.read(choose_digest, receive)
    return render(request, "digest.html", staff.caller, choice=choice, changed=True)
