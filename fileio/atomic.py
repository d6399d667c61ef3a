"""Writing a file so that readers see the old file or the new one, never half of it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20


def write_atomically(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temporary file in the same folder and a rename, so
    readers see the old file or the new one, never half of it; returns the sha256 hex."""
    _replace(path, lambda stream: stream.write(data))
    return hashlib.sha256(data).hexdigest()


def write_streamed_atomically(path: Path, write: Callable[[BinaryIO], object]) -> str:
    """`write_atomically` for a file written piece by piece: `write(stream)` writes into
    the temporary file (a file of any size, never held in memory); returns the sha256."""
    _replace(path, write)
    return file_sha256(path)


def _replace(path: Path, write: Callable[[BinaryIO], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
