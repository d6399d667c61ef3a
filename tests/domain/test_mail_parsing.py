"""Parsing e-mails into response candidates: encodings, structure, limits, times."""

from __future__ import annotations

import base64
import random
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from domain.calendar import OSLO
from domain.email_intake import (
    MailLimits,
    ParsedMessage,
    Quarantine,
    attachment_sha256,
    dedupe_key,
    is_late,
    parse_message,
    received_time,
    safe_attachment_name,
)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCX_BYTES = b"PK\x03\x04 pretend docx \x00\x01\x02 \xff"
SUBJECT = "Høring – læringsmål om kliniske studier, sak 24/750"


def parsed(raw: bytes, limits: MailLimits | None = None) -> ParsedMessage:
    result = parse_message(raw, limits or MailLimits())
    assert isinstance(result, ParsedMessage), result
    return result


def quarantined(raw: bytes, limits: MailLimits | None = None) -> Quarantine:
    result = parse_message(raw, limits or MailLimits())
    assert isinstance(result, Quarantine), result
    return result


def crlf(text: bytes) -> bytes:
    return text.replace(b"\n", b"\r\n")


def response_from_helse_vest() -> EmailMessage:
    """A typical response: text + HTML alternative, and the answer as a .docx."""
    message = EmailMessage()
    message["From"] = '"Åse Ødegård, Helse Vest RHF" <Ase.Odegard@Helse-Vest.no>'
    message["To"] = "Postmottak Helsedirektoratet <postmottak@helsedir.no>"
    message["Cc"] = "fagdirektor@helse-vest.no, Kari Nordmann <kari@helse-vest.no>"
    message["Subject"] = f"SV: {SUBJECT}"
    message["Date"] = "Thu, 30 May 2024 14:05:00 +0200"
    message["Message-ID"] = "<CAF=abc123@mail.helse-vest.no>"
    message.set_content("Hei,\n\nVi støtter forslaget. Se vedlagt høringssvar.\n\nHilsen Åse")
    message.add_alternative(
        "<p>Hei,</p><p>Vi st&oslash;tter forslaget. Se vedlagt h&oslash;ringssvar.</p>",
        subtype="html",
    )
    message.add_attachment(
        DOCX_BYTES,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="Høringssvar Helse Vest.docx",
    )
    return message


# --- the ordinary case -------------------------------------------------------------


def test_a_typical_response_is_read_completely() -> None:
    message = response_from_helse_vest()
    structure = [part.get_content_type() for part in message.walk()]
    assert structure == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        DOCX_TYPE,
    ]
    result = parsed(message.as_bytes(policy=SMTP))
    assert result.subject == f"SV: {SUBJECT}"
    assert result.from_name == "Åse Ødegård, Helse Vest RHF"
    assert result.from_address == "ase.odegard@helse-vest.no"
    assert result.to_addresses == ("postmottak@helsedir.no",)
    assert result.cc_addresses == ("fagdirektor@helse-vest.no", "kari@helse-vest.no")
    assert result.message_id == "<CAF=abc123@mail.helse-vest.no>"
    assert result.date == datetime(2024, 5, 30, 12, 5, tzinfo=UTC)
    assert result.body_text == "Hei,\n\nVi støtter forslaget. Se vedlagt høringssvar.\n\nHilsen Åse"
    assert len(result.attachments) == 1
    attachment = result.attachments[0]
    assert attachment.filename == "Høringssvar Helse Vest.docx"
    assert attachment.safe_name == "Høringssvar Helse Vest.docx"
    assert attachment.content_type == DOCX_TYPE
    assert attachment.payload == DOCX_BYTES
    assert attachment.size == len(DOCX_BYTES)
    assert attachment.sha256 == attachment_sha256(DOCX_BYTES)
    assert attachment.unreadable_reason is None
    assert result.forwarded == ()
    assert result.warnings == ()


# --- header encodings ----------------------------------------------------------------

ENCODED_HEADERS = crlf(
    b"From: =?iso-8859-1?b?SGVsc2UgVmVzdCBSSEYgLSBG+HJzdGUgbGluamU=?= <POST@helse-vest.no>\n"
    b"To: postmottak@helsedir.no\n"
    b"Subject: =?utf-8?q?H=C3=B8ring_=E2=80=93_l=C3=A6ringsm=C3=A5l_om?=\n"
    b" =?utf-8?q?_kliniske_studier=2C_sak_24/750?=\n"
    b"Date: Fri, 31 May 2024 10:00:00 +0200\n"
    b"Message-ID: <1@helse-vest.no>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"\n"
    b"Vi st\xc3\xb8tter forslaget.\n"
)


