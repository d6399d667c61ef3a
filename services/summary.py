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
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

import jinja2
from docx.shared import Cm
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from sqlmodel import Session, select

from domain.campaigns import letter_body
from domain.decisions import Decisions
from domain.hearing_spec import HearingSpec
from domain.letter_building import SpecialtyInfo
from domain.stance import STANCE_ORDER, Stance
from domain.summary_context import (
    WHOLE_HEARING_NB,
    ExcerptFacts,
    RecipientFacts,
    RespondentRow,
    ResponseFacts,
    SummaryContext,
    build_summary_context,
)
from rendering.change_sheet import sheet_title
from rendering.letters import (
    AUTHOR,
    LetterTemplateError,
    letter_environment,
    markdown_to_docx,
    new_letter_document,
    normalise_zip,
    set_core_properties,
    write_atomically,
)
from services import hearings
from services.review_lookup import (
    BODY,
    attachments_of,
    campaign_membership,
    hearing_responses,
    respondent_name,
    reviews_of,
)
from storage.hearing_models import HearingRow, LetterRow
from storage.models import SpecialtyRow
from storage.review_models import ResponseExcerptRow
from storage.timeutil import from_db, to_db

KIND = "hoeringsoppsummering"
SHEET_KIND = "hoeringsoppsummering-xlsx"
TEMPLATE = f"{KIND}.md.j2"
CHART_MARKER = "[[chart]]"
CHART_WIDTH = Cm(16)
STANCE_COLOURS = {
    Stance.SUPPORTS: "#2e7d32",
    Stance.SUPPORTS_WITH_COMMENTS: "#9ccc65",
    Stance.OPPOSES: "#c62828",
    Stance.NO_COMMENTS: "#9e9e9e",
}


# --- the context from the record ---------------------------------------------------------------


def _specialties(session: Session) -> dict[str, SpecialtyInfo]:
    return {
        r.prefix: SpecialtyInfo(name=r.name, group=r.group)
        for r in session.exec(select(SpecialtyRow)).all()
    }


def _effective_date(
    hearing: HearingRow, decisions: Decisions | None, spec: HearingSpec
) -> date | None:
    if hearing.effective_date is not None:
        return hearing.effective_date
    if decisions is not None and decisions.effective_date is not None:
        return decisions.effective_date
    return spec.effective_date


def summary_context(
    session: Session, case: str, as_of: datetime, decisions: Decisions | None = None
) -> SummaryContext:
    """The høringsoppsummering of hearing `case` as the record stands, dated `as_of`.

    `decisions` (a draft decisions file, checked against the spec) is used instead of the
    stored ones, so the summary can be written before codification."""
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
    facts = []
    for response in responses:
        review = reviews.get(response.id or 0)
        group = membership.get(response.id or 0)
        facts.append(
            ResponseFacts(
                response_id=response.id or 0,
                tracking_number=response.tracking_number or f"#{response.id}",
                respondent=respondent_name(response),
                organisation=response.organisation,
                stakeholder_key=response.stakeholder_key,
                received_at=from_db(response.received_at) or response.received_at,
                late=bool(response.late),
                stance=Stance(response.stance) if response.stance else None,
                items=tuple(json.loads(review.items_json)) if review else (),
                note=(review.note or "") if review else "",
                campaign=group.number if group else None,
                first_lines=letter_body(response.body_text or "")[:1000],
            )
        )
    names = {a.sha256: a.filename or a.safe_name for rows in attachments.values() for a in rows}
    excerpts = [
        ExcerptFacts(
            response_id=row.response_id,
            item_ref=row.item_ref,
            text=row.quote,
            source="e-post" if row.source == BODY else names.get(row.source, "vedlegg"),
        )
        for row in session.exec(
            select(ResponseExcerptRow)
            .where(ResponseExcerptRow.hearing_id == hearing.id)
            .order_by(ResponseExcerptRow.id)
        ).all()
    ]
    recipients = [
        RecipientFacts(stakeholder_key=r.stakeholder_key, name=r.name, group=r.group)
        for r in hearings.recipients(session, hearing)
    ]
    return build_summary_context(
        spec=spec,
        specialties=_specialties(session),
        id_displays=hearings.id_displays(session, hearing),
        recipients=recipients,
        responses=facts,
        excerpts=excerpts,
        decisions=decisions,
        circulated_on=hearing.circulated_on,
        effective_date=_effective_date(hearing, decisions, spec),
        as_of=as_of,
    )


