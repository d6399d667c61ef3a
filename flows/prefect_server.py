"""A local Prefect server that `hoering` starts once and then reuses.

Without PREFECT_API_URL every Prefect process starts a temporary server (6-12 s) and
loses its run history when it exits. So, unless PREFECT_API_URL is set (a shared
server, or the test harness), the first state-changing command starts
`prefect server start` in the background on a free loopback port, with its home in
the data dir, and writes the address to `<data dir>/prefect/server.json`; later
commands find it there and only check that it answers.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from domain.errors import UserError

START_TIMEOUT_S = 90.0


class PrefectUnavailable(UserError):
    """The Prefect server cannot be reached or started."""


def prefect_home(data_dir: Path) -> Path:
    return (data_dir / "prefect").resolve()


def _state_file(data_dir: Path) -> Path:
    return prefect_home(data_dir) / "server.json"


def is_healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as reply:
            return reply.status == 200
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recorded_server(data_dir: Path) -> dict | None:
    try:
        return json.loads(_state_file(data_dir).read_text())
    except (OSError, ValueError):
        return None


def ensure_prefect_api(data_dir: Path) -> str:
    """Point this process at a Prefect API, starting the local server if needed."""
    os.environ.setdefault("PREFECT_HOME", str(prefect_home(data_dir)))
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        return configured
    with _lock(prefect_home(data_dir) / "server.lock"):
        recorded = recorded_server(data_dir)
        if recorded and is_healthy(recorded["api_url"]):
            api_url = recorded["api_url"]
        else:
            api_url = _start_server(data_dir)
    os.environ["PREFECT_API_URL"] = api_url
    return api_url


def _start_server(data_dir: Path) -> str:
    home = prefect_home(data_dir)
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
    }
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # outlives this command, like a service
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PrefectUnavailable(
                f"the local Prefect server stopped while starting (exit {process.returncode}); "
                f"see {home / 'server.log'}"
            )
        if is_healthy(api_url, timeout=0.5):
            _state_file(data_dir).write_text(
                json.dumps({"api_url": api_url, "pid": process.pid, "port": port})
            )
            return api_url
        time.sleep(0.2)
    process.terminate()
    raise PrefectUnavailable(
        f"the local Prefect server did not answer within {START_TIMEOUT_S:.0f} s; "
        f"see {home / 'server.log'} or set PREFECT_API_URL to a running server"
    )


def stop_server(data_dir: Path) -> bool:
    """Stop the recorded local server; True if one was running."""
    recorded = recorded_server(data_dir)
    if not recorded:
        return False
    try:
        os.killpg(recorded["pid"], 15)
    except ProcessLookupError:
        _state_file(data_dir).unlink(missing_ok=True)
        return False
    _state_file(data_dir).unlink(missing_ok=True)
    return True
