"""Attachment file names that are safe to write to disk on any system."""

from __future__ import annotations

import re
import unicodedata

_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_WHITESPACE = re.compile(r"\s+")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)
_MAX_NAME_BYTES = 200  # well below the 255-byte limit of common file systems
_MAX_EXTENSION_CHARS = 16

# Extensions for nameless parts. A fixed table rather than `mimetypes`, whose answers
# depend on the host's /etc/mime.types.
_EXTENSIONS = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/zip": "zip",
    "image/gif": "gif",
    "image/jpeg": "jpg",
    "image/png": "png",
    "message/rfc822": "eml",
    "text/calendar": "ics",
    "text/html": "html",
    "text/plain": "txt",
}


def _is_invisible(char: str) -> bool:
    # Cc: control characters; Cf: format characters such as U+202E (right-to-left
    # override), used to disguise "fil.exe" as "fil‮exe.docx".
    return unicodedata.category(char) in ("Cc", "Cf")


def _fit(stem: str, extension: str) -> str:
    suffix = f".{extension}" if extension else ""
    while stem and len((stem + suffix).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def safe_attachment_name(name: str | None, index: int, content_type: str | None = None) -> str:
    """A file name for attachment number `index` without directories or dangerous characters.

    Keeps letters such as æøå and the extension; a missing or unusable name becomes
    `vedlegg-<index>` with an extension guessed from `content_type`.
    """
    base = unicodedata.normalize("NFC", name or "")
    base = "".join(" " if char in "\t\r\n" else char for char in base)
    base = "".join(char for char in base if not _is_invisible(char))
    base = base.replace("\\", "/").rsplit("/", 1)[-1]  # drop any directory part
    base = _WHITESPACE.sub(" ", _FORBIDDEN.sub("_", base)).strip()
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    stem = stem.strip(" .")
    extension = extension.strip(" .")[:_MAX_EXTENSION_CHARS]
    if not stem and not extension and content_type:
        extension = _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "")
    if not stem:
        stem = f"vedlegg-{index}"
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    return _fit(stem, extension)