def test_rfc2047_subject_and_sender_name_in_utf8_and_latin1() -> None:
    result = parsed(ENCODED_HEADERS)
    assert result.subject == SUBJECT
    assert result.from_name == "Helse Vest RHF - Første linje"
    assert result.from_address == "post@helse-vest.no"
    assert result.body_text == "Vi støtter forslaget."


def test_raw_8bit_headers_in_utf8_and_latin1_are_decoded() -> None:
    utf8 = parsed(
        b"From: \xc3\x85se \xc3\x98deg\xc3\xa5rd <ase@helse-vest.no>\n"
        b"Subject: H\xc3\xb8ringssvar sak 24/750\n\nTekst\n"
    )
    assert (utf8.from_name, utf8.subject) == ("Åse Ødegård", "Høringssvar sak 24/750")
    latin1 = parsed(
        b"From: \xc5se \xd8deg\xe5rd <ase@helse-vest.no>\n"
        b"Subject: H\xf8ringssvar sak 24/750\n\nTekst\n"
    )
    assert (latin1.from_name, latin1.subject) == ("Åse Ødegård", "Høringssvar sak 24/750")


def test_rfc2047_with_an_unknown_charset_in_a_broken_header_is_still_read() -> None:
    raw = b"From: =?x-unknown?q?Helse?= <post@helse-nord.no>, <\nSubject: Svar\n\nTekst\n"
    result = parsed(raw)
    assert result.from_address == "post@helse-nord.no"
    assert any("header From" in warning for warning in result.warnings)


# --- body encodings ------------------------------------------------------------------


def body_message(charset: str, encoding: str, body: bytes) -> bytes:
    return (
        b"From: post@helse-sor-ost.no\nSubject: Svar\n"
        + f"Content-Type: text/plain; charset={charset}\n".encode()
        + f"Content-Transfer-Encoding: {encoding}\n\n".encode()
        + body
    )


BODY = "Vi støtter forslaget – Ærlig talt, å være enig er lett."


@pytest.mark.parametrize(
    ("charset", "encoding", "body"),
    [
        ("utf-8", "8bit", BODY.encode("utf-8")),
        ("utf-8", "base64", base64.encodebytes(BODY.encode("utf-8"))),
        (
            "utf-8",
            "quoted-printable",
            b"Vi st=C3=B8tter forslaget =E2=80=93 =C3=86rlig talt, =C3=A5 v=C3=A6re en=\n"
            b"ig er lett.",
        ),
        ("windows-1252", "8bit", BODY.encode("cp1252")),
        (
            "windows-1252",
            "quoted-printable",
            b"Vi st=F8tter forslaget =96 =C6rlig talt, =E5 v=E6re enig er lett.",
        ),
        # Outlook declares iso-8859-1 but writes the Windows-1252 dash 0x96
        ("iso-8859-1", "8bit", BODY.encode("cp1252")),
        ('"ISO-8859-1"', "base64", base64.encodebytes(BODY.encode("cp1252"))),
        # a wrong label: says us-ascii, holds UTF-8
        ("us-ascii", "8bit", BODY.encode("utf-8")),
    ],
    ids=["utf8-8bit", "utf8-b64", "utf8-qp", "cp1252", "cp1252-qp", "latin1", "latin1-b64", "lie"],
)
def test_body_charsets_and_transfer_encodings(charset: str, encoding: str, body: bytes) -> None:
    assert parsed(body_message(charset, encoding, body)).body_text == BODY


def test_an_unknown_charset_falls_back_with_a_warning() -> None:
    result = parsed(body_message("x-mac-nordic", "8bit", BODY.encode("cp1252")))
    assert result.body_text == BODY
    assert any("unknown charset 'x-mac-nordic'" in warning for warning in result.warnings)


def test_bytes_invalid_in_the_declared_charset_fall_back_with_a_warning() -> None:
    result = parsed(body_message("utf-8", "8bit", BODY.encode("cp1252")))
    assert result.body_text == BODY
    assert any("not valid utf-8" in warning for warning in result.warnings)


