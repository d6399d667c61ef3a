"""Sample e-mails and attachments for tests and benchmarks: one generator each."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP


def pdf_bytes(*lines: str, errors: str = "strict") -> bytes:
    """A one-page PDF with a text layer (Helvetica, WinAnsi: æøå are fine; `errors` says
    what becomes of characters WinAnsi lacks, as in `str.encode`)."""
    shown = " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines
    )
    content = f"BT /F1 11 Tf 72 770 Td 14 TL {shown} ET".encode("cp1252", errors)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def message(
    *,
    sender: str = '"Åse Ødegård" <ase.odegard@helse-vest.no>',
    subject: str = "SV: Høring – kliniske studier, sak 24/750",
    body: str = "Hei,\n\nHelse Vest støtter forslaget. Se vedlagt høringssvar.\n\nHilsen Åse",
    date: str | None = "Thu, 30 May 2024 14:05:00 +0200",
    message_id: str | None = "<svar-1@helse-vest.no>",
    attachments: Sequence[tuple[str, bytes, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
    html: str | None = None,
) -> bytes:
    """A response as a mail client sends it (CRLF line ends); `html` adds an HTML
    alternative of the body."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Postmottak Helsedirektoratet <postmottak@helsedir.no>"
    mail["Subject"] = subject
    if date is not None:
        mail["Date"] = date
    if message_id is not None:
        mail["Message-ID"] = message_id
    for name, value in headers:
        mail[name] = value
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    for filename, payload, content_type in attachments:
        maintype, subtype = content_type.split("/", 1)
        mail.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes(policy=SMTP)
