"""Running a Prefect flow from a CLI command, so every state change shows in Prefect."""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

from flows.prefect_server import ensure_prefect_api
from services import runtime


def prepare_prefect() -> None:
    """Point Prefect at the local (or configured) server before it is imported."""
    config = runtime.settings()
    ensure_prefect_api(config.data_dir)
    # Run logs go to the Prefect API (the UI shows them); the terminal gets our one line.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def run_flow(module: str, name: str, **params: Any) -> Any:
    """Run async flow `name` of `flows.<module>` and return its result.

    By default the resident flow service runs it (fast: Prefect is already imported
    there); with HOERING_INLINE_FLOWS=1 it runs in this process.
    """
    if os.environ.get("HOERING_INLINE_FLOWS", "").lower() in {"1", "true", "yes"}:
        return run_flow_inline(module, name, **params)
    from flows.flow_client import call_flow

    return call_flow(runtime.settings().data_dir, module, name, **params)


def run_flow_inline(module: str, name: str, **params: Any) -> Any:
    """Run the flow in this process. The module is imported only after the API address
    is set: Prefect reads its settings when it is first imported."""
    prepare_prefect()
    flow_fn: Callable[..., Awaitable[Any]] = getattr(
        importlib.import_module(f"flows.{module}"), name
    )
    return asyncio.run(flow_fn(**params))
