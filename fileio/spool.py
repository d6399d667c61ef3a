"""A spool: records written once to a temporary file and read back as often as needed,
so a long list (the rows of a høringsoppsummering of a million responses) is never held
in memory. Records are tuples of plain values (str, int, bool, None, tuples), stored
with `marshal`; `encode`/`decode` turn the caller's objects into records and back."""

from __future__ import annotations

import marshal
import os
import tempfile
import weakref
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

T = TypeVar("T")
_BUFFER = 1 << 16


class Spool(Collection[T], Generic[T]):
    """Append records, then iterate them in order (each iteration reads the file again)."""

    def __init__(
        self,
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
        directory: Path | None = None,
    ) -> None:
        handle, name = tempfile.mkstemp(prefix="hoering-spool-", dir=directory)
        self._path = Path(name)
        self._writer = os.fdopen(handle, "wb", buffering=_BUFFER)
        self._encode = encode
        self._decode = decode
        self._count = 0
        # The file goes when the spool does, also when nobody calls `close`.
        self._finalizer = weakref.finalize(self, _remove, self._writer, self._path)

    def append(self, item: T) -> None:
        if self._writer.closed:
            raise ValueError("the spool is closed")
        marshal.dump(self._encode(item), self._writer)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[T]:
        if not self._count:
            return
        self._writer.flush()
        with open(self._path, "rb", buffering=_BUFFER) as reader:
            for _ in range(self._count):
                yield self._decode(marshal.load(reader))

    def __contains__(self, item: object) -> bool:
        return any(each == item for each in self)

    def close(self) -> None:
        """Remove the file; the spool is empty afterwards."""
        self._finalizer()
        self._count = 0

    def __enter__(self) -> Spool[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _remove(writer: BinaryIO, path: Path) -> None:
    if not writer.closed:
        writer.close()
    path.unlink(missing_ok=True)


__all__ = ["Spool"]
