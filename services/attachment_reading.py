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
import os
import resource
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from domain.attachment_text import TOO_HEAVY, ExtractedText, extract_text

_MB = 1024 * 1024
READY = "ready"
# A worker's start-up (a Python process importing the readers) is not part of any
# attachment's time budget: on a loaded machine it can take seconds.
STARTUP_TIMEOUT_S = 120.0


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


def _serve(requests: Connection, results: Connection, budget_bytes: int) -> None:
    """The worker: say it is ready, then read requests until told to stop (None) or the
    pipe closes."""
    limit = _own_size() + budget_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    results.send(READY)
    while True:
        try:
            request = requests.recv()
        except EOFError:
            return
        if request is None:
            return
        filename, content_type, payload = request
        result = _read_within(limit, filename, content_type, payload)
        del payload, request
        results.send(result)


class _Worker:
    """`python -m services.attachment_reading BUDGET`: requests on its stdin, results on
    its stdout (pickled by multiprocessing's Connection); its output is discarded."""

    def __init__(self, budget_bytes: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.attachment_reading", str(budget_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # library warnings must not reach the user's terminal
            cwd=Path(__file__).resolve().parents[1],  # `-m` finds this checkout's code
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.results = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        if not self.results.poll(STARTUP_TIMEOUT_S) or self.results.recv() != READY:
            self.stop(kill=True)
            raise RuntimeError("the attachment reader did not start")

    def stop(self, *, kill: bool) -> int | None:
        if not kill:
            with contextlib.suppress(OSError):
                self.requests.send(None)
        self.requests.close()
        self.results.close()
        try:
            self.process.wait(0.1 if kill else 5.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.returncode


class AttachmentReader:
    """Reads attachments in a worker process with a time and memory budget each."""

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._worker: _Worker | None = None

    def __enter__(self) -> AttachmentReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def read(self, filename: str, content_type: str, payload: bytes) -> ExtractedText:
        """The attachment's text, or why there is none; never raises on a bad payload."""
        with self._lock:
            worker = self._start()
            try:
                worker.requests.send((filename, content_type, payload))
                if not worker.results.poll(self.timeout_s):
                    self._stop(kill=True)
                    return ExtractedText(None, f"{TOO_HEAVY}: took over {self.timeout_s:g} s")
                result: ExtractedText = worker.results.recv()
            except (EOFError, OSError):  # the worker died: the kernel or the allocator
                code = self._stop(kill=True)
                return ExtractedText(
                    None,
                    f"{TOO_HEAVY}: the reader stopped (exit code {code}; "
                    f"over the {self.memory_mb} MB budget?)",
                )
            if (result.unreadable_reason or "").startswith(TOO_HEAVY):
                self._stop(kill=True)  # its peak size would mislabel what comes next
            return result

    def close(self) -> None:
        """Stop the worker, if one runs."""
        with self._lock:
            self._stop(kill=False)

    def _start(self) -> _Worker:
        if self._worker is not None and self._worker.process.poll() is None:
            return self._worker
        self._stop(kill=True)
        self._worker = _Worker(self.memory_mb * _MB)
        return self._worker

    def _stop(self, *, kill: bool) -> int | None:
        worker, self._worker = self._worker, None
        return worker.stop(kill=kill) if worker is not None else None


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


def _main(argv: list[str]) -> None:
    requests = Connection(os.dup(0), writable=False)
    results = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a library that prints must not write into the results pipe
    _serve(requests, results, int(argv[1]))


if __name__ == "__main__":
    _main(sys.argv)
