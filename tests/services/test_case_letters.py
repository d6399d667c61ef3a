"""Every letter of a hearing, written by the services from a stored hearing, checked
against the real høringsbrev (seed 001) and the conventions of Norwegian government
letters: no paragraph twice; letter head with Deres ref., Vår ref., dato, saksbehandler
and emne; the reasons for a deferred ID, a short deadline and a deleted goal; the change
sheet's texts; the kvittering as a .docx; the orienteringsbrev and the adopted change
sheet with the final IDs and the adopted texts.

Runs every hearing in `examples/hearings/` (found by glob: a YAML file with `items:` is a
spec, one with `decisions:` the decisions of its `case:`), and a revision hearing built
here with a deferred ID, a short deadline, an amended, a deleted and a dropped item.
"""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from domain.calendar import OSLO, format_date_nb
from domain.change_items import AmendedText, DeletedGoal, NewGoal
from domain.decisions import Decisions, Outcome, parse_decisions
from domain.hearing_spec import HearingSpec, parse_hearing_spec
from domain.lifecycle import Action
from mail.transports import DeliveryJournal, FolderTransport
from rendering.change_sheet import ASSESSMENT_HEADER, DECISION_HEADER
from rendering.letters import render_docx
from services import hearings, summary
from services.outbox import send_pending
from services.reminders import reminder_context
from services.review_recording import record_review
from storage.blobs import BlobStore
from storage.db import read_session, write_session
from storage.hearing_models import HearingRecipientRow, OutboxMessageRow
from storage.models import LearningGoalRow
from tests.catalogue_helpers import load_lis1_extract
from tests.hearing_helpers import ROOT, SPEC_PATH, act, create
from tests.intake_helpers import file_messages, message

EXAMPLES = ROOT / "examples" / "hearings"
SENDER = Address(display_name="Helsedirektoratet", addr_spec="postmottak@helsedir.no")
BLS_CATALOGUE = ROOT / "data" / "catalogues" / "BLS.yaml"


