"""Letters: templates -> Markdown -> .docx, checked against the real høringsbrev 24/750."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from zipfile import ZipFile

import jinja2
import pytest
from docx import Document
from docx.shared import Cm
from jinja2 import meta

from domain.errors import UserError
from domain.letter_context import (
    CONTEXT_TYPES,
    AdoptedGoalText,
    ChangeItemRow,
    ChangeKind,
    Contact,
    Decision,
    HearingLetterContext,
    LetterKind,
    OrientationLetterContext,
    ProposedGoal,
    ReceiptContext,
    Recipient,
    RecipientGroup,
    ReminderContext,
    Signatory,
    SpecialtyDecision,
    SpecialtyListing,
    WithdrawalLetterContext,
)
from rendering import letters
from rendering.docx_files import new_letter_document
from rendering.letters import (
    LetterTemplateError,
    escape_markdown,
    render_docx,
    render_markdown,
)
from rendering.markdown_docx import markdown_to_docx

HOSTILE = 'Ås & Co <"Test"> | #1 *x*_y_'

# The table of the høringsbrev 24/750, in the letter's order.
TABLE_24_750: tuple[tuple[str, str, str], ...] = (
    ("Akutt- og mottaksmedisin", "AMM-068", ""),
    ("Blodsykdommer", "BLS-154", ""),
    (
        "Geriatri",
        "GER-064",
        "Nasjonal handlingsplan nevner spesielt at noen grupper er underrepresenterte i "
        "klinisk forskning, slik som barn og eldre.",
    ),
    (
        "Hjertesykdommer",
        "HJS-xxx",
        "Eksakt læringsmåls-ID bestemmes etter høringen, pga. pågående prosess om revisjon "
        "av læringsmålene i spesialiteten",
    ),
    ("Indremedisin", "MED-106", ""),
    ("Lungesykdommer", "LUN-061", ""),
    ("Nyresykdommer", "NYR-067", ""),
    (
        "Generell kirurgi",
        "KIR-174",
        "Legeforeningen har spilt inn at det generell kirurgiske-fagmiljøet gjerne ser at "
        'læringsmålet har nivået "selvstendig kunne". Helsedirektoratet velger å innføre '
        'samme læringsmål med nivå "under supervisjon" for alle de utvalgte spesialitetene, '
        "men mottar gjerne tilbakemelding på dette valget.",
    ),
    ("Nevrokirurgi", "NKI-037", ""),
    ("Urologi", "URO-090", ""),
    (
        "Barnesykdommer",
        "PED-165",
        "Nasjonal handlingsplan nevner spesielt at noen grupper er underrepresenterte i "
        "klinisk forskning, slik som barn og eldre.",
    ),
    ("Nevrologi", "NEV-068", ""),
    ("Onkologi", "ONC-069", ""),
)

GOAL_TEXT = (
    "Ha kunnskap om kliniske studier, herunder formål, krav til godkjenninger, krav til "
    "datahåndtering, krav til informert samtykke og pasienters reservasjonsrett.\n"
    "Under supervisjon kunne finne frem til relevant klinisk studie eller studier for "
    "pasienter.\n"
    "Under supervisjon kunne informere pasienten om studien, hvordan og hvor de kan "
    "inkluderes, samt kommunisere til pasienten hva informert samtykke og reservasjonsrett "
    "betyr."
)
ELABORATION = (
    "Med begrepet klinisk studie menes en utprøving av et medisinsk utstyr, en teknologi, "
    "et legemiddel, eller en behandlings- eller rehabiliteringsmetode på mennesker, jf. "
    "nasjonal handlingsplan for kliniske studier."
)
CONTACT = Contact(title="seniorrådgiver", name="Marie Thoresen", email="marie.thoresen@helsedir.no")
SIGNATORIES = (
    Signatory(name="Heidi Stien", title="prosjektleder", on_behalf=True),
    Signatory(name="Marie Thoresen", title="seniorrådgiver"),
)


def change_rows() -> tuple[ChangeItemRow, ...]:
    return tuple(
        ChangeItemRow(
            specialty_name=name,
            goal_id_display=goal_id,
            kind=ChangeKind.NEW_GOAL,
            comment=comment,
            id_deferred=goal_id.endswith("-xxx"),
        )
        for name, goal_id, comment in TABLE_24_750
    )


def hearing_context(**changes: object) -> HearingLetterContext:
    names = [name for name, _, _ in TABLE_24_750]
    context = HearingLetterContext(
        case_number="24/750",
        letter_date=date(2024, 3, 8),
        title=(
            "Kompetanse om kliniske studier i spesialistutdanningen for leger: Høring om "
            "innføring av ett læringsmål i enkelte utvalgte legespesialiteter"
        ),
        case_officer="Marie Thoresen",
        introduction=(
            "Helsedirektoratet oversender herved på høring forslag om innføring av ett nytt\n"
            "spesialitetsspesifikt læringsmål som omhandler praktisk og utøvende kompetanse i\n"
            "klinisk forskning/kliniske studier i følgende 13 spesialiteter:"
        ),
        specialty_listings=(
            SpecialtyListing(
                label="Indremedisinske spesialiteter", specialty_names=tuple(names[:7])
            ),
            SpecialtyListing(label="Kirurgiske spesialiteter", specialty_names=tuple(names[7:10])),
            SpecialtyListing(label=None, specialty_names=tuple(names[10:])),
        ),
        deadline=date(2024, 5, 31),
        background=(
            "    Innføringen av læringsmål som omhandler kliniske studier/forskning har vært\n"
            "    utredet siden 2021. I handlingsplanen står det *«at klinisk forskning skal være\n"
            "    en integrert del av all klinisk praksis og pasientbehandling»*.\n"
        ),
        proposal_heading="Innføring av spesialitetsspesifikke læringsmål om kliniske studier",
        proposed_goals=(
            ProposedGoal(text=GOAL_TEXT, elaboration=ELABORATION, heading="Kliniske studier"),
        ),
        purpose=(
            "Hensikten med innføring av dette læringsmålet er å stimulere til at en nyutdannet\n"
            "spesialist i disse **13 spesialitetene** skal kunne ha oversikt over aktuelle\n"
            "kliniske studier i sin spesialitet.\n\n"
            "Læringsmålet vil få ulike læringsmåls-ID basert på hvilken spesialitet det\n"
            "forskriftsfestes i, se tabellen under."
        ),
        change_items=change_rows(),
        questions_intro=(
            "Direktoratet ønsker gjennom denne høringen å åpne opp for bred høring i hele\n"
            "fagmiljøet."
        ),
        questions=(
            "Vil det oppstå organisatoriske og økonomiske implikasjoner ved endringene?",
            "Er læringsmålet for lite ambisiøst?",
            "Andre tilbakemeldinger til Helsedirektoratet på temaet?",
        ),
        planned_codification=date(2024, 9, 1),
        tentative_effective_date=date(2025, 9, 1),
        contact=CONTACT,
        signatories=SIGNATORIES,
        recipient_groups=(
            RecipientGroup(
                label="Regionale helseforetak",
                recipients=(
                    Recipient(name="Helse Sør-Øst RHF", address="postmottak@helse-sorost.no"),
                    Recipient(name="Helse Vest RHF", address="postmottak@helse-vest.no"),
                ),
            ),
            RecipientGroup(
                label="Andre",
                recipients=(
                    Recipient(
                        name="Den norske legeforening", address="legeforeningen@legeforeningen.no"
                    ),
                    Recipient(name=HOSTILE, address="post@example.org"),
                ),
            ),
        ),
    )
    return replace(context, **changes)


def orientation_context() -> OrientationLetterContext:
    return OrientationLetterContext(
        case_number="24/750",
        letter_date=date(2024, 9, 20),
        title="Kompetanse om kliniske studier i spesialistutdanningen for leger",
        case_officer="Marie Thoresen",
        codification_date=date(2024, 9, 16),
        effective_date=date(2025, 9, 1),
        summary="Høringen fikk **42** innspill, og flertallet støttet forslaget.",
        decisions=(
            SpecialtyDecision(
                specialty_name="Blodsykdommer", decision=Decision.ADOPT, goal_id="BLS-154"
            ),
            SpecialtyDecision(
                specialty_name="Hjertesykdommer",
                decision=Decision.ADOPT_AMENDED,
                goal_id="HJS-071",
                comment="Nivået er hevet til «selvstendig kunne».",
                stricter=True,
            ),
            SpecialtyDecision(
                specialty_name="Urologi",
                decision=Decision.DROP,
                goal_id=None,
                comment="Fagmiljøet mente læringsmålet ikke passer.",
            ),
        ),
        contact=CONTACT,
        signatories=SIGNATORIES,
    )


def receipt_context(**changes: object) -> ReceiptContext:
    context = ReceiptContext(
        case_number="24/750",
        tracking_number="24/750-3",
        letter_date=date(2024, 4, 3),
        title="Kompetanse om kliniske studier i spesialistutdanningen for leger",
        received_date=date(2024, 4, 2),
        recipient_name="Helse Vest RHF",
        recipient_address="Postboks 303 Forus\n4066 Stavanger",
        case_officer="Marie Thoresen",
        contact=CONTACT,
    )
    return replace(context, **changes)


def reminder_context() -> ReminderContext:
    return ReminderContext(
        case_number="24/750",
        letter_date=date(2024, 5, 17),
        title="Kompetanse om kliniske studier i spesialistutdanningen for leger",
        circulated_date=date(2024, 3, 8),
        deadline=date(2024, 5, 31),
        recipient_name="Helse Nord RHF",
        recipient_address="",
        case_officer="Marie Thoresen",
        contact=CONTACT,
    )


def withdrawal_context() -> WithdrawalLetterContext:
    return WithdrawalLetterContext(
        case_number="24/750",
        title="Kompetanse om kliniske studier i spesialistutdanningen for leger",
        letter_date=date(2024, 4, 5),
        case_officer="Marie Thoresen",
        contact=CONTACT,
        circulated_date=date(2024, 3, 8),
        deadline=date(2024, 5, 31),
        reason="Forslaget omarbeides etter innspill fra Legeforeningen.",
        withdrawn_ids=("AMM-068", "BLS-154"),
        forwarded=True,
        signatories=SIGNATORIES,
        recipient_groups=hearing_context().recipient_groups,
    )


def context_for(kind: LetterKind) -> object:
    return {
        LetterKind.HOERINGSBREV: hearing_context,
        LetterKind.HOERINGSINSTANSER: lambda: hearing_context().recipient_list(),
        LetterKind.ORIENTERINGSBREV: orientation_context,
        LetterKind.KVITTERING: receipt_context,
        LetterKind.PAAMINNELSE: reminder_context,
        LetterKind.TILBAKETREKKING: withdrawal_context,
    }[kind]()


def docx_text(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    """Paragraph texts and, per table, its rows of cell texts."""
    document = Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    return paragraphs, tables


def table_with_header(tables: list[list[list[str]]], first: str) -> list[list[str]]:
    matches = [table for table in tables if table[0][0] == first]
    assert len(matches) == 1, [table[0] for table in tables]
    return matches[0]


# --- Hearing letter --------------------------------------------------------------------


def test_hearing_letter_reproduces_24_750(tmp_path: Path) -> None:
    path = tmp_path / "hoeringsbrev.docx"
    render_docx("hoeringsbrev", hearing_context(), path)
    paragraphs, tables = docx_text(path)
    text = "\n".join(paragraphs)

    table = table_with_header(tables, "Spesialitet")
    assert table[0] == ["Spesialitet", "Læringsmåls-ID", "Kommentar fra Helsedirektoratet"]
    assert [tuple(row) for row in table[1:]] == list(TABLE_24_750)

    assert "Frist for høringsinnspill er 31. mai 2024." in text
    assert (
        "Innspill sendes til Helsedirektoratets postmottak (postmottak@helsedir.no), "
        "gjerne med referanse til saksnummer 24/750." in text
    )
    assert text.count("Frist for høringsinnspill er") == 1
    assert "Denne høringen bør, for regionale helseforetak, distribueres videre" in text
    assert (
        "Ved spørsmål om høringen, vennligst ta kontakt med seniorrådgiver Marie Thoresen "
        "(marie.thoresen@helsedir.no)." in text
    )
    assert "Helsedirektoratet\nPostboks 220 Skøyen\n0213 Oslo" in text
    assert "Høringsinstanser\nved adresseliste" in text
    assert "Vår ref.: 24/750\nSaksbehandler: Marie Thoresen\nDato: 8. mars 2024" in text
    assert "Heidi Stien e.f.\nprosjektleder" in text
    assert "Dokumentet er godkjent elektronisk" in paragraphs
    assert "forskriftsfesting av endringene i september 2024" in text
    assert "for leger i spesialisering 1. september 2025 (tentativ dato)" in text
    assert "Utdypende tekst: " + ELABORATION in text
    # The goal text keeps its three lines.
    assert GOAL_TEXT in text


def test_hearing_letter_structure_and_styles(tmp_path: Path) -> None:
    path = tmp_path / "hoeringsbrev.docx"
    render_docx("hoeringsbrev", hearing_context(), path)
    document = Document(str(path))
    by_text = {p.text: p for p in document.paragraphs}

    assert by_text[hearing_context().title].style.name == "Heading 1"
    assert by_text["Bakgrunnen for forslaget"].style.name == "Heading 2"
    assert by_text["Høringsinstanser"].style.name == "Heading 1"
    assert by_text["Indremedisinske spesialiteter:"].style.name == "List Bullet"
    assert by_text["Blodsykdommer"].style.name == "List Bullet 2"
    assert by_text["Onkologi"].style.name == "List Bullet"
    # Staff Markdown: dedented (no code block), emphasis kept as italic runs.
    background = next(p for p in document.paragraphs if p.text.startswith("Innføringen av"))
    assert [run.text for run in background.runs if run.italic] == [
        "«at klinisk forskning skal være en integrert del av all klinisk praksis og "
        "pasientbehandling»"
    ]
    purpose = next(p for p in document.paragraphs if p.text.startswith("Hensikten"))
    assert [run.text for run in purpose.runs if run.bold] == ["13 spesialitetene"]
    # The change table: header row bold and repeated on every page.
    table = document.tables[0]
    assert all(run.bold for cell in table.rows[0].cells for run in cell.paragraphs[0].runs)
    assert (
        table.rows[0]._tr.trPr.find(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader"
        )
        is not None
    )
    # The appendix starts on a new page.
    breaks = [p.text for p in document.paragraphs if p.paragraph_format.page_break_before]
    assert breaks == ["Høringsinstanser"]
    # The ID column is wide enough for 'Læringsmåls-ID' and narrower than the comments.
    widths = [column.width for column in table.columns]
    assert widths[1] >= Cm(3.5)
    assert widths[2] > widths[0] > widths[1]


def test_recipient_list_grouped_with_addresses(tmp_path: Path) -> None:
    path = tmp_path / "hoeringsinstanser.docx"
    render_docx("hoeringsinstanser", hearing_context().recipient_list(), path)
    paragraphs, tables = docx_text(path)
    assert paragraphs[0] == "Høringsinstanser"
    assert "Regionale helseforetak" in paragraphs and "Andre" in paragraphs
    assert tables[0] == [
        ["Høringsinstans", "Adresse"],
        ["Helse Sør-Øst RHF", "postmottak@helse-sorost.no"],
        ["Helse Vest RHF", "postmottak@helse-vest.no"],
    ]
    assert tables[1][2] == [HOSTILE, "post@example.org"]


def test_same_context_same_bytes_and_fixed_metadata(tmp_path: Path) -> None:
    first = render_docx("hoeringsbrev", hearing_context(), tmp_path / "a.docx")
    second = render_docx("hoeringsbrev", hearing_context(), tmp_path / "b.docx")
    assert first == second
    assert first == hashlib.sha256((tmp_path / "a.docx").read_bytes()).hexdigest()
    assert render_markdown("hoeringsbrev", hearing_context()) == render_markdown(
        "hoeringsbrev", hearing_context()
    )

    other = render_docx(
        "hoeringsbrev", hearing_context(deadline=date(2024, 6, 3)), tmp_path / "c.docx"
    )
    assert other != first

    with ZipFile(tmp_path / "a.docx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(2024, 3, 8, 0, 0, 0)}
        assert archive.namelist()[0] == "[Content_Types].xml"
        assert not any("thumbnail" in name for name in archive.namelist())
    props = Document(str(tmp_path / "a.docx")).core_properties
    assert props.author == "Helsedirektoratet"
    assert props.last_modified_by == "Helsedirektoratet"
    assert props.created == props.modified == datetime(2024, 3, 8, 0, 0, tzinfo=UTC)
    assert props.subject == "Sak 24/750"


def test_other_change_kinds_get_a_change_column(tmp_path: Path) -> None:
    rows = (
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="BLS-095",
            kind=ChangeKind.AMENDED_TEXT,
            old_text="Ha kunnskap om vurdering av resultater",
            new_text="Ha god kunnskap om vurdering av resultater",
            level_before="ha kunnskap om",
            level_after="ha god kunnskap om",
            stricter=True,
        ),
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="BLS-089",
            kind=ChangeKind.MOVED_GOAL,
            old_text="Akutte tilstander",
            new_text="Onkologiske nødsituasjoner",
        ),
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="BLS-046",
            kind=ChangeKind.DELETED_GOAL,
            old_text="Ha kunnskap om Burkitts lymfom.",
            comment="Dekkes av BLS-047.",
            reason="Burkitts lymfom behandles ved regionsykehus.",
        ),
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="–",
            kind=ChangeKind.HEADING_CHANGE,
            old_text="Lymfomer",
            new_text="Lymfomer og myelomatose",
        ),
    )
    path = tmp_path / "brev.docx"
    render_docx("hoeringsbrev", hearing_context(change_items=rows), path)
    _, tables = docx_text(path)
    table = table_with_header(tables, "Spesialitet")
    assert table[0] == [
        "Spesialitet",
        "Læringsmåls-ID",
        "Endring",
        "Kommentar fra Helsedirektoratet",
    ]
    assert table[1][2] == (
        "Teksten endres fra «Ha kunnskap om vurdering av resultater» til «Ha god kunnskap om "
        "vurdering av resultater». Kompetansenivå endres fra «ha kunnskap om» til «ha god "
        "kunnskap om». Skjerpet krav."
    )
    assert (
        table[2][2]
        == "Læringsmålet flyttes fra «Akutte tilstander» til «Onkologiske nødsituasjoner»."
    )
    assert table[3][1:] == [
        "BLS-046",
        "Læringsmålet utgår: «Ha kunnskap om Burkitts lymfom.».",
        "Burkitts lymfom behandles ved regionsykehus. Dekkes av BLS-047.",
    ]
    assert table[4][2] == "Temaoverskriften endres fra «Lymfomer» til «Lymfomer og myelomatose»."


def test_deferred_id_shows_its_reason_and_short_deadline_its_reason() -> None:
    reason = "Eksakt læringsmåls-ID bestemmes etter høringen."
    rows = tuple(
        replace(row, comment="", reason=reason) if row.id_deferred else row for row in change_rows()
    )
    markdown = render_markdown(
        "hoeringsbrev",
        hearing_context(change_items=rows, short_deadline_reason="Opptaket starter i august."),
    )
    hjs = next(line for line in markdown.splitlines() if "HJS\\-xxx" in line)
    assert "Eksakt læringsmåls\\-ID bestemmes etter høringen\\." in hjs
    assert "Høringsfristen er kortere enn tre måneder. Opptaket starter i august\\." in markdown
    assert "kortere enn tre måneder" not in render_markdown("hoeringsbrev", hearing_context())


def test_several_proposed_texts_are_labelled_with_their_specialties() -> None:
    goals = (
        ProposedGoal(text="Tekst A.", heading="Kliniske studier", specialty_names=("Geriatri",)),
        ProposedGoal(text="Tekst B.", heading="Kliniske studier", specialty_names=("Urologi",)),
    )
    markdown = render_markdown("hoeringsbrev", hearing_context(proposed_goals=goals))
    assert (
        "**Læringsmålstekst 1 som forskriftsfestes** i Geriatri, under temaoverskriften "
        "«Kliniske studier»:" in markdown
    )
    assert "**Læringsmålstekst 2 som forskriftsfestes** i Urologi" in markdown


# --- Record text stays literal ---------------------------------------------------------


def test_hostile_names_appear_literally(tmp_path: Path) -> None:
    rows = (
        ChangeItemRow(
            specialty_name=HOSTILE,
            goal_id_display="BLS-154",
            kind=ChangeKind.NEW_GOAL,
            comment="- [[pagebreak]] \\| 1. _a_ `b` <i>c</i> &amp; ###",
        ),
    )
    context = hearing_context(
        change_items=rows,
        contact=replace(CONTACT, name=HOSTILE),
        signatories=(Signatory(name="# " + HOSTILE, title="- leder"),),
    )
    path = tmp_path / "brev.docx"
    render_docx("hoeringsbrev", context, path)
    paragraphs, tables = docx_text(path)
    table = table_with_header(tables, "Spesialitet")
    assert table[1] == [HOSTILE, "BLS-154", "- [[pagebreak]] \\| 1. _a_ `b` <i>c</i> &amp; ###"]
    assert all(len(row) == 3 for row in table)
    text = "\n".join(paragraphs)
    assert f"kontakt med seniorrådgiver {HOSTILE} (marie.thoresen@helsedir.no)." in text
    assert f"# {HOSTILE}\n- leder" in text
    # The forged marker in the comment made no page break: only the appendix has one.
    document = Document(str(path))
    assert [p.text for p in document.paragraphs if p.paragraph_format.page_break_before] == [
        "Høringsinstanser"
    ]

    receipt = tmp_path / "kvittering.docx"
    render_docx("kvittering", receipt_context(recipient_name=HOSTILE), receipt)
    receipt_text = "\n".join(docx_text(receipt)[0])
    assert f"mottatt høringsinnspill fra {HOSTILE} i sak 24/750" in receipt_text
    assert f"\n{HOSTILE}\nPostboks 303 Forus\n4066 Stavanger" in receipt_text


@pytest.mark.parametrize(
    "value",
    [
        HOSTILE,
        "# Overskrift",
        "- punkt",
        "+ punkt",
        "1. mai",
        "2) to",
        "> sitat",
        "***",
        "===",
        "a\\b\\",
        "[lenke](http://x.no)",
        "![bilde](x.png)",
        "<http://x.no>",
        "&amp; &#65; &nbsp;",
        "`kode`",
        "~~strek~~",
        "    innrykk",
        "a  \nb",
        "æøå ÆØÅ «» – é",
    ],
)
def test_escaped_value_round_trips(value: str) -> None:
    expected = " ".join(value.split())
    document = new_letter_document()
    escaped = escape_markdown(value)
    markdown_to_docx(f"{escaped}\n\n| {escaped} | x |\n|---|---|\n| {escaped} | y |\n", document)
    assert [p.text for p in document.paragraphs] == [expected]
    table = document.tables[0]
    assert [[c.text for c in row.cells] for row in table.rows] == [[expected, "x"], [expected, "y"]]


def test_markdown_converter_lists_and_inline() -> None:
    document = new_letter_document()
    markdown_to_docx(
        "## Overskrift\n\n"
        "Tekst med **fet**, *kursiv* og [lenke](https://example.org).\n\n"
        "- en\n  - to\n\n"
        "3. tre\n4. fire\n\n"
        "> sitert\n\n"
        "[[lines]]\n\nlinje 1\nlinje 2\n\n[[/lines]]\n\netter\nblokken\n",
        document,
    )
    paragraphs = document.paragraphs
    assert [(p.style.name, p.text) for p in paragraphs] == [
        ("Heading 2", "Overskrift"),
        ("Normal", "Tekst med fet, kursiv og lenke (https://example.org)."),
        ("List Bullet", "en"),
        ("List Bullet 2", "to"),
        ("List", "3.\ttre"),
        ("List", "4.\tfire"),
        ("Normal", "sitert"),
        ("Normal", "linje 1\nlinje 2"),
        ("Normal", "etter blokken"),
    ]
    runs = paragraphs[1].runs
    assert [r.text for r in runs if r.bold] == ["fet"]
    assert [r.text for r in runs if r.italic] == ["kursiv"]
    assert paragraphs[6].paragraph_format.left_indent is not None


def test_page_break_goes_on_the_next_block() -> None:
    document = new_letter_document()
    markdown_to_docx(
        "før\n\n[[pagebreak]]\n\n| a |\n|---|\n| b |\n\n[[pagebreak]]\n\netter\n", document
    )
    flagged = [p.paragraph_format.page_break_before for p in document.paragraphs]
    # "før", an empty carrier paragraph before the table, "etter".
    assert [p.text for p in document.paragraphs] == ["før", "", "etter"]
    assert flagged == [None, True, True]
    assert len(document.tables) == 1


def test_unbalanced_marker_is_reported() -> None:
    with pytest.raises(LetterTemplateError, match=r"line 1: \[\[lines\]\] is never closed"):
        markdown_to_docx("[[lines]]\n\ntekst\n", new_letter_document())
    with pytest.raises(LetterTemplateError, match=r"\[\[/indent\]\] closes no open"):
        markdown_to_docx("tekst\n\n[[/indent]]\n", new_letter_document())


# --- Templates and contexts ------------------------------------------------------------


def template_variables(name: str) -> set[str]:
    env = letters.letter_environment()
    source = (letters.TEMPLATES_DIR / name).read_text(encoding="utf-8")
    return meta.find_undeclared_variables(env.parse(source))


@pytest.mark.parametrize("kind", list(LetterKind))
def test_template_uses_exactly_its_context_fields(kind: LetterKind) -> None:
    declared = {f.name for f in fields(CONTEXT_TYPES[kind])}
    used = template_variables(f"{kind}.md.j2")
    env = letters.letter_environment()
    source = (letters.TEMPLATES_DIR / f"{kind}.md.j2").read_text(encoding="utf-8")
    for included in meta.find_referenced_templates(env.parse(source)):
        assert included is not None
        included_vars = template_variables(included)
        assert included_vars <= declared, included
        used |= included_vars
    assert used <= declared, f"undeclared in {kind}: {used - declared}"
    assert declared <= used, f"fields never printed by {kind}: {declared - used}"


LETTERS = [kind for kind in LetterKind if kind != LetterKind.HOERINGSINSTANSER]  # an appendix


@pytest.mark.parametrize("kind", LETTERS)
def test_every_letter_has_the_shared_head_and_signature_once(kind: LetterKind) -> None:
    """Letter head (adressat, Deres ref., Vår ref., saksbehandler, dato) and signature
    come from one place, `_brev.md.j2`; each paragraph of a letter is printed once."""
    source = (letters.TEMPLATES_DIR / f"{kind}.md.j2").read_text(encoding="utf-8")
    assert "brev.head(" in source and "brev.signature(" in source
    assert "Vår ref." not in source and "Vennlig hilsen" not in source
    markdown = render_markdown(kind, context_for(kind))
    head = markdown.split("[[/lines]]")[0]
    for label in ("Deres ref.:", "Vår ref.: 24/750", "Saksbehandler: Marie Thoresen", "Dato: "):
        assert label in head, (kind, label)
    assert markdown.count("Vennlig hilsen") == 1
    blocks = [b.strip() for b in markdown.split("\n\n") if b.strip() and not b.startswith("[[")]
    assert len(blocks) == len(set(blocks)), [b for b in blocks if blocks.count(b) > 1]


@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_template_renders_its_context(kind: LetterKind) -> None:
    markdown = render_markdown(kind, context_for(kind))
    assert "24/750" in markdown
    assert "\n\n\n" not in markdown and markdown.endswith("\n")


def test_orientation_letter(tmp_path: Path) -> None:
    path = tmp_path / "orientering.docx"
    render_docx("orienteringsbrev", orientation_context(), path)
    paragraphs, tables = docx_text(path)
    text = "\n".join(paragraphs)
    assert tables[0] == [
        ["Spesialitet", "Læringsmåls-ID", "Vedtak", "Kommentar fra Helsedirektoratet"],
        ["Blodsykdommer", "BLS-154", "Vedtatt", ""],
        [
            "Hjertesykdommer",
            "HJS-071",
            "Vedtatt med endringer",
            "Nivået er hevet til «selvstendig kunne».",
        ],
        ["Urologi", "–", "Ikke vedtatt", "Fagmiljøet mente læringsmålet ikke passer."],
    ]
    assert "De vedtatte endringene trer i kraft 1. september 2025." in text
    assert "Læringsmålene vises i Kompetanseportalen fra 1. september 2025" in text
    assert "HJS-071 (Hjertesykdommer)" in paragraphs
    assert "videreføres ikke godkjenninger som er gitt etter det tidligere kravet" in text
    assert "fastsatt endringer i spesialistforskriftens vedlegg 2" in text
    assert "16. september 2024" in text


def test_orientation_letter_states_adopted_texts_and_what_was_not_adopted() -> None:
    context = replace(
        orientation_context(),
        decisions=(
            *orientation_context().decisions[:2],
            replace(
                orientation_context().decisions[2], kind=ChangeKind.NEW_GOAL, proposed_id="URO-090"
            ),
            SpecialtyDecision(
                specialty_name="Blodsykdommer",
                decision=Decision.ADOPT,
                goal_id="BLS-046",
                kind=ChangeKind.DELETED_GOAL,
                text="Ha kunnskap om Burkitts lymfom.",
            ),
        ),
        adopted_goals=(
            AdoptedGoalText(
                goal_ids=("BLS-154 (Blodsykdommer)", "HJS-071 (Hjertesykdommer)"),
                text=GOAL_TEXT,
                elaboration=ELABORATION,
                heading="Kliniske studier",
            ),
        ),
    )
    markdown = render_markdown("orienteringsbrev", context)
    assert (
        "BLS\\-154 \\(Blodsykdommer\\), HJS\\-071 \\(Hjertesykdommer\\), temaoverskrift "
        "«Kliniske studier»:" in markdown
    )
    assert markdown.count("Ha kunnskap om kliniske studier, herunder formål") == 1
    assert "## Læringsmål som utgår" in markdown
    assert "- BLS\\-046 (Blodsykdommer): «Ha kunnskap om Burkitts lymfom\\.»" in markdown
    # What was not adopted: the reason, and the ID it would have had (never used).
    assert (
        "| Urologi | URO\\-090 \\(tas ikke i bruk\\) | Ikke vedtatt | Fagmiljøet mente "
        "læringsmålet ikke passer\\. |" in markdown
    )


def test_orientation_letter_without_stricter_goals_keeps_approvals() -> None:
    context = orientation_context()
    relaxed = replace(
        context, decisions=tuple(replace(d, stricter=False) for d in context.decisions)
    )
    markdown = render_markdown("orienteringsbrev", relaxed)
    assert "Godkjenninger som allerede er gitt i Kompetanseportalen, videreføres." in markdown
    assert "skjerpet krav:" not in markdown


def test_receipt_and_reminder(tmp_path: Path) -> None:
    receipt = tmp_path / "kvittering.docx"
    render_docx("kvittering", receipt_context(), receipt)
    text = "\n".join(docx_text(receipt)[0])
    assert "Vår ref.: 24/750-3" in text
    assert "mottatt 2. april 2024 og er registrert med vår referanse 24/750-3" in text
    assert "offentlige etter offentleglova" in text

    reminder = tmp_path / "paaminnelse.docx"
    render_docx("paaminnelse", reminder_context(), reminder)
    text = "\n".join(docx_text(reminder)[0])
    assert "fristen for høringsinnspill er 31. mai 2024." in text
    assert "sendte 8. mars 2024 på høring sak 24/750" in text
    assert "med referanse til saksnummer 24/750." in text
    assert "Helse Nord RHF\n\nDeres ref.:" not in text  # no empty address line


# --- Failures --------------------------------------------------------------------------


def test_missing_field_fails_loudly(tmp_path: Path) -> None:
    shutil.copy(letters.TEMPLATES_DIR / "kvittering.md.j2", tmp_path / "kvittering.md.j2")
    shutil.copy(letters.TEMPLATES_DIR / "_brev.md.j2", tmp_path / "_brev.md.j2")
    with (tmp_path / "kvittering.md.j2").open("a", encoding="utf-8") as template:
        template.write("\nTelefon: {{ contact.phone }}\n")
    with pytest.raises(LetterTemplateError, match=r"kvittering\.md\.j2, line \d+: .*phone"):
        render_markdown("kvittering", receipt_context(), templates_dir=tmp_path)
    (tmp_path / "kvittering.md.j2").write_text("{% if not_a_field %}x{% endif %}\n")
    with pytest.raises(LetterTemplateError, match=r"'not_a_field' is undefined.*ReceiptContext"):
        render_markdown("kvittering", receipt_context(), templates_dir=tmp_path)
    assert isinstance(LetterTemplateError("x"), UserError)
    with pytest.raises(jinja2.UndefinedError):
        letters.letter_environment().from_string("{{ missing }}").render()


def test_unknown_kind_and_wrong_context() -> None:
    with pytest.raises(UserError, match=r"unknown letter kind 'brev'.*hoeringsbrev"):
        render_markdown("brev", receipt_context())
    with pytest.raises(TypeError, match="needs a ReceiptContext"):
        render_markdown("kvittering", reminder_context())


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "brev.docx"
    path.write_bytes(b"old letter")

    def refuse(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)  # fileio.atomic writes the file
    with pytest.raises(OSError, match="disk full"):
        render_docx("kvittering", receipt_context(), path)
    assert path.read_bytes() == b"old letter"
    assert [p.name for p in tmp_path.iterdir()] == ["brev.docx"]

    monkeypatch.undo()
    digest = render_docx("kvittering", receipt_context(), path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert [p.name for p in tmp_path.iterdir()] == ["brev.docx"]


# --- LibreOffice -----------------------------------------------------------------------


def test_every_letter_converts_to_pdf(tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        message = "LibreOffice (soffice) is not on PATH: install libreoffice-writer-nogui"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    documents = []
    for kind in LetterKind:
        path = tmp_path / f"{kind}.docx"
        render_docx(kind, context_for(kind), path)
        documents.append(str(path))
    out = tmp_path / "pdf"
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *documents,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    from pypdf import PdfReader

    for kind in LetterKind:
        pdf = out / f"{kind}.pdf"
        assert pdf.is_file() and pdf.stat().st_size > 0, kind
    letter = PdfReader(str(out / "hoeringsbrev.pdf"))
    text = "".join(page.extract_text() for page in letter.pages)
    assert "31. mai 2024" in text and "HJS-xxx" in text
    assert len(letter.pages) >= 3


def test_orientation_letter_when_nothing_was_adopted_or_only_goals_go() -> None:
    context = orientation_context()
    dropped = tuple(replace(d, decision=Decision.DROP, goal_id=None) for d in context.decisions)
    nothing = render_markdown("orienteringsbrev", replace(context, decisions=dropped))
    assert "besluttet ikke å gjennomføre de foreslåtte endringene" in nothing
    assert "fastsatt endringer" not in nothing
    assert "Ingen læringsmål ble vedtatt i denne saken" in nothing
    deleted = (replace(context.decisions[0], kind=ChangeKind.DELETED_GOAL, text="Gammel tekst."),)
    only_deleted = render_markdown("orienteringsbrev", replace(context, decisions=deleted))
    assert "fastsatt endringer" in only_deleted
    assert "Endringene vises i Kompetanseportalen fra 1. september 2025." in only_deleted
    assert "kan få dem vurdert og godkjent" not in only_deleted
