"""The desk's changes (POST): sign in and out, review, excerpt, review a campaign as one,
assign an unmatched response. Each goes through the same service as the CLI, in one
write transaction, and records who did it from where (`web`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from domain.calendar import OSLO
from domain.errors import UserError
from services.desk_users import check_password
from services.excerpts import add_excerpt
from services.intake import assign_response
from services.review_recording import record_review
from storage.db import write_session
from web.security import csrf_valid, current_user
from web.view import may_change, render

log = logging.getLogger("hoering.web")
SOURCE = "web"


def _back(request: Request, target: str, message: str, ok: bool = True) -> Response:
    request.session["flash"] = {"text": message, "ok": ok}
    return RedirectResponse(target, status_code=303)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def login(request: Request) -> Response:
    form = await request.form()
    target = _safe_next(str(form.get("next") or "/"))
    if not csrf_valid(request, form.get("csrf")):
        return render(request, "login.html", status_code=403, next=target, error="Ugyldig skjema.")
    users = request.app.state.users.current()
    user = check_password(users, str(form.get("name", "")), str(form.get("password", "")))
    if user is None:
        return render(
            request, "login.html", status_code=401, next=target, error="Feil navn eller passord."
        )
    request.session.clear()
    request.session["user"] = user.name
    log.info("signed in (role %s)", user.role.value)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    if csrf_valid(request, form.get("csrf")):
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _change(request: Request, call: Callable[[Session, str, datetime], Any]) -> Any:
    """Run one change in a write transaction as the signed-in user."""
    user = current_user(request)
    assert user is not None  # may_change checked it
    with write_session(request.app.state.engine) as session:
        return call(session, user.name, datetime.now(OSLO))


@may_change
async def review(request: Request) -> Response:
    form = await request.form()
    response_id = request.path_params["id"]
    accept = form.get("accept") == "1"
    stance = str(form.get("stance") or "") or None
    items = [str(v) for v in form.getlist("items") if str(v).strip()]
    note = str(form.get("note") or "") or None
    target = f"/r/{response_id}"
    try:
        result = _change(
            request,
            lambda s, who, now: record_review(
                s,
                str(response_id),
                stance=None if accept else stance,
                items=items,
                note=note,
                accept_suggestion=accept,
                actor=who,
                now=now,
                source=SOURCE,
            ),
        )
    except UserError as exc:
        return _back(request, target, str(exc), ok=False)
    if form.get("then") == "next" and form.get("next_id"):
        target = f"/r/{form.get('next_id')}"
    return _back(request, target, f"Lagret: {result['stance_nb']}")


@may_change
async def excerpt(request: Request) -> Response:
    form = await request.form()
    response_id = request.path_params["id"]
    target = f"/r/{response_id}"
    try:
        result = _change(
            request,
            lambda s, who, now: add_excerpt(
                s,
                str(response_id),
                quote=str(form.get("quote") or ""),
                item=str(form.get("item") or "") or None,
                actor=who,
                now=now,
            ),
        )
    except UserError as exc:
        return _back(request, target, str(exc), ok=False)
    done = "lagt til" if result["added"] else "fantes fra før"
    return _back(request, target, f"Utdrag knyttet til {result['item'] or 'hele høringen'}: {done}")


@may_change
async def campaign_review(request: Request) -> Response:
    form = await request.form()
    slug, number = request.path_params["case"], request.path_params["number"]
    target = f"/h/{slug}/campaign/{number}"
    accept = form.get("accept") == "1"
    try:
        result = _change(
            request,
            lambda s, who, now: record_review(
                s,
                str(form.get("representative") or ""),
                stance=None if accept else (str(form.get("stance") or "") or None),
                items=[str(v) for v in form.getlist("items") if str(v).strip()],
                note=str(form.get("note") or "") or None,
                accept_suggestion=accept,
                campaign=True,
                actor=who,
                now=now,
                source=SOURCE,
            ),
        )
    except UserError as exc:
        return _back(request, target, str(exc), ok=False)
    count = len(result["responses"])
    return _back(request, target, f"Kampanje {number} ({count} svar): {result['stance_nb']}")


@may_change
async def assign(request: Request) -> Response:
    form = await request.form()
    response_id = request.path_params["id"]
    case = str(form.get("case") or "")
    try:
        result = _change(
            request, lambda s, who, now: _assign_with_audit(s, response_id, case, who, now)
        )
    except UserError as exc:
        return _back(request, "/intake", str(exc), ok=False)
    return _back(
        request,
        "/intake",
        f"Svar {response_id} arkivert i {result['case']} som {result['tracking_number']}",
    )


def _assign_with_audit(
    session: Session, response_id: int, case: str, who: str, now: datetime
) -> dict[str, Any]:
    from services.intake_audit import record_assignment

    result = assign_response(session, response_id, case, now)
    if not result["already_assigned"]:
        record_assignment(session, result, actor=who, now=now, source=SOURCE)
    return result


@may_change
async def quarantine(request: Request) -> Response:
    from services.quarantine import decide_quarantine

    form = await request.form()
    quarantine_id = request.path_params["id"]
    release = form.get("decision") == "release"
    try:
        _change(
            request,
            lambda s, who, now: decide_quarantine(
                s,
                quarantine_id,
                release=release,
                reason=str(form.get("reason") or ""),
                actor=who,
                now=now,
                source=SOURCE,
            ),
        )
    except UserError as exc:
        return _back(request, "/intake", str(exc), ok=False)
    verb = "frigitt" if release else "beholdt i karantene"
    return _back(request, "/intake", f"Melding {quarantine_id} {verb}")


def routes() -> list[Route]:
    return [
        Route("/r/{id:int}/review", review, methods=["POST"]),
        Route("/r/{id:int}/excerpt", excerpt, methods=["POST"]),
        Route("/h/{case}/campaign/{number:int}/review", campaign_review, methods=["POST"]),
        Route("/intake/assign/{id:int}", assign, methods=["POST"]),
        Route("/intake/quarantine/{id:int}", quarantine, methods=["POST"]),
    ]
