"""The rule that makes a later message a supplement of a filed response."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.supplements import (
    RECEIPT_SUBJECT,
    REPLY_TO_RECEIPT,
    REPLY_TO_RESPONSE,
    SAME_ORGANISATION,
    EarlierResponse,
    IncomingResponse,
    organisation_key,
    receipt_reply_numbers,
    supplement_of,
)

MAY_20 = datetime(2024, 5, 20, 10, 0, tzinfo=UTC)
MAY_25 = datetime(2024, 5, 25, 10, 0, tzinfo=UTC)

FIRST = EarlierResponse(
    response_id=1,
    tracking_number="24/750-2",
    stakeholder_key="helse-vest",
    from_address="ase.odegard@helse-vest.no",
    received_at=MAY_20,
    message_id="<svar-1@helse-vest.no>",
    receipt_message_id="<kvittering-1@hoering.helsedir.no>",
)
PRIVATE = EarlierResponse(
    response_id=2,
    tracking_number="24/750-3",
    stakeholder_key=None,
    from_address="ola@gmail.com",
    received_at=MAY_20,
    receipt_message_id="<kvittering-2@hoering.helsedir.no>",
)


def incoming(**changes) -> IncomingResponse:
    values: dict[str, Any] = {
        "response_id": 10,
        "subject": "Høringssvar",
        "reply_ids": (),
        "stakeholder_key": None,
        "from_address": "kari@gmail.com",
        "received_at": MAY_25,
        "late": False,
        "auto_submitted": False,
    }
    return IncomingResponse(**(values | changes))


def test_receipt_reply_subjects_give_the_document_number():
    subject = "SV: Kvittering for mottatt høringsinnspill – sak 24/750 (vår ref. 24/750-2)"
    assert receipt_reply_numbers(subject) == ("24/750-2",)
    assert receipt_reply_numbers("Re: RE[2]: [EKSTERN] Kvittering 24/0750-02") == ("24/750-2",)
    assert receipt_reply_numbers("AW: Kvittering … 24/750-2") == ("24/750-2",)


def test_other_subjects_are_not_receipt_replies():
    assert receipt_reply_numbers("Kvittering 24/750-2") == ()  # not a reply
    assert receipt_reply_numbers("SV: Høring – kliniske studier, sak 24/750-1") == ()
    assert receipt_reply_numbers("VS: Kvittering 24/750-2") == ()  # a forward
    assert receipt_reply_numbers(None) == ()


def test_a_private_person_replying_to_the_receipt_thread_is_a_supplement():
    link = supplement_of(
        incoming(reply_ids=("<kvittering-2@hoering.helsedir.no>",), from_address="x@y.no"),
        [FIRST, PRIVATE],
    )
    assert link is not None and (link.first_id, link.reason) == (2, REPLY_TO_RECEIPT)


def test_a_supplement_of_a_supplement_points_at_the_first():
    second = EarlierResponse(
        response_id=5,
        tracking_number="24/750-6",
        stakeholder_key="helse-vest",
        from_address="ase.odegard@helse-vest.no",
        received_at=MAY_20,
        supplement_of=1,
        receipt_message_id="<kvittering-5@hoering.helsedir.no>",
    )
    link = supplement_of(incoming(reply_ids=("<kvittering-5@hoering.helsedir.no>",)), [second])
    assert link is not None and link.first_id == 1


def test_a_reply_to_ones_own_response_needs_the_same_address():
    reply = incoming(reply_ids=("<svar-1@helse-vest.no>",))
    assert supplement_of(reply, [FIRST]) is None
    same = supplement_of(replace_sender(reply, "Ase.Odegard@helse-vest.no"), [FIRST])
    assert same is not None and same.reason == REPLY_TO_RESPONSE


def replace_sender(response: IncomingResponse, address: str) -> IncomingResponse:
    return incoming(**{**response.__dict__, "from_address": address})


def test_a_receipt_subject_links_only_the_same_sender():
    subject = "SV: Kvittering for mottatt høringsinnspill – sak 24/750 (vår ref. 24/750-3)"
    assert supplement_of(incoming(subject=subject), [PRIVATE]) is None  # kari is not ola
    link = supplement_of(incoming(subject=subject, from_address="ola@gmail.com"), [PRIVATE])
    assert link is not None and (link.first_id, link.reason) == (2, RECEIPT_SUBJECT)


def test_a_second_message_of_an_organisation_before_the_deadline_is_a_supplement():
    other_person = incoming(stakeholder_key="helse-vest", from_address="per@helse-vest.no")
    link = supplement_of(other_person, [FIRST, PRIVATE])
    assert link is not None and (link.first_id, link.reason) == (1, SAME_ORGANISATION)
    assert supplement_of(incoming(stakeholder_key="helse-vest", late=True), [FIRST]) is None
    assert supplement_of(incoming(stakeholder_key="helse-nord"), [FIRST]) is None


def test_two_private_persons_at_one_mail_provider_are_two_respondents():
    assert organisation_key(None, "ola@gmail.com") is None
    assert supplement_of(incoming(from_address="kari@gmail.com"), [PRIVATE]) is None
    # nor the same private person writing twice without answering the receipt
    assert supplement_of(incoming(from_address="ola@gmail.com"), [PRIVATE]) is None


def test_an_organisations_shared_mailbox_is_an_organisation():
    assert organisation_key(None, "Postmottak@Firma.no") == "address:postmottak@firma.no"
    assert organisation_key(None, "postmottak@helsedir.no") is None  # our own post room
    earlier = EarlierResponse(
        response_id=3,
        tracking_number="24/750-4",
        stakeholder_key=None,
        from_address="postmottak@firma.no",
        received_at=MAY_20,
    )
    link = supplement_of(incoming(from_address="postmottak@firma.no"), [earlier])
    assert link is not None and link.first_id == 3


def test_only_earlier_first_responses_count_and_machines_never_supplement():
    later = EarlierResponse(
        response_id=20,
        tracking_number="24/750-9",
        stakeholder_key="helse-vest",
        from_address="a@helse-vest.no",
        received_at=datetime(2024, 5, 30, tzinfo=UTC),
    )
    assert supplement_of(incoming(stakeholder_key="helse-vest"), [later]) is None
    auto = incoming(
        stakeholder_key="helse-vest",
        auto_submitted=True,
        reply_ids=("<kvittering-1@hoering.helsedir.no>",),
    )
    assert supplement_of(auto, [FIRST]) is None
    itself = EarlierResponse(**{**FIRST.__dict__, "response_id": 10})
    assert supplement_of(incoming(stakeholder_key="helse-vest"), [itself]) is None


def test_the_parser_reads_the_messages_a_reply_answers():
    from domain.email_intake import ParsedMessage, parse_message
    from tests.sample_files import message

    raw = message(
        headers=[
            ("In-Reply-To", "<kvittering-1@hoering.helsedir.no>"),
            ("References", "<brev@hoering.helsedir.no> <kvittering-1@hoering.helsedir.no>"),
        ]
    )
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedMessage)
    assert parsed.reply_ids == (
        "<kvittering-1@hoering.helsedir.no>",
        "<brev@hoering.helsedir.no>",
    )
    plain = parse_message(message())
    assert isinstance(plain, ParsedMessage) and plain.reply_ids == ()
