"""The høringsoppsummering of a hearing: .docx with a chart, and the same as .xlsx.

`summary_context(session, case, as_of)` reads the record (spec, recipients, responses
with their reviews, campaign groups, excerpts, decisions) into a
`domain.summary_context.SummaryContext`. The .docx goes through the letter machinery of
`rendering.letters` (Jinja2 template -> restricted Markdown -> python-docx) with the chart
(matplotlib, Agg backend, PNG) put where the template says `[[chart]]`; the .xlsx has
one row per response, overall and per specialty. Both files are deterministic for the
same record and date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from domain.campaigns import letter_body
from domain.decisions import Decisions
from domain.hearing_spec import HearingSpec
from domain.response_masking import ResponseMasker
from domain.stance import STANCE_ORDER, Stance
from domain.summary_context import (
    INTERNAL_EDITION_NB,
    PUBLIC_EDITION_NB,
    ExcerptFacts,
    RecipientFacts,
    ResponseFacts,
    SummaryContext,
    build_summary_context,
)
from fileio.atomic import write_atomically
from rendering.summary_document import (  # RESPONSE_HEADERS re-exported for the tests
    RESPONSE_HEADERS,
    chart_png,
    summary_docx_bytes,
    summary_xlsx_bytes,
)
from services import hearings
from services.hearing_records import record_letter, specialty_infos
from services.publication import PRIVATE_NB, response_masker
from services.review_lookup import (
    BODY,
    attachments_of,
    campaign_membership,
    hearing_responses,
    respondent_name,
    reviews_of,
)
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.review_models import CampaignGroupRow, ResponseExcerptRow, ResponseReviewRow
from storage.timeutil import from_db

__all__ = [
    "KIND",
    "RESPONSE_HEADERS",
    "SHEET_KIND",
    "SummaryFiles",
    "summary_context",
    "write_summary",
]

KIND = "hoeringsoppsummering"
SHEET_KIND = "hoeringsoppsummering-xlsx"
PUBLIC_VARIANT = "offentlig"  # the public version's letter variant and file name suffix
# --- the context from the record ---------------------------------------------------------------


def _effective_date(
    hearing: HearingRow, decisions: Decisions | None, spec: HearingSpec
) -> date | None:
    if hearing.effective_date is not None:
        return hearing.effective_date
    if decisions is not None and decisions.effective_date is not None:
        return decisions.effective_date
    return spec.effective_date


def summary_context(
    session: Session,
    case: str,
    as_of: datetime,
    decisions: Decisions | None = None,
    public: bool = False,
) -> SummaryContext:
    """The høringsoppsummering of hearing `case` as the record stands, dated `as_of`.

    `decisions` (a draft decisions file, checked against the spec) is used instead of the
    stored ones, so the summary can be written before codification. `public` gives the
    public version: private persons are "Privatperson" and what is quoted from them is
    masked by the publication export's masking (`publication.response_masker`)."""
    hearing = hearings.get_hearing(session, case)
    spec = hearings.load_spec(hearing)
    if decisions is not None:
        decisions.check_against(spec)
    else:
        decisions = hearings.load_decisions(hearing)
    responses = hearing_responses(session, hearing)
    ids = [r.id for r in responses if r.id is not None]
    reviews = reviews_of(session, ids)
    membership = campaign_membership(session, hearing)
    attachments = attachments_of(session, ids)
    maskers = _maskers(responses, attachments) if public else {}
    facts = [
        _response_facts(
            r, reviews.get(r.id or 0), membership.get(r.id or 0), maskers.get(r.id or 0)
        )
        for r in responses
    ]
    excerpts = _excerpt_facts(session, hearing, attachments, maskers)
    recipients = [
        RecipientFacts(stakeholder_key=r.stakeholder_key, name=r.name, group=r.group)
        for r in hearings.recipients(session, hearing)
    ]
    return build_summary_context(
        spec=spec,
        specialties=specialty_infos(session),
        id_displays=hearings.id_displays(session, hearing),
        recipients=recipients,
        responses=facts,
        excerpts=excerpts,
        decisions=decisions,
        circulated_on=hearing.circulated_on,
        effective_date=_effective_date(hearing, decisions, spec),
        as_of=as_of,
        edition_nb=PUBLIC_EDITION_NB if public else INTERNAL_EDITION_NB,
    )


def _maskers(
    responses: list[ResponseRow], attachments: dict[int, list[ResponseAttachmentRow]]
) -> dict[int, ResponseMasker]:
    """The export's masking of each private person's response, by response id."""
    maskers: dict[int, ResponseMasker] = {}
    for response in responses:
        masker = response_masker(response, attachments.get(response.id or 0, []))
        if masker is not None:
            maskers[response.id or 0] = masker
    return maskers


