"""CSV files staff write, read into the same shape as the YAML ones.

`load_csv_rows` returns the rows as mappings (column -> text, header names folded to
lower case, blank rows skipped) and a `SourceMap` whose paths are `(rows_key, index,
column)`, so that a pydantic model validates a CSV row exactly as it validates a YAML
entry and `user_error_from_validation` points at the row's line in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from domain.errors import UserError
from domain.yaml_lines import Path, SourceMap, unknown_name_message

_SNIFF_BYTES = 4096


def load_csv_rows(
    text: str, source: str, columns: Iterable[str], rows_key: str = "rows"
) -> tuple[list[dict[str, str]], SourceMap]:
    """The non-blank rows of a CSV text with a header row (`,`, `;` or tab separated).

    A header that is not one of `columns` is refused at line 1 with the known column it
    resembles.
    """
    known = sorted(columns)
    body = text.lstrip("\ufeff")
    try:
        dialect: Any = csv.Sniffer().sniff(body[:_SNIFF_BYTES], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(body), dialect=dialect)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if not any(header):
            raise UserError(f"{source}: the file is empty; write a header row first")
        for name in header:
            if name and name not in known:
                raise UserError(f"{source} line 1: {unknown_name_message(name, known, 'column')}")
        rows: list[dict[str, str]] = []
        lines: dict[Path, int] = {(): 1, (rows_key,): 1}
        start = reader.line_num + 1
        for raw in reader:
            values = {name: cell.strip() for name, cell in zip(header, raw, strict=False) if name}
            if any(values.values()):
                index = len(rows)
                lines[(rows_key, index)] = start
                for name in values:
                    lines[(rows_key, index, name)] = start
                rows.append(values)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UserError(
            f"{source} line {reader.line_num}: not valid CSV ({exc}); check the quotes"
        ) from None
    return rows, SourceMap(source, lines)