def test_an_html_only_body_becomes_text_with_norwegian_letters() -> None:
    raw = (
        b"From: post@helse-midt.no\nSubject: Svar\n"
        b"Content-Type: text/html; charset=iso-8859-1\n\n"
        b"<html><head><style>p{margin:0}</style></head><body>"
        b"<p>Vi st\xf8tter forslaget &ndash; l&aelig;ringsm&aring;l om <b>kliniske</b> studier.</p>"
        b"<p>&Aring;se &Oslash;deg&aring;rd<br>Helse Midt-Norge RHF</p></body></html>"
    )
    assert parsed(raw).body_text == (
        "Vi støtter forslaget – læringsmål om kliniske studier.\n\n"
        "Åse Ødegård\nHelse Midt-Norge RHF"
    )


def test_an_empty_plain_alternative_gives_way_to_the_html() -> None:
    message = EmailMessage()
    message["From"] = "post@helse-nord.no"
    message["Subject"] = "Svar"
    message.set_content("\n")
    message.add_alternative("<p>Vi har ingen merknader til høringen.</p>", subtype="html")
    assert parsed(message.as_bytes()).body_text == "Vi har ingen merknader til høringen."


def test_several_inline_text_parts_are_joined_and_text_attachments_stay_attachments() -> None:
    message = EmailMessage()
    message["From"] = "post@legeforeningen.no"
    message["Subject"] = "Svar"
    message.set_content("Første del av svaret.")
    message.add_attachment("Merknad i vedlagt fil.", filename="merknad.txt")
    message.add_attachment("Andre del av svaret.", disposition="inline")
    result = parsed(message.as_bytes())
    assert result.body_text == "Første del av svaret.\n\nAndre del av svaret."
    assert [a.filename for a in result.attachments] == ["merknad.txt"]
    assert result.attachments[0].payload.decode() == "Merknad i vedlagt fil.\n"


# --- attachment names ------------------------------------------------------------------


def attachment_message(headers: bytes, payload: bytes = b"data") -> bytes:
    """A message with an attachment part; `headers` without Content-Type get octet-stream."""
    if b"Content-Type" not in headers:
        headers = b"Content-Type: application/octet-stream\n" + headers
    return (
        b"From: post@helse-vest.no\nSubject: Svar\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\n\n'
        b"--XYZ\nContent-Type: text/plain; charset=utf-8\n\nSe vedlegg.\n"
        b"--XYZ\n"
        + headers
        + b"\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(payload)
        + b"--XYZ--\n"
    )


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Disposition: attachment; filename*=utf-8''H%C3%B8ringssvar.docx",
        b"Content-Disposition: attachment; filename*=iso-8859-1''H%F8ringssvar.docx",
        b"Content-Disposition: attachment;\n filename*0*=utf-8''H%C3%B8rings;\n"
        b" filename*1=svar.docx",
        b'Content-Disposition: attachment; filename="=?utf-8?b?SMO4cmluZ3NzdmFyLmRvY3g=?="',
        b'Content-Disposition: attachment; filename="=?iso-8859-1?q?H=F8ringssvar=2Edocx?="',
        b'Content-Disposition: attachment; filename="H\xc3\xb8ringssvar.docx"',
        b'Content-Disposition: attachment; filename="H\xf8ringssvar.docx"',
        b"Content-Disposition: attachment\n"
        b'Content-Type: application/octet-stream; name="H\xf8ringssvar.docx"',
    ],
    ids=[
        "rfc2231",
        "rfc2231-latin1",
        "rfc2231-split",
        "rfc2047-b",
        "rfc2047-q",
        "raw-utf8",
        "raw-latin1",
        "name",
    ],
)
def test_attachment_names_in_every_encoding(header: bytes) -> None:
    result = parsed(attachment_message(header))
    assert [a.filename for a in result.attachments] == ["Høringssvar.docx"]
    assert result.attachments[0].safe_name == "Høringssvar.docx"
    assert result.attachments[0].payload == b"data"


