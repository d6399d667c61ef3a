"""The høringsoppsummering written in pieces is the one written whole: the .docx
converted a few lines at a time, the .xlsx through a write-only workbook, the rows from a
spool on disk."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

from docx import Document
from openpyxl import Workbook, load_workbook

from domain.calendar import OSLO
from domain.decisions import parse_decisions
from domain.hearing_spec import parse_hearing_spec
from domain.letter_building import SpecialtyInfo
from domain.stance import Stance
from domain.summary_context import RecipientFacts, RespondentRow
from domain.summary_facts import ExcerptFacts, ResponseFacts
from domain.summary_stream import build_summary_context
from fileio.spool import Spool
from rendering.summary_document import (
    chart_png,
    write_summary_docx,
    write_summary_xlsx,
)
from rendering.xlsx_tables import (
    ColumnWidths,
    StreamedTable,
    add_table_sheet,
    new_streamed_workbook,
    new_workbook,
    workbook_bytes,
)
from tests.hearing_helpers import DECISIONS_PATH, SPEC_PATH

STANCES = [Stance.SUPPORTS, Stance.OPPOSES, Stance.SUPPORTS_WITH_COMMENTS, None]


def _context(responses: int = 120):
    spec = parse_hearing_spec(SPEC_PATH.read_text(encoding="utf-8"), "spec.yaml")
    specialties = {i.specialty: SpecialtyInfo(i.specialty.title(), "annen") for i in spec.items}
    refs = [item.ref for item in spec.items]
    start = datetime(2024, 4, 1, 9, 0, tzinfo=OSLO)
    facts = [
        ResponseFacts(
            response_id=n,
            tracking_number=f"24/750-{n}",
            respondent=f"Avsender {n % 50}",
            organisation=None if n % 3 else f"Organisasjon {n}",
            stakeholder_key=None,
            received_at=start + timedelta(hours=n),
            late=n % 17 == 0,
            stance=STANCES[n % 4],
            items=tuple(refs[: n % 3]),
            note="=SUM(A1)" if n == 5 else f"Merknad {n}",
            campaign=1 if n % 5 == 0 else None,
            first_lines=f"Kampanjetekst {n % 2}",
        )
        for n in range(1, responses + 1)
    ]
    return build_summary_context(
        spec=spec,
        specialties=specialties,
        id_displays={},
        recipients=[RecipientFacts(stakeholder_key="x", name="Helse Nord RHF", group="rhf")],
        responses=facts,
        excerpts=[ExcerptFacts(response_id=4, item_ref=None, text="Et utdrag.", source="e-post")],
        decisions=parse_decisions(DECISIONS_PATH.read_text(encoding="utf-8"), "vedtak.yaml"),
        circulated_on=date(2024, 3, 22),
        effective_date=date(2025, 9, 1),
        as_of=datetime(2024, 9, 16, 9, 0, tzinfo=OSLO),
    )


def _docx_content(data: bytes) -> list[object]:
    document = Document(BytesIO(data))
    content: list[object] = [
        (p.style.name if p.style else "", p.text, p.paragraph_format.page_break_before)
        for p in document.paragraphs
    ]
    content += [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    content.append(len(document.inline_shapes))
    return content


def test_the_docx_in_pieces_is_the_docx_in_one_piece():
    context = _context()
    chart = chart_png(context)
    whole, pieces = BytesIO(), BytesIO()
    write_summary_docx(context, chart, whole, piece_lines=10**9)
    write_summary_docx(context, chart, pieces, piece_lines=3)
    whole_content = _docx_content(whole.getvalue())
    assert _docx_content(pieces.getvalue()) == whole_content
    texts = [c[1] for c in whole_content if isinstance(c, tuple)]
    assert any(t.startswith("24/750-1 Avsender 1, mottatt") for t in texts)
    assert (
        "Avsendere: Avsender 5 (3), Avsender 10 (3), Avsender 15 (3), Avsender 20 (3),"
        in "\n".join(texts)
    )
    assert whole_content[-1] == 1  # the chart, once


def test_the_summary_rows_read_from_a_spool_give_the_same_files():
    context = _context()
    spool: Spool[RespondentRow] = Spool(RespondentRow.as_record, RespondentRow.from_record)
    for row in context.respondents:
        spool.append(row)
    assert list(spool) == list(context.respondents) and len(spool) == len(context.respondents)
    from dataclasses import replace

    spooled = replace(context, respondents=spool)
    chart = chart_png(context)
    for write in (
        lambda c, s: write_summary_docx(c, chart, s),
        lambda c, s: write_summary_xlsx(c, s),
    ):
        one, other = BytesIO(), BytesIO()
        write(context, one)
        write(spooled, other)
        assert one.getvalue() == other.getvalue()
    path = spool._path
    spool.close()
    assert list(spool) == [] and not path.exists()


def _sheet(data: bytes) -> dict[str, object]:
    sheet = load_workbook(BytesIO(data)).worksheets[0]
    return {
        "rows": list(sheet.iter_rows(values_only=True)),
        "widths": {k: d.width for k, d in sheet.column_dimensions.items()},
        "filter": sheet.auto_filter.ref,
        "freeze": sheet.freeze_panes,
        "wrapped": [c.alignment.wrap_text for r in sheet.iter_rows(min_row=2) for c in r],
        "bold": [c.font.b for c in next(sheet.iter_rows(max_row=1))],
        "quoted": [c.quotePrefix for r in sheet.iter_rows(min_row=2) for c in r],
    }


def test_a_streamed_table_is_the_table_written_whole():
    headers = ("Nr.", "Tekst", "Tall")
    rows = [("1", '=HYPERLINK("x")', 3), ("2", "", 4), ("3", "lang " * 30, 5)]
    whole = new_workbook()
    add_table_sheet(whole, "Ark", headers, rows)
    streamed: Workbook = new_streamed_workbook()
    widths = ColumnWidths(headers)
    for row in rows:
        widths.add(row)
    table = StreamedTable(streamed, "Ark", headers, widths)
    for row in rows:
        table.append(row)
    table.close()
    day = date(2024, 9, 16)
    assert _sheet(workbook_bytes(streamed, day)) == _sheet(workbook_bytes(whole, day))
