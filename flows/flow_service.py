"""A resident process that runs hoering's flows for the CLI, so commands stay fast.

Importing Prefect costs about 2 s and a Prefect process needs about 1 s to drain its
event queue at exit, so a command that ran its flow in-process would take 4-5 s. The
first state-changing command therefore starts this service (once per data dir, code
version and settings); it imports Prefect and the flows once, and every later command
sends it one request over a Unix socket and gets the flow's result back. Flow runs
still report to the Prefect server, so they show in the UI.

Requests are served one at a time. The service exits after `IDLE_SECONDS` without a
request, or when the code it runs changes (a new fingerprint starts a new service).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

IDLE_SECONDS = 30 * 60


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str) + "\n"


async def _run_request(request: dict[str, Any]) -> dict[str, Any]:
    from domain.errors import UserError
    from storage.db import short_error

    try:
        module = importlib.import_module(f"flows.{request['module']}")
        result = await getattr(module, request["name"])(**request["params"])
        return {"ok": True, "result": result}
    except UserError as exc:
        return {"ok": False, "user_error": str(exc), "exit_code": getattr(exc, "exit_code", 2)}
    except Exception as exc:
        return {
            "ok": False,
            "error": short_error(exc),
            "traceback": traceback.format_exc(),
        }


async def serve(socket_path: Path) -> None:
    from flows.flow_runner import prepare_prefect

    prepare_prefect()
    import flows.hearing_flows  # noqa: F401  (import Prefect and the flows once, up front)

    lock = asyncio.Lock()
    last_request = asyncio.get_running_loop().time()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal last_request
        try:
            line = await reader.readline()
            if not line.strip():  # a liveness probe
                return
            request = json.loads(line)
            async with lock:
                last_request = asyncio.get_running_loop().time()
                reply = await _run_request(request)
                last_request = asyncio.get_running_loop().time()
            writer.write(_encode(reply).encode())
            await writer.drain()
        finally:
            writer.close()

    socket_path.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(handle, path=str(socket_path), limit=2**24)
    os.chmod(socket_path, 0o600)
    async with server:
        while True:
            await asyncio.sleep(5)
            idle = asyncio.get_running_loop().time() - last_request
            if (idle > IDLE_SECONDS and not lock.locked()) or not socket_path.exists():
                break
    socket_path.unlink(missing_ok=True)


def main() -> None:
    asyncio.run(serve(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
