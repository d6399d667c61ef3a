"""Run the `hoering` CLI and kill the process hard at a delivery: a test's fault injection.

Usage: python tests/crash_after_delivery.py STAGE hoering-args...

STAGE `accepted`: exit 70 when the transport is about to journal a delivery the server
(or the folder) has accepted, before the journal is written. STAGE `journaled`: exit 70
right after the journal entry is fsynced, before the database marks the row sent.
The sending flow runs in this process (a command calls its flow directly), against the
Prefect API in PREFECT_API_URL.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mail.transports import DeliveryJournal

EXIT_CODE = 70


def _install(stage: str) -> None:
    if stage not in ("accepted", "journaled"):
        raise SystemExit(f"unknown stage {stage!r}; use accepted or journaled")
    original = DeliveryJournal.record

    def record(self: DeliveryJournal, entry: object) -> None:
        if stage == "journaled":
            original(self, entry)  # type: ignore[arg-type]
        os._exit(EXIT_CODE)

    DeliveryJournal.record = record  # type: ignore[method-assign]


if __name__ == "__main__":
    _install(sys.argv[1])
    from cli.main import main

    sys.argv = ["hoering", *sys.argv[2:]]
    main()