@pytest.mark.parametrize(
    ("header", "safe"),
    [
        (b'Content-Disposition: attachment; filename="../../etc/passwd"', "passwd"),
        (
            b'Content-Disposition: attachment; filename="..\\\\..\\\\H\xc3\xb8ringssvar.docx"',
            "Høringssvar.docx",
        ),
        (b'Content-Disposition: attachment; filename=".."', "vedlegg-1.bin"),
        (b"Content-Disposition: attachment", "vedlegg-1.bin"),
    ],
    ids=["unix", "windows", "dots", "no-name"],
)
def test_attachment_names_cannot_escape_the_store(header: bytes, safe: str) -> None:
    result = parsed(attachment_message(header))
    assert result.attachments[0].safe_name == safe.replace(".bin", "")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Høringssvar.docx", "Høringssvar.docx"),
        ("../../x.docx", "x.docx"),
        ("C:\\Users\\åse\\Svar fra Ålesund.pdf", "Svar fra Ålesund.pdf"),
        ("svar\x00\x07\n.docx", "svar.docx"),
        ("faktura\u202excod.exe", "fakturaxcod.exe"),
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("  .skjult.docx  ", "skjult.docx"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
        (".docx", "vedlegg-3.docx"),
        ("", "vedlegg-3"),
        (None, "vedlegg-3"),
        ("../", "vedlegg-3"),
        ("svar  med\tmange   mellomrom.odt", "svar med mange mellomrom.odt"),
    ],
)
def test_safe_attachment_name(name: str | None, expected: str) -> None:
    assert safe_attachment_name(name, 3) == expected


def test_safe_attachment_name_guesses_the_extension_of_a_nameless_part() -> None:
    assert safe_attachment_name(None, 2, "application/pdf") == "vedlegg-2.pdf"
    assert safe_attachment_name("svar", 2, "application/pdf") == "svar"


def test_safe_attachment_name_shortens_long_names_but_keeps_the_extension() -> None:
    name = safe_attachment_name("æ" * 300 + ".docx", 1)
    assert name.endswith("æ.docx")
    assert len(name.encode("utf-8")) <= 200


# --- forwarded messages ------------------------------------------------------------------


def forwarded_response() -> bytes:
    original = response_from_helse_vest()
    inner = EmailMessage()
    inner["From"] = "Sekretariatet <sekretariat@helse-vest.no>"
    inner["Subject"] = "VS: Høringssvar"
    inner.set_content("Videresender svaret fra fagdirektøren.")
    inner.add_attachment(original)
    outer = EmailMessage()
    outer["From"] = "Postmottak <postmottak@helsedir.no>"
    outer["To"] = "saksbehandler@helsedir.no"
    outer["Subject"] = "VS: VS: Høringssvar"
    outer["Message-ID"] = "<fwd@helsedir.no>"
    outer.set_content("Til behandling, sak 24/750.")
    outer.add_attachment(inner)
    outer.add_attachment(
        b"%PDF-1.4 kvittering", maintype="application", subtype="pdf", filename="kvittering.pdf"
    )
    return outer.as_bytes()


def test_forwarded_messages_keep_their_sender_subject_body_and_attachments() -> None:
    result = parsed(forwarded_response())
    assert result.body_text == "Til behandling, sak 24/750."
    assert [a.filename for a in result.attachments] == ["kvittering.pdf"]
    assert [(f.from_address, f.subject) for f in result.forwarded] == [
        ("sekretariat@helse-vest.no", "VS: Høringssvar"),
        ("ase.odegard@helse-vest.no", f"SV: {SUBJECT}"),
    ]
    original = result.forwarded[1]
    assert original.from_name == "Åse Ødegård, Helse Vest RHF"
    assert original.body_text.startswith("Hei,\n\nVi støtter forslaget.")
    assert original.date == datetime(2024, 5, 30, 12, 5, tzinfo=UTC)
    assert [a.payload for a in original.attachments] == [DOCX_BYTES]
    assert result.forwarded[0].attachments == ()
    assert [a.filename for a in result.all_attachments] == [
        "kvittering.pdf",
        "Høringssvar Helse Vest.docx",
    ]


def test_combined_text_introduces_each_forwarded_message() -> None:
    text = parsed(forwarded_response()).combined_text
    assert text.startswith("Til behandling, sak 24/750.")
    assert "Fra: Sekretariatet <sekretariat@helse-vest.no>\nEmne: VS: Høringssvar" in text
    assert text.count("---------- Videresendt melding ----------") == 2
    assert text.index("Videresender svaret") < text.index("Vi støtter forslaget")


