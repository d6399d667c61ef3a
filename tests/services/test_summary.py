"""The høringsoppsummering: counting rules (pure), and the 24/750 summary end to end.

The end-to-end run (create, circulate, import the example responses, close, group the
campaign, apply the example review file, review done, codify, write the summary) is done
once per module on a SQLite copy of the test template, and its .docx converted with
LibreOffice once. The counts are also checked on both databases.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import select

from domain.calendar import OSLO
from domain.decisions import parse_decisions
from domain.hearing_spec import parse_hearing_spec
from domain.letter_building import SpecialtyInfo
from domain.lifecycle import Action
from domain.stance import Stance
from domain.summary_context import (
    INTERNAL_EDITION_NB,
    PUBLIC_EDITION_NB,
    ExcerptFacts,
    RecipientFacts,
    ResponseFacts,
    StanceTally,
)
from domain.summary_stream import build_summary_context
from services import summary
from storage.db import create_db_engine, read_session, write_session
from storage.intake_models import ResponseRow
from tests.conftest import service_missing
from tests.hearing_helpers import CODIFIED, DECISIONS_PATH, SPEC_PATH, act
from tests.services.test_review_storage import (
    CAMPAIGN_SIZE,
    CASE,
    REVIEWED,
    apply_example_review,
    hearing_with_responses,
)

CONVERT_TIMEOUT_S = 300
# The stances the example review file gives (6 support, 4 + the campaign with comments).
OVERALL = StanceTally(
    supports=6, supports_with_comments=4 + CAMPAIGN_SIZE, opposes=1, no_comments=1
)
UNITS = StanceTally(supports=6, supports_with_comments=5, opposes=1, no_comments=1)
WHOLE = StanceTally(supports=4, supports_with_comments=CAMPAIGN_SIZE, no_comments=1)
PER_SPECIALTY = {
    "GER": StanceTally(supports=1),
    "HJS": StanceTally(supports_with_comments=1),
    "LUN": StanceTally(supports_with_comments=1),
    "KIR": StanceTally(supports_with_comments=1),
    "NKI": StanceTally(opposes=1),
    "PED": StanceTally(supports=1),
    "ONC": StanceTally(supports_with_comments=2),
}


# --- counting rules, without a database --------------------------------------------------------


def _facts(number: int, stance: Stance | None, items=(), campaign=None, key=None, late=False):
    return ResponseFacts(
        response_id=number,
        tracking_number=f"24/750-{number}",
        respondent=f"Avsender {number}",
        organisation=None,
        stakeholder_key=key,
        received_at=datetime(2024, 5, number, 12, 0, tzinfo=OSLO),
        late=late,
        stance=stance,
        items=tuple(items),
        campaign=campaign,
        first_lines=f"Tekst {number}",
    )


def test_counting_rules_items_specialties_campaigns_and_the_unreviewed():
    spec = parse_hearing_spec(SPEC_PATH.read_text(encoding="utf-8"), "spec.yaml")
    specialties = {
        item.specialty: SpecialtyInfo(item.specialty.title(), "annen") for item in spec.items
    }
    responses = [
        _facts(1, Stance.SUPPORTS, key="legeforeningen"),
        _facts(2, Stance.OPPOSES, items=["NKI", "KIR"], key="spesialitetskomite-nki"),
        _facts(3, Stance.SUPPORTS_WITH_COMMENTS, campaign=1),
        _facts(4, Stance.SUPPORTS_WITH_COMMENTS, campaign=1),
        _facts(5, Stance.SUPPORTS_WITH_COMMENTS, campaign=1),
        _facts(6, None, late=True),
    ]
    context = build_summary_context(
        spec=spec,
        specialties=specialties,
        id_displays={"NKI": "NKI-037", "KIR": "KIR-174"},
        recipients=[
            RecipientFacts(
                stakeholder_key="legeforeningen", name="Legeforeningen", group="legeforeningen"
            ),
            RecipientFacts(stakeholder_key="helse-nord-rhf", name="Helse Nord RHF", group="rhf"),
        ],
        responses=responses,
        excerpts=[
            ExcerptFacts(response_id=2, item_ref="NKI", text="Vi går imot.", source="e-post"),
            ExcerptFacts(response_id=3, item_ref=None, text="Form 1", source="e-post"),
            ExcerptFacts(response_id=4, item_ref=None, text="Form 2", source="e-post"),
        ],
        decisions=parse_decisions(DECISIONS_PATH.read_text(encoding="utf-8"), "vedtak.yaml"),
        circulated_on=date(2024, 3, 22),
        effective_date=date(2025, 9, 1),
        as_of=datetime(2024, 9, 16, 9, 0, tzinfo=OSLO),
    )
    assert context.overall == StanceTally(supports=1, supports_with_comments=3, opposes=1)
    assert context.units == StanceTally(supports=1, supports_with_comments=1, opposes=1)
    assert context.unreviewed == 1
    assert context.whole_hearing == StanceTally(supports=1, supports_with_comments=3)
    by_prefix = {s.prefix: s.tally for s in context.specialties}
    assert by_prefix["NKI"] == by_prefix["KIR"] == StanceTally(opposes=1)
    assert by_prefix["BLS"].total == 0
    assert [(c.label, c.size, c.stance) for c in context.campaigns] == [
        ("Kampanje 1", 3, Stance.SUPPORTS_WITH_COMMENTS)
    ]
    assert [r.tracking_number for r in context.individual_respondents] == [
        "24/750-1",
        "24/750-2",
        "24/750-6",
    ]
    assert [r.tracking_number for r in context.late] == ["24/750-6"]
    assert context.not_answered == ("Helse Nord RHF",)
    nki = next(i for i in context.items if i.ref == "NKI")
    assert [v.text for v in nki.views] == ["Vi går imot."]
    assert nki.assessment == "Læringsmålet forskriftsfestes som foreslått."
    # A campaign's passage is shown once, not once per member.
    assert [v.text for v in context.general_views] == ["Form 1"]
    said = {d.ref: d for d in context.you_said_we_did}
    # NKI was adopted against Avsender 2's objection: not the basis of the decision.
    assert said["NKI"].excerpts == ()
    assert [e.respondent for e in said["NKI"].not_followed] == ["Avsender 2"]
    assert said["BLS"].excerpts == ()
    assert len(context.you_said_we_did) == 13


# --- 24/750 end to end ---------------------------------------------------------------------


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        service_missing("LibreOffice (soffice) is not installed; run .ci/libreoffice.sh")
    return found


def review_and_codify(engine, folder: Path) -> None:
    hearing_with_responses(engine, folder)
    apply_example_review(engine)
    act(engine, Action.REVIEW_DONE, REVIEWED, folder / "letters")
    act(
        engine,
        Action.CODIFY,
        CODIFIED,
        folder / "letters",
        decisions_text=DECISIONS_PATH.read_text(encoding="utf-8"),
    )


@dataclass(frozen=True)
class Written:
    files: summary.SummaryFiles
    respondents: list[str]
    again: summary.SummaryFiles
    pdf: Path
    private: list[tuple[str, str]]  # (name, address) of every private respondent


@pytest.fixture(scope="module")
def written(db_templates, tmp_path_factory) -> Iterator[Written]:
    folder = tmp_path_factory.mktemp("summary")
    database = folder / "hoering.db"
    shutil.copyfile(db_templates["sqlite"], database)
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        review_and_codify(engine, folder)
        with write_session(engine) as session:
            files = summary.write_summary(session, CASE, CODIFIED, folder / "letters")
        with write_session(engine) as session:
            again = summary.write_summary(session, CASE, CODIFIED, folder / "letters-again")
        with read_session(engine) as session:
            rows = session.exec(select(ResponseRow)).all()
            respondents = [r.organisation or r.from_name for r in rows]
            private = [(r.from_name, r.from_address) for r in rows if r.stakeholder_key is None]
    finally:
        engine.dispose()
    soffice = _soffice()
    outdir = folder / "pdf"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(folder / 'lo-profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(files.docx),
        ],
        capture_output=True,
        text=True,
        timeout=CONVERT_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    yield Written(files, respondents, again, outdir / f"{files.docx.stem}.pdf", private)


def _docx_text(path: Path) -> tuple[str, list[list[list[str]]]]:
    document = Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]
    return text, tables


def test_the_summary_names_every_respondent(written):
    text, _ = _docx_text(written.files.docx)
    assert len(written.respondents) == 12 + CAMPAIGN_SIZE
    for name in written.respondents:
        assert name in text, name


def test_the_summary_counts_per_stance_and_per_specialty(written):
    _, tables = _docx_text(written.files.docx)
    stances, specialties = tables[0], tables[1]
    assert stances[1:] == [
        ["Støtter", "6", "6"],
        ["Støtter med merknader", str(4 + CAMPAIGN_SIZE), "5"],
        ["Går imot", "1", "1"],
        ["Ingen merknader", "1", "1"],
        ["Totalt", str(12 + CAMPAIGN_SIZE), "13"],
    ]
    names = {"Geriatri": "GER", "Hjertesykdommer": "HJS", "Lungesykdommer": "LUN"}
    names |= {"Generell kirurgi": "KIR", "Nevrokirurgi": "NKI", "Barnesykdommer": "PED"}
    names |= {"Onkologi": "ONC"}
    rows = {row[0]: [int(c) for c in row[1:]] for row in specialties[1:]}
    assert len(rows) == 14  # 13 specialties and the whole hearing
    for name, counts in rows.items():
        if name == "Hele høringen":
            expected = WHOLE
        else:
            expected = PER_SPECIALTY.get(names.get(name, ""), StanceTally())
        assert counts == [*expected.counts, expected.total], name


def test_the_campaign_is_one_group_of_its_real_size(written):
    text, _ = _docx_text(written.files.docx)
    assert f"Kampanje 1: {CAMPAIGN_SIZE} likelydende svar" in text
    assert f"{CAMPAIGN_SIZE} av svarene er likelydende innspill i 1 kampanje" in text
    assert text.count("Kampanje 1, 22 likelydende svar: støtter med merknader") == 1


def test_the_summary_has_the_chart_and_the_decision(written):
    document = Document(str(written.files.docx))
    assert len(document.inline_shapes) == 1
    images = [p.blob for p in document.part.package.parts if p.content_type == "image/png"]
    assert images == [written.files.chart.read_bytes()]
    assert images[0].startswith(b"\x89PNG")
    text, _ = _docx_text(written.files.docx)
    assert "Helsedirektoratet fattet vedtak 16. september 2024." in text
    assert "Endringene trer i kraft 1. september 2025." in text
    assert "Helsedirektoratet holder fast ved nivået" in text  # KIR's assessment
    assert "Sykehuset Innlandet HF (24/750-35), mottatt 3. juni 2024" in text
    assert "Helse Midt-Norge RHF: svarte ikke" in text and "Helse Nord RHF: svarte" in text


def test_you_said_we_did_lists_the_excerpts_behind_each_decision(written):
    text, _ = _docx_text(written.files.docx)
    said = text.split("Dere sa, vi gjorde", 1)[1].split("Vedlegg: Innkomne", 1)[0]
    kir = said.split("Generell kirurgi (KIR-174): vedtatt", 1)[1].split("Nevrokirurgi", 1)[0]
    assert "Helsedirektoratet holder fast ved nivået" in kir
    assert "«selvstendig kunne» i generell kirurgi" in kir
    assert "Legeforeningens spesialitetskomité i generell kirurgi (24/750-5)" in kir
    bls = said.split("Blodsykdommer (BLS-154): vedtatt", 1)[1].split("Geriatri", 1)[0]
    assert "Ingen innspill gjaldt denne endringen særskilt." in bls
    # NKI was adopted against its committee's objection: not listed as the basis.
    nki = said.split("Nevrokirurgi (NKI-", 1)[1].split("Urologi (", 1)[0]
    assert "Innspill som lå til grunn" not in nki
    assert "Innspill som ikke ble fulgt:" in nki
    assert "spesialitetskomité i nevrokirurgi" in nki and "går imot" in nki


def test_the_summary_opens_in_libreoffice(written):
    assert written.pdf.is_file()
    reader = PdfReader(written.pdf)
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    assert "Høringsoppsummering" in text
    assert f"Kampanje 1: {CAMPAIGN_SIZE} likelydende svar" in text
    assert any(page.images for page in reader.pages)  # the chart survived the conversion


def test_the_spreadsheet_has_every_response_and_a_sheet_per_specialty(written):
    workbook = load_workbook(BytesIO(written.files.xlsx.read_bytes()))
    assert workbook.sheetnames[:2] == ["Oversikt", "Alle svar"]
    assert len(workbook.sheetnames) == 2 + 13
    everything = list(workbook["Alle svar"].iter_rows(values_only=True))
    assert everything[0] == summary.RESPONSE_HEADERS
    assert len(everything) == 1 + 12 + CAMPAIGN_SIZE
    late = [row for row in everything[1:] if row[4] == "Ja"]
    assert [(r[0], r[1], r[3]) for r in late] == [
        ("24/750-35", "Sykehuset Innlandet HF", "2024-06-03")
    ]
    kir = list(workbook["KIR Generell kirurgi"].iter_rows(values_only=True))
    assert [(r[1], r[5], r[6], r[8]) for r in kir[1:]] == [
        (
            "Legeforeningens spesialitetskomité i generell kirurgi",
            "støtter med merknader",
            "KIR-174",
            "Ønsker nivået «selvstendig kunne» i generell kirurgi.",
        )
    ]
    campaign_rows = [r for r in everything[1:] if r[7] == "Kampanje 1"]
    assert len(campaign_rows) == CAMPAIGN_SIZE
    overview = {r[0]: r[1:] for r in workbook["Oversikt"].iter_rows(min_row=2, values_only=True)}
    assert overview["Alle svar"] == (*OVERALL.counts, OVERALL.total)


def test_the_files_are_the_same_bytes_when_written_again(written):
    assert written.again.docx_sha256 == written.files.docx_sha256
    assert written.again.xlsx_sha256 == written.files.xlsx_sha256


def test_counts_are_the_same_on_both_databases(engine, tmp_path):
    review_and_codify(engine, tmp_path)
    with read_session(engine) as session:
        context = summary.summary_context(session, CASE, CODIFIED)
    assert context.overall == OVERALL
    assert context.units == UNITS
    assert context.whole_hearing == WHOLE
    assert {s.prefix: s.tally for s in context.specialties if s.tally.total} == PER_SPECIALTY
    assert [(c.label, c.size) for c in context.campaigns] == [("Kampanje 1", CAMPAIGN_SIZE)]
    assert context.unreviewed == 0
    assert len(context.you_said_we_did) == 13


def test_the_internal_and_the_public_version_say_which_they_are(written):
    for path, edition in (
        (written.files.docx, INTERNAL_EDITION_NB),
        (written.files.public_docx, PUBLIC_EDITION_NB),
    ):
        first_page = _docx_text(path)[0].split("Om høringen", 1)[0]
        assert edition in first_page, path
    assert written.files.public_docx.name == "hoeringsoppsummering-24-750-offentlig.docx"
    for path, edition in (
        (written.files.xlsx, INTERNAL_EDITION_NB),
        (written.files.public_xlsx, PUBLIC_EDITION_NB),
    ):
        workbook = load_workbook(BytesIO(path.read_bytes()))
        first = workbook.worksheets[0]
        assert edition in [row[0] for row in first.iter_rows(values_only=True)]
        assert first.oddHeader.center.text == edition


def test_the_public_version_masks_private_persons_as_the_export_does(written):
    text, tables = _docx_text(written.files.public_docx)
    workbook = load_workbook(BytesIO(written.files.public_xlsx.read_bytes()))
    cells = [str(v) for sheet in workbook for row in sheet.iter_rows(values_only=True) for v in row]
    everything = text + "\n".join(cell for t in tables for r in t for cell in r) + " ".join(cells)
    assert len(written.private) == CAMPAIGN_SIZE + 2
    for name, address in written.private:
        assert address not in everything
        for word in name.split():
            assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", everything), (word, name)
    assert "Privatperson" in text and "Sykehuset Innlandet HF (24/750-35)" in text
    rows = list(workbook["Alle svar"].iter_rows(values_only=True))[1:]
    assert sum(row[1] == "Privatperson" for row in rows) == len(written.private)
    internal, _ = _docx_text(written.files.docx)
    assert all(name in internal for name, _ in written.private)


def test_the_public_campaign_counts_its_private_senders_once(written):
    text, _ = _docx_text(written.files.public_docx)
    assert f"Avsendere: Privatperson ({CAMPAIGN_SIZE})." in text
