"""An e-mail's raw bytes turned into a response candidate, or quarantined.

`parse_message` is the one entry point for the importer: it never raises on bad
input. A message it cannot make sense of (empty, binary, no headers, over a limit)
comes back as `Quarantine` with a one-line English reason; everything else as a
`ParsedMessage`, with what was odd about it listed in `warnings`.

Decisions:
- An attachment over `MailLimits.max_attachment_bytes` does not quarantine the
  message: it is kept (the storage layer still stores its bytes) and flagged
  `unreadable_reason="too large"` so that no text is extracted from it. Only the
  total size, the nesting depth and the number of attachments quarantine.
- Forwarded messages (message/rfc822 parts, at any depth) are listed flat in
  `ParsedMessage.forwarded`, each with its own sender, subject, body text and
  attachments. `all_attachments` and `combined_text` include them.
- The body is the text/plain parts outside attachments; HTML parts are converted
  to text only when there is no plain text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser

from domain.deadlines import is_late
from domain.mail_headers import HeaderReader, parse_date, unfold
from domain.mail_names import safe_attachment_name
from domain.mail_text import decode_text, html_to_text, tidy_text
from domain.mail_time import received_time

__all__ = [
    "AddressedTo",
    "Attachment",
    "ForwardedMessage",
    "MailLimits",
    "ParsedMessage",
    "Quarantine",
    "attachment_sha256",
    "dedupe_key",
    "is_late",
    "parse_message",
    "read_addressed_to",
    "received_time",
    "safe_attachment_name",
]

MB = 1024 * 1024


@dataclass(frozen=True)
class MailLimits:
    """Limits beyond which a message is quarantined (or an attachment left unread)."""

    max_total_bytes: int = 50 * MB
    max_depth: int = 10
    max_attachments: int = 100
    max_attachment_bytes: int = 25 * MB


@dataclass(frozen=True)
class Quarantine:
    """A message that cannot be filed; `reason` is one line in English."""

    reason: str


@dataclass(frozen=True)
class Attachment:
    """One attached file. `filename` is as sent (decoded), `safe_name` fit for disk."""

    filename: str | None
    safe_name: str
    content_type: str
    payload: bytes = field(repr=False)
    size: int
    sha256: str
    unreadable_reason: str | None = None


@dataclass(frozen=True)
class ForwardedMessage:
    """A message/rfc822 part: a message forwarded as an attachment."""

    subject: str | None
    from_name: str | None
    from_address: str | None
    date: datetime | None
    body_text: str
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True)
class ParsedMessage:
    """What the importer needs of one e-mail."""

    message_id: str | None
    subject: str | None
    from_name: str | None
    from_address: str | None
    to_addresses: tuple[str, ...]
    cc_addresses: tuple[str, ...]
    date: datetime | None
    received_times: tuple[datetime, ...]
    body_text: str
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ForwardedMessage, ...] = ()
    warnings: tuple[str, ...] = ()
    auto_submitted: bool = False  # an auto-reply, bounce or list mail: never answer it
    reply_ids: tuple[str, ...] = ()  # In-Reply-To and References: the messages it answers

    @property
    def all_attachments(self) -> tuple[Attachment, ...]:
        """The message's own attachments followed by those of forwarded messages."""
        return self.attachments + tuple(a for fwd in self.forwarded for a in fwd.attachments)

    @property
    def combined_text(self) -> str:
        """The body followed by each forwarded message, introduced as in mail clients."""
        blocks = [self.body_text] if self.body_text else []
        for fwd in self.forwarded:
            address = f"<{fwd.from_address}>" if fwd.from_address else ""
            sender = " ".join(part for part in (fwd.from_name, address) if part)
            head = "---------- Videresendt melding ----------"
            blocks.append(f"{head}\nFra: {sender}\nEmne: {fwd.subject or ''}\n\n{fwd.body_text}")
        return "\n\n".join(blocks).strip()


class _LimitExceeded(Exception):
    """Raised inside the walk; becomes a Quarantine."""


