"""The installation's Prefect server: found, started and stopped on request, never implicitly.

One server per installation (data dir): `hoering server start` runs Prefect's own
`prefect server start --background` with PREFECT_HOME in `<data dir>/prefect` and
records its address in `<data dir>/prefect/hoering-server.json`. State-changing
commands look the address up (or take PREFECT_API_URL) and refuse in one line when no
server answers; nothing here starts a server as a side effect.

This module imports no Prefect: commands that are refused answer before Prefect loads.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from domain.errors import UserError

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
DEFAULT_PORT = 4200
STATE_FILE = "hoering-server.json"
PREFECT = (sys.executable, "-m", "prefect")
PID_FILE = "server.pid"  # Prefect's own (prefect.cli._server_utils.SERVER_PID_FILE_NAME)


class PrefectUnavailable(UserError):
    """No Prefect server answers; the message says how to start one."""


@dataclass(frozen=True)
class ServerInfo:
    api_url: str
    pid: int | None
    healthy: bool

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def prefect_home(data_dir: Path) -> Path:
    return (data_dir / "prefect").resolve()


def is_healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as reply:
            return reply.status == 200
    except OSError:
        return False


def _state_path(data_dir: Path) -> Path:
    return prefect_home(data_dir) / STATE_FILE


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recorded_server(data_dir: Path) -> ServerInfo | None:
    """The server `hoering server start` recorded for this data dir, checked now."""
    try:
        state = json.loads(_state_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    pid = state.get("pid")
    return ServerInfo(state["api_url"], pid, _pid_alive(pid) and is_healthy(state["api_url"]))


def api_url(data_dir: Path) -> str:
    """The Prefect API that flows report to: PREFECT_API_URL, else this installation's
    server. Raises PrefectUnavailable (one line, exit 2) when none answers."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        if not is_healthy(configured, timeout=3.0):
            raise PrefectUnavailable(
                f"the Prefect server at PREFECT_API_URL={configured} does not answer; "
                "start it, or unset PREFECT_API_URL and run 'hoering server start'"
            )
        return configured
    recorded = recorded_server(data_dir)
    if recorded is None or not recorded.healthy:
        raise PrefectUnavailable(
            f"no Prefect server is running for {data_dir}; start it with "
            "'hoering server start' (or set PREFECT_API_URL to a running server)"
        )
    return recorded.api_url


def server_env(data_dir: Path) -> dict[str, str]:
    """The environment of Prefect commands run for this installation."""
    env = {**os.environ, "PREFECT_HOME": str(prefect_home(data_dir))}
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return env


def record_server(data_dir: Path, url: str, pid: int) -> None:
    """Write down the installation's server, for later commands to find."""
    prefect_home(data_dir).mkdir(parents=True, exist_ok=True)
    _state_path(data_dir).write_text(json.dumps({"api_url": url, "pid": pid}))


def start_server(data_dir: Path, port: int | None = None, host: str = "127.0.0.1") -> ServerInfo:
    """Start the installation's server with `prefect server start --background`; wait
    until it answers. Returns the running one when it is already up."""
    current = recorded_server(data_dir)
    if current is not None and current.healthy:
        return current
    home = prefect_home(data_dir)
    home.mkdir(parents=True, exist_ok=True)
    if current is not None or (home / PID_FILE).exists():
        _stop_recorded(data_dir)  # a dead or stuck server of an earlier start
    port = port or int(os.environ.get("PREFECT_SERVER_API_PORT", DEFAULT_PORT))
    url = f"http://{host}:{port}/api"
    env = server_env(data_dir)
    env.pop("PREFECT_API_URL", None)
    started = subprocess.run(
        [*PREFECT, "server", "start", "--background", "--host", host, "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        detail = (started.stdout + started.stderr).strip().splitlines()
        raise PrefectUnavailable(
            f"prefect server start failed: {detail[-1] if detail else started.returncode}"
        )
    pid = int((home / PID_FILE).read_text())
    record_server(data_dir, url, pid)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            stop_server(data_dir)
            raise PrefectUnavailable(
                "the Prefect server exited while starting; run "
                "'hoering server start --foreground' to see why"
            )
        if is_healthy(url, timeout=0.5):
            return ServerInfo(url, pid, True)
        time.sleep(0.3)
    stop_server(data_dir)
    raise PrefectUnavailable(
        f"the Prefect server did not answer within {START_TIMEOUT_S:.0f} s; run "
        "'hoering server start --foreground' to see why"
    )


def _stop_recorded(data_dir: Path) -> bool:
    home = prefect_home(data_dir)
    pids = set()
    for path in (home / PID_FILE, _state_path(data_dir)):
        try:
            text = path.read_text()
            pids.add(int(json.loads(text)["pid"]) if path.suffix == ".json" else int(text))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    stopped = False
    for pid in pids:
        if _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            stopped = True
            _wait_gone(pid)
    (home / PID_FILE).unlink(missing_ok=True)
    _state_path(data_dir).unlink(missing_ok=True)
    return stopped


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _pid_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # a test's own child must be reaped
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def stop_server(data_dir: Path) -> bool:
    """Stop this installation's server (as `prefect server stop` does, and wait for it
    to be gone); True if one was running."""
    return _stop_recorded(data_dir)
