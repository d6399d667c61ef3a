"""Text extraction from attached documents, on documents built here."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from pypdf import PdfReader, PdfWriter

from domain import attachment_text
from domain.attachment_text import ExtractedText, extract_text

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_TYPE = "application/vnd.oasis.opendocument.text"


def build_docx() -> bytes:
    document = Document()
    document.add_heading("Høringssvar fra Helse Vest RHF", level=1)
    document.add_paragraph("Vi støtter forslaget om læringsmål om kliniske studier.")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "Spesialitet"
    table.cell(0, 1).text = "Merknad"
    merged = table.cell(0, 1).merge(table.cell(0, 2))
    merged.text = "Merknad"
    table.cell(1, 0).text = "Blodsykdommer"
    table.cell(1, 1).text = "Ingen"
    table.cell(1, 2).text = "Gjelder også HJS-xxx"
    document.add_paragraph("Med vennlig hilsen – Åse Ødegård")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build_pdf(lines: list[bytes]) -> bytes:
    """A one-page PDF with Helvetica text in WinAnsiEncoding, offsets computed here."""
    stream = b"BT /F1 12 Tf 72 720 Td 14 TL " + b" ".join(b"(" + line + b") '" for line in lines)
    stream += b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


# "Vi støtter forslaget – læringsmål" in Windows-1252 octal escapes: ø=370, å=345, –=226.
PDF_LINES = [b"Vi st\\370tter forslaget \\226 l\\346ringsm\\345l", b"Helse Vest RHF"]


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="eier", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def build_odt(content_xml: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", ODT_TYPE, compress_type=zipfile.ZIP_STORED)
        if content_xml is not None:
            archive.writestr("content.xml", content_xml)
    return buffer.getvalue()


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content
    xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">
  <office:body><office:text>
    <text:h text:outline-level="1">Høringssvar – sak 24/750</text:h>
    <text:p>Vi <text:span>støtter</text:span> forslaget.<text:s text:c="3"/>Punkt<text:tab/>to\
<text:line-break/>Ny linje</text:p>
    <text:p>Fotnote her<text:note><text:note-body><text:p>Skjult notetekst</text:p>\
</text:note-body></text:note>.</text:p>
    <table:table><table:table-row><table:table-cell>
      <text:p>Blodsykdommer: enig</text:p>
    </table:table-cell></table:table-row></table:table>
  </office:text></office:body>
</office:document-content>
"""


def test_docx_paragraphs_and_table_cells_in_document_order() -> None:
    result = extract_text("Høringssvar.docx", DOCX_TYPE, build_docx())
    assert result.unreadable_reason is None
    assert result.text is not None
    lines = result.text.splitlines()
    assert lines[0] == "Høringssvar fra Helse Vest RHF"
    assert "Vi støtter forslaget om læringsmål om kliniske studier." in lines
    assert "Spesialitet | Merknad" in lines  # the merged cell appears once
    assert "Blodsykdommer | Ingen | Gjelder også HJS-xxx" in lines
    assert lines[-1] == "Med vennlig hilsen – Åse Ødegård"
    assert lines.index("Spesialitet | Merknad") < lines.index(lines[-1])


def test_docx_is_recognised_by_content_type_when_the_name_has_no_extension() -> None:
    result = extract_text("vedlegg", DOCX_TYPE, build_docx())
    assert result.text is not None and "Vi støtter forslaget" in result.text


@pytest.mark.parametrize(
    "payload",
    [b"PK\x03\x04 truncated zip", b"this is not a word document", b""],
    ids=["truncated-zip", "text", "empty"],
)
def test_a_corrupt_docx_is_reported_not_raised(payload: bytes) -> None:
    result = extract_text("Høringssvar.docx", DOCX_TYPE, payload)
    assert result.text is None
    assert result.unreadable_reason is not None
    assert result.unreadable_reason.startswith("corrupt: ")
    assert "\n" not in result.unreadable_reason


def test_a_zip_without_word_content_named_docx_is_corrupt() -> None:
    result = extract_text("svar.docx", DOCX_TYPE, build_odt(ODT_CONTENT))
    assert result.text is None
    assert result.unreadable_reason is not None and result.unreadable_reason.startswith("corrupt")


def test_pdf_text_with_norwegian_letters() -> None:
    result = extract_text("Høringssvar.pdf", "application/pdf", build_pdf(PDF_LINES))
    assert result.unreadable_reason is None
    assert result.text is not None
    assert "Vi støtter forslaget – læringsmål" in result.text
    assert "Helse Vest RHF" in result.text


def test_pdf_is_recognised_by_its_signature_when_sent_as_octet_stream() -> None:
    result = extract_text("svar", "application/octet-stream", build_pdf(PDF_LINES))
    assert result.text is not None and "Helse Vest RHF" in result.text


