"""Running the `hoering` command line in tests.

`run_hoering` runs a command in this process (as `hoering` would, exit code and the two
streams captured) with the given environment: fast, since nothing is imported again.
`run_hoering_process` runs the real entry point in a separate process, for the tests
that need one (a crash, concurrency, start-up behaviour).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@contextmanager
def _environment(env: dict[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_hoering(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    """Run `hoering ARGS` in this process; `timeout` is kept for the subprocess variant."""
    from cli.main import run
    from storage.db import dispose_engines

    out, err = io.StringIO(), io.StringIO()
    with _environment(env), redirect_stdout(out), redirect_stderr(err):
        try:
            code = run(list(args))
        finally:
            dispose_engines()  # as the end of the command's process would
    return CliResult(code, out.getvalue(), err.getvalue())


def _run_process(argv: list[str], env: dict[str, str] | None, timeout: float) -> CliResult:
    proc = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def run_hoering_process(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> CliResult:
    """Run the real `hoering` entry point in a new process."""
    return _run_process(["-m", "cli.main", *args], env, timeout)


def run_crashing_hoering(
    stage: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> CliResult:
    """Run the CLI in a process that dies (exit 70) when it first records a delivery in the
    delivery journal: before the journal write (`accepted`: the server took the message)
    or right after it (`journaled`). The fault is injected by `tests/crash_after_delivery.py`
    around `DeliveryJournal.record`, so the product has no crash hook of its own."""
    helper = os.path.join(os.path.dirname(__file__), "crash_after_delivery.py")
    return _run_process([helper, stage, *args], env, timeout)


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    """Exit code 2, exactly one line on stderr, no traceback, the fragments present."""
    assert result.code == 2, (result.code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
