"""The JSON-lines report of one import, and following it while the import runs.

Lines: {"event": "start", ...}, {"event": "source", "source", "kind", "total"} per
source, {"event": "message", <outcome>} per message read, {"event": "error",
"message"} when a source failed, {"event": "end", "read", "counts"}. The flow writes
it; the CLI follows it for the progress bar and prints it for --json. Importing this
module does not import Prefect.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


def new_report_path(data_dir: Path) -> Path:
    """A fresh report file under `<data dir>/imports/`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return (data_dir / "imports" / f"{stamp}-{uuid.uuid4().hex[:8]}.jsonl").resolve()


class ImportReport:
    """Writes the report; each line is flushed at once so a follower sees it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stream: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = path.open("a", encoding="utf-8")

    def write(self, event: str, **data: Any) -> None:
        if self._stream is not None:
            line = json.dumps({"event": event, **data}, ensure_ascii=False, default=str)
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete line of the report, in order."""
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if line.endswith("\n") and line.strip():
                yield json.loads(line)


class ReportFollower:
    """Reads the lines added to a report since the last call (a growing file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self.total = 0  # messages the sources announced
        self.read = 0  # messages with an outcome so far

    def poll(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as stream:
                stream.seek(self._offset)
                data = stream.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        events = [json.loads(line) for line in lines if line.strip()]
        for event in events:
            if event["event"] == "source":
                self.total += int(event.get("total") or 0)
            elif event["event"] == "message":
                self.read += 1
        self.total = max(self.total, self.read)
        return events
