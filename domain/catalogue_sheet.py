"""A learning-goal catalogue as a spreadsheet: the layout, the row model and the diff.

One sheet per catalogue, titled with the catalogue's code (BLS, FKM, LIS1); a header row,
then one row per goal in the columns of `COLUMNS` (named as in the change sheet,
`rendering.change_sheet`). `parse_catalogue_sheet` validates the cells of one sheet with
the shared machinery of the files people write (`domain.yaml_lines`): the first problem
is one `UserError` line naming the file, the sheet, the row and the column.
`diff_catalogue` compares a sheet with the goals loaded: added, changed, removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from domain.competence import level_of_text
from domain.errors import InvalidGoalId, UserError
from domain.goal_ids import IdRegistry
from domain.letter_building import LEVEL_WORDS_NB
from domain.spec_catalogue import same_text
from domain.spec_values import parse_date_value
from domain.yaml_lines import (
    FileModel,
    Path,
    SourceMap,
    custom_error,
    shown_value,
    unknown_name_message,
    validate_file,
)

# (field, column header): the order of the columns in the sheet.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Læringsmåls-ID"),
    ("text", "Læringsmål"),
    ("elaboration", "Utdypende tekst"),
    ("level", "Kompetansenivå"),
    ("training_part", "Del"),
    ("heading", "Temaoverskrift"),
    ("valid_from", "Gyldig fra"),
    ("valid_to", "Gyldig til"),
    ("status", "Status"),
)
HEADERS = tuple(header for _, header in COLUMNS)
ACTIVE_NB, RETIRED_NB = "aktiv", "utgått"
_STATUS = {ACTIVE_NB: "active", RETIRED_NB: "retired"}
_LEVELS = {f"{word} nivå" for word in LEVEL_WORDS_NB.values()}
_ID_RE = re.compile(r"[A-Z]{2,5}-[0-9]{1,4}")
_PART_RE = re.compile(r"(?:del|lis)?\s*([123])", re.IGNORECASE)


def level_words(text: str) -> str:
    """The competence level column: derived from the text ('mellomste nivå'), or ''."""
    level = level_of_text(text)
    return f"{LEVEL_WORDS_NB[int(level)]} nivå" if level else ""


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _required_text(name: str) -> BeforeValidator:
    def check(value: object) -> str:
        text = _cell_text(value)
        if text is None:
            raise custom_error("empty", f"the {name} is empty; write it")
        return text

    return BeforeValidator(check)


def _optional_text(value: object) -> str | None:
    return _cell_text(value)


def _goal_id(value: object) -> str:
    text = (_cell_text(value) or "").upper().replace(" ", "")
    if not _ID_RE.fullmatch(text):
        raise custom_error(
            "goal_id", f"{shown_value(value)} is not a learning-goal ID; write it like BLS-001"
        )
    return text


def _part(value: object) -> int | None:
    if isinstance(value, int) and value in (1, 2, 3):
        return value
    text = _cell_text(value)
    if text is None:
        return None
    match = _PART_RE.fullmatch(text)
    if match is None:
        raise custom_error("part", f"{shown_value(value)} is not a training part; write 1, 2 or 3")
    return int(match[1])


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if _cell_text(value) is None:
        return None
    try:
        return parse_date_value(value)
    except ValueError:
        raise custom_error(
            "date", f"{shown_value(value)} is not a date; write it as YYYY-MM-DD or D.M.YYYY"
        ) from None


def _status(value: object) -> str:
    text = (_cell_text(value) or ACTIVE_NB).lower()
    if text not in _STATUS:
        raise custom_error(
            "status", f"{shown_value(value)} is not a status; write {ACTIVE_NB} or {RETIRED_NB}"
        )
    return _STATUS[text]


def _level(value: object) -> str | None:
    text = _cell_text(value)
    if text is not None and text.lower() not in _LEVELS:
        raise custom_error(
            "level",
            f"{shown_value(value)} is not a competence level; write one of "
            f"{', '.join(sorted(_LEVELS))} or leave it empty (it follows from the text)",
        )
    return text


class CatalogueSheetRow(FileModel):
    """One goal as a row of the sheet. The level column is derived from the text and only
    checked for its form; a status `utgått` marks a retired goal."""

    id: Annotated[str, BeforeValidator(_goal_id)]
    text: Annotated[str, _required_text("goal text")]
    elaboration: Annotated[str | None, BeforeValidator(_optional_text)] = None
    level: Annotated[str | None, BeforeValidator(_level)] = None
    training_part: Annotated[int | None, BeforeValidator(_part)] = None
    heading: Annotated[str | None, BeforeValidator(_optional_text)] = None
    valid_from: Annotated[date | None, BeforeValidator(_date)] = None
    valid_to: Annotated[date | None, BeforeValidator(_date)] = None
    status: Annotated[str, BeforeValidator(_status)] = "active"


class CatalogueSheetRows(FileModel):
    rows: list[CatalogueSheetRow] = Field(default_factory=list)


@dataclass(frozen=True)
class SheetSourceMap(SourceMap):
    """Names a cell as 'FILE, sheet 'BLS' row 7, column B (Læringsmål)'."""

    sheet: str = ""
    letters: Mapping[str, str] = field(default_factory=dict)

    def locate(self, path: Path) -> str:
        where = f"{self.source}, sheet '{self.sheet}'"
        row = self.line_of(path)
        if row is not None and len(path) >= 2:
            where += f" row {row}"
        if len(path) >= 3 and isinstance(path[2], str):
            header = dict(COLUMNS).get(path[2], path[2])
            where += f", column {self.letters.get(path[2], '?')} ({header})"
        return where


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def parse_catalogue_sheet(
    cells: Sequence[Sequence[object]], source: str, sheet: str, paddings: Mapping[str, int]
) -> tuple[CatalogueSheetRow, ...]:
    """The goal rows of one sheet (`cells`: its rows of cell values, header first) of the
    catalogue whose ID prefixes and their padding are `paddings`."""
    if not cells or not any(_cell_text(c) for c in cells[0]):
        raise UserError(
            f"{source}, sheet '{sheet}' row 1: no header row; write the headers "
            f"{', '.join(HEADERS)}"
        )
    by_header = {header.casefold(): name for name, header in COLUMNS}
    columns: dict[int, str] = {}
    for index, raw in enumerate(cells[0]):
        header = _cell_text(raw)
        if header is None:
            continue
        if header.casefold() not in by_header:
            raise UserError(
                f"{source}, sheet '{sheet}' row 1, column {_letter(index)}: "
                + unknown_name_message(header, HEADERS, "column")
            )
        columns[index] = by_header[header.casefold()]
    for name, header in COLUMNS[:2]:  # the ID and the text
        if name not in columns.values():
            raise UserError(
                f"{source}, sheet '{sheet}' row 1: no column '{header}'; add it to the header row"
            )
    rows: list[dict[str, object]] = []
    lines: dict[Path, int] = {(): 1, ("rows",): 1}
    for number, raw_row in enumerate(cells[1:], start=2):
        values = {columns[i]: v for i, v in enumerate(raw_row) if i in columns}
        if not any(_cell_text(v) for v in values.values()):
            continue
        lines[("rows", len(rows))] = number
        rows.append(values)
    letters = {name: _letter(index) for index, name in columns.items()}
    source_map = SheetSourceMap(source, lines, sheet=sheet, letters=letters)
    parsed = validate_file(CatalogueSheetRows, {"rows": rows}, source_map).rows
    _check_ids(parsed, source_map, sheet, paddings)
    return tuple(parsed)


def _check_ids(
    rows: Sequence[CatalogueSheetRow],
    source_map: SheetSourceMap,
    sheet: str,
    paddings: Mapping[str, int],
) -> None:
    """Every ID has one of the catalogue's prefixes, written with its padding, once."""
    registry = IdRegistry(paddings)
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        prefix = row.id.split("-")[0]
        if prefix not in paddings:
            raise source_map.error(
                ("rows", index, "id"),
                f"{row.id} is not an ID of catalogue {sheet} (prefixes "
                f"{', '.join(sorted(paddings))}); move the row to that catalogue's sheet",
            )
        try:
            registry.parse(row.id)
        except InvalidGoalId as exc:
            raise source_map.error(("rows", index, "id"), str(exc)) from None
        if row.id in seen:
            first = source_map.line_of(("rows", seen[row.id]))
            raise source_map.error(
                ("rows", index, "id"), f"{row.id} is already on row {first}; keep one row per goal"
            )
        seen[row.id] = index


