"""Withdrawing a hearing: pending letters are cancelled, every recipient gets the
tilbaketrekking, and a later response gets a receipt that says the hearing is withdrawn."""

from __future__ import annotations

from datetime import datetime

import pytest
from docx import Document
from sqlmodel import select

from domain.calendar import OSLO
from domain.lifecycle import Action
from services import hearings
from storage.blobs import BlobStore
from storage.db import read_session
from storage.hearing_models import OutboxMessageRow
from tests.hearing_helpers import CIRCULATED, act, create
from tests.intake_helpers import file_messages, message
from tests.services.test_outbox_sender import ScriptedTransport, _send

WITHDRAWN = datetime(2024, 3, 25, 10, 0, tzinfo=OSLO)
REASON = "Forslaget omarbeides etter nye innspill fra Legeforeningen."


def _by_kind(engine) -> dict[str, dict[str, int]]:
    with read_session(engine) as session:
        rows = session.exec(select(OutboxMessageRow)).all()
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row.kind, {}).setdefault(row.status, 0)
        counts[row.kind][row.status] += 1
    return counts


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "data" / "blobs", durable=False)


def test_withdrawal_cancels_pending_letters_and_sends_only_the_tilbaketrekking(
    engine, tmp_path, store
):
    letters = tmp_path / "letters"
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, letters)
    with read_session(engine) as session:
        recipients = len(hearings.recipients(session, hearings.get_hearing(session, "24/750")))
    assert _by_kind(engine) == {"hoeringsbrev": {"pending": recipients}}

    result = act(engine, Action.WITHDRAW, WITHDRAWN, letters, reason=REASON)
    assert result.details["cancelled_messages"] == {"hoeringsbrev": recipients}
    assert result.details["queued_messages"] == recipients
    assert _by_kind(engine) == {
        "hoeringsbrev": {"cancelled": recipients},
        "tilbaketrekking": {"pending": recipients},
    }

    transport = ScriptedTransport()
    report = _send(engine, transport, tmp_path / "data", now=WITHDRAWN)
    assert {r.kind for r in report.results} == {"tilbaketrekking"}
    assert report.counts()["sent"] == recipients

    [path] = result.details["letters"]
    assert path.endswith("tilbaketrekking-24-750-2.docx")
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert "Tilbaketrekking av høring – Kompetanse om kliniske studier" in text
    assert "Helsedirektoratet sendte 22. mars 2024 på høring" in text
    assert "frist for høringsinnspill 31. mai 2024" in text
    assert "Vår ref.: 24/750\nSaksbehandler: Marie Thoresen\nDato: 25. mars 2024" in text
    assert REASON in text
    assert "(AMM-068, BLS-154, GER-064," in text and "HJS-xxx" not in text
    assert "bes videreformidle denne tilbaketrekkingen" in text

    filed = file_messages(engine, store, [message()], now=datetime(2024, 4, 2, 9, tzinfo=OSLO))
    assert filed[0].case == "24/750"
    with read_session(engine) as session:
        [receipt] = session.exec(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == "kvittering")
        ).all()
    assert "Høringen i sak 24/750 er trukket tilbake." in receipt.body_text
    assert "registrert med vår referanse 24/750-3" in receipt.body_text


def test_withdrawing_a_draft_sends_nothing(engine, tmp_path):
    create(engine)
    result = act(engine, Action.WITHDRAW, WITHDRAWN, tmp_path / "letters", reason=REASON)
    assert result.details["cancelled_messages"] == {}
    assert "letters" not in result.details
    assert _by_kind(engine) == {}
    assert not (tmp_path / "letters").exists()