def test_attachment_names_are_numbered_across_forwarded_messages() -> None:
    message = EmailMessage()
    message["From"] = "a@b.no"
    message.set_content("x")
    message.add_attachment(b"1", maintype="application", subtype="octet-stream")
    message.add_attachment(b"2", maintype="application", subtype="pdf")
    names = [a.safe_name for a in parsed(message.as_bytes()).attachments]
    assert names == ["vedlegg-1", "vedlegg-2.pdf"]


# --- odd headers -------------------------------------------------------------------------


def test_no_message_id_and_an_empty_one_are_none() -> None:
    assert parsed(b"From: a@helse-vest.no\nSubject: x\n\nTekst\n").message_id is None
    assert parsed(b"From: a@helse-vest.no\nMessage-ID: <>\n\nTekst\n").message_id is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Message-ID: <ABC.123@Mail.Example.no>", "<ABC.123@Mail.Example.no>"),
        (b"Message-ID:\n   <abc@example.no>  ", "<abc@example.no>"),
        (b"Message-ID: (Outlook) <abc@example.no>", "<abc@example.no>"),
        (b"Message-ID: abc@example.no", "<abc@example.no>"),
        (b"Message-ID: <@>", "<@>"),
    ],
)
def test_message_ids_are_normalised(header: bytes, expected: str) -> None:
    assert parsed(b"From: a@b.no\n" + header + b"\n\nTekst\n").message_id == expected


def test_a_malformed_date_is_none_with_a_warning() -> None:
    result = parsed(b"From: a@helse-vest.no\nDate: fredag 31. mai 2024 kl 10\n\nTekst\n")
    assert result.date is None
    assert any("Date" in warning for warning in result.warnings)


def test_a_date_without_zone_is_taken_as_utc() -> None:
    result = parsed(b"From: a@helse-vest.no\nDate: Fri, 31 May 2024 10:00:00 -0000\n\nTekst\n")
    assert result.date == datetime(2024, 5, 31, 10, 0, tzinfo=UTC)


def test_headers_that_policy_default_chokes_on_are_read_the_compat32_way() -> None:
    raw = crlf(
        b"From: Helse Vest RHF <post@helse-vest.no>, <\n"
        b"To: postmottak@helsedir.no, <\n"
        b"Message-ID: <@>\n"
        b"Subject: Svar sak 24/750\n\nVi st\xc3\xb8tter forslaget.\n"
    )
    result = parsed(raw)
    assert (result.from_name, result.from_address) == ("Helse Vest RHF", "post@helse-vest.no")
    assert result.to_addresses == ("postmottak@helsedir.no",)
    assert result.message_id == "<@>"
    assert result.body_text == "Vi støtter forslaget."
    assert any("header From not parsable (IndexError)" in warning for warning in result.warnings)


def test_a_mbox_from_line_before_the_headers_is_ignored() -> None:
    raw = (
        b"From MAILER-DAEMON Fri May 31 10:00:00 2024\n"
        b"From: a@helse-vest.no\nSubject: Svar\n\nTekst\n"
    )
    result = parsed(raw)
    assert (result.from_address, result.subject, result.body_text) == (
        "a@helse-vest.no",
        "Svar",
        "Tekst",
    )


def test_a_broken_multipart_is_noted_and_still_yields_text() -> None:
    raw = (
        b'From: a@helse-vest.no\nContent-Type: multipart/mixed; boundary="nope"\n\n'
        b"Vi st\xc3\xb8tter.\n"
    )
    result = parsed(raw)
    assert any("StartBoundaryNotFoundDefect" in warning for warning in result.warnings)
    assert result.attachments == ()
    assert result.body_text == "Vi støtter."


# --- quarantine and limits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"\r\n \r\n", "empty message"),
        (bytes(range(256)) * 4, "binary data"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"Dette er bare tekst uten noen hoder.\nAndre linje.\n", "no From, To, Subject"),
        (b"X-Custom: 1\n\nTekst\n", "no From, To, Subject"),
    ],
    ids=["empty", "blank", "bytes", "png", "plain-text", "no-known-header"],
)
def test_what_is_not_an_email_is_quarantined(raw: bytes, reason: str) -> None:
    assert reason in quarantined(raw).reason


