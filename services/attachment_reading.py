"""Attachment text read within a time and memory budget per attachment.

The readers (python-docx/lxml, pypdf) run in one worker process whose address space
is capped (RLIMIT_AS: its own size at start plus the budget). An attachment that
takes longer than the time budget gets the worker stopped (and a fresh one started
for the next); one that needs more memory ends in MemoryError inside the worker, or
the worker's death. Either way the attachment is kept and flagged "too heavy to
read" with the reason, and its message is filed like any other.

The worker is started on first use and stopped by `close()` (the import does it when
it ends); a lock lets the threads of one process share it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import threading
from multiprocessing.connection import Connection
from typing import Any

from domain.attachment_text import TOO_HEAVY, ExtractedText, extract_text

_MB = 1024 * 1024


def _own_size() -> int:
    """This process's virtual size in bytes (Linux), or 0 when unknown."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def _peak_size() -> int:
    """This process's peak virtual size in bytes (VmPeak), or 0 when unknown."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _read_within(limit: int, filename: str, content_type: str, payload: bytes) -> ExtractedText:
    """A reader that failed near the limit ran out of memory, whatever it reports
    (libxml2 says "unknown error" when an allocation fails)."""
    try:
        result = extract_text(filename, content_type, payload)
    except MemoryError:
        result = ExtractedText(None, "corrupt: MemoryError")
    reason = result.unreadable_reason or ""
    if reason.startswith(("corrupt:", TOO_HEAVY)) and _peak_size() >= limit * 0.9:
        return ExtractedText(None, f"{TOO_HEAVY}: needs over the memory budget")
    return result


def _serve(connection: Connection, budget_bytes: int) -> None:
    """The worker: read requests until told to stop (None) or the pipe closes."""
    limit = _own_size() + budget_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        filename, content_type, payload = request
        result = _read_within(limit, filename, content_type, payload)
        del payload, request
        connection.send(result)


class AttachmentReader:
    """Reads attachments in a worker process with a time and memory budget each."""

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None

    def __enter__(self) -> AttachmentReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def read(self, filename: str, content_type: str, payload: bytes) -> ExtractedText:
        """The attachment's text, or why there is none; never raises on a bad payload."""
        with self._lock:
            connection = self._start()
            try:
                connection.send((filename, content_type, payload))
                if not connection.poll(self.timeout_s):
                    self._stop(kill=True)
                    return ExtractedText(None, f"{TOO_HEAVY}: took over {self.timeout_s:g} s")
                result: ExtractedText = connection.recv()
                if (result.unreadable_reason or "").startswith(TOO_HEAVY):
                    self._stop(kill=True)  # its peak size would mislabel what comes next
                return result
            except (EOFError, OSError):  # the worker died: the kernel or the allocator
                code = self._stop(kill=True)
                return ExtractedText(
                    None,
                    f"{TOO_HEAVY}: the reader stopped (exit code {code}; "
                    f"over the {self.memory_mb} MB budget?)",
                )

    def close(self) -> None:
        """Stop the worker, if one runs."""
        with self._lock:
            self._stop(kill=False)

    def _start(self) -> Connection:
        if self._connection is not None and self._process.is_alive():
            return self._connection
        self._stop(kill=True)
        context = multiprocessing.get_context("spawn")  # no fork of a threaded process
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(child, self.memory_mb * _MB),
            name="hoering-attachment-reader",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._connection = process, parent
        return parent

    def _stop(self, *, kill: bool) -> int | None:
        process, connection = self._process, self._connection
        self._process, self._connection = None, None
        if process is None:
            return None
        if connection is not None:
            if not kill:
                with contextlib.suppress(OSError):
                    connection.send(None)
            connection.close()
        process.join(0.1 if kill else 5.0)
        if process.is_alive():
            process.kill()
            process.join()
        return process.exitcode


_SHARED: dict[tuple[float, int], AttachmentReader] = {}
_SHARED_LOCK = threading.Lock()


def shared_reader(timeout_s: float, memory_mb: int) -> AttachmentReader:
    """One reader per budget and process, kept warm across the batches of an import."""
    with _SHARED_LOCK:
        key = (timeout_s, memory_mb)
        if key not in _SHARED:
            _SHARED[key] = AttachmentReader(timeout_s, memory_mb)
        return _SHARED[key]


def close_shared_readers() -> None:
    """Stop every shared reader's worker (when an import ends)."""
    with _SHARED_LOCK:
        while _SHARED:
            _SHARED.popitem()[1].close()
