"""Supplements (tillegg): a later message that adds to a response already filed, so the
sender is counted once.

A response filed under a hearing is a supplement of an earlier response to the same
hearing when, in this order:

1. it answers the receipt (kvittering) of that response: its In-Reply-To or References
   names the receipt's Message-ID. Anyone may do so (a private person too: the thread
   ties the two messages together, not the sender's domain);
2. it answers that response itself (In-Reply-To/References names the response's own
   Message-ID) and comes from the same address;
3. its subject is a reply to a receipt ("SV: Kvittering … (vår ref. 24/750-2)") quoting
   the response's document number, and it comes from the same address or the same
   organisation (a subject alone is weaker evidence than the thread);
4. it comes from the same organisation as a response received before it, and it came
   in before the deadline. An organisation is a known stakeholder (matched by address
   or mail domain) or an organisation's shared mailbox (`postmottak@…`,
   `domain.personal_data.is_functional_address`). Anyone else is a private person:
   two people writing from gmail.com are two respondents, never one.

A supplement is always linked to the first response of the chain (the one that is not a
supplement), so a supplement of a supplement points at the first. Automatic replies
(out of office, bounces) are never supplements. Rule 4 looks only at responses
received before the new one: when an organisation's later message is imported before
its earlier one, both stay first responses (assign one by hand).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.personal_data import OWN_DOMAINS, is_functional_address

REPLY_TO_RECEIPT = "reply_to_receipt"
REPLY_TO_RESPONSE = "reply_to_response"
RECEIPT_SUBJECT = "receipt_subject"
SAME_ORGANISATION = "same_organisation"

# "SV:", "Re:", "AW:", "Antw:", "Svar:" (repeated, numbered "RE[2]:", or behind a tag
# such as "[EKSTERN]") before the receipt's own subject.
_RECEIPT_REPLY = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)*"
    r"(?:(?:sv|re|aw|antw|svar)\s*(?:\[\d+\])?\s*:\s*(?:\[[^\]]{0,40}\]\s*)*)+"
    r"kvittering\b",
    re.IGNORECASE,
)
_DOCUMENT_NUMBER = re.compile(r"(?<![\w/])(\d{2})/0*(\d{1,6})-0*(\d{1,4})(?!\d)")


@dataclass(frozen=True)
class EarlierResponse:
    """A response already filed under the hearing, as the rules need it."""

    response_id: int
    tracking_number: str | None
    stakeholder_key: str | None
    from_address: str | None
    received_at: datetime
    supplement_of: int | None = None
    message_id: str | None = None
    receipt_message_id: str | None = None  # the Message-ID of its receipt, once queued

    @property
    def first_id(self) -> int:
        """The first response of its chain (itself unless it is a supplement)."""
        return self.supplement_of if self.supplement_of is not None else self.response_id


@dataclass(frozen=True)
class IncomingResponse:
    """The response just filed, asking whether it supplements an earlier one."""

    response_id: int
    subject: str | None
    reply_ids: tuple[str, ...]
    stakeholder_key: str | None
    from_address: str | None
    received_at: datetime
    late: bool | None
    auto_submitted: bool = False


@dataclass(frozen=True)
class SupplementLink:
    first_id: int  # the first response of the chain
    reason: str  # REPLY_TO_RECEIPT, REPLY_TO_RESPONSE, RECEIPT_SUBJECT or SAME_ORGANISATION


def receipt_reply_numbers(subject: str | None) -> tuple[str, ...]:
    """The document numbers (`24/750-2`) a subject quotes when it is a reply to one of
    our receipts ("SV: Kvittering for mottatt høringsinnspill – sak 24/750 (vår ref.
    24/750-2)"); () for any other subject."""
    if not subject or not _RECEIPT_REPLY.match(subject):
        return ()
    found = (f"{m[1]}/{int(m[2])}-{int(m[3])}" for m in _DOCUMENT_NUMBER.finditer(subject))
    return tuple(dict.fromkeys(found))


def organisation_key(stakeholder_key: str | None, from_address: str | None) -> str | None:
    """Who the sender is as an organisation, or None for a private person (or unknown):
    the stakeholder, else an organisation's shared mailbox by its exact address."""
    if stakeholder_key:
        return f"stakeholder:{stakeholder_key}"
    address = (from_address or "").strip().lower()
    if "@" not in address or not is_functional_address(address):
        return None
    domain = address.rpartition("@")[2]
    if any(domain == own or domain.endswith("." + own) for own in OWN_DOMAINS):
        return None  # our own post room is nobody's organisation
    return f"address:{address}"


def _same_address(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and (a or "").strip().lower() == (b or "").strip().lower()


def _before(earlier: EarlierResponse, incoming: IncomingResponse) -> bool:
    return (earlier.received_at, earlier.response_id) < (
        incoming.received_at,
        incoming.response_id,
    )


def supplement_of(
    incoming: IncomingResponse, earlier: Iterable[EarlierResponse]
) -> SupplementLink | None:
    """The first response `incoming` supplements among the hearing's `earlier` ones
    (the rules in the module's docstring, in their order), or None."""
    if incoming.auto_submitted:
        return None
    others = [e for e in earlier if e.response_id != incoming.response_id]
    replies = set(incoming.reply_ids)
    for e in others:
        if e.receipt_message_id and e.receipt_message_id in replies:
            return SupplementLink(e.first_id, REPLY_TO_RECEIPT)
    for e in others:
        answered = bool(e.message_id) and e.message_id in replies
        if answered and _same_address(e.from_address, incoming.from_address):
            return SupplementLink(e.first_id, REPLY_TO_RESPONSE)
    organisation = organisation_key(incoming.stakeholder_key, incoming.from_address)
    numbers = receipt_reply_numbers(incoming.subject)
    for e in others:
        if e.tracking_number and e.tracking_number in numbers:
            theirs = organisation_key(e.stakeholder_key, e.from_address)
            same_org = organisation is not None and organisation == theirs
            if same_org or _same_address(e.from_address, incoming.from_address):
                return SupplementLink(e.first_id, RECEIPT_SUBJECT)
    if organisation is None or incoming.late is not False:
        return None
    firsts = [
        e
        for e in others
        if e.supplement_of is None
        and _before(e, incoming)
        and organisation_key(e.stakeholder_key, e.from_address) == organisation
    ]
    if not firsts:
        return None
    first = min(firsts, key=lambda e: (e.received_at, e.response_id))
    return SupplementLink(first.response_id, SAME_ORGANISATION)


__all__ = [
    "RECEIPT_SUBJECT",
    "REPLY_TO_RECEIPT",
    "REPLY_TO_RESPONSE",
    "SAME_ORGANISATION",
    "EarlierResponse",
    "IncomingResponse",
    "SupplementLink",
    "organisation_key",
    "receipt_reply_numbers",
    "supplement_of",
]
