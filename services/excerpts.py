"""Excerpts: a quoted passage of a response (its body or an attachment) tied to a change
item, or to the hearing as a whole; found by its words, stored once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from domain.review_file import ExcerptInput
from services.review_lookup import BODY, HearingIndex, ReviewError, open_response, resolve_items
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseRow
from storage.review_models import ResponseExcerptRow
from storage.rows import row_id
from storage.timeutil import to_db


@dataclass(frozen=True)
class FoundExcerpt:
    """A quoted passage found in a response: `source` is "body" or an attachment's sha256,
    `start`/`end` offsets in that text."""

    response: ResponseRow
    item: str | None
    source: str
    start: int
    end: int
    quote: str


def _locate(quote: str, text: str) -> tuple[int, int] | None:
    words = quote.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    match = pattern.search(text)
    return match.span() if match else None


def find_excerpt(index: HearingIndex, response: ResponseRow, excerpt: ExcerptInput) -> FoundExcerpt:
    item = None
    if excerpt.item:
        item = resolve_items(index.aliases, [excerpt.item], excerpt.where)[0]
    attachments = index.attachments.get(response.id or 0, [])
    candidates: list[tuple[str, str]] = []
    if excerpt.attachment is None:
        candidates.append((BODY, response.body_text or ""))
    for attachment in attachments:
        names = {attachment.filename or "", attachment.safe_name}
        if excerpt.attachment is None or excerpt.attachment in names:
            candidates.append((attachment.sha256, attachment.text or ""))
    if excerpt.attachment is not None and not candidates:
        shown = ", ".join(a.filename or a.safe_name for a in attachments) or "none"
        raise ReviewError(
            f"{excerpt.where}: response {response.tracking_number} has no attachment "
            f"'{excerpt.attachment}' (attachments: {shown}); check the file name"
        )
    for source, text in candidates:
        span = _locate(excerpt.quote, text)
        if span is not None:
            return FoundExcerpt(response, item, source, span[0], span[1], text[span[0] : span[1]])
    shown = " ".join(excerpt.quote.split())[:60]
    raise ReviewError(
        f"{excerpt.where}: the quote '{shown}' is not in response {response.tracking_number} "
        "(its text or attachments); copy the passage exactly as written"
    )


def write_excerpts(
    session: Session,
    hearing: HearingRow,
    excerpts: Sequence[FoundExcerpt],
    actor: str,
    at: datetime,
) -> int:
    """Store the excerpts not stored yet (same response, item, source and span)."""
    added = 0
    for found in excerpts:
        same_item = (
            col(ResponseExcerptRow.item_ref).is_(None)
            if found.item is None
            else ResponseExcerptRow.item_ref == found.item
        )
        exists = session.exec(
            select(ResponseExcerptRow.id).where(
                ResponseExcerptRow.response_id == found.response.id,
                ResponseExcerptRow.source == found.source,
                ResponseExcerptRow.start == found.start,
                ResponseExcerptRow.end == found.end,
                same_item,
            )
        ).first()
        if exists is not None:
            continue
        session.add(
            ResponseExcerptRow(
                hearing_id=row_id(hearing),
                response_id=row_id(found.response),
                item_ref=found.item,
                source=found.source,
                start=found.start,
                end=found.end,
                quote=found.quote,
                created_at=at,
                created_by=actor,
            )
        )
        added += 1
    return added


def add_excerpt(
    session: Session,
    response_ref: str,
    *,
    quote: str,
    item: str | None,
    attachment: str | None = None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Tie a passage of a response to a change item (None: the hearing as a whole)."""
    response, hearing, index = open_response(session, response_ref)
    found = find_excerpt(index, response, ExcerptInput(item, quote, attachment, "--quote"))
    added = write_excerpts(session, hearing, [found], actor, to_db(now))
    session.flush()
    return {
        "response": response.tracking_number,
        "item": found.item,
        "source": found.source,
        "start": found.start,
        "end": found.end,
        "quote": found.quote,
        "added": bool(added),
    }
