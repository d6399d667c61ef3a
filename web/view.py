"""What every page shares: the templates, rendering with the user, the CSRF token and a
flash message, and the two guards (signed in; may change, with a valid CSRF token)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from domain.calendar import OSLO
from web.security import csrf_token, csrf_valid, current_user

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
Handler = Callable[[Request], Awaitable[Response]]


def _local(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=OSLO)
        return moment.astimezone(OSLO).strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


TEMPLATES.env.filters["local"] = _local


def case_slug(case: str) -> str:
    return case.replace("/", "-")


def slug_case(slug: str) -> str:
    return slug.replace("-", "/", 1)


TEMPLATES.env.filters["slug"] = case_slug


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    context.update(
        user=current_user(request),
        csrf=csrf_token(request),
        flash=request.session.pop("flash", None),
    )
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def signed_in(handler: Handler) -> Handler:
    """Nobody anonymous: without a session, to the sign-in page."""

    async def wrapped(request: Request) -> Response:
        if current_user(request) is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={target}", status_code=303)
        return await handler(request)

    return wrapped


def may_change(handler: Handler) -> Handler:
    """A change: signed in, a role that may change things, and the form's CSRF token."""

    async def wrapped(request: Request) -> Response:
        user = current_user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        form = await request.form()
        if not csrf_valid(request, form.get("csrf")):
            return PlainTextResponse("Skjemaet mangler gyldig CSRF-token.", status_code=403)
        if not user.role.may_change:
            return PlainTextResponse("Rollen din (leser) kan bare lese.", status_code=403)
        return await handler(request)

    return wrapped