def test_pdf_with_a_user_password_is_encrypted() -> None:
    result = extract_text(
        "svar.pdf", "application/pdf", encrypted(build_pdf(PDF_LINES), "hemmelig")
    )
    assert result == ExtractedText(None, "encrypted")


def test_pdf_encrypted_only_against_editing_is_read() -> None:
    result = extract_text("svar.pdf", "application/pdf", encrypted(build_pdf(PDF_LINES), ""))
    assert result.text is not None and "Helse Vest RHF" in result.text


def test_pdf_without_text_is_reported_as_having_no_text_layer() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    result = extract_text("skannet.pdf", "application/pdf", buffer.getvalue())
    assert result.text is None
    assert result.unreadable_reason is not None and "no text layer" in result.unreadable_reason


def test_a_corrupt_pdf_is_reported_not_raised() -> None:
    result = extract_text("svar.pdf", "application/pdf", b"%PDF-1.4\n1 0 obj\n<< /Broken")
    assert result.text is None
    assert result.unreadable_reason is not None and result.unreadable_reason.startswith("corrupt: ")


def test_odt_headings_paragraphs_spaces_tabs_and_table_cells_without_notes() -> None:
    result = extract_text("Høringssvar.odt", ODT_TYPE, build_odt(ODT_CONTENT))
    assert result.unreadable_reason is None
    assert result.text == (
        "Høringssvar – sak 24/750\n"
        "Vi støtter forslaget.   Punkt\tto\nNy linje\n"
        "Fotnote her.\n"
        "Blodsykdommer: enig"
    )


def test_odt_without_content_is_corrupt() -> None:
    result = extract_text("svar.odt", ODT_TYPE, build_odt(None))
    assert result == ExtractedText(None, "corrupt: no content.xml in the ODT file")


def test_odt_with_broken_xml_is_corrupt() -> None:
    result = extract_text("svar.odt", ODT_TYPE, build_odt("<office:document-content"))
    assert result.text is None
    assert result.unreadable_reason is not None and result.unreadable_reason.startswith("corrupt: ")


def test_a_zip_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachment_text, "MAX_UNPACKED_BYTES", 100)
    result = extract_text("svar.odt", ODT_TYPE, build_odt(ODT_CONTENT))
    assert result.text is None
    assert result.unreadable_reason is not None
    assert result.unreadable_reason.startswith("too heavy to read: unpacks to ")
    assert result.unreadable_reason.endswith("bytes (limit 100 bytes)")


def test_a_part_that_unpacks_over_its_cap_is_refused_before_reading(monkeypatch) -> None:
    monkeypatch.setattr(attachment_text, "MAX_PART_BYTES", 50)
    result = extract_text("svar.docx", DOCX_TYPE, build_docx())
    assert result.text is None
    assert result.unreadable_reason is not None
    assert result.unreadable_reason.startswith("too heavy to read: word/document.xml unpacks to")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("Vi støtter forslaget – hilsen Åse".encode(), "Vi støtter forslaget – hilsen Åse"),
        ("Vi støtter forslaget – hilsen Åse".encode("cp1252"), "Vi støtter forslaget – hilsen Åse"),
        ("\ufeffSvar fra Sørlandet".encode(), "Svar fra Sørlandet"),
        ("Svar fra Sørlandet".encode("utf-16"), "Svar fra Sørlandet"),
        (b"Linje 1\r\nLinje 2\r\n", "Linje 1\nLinje 2"),
    ],
    ids=["utf-8", "cp1252", "utf-8-bom", "utf-16", "crlf"],
)
def test_txt_charsets(payload: bytes, expected: str) -> None:
    assert extract_text("svar.txt", "text/plain", payload) == ExtractedText(expected)


def test_txt_with_binary_content_is_corrupt() -> None:
    result = extract_text("svar.txt", "text/plain", b"\x00\x01\x02\xff binary")
    assert result == ExtractedText(None, "corrupt: binary data in a text file")


def test_html_keeps_norwegian_letters_from_entities_and_bytes() -> None:
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Vi st&oslash;tter forslaget &ndash; l&aelig;ringsm&aring;l &#230;.</p>"
        "<p>Hilsen Åse</p></body></html>"
    )
    result = extract_text("svar.html", "text/html", html.encode("utf-8"))
    assert result.text == "Vi støtter forslaget – læringsmål æ.\n\nHilsen Åse"


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("bilde.png", "image/png"), ("svar.doc", "application/msword"), ("", "")],
)
def test_unknown_types_are_unsupported(filename: str, content_type: str) -> None:
    result = extract_text(filename, content_type, b"\x89PNG\r\n\x1a\n....")
    assert result == ExtractedText(None, "unsupported type")


def test_the_extension_wins_over_a_generic_content_type() -> None:
    result = extract_text("SVAR.TXT", "application/octet-stream", "Høringssvar".encode())
    assert result == ExtractedText("Høringssvar")
