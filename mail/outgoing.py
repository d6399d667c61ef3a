"""The e-mail for an outbox row: headers, a Norwegian body and the attachments, built so
that the same row always gives the same bytes (a resend is the same message)."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from domain.calendar import OSLO
from domain.case_numbers import find_case_numbers
from mail.transports import DeliveryError


@dataclass(frozen=True)
class OutgoingMessage:
    """A claimed outbox row, detached from its session (tasks and transports get these)."""

    row_id: int
    message_id: str
    kind: str
    case_number: str | None
    to_address: str
    to_name: str
    organisation: str | None
    subject: str
    body_text: str
    attachments: tuple[Path, ...]
    queued_at: datetime
    attempts: int


def subject_with_reference(subject: str, case_number: str | None) -> str:
    """The subject, with 'Vår ref. 24/750' added unless it names the case already, so a
    reply's subject ('Sv: ...') leads the intake to the case."""
    subject = " ".join(subject.split())
    if case_number is None or case_number in find_case_numbers(subject):
        return subject
    return f"{subject} (Vår ref. {case_number})" if subject else f"Vår ref. {case_number}"


def default_body_nb(case_number: str | None) -> str:
    reference = f" i sak {case_number}" if case_number else ""
    return (
        f"Vedlagt følger brev fra Helsedirektoratet{reference}.\n\n"
        "Vennlig hilsen\nHelsedirektoratet\n"
    )


def build_email(
    message: OutgoingMessage, *, sender: Address, attachments: Sequence[Path]
) -> EmailMessage:
    """The e-mail for an outbox row. Deterministic: the same row gives the same bytes."""
    try:
        recipient = Address(display_name=message.to_name, addr_spec=message.to_address)
    except (ValueError, IndexError) as exc:
        raise DeliveryError(
            f"invalid recipient address {message.to_address!r}: {exc}", permanent=True
        ) from None
    email = EmailMessage()
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = subject_with_reference(message.subject, message.case_number)
    email["Date"] = format_datetime(message.queued_at.astimezone(OSLO))
    email["Message-ID"] = message.message_id
    email["Content-Language"] = "nb"
    body = message.body_text.strip() or default_body_nb(message.case_number)
    email.set_content(body.rstrip("\n") + "\n", charset="utf-8", cte="quoted-printable")
    for path in attachments:
        ctype, _encoding = mimetypes.guess_type(path.name)
        maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeliveryError(
                f"attachment {path} cannot be read ({exc.strerror})", permanent=True
            ) from None
        email.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    if email.is_multipart():
        digest = hashlib.sha256(message.message_id.encode()).hexdigest()[:24]
        email.set_boundary(f"=_hoering_{digest}")
    return email
