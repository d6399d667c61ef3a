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
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from domain.campaigns import letter_body
from domain.decisions import Decisions
from domain.hearing_spec import HearingSpec
from domain.private_persons import is_private_sender
from domain.response_masking import ResponseMasker
from domain.stance import STANCE_ORDER, Stance
from domain.summary_context import (
    INTERNAL_EDITION_NB,
    PUBLIC_EDITION_NB,
    ExcerptFacts,
    RecipientFacts,
    RespondentRow,
    ResponseFacts,
    SummaryContext,
)
from domain.summary_stream import SummaryAccumulator
from fileio.atomic import write_atomically, write_streamed_atomically
from fileio.spool import Spool
from rendering.summary_document import (  # RESPONSE_HEADERS re-exported for the tests
    RESPONSE_HEADERS,
    chart_png,
    write_summary_docx,
    write_summary_xlsx,
)
from services import hearings
from services.hearing_records import record_letter, specialty_infos
from services.publication import PRIVATE_NB, response_masker
from services.review_lookup import (
    BODY,
    attachments_of,
    respondent_name,
)
from storage.hearing_models import HearingRow
from storage.intake_models import ResponseRow
from storage.review_models import (
    CampaignGroupRow,
    CampaignMemberRow,
    ResponseExcerptRow,
    ResponseReviewRow,
)
from storage.review_queries import is_counted
from storage.rows import row_id
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
    masked by the publication export's masking (`publication.response_masker`).

    The responses are read in one streamed pass (`_stream_facts`) and counted as they
    come (`SummaryAccumulator`); their rows go to a spool on disk (`context.respondents`,
    removed when the context is dropped), so memory does not grow with the hearing."""
    hearing = hearings.get_hearing(session, case)
    spec = hearings.load_spec(hearing)
    if decisions is not None:
        decisions.check_against(spec)
    else:
        decisions = hearings.load_decisions(hearing)
    excerpt_rows = _excerpt_rows(session, hearing)
    excerpt_ids = sorted({row.response_id for row in excerpt_rows})
    id_displays = hearings.id_displays(session, hearing)
    accumulator = SummaryAccumulator(spec, id_displays, excerpt_response_ids=set(excerpt_ids))
    rows: Spool[RespondentRow] = Spool(RespondentRow.as_record, RespondentRow.from_record)
    for facts in _stream_facts(session, hearing, public):
        rows.append(accumulator.add(facts))
    recipients = [
        RecipientFacts(stakeholder_key=r.stakeholder_key, name=r.name, group=r.group)
        for r in hearings.recipients(session, hearing)
    ]
    return accumulator.finish(
        respondents=rows,
        specialties=specialty_infos(session),
        recipients=recipients,
        excerpts=_excerpt_facts(session, excerpt_rows, excerpt_ids, public),
        decisions=decisions,
        circulated_on=hearing.circulated_on,
        effective_date=_effective_date(hearing, decisions, spec),
        as_of=as_of,
        wording=lambda response_id: _first_lines(session, response_id, public),
        edition_nb=PUBLIC_EDITION_NB if public else INTERNAL_EDITION_NB,
    )


_PAGE = 1000
_FACT_COLUMNS = (
    col(ResponseRow.id),
    col(ResponseRow.tracking_number),
    col(ResponseRow.organisation),
    col(ResponseRow.from_name),
    col(ResponseRow.from_address),
    col(ResponseRow.stakeholder_key),
    col(ResponseRow.received_at),
    col(ResponseRow.late),
    col(ResponseRow.stance),
    col(ResponseReviewRow.items_json),
    col(ResponseReviewRow.note),
    col(CampaignGroupRow.number),
)


def _stream_facts(session: Session, hearing: HearingRow, public: bool) -> Iterator[ResponseFacts]:
    """The facts of every response of the hearing (automatic replies left out), oldest
    first, read a page at a time by a streamed query over the hearing's received index;
    only the columns the summary shows, the body only where it is needed (a campaign's
    wording, a private person's masking in the public version)."""
    query = (
        sa_select(*_FACT_COLUMNS)
        .outerjoin(ResponseReviewRow, col(ResponseReviewRow.response_id) == col(ResponseRow.id))
        .outerjoin(CampaignMemberRow, col(CampaignMemberRow.response_id) == col(ResponseRow.id))
        .outerjoin(CampaignGroupRow, col(CampaignGroupRow.id) == col(CampaignMemberRow.campaign_id))
        .where(
            col(ResponseRow.hearing_id) == hearing.id,
            col(ResponseRow.auto_submitted).is_(False),
            is_counted(),  # a supplement is counted with its first response
        )
        .order_by(
            col(ResponseRow.received_at), col(ResponseRow.tracking_number), col(ResponseRow.id)
        )
        .execution_options(yield_per=_PAGE)
    )
    for page in session.execute(query).partitions():
        # A campaign member's first lines only tell which wording most members sent (the
        # wording shown is read again through `wording`, masked in the public version),
        # so only a private person's note needs that person's masking here.
        masked = {r.id for r in page if public and is_private_sender(r.stakeholder_key) and r.note}
        needed = sorted({r.id for r in page if r.number is not None} | masked)
        full = _full_responses(session, needed, public, masked=masked)
        for r in page:
            response, masker = full.get(r.id, (None, None))
            private = public and is_private_sender(r.stakeholder_key)
            yield ResponseFacts(
                response_id=r.id,
                tracking_number=r.tracking_number or f"#{r.id}",
                respondent=PRIVATE_NB if private else respondent_name(cast(ResponseRow, r)),
                organisation=r.organisation,
                stakeholder_key=r.stakeholder_key,
                received_at=from_db(r.received_at) or r.received_at,
                late=bool(r.late),
                stance=Stance(r.stance) if r.stance else None,
                items=tuple(json.loads(r.items_json)) if r.items_json else (),
                note=masker.mask(r.note or "") if masker is not None else (r.note or ""),
                campaign=r.number,
                first_lines=_letter_start(response) if response is not None else "",
            )


def _letter_start(response: ResponseRow) -> str:
    return letter_body(response.body_text or "")[:1000]


def _full_responses(
    session: Session,
    ids: Sequence[int],
    public: bool,
    masked: Container[int] | None = None,
) -> dict[int, tuple[ResponseRow, ResponseMasker | None]]:
    """The responses `ids` whole, with the masking of the private persons among them
    (public version only; of those in `masked` when it is given)."""
    if not ids:
        return {}
    rows = session.exec(select(ResponseRow).where(col(ResponseRow.id).in_(ids))).all()
    private = [
        row_id(r)
        for r in rows
        if public
        and is_private_sender(r.stakeholder_key)
        and (masked is None or row_id(r) in masked)
    ]
    attachments = attachments_of(session, private) if private else {}
    found = {}
    for response in rows:
        masker = None
        if public and (masked is None or row_id(response) in masked):
            masker = response_masker(response, attachments.get(row_id(response), []))
        found[row_id(response)] = (response, masker)
        session.expunge(response)
    return found


def _first_lines(session: Session, response_id: int, public: bool) -> str:
    """A campaign's wording as one member sent it (masked in the public version)."""
    response, masker = _full_responses(session, [response_id], public)[response_id]
    text = _letter_start(response)
    return masker.mask(text) if masker is not None else text


def _excerpt_rows(session: Session, hearing: HearingRow) -> list[ResponseExcerptRow]:
    return list(
        session.exec(
            select(ResponseExcerptRow)
            .where(ResponseExcerptRow.hearing_id == hearing.id)
            .order_by(col(ResponseExcerptRow.id))
        ).all()
    )


def _excerpt_facts(
    session: Session, rows: Sequence[ResponseExcerptRow], ids: Sequence[int], public: bool
) -> list[ExcerptFacts]:
    """The excerpts (few: staff mark them), masked for the public version."""
    attachments = attachments_of(session, ids)
    names = {a.sha256: a.filename or a.safe_name for each in attachments.values() for a in each}
    maskers = {
        rid: masker for rid, (_, masker) in _full_responses(session, ids, public).items() if masker
    }

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

    return [facts(row) for row in rows]


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


def _docx_writer(context: SummaryContext, chart: bytes) -> Callable[[BinaryIO], None]:
    return lambda stream: write_summary_docx(context, chart, stream)


def _xlsx_writer(context: SummaryContext) -> Callable[[BinaryIO], None]:
    return lambda stream: write_summary_xlsx(context, stream)


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
    hearing = hearings.get_hearing(session, case)
    folder = hearings.case_folder(letters_dir, context.case_number)
    slug = context.case_number.replace("/", "-")
    chart = chart_png(context)
    chart_path = folder / f"{KIND}-{slug}-diagram.png"
    write_atomically(chart_path, chart)
    written: list[tuple[Path, str, Path, str]] = []
    for public, suffix in ((False, ""), (True, f"-{PUBLIC_VARIANT}")):
        # One edition at a time: the public one is read after the internal one is written.
        edition = (
            summary_context(session, case, as_of, decisions, public=True) if public else context
        )
        docx_path = folder / f"{KIND}-{slug}{suffix}.docx"
        xlsx_path = folder / f"{KIND}-{slug}{suffix}.xlsx"
        docx_sha = write_streamed_atomically(docx_path, _docx_writer(edition, chart))
        xlsx_sha = write_streamed_atomically(xlsx_path, _xlsx_writer(edition))
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
