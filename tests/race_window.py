"""Run the `hoering` CLI with its race windows held open: a test's fault injection.

Usage: python tests/race_window.py hoering-args...

Concurrent commands rarely meet inside the few milliseconds between "is it there?"
and "insert it": process start-up spreads them out. Here every ID-ledger key lookup
that finds nothing, and the first reminder a run queues, is followed by a pause
(HOERING_TEST_RACE_PAUSE_S, default 2 s), so that processes started together look
before any of them has committed. The product has no hook of its own for this.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services import reminders
from storage import ledger


def _install(pause_s: float) -> None:
    existing = ledger._existing

    def slow_existing(*args, **kwargs):  # type: ignore[no-untyped-def]
        row = existing(*args, **kwargs)
        if row is None:
            time.sleep(pause_s)
        return row

    ledger._existing = slow_existing  # type: ignore[assignment]
    queue_message = reminders.queue_message
    paused: list[bool] = []

    def slow_queue_message(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = queue_message(*args, **kwargs)
        if not paused:
            paused.append(True)
            time.sleep(pause_s)  # the transaction stays open with its first row inserted
        return result

    reminders.queue_message = slow_queue_message  # type: ignore[assignment]


if __name__ == "__main__":
    _install(float(os.environ.get("HOERING_TEST_RACE_PAUSE_S", "2")))
    from cli.main import main

    sys.argv = ["hoering", *sys.argv[1:]]
    main()