# --- comparing with what is loaded -------------------------------------------------------


@dataclass(frozen=True)
class GoalState:
    """One goal of a catalogue as the sheet and the database both describe it."""

    goal_id: str
    text: str
    elaboration: str | None
    heading: str | None
    training_part: int | None
    status: str
    valid_from: date | None = None
    valid_to: date | None = None

    @classmethod
    def of_row(cls, row: CatalogueSheetRow) -> GoalState:
        return cls(
            row.id,
            row.text,
            row.elaboration,
            row.heading,
            row.training_part,
            row.status,
            row.valid_from,
            row.valid_to,
        )

    def differences(self, other: GoalState) -> tuple[str, ...]:
        """The fields in which `other` says something else (dates are not compared: a
        changed goal gets a new version from the day of the import)."""
        return tuple(
            name
            for name, mine, theirs in (
                ("text", self.text, other.text),
                ("elaboration", self.elaboration, other.elaboration),
                ("heading", self.heading, other.heading),
            )
            if not same_text(mine, theirs)
        ) + tuple(
            name
            for name, mine2, theirs2 in (
                ("training_part", self.training_part, other.training_part),
                ("status", self.status, other.status),
            )
            if mine2 != theirs2
        )


@dataclass(frozen=True)
class Change:
    before: GoalState
    after: GoalState
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CatalogueDiff:
    code: str
    added: tuple[GoalState, ...]
    changed: tuple[Change, ...]
    removed: tuple[GoalState, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def as_json(self) -> dict[str, Any]:
        return {
            "catalogue": self.code,
            "added": [g.goal_id for g in self.added],
            "changed": {c.after.goal_id: list(c.fields) for c in self.changed},
            "removed": [g.goal_id for g in self.removed],
        }


def diff_catalogue(
    code: str, loaded: Iterable[GoalState], incoming: Iterable[GoalState]
) -> CatalogueDiff:
    """What importing `incoming` changes in the catalogue `code` whose goals are `loaded`
    (each goal's latest version). A loaded goal missing from the sheet is removed (it
    retires), unless it is retired already."""
    before = {g.goal_id: g for g in loaded}
    after = {g.goal_id: g for g in incoming}
    added = tuple(g for i, g in after.items() if i not in before)
    changed = tuple(
        Change(before[i], g, fields)
        for i, g in after.items()
        if i in before and (fields := before[i].differences(g))
    )
    removed = tuple(g for i, g in before.items() if i not in after and g.status != "retired")
    return CatalogueDiff(code, added, changed, removed)
