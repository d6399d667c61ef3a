"""The withdrawn example hearing 25/1187 end to end: created, circulated, withdrawn with
its høringsbrev still in the outbox; the outbox, the ledger and the tilbaketrekking."""

from __future__ import annotations

from datetime import datetime

from docx import Document
from sqlmodel import col, select

from domain.calendar import OSLO
from domain.lifecycle import Action
from services import hearings
from storage import ledger
from storage.blobs import BlobStore
from storage.db import read_session
from storage.hearing_models import OutboxMessageRow
from tests.hearing_helpers import ROOT, act, create
from tests.intake_helpers import file_messages, message
from tests.services.test_outbox_sender import ScriptedTransport, _send

SPEC = ROOT / "examples" / "hearings" / "25-1187-lungesykdommer-trukket.yaml"
CREATED = datetime(2025, 2, 7, 9, 0, tzinfo=OSLO)
CIRCULATED = datetime(2025, 2, 10, 9, 0, tzinfo=OSLO)
WITHDRAWN = datetime(2025, 2, 11, 14, 0, tzinfo=OSLO)
REASON = (
    "Spesialitetskomiteen i lungesykdommer har startet en helhetlig revisjon av "
    "læringsmålene i spesialiteten. Forslagene i denne høringen vil bli vurdert som en del "
    "av revisjonen, slik at fagmiljøet får én samlet høring."
)


def _outbox(engine) -> list[tuple[str, str, str]]:
    with read_session(engine) as session:
        rows = session.exec(select(OutboxMessageRow).order_by(col(OutboxMessageRow.id))).all()
        return [(r.kind, r.status, r.to_address) for r in rows]


def test_the_withdrawn_example_end_to_end(engine, tmp_path):
    letters = tmp_path / "letters"
    assert create(engine, SPEC.read_text(encoding="utf-8"), CREATED) == "25/1187"
    circulated = act(engine, Action.CIRCULATE, CIRCULATED, letters, case="25/1187")
    assert circulated.warnings  # placeholder addresses
    with read_session(engine) as session:
        row = hearings.get_hearing(session, "25/1187")
        assert hearings.id_displays(session, row) == {
            "LUN-sovn": "LUN-061",
            "LUN-ventilasjon": "LUN-062",
        }
        addresses = sorted(r.email for r in hearings.recipients(session, row))
    assert sorted(to for _, _, to in _outbox(engine)) == addresses

    withdrawn = act(engine, Action.WITHDRAW, WITHDRAWN, letters, case="25/1187", reason=REASON)
    assert withdrawn.to_state == "withdrawn"
    assert withdrawn.details["burned_reservations"] == ["LUN-061", "LUN-062"]
    assert withdrawn.details["cancelled_messages"] == {"hoeringsbrev": len(addresses)}
    outbox = _outbox(engine)
    assert sorted(to for kind, status, to in outbox if status == "cancelled") == addresses
    assert all(kind == "hoeringsbrev" for kind, status, _ in outbox if status == "cancelled")
    pending = sorted(to for kind, status, to in outbox if status == "pending")
    assert pending == addresses
    assert {kind for kind, status, _ in outbox if status == "pending"} == {"tilbaketrekking"}

    with read_session(engine) as session:
        statuses = {r.display: r.status for r in ledger.reservations_for_case(session, "25/1187")}
        assert str(ledger.peek_next(session, "LUN")) == "LUN-063"  # burned, never reused
    assert statuses == {"LUN-061": "burned", "LUN-062": "burned"}

    [path] = withdrawn.details["letters"]
    document = Document(path)
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.count("Tilbaketrekking av høring – Høring om nye læringsmål i lungesykdommer") == 1
    assert "Vår ref.: 25/1187\nSaksbehandler: Ingrid Haugen\nDato: 11. februar 2025" in text
    assert "Helsedirektoratet sendte 10. februar 2025 på høring" in text
    assert "med frist for høringsinnspill 12. mai 2025" in text
    assert REASON in text
    assert "(LUN-061, LUN-062), blir ikke tatt i bruk" in text
    assert "Heidi Stien e.f.\navdelingsdirektør" in text
    assert "ingrid.haugen@helsedir.no" in text

    report = _send(engine, ScriptedTransport(), tmp_path / "data", now=WITHDRAWN)
    assert report.counts()["sent"] == len(addresses)
    assert {r.kind for r in report.results} == {"tilbaketrekking"}

    store = BlobStore(tmp_path / "blobs", durable=False)
    late = message(
        subject="Høringssvar sak 25/1187 – læringsmål i lungesykdommer",
        body="Helse Vest støtter forslaget om egne læringsmål for søvnapné.",
        date="Mon, 17 Feb 2025 10:00:00 +0100",
        message_id="<svar-25-1187@helse-vest.no>",
    )
    [filed] = file_messages(engine, store, [late], now=datetime(2025, 2, 17, 11, tzinfo=OSLO))
    assert filed.case == "25/1187"
    with read_session(engine) as session:
        [receipt] = session.exec(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "kvittering")
        ).all()
    assert "Høringen i sak 25/1187 er trukket tilbake." in receipt.body_text
