"""Filing e-mails as hearing responses, on SQLite and PostgreSQL.

Every message here is a real e-mail built in the test; the hearing is the 24/750
reference case (deadline 31 May 2024).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from domain.email_intake import MailLimits
from domain.errors import UserError
from services.intake import (
    OUTCOMES,
    allocate_document_numbers,
    answered_stakeholder_keys,
    assign_response,
    recipient_answer_status,
    response_counts_by_review,
    unreviewed_response_count,
)
from storage.blobs import BlobStore
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow, OutboxMessageRow
from storage.intake_models import (
    IntakeMessageRow,
    QuarantineRow,
    ResponseAttachmentRow,
    ResponseRow,
)
from storage.intake_queries import list_quarantine, list_responses, list_unmatched
from tests.intake_helpers import (
    DOCX_TYPE,
    IMPORTED,
    circulated_hearing,
    docx_bytes,
    file_messages,
    message,
    row_counts,
)
from tests.sample_files import pdf_bytes

DATA = Path(__file__).parents[1] / "data" / "mail"


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "data" / "blobs", durable=False)


@pytest.fixture
def hearing_id(engine) -> int:
    return circulated_hearing(engine)


def responses(engine) -> list[ResponseRow]:
    with read_session(engine) as session:
        return list(session.exec(select(ResponseRow).order_by(ResponseRow.id)).all())


def receipts(engine) -> list[OutboxMessageRow]:
    with read_session(engine) as session:
        return list(
            session.exec(
                select(OutboxMessageRow).where(OutboxMessageRow.kind == "kvittering")
            ).all()
        )


# --- the ordinary response -----------------------------------------------------------------


def test_a_response_is_filed_numbered_stored_and_receipted(engine, store, hearing_id):
    answer = docx_bytes("Helse Vest RHF støtter innføringen av læringsmålet.")
    raw = message(attachments=[("Høringssvar Helse Vest.docx", answer, DOCX_TYPE)])

    [outcome] = file_messages(engine, store, [raw])

    assert outcome.outcome == "matched"
    assert (outcome.case, outcome.tracking_number, outcome.late) == ("24/750", "24/750-2", False)
    [response] = responses(engine)
    assert response.hearing_id == hearing_id
    assert response.stakeholder_key == "helse-vest-rhf"
    assert response.organisation == "Helse Vest RHF"
    assert response.matched_by == "domain"  # ase.odegard@ is not the registered address
    assert response.from_name == "Åse Ødegård"
    assert response.received_at == datetime(2024, 5, 30, 12, 5, tzinfo=UTC)
    assert response.received_source == "date"
    assert "Helse Vest støtter forslaget" in response.body_text
    with read_session(engine) as session:
        [attachment] = session.exec(select(ResponseAttachmentRow)).all()
        message_row = session.get(IntakeMessageRow, response.intake_message_id)
    assert attachment.filename == "Høringssvar Helse Vest.docx"
    assert attachment.text == "Helse Vest RHF støtter innføringen av læringsmålet."
    assert store.get(attachment.sha256) == answer
    assert store.get(message_row.raw_sha256) == raw  # the original bytes, untouched
    [receipt] = receipts(engine)
    assert receipt.to_address == "ase.odegard@helse-vest.no"
    assert receipt.dedupe_key == f"kvittering:24/750:{response.id}"
    assert "24/750" in receipt.subject and "24/750-2" in receipt.subject
    assert "registrert med vår referanse 24/750-2" in receipt.body_text
    assert "30. mai 2024" in receipt.body_text
    assert "\\" not in receipt.body_text and "[[" not in receipt.body_text
    assert response.receipt_outbox_id == receipt.id


def test_numbers_follow_the_case_series(engine, store, hearing_id):
    raws = [
        message(sender=f"person{n}@helse-nord.no", message_id=f"<{n}@x>", body=f"Svar {n}")
        for n in range(3)
    ]
    outcomes = file_messages(engine, store, raws)
    assert [o.tracking_number for o in outcomes] == ["24/750-2", "24/750-3", "24/750-4"]
    more = file_messages(engine, store, [message(message_id="<later@x>", body="Et svar til")])
    assert more[0].tracking_number == "24/750-5"
    with read_session(engine) as session:
        assert session.get(HearingRow, hearing_id).last_document_number == 5


def test_document_numbers_start_after_the_hearing_letter_or_after_later_letters(engine):
    fresh = circulated_hearing(engine, "24/801", last_document=0)
    taken = circulated_hearing(engine, "24/802", last_document=6)
    with write_session(engine) as session:
        assert allocate_document_numbers(session, fresh, 2) == ["24/801-2", "24/801-3"]
        assert allocate_document_numbers(session, taken, 1) == ["24/802-7"]
        assert allocate_document_numbers(session, taken, 0) == []


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Høringssvar 24/750", "Vi støtter forslaget."),
        ("Høringssvar", "Viser til sak 24/750. Vi støtter forslaget."),
        ("Innspill saksnr. 24/750", "Vi støtter forslaget."),
        ("Høringsinnspill", "Deres ref.: 24/750-1\nVår ref.: 2024/1234\n\nVi støtter forslaget."),
        ("SV: ref. 24/750", "Ingen merknader."),
        ("Høringsinnspill", "Arkivsak 2024/750: vi støtter forslaget."),
    ],
)
def test_the_case_number_is_found_in_the_forms_people_write(
    engine, store, hearing_id, subject, body
):
    [outcome] = file_messages(engine, store, [message(subject=subject, body=body)])
    assert (outcome.outcome, outcome.case) == ("matched", "24/750")


def test_a_case_number_only_in_the_attached_letter_still_matches(engine, store, hearing_id):
    letter = pdf_bytes("Helse Vest RHF", "Deres ref.: 24/750", "Vi har ingen merknader.")
    raw = message(
        subject="Høringssvar",
        body="Se vedlegg.",
        attachments=[("svar.pdf", letter, "application/pdf")],
    )
    [outcome] = file_messages(engine, store, [raw])
    assert (outcome.outcome, outcome.case) == ("matched", "24/750")


def test_with_two_hearings_each_response_goes_to_the_case_it_quotes(engine, store, hearing_id):
    other = circulated_hearing(engine, "24/999")
    outcomes = file_messages(
        engine,
        store,
        [
            message(subject="Svar i sak 24/999", message_id="<a@x>"),
            message(subject="Svar i sak 24/750", message_id="<b@x>", body="Noe annet."),
        ],
    )
    assert [(o.case, o.tracking_number) for o in outcomes] == [
        ("24/999", "24/999-2"),
        ("24/750", "24/750-2"),
    ]
    assert {r.hearing_id for r in responses(engine)} == {other, hearing_id}


# --- who sent it -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "stakeholder", "matched_by"),
    [
        ("regutpost@ous-hf.no", "regut-helse-sor-ost", "address"),  # hosted: address only
        ("kari.nordmann@ous-hf.no", "oslo-universitetssykehus", "domain"),  # the host
        ("regut@helse-bergen.no", "regut-helse-vest", "address"),  # the address wins
        ("lege@helse-bergen.no", "helse-bergen", "domain"),
        ("forsker@mh.ntnu.no", "ntnu-medisin", "domain"),  # a subdomain of ntnu.no
        ("SPESIALITETSKOMITE-BLS@Legeforeningen.no", "spesialitetskomite-bls", "address"),
        ("medlem@legeforeningen.no", "legeforeningen", "domain"),
        ("ola@gmail.com", None, None),  # a private person
        ("x@notntnu.no", None, None),  # not a subdomain
    ],
)
def test_the_sender_is_matched_by_address_then_domain(
    engine, store, hearing_id, sender, stakeholder, matched_by
):
    file_messages(engine, store, [message(sender=sender)])
    [response] = responses(engine)
    assert (response.stakeholder_key, response.matched_by) == (stakeholder, matched_by)
    assert (response.organisation is None) == (stakeholder is None)


# --- time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "late"),
    [
        ("Fri, 31 May 2024 22:10:00 +0000", True),  # 00:10 on 1 June in Oslo
        ("Fri, 31 May 2024 21:59:59 +0000", False),  # 23:59:59 on 31 May in Oslo
        ("Fri, 31 May 2024 23:30:00 +0200", False),
        ("Sat, 01 Jun 2024 08:00:00 +0200", True),
    ],
)
def test_late_is_after_the_end_of_the_deadline_day_in_oslo(engine, store, hearing_id, date, late):
    [outcome] = file_messages(engine, store, [message(date=date)])
    assert outcome.outcome == "matched"
    assert outcome.late is late
    assert responses(engine)[0].late is late


def test_the_newest_received_header_beats_a_wrong_date(engine, store, hearing_id):
    raw = message(
        date="Wed, 29 May 2024 10:00:00 +0200",  # the sender's clock, or a draft's date
        headers=[
            (
                "Received",
                "from mx.helsedir.no by post.helsedir.no; Sat, 01 Jun 2024 07:15:00 +0200",
            ),
            (
                "Received",
                "from mail.helse-vest.no by mx.helsedir.no; Sat, 01 Jun 2024 07:14:00 +0200",
            ),
        ],
    )
    [outcome] = file_messages(engine, store, [raw])
    [response] = responses(engine)
    assert response.received_source == "received"
    assert response.received_at == datetime(2024, 6, 1, 5, 15, tzinfo=UTC)
    assert outcome.late is True


def test_no_usable_time_means_the_time_of_import(engine, store, hearing_id):
    file_messages(engine, store, [message(date=None)])
    [response] = responses(engine)
    assert (response.received_at, response.received_source) == (IMPORTED, "import")
    assert response.late is True  # imported 3 June


# --- duplicates ------------------------------------------------------------------------------


def test_the_same_message_id_from_the_same_sender_is_a_duplicate(engine, store, hearing_id):
    first = message()
    resent = message(date="Thu, 30 May 2024 14:09:00 +0200")  # same Message-ID, other bytes
    outcomes = file_messages(engine, store, [first])
    outcomes += file_messages(engine, store, [resent])
    assert [o.outcome for o in outcomes] == ["matched", "duplicate"]
    assert outcomes[1].tracking_number == "24/750-2"
    assert "Message-ID" in outcomes[1].reason and "24/750-2" in outcomes[1].reason
    assert len(responses(engine)) == 1
    assert len(receipts(engine)) == 1
    with read_session(engine) as session:
        duplicate = session.exec(
            select(IntakeMessageRow).where(IntakeMessageRow.outcome == "duplicate")
        ).one()
        original = session.get(IntakeMessageRow, duplicate.duplicate_of_id)
    assert original.outcome == "matched"
    assert store.get(duplicate.raw_sha256) == resent  # kept, like every message


def test_same_sender_text_and_attachments_is_a_duplicate_even_with_a_new_message_id(
    engine, store, hearing_id
):
    answer = docx_bytes("Vi støtter forslaget.")
    outcomes = file_messages(
        engine,
        store,
        [
            message(message_id="<one@x>", attachments=[("svar.docx", answer, DOCX_TYPE)]),
            message(message_id="<two@x>", attachments=[("svar (1).docx", answer, DOCX_TYPE)]),
            message(message_id="<three@x>", sender="noen.andre@helse-vest.no"),
            message(
                message_id="<four@x>", attachments=[("svar.docx", docx_bytes("Nei."), DOCX_TYPE)]
            ),
        ],
    )
    assert [o.outcome for o in outcomes] == ["matched", "duplicate", "matched", "matched"]
    assert outcomes[1].tracking_number == outcomes[0].tracking_number
    assert "sender, text and attachments" in outcomes[1].reason


def test_the_same_text_to_two_hearings_is_two_responses(engine, store, hearing_id):
    circulated_hearing(engine, "24/999")
    outcomes = file_messages(
        engine,
        store,
        [
            message(subject="Sak 24/750", body="Ingen merknader.", message_id="<a@x>"),
            message(subject="Sak 24/999", body="Ingen merknader.", message_id="<b@x>"),
        ],
    )
    assert [(o.outcome, o.case) for o in outcomes] == [("matched", "24/750"), ("matched", "24/999")]


def test_importing_the_same_messages_again_files_nothing_new(engine, store, hearing_id):
    raws = [
        message(),
        message(subject="Spørsmål", body="Når er fristen?", message_id="<q@x>"),
        b"\x00\x01 not mail",
    ]
    first = file_messages(engine, store, raws)
    counts = row_counts(engine)
    second = file_messages(engine, store, raws)
    assert [o.outcome for o in first] == ["matched", "unmatched", "quarantined"]
    assert [o.outcome for o in second] == ["duplicate"] * 3
    assert all("already imported" in o.reason for o in second)
    assert second[0].tracking_number == "24/750-2"
    assert row_counts(engine) == counts


def test_the_same_bytes_twice_in_one_batch_are_filed_once(engine, store, hearing_id):
    raw = message()
    outcomes = file_messages(engine, store, [("a.eml", raw), ("b.eml", raw)])
    assert [o.outcome for o in outcomes] == ["matched", "duplicate"]
    assert "a.eml" in outcomes[1].reason
    assert row_counts(engine)["intake_message"] == 1


# --- unmatched and assigned --------------------------------------------------------------------


def test_an_unmatched_response_waits_and_is_assigned_by_a_person(engine, store, hearing_id):
    [outcome] = file_messages(
        engine,
        store,
        [message(subject="Læringsmål", body="Vi har et innspill.", message_id="<u@x>")],
    )
    assert (outcome.outcome, outcome.case, outcome.tracking_number) == ("unmatched", None, None)
    assert receipts(engine) == []
    with read_session(engine) as session:
        [waiting] = list_unmatched(session)
    assert waiting["id"] == outcome.response_id

    assigned_at = datetime(2024, 6, 4, 10, 0, tzinfo=UTC)
    with write_session(engine) as session:
        result = assign_response(session, outcome.response_id, "24/750-1", assigned_at)
    assert result == {
        "response_id": outcome.response_id,
        "case": "24/750",
        "tracking_number": "24/750-2",
        "late": False,  # received 30 May, assigned after the deadline
        "receipt_queued": True,
        "already_assigned": False,
    }
    with write_session(engine) as session:
        again = assign_response(session, outcome.response_id, "24/750", assigned_at)
        assert list_unmatched(session) == []
    assert again["already_assigned"] is True and again["tracking_number"] == "24/750-2"
    assert len(receipts(engine)) == 1


def test_assigning_refuses_unknown_ids_unknown_cases_and_moves(engine, store, hearing_id):
    circulated_hearing(engine, "24/999")
    [matched] = file_messages(engine, store, [message()])
    now = datetime(2024, 6, 4, tzinfo=UTC)
    with pytest.raises(UserError, match="no response 999"), write_session(engine) as session:
        assign_response(session, 999, "24/750", now)
    with pytest.raises(UserError, match="no hearing"), write_session(engine) as session:
        assign_response(session, matched.response_id, "23/1", now)
    moved = pytest.raises(UserError, match="already filed under 24/750 as 24/750-2")
    with moved, write_session(engine) as session:
        assign_response(session, matched.response_id, "24/999", now)
    with pytest.raises(UserError, match="hyphen"), write_session(engine) as session:
        assign_response(session, matched.response_id, "24-750", now)


# --- quarantine --------------------------------------------------------------------------------


def test_what_cannot_be_filed_is_quarantined_with_its_reason_and_bytes(engine, store, hearing_id):
    nested = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for depth in range(1, 15):
        nested += b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (
            depth - 1,
            depth,
        )
    raws = {
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "empty": b"",
        "large": message(body="x" * 5000),
        "nested": b"From: a@b.no\r\nSubject: 24/750\r\n" + nested,
    }
    outcomes = file_messages(
        engine, store, list(raws.items()), limits=MailLimits(max_total_bytes=4000)
    )
    assert [o.outcome for o in outcomes] == ["quarantined"] * 4
    reasons = dict(zip(raws, (o.reason for o in outcomes), strict=True))
    assert "binary" in reasons["binary"]
    assert "empty" in reasons["empty"]
    assert "max_total_bytes" in reasons["large"]
    assert "max_depth" in reasons["nested"]
    with read_session(engine) as session:
        listed = list_quarantine(session)
        assert session.exec(select(QuarantineRow)).all()
    assert [q["source"] for q in listed] == list(raws)
    for entry, raw in zip(listed, raws.values(), strict=True):
        assert store.get(entry["raw_sha256"]) == raw
    assert responses(engine) == []


def test_an_unreadable_attachment_is_kept_and_flagged_and_the_response_filed(
    engine, store, hearing_id
):
    corrupt = b"PK\x03\x04 this is not really a Word file"
    raw = message(
        attachments=[
            ("Høringssvar.docx", corrupt, DOCX_TYPE),
            ("../../../etc/evil.docx", docx_bytes("Sneaky."), DOCX_TYPE),
            ("bilde.png", b"\x89PNG\r\n\x1a\nrest", "image/png"),
        ]
    )
    [outcome] = file_messages(engine, store, [raw], limits=MailLimits(max_attachment_bytes=100))
    assert outcome.outcome == "matched"
    with read_session(engine) as session:
        rows = session.exec(
            select(ResponseAttachmentRow).order_by(ResponseAttachmentRow.position)
        ).all()
    assert [r.safe_name for r in rows] == ["Høringssvar.docx", "evil.docx", "bilde.png"]
    assert rows[0].unreadable_reason.startswith("corrupt")
    assert rows[1].unreadable_reason == "too large"  # over 100 bytes: kept, not read
    assert rows[2].unreadable_reason == "unsupported type"
    assert all(store.get(r.sha256) for r in rows)  # every attachment kept
    escaped = [p for p in store.root.parent.parent.rglob("*") if p.name.startswith("evil")]
    assert escaped == []


# --- answered, reviewed --------------------------------------------------------------------------


def test_recipients_answer_from_other_addresses_of_their_organisation(engine, store, hearing_id):
    file_messages(
        engine,
        store,
        [
            message(sender="fagdirektor@helse-vest.no", message_id="<hv@x>"),
            message(sender="forsker@mh.ntnu.no", message_id="<ntnu@x>", body="NTNU svarer."),
            message(
                sender="leder@helse-nord.no",
                subject="Automatisk svar: Høring sak 24/750",
                body="Jeg er på ferie.",
                message_id="<ooo@x>",
                headers=[("Auto-Submitted", "auto-replied")],
            ),
            message(sender="ola@gmail.com", message_id="<p@x>", body="Privat innspill."),
        ],
    )
    with read_session(engine) as session:
        answered = answered_stakeholder_keys(session, hearing_id)
        status = {s["stakeholder"]: s for s in recipient_answer_status(session, hearing_id)}
    assert answered == {"helse-vest-rhf", "ntnu-medisin"}
    assert status["helse-vest-rhf"]["answered"] is True
    assert status["helse-vest-rhf"]["tracking_numbers"] == ["24/750-2"]
    assert status["helse-nord-rhf"]["answered"] is False  # an out-of-office reply
    assert status["helse-sor-ost-rhf"]["answered"] is False
    assert sum(s["answered"] for s in status.values()) == 2
    auto_reply = next(r for r in responses(engine) if r.auto_submitted)
    assert auto_reply.receipt_outbox_id is None  # no receipt to a machine
    assert {r.to_address for r in receipts(engine)} == {
        "fagdirektor@helse-vest.no",
        "forsker@mh.ntnu.no",
        "ola@gmail.com",
    }


def test_review_counts_follow_reviewed_at(engine, store, hearing_id):
    file_messages(  # three private persons: three responses (one sender's would be supplements)
        engine,
        store,
        [
            message(sender=f"person{n}@gmail.com", message_id=f"<{n}@x>", body=f"Svar {n}")
            for n in range(3)
        ],
    )
    with read_session(engine) as session:
        assert response_counts_by_review(session, hearing_id) == {
            "total": 3,
            "reviewed": 0,
            "unreviewed": 3,
            "auto_submitted": 0,
            "supplements": 0,
        }
    with write_session(engine) as session:
        first = session.exec(select(ResponseRow).order_by(ResponseRow.id)).first()
        first.stance, first.reviewed_at = "support", datetime(2024, 6, 5, tzinfo=UTC)
        session.add(first)
    with read_session(engine) as session:
        assert unreviewed_response_count(session, hearing_id) == 2
        assert response_counts_by_review(session, hearing_id)["reviewed"] == 1


def test_list_shows_texts_attachments_and_late_flags_in_number_order(engine, store, hearing_id):
    file_messages(
        engine,
        store,
        [
            message(
                message_id=f"<{n}@x>",
                body=f"Svar nummer {n}",
                date="Sat, 01 Jun 2024 08:00:00 +0200" if n == 10 else None,
                attachments=[("svar.pdf", pdf_bytes(f"Vedlegg {n}"), "application/pdf")],
            )
            for n in range(1, 12)
        ],
    )
    with read_session(engine) as session:
        listed = list_responses(session, session.get(HearingRow, hearing_id))
    assert [r["tracking_number"] for r in listed] == [f"24/750-{n}" for n in range(2, 13)]
    tenth = listed[9]
    assert tenth["body_text"] == "Svar nummer 10" and tenth["late"] is True
    assert tenth["attachments"][0]["text"] == "Vedlegg 10"
    assert len(tenth["attachments"][0]["sha256"]) == 64
    assert json.dumps(listed, default=str)  # the CLI prints it as JSON


# --- robustness ---------------------------------------------------------------------------------


def test_text_the_databases_reject_is_stored_anyway(engine, store, hearing_id):
    raw = (
        b"From: =?utf-8?b?T2xh?= <ola@gmail.com>\r\nSubject: sak 24/750 \xff\xfe\r\n"
        b"Content-Type: text/plain; charset=utf-16-le\r\n\r\n" + "Hei\x00 på deg".encode()
    )
    [outcome] = file_messages(engine, store, [raw])
    assert outcome.outcome == "matched"
    [response] = responses(engine)
    assert "\x00" not in response.body_text


def test_every_message_of_a_real_world_mailbox_ends_in_exactly_one_outcome(
    engine, store, hearing_id
):
    """Messages no one on the team wrote (see tests/data/mail/README.md)."""
    files = sorted(p for p in DATA.iterdir() if p.suffix == ".eml")
    assert len(files) >= 8
    outcomes = file_messages(engine, store, [(p.name, p.read_bytes()) for p in files])
    assert [o.source for o in outcomes] == [p.name for p in files]
    assert all(o.outcome in OUTCOMES for o in outcomes)
    counts = {outcome: sum(o.outcome == outcome for o in outcomes) for outcome in OUTCOMES}
    assert sum(counts.values()) == len(files)
    rows = row_counts(engine)
    assert rows["intake_message"] == len(files)
    assert rows["response"] == counts["matched"] + counts["unmatched"]
    assert rows["quarantine"] == counts["quarantined"]