# --- the chart -----------------------------------------------------------------------------


def chart_png(context: SummaryContext) -> bytes:
    """Responses by stance (stacked) per specialty and for the whole hearing, as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(reversed(context.chart_rows))  # top to bottom as in the table
    labels = [label for label, _ in rows]
    height = max(2.8, 0.42 * len(rows) + 1.8)
    figure = Figure(figsize=(8, height), dpi=150)
    FigureCanvasAgg(figure)  # the Agg backend, whatever matplotlib's default is
    axes = figure.subplots()
    left = [0] * len(rows)
    for stance in STANCE_ORDER:
        values = [tally.count(stance) for _, tally in rows]
        bars = axes.barh(
            labels, values, left=left, color=STANCE_COLOURS[stance], label=stance.label_nb
        )
        for bar, value in zip(bars, values, strict=True):
            if value:
                axes.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if stance in (Stance.SUPPORTS, Stance.OPPOSES) else "black",
                )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlabel("Antall svar")
    axes.set_title(f"Høringssvar etter standpunkt og spesialitet (sak {context.case_number})")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8, frameon=False, ncols=4)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --- the .docx -----------------------------------------------------------------------------


def template_variables(context: SummaryContext) -> dict[str, Any]:
    """The template's variables: the context's fields and its display properties."""
    values = {f.name: getattr(context, f.name) for f in fields(context)}
    for name in ("late", "individual_respondents", "consulted_count", "answered_count"):
        values[name] = getattr(context, name)
    return values


def render_markdown(context: SummaryContext, templates_dir: Path | None = None) -> str:
    env = letter_environment(templates_dir) if templates_dir else letter_environment()
    try:
        text = env.get_template(TEMPLATE).render(template_variables(context))
    except jinja2.UndefinedError as error:
        raise LetterTemplateError(
            f"{TEMPLATE}: {error.message}; add the field to SummaryContext or correct the template"
        ) from error
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def summary_docx_bytes(context: SummaryContext, chart: bytes) -> bytes:
    """The .docx bytes: the rendered template with the chart image in place."""
    document = new_letter_document()
    markdown_to_docx(render_markdown(context), document)
    placed = False
    for paragraph in document.paragraphs:
        if paragraph.text.strip() == CHART_MARKER:
            for run in list(paragraph.runs):
                run._r.getparent().remove(run._r)
            paragraph.add_run().add_picture(BytesIO(chart), width=CHART_WIDTH)
            placed = True
    if not placed:
        document.add_paragraph().add_run().add_picture(BytesIO(chart), width=CHART_WIDTH)
    set_core_properties(
        document,
        title=f"Høringsoppsummering: {context.title}",
        subject=f"Sak {context.case_number}",
        day=context.letter_date,
    )
    buffer = BytesIO()
    document.save(buffer)
    return normalise_zip(buffer.getvalue(), context.letter_date)


# --- the .xlsx -----------------------------------------------------------------------------

RESPONSE_HEADERS = (
    "Nr.",
    "Avsender",
    "Organisasjon",
    "Mottatt",
    "Etter fristen",
    "Standpunkt",
    "Gjelder",
    "Kampanje",
    "Merknad",
)
OVERVIEW_HEADERS = ("Spesialitet", *(s.label_nb.capitalize() for s in STANCE_ORDER), "Totalt")


def _response_row(row: RespondentRow) -> tuple[str, ...]:
    return (
        row.tracking_number,
        row.respondent,
        row.organisation or "",
        row.received.isoformat(),
        "Ja" if row.late else "Nei",
        row.stance_nb,
        row.items_nb,
        row.campaign or "",
        row.note,
    )


def _table(sheet: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=SUM(...)" from a sender is text, never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, header in enumerate(headers, start=1):
        longest = max([len(header)] + [len(str(r[column - 1])) for r in rows])
        sheet.column_dimensions[get_column_letter(column)].width = min(longest + 2, 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def summary_workbook(context: SummaryContext) -> Workbook:
    workbook = Workbook()
    overview = workbook.active
    assert overview is not None
    overview.title = "Oversikt"
    counts = [(s.name, *s.tally.counts, s.tally.total) for s in context.specialties]
    counts.append((WHOLE_HEARING_NB, *context.whole_hearing.counts, context.whole_hearing.total))
    counts.append(("Alle svar", *context.overall.counts, context.overall.total))
    _table(overview, OVERVIEW_HEADERS, counts)
    titles = ["Oversikt", "Alle svar"]
    everything = workbook.create_sheet("Alle svar")
    _table(everything, RESPONSE_HEADERS, [_response_row(r) for r in context.respondents])
    for specialty in context.specialties:
        title = sheet_title(f"{specialty.prefix} {specialty.name}", titles)
        titles.append(title)
        rows = [r for r in context.respondents if specialty.prefix in r.specialties]
        _table(workbook.create_sheet(title), RESPONSE_HEADERS, [_response_row(r) for r in rows])
    stamp = datetime.combine(context.letter_date, time(0, 0), tzinfo=UTC).replace(tzinfo=None)
    props = workbook.properties
    props.creator = props.lastModifiedBy = AUTHOR
    props.created = props.modified = stamp
    props.title = f"Høringsoppsummering sak {context.case_number}"
    props.subject = context.title
    return workbook


def summary_xlsx_bytes(context: SummaryContext) -> bytes:
    buffer = BytesIO()
    with ZipFile(buffer, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(summary_workbook(context), archive).write_data()
    return normalise_zip(buffer.getvalue(), context.letter_date)


# --- writing and recording -------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryFiles:
    docx: Path
    xlsx: Path
    chart: Path
    docx_sha256: str
    xlsx_sha256: str
    context: SummaryContext

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
    """Write the .docx, .xlsx and chart of the summary under the case's letter folder and
    record them with the hearing's letters (rewritten when run again)."""
    context = summary_context(session, case, as_of, decisions)
    hearing = hearings.get_hearing(session, case)
    folder = hearings.case_folder(letters_dir, context.case_number)
    slug = context.case_number.replace("/", "-")
    chart = chart_png(context)
    chart_path = folder / f"{KIND}-{slug}-diagram.png"
    docx_path = folder / f"{KIND}-{slug}.docx"
    xlsx_path = folder / f"{KIND}-{slug}.xlsx"
    write_atomically(chart_path, chart)
    docx_sha = write_atomically(docx_path, summary_docx_bytes(context, chart))
    xlsx_sha = write_atomically(xlsx_path, summary_xlsx_bytes(context))
    _record(session, hearing, KIND, docx_path, docx_sha, as_of)
    _record(session, hearing, SHEET_KIND, xlsx_path, xlsx_sha, as_of)
    return SummaryFiles(docx_path, xlsx_path, chart_path, docx_sha, xlsx_sha, context)


def _record(
    session: Session, hearing: HearingRow, kind: str, path: Path, sha256: str, now: datetime
) -> None:
    row = session.exec(
        select(LetterRow).where(
            LetterRow.hearing_id == hearing.id, LetterRow.kind == kind, LetterRow.variant == ""
        )
    ).first()
    if row is None:
        row = LetterRow(hearing_id=hearing.id, kind=kind, path="", sha256="", created_at=to_db(now))
    row.path, row.sha256 = str(path), sha256
    session.add(row)
    session.flush()
