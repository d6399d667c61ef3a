"""The høringsoppsummering as documents: the chart (matplotlib, Agg backend, PNG), the
.docx (the letter machinery: Jinja2 template -> restricted Markdown -> python-docx, with
the chart put where the template says `[[chart]]`) and the .xlsx (one row per response,
overall and per specialty). Deterministic for the same context.
"""

from __future__ import annotations

import re
from dataclasses import fields
from io import BytesIO
from pathlib import Path
from typing import Any

import jinja2
from docx.shared import Cm
from openpyxl import Workbook

from domain.stance import STANCE_ORDER, Stance
from domain.summary_context import WHOLE_HEARING_NB, RespondentRow, SummaryContext
from rendering.docx_files import new_letter_document, normalise_zip, set_core_properties
from rendering.letters import letter_environment
from rendering.markdown_docx import LetterTemplateError, markdown_to_docx
from rendering.xlsx_tables import (
    add_table_sheet,
    new_workbook,
    set_workbook_properties,
    workbook_bytes,
)

TEMPLATE = "hoeringsoppsummering.md.j2"
CHART_MARKER = "[[chart]]"
CHART_WIDTH = Cm(16)
STANCE_COLOURS = {
    Stance.SUPPORTS: "#2e7d32",
    Stance.SUPPORTS_WITH_COMMENTS: "#9ccc65",
    Stance.OPPOSES: "#c62828",
    Stance.NO_COMMENTS: "#9e9e9e",
}


# --- the chart -----------------------------------------------------------------------------


def chart_png(context: SummaryContext) -> bytes:
    """Responses by stance (stacked) per specialty and for the whole hearing, as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

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
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
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


def summary_workbook(context: SummaryContext) -> Workbook:
    workbook = new_workbook()
    counts = [(s.name, *s.tally.counts, s.tally.total) for s in context.specialties]
    counts.append((WHOLE_HEARING_NB, *context.whole_hearing.counts, context.whole_hearing.total))
    counts.append(("Alle svar", *context.overall.counts, context.overall.total))
    overview = add_table_sheet(workbook, "Oversikt", OVERVIEW_HEADERS, counts)
    sheet = workbook[overview]
    sheet.append([])
    sheet.append([context.edition_nb])  # which version this is, on the first sheet
    everything = [_response_row(r) for r in context.respondents]
    add_table_sheet(workbook, "Alle svar", RESPONSE_HEADERS, everything)
    for specialty in context.specialties:
        rows = [r for r in context.respondents if specialty.prefix in r.specialties]
        name = f"{specialty.prefix} {specialty.name}"
        add_table_sheet(workbook, name, RESPONSE_HEADERS, [_response_row(r) for r in rows])
    for each in workbook.worksheets:
        each.oddHeader.center.text = context.edition_nb  # and on every printed page
    set_workbook_properties(
        workbook,
        day=context.letter_date,
        title=f"Høringsoppsummering sak {context.case_number}",
        subject=context.title,
    )
    workbook.properties.description = context.edition_nb
    return workbook


def summary_xlsx_bytes(context: SummaryContext) -> bytes:
    return workbook_bytes(summary_workbook(context), context.letter_date)