@dataclass
class _Content:
    """What one message (top-level or forwarded) holds while it is walked."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def body_text(self) -> str:
        texts = [text for text in self.plain if text.strip()] or self.html
        return tidy_text("\n\n".join(texts))


@dataclass
class _Walk:
    """State shared by the whole walk: limits, counters, findings."""

    limits: MailLimits
    warnings: list[str] = field(default_factory=list)
    forwarded: list[ForwardedMessage] = field(default_factory=list)
    attachment_count: int = 0


_IDENTIFYING_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "received"})
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def attachment_sha256(payload: bytes) -> str:
    """The hex sha256 of an attachment's bytes (its key in the blob store)."""
    return hashlib.sha256(payload).hexdigest()


def _precheck(raw: bytes, limits: MailLimits) -> str | None:
    """Why `raw` is not worth parsing, or None."""
    if not raw.strip():
        return "empty message"
    if len(raw) > limits.max_total_bytes:
        return (
            f"message is {len(raw)} bytes, over the total size limit of "
            f"{limits.max_total_bytes} bytes (max_total_bytes)"
        )
    end = _HEADER_END.search(raw)
    header_block = raw[: end.start()] if end else raw[:65536]
    if (
        b"\x00" in header_block
        or len(_CONTROL_BYTES.findall(header_block)) > len(header_block) // 100
    ):
        return "not an e-mail: binary data where the headers should be"
    return None


def _parse(raw: bytes, warnings: list[str]) -> Message:
    """The message structure, parsed the compat32 way.

    The structure (parts, boundaries, payloads) comes out the same as with
    policy.default, whose Message methods are the same code; but policy.default's
    feed parser re-parses the structured Content-Type header several times per part,
    which made parsing three times as slow. Headers are read with policy.default's
    header classes by `HeaderReader`, once each.
    """
    return BytesParser(policy=email_policy.compat32).parsebytes(raw)


def parse_message(raw: bytes, limits: MailLimits | None = None) -> ParsedMessage | Quarantine:
    """Parse an e-mail's raw bytes; never raises on bad input."""
    limits = limits or MailLimits()
    reason = _precheck(raw, limits)
    if reason:
        return Quarantine(reason)
    walk = _Walk(limits)
    try:
        message = _parse(raw, walk.warnings)
        if not {key.lower() for key, _ in message.raw_items()} & _IDENTIFYING_HEADERS:
            return Quarantine("not an e-mail: no From, To, Subject, Date or Received header")
        reader = HeaderReader(message, "message", walk.warnings)
        content = _Content()
        _collect(message, 0, "message", walk, content, attachments_only=False)
        from_name, from_address = _sender(reader)
        return ParsedMessage(
            message_id=reader.message_id(),
            subject=reader.text("Subject"),
            from_name=from_name,
            from_address=from_address,
            to_addresses=tuple(reader.address_specs("To")),
            cc_addresses=tuple(reader.address_specs("Cc")),
            date=reader.date("Date"),
            received_times=tuple(_received_times(reader)),
            body_text=content.body_text(),
            attachments=tuple(content.attachments),
            forwarded=tuple(walk.forwarded),
            warnings=tuple(dict.fromkeys(walk.warnings)),
            auto_submitted=_auto_submitted(reader),
            reply_ids=reader.reply_ids(),
        )
    except _LimitExceeded as error:
        return Quarantine(str(error))
    except RecursionError:
        return Quarantine("message structure is nested too deeply to parse")
    except Exception as error:  # a parser bug on odd input must not stop an import
        detail = " ".join(str(error).split())[:80]
        return Quarantine(f"message could not be parsed ({type(error).__name__}: {detail})")


@dataclass(frozen=True)
class AddressedTo:
    """Who a message was sent to and when it says it was written (its header block)."""

    to_addresses: tuple[str, ...]
    cc_addresses: tuple[str, ...]
    date: datetime | None


