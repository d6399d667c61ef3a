"""Reading e-mails from an IMAP folder.

IMAP (`imaps://user@host[:port]/FOLDER`, or `imap://` with STARTTLS):
- the password comes from HOERING_IMAP_PASSWORD or the file named by
  HOERING_IMAP_PASSWORD_FILE, never from the URL or the command line;
- messages are fetched with BODY.PEEK[] (not marked as seen) in chunks of bounded
  size; after the caller has committed a batch it calls `acknowledge`, which moves the
  messages to HOERING_IMAP_PROCESSED_FOLDER (default INBOX.hoering-processed) with
  UID MOVE, or, when the server cannot move or the folder is set to "", flags them
  $HoeringImported. Nothing is ever deleted;
- when the listed messages are done the folder is searched again, so a message that
  arrives during the import is read in the same run;
- `skip` takes the UIDs filed by an earlier run that was cut off before it could
  acknowledge them: they are acknowledged, not read again;
- for a sharded import (`mail.shards`) the folder is cut into UID ranges: `shard_keys`
  lists the UIDs as keys (`uid_key`: zero-padded, so they sort as numbers) and
  `messages_between` reads one range with `UID SEARCH UID first:last` (`first:*` for the
  last, open range). A shard planned under one UIDVALIDITY is refused under another
  (`expected_uidvalidity`): its UIDs would name other messages.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from config.settings import ImapSettings
from domain.errors import UserError
from mail.source_message import SourceMessage, SourceUnavailable

PROCESSED_FLAG = "$HoeringImported"
_FETCH_CHUNK_MESSAGES = 50
_FETCH_CHUNK_BYTES = 20 * 1024 * 1024
_UID_DIGITS = 10  # UIDs are 32-bit: at most 4294967295


def uid_key(uid: int) -> str:
    """A UID as a shard key: zero-padded, so keys sort (and compare) as the numbers do."""
    return f"{uid:0{_UID_DIGITS}d}"


def uid_range(lower: str | None, upper: str | None) -> tuple[int, int | None]:
    """The shard range [lower, upper) of keys as the UIDs first..last (None: no end)."""
    return (int(lower) if lower else 1), (int(upper) - 1 if upper else None)


@dataclass(frozen=True)
class ImapAddress:
    """A parsed imap:// or imaps:// URL."""

    scheme: str
    user: str
    host: str
    port: int
    folder: str

    @property
    def key(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_imap_url(url: str) -> ImapAddress:
    """`imaps://user@host[:port]/FOLDER` -> ImapAddress; a password in it is refused."""
    hint = "write it as imaps://user@host[:port]/INBOX (or imap:// for STARTTLS)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UserError(f"mail source '{url}': not a valid IMAP URL; {hint}") from None
    if parts.scheme not in ("imap", "imaps"):
        raise UserError(f"mail source '{url}': unknown scheme '{parts.scheme}'; {hint}")
    if parts.password is not None:
        raise UserError(
            f"mail source '{parts.scheme}://{parts.hostname}': the URL holds a password; "
            "remove it and set HOERING_IMAP_PASSWORD or HOERING_IMAP_PASSWORD_FILE instead"
        )
    if not parts.username or not parts.hostname:
        raise UserError(f"mail source '{url}': user or host missing; {hint}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    default_port = 993 if parts.scheme == "imaps" else 143
    return ImapAddress(
        parts.scheme, unquote(parts.username), parts.hostname, port or default_port, folder
    )


def imap_password(settings: ImapSettings, where: str) -> str:
    """The IMAP password from the environment or the password file."""
    if settings.password:
        return settings.password
    if settings.password_file is not None:
        try:
            text = settings.password_file.read_text(encoding="utf-8")
        except OSError as error:
            raise SourceUnavailable(
                f"{where}: cannot read HOERING_IMAP_PASSWORD_FILE {settings.password_file} "
                f"({error.strerror}); check the path"
            ) from None
        password = text.rstrip("\r\n")
        if password:
            return password
        raise SourceUnavailable(
            f"{where}: HOERING_IMAP_PASSWORD_FILE {settings.password_file} is empty; "
            "write the password into it"
        )
    raise SourceUnavailable(
        f"{where}: no password; set HOERING_IMAP_PASSWORD or HOERING_IMAP_PASSWORD_FILE"
    )


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_FLAGS = f"({PROCESSED_FLAG})"
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _first_line(value: object) -> str:
    if isinstance(value, (list, tuple)) and value:
        value = value[-1]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).split())
    return text[:160] or "no details"


