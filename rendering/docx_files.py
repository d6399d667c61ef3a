"""The letter's .docx file: an A4 document in the letter style, Markdown converted into it.

The .docx is deterministic: fixed core properties (author Helsedirektoratet,
created/modified at the letter date) and fixed zip entry times, so the same
context always gives the same bytes and the same sha256.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from rendering.markdown_docx import markdown_to_docx

AUTHOR = "Helsedirektoratet"
_IN_MEMORY = 1 << 22  # zip entries up to 4 MiB are copied whole, larger ones streamed
_COPY = 1 << 20
LANGUAGE = "nb-NO"


def new_letter_document() -> DocxDocument:
    """An empty A4 document with the letter's base style (Arial 11, bokmål)."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    r_pr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE)
    r_pr.append(lang)
    _drop_thumbnail(document)
    return document


def _drop_thumbnail(document: DocxDocument) -> None:
    # The template's thumbnail shows an empty page in file browsers: not our letter.
    package = document.part.package
    for r_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(r_id)


def set_core_properties(document: DocxDocument, *, title: str, subject: str, day: date) -> None:
    """Fixed metadata: the same letter gives the same bytes."""
    stamp = datetime.combine(day, time(0, 0), tzinfo=UTC)
    props = document.core_properties
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = stamp
    props.modified = stamp
    props.revision = 1
    props.title = title
    props.subject = subject
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.language = LANGUAGE


def build_docx(markdown: str, *, title: str, subject: str, day: date) -> bytes:
    """The .docx bytes of `markdown`, deterministic for the same arguments."""
    document = new_letter_document()
    markdown_to_docx(markdown, document)
    set_core_properties(document, title=title, subject=subject, day=day)
    buffer = BytesIO()
    document.save(buffer)
    return normalise_zip(buffer.getvalue(), day)


def normalise_zip(data: bytes, day: date) -> bytes:
    """Rewrite an OOXML zip with every entry dated `day` 00:00 and the same attributes,
    keeping the entry order ([Content_Types].xml first)."""
    output = BytesIO()
    normalise_zip_file(BytesIO(data), output, day)
    return output.getvalue()


def normalise_zip_file(
    source: Path | BinaryIO,
    target: BinaryIO,
    day: date,
    replace: Mapping[str, Callable[[BinaryIO], None]] | None = None,
) -> None:
    """`normalise_zip` from file to file, entry by entry (any size); `replace[name]`
    writes that entry's content instead of copying it."""
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    replace = replace or {}
    with ZipFile(source) as archive, ZipFile(target, "w", ZIP_DEFLATED) as output:
        for info in archive.infolist():
            entry = ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            if info.filename in replace:
                with output.open(entry, "w", force_zip64=True) as stream:
                    replace[info.filename](stream)  # type: ignore[arg-type]
            elif info.file_size < _IN_MEMORY:
                output.writestr(entry, archive.read(info.filename))
            else:
                with archive.open(info) as part, output.open(entry, "w", force_zip64=True) as out:
                    shutil.copyfileobj(part, out, _COPY)
