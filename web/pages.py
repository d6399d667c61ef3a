"""The desk's pages (GET): hearings, recipients, responses, a response, a campaign,
unmatched and quarantined messages, downloads. Read only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from domain.calendar import OSLO
from domain.errors import UserError
from domain.stance import Stance
from services import desk_queries as q
from services import hearings
from storage.blobs import BlobStore
from storage.db import read_session
from storage.hearing_models import HearingRow, LetterRow
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.intake_queries import list_quarantine, list_unmatched
from web.diffing import side_by_side
from web.view import render, signed_in, slug_case

SUMMARY_KINDS = ("hoeringsoppsummering", "hoeringsoppsummering-xlsx")


def _today(request: Request) -> datetime:
    return datetime.now(OSLO)


def _not_found(what: str) -> Response:
    return PlainTextResponse(f"Fant ikke {what}.", status_code=404)


async def login_page(request: Request) -> Response:
    return render(request, "login.html", next=request.query_params.get("next", "/"))


@signed_in
async def hearings_page(request: Request) -> Response:
    with read_session(request.app.state.engine) as session:
        rows = q.hearings_overview(session, _today(request).date())
    return render(request, "hearings.html", hearings=rows)


def _hearing(session, request: Request) -> HearingRow | None:
    try:
        return hearings.get_hearing(session, slug_case(request.path_params["case"]))
    except UserError:
        return None


@signed_in
async def hearing_page(request: Request) -> Response:
    with read_session(request.app.state.engine) as session:
        hearing = _hearing(session, request)
        if hearing is None:
            return _not_found("høringen")
        status = q.recipient_status(session, hearing, _today(request).date())
        summaries = session.exec(
            select(LetterRow)
            .where(LetterRow.hearing_id == hearing.id, col(LetterRow.kind).in_(SUMMARY_KINDS))
            .order_by(col(LetterRow.variant), col(LetterRow.kind))
        ).all()
        days_left = (hearing.deadline - _today(request).date()).days
    return render(
        request,
        "hearing.html",
        hearing=hearing,
        recipients=status,
        summaries=summaries,
        days_left=days_left,
    )


def _filter(request: Request) -> q.ResponseFilter:
    params = request.query_params
    campaign = params.get("campaign", "").strip()
    return q.ResponseFilter(
        stance=params.get("stance", ""),
        unreviewed=params.get("unreviewed") == "1",
        late=params.get("late") == "1",
        campaign=int(campaign) if campaign.isdigit() else None,
        specialty=params.get("specialty", "").strip(),
        sender=params.get("sender", ""),
        search=params.get("q", ""),
    )


@signed_in
async def responses_page(request: Request) -> Response:
    wanted = _filter(request)
    page_text = request.query_params.get("page", "1")
    page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
    with read_session(request.app.state.engine) as session:
        hearing = _hearing(session, request)
        if hearing is None:
            return _not_found("høringen")
        counts = q.hearing_counts(session, hearing.id or 0)
        listing = q.response_page(session, hearing, wanted, page)
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(
        request,
        "responses.html",
        hearing=hearing,
        counts=counts,
        listing=listing,
        wanted=wanted,
        stances=list(Stance),
        query=query,
    )


def _marked_body(text: str, phrase: str | None, position: int | None) -> list[tuple[str, bool]]:
    """The body in pieces, the suggestion's phrase marked where it triggered."""
    if not phrase or position is None or text[position : position + len(phrase)] != phrase:
        return [(text, False)]
    end = position + len(phrase)
    return [(text[:position], False), (phrase, True), (text[end:], False)]


@signed_in
async def response_page(request: Request) -> Response:
    with read_session(request.app.state.engine) as session:
        response = session.get(ResponseRow, request.path_params["id"])
        if response is None:
            return _not_found("svaret")
        detail = q.response_detail(session, response)
        hearing = session.get(HearingRow, response.hearing_id) if response.hearing_id else None
        items = q.hearing_items(session, hearing) if hearing else []
    found = detail["suggestion"]
    body = _marked_body(
        response.body_text or "",
        found.phrase if found else None,
        found.position if found else None,
    )
    return render(
        request,
        "response.html",
        hearing=hearing,
        d=detail,
        body=body,
        items=items,
        stances=list(Stance),
    )


@signed_in
async def attachment_download(request: Request) -> Response:
    with read_session(request.app.state.engine) as session:
        attachment = session.get(ResponseAttachmentRow, request.path_params["id"])
    if attachment is None:
        return _not_found("vedlegget")
    store = BlobStore(request.app.state.settings.data_dir / "blobs")
    return Response(
        store.get(attachment.sha256),
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=utf-8''{quote(attachment.safe_name)}"
        },
    )


@signed_in
async def campaign_page(request: Request) -> Response:
    with read_session(request.app.state.engine) as session:
        hearing = _hearing(session, request)
        if hearing is None:
            return _not_found("høringen")
        found = q.campaign_members(session, hearing, request.path_params["number"])
        items = q.hearing_items(session, hearing)
    if found is None:
        return _not_found("kampanjen")
    group, members = found["group"], found["members"]
    base = next((m for m in members if m.id == group.representative_id), members[0])
    pairs = [(m, side_by_side(base.body_text or "", m.body_text or "")) for m in members]
    return render(
        request,
        "campaign.html",
        hearing=hearing,
        group=group,
        base=base,
        pairs=pairs,
        items=items,
        stances=list(Stance),
        stance_nb=Stance(group.stance).label_nb if group.stance else None,
    )


@signed_in
async def intake_page(request: Request) -> Response:
    with read_session(request.app.state.engine) as session:
        unmatched = list_unmatched(session)
        quarantined = list_quarantine(session)
        open_cases = session.exec(
            select(HearingRow.case_number).where(col(HearingRow.state) != "draft")
        ).all()
    return render(
        request, "intake.html", unmatched=unmatched, quarantined=quarantined, cases=open_cases
    )


@signed_in
async def letter_download(request: Request) -> Response:
    with read_session(request.app.state.engine) as session:
        letter = session.get(LetterRow, request.path_params["id"])
    if letter is None or letter.kind not in SUMMARY_KINDS or not Path(letter.path).exists():
        return _not_found("filen")
    return FileResponse(letter.path, filename=Path(letter.path).name)


def routes() -> list[Route]:
    return [
        Route("/", hearings_page),
        Route("/h/{case}", hearing_page),
        Route("/h/{case}/responses", responses_page),
        Route("/h/{case}/campaign/{number:int}", campaign_page),
        Route("/r/{id:int}", response_page),
        Route("/attachment/{id:int}", attachment_download),
        Route("/letter/{id:int}", letter_download),
        Route("/intake", intake_page),
    ]
