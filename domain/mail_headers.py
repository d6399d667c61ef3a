"""Reading the headers of one message part, robust against malformed input.

The message structure is parsed with `compat32` (see `domain.email_intake`), and each
header we read is parsed once, on demand, by the structured header classes of
`policy.default`: they decode RFC 2047/2231 and parse addresses and dates. Some
malformed values make them raise (e.g. `Message-ID: <>` or `To: <` raise IndexError in
Python 3.11); `HeaderReader` then, or when they yield replacement characters for raw
8-bit bytes, reads the raw header leniently itself. Every fallback is noted in `warnings`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import Message
from email.quoprimime import header_decode
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from domain.mail_text import decode_surrogates, decode_text

_DEFAULT = email_policy.default
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_ENCODED_WORDS = re.compile(r"(?<=\?=)\s+(?==\?)")
_MESSAGE_ID = re.compile(r"<\s*([^<>\s]+)\s*>")


def unfold(value: str) -> str:
    """A header value on one line (RFC 5322 unfolding)."""
    return _FOLD.sub("", value).strip()


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, encoded = match.groups()
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*no
    try:
        if encoding in "bB":
            raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        else:
            raw = header_decode(encoded).encode("latin-1")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return match.group(0)
    return decode_text(raw, charset)[0]


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words leniently (unknown charsets, bad padding, 8-bit text)."""
    value = _BETWEEN_ENCODED_WORDS.sub("", value)
    return _ENCODED_WORD.sub(_decode_word, value)


def lenient_text(raw_value: str) -> str:
    """A raw header value as text: unfolded, 8-bit bytes and encoded words decoded."""
    return decode_words(decode_surrogates(unfold(raw_value)))


