"""Where e-mails are read from: .eml files, folders of them, mbox, Maildir and IMAP.

Every source yields `SourceMessage`s (an id to show in reports, the raw bytes as
stored, never re-serialised) lazily, in a stable order, so a second run over an
unchanged source reads the same messages in the same order.

Files are read by `mail.file_sources`, IMAP folders by `mail.imap` (see there).
"""

from __future__ import annotations

from pathlib import Path

from domain.errors import UserError
from mail.file_sources import EmlFileSource, EmlFolderSource, MaildirSource, MboxSource
from mail.imap import (  # re-exported: the intake flow and the CLI read them here
    PROCESSED_FLAG,
    ImapSettings,
    ImapSource,
    imap_password,
    parse_imap_url,
)
from mail.source_message import MailSource, SourceMessage, SourceUnavailable

__all__ = [
    "PROCESSED_FLAG",
    "EmlFileSource",
    "EmlFolderSource",
    "ImapSettings",
    "ImapSource",
    "MailSource",
    "MaildirSource",
    "MboxSource",
    "SourceMessage",
    "SourceUnavailable",
    "imap_password",
    "open_source",
    "parse_imap_url",
]


def open_source(text: str, imap_settings: ImapSettings | None = None) -> MailSource:
    """The source a user named: a file, folder, mbox, Maildir or imap(s):// URL."""
    if "://" in text:
        if imap_settings is None:
            raise TypeError("an IMAP source needs the IMAP settings (load_settings().imap)")
        return ImapSource(text, imap_settings)
    path = Path(text).expanduser()
    if not path.exists():
        raise UserError(
            f"mail source '{text}': no such file or folder; give an .eml file, a folder, "
            "an mbox, a Maildir or an imaps:// URL"
        )
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            return MaildirSource(path)
        return EmlFolderSource(path)
    try:
        with path.open("rb") as stream:
            head = stream.read(5)
    except OSError as error:
        raise UserError(f"mail source '{text}': cannot read it ({error.strerror})") from None
    return MboxSource(path) if head == b"From " else EmlFileSource(path)
