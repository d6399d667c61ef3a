"""Circulating a hearing: the høringsbrev and the change sheet are rendered and recorded
as document 1 of the case, and the letter is queued in the outbox to every recipient."""

from __future__ import annotations

from typing import Any

from domain.calendar import format_date_nb, oslo_date
from domain.letter_building import hearing_letter_context
from services.hearing_records import (
    allocate_document_number,
    case_folder,
    goal_texts,
    id_displays,
    queue_to_recipients,
    recipient_infos,
    record_letter,
    specialty_infos,
)
from services.verification import hearing_provisional_refs


def _document_number(session, hearing) -> str:
    """The høringsbrev is document 1 of its case; in a case reused after a withdrawal
    (documents already numbered) it takes the next number of the series."""
    if hearing.last_document_number == 0:
        hearing.last_document_number = 1
        return f"{hearing.case_number}-1"
    return allocate_document_number(session, hearing.id)


def circulate_effects(session, hearing, facts, outcome, now, letters_dir) -> dict[str, Any]:
    # Rendering loads python-docx and openpyxl: only for the step itself, so that a
    # refusal checked before the flow (flows.checks) answers quickly.
    from rendering.change_sheet import write_change_sheet
    from rendering.letters import render_docx

    spec = facts.spec
    circulated_on = oslo_date(now)
    context = hearing_letter_context(
        spec,
        specialty_infos(session),
        id_displays(session, hearing),
        recipient_infos(session, hearing),
        circulated_on,
        goal_texts=goal_texts(session, spec),
        provisional_refs=hearing_provisional_refs(session, hearing),
    )
    folder = case_folder(letters_dir, spec.case)
    document_number = _document_number(session, hearing)
    slug = document_number.replace("/", "-")
    letter_path = folder / f"hoeringsbrev-{slug}.docx"
    first = document_number == f"{hearing.case_number}-1"
    sheet_name = spec.case.replace("/", "-") if first else slug
    sheet_path = folder / f"endringsoversikt-{sheet_name}.xlsx"
    letter_sha = render_docx("hoeringsbrev", context, letter_path)
    sheet_sha = write_change_sheet(context.change_sheet(), sheet_path)
    record_letter(session, hearing, "hoeringsbrev", letter_path, letter_sha, now, document_number)
    record_letter(session, hearing, "endringsoversikt", sheet_path, sheet_sha, now)
    hearing.circulated_on = circulated_on
    queued = queue_to_recipients(
        session,
        hearing,
        "hoeringsbrev",
        now,
        [letter_path, sheet_path],
        subject=f"Høring: {spec.title} (vår ref. {spec.case})",
        body=(
            f"Helsedirektoratet sender med dette på høring: {spec.title}.\n\n"
            f"Høringsbrevet og endringsoversikten er vedlagt. Frist for høringsinnspill er "
            f"{format_date_nb(spec.deadline)}. Innspill sendes til postmottak@helsedir.no med "
            f"referanse til saksnummer {spec.case}.\n\nVennlig hilsen\nHelsedirektoratet\n"
        ),
    )
    return {"letters": [str(letter_path), str(sheet_path)], "queued_messages": queued}