def test_a_message_over_the_total_size_limit_is_quarantined() -> None:
    raw = response_from_helse_vest().as_bytes()
    result = quarantined(raw, MailLimits(max_total_bytes=len(raw) - 1))
    assert "max_total_bytes" in result.reason
    assert str(len(raw)) in result.reason
    assert isinstance(parse_message(raw, MailLimits(max_total_bytes=len(raw))), ParsedMessage)


def nested(levels: int) -> bytes:
    """A message whose text sits `levels` multiparts deep."""
    head = b"From: a@helse-vest.no\nSubject: Dypt\n"
    body = b"Content-Type: text/plain\n\nBunnen.\n"
    for level in reversed(range(levels)):
        boundary = f"b{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\n\n--'
            + boundary
            + b"\n"
            + body
            + b"--"
            + boundary
            + b"--\n"
        )
    return head + body


def test_nesting_up_to_the_limit_is_read_and_deeper_is_quarantined() -> None:
    limits = MailLimits(max_depth=10)
    assert parsed(nested(10), limits).body_text == "Bunnen."
    assert "max_depth" in quarantined(nested(11), limits).reason


def test_absurd_nesting_is_quarantined_without_crashing() -> None:
    result = quarantined(nested(150))
    assert "nested" in result.reason


def test_too_many_attachments_quarantine_the_message() -> None:
    message = EmailMessage()
    message["From"] = "a@helse-vest.no"
    message.set_content("Mange vedlegg")
    for number in range(4):
        message.add_attachment(
            f"{number}".encode(), maintype="application", subtype="pdf", filename=f"{number}.pdf"
        )
    assert (
        "max_attachments" in quarantined(message.as_bytes(), MailLimits(max_attachments=3)).reason
    )
    assert len(parsed(message.as_bytes(), MailLimits(max_attachments=4)).attachments) == 4


def test_an_attachment_over_its_limit_is_kept_but_flagged() -> None:
    message = EmailMessage()
    message["From"] = "a@helse-vest.no"
    message.set_content("Stort vedlegg")
    message.add_attachment(b"x" * 101, maintype="application", subtype="pdf", filename="stor.pdf")
    message.add_attachment(b"x" * 100, maintype="application", subtype="pdf", filename="liten.pdf")
    result = parsed(message.as_bytes(), MailLimits(max_attachment_bytes=100))
    assert [(a.safe_name, a.size, a.unreadable_reason) for a in result.attachments] == [
        ("stor.pdf", 101, "too large"),
        ("liten.pdf", 100, None),
    ]
    assert result.attachments[0].payload == b"x" * 101


# --- duplicates ---------------------------------------------------------------------------


def simple(sender: str, body: str, attachments: list[bytes], message_id: str = "<1@x>") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["Message-ID"] = message_id
    message["Date"] = "Fri, 31 May 2024 10:00:00 +0200"
    message.set_content(body)
    for number, payload in enumerate(attachments):
        message.add_attachment(
            payload, maintype="application", subtype="pdf", filename=f"{number}.pdf"
        )
    return message.as_bytes()


def test_dedupe_key_ignores_message_id_whitespace_and_attachment_order() -> None:
    first = parsed(
        simple("Helse Vest <POST@helse-vest.no>", "Vi støtter\nforslaget.", [b"a", b"b"])
    )
    again = parsed(simple("post@helse-vest.no", "Vi støtter  forslaget.\n", [b"b", b"a"], "<2@x>"))
    assert dedupe_key(first) == dedupe_key(again)


@pytest.mark.parametrize(
    "other",
    [
        simple("post@helse-nord.no", "Vi støtter forslaget.", [b"a", b"b"]),
        simple("post@helse-vest.no", "Vi støtter ikke forslaget.", [b"a", b"b"]),
        simple("post@helse-vest.no", "Vi støtter forslaget.", [b"a", b"c"]),
        simple("post@helse-vest.no", "Vi støtter forslaget.", [b"a"]),
    ],
    ids=["sender", "body", "attachment", "fewer-attachments"],
)
def test_dedupe_key_differs_when_sender_text_or_attachments_differ(other: bytes) -> None:
    base = parsed(simple("post@helse-vest.no", "Vi støtter forslaget.", [b"a", b"b"]))
    assert dedupe_key(base) != dedupe_key(parsed(other))


