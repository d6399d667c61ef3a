"""Turning the bytes and HTML of e-mail parts and attachments into readable text.

Mail in Norway is full of mislabelled charsets: text declared `iso-8859-1` that holds
Windows-1252 dashes and quotes, text declared `us-ascii` that is UTF-8, charsets no
codec knows. `decode_text` never fails: it tries the declared charset, then UTF-8,
then Windows-1252, and finally Latin-1 (which decodes any byte).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from domain import html_text

# Single-byte labels that are, in practice, Windows-1252 (as the WHATWG encoding
# standard treats them: the "–" and "’" of Outlook live in 0x80-0x9F) or UTF-8 under
# a wrong label. Text under these labels is read as UTF-8 when it is valid UTF-8.
_WESTERN = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252"})
_SURROGATE = re.compile("[\udc80-\udcff]")


def _codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when no codec knows it."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip('"').lower()).name
    except (LookupError, ValueError):
        return None


def decode_text(payload: bytes, declared_charset: str | None) -> tuple[str, str | None]:
    """Decode `payload`; returns the text and a warning when the declared charset was wrong."""
    codec = _codec_name(declared_charset)
    if codec is None:
        unknown = f"unknown charset {declared_charset!r}, decoded by guessing"
        return guess_decode(payload), unknown if declared_charset else None
    if codec in _WESTERN:
        if payload.isascii():
            return payload.decode("ascii"), None
        text = guess_decode(payload)
        if codec == "ascii" or _is_utf8(payload):
            return text, f"text declared {declared_charset} is not, decoded by guessing"
        return text, None
    try:
        return payload.decode(codec), None
    except UnicodeDecodeError:
        return guess_decode(payload), f"text is not valid {declared_charset}, decoded by guessing"


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def guess_decode(payload: bytes) -> str:
    """Decode bytes of unknown charset: BOM, then UTF-8, then Windows-1252, then Latin-1."""
    if payload.startswith(codecs.BOM_UTF8):
        return payload[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if payload.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return payload.decode("utf-16", errors="replace")
    for codec in ("utf-8", "cp1252"):
        try:
            return payload.decode(codec)
        except UnicodeDecodeError:
            continue
    return payload.decode("latin-1")


def decode_surrogates(value: str) -> str:
    """Re-decode a header string that holds raw 8-bit bytes as surrogate escapes."""
    if not _SURROGATE.search(value):
        return value
    return guess_decode(value.encode("utf-8", errors="surrogateescape"))


def html_to_text(html: str) -> str:
    """Readable plain text from HTML, keeping æøå and other letters as they are."""
    return tidy_text(html_text.html_to_text(html))


_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    """NFC-normalised text with Unix line ends, no trailing spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _TRAILING_SPACE.sub("", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()
