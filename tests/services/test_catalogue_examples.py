"""The example hearings on whole catalogues, end to end (create -> circulate -> close ->
review done -> codify -> in effect), and the catalogue each leaves: a BLS revision with
every kind of change, an FKM change and a LIS1 change."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from domain.calendar import OSLO
from domain.lifecycle import Action
from services import hearings
from storage import catalogue
from storage.db import read_session
from tests.catalogue_helpers import load_lis1_extract
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.hearing_helpers import act, create

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hearings"


def _run(engine, tmp_path, spec: str, decisions: str, case: str, days: dict[str, datetime]):
    """Every step of the hearing; returns the codify result."""
    letters = tmp_path / "letters"
    content = (EXAMPLES / spec).read_text(encoding="utf-8")
    assert create(engine, content, days["create"]) == case
    assert act(engine, Action.CIRCULATE, days["create"], letters, case).to_state == "circulated"
    assert act(engine, Action.CLOSE, days["closed"], letters, case).to_state == "closed"
    assert act(engine, Action.REVIEW_DONE, days["closed"], letters, case).to_state == "reviewed"
    codified = act(
        engine,
        Action.CODIFY,
        days["codified"],
        letters,
        case,
        decisions_text=(EXAMPLES / decisions).read_text(encoding="utf-8"),
    )
    assert codified.to_state == "codified"
    assert act(engine, Action.ACTIVATE, days["effective"], letters, case).to_state == "in_effect"
    return codified


def _goals(engine, on: date, code: str):
    with read_session(engine) as session:
        return {g.id: g for g in catalogue.goals_on(session, on, code)}


def test_bls_revision_with_every_kind_of_change(engine, tmp_path):
    days = {
        "create": datetime(2025, 3, 3, 10, 0, tzinfo=OSLO),
        "closed": datetime(2025, 6, 7, 9, 0, tzinfo=OSLO),
        "codified": datetime(2025, 9, 15, 9, 0, tzinfo=OSLO),
        "effective": datetime(2026, 3, 1, 7, 0, tzinfo=OSLO),
    }
    codified = _run(
        engine,
        tmp_path,
        "25-1201-blodsykdommer-revisjon.yaml",
        "25-1201-vedtak.yaml",
        "25/1201",
        days,
    )
    assert codified.details["final_ids"]["BLS-ny-vexas"] == "BLS-154"
    before = _goals(engine, date(2026, 2, 28), "BLS")
    after = _goals(engine, date(2026, 3, 1), "BLS")

    assert "BLS-154" not in before
    assert after["BLS-154"].text.endswith(
        "autoinflammatoriske sykdommer med hematologiske manifestasjoner."
    )  # the adopted, amended text
    assert after["BLS-154"].training_part == 3
    assert after["BLS-012"].text.endswith("primær og sekundær hemokromatose.")
    assert after["BLS-010"].level == "highest" and before["BLS-010"].level != "highest"
    assert after["BLS-033"].heading == "Hematologi med vekt på morfologisk diagnostikk"
    assert before["BLS-033"].heading.startswith("Maligne blodsykdommer")
    assert (before["BLS-027"].training_part, after["BLS-027"].training_part) == (None, 2)
    renamed = [g for g in after.values() if g.heading == "Hemostase, blødning og trombose"]
    assert len(renamed) == 34
    assert not [
        g
        for g in after.values()
        if g.heading and g.heading.startswith("Hemostase, bl\u00f8dningstil")
    ]
    assert before["BLS-013"].status == "active" and after["BLS-013"].status == "retired"
    with read_session(engine) as session:
        row = hearings.get_hearing(session, "25/1201")
        assert row.state == "in_effect"


def test_fkm_change_consults_every_committee(engine, tmp_path):
    days = {
        "create": datetime(2025, 9, 1, 10, 0, tzinfo=OSLO),
        "closed": datetime(2025, 11, 29, 9, 0, tzinfo=OSLO),
        "codified": datetime(2026, 1, 19, 9, 0, tzinfo=OSLO),
        "effective": datetime(2026, 9, 1, 7, 0, tzinfo=OSLO),
    }
    codified = _run(
        engine,
        tmp_path,
        "25-2210-fkm-kliniske-studier.yaml",
        "25-2210-vedtak.yaml",
        "25/2210",
        days,
    )
    assert codified.details["final_ids"] == {"LM-75": "LM-75", "LM-ny-hendelser": "LM-76"}
    with read_session(engine) as session:
        row = hearings.get_hearing(session, "25/2210")
        committees = {
            r.stakeholder_key
            for r in hearings.recipients(session, row)
            if r.group == "spesialitetskomite"
        }
        specialties = catalogue.specialties(session)
    assert len(committees) == len(specialties) == 46
    before = _goals(engine, date(2026, 8, 31), "FKM")
    after = _goals(engine, date(2026, 9, 1), "FKM")
    assert set(before) == {"LM-75"} and set(after) == {"LM-75", "LM-76"}
    assert after["LM-75"].text.endswith("pasienters reservasjonsrett og melding av bivirkninger.")
    assert (before["LM-75"].training_part, after["LM-75"].training_part) == (None, 2)
    assert after["LM-76"].heading == "Kvalitet og pasientsikkerhet"
    assert after["LM-76"].catalogue == "FKM"


def test_lis1_change(engine, tmp_path):
    load_lis1_extract(engine, tmp_path)
    days = {
        "create": datetime(2025, 8, 4, 10, 0, tzinfo=OSLO),
        "closed": datetime(2025, 11, 1, 9, 0, tzinfo=OSLO),
        "codified": datetime(2026, 1, 12, 9, 0, tzinfo=OSLO),
        "effective": datetime(2026, 9, 1, 7, 0, tzinfo=OSLO),
    }
    codified = _run(
        engine, tmp_path, "25-3050-lis1-akuttmedisin.yaml", "25-3050-vedtak.yaml", "25/3050", days
    )
    assert codified.details["final_ids"]["KLS-ny-sepsis"] == "KLS-003"
    with read_session(engine) as session:
        row = hearings.get_hearing(session, "25/3050")
        groups = {r.group for r in hearings.recipients(session, row)}
    assert "spesialitetskomite" not in groups and "rhf" in groups
    after = _goals(engine, date(2026, 9, 1), "LIS1")
    assert after["KLS-003"].text.startswith("Kunne gjenkjenne sepsis")
    assert after["KLS-003"].training_part == 1
    assert after["KLP-002"].text.startswith("Kunne gjøre en strukturert vurdering")
    assert after["KLK-003"].status == "active"  # the deletion was not adopted


def test_goals_list_and_history_before_and_after_codification(engine, hoering_env, tmp_path):
    letters = tmp_path / "letters"
    content = (EXAMPLES / "25-1201-blodsykdommer-revisjon.yaml").read_text(encoding="utf-8")
    create(engine, content, datetime(2025, 3, 3, 10, 0, tzinfo=OSLO))
    act(engine, Action.CIRCULATE, datetime(2025, 3, 3, 10, 0, tzinfo=OSLO), letters, "25/1201")

    listed = run_hoering(
        "goals", "list", "--specialty", "BLS", "--on", "2025-03-04", "--json", env=hoering_env
    )
    assert listed.code == 0, listed.stderr
    under = {g["id"]: g["under_change_in"] for g in listed.json()}
    assert under["BLS-012"] == under["BLS-013"] == ["25/1201"] and under["BLS-001"] == []
    status = run_hoering("hearing", "status", "25/1201", "--json", env=hoering_env).json()
    shown = {i["id"] for i in status["items"]}
    assert {"BLS-154", "BLS-012", "BLS-010", "BLS-033", "BLS-027", "BLS-013"} <= shown
    assert not any(i.endswith("-xxx") and i != "BLS-xxx" for i in shown)
    reserved = run_hoering("goals", "history", "BLS-154", "--json", env=hoering_env).json()
    assert reserved["versions"] == [] and reserved["reserved_by"] == "hearing 25/1201"

    sheet = tmp_path / "bls.xlsx"
    assert run_hoering("catalogue", "export", "BLS", str(sheet), env=hoering_env).code == 0
    from openpyxl import load_workbook

    workbook = load_workbook(sheet)
    rows = workbook.worksheets[0]
    row = next(r for r in range(2, rows.max_row + 1) if rows.cell(r, 1).value == "BLS-012")
    rows.delete_rows(row)
    workbook.save(sheet)
    shown = run_hoering("catalogue", "import", str(sheet), "--dry-run", "--json", env=hoering_env)
    assert shown.json()["warnings"] == [
        "BLS-012 is changed by this import and by hearing 25/1201 (amended_text, circulated); "
        "check the hearing's item against the new catalogue"
    ]
    assert "warning: BLS-012 is changed by this import" in shown.stderr

    act(engine, Action.CLOSE, datetime(2025, 6, 7, 9, 0, tzinfo=OSLO), letters, "25/1201")
    act(engine, Action.REVIEW_DONE, datetime(2025, 6, 7, 9, 0, tzinfo=OSLO), letters, "25/1201")
    decisions = (EXAMPLES / "25-1201-vedtak.yaml").read_text(encoding="utf-8")
    codify_at = datetime(2025, 9, 15, 9, 0, tzinfo=OSLO)
    act(engine, Action.CODIFY, codify_at, letters, "25/1201", decisions_text=decisions)

    retired = run_hoering("goals", "history", "bls-013", "--json", env=hoering_env).json()
    assert [(v["version"], v["status"]) for v in retired["versions"]] == [
        (1, "active"),
        (2, "retired"),
    ]
    assert retired["versions"][0]["valid_to"] == "2026-03-01"
    assert retired["versions"][1]["valid_from"] == "2026-03-01"
    assert retired["versions"][1]["hearing"] == "25/1201"
    assert retired["versions"][1]["decision"] == "adopt"
    assert retired["pending"] == []
    amended = run_hoering("goals", "history", "BLS-012", "--json", env=hoering_env).json()
    assert [v["source"] for v in amended["versions"]] == ["reference", "hearing:25/1201"]
    assert amended["versions"][1]["text"].endswith("primær og sekundær hemokromatose.")
    assert run_hoering("goals", "history", "BLS-012", env=hoering_env).code == 0
    assert_one_line_error(
        run_hoering("goals", "history", "BLS-999", env=hoering_env),
        "no learning goal BLS-999",
    )


def test_fkm_change_without_every_committee_is_not_circulated(engine, tmp_path):
    import pytest

    from domain.errors import UserError

    content = (EXAMPLES / "25-2210-fkm-kliniske-studier.yaml").read_text(encoding="utf-8")
    content = content.replace(
        "  committees_for_affected_specialties: true\n",
        "  stakeholders: [spesialitetskomite-bls]\n",
    )
    day = datetime(2025, 9, 1, 10, 0, tzinfo=OSLO)
    create(engine, content, day)
    with pytest.raises(UserError) as err:
        act(engine, Action.CIRCULATE, day, tmp_path / "letters", "25/2210")
    message = str(err.value)
    assert "recipients lack the spesialitetskomité of ALM, AMM, ANE, " in message
    assert " BLS," not in message and "URO (spesialistforskriften § 6)" in message


def test_goals_history_refuses_a_malformed_id_in_one_line(engine, hoering_env):
    result = run_hoering("goals", "history", "BLS12", env=hoering_env)
    assert_one_line_error(result, "BLS12", "hyphen is missing", "BLS-12")
    result = run_hoering("goals", "history", "BLS-999", env=hoering_env)
    assert_one_line_error(result, "no learning goal BLS-999")
