"""Writing a file so that readers see the old file or the new one, never half of it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temporary file in the same folder and a rename, so
    readers see the old file or the new one, never half of it; returns the sha256 hex."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return hashlib.sha256(data).hexdigest()