def read_addressed_to(raw: bytes) -> AddressedTo | None:
    """To, Cc and Date as `parse_message` reads them, from the header block alone (the
    publication export shows these of every response; parsing the parts costs most of
    its time). None where `parse_message` would quarantine the message's headers."""
    if _precheck(raw, MailLimits()):
        return None
    warnings: list[str] = []
    try:
        message = BytesHeaderParser(policy=email_policy.compat32).parsebytes(raw)
        if not {key.lower() for key, _ in message.raw_items()} & _IDENTIFYING_HEADERS:
            return None
        reader = HeaderReader(message, "message", warnings)
        return AddressedTo(
            to_addresses=tuple(reader.address_specs("To")),
            cc_addresses=tuple(reader.address_specs("Cc")),
            date=reader.date("Date"),
        )
    except Exception:  # as parse_message: odd input never stops an export
        return None


def _sender(reader: HeaderReader) -> tuple[str | None, str | None]:
    senders = reader.addresses("From")
    if not senders:
        return None, None
    name, address = senders[0]
    # Addresses are compared case-blind everywhere (stakeholders, supplements, receipts)
    return (name.strip() or None), (address.lower() if address else address)


_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Subjects of out-of-office replies from mailers that set no Auto-Submitted header.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:automatisk svar|autosvar|auto-?reply|automatic reply|out of office"
    r"|fraværsmelding|abwesenheitsnotiz|undeliverable|returned mail"
    r"|mail delivery failed|delivery status notification|ikke levert|kan ikke leveres)\b",
    re.IGNORECASE,
)


def _auto_submitted(reader: HeaderReader) -> bool:
    """Sent by a machine (RFC 3834 auto-reply, bounce, list mail): a receipt to it could
    start a mail loop."""
    submitted = [unfold(v).lower() for v in reader.raw("Auto-Submitted")]
    if any(value and not value.startswith("no") for value in submitted):
        return True
    if reader.raw("X-Autoreply") or reader.raw("X-Autorespond"):
        return True
    precedence = {unfold(v).strip().lower() for v in reader.raw("Precedence")}
    if precedence & _AUTOMATIC_PRECEDENCE:
        return True
    if _AUTO_REPLY_SUBJECT.match(reader.text("Subject") or ""):
        return True
    return reader.content_type() == "multipart/report"  # delivery status notifications


def _received_times(reader: HeaderReader) -> Iterator[datetime]:
    """The date after the last ';' of each Received header, newest (topmost) first."""
    for value in reader.raw("Received"):
        _, semicolon, when = unfold(value).rpartition(";")
        moment = parse_date(when) if semicolon else None
        if moment is None:
            reader.warnings.append(
                f"{reader.where}: Received header without a readable date: {when[:40]!r}"
            )
            continue
        yield moment


def _note_defects(part: Message, where: str, walk: _Walk) -> None:
    for defect in part.defects:
        detail = f" ({defect})" if str(defect) else ""
        walk.warnings.append(f"{where}: {type(defect).__name__}{detail}")


def _children(part: Message) -> list[Message]:
    if not part.is_multipart():  # also keeps get_payload() off its charset-decoding path
        return []
    return [child for child in part.get_payload() if isinstance(child, Message)]


