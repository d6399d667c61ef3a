"""Running the `hoering` command line as a user would: a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_hoering(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def run_crashing_hoering(
    stage: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> CliResult:
    """Run the CLI in a process that dies (exit 70) when it first records a delivery in the
    delivery journal: before the journal write (`accepted`: the server took the message)
    or right after it (`journaled`). The fault is injected by `tests/crash_after_delivery.py`
    around `DeliveryJournal.record`, so the product has no crash hook of its own."""
    full_env = {**os.environ, **(env or {})}
    helper = os.path.join(os.path.dirname(__file__), "crash_after_delivery.py")
    proc = subprocess.run(
        [sys.executable, helper, stage, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    """Exit code 2, exactly one line on stderr, no traceback, the fragments present."""
    assert result.code == 2, (result.code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