def _response_facts(
    response: ResponseRow,
    review: ResponseReviewRow | None,
    group: CampaignGroupRow | None,
    masker: ResponseMasker | None = None,
) -> ResponseFacts:
    shown = masker.mask if masker is not None else str
    return ResponseFacts(
        response_id=response.id or 0,
        tracking_number=response.tracking_number or f"#{response.id}",
        respondent=PRIVATE_NB if masker is not None else respondent_name(response),
        organisation=response.organisation,
        stakeholder_key=response.stakeholder_key,
        received_at=from_db(response.received_at) or response.received_at,
        late=bool(response.late),
        stance=Stance(response.stance) if response.stance else None,
        items=tuple(json.loads(review.items_json)) if review else (),
        note=shown(review.note or "") if review else "",
        campaign=group.number if group else None,
        first_lines=shown(letter_body(response.body_text or "")[:1000]),
    )


def _excerpt_facts(
    session: Session,
    hearing: HearingRow,
    attachments: dict[int, list[ResponseAttachmentRow]],
    maskers: dict[int, ResponseMasker],
) -> list[ExcerptFacts]:
    names = {a.sha256: a.filename or a.safe_name for rows in attachments.values() for a in rows}

    def facts(row: ResponseExcerptRow) -> ExcerptFacts:
        source = "e-post" if row.source == BODY else names.get(row.source, "vedlegg")
        masker = maskers.get(row.response_id)
        if masker is not None:
            return ExcerptFacts(
                response_id=row.response_id,
                item_ref=row.item_ref,
                text=masker.mask(row.quote),
                source=masker.mask_file_name(source),
            )
        return ExcerptFacts(
            response_id=row.response_id, item_ref=row.item_ref, text=row.quote, source=source
        )

    return [
        facts(row)
        for row in session.exec(
            select(ResponseExcerptRow)
            .where(ResponseExcerptRow.hearing_id == hearing.id)
            .order_by(col(ResponseExcerptRow.id))
        ).all()
    ]


# --- writing and recording -------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryFiles:
    """The internal version (names) and, beside it, the public version (masked)."""

    docx: Path
    xlsx: Path
    chart: Path
    docx_sha256: str
    xlsx_sha256: str
    context: SummaryContext
    public_docx: Path
    public_xlsx: Path
    public_docx_sha256: str
    public_xlsx_sha256: str

    def as_json(self) -> dict[str, Any]:
        c = self.context
        return {
            "case": c.case_number,
            "date": c.letter_date.isoformat(),
            "docx": str(self.docx),
            "xlsx": str(self.xlsx),
            "chart": str(self.chart),
            "docx_sha256": self.docx_sha256,
            "xlsx_sha256": self.xlsx_sha256,
            "public_docx": str(self.public_docx),
            "public_xlsx": str(self.public_xlsx),
            "public_docx_sha256": self.public_docx_sha256,
            "public_xlsx_sha256": self.public_xlsx_sha256,
            "responses": len(c.respondents),
            "late": len(c.late),
            "unreviewed": c.unreviewed,
            "not_answered": list(c.not_answered),
            "stances": {s.value: c.overall.count(s) for s in STANCE_ORDER},
            "campaigns": [{"label": g.label, "size": g.size} for g in c.campaigns],
        }


def write_summary(
    session: Session,
    case: str,
    as_of: datetime,
    letters_dir: Path,
    decisions: Decisions | None = None,
) -> SummaryFiles:
    """Write the .docx, .xlsx and chart of the summary under the case's letter folder, the
    internal version and the public one (`-offentlig`), and record them with the
    hearing's letters (rewritten when run again). The chart holds counts only and serves
    both."""
    context = summary_context(session, case, as_of, decisions)
    public = summary_context(session, case, as_of, decisions, public=True)
    hearing = hearings.get_hearing(session, case)
    folder = hearings.case_folder(letters_dir, context.case_number)
    slug = context.case_number.replace("/", "-")
    chart = chart_png(context)
    chart_path = folder / f"{KIND}-{slug}-diagram.png"
    write_atomically(chart_path, chart)
    written: list[tuple[Path, str, Path, str]] = []
    for edition, suffix in ((context, ""), (public, f"-{PUBLIC_VARIANT}")):
        docx_path = folder / f"{KIND}-{slug}{suffix}.docx"
        xlsx_path = folder / f"{KIND}-{slug}{suffix}.xlsx"
        docx_sha = write_atomically(docx_path, summary_docx_bytes(edition, chart))
        xlsx_sha = write_atomically(xlsx_path, summary_xlsx_bytes(edition))
        variant = suffix.lstrip("-")
        record_letter(session, hearing, KIND, docx_path, docx_sha, as_of, variant=variant)
        record_letter(session, hearing, SHEET_KIND, xlsx_path, xlsx_sha, as_of, variant=variant)
        written.append((docx_path, docx_sha, xlsx_path, xlsx_sha))
    (docx_path, docx_sha, xlsx_path, xlsx_sha), (p_docx, p_docx_sha, p_xlsx, p_xlsx_sha) = written
    return SummaryFiles(
        docx=docx_path,
        xlsx=xlsx_path,
        chart=chart_path,
        docx_sha256=docx_sha,
        xlsx_sha256=xlsx_sha,
        context=context,
        public_docx=p_docx,
        public_xlsx=p_xlsx,
        public_docx_sha256=p_docx_sha,
        public_xlsx_sha256=p_xlsx_sha,
    )
