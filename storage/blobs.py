"""A content-addressed file store: bytes kept under their sha256.

A blob lives at `<root>/sha256/ab/cd/<sha256 hex>`; the path is built from the hex
digest alone (checked to be 64 hex digits), so no name from a message can place a
file anywhere else. Writes go to a temporary file in the target folder and are
renamed into place: a reader sees the whole blob or none. `sync()` makes everything
written so far durable (once per batch, before the database commit that refers to it).

`export` copies a blob out under a (sanitised) file name for a person to open, and
refuses any name that would leave the target folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import shutil
from pathlib import Path

from domain.mail_names import safe_attachment_name

_HEX64 = re.compile(r"[0-9a-f]{64}")


class BlobMissing(LookupError):
    """No blob with that sha256 in the store."""


class BlobStore:
    """Blobs under `root` (normally `<data dir>/blobs`)."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = Path(root)
        self.durable = durable
        self._unsynced = False
        self._counter = itertools.count()

    def path_for(self, sha256: str) -> Path:
        """Where the blob with this digest lives (whether or not it exists)."""
        digest = sha256.lower()
        if not _HEX64.fullmatch(digest):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store `data` (once) and return its sha256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        self.put_known(digest, data)
        return digest

    def put_known(self, digest: str, data: bytes) -> None:
        """Store `data` whose sha256 the caller computed already."""
        path = self.path_for(digest)
        if path.exists():
            return
        folder = path.parent
        temporary = folder / f".tmp-{os.getpid()}-{next(self._counter)}-{digest[:8]}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            handle = os.open(temporary, flags, 0o444)
        except FileNotFoundError:  # the first blob in this folder
            folder.mkdir(parents=True, exist_ok=True)
            handle = os.open(temporary, flags, 0o444)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        self._unsynced = True

    def sync(self) -> None:
        """Flush what was written since the last call to stable storage."""
        if self._unsynced and self.durable:
            os.sync()
        self._unsynced = False

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def get(self, sha256: str) -> bytes:
        try:
            return self.path_for(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"no blob {sha256} under {self.root}") from None

    def export(self, sha256: str, name: str | None, folder: Path) -> Path:
        """Copy the blob to `folder` under a safe version of `name`; returns the path."""
        source = self.path_for(sha256)
        if not source.is_file():
            raise BlobMissing(f"no blob {sha256} under {self.root}")
        folder = Path(folder).resolve()
        target = (folder / safe_attachment_name(name, 1)).resolve()
        if target.parent != folder:
            raise ValueError(f"refusing to write {name!r} outside {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.chmod(target, 0o644)
        return target
