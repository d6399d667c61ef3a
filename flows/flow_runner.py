"""Running a flow from a CLI command: a direct call of the flow against the Prefect API.

The command has already checked what needs only the database. Here the installation's
Prefect server is looked up (a missing one is refused in one line, before Prefect is
imported), the process is pointed at it, and the flow function is called, exactly the
function the deployments run. The flow's own return value comes back; a flow that
fails raises its own exception (a UserError stays a one-line refusal).

Why a direct call and not `run_deployment` + worker: see README, "How flows run".
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Any

from flows.prefect_server import api_url, prefect_home
from services import runtime


def prepare_prefect() -> str:
    """Point this process at the installation's Prefect API before Prefect is imported
    (Prefect reads its settings at import). Returns the API URL."""
    data_dir = runtime.settings().data_dir
    url = api_url(data_dir)
    os.environ["PREFECT_API_URL"] = url
    os.environ.setdefault("PREFECT_HOME", str(prefect_home(data_dir)))
    # Run logs go to the API (the UI shows them); the terminal gets the command's lines.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return url


def run_flow(module: str, name: str, **params: Any) -> Any:
    """Run flow `name` of `flows.<module>` in this process and return its result."""
    prepare_prefect()
    flow_fn = getattr(importlib.import_module(f"flows.{module}"), name)
    result = flow_fn(**params)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result
