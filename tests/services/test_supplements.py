"""Supplements filed by the import: linked to the first response and counted once."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from services.intake import answered_stakeholder_keys, assign_response, response_counts_by_review
from services.publication import INDEX_NAME, export_publication
from services.review_lookup import ReviewError, find_response, hearing_responses
from services.review_queue import review_queue
from storage.db import read_session, write_session
from storage.hearing_models import HearingRow, OutboxMessageRow
from storage.intake_models import ResponseRow
from storage.intake_queries import list_responses, recipient_answer_status
from storage.review_queries import unreviewed_response_count
from tests.intake_helpers import IMPORTED, circulated_hearing, file_messages, message


@pytest.fixture
def store(tmp_path):
    from storage.blobs import BlobStore

    return BlobStore(tmp_path / "data" / "blobs", durable=False)


@pytest.fixture
def hearing_id(engine) -> int:
    return circulated_hearing(engine)


def _responses(engine) -> list[ResponseRow]:
    with read_session(engine) as session:
        return list(session.exec(select(ResponseRow).order_by(col(ResponseRow.id))).all())


def _receipt_id(engine, response_id: int) -> str:
    with read_session(engine) as session:
        response = session.get(ResponseRow, response_id)
        assert response is not None and response.receipt_outbox_id is not None
        receipt = session.get(OutboxMessageRow, response.receipt_outbox_id)
        assert receipt is not None
        return receipt.message_id


def test_a_reply_to_the_receipt_is_a_supplement_counted_once(engine, store, hearing_id):
    file_messages(engine, store, [message()])
    first = _responses(engine)[0]
    reply = message(
        subject="SV: Kvittering for mottatt høringsinnspill – sak 24/750 (vår ref. 24/750-2)",
        body="Vi glemte vedlegget, her er det.",
        message_id="<svar-2@helse-vest.no>",
        date="Fri, 31 May 2024 09:00:00 +0200",
        headers=[("In-Reply-To", _receipt_id(engine, first.id))],
    )
    [outcome] = file_messages(engine, store, [reply])
    assert outcome.outcome == "matched" and outcome.tracking_number == "24/750-3"
    second = _responses(engine)[1]
    assert second.supplement_of_id == first.id
    with read_session(engine) as session:
        counts = response_counts_by_review(session, hearing_id)
        assert (counts["total"], counts["unreviewed"], counts["supplements"]) == (1, 1, 1)
        assert unreviewed_response_count(session, hearing_id) == 1
        assert answered_stakeholder_keys(session, hearing_id) == {"helse-vest-rhf"}
        status = {s["stakeholder"]: s for s in recipient_answer_status(session, hearing_id)}
        assert status["helse-vest-rhf"]["tracking_numbers"] == ["24/750-2"]
        hearing = session.exec(select(HearingRow)).one()
        assert [r.tracking_number for r in hearing_responses(session, hearing)] == ["24/750-2"]
        listed = {r["tracking_number"]: r for r in list_responses(session, hearing)}
    assert listed["24/750-3"]["supplement_of"] == "24/750-2"
    assert listed["24/750-2"]["supplements"] == ["24/750-3"]


def test_one_organisation_twice_in_one_batch_and_two_private_persons(engine, store, hearing_id):
    file_messages(
        engine,
        store,
        [
            message(  # later, but read first: the earlier one is still the first response
                sender="per@helse-vest.no",
                message_id="<b@helse-vest.no>",
                body="Et tillegg fra Helse Vest.",
                date="Thu, 30 May 2024 16:00:00 +0200",
            ),
            message(),  # Helse Vest, 30 May 14:05
            message(sender="ola@gmail.com", message_id="<o@gmail.com>", body="Ola mener noe."),
            message(sender="kari@gmail.com", message_id="<k@gmail.com>", body="Kari også."),
        ],
    )
    rows = {r.from_address: r for r in _responses(engine)}
    first = rows["ase.odegard@helse-vest.no"]
    assert first.supplement_of_id is None
    assert rows["per@helse-vest.no"].supplement_of_id == first.id
    assert rows["ola@gmail.com"].supplement_of_id is None
    assert rows["kari@gmail.com"].supplement_of_id is None
    with read_session(engine) as session:
        assert response_counts_by_review(session, hearing_id)["total"] == 3


def test_a_late_second_message_of_an_organisation_stands_on_its_own(engine, store, hearing_id):
    file_messages(engine, store, [message()])
    late = message(
        sender="per@helse-vest.no",
        message_id="<sent@helse-vest.no>",
        body="Et nytt innspill etter fristen.",
        date="Mon, 03 Jun 2024 08:00:00 +0200",
    )
    file_messages(engine, store, [late])
    assert [r.supplement_of_id for r in _responses(engine)] == [None, None]


def test_an_assigned_second_message_of_an_organisation_is_a_supplement(engine, store, hearing_id):
    file_messages(engine, store, [message()])
    unmatched = message(
        sender="per@helse-vest.no",
        subject="Tillegg til vårt svar",
        body="Vi har ett tillegg.",
        message_id="<tillegg@helse-vest.no>",
    )
    [outcome] = file_messages(engine, store, [unmatched])
    assert outcome.outcome == "unmatched"
    with write_session(engine) as session:
        assign_response(session, outcome.response_id, "24/750", IMPORTED)
    first, second = _responses(engine)
    assert second.supplement_of_id == first.id


def test_the_publication_counts_a_supplement_with_its_first_response(
    engine, store, hearing_id, tmp_path
):
    file_messages(engine, store, [message()])
    file_messages(
        engine,
        store,
        [message(sender="per@helse-vest.no", message_id="<t@helse-vest.no>", body="Tillegg.")],
    )
    with read_session(engine) as session:
        result = export_publication(session, store, "24/750", tmp_path / "ut", IMPORTED)
    counts = result.as_json()
    assert (counts["responses"], counts["organisations"], counts["supplements"]) == (1, 1, 1)
    index = (tmp_path / "ut" / INDEX_NAME).read_text(encoding="utf-8-sig").splitlines()
    assert index[0].endswith(";Tillegg til")
    rows = {line.split(";", 1)[0]: line for line in index[1:]}
    assert rows["24/750-3"].endswith(";24/750-2") and rows["24/750-2"].endswith(";")


def test_a_supplement_is_reviewed_with_its_first_response(engine, store, hearing_id):
    file_messages(engine, store, [message()])
    file_messages(
        engine,
        store,
        [message(sender="per@helse-vest.no", message_id="<t@helse-vest.no>", body="Tillegg.")],
    )
    with read_session(engine) as session, pytest.raises(ReviewError) as refused:
        find_response(session, "24/750-3")
    assert str(refused.value) == (
        "RESPONSE: 24/750-3 is a supplement of 24/750-2 and is reviewed and quoted with it; "
        "use 24/750-2 (see 'hoering responses show 24/750-2')"
    )


def test_the_review_queue_shows_the_supplements_with_their_first(engine, store, hearing_id):
    file_messages(engine, store, [message()])
    file_messages(
        engine,
        store,
        [message(sender="per@helse-vest.no", message_id="<t@helse-vest.no>", body="Tillegg.")],
    )
    with read_session(engine) as session:
        queue = review_queue(session, "24/750")
    assert (queue["responses"], queue["unreviewed"]) == (1, 1)
    [row] = queue["rows"]
    assert (row["tracking_number"], row["supplements"]) == ("24/750-2", ["24/750-3"])