def test_dedupe_key_counts_forwarded_content() -> None:
    plain = parsed(b"From: postmottak@helsedir.no\nSubject: x\n\nTil behandling, sak 24/750.\n")
    assert dedupe_key(plain) != dedupe_key(parsed(forwarded_response()))


# --- received time and lateness -----------------------------------------------------------

RECEIVED_CHAIN = crlf(
    b"Received: from mx1.helsedir.no by imap.helsedir.no with LMTP;\n"
    b"        Fri, 31 May 2024 22:10:05 +0000\n"
    b"Received: from mail.helse-vest.no (mail.helse-vest.no [10.1.2.3])\n"
    b"        by mx1.helsedir.no with ESMTPS id 4Vr;\n"
    b"        Sat, 01 Jun 2024 00:10:02 +0200 (CEST)\n"
    b"Received: from [10.0.0.5] by mail.helse-vest.no; Fri, 31 May 2024 23:59:58 +0200\n"
    b"From: post@helse-vest.no\n"
    b"Date: Fri, 31 May 2024 23:59:00 +0200\n"
    b"Subject: Svar sak 24/750\n\nVi st\xc3\xb8tter forslaget.\n"
)
IMPORT = datetime(2024, 6, 3, 8, 0, tzinfo=OSLO)


def test_received_headers_are_parsed_newest_first() -> None:
    assert parsed(RECEIVED_CHAIN).received_times == (
        datetime(2024, 5, 31, 22, 10, 5, tzinfo=UTC),
        datetime(2024, 5, 31, 22, 10, 2, tzinfo=UTC),
        datetime(2024, 5, 31, 21, 59, 58, tzinfo=UTC),
    )


def test_received_time_is_the_newest_received_header() -> None:
    moment, source = received_time(parsed(RECEIVED_CHAIN), IMPORT)
    assert (moment, source) == (datetime(2024, 5, 31, 22, 10, 5, tzinfo=UTC), "received")
    assert is_late(moment, date(2024, 5, 31))  # 00:10 on 1 June in Oslo


def test_received_headers_in_the_future_or_from_1970_are_not_trusted() -> None:
    raw = (
        b"Received: by mx.helsedir.no; Mon, 1 Jan 2035 00:00:00 +0000\n"
        b"Received: by relay.example.no; Thu, 1 Jan 1970 00:00:00 +0000\n"
        b"Received: by mail.helse-vest.no; Fri, 31 May 2024 21:00:00 +0000\n"
        b"Received: by broken.example.no; not a date\n"
        b"From: post@helse-vest.no\n\nTekst\n"
    )
    result = parsed(raw)
    assert len(result.received_times) == 3
    assert any("Received header without a readable date" in w for w in result.warnings)
    assert received_time(result, IMPORT) == (datetime(2024, 5, 31, 21, 0, tzinfo=UTC), "received")


def test_without_trusted_received_headers_the_date_header_is_used() -> None:
    raw = b"From: post@helse-vest.no\nDate: Fri, 31 May 2024 23:59:00 +0200\n\nTekst\n"
    moment, source = received_time(parsed(raw), IMPORT)
    assert (moment, source) == (datetime(2024, 5, 31, 21, 59, tzinfo=UTC), "date")
    assert not is_late(moment, date(2024, 5, 31))


@pytest.mark.parametrize(
    "date_header",
    [b"", b"Date: Mon, 1 Jan 2035 00:00:00 +0000\n", b"Date: i morgen\n"],
    ids=["missing", "future", "garbage"],
)
def test_without_a_trusted_date_the_import_time_is_used(date_header: bytes) -> None:
    result = parsed(b"From: post@helse-vest.no\n" + date_header + b"\nTekst\n")
    assert received_time(result, IMPORT) == (IMPORT, "import")


def test_received_time_needs_an_aware_import_time() -> None:
    with pytest.raises(ValueError):
        received_time(parsed(RECEIVED_CHAIN), datetime(2024, 6, 3, 8, 0))


def test_received_time_age_limit_is_a_parameter() -> None:
    result = parsed(RECEIVED_CHAIN)
    moment, source = received_time(result, IMPORT, max_age=timedelta(days=1))
    assert source == "import" and moment == IMPORT


