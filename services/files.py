"""Reading files users name on the command line, with one-line errors."""

from __future__ import annotations

from pathlib import Path

from domain.errors import UserError


def read_text_file(path: str, what: str) -> str:
    """The UTF-8 text of `path`; `what` names the kind of file in messages."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} file '{path}' not found; check the path") from None
    except IsADirectoryError:
        raise UserError(f"{what} file '{path}' is a folder; give the file's path") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} file '{path}' is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} file '{path}': {exc.strerror}") from None
