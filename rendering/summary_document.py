"""The høringsoppsummering as documents: the chart (matplotlib, Agg backend, PNG), the
.docx (the letter machinery: Jinja2 template -> restricted Markdown -> python-docx, with
the chart put where the template says `[[chart]]`) and the .xlsx (one row per response,
overall and per specialty). Deterministic for the same context.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import fields
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO
from zipfile import ZipFile

import jinja2
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Cm
from lxml import etree

from domain.stance import STANCE_ORDER, Stance
from domain.summary_context import WHOLE_HEARING_NB, RespondentRow, SummaryContext
from rendering.docx_files import new_letter_document, normalise_zip_file, set_core_properties
from rendering.letters import letter_environment
from rendering.markdown_docx import LetterTemplateError, MarkdownPieces, markdown_pieces
from rendering.xlsx_tables import (
    ColumnWidths,
    StreamedTable,
    new_streamed_workbook,
    set_workbook_properties,
    write_workbook,
)

TEMPLATE = "hoeringsoppsummering.md.j2"
CHART_MARKER = "[[chart]]"
CHART_WIDTH = Cm(16)
PIECE_LINES = 2000  # Markdown lines converted at a time
_DOCUMENT_XML = "word/document.xml"
_BODY_OPEN = b"<w:body>"
_SECTION_PROPERTIES = qn("w:sectPr")
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


def render_pieces(context: SummaryContext, templates_dir: Path | None = None) -> Iterator[str]:
    """The rendered template, streamed in fragments (the list of responses is read from
    the context's rows as it is written, never held as one text)."""
    env = letter_environment(templates_dir) if templates_dir else letter_environment()
    try:
        yield from env.get_template(TEMPLATE).generate(template_variables(context))
    except jinja2.UndefinedError as error:
        raise LetterTemplateError(
            f"{TEMPLATE}: {error.message}; add the field to SummaryContext or correct the template"
        ) from error


def render_markdown(context: SummaryContext, templates_dir: Path | None = None) -> str:
    text = "".join(render_pieces(context, templates_dir))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def _place_chart(document: DocxDocument, chart: bytes) -> bool:
    placed = False
    for paragraph in document.paragraphs:
        if paragraph.text.strip() == CHART_MARKER:
            for run in list(paragraph.runs):
                run._r.getparent().remove(run._r)
            paragraph.add_run().add_picture(BytesIO(chart), width=CHART_WIDTH)
            placed = True
    return placed


def _move_blocks(document: DocxDocument, body: BinaryIO) -> None:
    """Write the document's blocks (all but the section properties) to `body` as XML
    and take them out of the document, so it never holds more than one piece."""
    element = document.element.body
    for block in list(element):
        if block.tag == _SECTION_PROPERTIES:
            continue
        body.write(etree.tostring(block, encoding="utf-8"))
        element.remove(block)


def write_summary_docx(
    context: SummaryContext, chart: bytes, stream: BinaryIO, piece_lines: int = PIECE_LINES
) -> None:
    """The .docx of the summary written to `stream`: the rendered template with the
    chart image in place. The Markdown is converted a piece at a time and each piece's
    XML goes to a temporary file, so memory stays flat in the number of responses."""
    document = new_letter_document()
    converter = MarkdownPieces(document)
    placed = False
    with tempfile.TemporaryDirectory(prefix="hoering-docx-") as scratch:
        body_path = Path(scratch) / "body.xml"
        with open(body_path, "wb") as body:
            for piece in markdown_pieces(render_pieces(context), piece_lines):
                converter.add(piece)
                placed = _place_chart(document, chart) or placed
                _move_blocks(document, body)
            converter.close()
            if not placed:
                document.add_paragraph().add_run().add_picture(BytesIO(chart), width=CHART_WIDTH)
                _move_blocks(document, body)
        set_core_properties(
            document,
            title=f"Høringsoppsummering: {context.title}",
            subject=f"Sak {context.case_number}",
            day=context.letter_date,
        )
        shell = Path(scratch) / "shell.docx"
        document.save(str(shell))
        with ZipFile(shell) as archive:
            head, tail = archive.read(_DOCUMENT_XML).split(_BODY_OPEN, 1)

        def document_xml(out: BinaryIO) -> None:
            out.write(head + _BODY_OPEN)
            with open(body_path, "rb") as blocks:
                shutil.copyfileobj(blocks, out, 1 << 20)
            out.write(tail)

        normalise_zip_file(shell, stream, context.letter_date, {_DOCUMENT_XML: document_xml})


def summary_docx_bytes(context: SummaryContext, chart: bytes) -> bytes:
    """The .docx bytes (`write_summary_docx` into memory)."""
    buffer = BytesIO()
    write_summary_docx(context, chart, buffer)
    return buffer.getvalue()


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


def write_summary_xlsx(context: SummaryContext, stream: BinaryIO) -> None:
    """The .xlsx of the summary written to `stream`: an overview, every response, and a
    sheet per specialty. A write-only workbook fed in one pass over the rows (after one
    pass that measures the columns), so memory stays flat in the number of responses."""
    counts = [(s.name, *s.tally.counts, s.tally.total) for s in context.specialties]
    counts.append((WHOLE_HEARING_NB, *context.whole_hearing.counts, context.whole_hearing.total))
    counts.append(("Alle svar", *context.overall.counts, context.overall.total))
    widths: dict[str | None, ColumnWidths] = {None: ColumnWidths(RESPONSE_HEADERS)}
    widths |= {s.prefix: ColumnWidths(RESPONSE_HEADERS) for s in context.specialties}
    for row in context.respondents:
        values = _response_row(row)
        widths[None].add(values)
        for prefix in row.specialties:
            widths[prefix].add(values)
    workbook = new_streamed_workbook()
    overview_widths = ColumnWidths(OVERVIEW_HEADERS)
    for each in counts:
        overview_widths.add(each)
    overview = StreamedTable(workbook, "Oversikt", OVERVIEW_HEADERS, overview_widths)
    for each in counts:
        overview.append(each)
    overview.close()
    overview.sheet.append([])
    overview.sheet.append([context.edition_nb])  # which version this is, on the first sheet
    everything = StreamedTable(workbook, "Alle svar", RESPONSE_HEADERS, widths[None])
    per_specialty = {
        s.prefix: StreamedTable(
            workbook, f"{s.prefix} {s.name}", RESPONSE_HEADERS, widths[s.prefix]
        )
        for s in context.specialties
    }
    for row in context.respondents:
        values = _response_row(row)
        everything.append(values)
        for prefix in row.specialties:
            per_specialty[prefix].append(values)
    for table in (everything, *per_specialty.values()):
        table.close()
    for sheet in workbook.worksheets:
        sheet.oddHeader.center.text = context.edition_nb  # and on every printed page
    set_workbook_properties(
        workbook,
        day=context.letter_date,
        title=f"Høringsoppsummering sak {context.case_number}",
        subject=context.title,
    )
    workbook.properties.description = context.edition_nb
    with tempfile.TemporaryDirectory(prefix="hoering-xlsx-") as scratch:
        write_workbook(workbook, stream, context.letter_date, Path(scratch) / "book.xlsx")


def summary_xlsx_bytes(context: SummaryContext) -> bytes:
    """The .xlsx bytes (`write_summary_xlsx` into memory)."""
    buffer = BytesIO()
    write_summary_xlsx(context, buffer)
    return buffer.getvalue()