def _collect(
    part: Message, depth: int, where: str, walk: _Walk, content: _Content, *, attachments_only: bool
) -> None:
    """Walk `part`, adding body text and attachments to `content`."""
    if depth > walk.limits.max_depth:
        raise _LimitExceeded(
            f"MIME parts nested deeper than the limit of {walk.limits.max_depth} levels (max_depth)"
        )
    _note_defects(part, where, walk)
    reader = HeaderReader(part, where, walk.warnings)
    content_type = reader.content_type()
    children = _children(part)
    if content_type in ("message/rfc822", "message/global") and children:
        _forwarded(children[0], depth + 1, f"{where}.1", walk)
        return
    if children:
        chosen = _best_alternative(children) if content_type == "multipart/alternative" else None
        for number, child in enumerate(children, start=1):
            skip = chosen is not None and child is not chosen
            _collect(
                child,
                depth + 1,
                f"{where}.{number}",
                walk,
                content,
                attachments_only=attachments_only or skip,
            )
        return
    disposition = reader.disposition()
    filename = reader.filename()
    # A multipart whose boundary never came (a defect, noted above) holds plain text.
    is_text = content_type in ("text/plain", "text/html") or content_type.startswith("multipart/")
    if is_text and disposition != "attachment" and filename is None:
        if not attachments_only:
            text = _decoded_text(part, reader, walk)
            (content.html if content_type == "text/html" else content.plain).append(
                html_to_text(text) if content_type == "text/html" else text
            )
        return
    if attachments_only and disposition != "attachment":
        return
    _add_attachment(part, content_type, filename, walk, content)


def _best_alternative(children: list[Message]) -> Message:
    """The alternative to read: plain text if it has any, else HTML, else the richest."""
    by_type: dict[str, Message] = {}
    for child in children:
        try:
            by_type.setdefault(child.get_content_type(), child)
        except Exception:  # a broken Content-Type just isn't preferred
            continue
    plain = by_type.get("text/plain")
    if plain is not None and _payload_bytes(plain).strip():
        return plain
    return by_type.get("text/html") or children[-1]


def _payload_bytes(part: Message) -> bytes:
    """The part's payload with its Content-Transfer-Encoding undone."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken CTE header: take the payload as it stands
        payload = None
    if isinstance(payload, bytes):
        return payload
    try:
        raw = part.get_payload()
    except (LookupError, ValueError):  # it decodes 8-bit text by the charset parameter
        return b""
    return raw.encode("ascii", errors="surrogateescape") if isinstance(raw, str) else b""


def _decoded_text(part: Message, reader: HeaderReader, walk: _Walk) -> str:
    text, warning = decode_text(_payload_bytes(part), reader.charset())
    if warning:
        walk.warnings.append(f"{reader.where}: {warning}")
    return text


def _add_attachment(
    part: Message, content_type: str, filename: str | None, walk: _Walk, content: _Content
) -> None:
    walk.attachment_count += 1
    if walk.attachment_count > walk.limits.max_attachments:
        raise _LimitExceeded(
            f"more than {walk.limits.max_attachments} attachments (max_attachments)"
        )
    payload = _payload_bytes(part)
    too_large = len(payload) > walk.limits.max_attachment_bytes
    content.attachments.append(
        Attachment(
            filename=filename,
            safe_name=safe_attachment_name(filename, walk.attachment_count, content_type),
            content_type=content_type,
            payload=payload,
            size=len(payload),
            sha256=attachment_sha256(payload),
            unreadable_reason="too large" if too_large else None,
        )
    )


def _forwarded(message: Message, depth: int, where: str, walk: _Walk) -> None:
    """Add a forwarded message (and, after it, any it forwards itself) to the walk."""
    reader = HeaderReader(message, where, walk.warnings)
    position = len(walk.forwarded)
    content = _Content()
    _collect(message, depth, where, walk, content, attachments_only=False)
    name, address = _sender(reader)
    walk.forwarded.insert(
        position,
        ForwardedMessage(
            subject=reader.text("Subject"),
            from_name=name,
            from_address=address,
            date=reader.date("Date"),
            body_text=content.body_text(),
            attachments=tuple(content.attachments),
        ),
    )


_WHITESPACE = re.compile(r"\s+")


def dedupe_key(parsed: ParsedMessage) -> str:
    """A sha256 equal for "same sender, same text, same attachments" duplicates.

    Whitespace differences in the text (re-wrapping, CRLF) and the order of the
    attachments do not matter; Message-ID, Date and Subject do not count.
    """
    text = _WHITESPACE.sub(" ", parsed.combined_text).strip()
    hashes = sorted(attachment.sha256 for attachment in parsed.all_attachments)
    material = json.dumps([parsed.from_address or "", text, hashes], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
