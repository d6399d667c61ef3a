"""The CLI side of the flow service: send a flow request, start the service if needed."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from domain.errors import UserError
from flows.prefect_server import prefect_home

START_TIMEOUT_S = 120.0
CODE_DIRS = ("domain", "storage", "flows", "templates")


class FlowFailed(Exception):
    """A flow failed for a reason that is not the user's; the message says where to look."""


def _fingerprint(data_dir: Path) -> str:
    """Changes when the code or the settings change, so a stale service is never used."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in {".py", ".j2"}:
                stat = path.stat()
                digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    for key in sorted(os.environ):
        if key.startswith(("HOERING_", "PREFECT_")):
            digest.update(f"{key}={os.environ[key]}".encode())
    digest.update(os.getcwd().encode())
    digest.update(str(data_dir.resolve()).encode())
    return digest.hexdigest()[:16]


def _socket_path(data_dir: Path) -> Path:
    return prefect_home(data_dir) / f"flows-{_fingerprint(data_dir)}.sock"


def _request(path: Path, payload: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall((json.dumps(payload, ensure_ascii=False, default=str) + "\n").encode())
        chunks = []
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


def _start_service(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    log = (path.parent / "flow-service.log").open("ab")
    subprocess.Popen(
        [sys.executable, "-m", "flows.flow_service", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if path.exists():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.connect(str(path))
                return
            except OSError:
                pass
        time.sleep(0.1)
    raise UserError(
        f"the hoering flow service did not start within {START_TIMEOUT_S:.0f} s; see "
        f"{path.parent / 'flow-service.log'}"
    )


def call_flow(data_dir: Path, module: str, name: str, **params: Any) -> Any:
    """Run flow `name` of `flows.<module>` in the flow service and return its result."""
    from flows.prefect_server import ensure_prefect_api

    ensure_prefect_api(data_dir)  # the service inherits the server's address
    path = _socket_path(data_dir)
    payload = {"module": module, "name": name, "params": params}
    lock_path = path.with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time
        if not _alive(path):
            _start_service(path)
    reply = _request(path, payload)
    if reply["ok"]:
        return reply["result"]
    if "user_error" in reply:
        error = UserError(reply["user_error"])
        error.exit_code = reply.get("exit_code", 2)
        raise error
    log = path.parent / "flow-errors.log"
    with log.open("a") as handle:
        handle.write(reply.get("traceback", reply["error"]) + "\n")
    raise FlowFailed(f"the flow {name} failed: {reply['error']} (details in {log})")


def _alive(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
        return True
    except OSError:
        path.unlink(missing_ok=True)
        return False