def example_hearings() -> list[Any]:
    """(spec file, decisions file or None) for every hearing in examples/hearings/."""
    specs: dict[str, Path] = {}
    decisions: dict[str, Path] = {}
    for path in sorted(EXAMPLES.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "items" in data:
            specs[str(data["case"])] = path
        elif isinstance(data, dict) and "decisions" in data:
            decisions[str(data["case"])] = path
    return [pytest.param(spec, decisions.get(case), id=case) for case, spec in specs.items()]


# --- a revision hearing with every reason a letter must print ------------------------------

REVISION_CASE = "24/2001"
DEFER_REASON = (
    "Eksakt læringsmåls-ID bestemmes etter høringen, pga. pågående prosess om revisjon av "
    "læringsmålene i spesialiteten."
)
SHORT_REASON = "Endringen må være forskriftsfestet før opptaket av nye leger i spesialisering."
DELETE_REASON = "Læringsmålet dekkes av BLS-001."
ADOPTED_BLS_TEXT = (
    "Under supervisjon kunne delta i kliniske studier i blodsykdommer, herunder informere "
    "pasienter om studien og om reservasjonsrett."
)
DROP_REASON = "Geriatri har nylig revidert sine læringsmål; forslaget tas opp igjen senere."


def _catalogue_text(goal_id: str) -> str:
    goals = yaml.safe_load(BLS_CATALOGUE.read_text(encoding="utf-8"))["goals"]
    return next(" ".join(g["text"].split()) for g in goals if g["id"] == goal_id)


LEVEL_WORDS = "Ha kunnskap om"


def revision_spec_text() -> str:
    """The 24/750 spec turned into a revision: new goals (one deferred), an amended and a
    deleted BLS goal, a deadline of five weeks with its reason."""
    data = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    data.update(
        case=REVISION_CASE,
        title="Revisjon av læringsmål om kliniske studier i blodsykdommer og hjertesykdommer",
        introduction="Helsedirektoratet sender på høring endringer i følgende spesialiteter:",
        deadline="2024-04-30",
        short_deadline_reason=SHORT_REASON,
    )
    old_text = _catalogue_text("BLS-010")
    data["items"] = [
        {"kind": "new_goal", "specialty": "BLS", "heading": "Kliniske studier",
         "training_part": 3,
         "text": "Ha kunnskap om kliniske studier i blodsykdommer og kunne informere pasienter."},
        {"kind": "new_goal", "specialty": "HJS", "heading": "Kliniske studier",
         "training_part": 3, "defer_reason": DEFER_REASON},
        {"kind": "new_goal", "specialty": "GER", "heading": "Kliniske studier",
         "training_part": 3},
        {"kind": "amended_text", "specialty": "BLS", "goal_id": "BLS-010",
         "old_text": old_text, "new_text": "Ha god kunnskap om" + old_text[len(LEVEL_WORDS):],
         "comment": "Spesialitetskomiteen ber om høyere nivå."},
        {"kind": "deleted_goal", "specialty": "BLS", "goal_id": "BLS-002",
         "reason": DELETE_REASON},
    ]  # fmt: skip
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def revision_decisions_text() -> str:
    def adopt(item: str, **extra: str) -> dict[str, str]:
        return {"item": item, "decision": "adopt", "assessment": f"{item} vedtas.", **extra}

    return yaml.safe_dump(
        {
            "case": REVISION_CASE,
            "decided_on": "2024-09-16",
            "effective_date": "2025-09-01",
            "summary": "Forslagene vedtas, unntatt for geriatri.",
            "decisions": [
                {
                    "item": "BLS",
                    "decision": "adopt_amended",
                    "text": ADOPTED_BLS_TEXT,
                    "assessment": "Teksten er presisert etter innspill.",
                },
                adopt("HJS", resolve_id="next"),
                {"item": "GER", "decision": "drop", "assessment": DROP_REASON},
                adopt("BLS-010"),
                adopt("BLS-002"),
            ],
        },
        allow_unicode=True,
        sort_keys=False,
    )


# --- running a hearing and reading its letters -----------------------------------------------


@dataclass
class CaseLetters:
    spec: HearingSpec
    decisions: Decisions | None
    circulated_on: date
    hoeringsbrev: Path
    change_sheet: Path
    paaminnelse: Path
    kvittering: Path
    tracking_number: str
    orienteringsbrev: Path | None = None
    adopted_sheet: Path | None = None
    final_ids: dict[str, str | None] = field(default_factory=dict)
    proposed_ids: dict[str, str] = field(default_factory=dict)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=OSLO)


def run_hearing(engine, tmp_path: Path, spec_text: str, decisions_text: str | None) -> CaseLetters:
    """Create, circulate, take in one response (receipt sent), remind, close, review and
    codify the hearing; the paths of every letter written."""
    spec = parse_hearing_spec(spec_text, "spec.yaml")
    weeks = 5 if spec.short_deadline_reason else 10
    circulated = _at(spec.deadline - timedelta(weeks=weeks))
    letters, data_dir = tmp_path / "letters", tmp_path / "var"
    create(engine, spec_text, circulated)
    details = act(engine, Action.CIRCULATE, circulated, letters, case=spec.case).details
    hoeringsbrev, change_sheet = (Path(p) for p in details["letters"])
    with read_session(engine) as session:
        hearing = hearings.get_hearing(session, spec.case)
        proposed = hearings.id_displays(session, hearing)
        recipient = session.exec(
            select(HearingRecipientRow).where(HearingRecipientRow.hearing_id == hearing.id)
        ).first()
        assert recipient is not None
        paaminnelse = tmp_path / "paaminnelse.docx"
        render_docx(
            "paaminnelse",
            reminder_context(hearing, recipient, spec.deadline - timedelta(days=14)),
            paaminnelse,
        )
    kvittering, tracking_number = answer(engine, spec.case, recipient.email, circulated, data_dir)
    case = CaseLetters(
        spec=spec,
        decisions=None,
        circulated_on=circulated.date(),
        hoeringsbrev=hoeringsbrev,
        change_sheet=change_sheet,
        paaminnelse=paaminnelse,
        kvittering=kvittering,
        tracking_number=tracking_number,
        proposed_ids=proposed,
    )
    if decisions_text is not None:
        _decide(engine, case, decisions_text, letters)
    return case


