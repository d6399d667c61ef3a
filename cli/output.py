"""Printing for the CLI: JSON for scripts on stdout, Rich tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from domain.calendar import OSLO

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)


def open_consoles() -> None:
    """New consoles for a command, so each reads the terminal's width (COLUMNS) afresh."""
    global stdout, stderr
    stdout = Console(soft_wrap=True)
    stderr = Console(stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=_default) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    stdout.print(table)


def error_line(message: str) -> None:
    """One line on stderr, as every user error is reported."""
    sys.stderr.write(f"hoering: error: {message}\n")


def warning_line(message: str) -> None:
    """One line on stderr for something the user should know but that did not stop
    the command (unverified data, a short deadline)."""
    sys.stderr.write(f"hoering: warning: {message}\n")


def local_time(value: datetime | str | None) -> str:
    """A stored moment (aware datetime, or ISO text from a JSON row) as Oslo wall time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(OSLO).strftime("%Y-%m-%d %H:%M")
    return ""
