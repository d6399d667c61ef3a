"""`hoering server start|stop|status`, `hoering worker`, `hoering deploy`: Prefect's own
server, worker and deployments for this installation (data dir), started only on request.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from cli import output
from domain.errors import UserError
from flows import prefect_server
from services import runtime

server_app = typer.Typer(
    help="The installation's Prefect server (UI and API): start, stop, status.",
    no_args_is_help=True,
)
POOL = "hoering"
REPO_ROOT = Path(__file__).resolve().parents[1]


def _data_dir() -> Path:
    return runtime.settings().data_dir


def _prefect(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*prefect_server.PREFECT, *args],
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if check and done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        raise UserError(f"prefect {' '.join(args[:2])} failed: {lines[-1] if lines else '?'}")
    return done


def _api_env() -> dict[str, str]:
    """Prefect's environment pointed at the running server (refused when there is none)."""
    data_dir = _data_dir()
    env = prefect_server.server_env(data_dir)
    env["PREFECT_API_URL"] = prefect_server.api_url(data_dir)
    return env


@server_app.command("start")
def server_start(
    port: Annotated[
        int | None, typer.Option(help="Port (default PREFECT_SERVER_API_PORT, else 4200).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run in this terminal (for systemd).")
    ] = False,
) -> None:
    """Start the Prefect server in the background (`prefect server start --background`)."""
    data_dir = _data_dir()
    if foreground:
        env = prefect_server.server_env(data_dir)
        env.pop("PREFECT_API_URL", None)
        port = port or int(os.environ.get("PREFECT_SERVER_API_PORT", prefect_server.DEFAULT_PORT))
        prefect_server.record_server(data_dir, f"http://{host}:{port}/api", os.getpid())
        args = [*prefect_server.PREFECT, "server", "start", "--host", host, "--port", str(port)]
        os.execve(args[0], args, env)  # the same pid: `hoering server status|stop` find it
    info = prefect_server.start_server(data_dir, port, host)
    output.stdout.print(f"Prefect server running: UI {info.ui_url} (pid {info.pid})")
    output.stdout.print("Stop it with: hoering server stop")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the installation's Prefect server."""
    if prefect_server.stop_server(_data_dir()):
        output.stdout.print("Prefect server stopped.")
    else:
        output.stdout.print("No Prefect server was running for this installation.")


@server_app.command("status")
def server_status() -> None:
    """Whether the server runs, and the address of its UI."""
    info = prefect_server.recorded_server(_data_dir())
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        state = "answers" if prefect_server.is_healthy(configured) else "does NOT answer"
        output.stdout.print(f"PREFECT_API_URL={configured} {state}")
    if info is None:
        output.stdout.print("No Prefect server started for this installation.")
        raise typer.Exit(0 if configured else 1)
    state = "running" if info.healthy else "NOT answering"
    output.stdout.print(f"Prefect server {state}: UI {info.ui_url} (pid {info.pid})")
    raise typer.Exit(0 if info.healthy else 1)


def _ensure_pool(env: dict[str, str]) -> bool:
    """Create the `hoering` process work pool when it is missing; True if created."""
    if _prefect("work-pool", "inspect", POOL, env=env, check=False).returncode == 0:
        return False
    _prefect("work-pool", "create", POOL, "--type", "process", env=env)
    return True


def _post(api_url: str, path: str) -> list[dict]:
    request = urllib.request.Request(
        f"{api_url}{path}", data=b"{}", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


def deployment_names(api_url: str) -> list[str]:
    """Every deployment on the server as FLOW/DEPLOYMENT."""
    flows = {f["id"]: f["name"] for f in _post(api_url, "/flows/filter")}
    return sorted(
        f"{flows[d['flow_id']]}/{d['name']}" for d in _post(api_url, "/deployments/filter")
    )


def deploy() -> None:
    """Apply every deployment in prefect.yaml (and create the `hoering` work pool)."""
    env = _api_env()
    created = _ensure_pool(env)
    _prefect("--no-prompt", "deploy", "--all", env=env)
    output.stdout.print(f"Work pool '{POOL}' " + ("created" if created else "already there"))
    names = deployment_names(env["PREFECT_API_URL"])
    output.stdout.print(f"{len(names)} deployments applied: {', '.join(names)}")
    output.stdout.print("Scheduled ones run when a worker runs: hoering worker")


def worker(
    limit: Annotated[int | None, typer.Option(help="At most this many runs at once.")] = None,
) -> None:
    """Run a Prefect worker on the `hoering` pool in this terminal (Ctrl-C stops it)."""
    env = _api_env()
    args = [*prefect_server.PREFECT, "worker", "start", "--pool", POOL]
    if limit:
        args += ["--limit", str(limit)]
    os.execve(args[0], args, env)