MessageHook = Callable[["ImapSource", int], None]


class UidValidityChanged(SourceUnavailable):
    """The folder's UIDVALIDITY is not the one a sharded import was planned under."""


class ImapSource:
    """One folder of an IMAP mailbox. `on_message(source, n)` is called after the n-th
    message is fetched (for tests: append mail, drop the connection)."""

    kind = "imap"

    def __init__(
        self,
        url: str,
        settings: ImapSettings,
        on_message: MessageHook | None = None,
    ) -> None:
        self.address = parse_imap_url(url)
        self.settings = settings
        self.key = self.address.key
        self.on_message = on_message
        self.uidvalidity: int | None = None
        self.expected_uidvalidity: int | None = None  # a shard's: the folder's when planned
        self.mode: str = "flag"  # or "move"
        self._conn: imaplib.IMAP4 | None = None
        self._capabilities: set[str] = set()
        self._skip: set[int] = set()
        self._listed: list[tuple[int, int]] | None = None  # (uid, size) of the first search
        self._range: tuple[int, int | None] = (1, None)  # the UIDs read (a shard's range)
        self._read = 0

    # -- connection --

    def _where(self) -> str:
        return self.key

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file is not None:
            try:
                context.load_verify_locations(cafile=str(self.settings.ca_file))
            except (OSError, ssl.SSLError) as error:
                raise SourceUnavailable(
                    f"{self._where()}: cannot load HOERING_IMAP_CA_FILE "
                    f"{self.settings.ca_file} ({error}); check the file"
                ) from None
        return context

    def _fail(self, what: str, error: BaseException, hint: str) -> SourceUnavailable:
        detail = _first_line(error.args if isinstance(error, imaplib.IMAP4.error) else error)
        return SourceUnavailable(f"{self._where()}: {what} ({detail}); {hint}")

    def open(self) -> None:
        address = self.address
        password = imap_password(self.settings, self._where())
        timeout = self.settings.timeout_s
        try:
            if address.scheme == "imaps":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    address.host, address.port, ssl_context=self._ssl_context(), timeout=timeout
                )
            else:
                conn = imaplib.IMAP4(address.host, address.port, timeout=timeout)
                if "STARTTLS" in conn.capabilities:
                    conn.starttls(ssl_context=self._ssl_context())
                elif not address.is_loopback:
                    conn.shutdown()
                    raise SourceUnavailable(
                        f"{self._where()}: the server offers no STARTTLS, and the password "
                        "is not sent in clear text; use imaps:// or a server with STARTTLS"
                    )
        except SourceUnavailable:
            raise
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
            raise self._fail(
                "cannot connect", error, "check the host, the port and that the server runs"
            ) from None
        self._conn = conn
        try:
            conn.login(_quote(address.user), password)
        except imaplib.IMAP4.error as error:
            self.close()
            raise self._fail(
                "login refused",
                error,
                "check the user and HOERING_IMAP_PASSWORD or HOERING_IMAP_PASSWORD_FILE",
            ) from None
        except OSError as error:
            self.close()
            raise self._fail("connection lost during login", error, "try again") from None
        self._capabilities = self._read_capabilities()
        self._select()
        self.mode = self._choose_mode()

    def _read_capabilities(self) -> set[str]:
        _, data = self._command("CAPABILITY", lambda c: c.capability())
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
        return {word.upper() for word in text.split()}

    def _uid(self, command: str, *args: str) -> tuple[str, list]:
        """A UID command (FETCH, STORE, MOVE, ...) on the open connection."""
        return self._command(command, lambda conn: conn.uid(command, *args))

    def _command(
        self, what: str, call: Callable[[imaplib.IMAP4], tuple[str, list]]
    ) -> tuple[str, list]:
        if self._conn is None:
            raise SourceUnavailable(f"{self._where()}: not connected; this is a bug")
        try:
            return call(self._conn)
        except imaplib.IMAP4.abort as error:
            raise self._fail(
                f"connection lost ({what})", error, "run the import again to resume"
            ) from None
        except (OSError, ssl.SSLError) as error:
            raise self._fail(
                f"connection lost ({what})", error, "run the import again to resume"
            ) from None
        except imaplib.IMAP4.error as error:
            raise self._fail(
                f"the server refused {what}", error, "check the mailbox and its permissions"
            ) from None

    def _select(self) -> None:
        folder = self.address.folder
        typ, data = self._command("SELECT", lambda c: c.select(_quote(folder)))
        if typ != "OK":
            self.close()
            raise SourceUnavailable(
                f"{self._where()}: cannot open folder '{folder}' ({_first_line(data)}); "
                "check the folder name in the URL"
            )
        _, values = self._command("SELECT", lambda c: c.response("UIDVALIDITY"))
        try:
            self.uidvalidity = int(values[0])
        except (TypeError, ValueError, IndexError):
            self.close()
            raise SourceUnavailable(
                f"{self._where()}: the server sent no UIDVALIDITY for '{folder}'; "
                "an IMAP4rev1 server is needed"
            ) from None
        expected = self.expected_uidvalidity
        if expected is not None and self.uidvalidity != expected:
            self.close()
            raise UidValidityChanged(
                f"{self._where()}: the folder's UIDVALIDITY changed from {expected} to "
                f"{self.uidvalidity} since the sharded import was planned, so its UIDs name "
                "other messages; run the import with --shards again (filed messages are skipped)"
            )

    def _choose_mode(self) -> str:
        target = self.settings.processed_folder.strip()
        if not target or "MOVE" not in self._capabilities:
            return "flag"
        if target == self.address.folder:
            raise SourceUnavailable(
                f"{self._where()}: HOERING_IMAP_PROCESSED_FOLDER is the folder being read; "
                "choose another folder"
            )
        typ, _ = self._command("CREATE", lambda c: c.create(_quote(target)))
        if typ == "OK":
            self._command("SUBSCRIBE", lambda c: c.subscribe(_quote(target)))
            return "move"
        typ, data = self._command("LIST", lambda c: c.list('""', _quote(target)))
        exists = typ == "OK" and any(isinstance(d, bytes) for d in data)
        return "move" if exists else "flag"

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.logout()
        with contextlib.suppress(Exception):
            conn.shutdown()

    def drop_connection(self) -> None:
        """Cut the connection as a network failure would (for tests)."""
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._conn.sock.close()

    # -- reading --

    def skip(self, uids: set[int]) -> set[int]:
        """UIDs filed earlier but not acknowledged: acknowledge them now, never read them.
        Returns the UIDs taken (all of them)."""
        if uids:
            self._acknowledge_uids(sorted(uids))  # UIDs no longer here are ignored
        self._skip |= uids
        self._listed = None
        return uids

    def _search(self, first: int = 1, last: int | None = None) -> list[int]:
        """The unflagged UIDs first..last (None: no end), without the skipped ones."""
        if last is not None and last < first:
            return []
        criteria = f"UNKEYWORD {PROCESSED_FLAG}"
        if first > 1 or last is not None:
            criteria = f"UID {first}:{'*' if last is None else last} {criteria}"
        typ, data = self._uid("SEARCH", criteria)
        if typ != "OK":
            raise SourceUnavailable(
                f"{self._where()}: search refused ({_first_line(data)}); check the folder"
            )
        uids = [int(word) for word in b" ".join(d for d in data if d).split()]
        # `first:*` also matches the highest UID when every UID is below `first`
        within = (uid for uid in uids if first <= uid and (last is None or uid <= last))
        return sorted(uid for uid in within if uid not in self._skip)

    def _sizes(self, uids: list[int]) -> list[tuple[int, int]]:
        sizes: dict[int, int] = {}
        for start in range(0, len(uids), 500):
            chunk = ",".join(str(uid) for uid in uids[start : start + 500])
            _, data = self._uid("FETCH", chunk, "(RFC822.SIZE)")
            for item in data:
                line = item[0] if isinstance(item, tuple) else item
                if not isinstance(line, bytes):
                    continue
                uid, size = _UID.search(line), _SIZE.search(line)
                if uid and size:
                    sizes[int(uid.group(1))] = int(size.group(1))
        return [(uid, sizes[uid]) for uid in uids if uid in sizes]

    def _list(self) -> list[tuple[int, int]]:
        if self._listed is None:
            self._listed = self._sizes(self._search(*self._range))
        return self._listed

    def count(self) -> int:
        return len(self._list())

    def _chunks(self, listed: list[tuple[int, int]]) -> Iterator[list[int]]:
        chunk: list[int] = []
        volume = 0
        for uid, size in listed:
            if chunk and (
                len(chunk) >= _FETCH_CHUNK_MESSAGES or volume + size > _FETCH_CHUNK_BYTES
            ):
                yield chunk
                chunk, volume = [], 0
            chunk.append(uid)
            volume += size
        if chunk:
            yield chunk

    def _fetch(self, uids: list[int]) -> dict[int, bytes]:
        spec = ",".join(str(uid) for uid in uids)
        typ, data = self._uid("FETCH", spec, "(UID BODY.PEEK[])")
        if typ != "OK":
            raise SourceUnavailable(
                f"{self._where()}: fetch refused ({_first_line(data)}); run the import again"
            )
        found: dict[int, bytes] = {}
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                match = _UID.search(item[0])
                if match:
                    found[int(match.group(1))] = item[1]
        self._conn.untagged_responses.pop("FETCH", None)  # type: ignore[union-attr]
        return found

    def _source_id(self, uid: int) -> str:
        return f"{self.key};UIDVALIDITY={self.uidvalidity}/;UID={uid}"

    def shard_keys(self) -> list[str]:
        """The key (`uid_key`) of every message still to import, in UID order."""
        return [uid_key(uid) for uid in self._search()]

    def messages_between(self, lower: str | None, upper: str | None) -> Iterator[SourceMessage]:
        """The messages whose key is in [lower, upper) (None: open), in UID order; mail
        that arrives meanwhile is read too if its UID is in the range."""
        self._range = uid_range(lower, upper)
        self._listed = None
        return self.messages()

    def messages(self) -> Iterator[SourceMessage]:
        first, last = self._range
        listed = self._list()
        highest = 0
        while listed:
            for uids in self._chunks(listed):
                fetched = self._fetch(uids)
                for uid in uids:
                    raw = fetched.get(uid)
                    if raw is None:  # expunged by someone else since the search
                        continue
                    self._read += 1
                    if self.on_message is not None:
                        self.on_message(self, self._read)
                    yield SourceMessage(self._source_id(uid), raw, uid)
            highest = max(highest, max(uid for uid, _ in listed))
            # mail that came meanwhile (in a shard's range)
            listed = self._sizes(self._search(max(first, highest + 1), last))

    # -- acknowledging --

    def acknowledge(self, messages: Sequence[SourceMessage]) -> None:
        """Move (or flag) messages whose filing is committed."""
        uids = sorted({m.uid for m in messages if m.uid is not None})
        if uids:
            self._acknowledge_uids(uids)

    def _acknowledge_uids(self, uids: list[int]) -> None:
        target = _quote(self.settings.processed_folder.strip())
        for start in range(0, len(uids), 500):
            spec = ",".join(str(uid) for uid in uids[start : start + 500])
            typ, data = self._uid("STORE", spec, "+FLAGS.SILENT", _FLAGS)
            if typ != "OK":
                raise SourceUnavailable(
                    f"{self._where()}: cannot flag messages as imported "
                    f"({_first_line(data)}); check the mailbox permissions"
                )
            if self.mode == "move":
                typ, data = self._uid("MOVE", spec, target)
                if typ != "OK":  # flagged already: the next run skips them anyway
                    self.mode = "flag"
        if self._conn is not None:
            for name in ("EXPUNGE", "EXISTS", "RECENT", "FETCH"):
                self._conn.untagged_responses.pop(name, None)
