"""The text of an attached document (.docx, .pdf, .odt, .txt, .html), for review.

`extract_text` never raises on a bad payload: what cannot be read comes back with
`text=None` and an `unreadable_reason` a reviewer can act on ("encrypted",
"corrupt: ...", "unsupported type", "no text layer", "too heavy to read: ...").

Zip packages (.docx, .odt) are checked against their directory before anything is
unpacked, and a part is read only up to its cap, so a zip bomb stops here; the time and
memory a reader may spend are bounded by the caller (`services.attachment_reading`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.etree import ElementTree

from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from domain.mail_text import guess_decode, html_to_text, tidy_text

# A zip whose parts unpack to more than this is a zip bomb, not a hearing response.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# The one XML part that is parsed (the document body): a long report is a few MB.
MAX_PART_BYTES = 32 * 1024 * 1024
TOO_HEAVY = "too heavy to read"
_MB = 1024 * 1024

_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ODT = "application/vnd.oasis.opendocument.text"


@dataclass(frozen=True)
class ExtractedText:
    """The text of a document, or why there is none."""

    text: str | None
    unreadable_reason: str | None = None


class _Unreadable(Exception):
    """A document that can be recognised but not read; the message is the reason."""


def _short(error: Exception) -> str:
    detail = " ".join(str(error).split())[:80]
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _size(count: int) -> str:
    return f"{count // _MB} MB" if count >= _MB else f"{count} bytes"


def _check_zip(payload: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(payload))
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise _Unreadable(
            f"{TOO_HEAVY}: unpacks to {_size(unpacked)} (limit {_size(MAX_UNPACKED_BYTES)})"
        )
    return archive


def _read_part(archive: zipfile.ZipFile, name: str, kind: str) -> bytes:
    """One part, refused by its declared size and read only up to the cap (a zip
    directory can understate a part's size)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _Unreadable(f"corrupt: no {name} in the {kind} file") from None
    if info.file_size > MAX_PART_BYTES:
        raise _Unreadable(
            f"{TOO_HEAVY}: {name} unpacks to {_size(info.file_size)} "
            f"(limit {_size(MAX_PART_BYTES)})"
        )
    with archive.open(info) as part:
        data = part.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise _Unreadable(f"{TOO_HEAVY}: {name} unpacks to over {_size(MAX_PART_BYTES)}")
    return data


def _docx_blocks(container: DocxDocument | _Cell) -> Iterator[str]:
    """Paragraph texts and table rows (cells joined by ' | ') in document order."""
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                        continue
                    seen.add(id(cell._tc))
                    cells.append(" ".join(t.strip() for t in _docx_blocks(cell) if t.strip()))
                yield " | ".join(cells)


_OFFICE_DOCUMENT = "/officeDocument"
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _main_part_name(archive: zipfile.ZipFile) -> str:
    """The name of the main document part, from the package relationships."""
    try:
        rels = ElementTree.fromstring(_read_part(archive, "_rels/.rels", "Word"))
    except (_Unreadable, ElementTree.ParseError):
        return "word/document.xml"
    for rel in rels.iter(_RELATIONSHIPS):
        if rel.get("Type", "").endswith(_OFFICE_DOCUMENT) and rel.get("Target"):
            return rel.get("Target", "").lstrip("/")
    return "word/document.xml"


def _docx(payload: bytes) -> str:
    # Only the main part is parsed (with python-docx's element classes): opening the
    # whole package with docx.Document() parses every style and part and takes ten
    # times as long, which an import of thousands of responses feels.
    with _check_zip(payload) as archive:
        xml = _read_part(archive, _main_part_name(archive), "Word")
    document = DocxDocument(parse_xml(xml), None)  # type: ignore[arg-type]
    return "\n".join(_docx_blocks(document))


def _pdf(payload: bytes) -> str:
    reader = PdfReader(io.BytesIO(payload))
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs are encrypted only to restrict printing
        except Exception as error:  # pypdf raises various errors for unknown ciphers
            raise _Unreadable("encrypted") from error
        if not opened:
            raise _Unreadable("encrypted")
    pages = [page.extract_text() or "" for page in reader.pages]
    text = "\n\n".join(pages)
    if not text.strip():
        raise _Unreadable("no text layer (scanned?)")
    return text


def _odf_paragraph(element: ElementTree.Element) -> str:
    """The text of a text:p or text:h, with ODF's space, tab and line-break elements."""
    parts: list[str] = [element.text or ""]
    for child in element:
        tag = child.tag.rpartition("}")[2]
        if tag == "s":
            parts.append(" " * int(child.get(f"{{{_ODF_TEXT}}}c", "1")))
        elif tag == "tab":
            parts.append("\t")
        elif tag == "line-break":
            parts.append("\n")
        elif tag not in ("note", "annotation"):
            parts.append(_odf_paragraph(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _odf_blocks(element: ElementTree.Element) -> Iterator[str]:
    for child in element:
        if child.tag in (f"{{{_ODF_TEXT}}}p", f"{{{_ODF_TEXT}}}h"):
            yield _odf_paragraph(child)
        else:
            yield from _odf_blocks(child)


def _odt(payload: bytes) -> str:
    with _check_zip(payload) as archive:
        content = _read_part(archive, "content.xml", "ODT")
    return "\n".join(_odf_blocks(ElementTree.fromstring(content)))


def _txt(payload: bytes) -> str:
    if b"\x00" in payload and not payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Unreadable("corrupt: binary data in a text file")
    return guess_decode(payload)


def _html(payload: bytes) -> str:
    return html_to_text(guess_decode(payload))


_BY_EXTENSION: dict[str, Callable[[bytes], str]] = {
    ".docx": _docx,
    ".pdf": _pdf,
    ".odt": _odt,
    ".txt": _txt,
    ".text": _txt,
    ".htm": _html,
    ".html": _html,
}
_BY_CONTENT_TYPE: dict[str, Callable[[bytes], str]] = {
    _DOCX: _docx,
    "application/pdf": _pdf,
    _ODT: _odt,
    "text/plain": _txt,
    "text/html": _html,
}


def _reader_for(filename: str, content_type: str, payload: bytes) -> Callable[[bytes], str] | None:
    """By extension, then by declared type, then by the PDF signature."""
    extension = PurePosixPath(filename.replace("\\", "/").lower()).suffix
    reader = _BY_EXTENSION.get(extension)
    if reader is None:
        reader = _BY_CONTENT_TYPE.get(content_type.split(";")[0].strip().lower())
    if reader is None and payload.startswith(b"%PDF-"):
        reader = _pdf
    return reader


def extract_text(filename: str, content_type: str, payload: bytes) -> ExtractedText:
    """The text of an attachment; never raises on a bad payload."""
    reader = _reader_for(filename or "", content_type or "", payload)
    if reader is None:
        return ExtractedText(None, "unsupported type")
    try:
        text = reader(payload)
    except _Unreadable as reason:
        return ExtractedText(None, str(reason))
    except (MemoryError, RecursionError) as error:
        return ExtractedText(None, f"{TOO_HEAVY}: {type(error).__name__}")
    except Exception as error:  # every library raises its own kinds on corrupt files
        return ExtractedText(None, f"corrupt: {_short(error)}")
    return ExtractedText(tidy_text(text))
