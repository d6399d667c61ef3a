"""Reading e-mails from files: one .eml file, a folder of them, an mbox or a Maildir.

Messages are yielded lazily in a stable order with their raw bytes as stored; files are
never changed (acknowledging does nothing).
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from mail.source_message import SourceMessage, SourceUnavailable


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SourceUnavailable(
            f"{path}: cannot read the message ({error.strerror}); check the file's permissions"
        ) from None


def key_within(key: str, lower: str | None, upper: str | None) -> bool:
    """Whether a message key is in the shard range [lower, upper) (None: open)."""
    return (lower is None or key >= lower) and (upper is None or key < upper)


class _FileSource:
    """Shared by the file-based sources: nothing to acknowledge or close."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self.key = str(self.path)

    def open(self) -> None:
        return None

    def acknowledge(self, messages: Sequence[SourceMessage]) -> None:
        return None

    def close(self) -> None:
        return None


class EmlFileSource(_FileSource):
    """One .eml file (RFC 5322 message)."""

    kind = "eml"

    def count(self) -> int:
        return 1

    def messages(self) -> Iterator[SourceMessage]:
        yield SourceMessage(str(self.path), _read_file(self.path))


class EmlFolderSource(_FileSource):
    """Every *.eml file in a folder and its subfolders, in name order."""

    kind = "folder"

    def _files(self) -> Iterator[Path]:
        for folder, subfolders, names in os.walk(self.path, onerror=self._walk_error):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                if name.lower().endswith(".eml") and not name.startswith("."):
                    yield Path(folder) / name

    def _walk_error(self, error: OSError) -> None:
        raise SourceUnavailable(
            f"{error.filename}: cannot list the folder ({error.strerror}); check its permissions"
        )

    def count(self) -> int:
        return sum(1 for _ in self._files())

    def messages(self) -> Iterator[SourceMessage]:
        for path in self._files():
            yield SourceMessage(str(path), _read_file(path))

    def shard_keys(self) -> list[str]:
        """Every message's key (its path inside the folder), in reading order."""
        return [str(path.relative_to(self.path)) for path in self._files()]

    def messages_between(self, lower: str | None, upper: str | None) -> Iterator[SourceMessage]:
        """The messages whose key is in [lower, upper) (None: open), in order."""
        for path in self._files():
            if key_within(str(path.relative_to(self.path)), lower, upper):
                yield SourceMessage(str(path), _read_file(path))


class MboxSource(_FileSource):
    """An mbox file; ids are `<path>#<index>` (0-based, in file order)."""

    kind = "mbox"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._box: mailbox.mbox | None = None

    def open(self) -> None:
        try:
            self._box = mailbox.mbox(self.path, factory=None, create=False)
            self._box.keys()  # reads the table of contents (offsets only)
        except OSError as error:
            raise SourceUnavailable(
                f"{self.path}: cannot read the mbox file ({error.strerror}); check the path"
            ) from None

    def count(self) -> int:
        return len(self._opened())

    def _opened(self) -> mailbox.mbox:
        if self._box is None:
            self.open()
        assert self._box is not None
        return self._box

    def messages(self) -> Iterator[SourceMessage]:
        return self.messages_between(None, None)

    def shard_keys(self) -> list[str]:
        """Every message's key, in file (byte) order: its index, zero-padded to sort."""
        return [f"{key:012d}" for key in sorted(self._opened().keys())]

    def messages_between(self, lower: str | None, upper: str | None) -> Iterator[SourceMessage]:
        """The messages whose key is in [lower, upper) (None: open): a byte range of the
        file, since mbox messages follow one another."""
        box = self._opened()
        for key in sorted(box.keys()):
            if key_within(f"{key:012d}", lower, upper):
                yield SourceMessage(f"{self.path}#{key}", box.get_bytes(key))

    def close(self) -> None:
        if self._box is not None:
            self._box.close()
            self._box = None


def _maildir_key(relative: str) -> str:
    """The Maildir key of `new/KEY` or `cur/KEY:2,FLAGS`."""
    return relative[4:].split(":", 1)[0]


class MaildirSource(_FileSource):
    """A Maildir (new/ and cur/); ids are `<path>#<key>`, read in key order, left in place.

    Listed with `os.scandir` (names only), not `mailbox.Maildir`, whose table of
    contents holds every key and path: memory stays small for a large Maildir.
    Keys start with the delivery time, so key order is arrival order.
    """

    kind = "maildir"

    def open(self) -> None:
        for sub in ("new", "cur"):
            if not (self.path / sub).is_dir():
                raise SourceUnavailable(
                    f"{self.path}: not a Maildir (no {sub}/ folder); give the Maildir's folder"
                )

    def _entries(self) -> list[str]:
        """The path relative to the Maildir of every message (new/KEY, cur/KEY:2,FLAGS),
        sorted by key."""
        entries: list[str] = []
        for sub in ("new", "cur"):
            try:
                with os.scandir(self.path / sub) as listing:
                    for entry in listing:
                        if not entry.name.startswith(".") and entry.is_file():
                            entries.append(f"{sub}/{entry.name}")
            except OSError as error:
                raise SourceUnavailable(
                    f"{self.path / sub}: cannot list the Maildir ({error.strerror}); "
                    "check its permissions"
                ) from None
        entries.sort(key=_maildir_key)
        return entries

    def count(self) -> int:
        return len(self._entries())

    def shard_keys(self) -> list[str]:
        """Every message's Maildir key, in reading (arrival) order."""
        return [_maildir_key(relative) for relative in self._entries()]

    def messages(self) -> Iterator[SourceMessage]:
        return self.messages_between(None, None)

    def messages_between(self, lower: str | None, upper: str | None) -> Iterator[SourceMessage]:
        """The messages whose key is in [lower, upper) (None: open), in key order."""
        for relative in self._entries():
            if not key_within(_maildir_key(relative), lower, upper):
                continue
            try:
                raw = (self.path / relative).read_bytes()
            except FileNotFoundError:  # moved by a mail client since the listing
                continue
            except OSError as error:
                raise SourceUnavailable(
                    f"{self.path / relative}: cannot read the message ({error.strerror}); "
                    "check the file's permissions"
                ) from None
            yield SourceMessage(f"{self.path}#{_maildir_key(relative)}", raw)