def answer(
    engine, case: str, address: str, circulated: datetime, data_dir: Path
) -> tuple[Path, str]:
    """A response from `address` a week after circulation, filed and its receipt sent:
    the kvittering letter attached to the receipt e-mail, and our reference."""
    received = circulated + timedelta(days=7)
    raw = message(
        sender=f'"Postmottak" <{address}>',
        subject=f"Høringssvar sak {case}",
        date=received.strftime("%a, %d %b %Y %H:%M:%S %z"),
        message_id=f"<svar-{case.replace('/', '-')}@example.no>",
    )
    outcome = file_messages(engine, BlobStore(data_dir / "blobs"), [raw], now=received)[0]
    assert outcome.tracking_number, outcome
    transport = FolderTransport(
        data_dir / "outbox-sent", DeliveryJournal(data_dir / "outbox" / "journal.jsonl")
    )
    send_pending(
        engine, transport, now=received + timedelta(hours=1), data_dir=data_dir, sender=SENDER
    )
    with read_session(engine) as session:
        receipt = session.exec(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "kvittering")
        ).one()
    assert receipt.status == "sent", receipt.last_error
    (kvittering,) = (Path(p) for p in json.loads(receipt.attachments_json))
    sent = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        for f in (data_dir / "outbox-sent").rglob("*.eml")
    ]
    (receipt_mail,) = (m for m in sent if str(m["Subject"]).startswith("Kvittering"))
    attached = [a.get_filename() for a in receipt_mail.iter_attachments()]
    assert attached == [kvittering.name], attached
    return kvittering, outcome.tracking_number


def _decide(engine, case: CaseLetters, decisions_text: str, letters: Path) -> None:
    spec = case.spec
    decisions = parse_decisions(decisions_text, "vedtak.yaml")
    after = _at(spec.deadline + timedelta(days=1))
    with write_session(engine) as session:
        record_review(session, case.tracking_number, stance="støtter", actor="tester", now=after)
    act(engine, Action.CLOSE, after, letters, case=spec.case)
    act(engine, Action.REVIEW_DONE, after, letters, case=spec.case)
    codified = act(
        engine,
        Action.CODIFY,
        _at(decisions.decided_on, 9),
        letters,
        case=spec.case,
        decisions_text=decisions_text,
    )
    case.decisions = decisions
    case.orienteringsbrev, case.adopted_sheet = (Path(p) for p in codified.details["letters"])
    case.final_ids = codified.details["final_ids"]


def paragraphs(path: Path) -> list[str]:
    return [p.text.strip() for p in Document(str(path)).paragraphs if p.text.strip()]


def table_rows(path: Path) -> list[list[str]]:
    document = Document(str(path))
    return [[cell.text for cell in row.cells] for t in document.tables for row in t.rows]


def flat(text: str) -> str:
    return " ".join(text.split())


def sheet_rows(path: Path) -> list[dict[str, str]]:
    """Every row of the per-specialty sheets, by header."""
    workbook = load_workbook(path)
    rows: list[dict[str, str]] = []
    for sheet in workbook.worksheets[1:]:
        values = [
            [c if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)
        ]
        rows.extend(dict(zip(values[0], r, strict=True)) for r in values[1:])
    return rows


def assert_letter(path: Path, *, our_ref: str, officer: str, day: date, subject: str) -> str:
    """The conventions of every letter; returns the letter's text (paragraphs joined)."""
    texts = paragraphs(path)
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    assert not repeated, f"{path.name}: paragraphs printed twice: {repeated}"
    text = "\n".join(texts)
    head = next(t for t in texts if "Vår ref.:" in t)
    assert "Deres ref.:" in head
    assert f"Vår ref.: {our_ref}\n" in head
    assert f"Saksbehandler: {officer}" in head
    assert f"Dato: {format_date_nb(day)}" in head
    headings = [
        flat(p.text)
        for p in Document(str(path)).paragraphs
        if p.style and p.style.name == "Heading 1"
    ]
    assert flat(subject) in headings[0], headings  # the emne line, right after the head
    assert "Vennlig hilsen" in texts
    return text


