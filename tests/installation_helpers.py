"""Running `hoering` as a person would on an installation: a command in its own process,
a free port for a Prefect server, a worker in its own process group, and stopping that
group again. Shared by the Prefect integration tests and the worker benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
HOERING = [sys.executable, "-m", "cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def installation_env(data_dir: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an installation of its own: this process's without any
    PREFECT_ or HOERING_ variable, then its data dir and database, a Prefect server on a
    free port without the UI, and `settings` (more HOERING_/PREFECT_ variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "HOERING_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HOERING_DATA_DIR=str(data_dir),
        HOERING_DATABASE_URL=database_url,
        PREFECT_SERVER_API_PORT=str(free_port()),
        PREFECT_SERVER_UI_ENABLED="false",
    )
    env.update(settings)
    return env


def hoering(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """`hoering ARGS`' output; a failure raises with the end of its output."""
    done = subprocess.run(
        [*HOERING, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise AssertionError((args, done.stdout[-2000:], done.stderr[-2000:]))
    return done.stdout


def start_worker(env: dict[str, str], log: IO[bytes], *args: str) -> subprocess.Popen:
    """`hoering worker ARGS` in a process group of its own, so that `stop_group` stops
    it with the flow runs it started."""
    return subprocess.Popen(
        [*HOERING, "worker", *args],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process and every process of its group (a worker's flow runs)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # a flow run the worker left
        os.killpg(process.pid, signal.SIGKILL)