def aware(moment: datetime) -> datetime:
    """`moment` with UTC assumed when it has no zone (dates written with -0000)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_date(value: str) -> datetime | None:
    """An RFC 5322 date as an aware datetime, or None when it cannot be read."""
    try:
        return aware(parsedate_to_datetime(value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _garbled(text: str, raw_values: list[str]) -> bool:
    """policy.default turned raw 8-bit bytes (not UTF-8) into U+FFFD."""
    return "\ufffd" in text and any(decode_surrogates(raw) != raw for raw in raw_values)


class HeaderReader:
    """The headers of one part; `where` names the part in warnings ("message", "message.2.1")."""

    def __init__(self, part: Message, where: str, warnings: list[str]) -> None:
        self.part = part
        self.where = where
        self.warnings = warnings
        self._compat: Message | None = None
        self._parsed: dict[str, object] = {}
        self._cached: dict[str, object] = {}

    def _warn(self, text: str) -> None:
        self.warnings.append(f"{self.where}: {text}")

    def raw(self, name: str) -> list[str]:
        """The raw values of header `name`, in order, undecoded."""
        return [value for key, value in self.part.raw_items() if key.lower() == name.lower()]

    def _fallback(self, name: str, error: Exception) -> None:
        self._warn(f"header {name} not parsable ({type(error).__name__}), read leniently")

    def _structure(self, name: str, value: str) -> object:
        """`value` as policy.default's header object; raises what policy.default raises."""
        return _DEFAULT.header_fetch_parse(name, value)

    def _header(self, name: str) -> object | None:
        """The first `name` header, structured (parsed once); raises like policy.default."""
        key = name.lower()
        if key not in self._parsed:
            raw = self.raw(name)
            header = self._structure(name, raw[0]) if raw else None
            for defect in getattr(header, "defects", ()):
                self._warn(f"header {name}: {type(defect).__name__}")
            self._parsed[key] = header
        return self._parsed[key]

    def text(self, name: str) -> str | None:
        """The first `name` header as decoded text, or None when absent."""
        raw = self.raw(name)
        if not raw:
            return None
        try:
            text = decode_surrogates(str(self._header(name)))
            if not _garbled(text, raw[:1]):
                return unfold(text)
        except Exception as error:  # policy.default raises many kinds on bad input
            self._fallback(name, error)
        return lenient_text(raw[0])

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) of every address in the `name` headers."""
        raw = self.raw(name)
        if not raw:
            return []
        try:
            found: list[tuple[str, str]] = []
            for value in raw:
                for address in self._structure(name, value).addresses:  # type: ignore[attr-defined]
                    display = decode_surrogates(address.display_name)
                    found.append((display, decode_surrogates(address.addr_spec)))
            if not any(_garbled(display, raw) for display, _ in found):
                return [(display, spec.lower()) for display, spec in found if "@" in spec]
        except Exception as error:  # see text()
            self._fallback(name, error)
        pairs = getaddresses([decode_surrogates(unfold(value)) for value in raw])
        return [(decode_words(display), spec.lower()) for display, spec in pairs if "@" in spec]

    def address_specs(self, name: str) -> list[str]:
        """The lower-cased addresses (no names) in the `name` headers.

        Read with `email.utils.getaddresses`, ten times as fast as the structured
        parser, for headers whose display names are not needed (To, Cc).
        """
        values = [decode_surrogates(unfold(value)) for value in self.raw(name)]
        return [spec.lower() for _, spec in getaddresses(values) if "@" in spec]

    def date(self, name: str) -> datetime | None:
        """The first `name` header as an aware datetime, or None when absent or unreadable."""
        raw = self.raw(name)
        if not raw:
            return None
        moment: datetime | None = None
        try:
            moment = getattr(self._header(name), "datetime", None)
        except Exception as error:  # see text()
            self._fallback(name, error)
        if moment is None:
            moment = parse_date(unfold(raw[0]))
        if moment is None:
            self._warn(f"header {name} is not a date: {unfold(raw[0])[:60]!r}")
            return None
        return aware(moment)

    def message_id(self) -> str | None:
        """The Message-ID as `<id>` without whitespace, or None when missing or empty.

        Read from the raw header: policy.default raises on common broken forms.
        """
        raw = self.raw("message-id")
        if not raw:
            return None
        value = decode_surrogates(unfold(raw[0]))
        match = _MESSAGE_ID.search(value)
        token = match.group(1) if match else "".join(value.strip("<> \t").split())
        return f"<{token}>" if token else None

    def reply_ids(self) -> tuple[str, ...]:
        """The Message-IDs this message answers (In-Reply-To, then References), as `<id>`,
        without repeats; at most 50, so a runaway References header costs nothing."""
        found: list[str] = []
        for name in ("in-reply-to", "references"):
            for raw in self.raw(name):
                value = decode_surrogates(unfold(raw))
                found.extend(f"<{token}>" for token in _MESSAGE_ID.findall(value))
        return tuple(dict.fromkeys(found))[:50]

    def _compat_view(self) -> Message:
        """The part's headers parsed the compat32 way (raw strings, no structure)."""
        if self._compat is None:
            self._compat = Message(policy=email_policy.compat32)
            for key, value in self.part.raw_items():
                self._compat[key] = decode_surrogates(unfold(value))
        return self._compat

    def _once(self, key: str, header: str, read: Callable[[Message], Any]) -> Any:
        """`read(part)`, falling back to the compat32 view; computed once per part."""
        if key not in self._cached:
            try:
                value = read(self.part)
            except Exception as error:  # see text()
                self._fallback(header, error)
                value = read(self._compat_view())
            self._cached[key] = value
        return self._cached[key]

    def content_type(self) -> str:
        """The lower-case MIME type, `text/plain` when missing or invalid."""
        return self._once("type", "Content-Type", lambda part: part.get_content_type())

    def charset(self) -> str | None:
        """The declared charset parameter of the Content-Type, if any."""
        return self._once("charset", "Content-Type", lambda part: part.get_content_charset())

    def disposition(self) -> str | None:
        """`inline`, `attachment` or None."""
        return self._once(
            "disposition", "Content-Disposition", lambda part: part.get_content_disposition()
        )

    def filename(self) -> str | None:
        """The attachment's file name as sent, RFC 2231 and RFC 2047 decoded.

        Falls back to the `name` parameter of Content-Type, as old mailers use it.
        """
        name: str | None = None
        try:
            name = self.part.get_filename()
            name = decode_surrogates(name) if name is not None else None
            raw = self.raw("content-disposition") + self.raw("content-type")
            if name is not None and _garbled(name, raw):
                name = None
        except Exception as error:  # see text()
            self._fallback("Content-Disposition", error)
        if name is None:
            try:
                name = self._compat_view().get_filename()
            except (LookupError, UnicodeError, ValueError, TypeError):
                name = None
        if name is None:
            return None
        return decode_words(name).strip() or None
