"""The change sheet (.xlsx): sheets, rows, sheet titles, determinism, literal values."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zipfile import ZipFile

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from domain.letter_context import ChangeItemRow, ChangeKind, ChangeSheetContext, Decision
from rendering.change_sheet import (
    ASSESSMENT_HEADER,
    DECISION_HEADER,
    OVERVIEW_HEADERS,
    SPECIALTY_HEADERS,
    write_change_sheet,
)
from rendering.xlsx_tables import MAX_SHEET_TITLE, sheet_title

# Specialty, ID and comment of the høringsbrev 24/750, in the letter's order.
ROWS_24_750 = (
    ("Akutt- og mottaksmedisin", "AMM-068", ""),
    ("Blodsykdommer", "BLS-154", ""),
    ("Geriatri", "GER-064", "Noen grupper er underrepresenterte, slik som barn og eldre."),
    ("Hjertesykdommer", "HJS-xxx", "Eksakt læringsmåls-ID bestemmes etter høringen"),
    ("Indremedisin", "MED-106", ""),
    ("Lungesykdommer", "LUN-061", ""),
    ("Nyresykdommer", "NYR-067", ""),
    ("Generell kirurgi", "KIR-174", 'Fagmiljøet ønsker nivået "selvstendig kunne".'),
    ("Nevrokirurgi", "NKI-037", ""),
    ("Urologi", "URO-090", ""),
    ("Barnesykdommer", "PED-165", "Noen grupper er underrepresenterte, slik som barn og eldre."),
    ("Nevrologi", "NEV-068", ""),
    ("Onkologi", "ONC-069", ""),
)


def context_24_750() -> ChangeSheetContext:
    items = tuple(
        ChangeItemRow(
            specialty_name=name,
            goal_id_display=goal_id,
            kind=ChangeKind.NEW_GOAL,
            comment=comment,
            id_deferred=goal_id.endswith("-xxx"),
            reason="Oppdrag i tildelingsbrev, nasjonal handlingsplan for kliniske studier",
        )
        for name, goal_id, comment in ROWS_24_750
    )
    return ChangeSheetContext(
        case_number="24/750",
        title="Kompetanse om kliniske studier i spesialistutdanningen for leger",
        sheet_date=date(2024, 3, 8),
        change_items=items,
    )


def values(sheet: Worksheet) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_overview_and_one_sheet_per_specialty(tmp_path: Path) -> None:
    path = tmp_path / "endringer.xlsx"
    write_change_sheet(context_24_750(), path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Oversikt"] + [name for name, _, _ in ROWS_24_750]

    overview = values(workbook["Oversikt"])
    assert overview[0] == list(OVERVIEW_HEADERS)
    assert [(row[0], row[1], row[6] or "") for row in overview[1:]] == list(ROWS_24_750)
    assert {row[2] for row in overview[1:]} == {"Nytt læringsmål."}
    assert {row[5] for row in overview[1:]} == {"Nei"}

    blood = values(workbook["Blodsykdommer"])
    assert blood[0] == list(SPECIALTY_HEADERS)
    assert len(blood) == 2
    row = dict(zip(SPECIALTY_HEADERS, blood[1], strict=True))
    assert row["Læringsmåls-ID"] == "BLS-154"
    assert row["Type endring"] == "Nytt læringsmål"
    assert row["Effekt på ID"] == "Ny ID reservert: BLS-154"
    assert row["Begrunnelse"].startswith("Oppdrag i tildelingsbrev")

    heart = dict(zip(SPECIALTY_HEADERS, values(workbook["Hjertesykdommer"])[1], strict=True))
    assert heart["Effekt på ID"] == "ID bestemmes ved forskriftsfesting (HJS-xxx)"


def test_other_change_kinds(tmp_path: Path) -> None:
    items = (
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="BLS-095",
            kind=ChangeKind.AMENDED_TEXT,
            old_text="Ha kunnskap om vurdering av resultater",
            new_text="Ha god kunnskap om vurdering av resultater",
            level_before="ha kunnskap om",
            level_after="ha god kunnskap om",
            stricter=True,
            reason="Spesialitetskomiteen ber om høyere nivå.",
        ),
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="BLS-160",
            kind=ChangeKind.MOVED_GOAL,
            old_text="Akutte tilstander",
            new_text="Onkologiske nødsituasjoner",
            previous_goal_id="BLS-089",
        ),
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="BLS-046",
            kind=ChangeKind.DELETED_GOAL,
            old_text="Ha kunnskap om Burkitts lymfom.",
        ),
        ChangeItemRow(
            specialty_name="Blodsykdommer",
            goal_id_display="–",
            kind=ChangeKind.HEADING_CHANGE,
            old_text="Lymfomer",
            new_text="Lymfomer og myelomatose",
        ),
    )
    path = tmp_path / "endringer.xlsx"
    context = ChangeSheetContext(
        case_number="25/101", title="Revisjon", sheet_date=date(2025, 1, 6), change_items=items
    )
    write_change_sheet(context, path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Oversikt", "Blodsykdommer"]
    overview = values(workbook["Oversikt"])
    assert overview[1][3:6] == ["ha kunnskap om", "ha god kunnskap om", "Ja"]
    assert overview[2][5] == "Nei"
    rows = [
        dict(zip(SPECIALTY_HEADERS, r, strict=True)) for r in values(workbook["Blodsykdommer"])[1:]
    ]
    assert [r["Type endring"] for r in rows] == [
        "Endret tekst",
        "Flyttet læringsmål",
        "Læringsmålet utgår",
        "Endret temaoverskrift",
    ]
    assert rows[0]["Tekst før"] == "Ha kunnskap om vurdering av resultater"
    assert rows[0]["Tekst etter"] == "Ha god kunnskap om vurdering av resultater"
    assert rows[0]["Endring"].endswith("Skjerpet krav.")
    assert [r["Effekt på ID"] for r in rows] == [
        "ID beholdes: BLS-095",
        "Ny ID reservert: BLS-160 (erstatter BLS-089)",
        "ID utgår og gjenbrukes ikke: BLS-046",
        "Ingen endring i ID",
    ]


def test_deterministic_with_fixed_properties(tmp_path: Path) -> None:
    first = write_change_sheet(context_24_750(), tmp_path / "a.xlsx")
    second = write_change_sheet(context_24_750(), tmp_path / "b.xlsx")
    assert first == second == hashlib.sha256((tmp_path / "a.xlsx").read_bytes()).hexdigest()
    later = ChangeSheetContext(
        case_number="24/750",
        title=context_24_750().title,
        sheet_date=date(2024, 3, 11),
        change_items=context_24_750().change_items,
    )
    assert write_change_sheet(later, tmp_path / "c.xlsx") != first

    props = load_workbook(tmp_path / "a.xlsx").properties
    assert props.creator == "Helsedirektoratet"
    assert props.lastModifiedBy == "Helsedirektoratet"
    assert props.created == props.modified == datetime(2024, 3, 8, 0, 0)
    with ZipFile(tmp_path / "a.xlsx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(2024, 3, 8, 0, 0, 0)}


def test_sheet_titles_are_valid_and_unique() -> None:
    taken = ["Oversikt"]
    names = [
        "Øre-nese-hals: [hode/hals]*?\\",
        "Fysikalsk medisin og rehabilitering, voksne",
        "Fysikalsk medisin og rehabilitering, barn",
        "oversikt",
        "'Sitert'",
        "History",
        "???",
    ]
    for name in names:
        title = sheet_title(name, taken)
        assert 0 < len(title) <= MAX_SHEET_TITLE, title
        assert not set(title) & set("[]:*?/\\"), title
        assert not title.startswith("'") and not title.endswith("'"), title
        assert title.casefold() not in {t.casefold() for t in taken} | {"history"}, title
        taken.append(title)
    assert taken[1] == "Øre-nese-hals- -hode-hals----"
    assert taken[2] == "Fysikalsk medisin og rehabilite"
    assert taken[3] == "Fysikalsk medisin og rehabi (2)"
    assert taken[4] == "oversikt (2)"


def test_long_and_clashing_specialty_names_make_sheets(tmp_path: Path) -> None:
    items = tuple(
        ChangeItemRow(specialty_name=name, goal_id_display=f"FYS-{n:03d}", kind=ChangeKind.NEW_GOAL)
        for n, name in enumerate(
            [
                "Fysikalsk medisin og rehabilitering, voksne",
                "Fysikalsk medisin og rehabilitering, barn",
                "Oversikt",
            ],
            start=1,
        )
    )
    path = tmp_path / "x.xlsx"
    write_change_sheet(
        ChangeSheetContext(
            case_number="1/1", title="t", sheet_date=date(2024, 1, 2), change_items=items
        ),
        path,
    )
    workbook = load_workbook(path)
    assert len(workbook.sheetnames) == 4
    assert [values(workbook[name])[1][0] for name in workbook.sheetnames[1:]] == [
        "FYS-001",
        "FYS-002",
        "FYS-003",
    ]


def test_record_values_stay_literal_text(tmp_path: Path) -> None:
    hostile = 'Ås & Co <"Test"> | #1 *x*_y_'
    items = (
        ChangeItemRow(
            specialty_name=hostile,
            goal_id_display="BLS-154",
            kind=ChangeKind.NEW_GOAL,
            comment='=HYPERLINK("http://x";"klikk")',
            reason="tekst med kontrolltegn\x07 fjernet",
        ),
    )
    path = tmp_path / "x.xlsx"
    write_change_sheet(
        ChangeSheetContext(
            case_number="1/1", title="t", sheet_date=date(2024, 1, 2), change_items=items
        ),
        path,
    )
    workbook = load_workbook(path)
    overview = workbook["Oversikt"]
    assert overview["A2"].value == hostile
    assert overview["G2"].value == '=HYPERLINK("http://x";"klikk")'
    assert overview["G2"].data_type == "s"
    specialty = workbook[workbook.sheetnames[1]]
    assert specialty["I2"].value == "tekst med kontrolltegn fjernet"


def test_adopted_sheet_has_final_ids_adopted_texts_and_a_decision_column(tmp_path: Path) -> None:
    items = (
        ChangeItemRow(
            specialty_name="Hjertesykdommer",
            goal_id_display="HJS-101",
            kind=ChangeKind.NEW_GOAL,
            new_text="Under supervisjon kunne delta i kliniske studier.",
            decision=Decision.ADOPT_AMENDED,
        ),
        ChangeItemRow(
            specialty_name="Hjertesykdommer",
            goal_id_display="HJS-102",
            kind=ChangeKind.NEW_GOAL,
            new_text="Ha kunnskap om kliniske studier.",
            decision=Decision.DROP,
            assessment="Dekkes av HJS-101.",
        ),
    )
    context = ChangeSheetContext(
        case_number="24/750", title="Vedtak", sheet_date=date(2024, 9, 16), change_items=items
    )
    path = tmp_path / "vedtatt.xlsx"
    write_change_sheet(context, path)
    workbook = load_workbook(path)
    assert values(workbook["Oversikt"])[0][-2:] == [DECISION_HEADER, ASSESSMENT_HEADER]
    sheet = values(workbook["Hjertesykdommer"])
    headers = (*SPECIALTY_HEADERS, DECISION_HEADER, ASSESSMENT_HEADER)
    rows = [dict(zip(headers, r, strict=True)) for r in sheet[1:]]
    assert [r[DECISION_HEADER] for r in rows] == ["Vedtatt med endringer", "Ikke vedtatt"]
    assert rows[0]["Tekst etter"] == "Under supervisjon kunne delta i kliniske studier."
    assert rows[0]["Effekt på ID"] == "Endelig ID: HJS-101"
    assert rows[1]["Effekt på ID"] == "Ikke vedtatt: HJS-102 tas ikke i bruk og gjenbrukes ikke"
    assert rows[1][ASSESSMENT_HEADER] == "Dekkes av HJS-101."
    # The sheet sent with the høringsbrev has no decision column.
    write_change_sheet(
        replace(context, change_items=tuple(replace(i, decision=None) for i in items)), path
    )
    assert DECISION_HEADER not in values(load_workbook(path)["Oversikt"])[0]
