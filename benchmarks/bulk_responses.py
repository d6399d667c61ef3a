"""Responses written straight into the tables (no import), for benchmarks and tests at
scale: a realistic mix of organisations and private persons (names, addresses and phone
numbers in the text, to mask), form-letter copies as people edit them, unrelated
letters, attachments with text, some reviewed with items and notes, and with a blob
store the raw message of each (what the publication export reads)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine, insert, text
from sqlmodel import col, select

from benchmarks.campaigns import campaign_copy, unique_response
from storage.blobs import BlobStore
from storage.db import write_session
from storage.intake_models import IntakeMessageRow, ResponseAttachmentRow, ResponseRow
from storage.review_models import ResponseReviewRow

START = datetime(2024, 3, 25, 8, 0, tzinfo=UTC)
FIRST_NAMES = ["Åse", "Per", "Kari", "Ola", "Ingrid", "Jon", "Liv", "Nils", "Sigrid", "Eirik"]
LAST_NAMES = ["Ødegård", "Håkonsen", "Nordmann", "Dahl", "Bø", "Ås", "Berg", "Lie", "Moen"]
STREETS = ["Storgata", "Kirkeveien", "Fjellveien", "Sjøgata", "Parkveien"]
FORM_LETTER = (
    "Som lege i spesialisering vil jeg gi min støtte til forslaget om et felles læringsmål "
    "om kliniske studier. Kunnskap om hvordan studier planlegges, gjennomføres og "
    "vurderes, er nødvendig for å kunne gi pasientene god informasjon om deltakelse. "
    "Samtidig må helseforetakene sette av tid til veiledning, slik at målet kan nås i "
    "ordinær tjeneste uten at det går ut over pasientbehandlingen. Jeg ber derfor om at "
    "Helsedirektoratet følger opp gjennomføringen sammen med de regionale helseforetakene."
)
STANCES = ["supports", "supports_with_comments", "opposes", "no_comments"]
ITEMS = [[], ["NKI"], ["KIR"], ["NKI", "KIR"], ["BLS"]]


def bodies(count: int, seed: int, campaign_share: float = 0.3) -> list[str]:
    """`count` letters: a share of edited form-letter copies, the rest unrelated."""
    rng = random.Random(seed)
    return [
        campaign_copy(rng, FORM_LETTER) if rng.random() < campaign_share else unique_response(rng)
        for _ in range(count)
    ]


def _person(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    address = f"{rng.choice(STREETS)} {rng.randint(1, 90)}, {rng.randint(1000, 9990)} Bergen"
    return f"{first} {last}", f"{first.lower()}.{rng.randint(1, 999)}@gmail.com", address


def _raw(name: str, address: str, subject: str, body: str, received: datetime) -> bytes:
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = "postmottak@helsedir.no"
    message["Subject"] = subject
    message["Date"] = received.strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = f"<{hashlib.sha1(body.encode()).hexdigest()}@bench.example>"
    message.set_content(body)
    return message.as_bytes()


def insert_responses(
    engine: Engine,
    hearing_id: int,
    texts: Sequence[str],
    *,
    seed: int = 13,
    store: BlobStore | None = None,
    reviewed_share: float = 0.3,
    chunk: int = 2000,
) -> list[int]:
    """Insert a response per text (ids after those present), with its intake message, an
    attachment with text for every fourth, a review for a share; returns the ids."""
    rng = random.Random(seed)
    with write_session(engine) as session:
        last = session.exec(select(ResponseRow.id).order_by(col(ResponseRow.id).desc())).first()
    first = (last or 0) + 1
    ids = list(range(first, first + len(texts)))
    for start in range(0, len(texts), chunk):
        rows = [
            _rows(rng, n, hearing_id, texts[n - first], store, reviewed_share)
            for n in ids[start : start + chunk]
        ]
        with write_session(engine) as session:
            for index, table in enumerate(
                (IntakeMessageRow, ResponseRow, ResponseAttachmentRow, ResponseReviewRow)
            ):
                found: list[dict] = [r for row in rows if (r := row[index]) is not None]
                if found:
                    session.execute(insert(table), found)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return ids


def _rows(
    rng: random.Random,
    n: int,
    hearing_id: int,
    body_text: str,
    store: BlobStore | None,
    reviewed_share: float,
) -> tuple[dict, dict, dict | None, dict | None]:
    received = START + timedelta(seconds=30 * n + rng.randint(0, 20))
    private = rng.random() < 0.6
    if private:
        name, address, street = _person(rng)
        phone = f"9{rng.randint(1000000, 9999999)}"
        body_text = f"{body_text}\n\nMed vennlig hilsen\n{name}\n{street}\nTlf. {phone}"
        key = organisation = None
    else:
        org = rng.randint(1, 60)
        name, address = f"Postmottak {org}", f"post@org{org}.no"
        key, organisation = f"org-{org}", f"Organisasjon {org}"
        body_text = f"{body_text}\n\nMed vennlig hilsen\n{organisation}"
    subject = f"Høringssvar 24/750 ({n})"
    raw = _raw(name, address, subject, body_text, received)
    sha = store.put(raw) if store is not None else hashlib.sha256(raw).hexdigest()
    stance = rng.choice(STANCES) if rng.random() < reviewed_share else None
    message = {
        "id": n,
        "raw_sha256": sha,
        "size": len(raw),
        "source": f"bench#{n}",
        "read_at": received,
        "outcome": "matched",
        "warnings_json": "[]",
    }
    response = {
        "id": n,
        "intake_message_id": n,
        "hearing_id": hearing_id,
        "tracking_number": f"24/750-{n + 1}",
        "message_id": f"<m{n}@bench.example>",
        "subject": subject,
        "from_name": name,
        "from_address": address,
        "stakeholder_key": key,
        "organisation": organisation,
        "matched_by": None if private else "domain",
        "received_at": received,
        "received_source": "received",
        "late": rng.random() < 0.03,
        "body_text": body_text,
        "auto_submitted": False,
        "filed_at": received,
        "stance": stance,
        "reviewed_at": received if stance else None,
        "reviewed_by": "benchmark" if stance else None,
    }
    attachment = None
    if n % 4 == 1:
        content = f"Vedlegg til høringssvar {n}. {unique_response(rng)}".encode()
        attachment = {
            "response_id": n,
            "position": 1,
            "filename": f"innspill-{n}.txt",
            "safe_name": f"innspill-{n}.txt",
            "content_type": "text/plain",
            "size": len(content),
            "sha256": store.put(content)
            if store is not None
            else hashlib.sha256(content).hexdigest(),
            "text": content.decode(),
            "forwarded": False,
        }
    review = None
    if stance:
        review = {
            "response_id": n,
            "hearing_id": hearing_id,
            "stance": stance,
            "items_json": str(rng.choice(ITEMS)).replace("'", '"'),
            "note": f"Merknad om svar {n}" if rng.random() < 0.5 else None,
            "accepted_as_suggested": False,
            "reviewed_at": received,
            "reviewed_by": "benchmark",
        }
    return message, response, attachment, review
