"""Withdrawing a hearing: what it causes besides the state change.

Every reservation the hearing still holds is burned (its number is never handed out
again); every message of the hearing that has not gone out is cancelled in the outbox
(høringsbrev, reminders, receipts waiting); and when the hearing had been circulated, a
withdrawal letter (tilbaketrekking, the next document of the case) is rendered and
queued to every recipient of the høringsbrev. A response that arrives later gets a
receipt that says the hearing is withdrawn (`services.receipts`).
"""

from __future__ import annotations

from typing import Any

from domain.calendar import format_date_nb, oslo_date
from domain.lifecycle import HearingState
from domain.withdrawal_letter import withdrawal_letter_context
from services.hearing_records import (
    allocate_document_number,
    case_folder,
    queue_to_recipients,
    recipient_infos,
    record_letter,
)
from storage import ledger
from storage.outbox_queue import cancel_pending
from storage.timeutil import to_db

WITHDRAWAL_KIND = "tilbaketrekking"
CANCEL_REASON = "not sent: the hearing is withdrawn"
_CIRCULATED = frozenset({HearingState.CIRCULATED, HearingState.CLOSED})


def withdraw_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    burned = []
    for reservation in ledger.reservations_for_case(session, hearing.case_number):
        if reservation.status in {"reserved", "deferred"}:
            ledger.mark(session, reservation.key, "burned", to_db(now), "hearing withdrawn")
            burned.append(reservation.display)
    details: dict[str, Any] = {
        "burned_reservations": burned,
        "cancelled_messages": cancel_pending(session, hearing.id, CANCEL_REASON),
    }
    if facts.state in _CIRCULATED:
        reason = outcome.events[0].reason if outcome.events else ""
        withdrawn_ids = [shown for shown in burned if not shown.endswith("-xxx")]
        details.update(
            _send_withdrawal_letter(
                session, hearing, facts, reason, withdrawn_ids, now, letters_dir
            )
        )
    return details


def _send_withdrawal_letter(
    session, hearing, facts, reason, withdrawn_ids, now, letters_dir
) -> dict[str, Any]:
    from rendering.letters import render_docx  # python-docx: only for the step itself

    spec = facts.spec
    context = withdrawal_letter_context(
        spec,
        reason or "",
        hearing.circulated_on or oslo_date(now),
        oslo_date(now),
        withdrawn_ids,
        recipient_infos(session, hearing),
    )
    document_number = allocate_document_number(session, hearing.id)
    path = case_folder(letters_dir, spec.case) / (
        f"{WITHDRAWAL_KIND}-{document_number.replace('/', '-')}.docx"
    )
    sha = render_docx(WITHDRAWAL_KIND, context, path)
    record_letter(session, hearing, WITHDRAWAL_KIND, path, sha, now, document_number)
    queued = queue_to_recipients(
        session,
        hearing,
        WITHDRAWAL_KIND,
        now,
        [path],
        subject=f"Tilbaketrekking av høring: {spec.title} (vår ref. {spec.case})",
        body=(
            f"Helsedirektoratet trekker tilbake høringen {spec.title}, sendt ut "
            f"{format_date_nb(context.circulated_date)} med frist {format_date_nb(spec.deadline)}."
            "\n\nBrevet om tilbaketrekkingen med begrunnelse er vedlagt. Det skal ikke "
            f"lenger sendes høringsinnspill i saken {spec.case}.\n\nVennlig hilsen\n"
            "Helsedirektoratet\n"
        ),
    )
    return {"letters": [str(path)], "queued_messages": queued}