# --- the tests ---------------------------------------------------------------------------------


def check_hearing_letter(engine, case: CaseLetters) -> None:
    spec = case.spec
    text = assert_letter(
        case.hoeringsbrev,
        our_ref=spec.case,
        officer=spec.case_officer.name,
        day=case.circulated_on,
        subject=spec.title,
    )
    assert text.count(f"Frist for høringsinnspill er {format_date_nb(spec.deadline)}") == 1
    if spec.short_deadline_reason:
        assert flat(spec.short_deadline_reason) in flat(text)
    rows = table_rows(case.hoeringsbrev)
    for item in spec.items:
        shown = getattr(item, "goal_id", "") or case.proposed_ids.get(item.ref)
        row = next((r for r in rows if shown and shown in r[1]), None)
        if isinstance(item, NewGoal) and item.deferred:
            assert row is not None and flat(item.defer_reason or "") in flat(row[-1]), row
        if isinstance(item, DeletedGoal):
            assert row is not None and flat(item.reason) in flat(row[-1]), row
            assert catalogue_text(engine, item.goal_id, case.circulated_on) in flat(row[2]), row
    for sheet_row in sheet_rows(case.change_sheet):
        if sheet_row["Type endring"] == "Nytt læringsmål":
            assert sheet_row["Tekst etter"].strip(), sheet_row


def check_orientation_letter(case: CaseLetters) -> None:
    spec, decisions = case.spec, case.decisions
    assert decisions is not None and case.orienteringsbrev and case.adopted_sheet
    assert_letter(
        case.orienteringsbrev,
        our_ref=spec.case,
        officer=spec.case_officer.name,
        day=decisions.decided_on,
        subject=spec.title,
    )
    texts = paragraphs(case.orienteringsbrev)
    not_adopted = [
        [flat(r[3])] for r in table_rows(case.orienteringsbrev) if r[2] == "Ikke vedtatt"
    ]
    sheet = {r["Læringsmåls-ID"]: r for r in sheet_rows(case.adopted_sheet)}
    assert all(r[DECISION_HEADER] for r in sheet.values())
    assert not any("Ny ID reservert" in r["Effekt på ID"] for r in sheet.values())
    for item in spec.items:
        decision = decisions.for_item(item.ref)
        assert decision is not None
        if decision.decision == Outcome.DROP:  # the decision table says so, with the reason
            assert [flat(decision.assessment)] in not_adopted, item.ref
            continue
        final_id = case.final_ids[item.ref]
        if not isinstance(item, (NewGoal, AmendedText)):
            continue
        proposed = item.text if isinstance(item, NewGoal) else item.new_text
        adopted = decision.text if decision.decision == Outcome.ADOPT_AMENDED else proposed
        assert adopted is not None
        assert final_id, item.ref
        # The paragraph naming the final ID is followed by the adopted text.
        label = next(i for i, t in enumerate(texts) if final_id in t and t.endswith(":"))
        assert flat(texts[label + 1]) == flat(adopted), (final_id, texts[label + 1])
        row = sheet[final_id]
        assert flat(row["Tekst etter"]) == flat(adopted)
        assert row[DECISION_HEADER] == decision.decision.label_nb.capitalize()
        assert flat(row[ASSESSMENT_HEADER]) == flat(decision.assessment)


def catalogue_text(engine, goal_id: str, day: date) -> str:
    """The text of a goal's version in force on `day`, as the hearing letter quotes it."""
    with read_session(engine) as session:
        versions = session.exec(
            select(LearningGoalRow).where(LearningGoalRow.goal_id == goal_id)
        ).all()
    texts = [
        flat(v.text)
        for v in versions
        if (v.valid_from is None or v.valid_from <= day)
        and (v.valid_to is None or v.valid_to > day)
    ]
    assert len(texts) == 1, (goal_id, texts)
    return texts[0]