@pytest.mark.parametrize(
    ("received", "deadline", "late"),
    [
        # summer time (CEST, UTC+2): the day ends at 22:00 UTC
        ("Fri, 31 May 2024 21:59:00 +0000", date(2024, 5, 31), False),
        ("Fri, 31 May 2024 21:59:59 +0000", date(2024, 5, 31), False),
        ("Fri, 31 May 2024 22:00:00 +0000", date(2024, 5, 31), True),
        ("Fri, 31 May 2024 22:10:00 +0000", date(2024, 5, 31), True),
        ("Fri, 31 May 2024 23:59:59 +0200", date(2024, 5, 31), False),
        ("Sat, 01 Jun 2024 00:00:00 +0200", date(2024, 5, 31), True),
        ("Thu, 30 May 2024 12:00:00 +0200", date(2024, 5, 31), False),
        # winter time (CET, UTC+1): the day ends at 23:00 UTC
        ("Wed, 15 Jan 2025 22:59:59 +0000", date(2025, 1, 15), False),
        ("Wed, 15 Jan 2025 23:00:00 +0000", date(2025, 1, 15), True),
        ("Thu, 16 Jan 2025 00:30:00 +0100", date(2025, 1, 15), True),
        # the night summer time starts (31 March 2024): midnight is still 23:00 UTC the day before
        ("Sat, 30 Mar 2024 22:59:00 +0000", date(2024, 3, 30), False),
        ("Sat, 30 Mar 2024 23:00:00 +0000", date(2024, 3, 30), True),
        # the night it ends (27 October 2024)
        ("Sun, 27 Oct 2024 22:59:00 +0000", date(2024, 10, 27), False),
        ("Sun, 27 Oct 2024 23:00:00 +0000", date(2024, 10, 27), True),
    ],
)
def test_late_is_after_the_end_of_the_deadline_day_in_oslo(
    received: str, deadline: date, late: bool
) -> None:
    raw = b"From: post@helse-vest.no\nDate: " + received.encode() + b"\n\nTekst\n"
    moment = parsed(raw).date
    assert moment is not None
    assert is_late(moment, deadline) is late


def test_is_late_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError):
        is_late(datetime(2024, 5, 31, 23, 0), date(2024, 5, 31))


# --- robustness -----------------------------------------------------------------------------

FUZZ_TOKENS = [
    b"<",
    b">",
    b'"',
    b"=?utf-8?q?",
    b"?=",
    b"\n",
    b";",
    b"\x00",
    b"\xff",
    b"--",
    b"*=",
    b"\n\n",
]


def mutations(seed: bytes, count: int, rng: random.Random) -> list[bytes]:
    """`count` copies of `seed`, each with a few bytes inserted, deleted or overwritten."""
    out = []
    for _ in range(count):
        raw = bytearray(seed)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(raw))
            choice = rng.random()
            if choice < 0.4:
                raw[position:position] = rng.choice(FUZZ_TOKENS)
            elif choice < 0.7:
                del raw[position : position + rng.randint(1, 5)]
            else:
                raw[position] = rng.randrange(256)
        out.append(bytes(raw))
    return out


def test_mangled_messages_never_raise_and_never_yield_unsafe_names() -> None:
    rng = random.Random(750)
    seeds = [forwarded_response(), ENCODED_HEADERS, RECEIVED_CHAIN]
    seeds.append(attachment_message(b'Content-Disposition: attachment; filename="../../x.docx"'))
    for raw in (m for seed in seeds for m in mutations(seed, 40, rng)):
        result = parse_message(raw, MailLimits())
        assert isinstance(result, ParsedMessage | Quarantine)
        if isinstance(result, Quarantine):
            assert result.reason and "\n" not in result.reason
            continue
        for attachment in result.all_attachments:
            assert attachment.safe_name and not {"/", "\\", "\x00"} & set(attachment.safe_name)
            assert attachment.sha256 == attachment_sha256(attachment.payload)
        assert all(moment.tzinfo is not None for moment in result.received_times)


def test_the_sender_address_is_kept_in_lower_case() -> None:
    raw = b"From: Postmottak <Postmottak@Helse-Vest.NO>\r\nSubject: Svar\r\n\r\nTekst.\r\n"
    assert parsed(raw).from_address == "postmottak@helse-vest.no"