def check_receipt_and_reminder(case: CaseLetters) -> None:
    spec = case.spec
    text = assert_letter(
        case.kvittering,
        our_ref=case.tracking_number,
        officer=spec.case_officer.name,
        day=case.circulated_on + timedelta(days=7),
        subject=f"Kvittering for mottatt høringsinnspill – sak {spec.case}",
    )
    assert spec.case in text and case.tracking_number in text
    assert_letter(
        case.paaminnelse,
        our_ref=spec.case,
        officer=spec.case_officer.name,
        day=spec.deadline - timedelta(days=14),
        subject=f"Påminnelse om høring – {spec.title}",
    )


def check_summary(engine, case: CaseLetters, tmp_path: Path) -> None:
    """The høringsoppsummering is a document of the case, not a letter to someone: no
    addressee, no Deres ref. and no signature, but Vår ref., saksbehandler, dato and emne."""
    spec, decisions = case.spec, case.decisions
    assert decisions is not None
    with write_session(engine) as session:
        files = summary.write_summary(
            session, spec.case, _at(decisions.decided_on, 12), tmp_path / "letters", decisions
        )
    texts = paragraphs(files.docx)
    head = texts[0]
    assert f"Vår ref.: {spec.case}\n" in head and f"Saksbehandler: {spec.case_officer.name}" in head
    assert "Dato: " in head
    document = Document(str(files.docx))
    headings = [
        flat(p.text) for p in document.paragraphs if p.style and p.style.name == "Heading 1"
    ]
    assert flat(spec.title) in headings[0]


@pytest.mark.parametrize(("spec_path", "decisions_path"), example_hearings())
def test_every_letter_of_each_example_hearing(engine, tmp_path, spec_path, decisions_path):
    decisions = decisions_path.read_text(encoding="utf-8") if decisions_path else None
    spec_text = spec_path.read_text(encoding="utf-8")
    if any(i.catalogue_code == "LIS1" for i in parse_hearing_spec(spec_text, "spec").items):
        load_lis1_extract(engine, tmp_path)  # LIS1 goals are not shipped; staff import them
    case = run_hearing(engine, tmp_path, spec_text, decisions)
    check_hearing_letter(engine, case)
    check_receipt_and_reminder(case)
    if decisions is not None:
        check_orientation_letter(case)
        check_summary(engine, case, tmp_path)


def test_every_letter_of_a_revision_with_every_reason(engine, tmp_path):
    case = run_hearing(engine, tmp_path, revision_spec_text(), revision_decisions_text())
    check_hearing_letter(engine, case)
    check_receipt_and_reminder(case)
    check_orientation_letter(case)
    brev = flat("\n".join(paragraphs(case.hoeringsbrev)))
    assert flat(SHORT_REASON) in brev
    rows = table_rows(case.hoeringsbrev)
    hjs = next(r for r in rows if r[1].startswith("HJS-xxx"))
    assert flat(DEFER_REASON) in flat(hjs[-1])
    deleted = next(r for r in rows if r[1].startswith("BLS-002"))
    assert _catalogue_text("BLS-002") in flat(deleted[2]) and DELETE_REASON in deleted[-1]

    orientation = flat("\n".join(paragraphs(case.orienteringsbrev)))
    assert ADOPTED_BLS_TEXT in orientation
    proposed = "Ha kunnskap om kliniske studier i blodsykdommer og kunne informere pasienter."
    assert proposed not in orientation  # the adopted text, not the proposed one
    ger = next(r for r in table_rows(case.orienteringsbrev) if r[0] == "Geriatri")
    assert ger[1:] == [f"{case.proposed_ids['GER']} (tas ikke i bruk)", "Ikke vedtatt", DROP_REASON]
    assert f"{case.final_ids['HJS']} (Hjertesykdommer)" in orientation
    assert "Læringsmål som utgår" in orientation and _catalogue_text("BLS-002") in orientation
    sheet = {r["Læringsmåls-ID"]: r for r in sheet_rows(case.adopted_sheet)}
    assert sheet[case.final_ids["HJS"]]["Effekt på ID"] == f"Endelig ID: {case.final_ids['HJS']}"
    assert sheet[case.proposed_ids["GER"]][DECISION_HEADER] == "Ikke vedtatt"
    assert sheet["BLS-010"]["Skjerpet krav"] == "Ja"
