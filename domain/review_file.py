"""The review file: a person's stance, items, note and excerpts for many responses at once.

YAML (`case:` and `reviews:`, one entry per response or campaign) or CSV (a header row
with response/from, stance, items, note, accept_suggestion, campaign, excerpt_item,
excerpt). Both are read by the shared loaders (`domain.yaml_lines`, `domain.csv_lines`)
and validated by the same `ReviewEntry` model, so a mistake is reported alike: one line
with the file, the line and the fix. `parse_review_file` turns the file into the
`ReviewInput`s that `services.review` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from domain.csv_lines import load_csv_rows
from domain.errors import UserError
from domain.yaml_lines import (
    FileModel,
    Path,
    SourceMap,
    custom_error,
    load_yaml_mapping,
    shown_value,
    validate_file,
)

_TRUE = frozenset({"true", "yes", "ja", "1", "x"})
_FALSE = frozenset({"false", "no", "nei", "0", ""})
CSV_COLUMNS = frozenset(
    {
        "response",
        "tracking_number",
        "id",
        "from",
        "stance",
        "items",
        "note",
        "accept_suggestion",
        "campaign",
        "excerpt_item",
        "excerpt",
    }
)
_NAMING_COLUMNS = frozenset({"response", "tracking_number", "id", "from"})


# --- what is recorded ---------------------------------------------------------------------


@dataclass
class ExcerptInput:
    item: str | None
    quote: str
    attachment: str | None = None
    where: str = "excerpt"


@dataclass
class ReviewInput:
    """One review to record, as typed (CLI) or read (one row of a review file)."""

    where: str  # for error messages: "--stance" or "reviews.yaml line 7"
    source: str  # for the history: "cli" or "file reviews.yaml line 7"
    response: str | None = None  # tracking number or id
    sender: str | None = None  # or the sender's address, when it is unique in the hearing
    stance: str | None = None
    items: tuple[str, ...] = ()
    note: str | None = None
    accept_suggestion: bool = False
    campaign: bool = False
    excerpts: list[ExcerptInput] = field(default_factory=list)
    items_where: str | None = None  # where item errors point, when not `where`


# --- the file's model -----------------------------------------------------------------------


def _optional_text(value: object) -> object:
    if value is None or isinstance(value, dict | list):
        return value
    return str(value).strip() or None


def _flag(value: object) -> object:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise custom_error("flag", f"must be true or false, not {shown_value(value)}")


def _items(value: object) -> object:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return tuple(str(v) for v in value)
    raise custom_error("items", "`items` must be a list of change items, e.g. [KIR, NKI]")


OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Items = Annotated[tuple[str, ...], BeforeValidator(_items)]


def _quote(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise custom_error("quote", "an excerpt needs `quote:` (the passage) and may have `item:`")
    return value


class ExcerptEntry(FileModel):
    quote: Annotated[str, BeforeValidator(_quote)]
    item: OptionalText = None
    attachment: OptionalText = None


class ReviewEntry(FileModel):
    response: OptionalText = None
    sender: OptionalText = Field(default=None, alias="from")
    stance: OptionalText = None
    items: Items = ()
    note: OptionalText = None
    accept_suggestion: Flag = False
    campaign: Flag = False
    excerpts: list[ExcerptEntry] = Field(default_factory=list)


class ReviewFile(FileModel):
    case: OptionalText = None
    reviews: list[ReviewEntry] = Field(min_length=1)


def _hint(path: Path, error: Any) -> str | None:
    if path == ("reviews",):
        return "`reviews` must be a list with one entry per response or campaign"
    if len(path) == 2 and path[0] == "reviews" and error["type"] == "model_type":
        return "each review must be a mapping (`response:`, `stance:`, ...)"
    if "excerpts" in path and error["type"] in {"missing", "too_short", "model_type"}:
        return "an excerpt needs `quote:` (the passage) and may have `item:`"
    return None


# --- reading --------------------------------------------------------------------------------


def parse_review_file(text: str, source: str) -> tuple[str | None, list[ReviewInput]]:
    """The case the file names (YAML only) and its rows, or one UserError line."""
    if source.lower().endswith(".csv"):
        data, lines = _csv_document(text, source)
        single_line = True
    else:
        data, lines = load_yaml_mapping(text, source)
        single_line = False
    parsed = validate_file(ReviewFile, data, lines, _hint)
    return parsed.case, [
        _review_input(entry, index, lines, single_line)
        for index, entry in enumerate(parsed.reviews)
    ]


def _csv_document(text: str, source: str) -> tuple[dict[str, Any], SourceMap]:
    rows, lines = load_csv_rows(text, source, CSV_COLUMNS, rows_key="reviews")
    header = {name for row in rows for name in row} if rows else set()
    if rows and not _NAMING_COLUMNS & header:
        raise UserError(
            f"{source} line 1: no column naming the response; add `response` "
            "(tracking number or id) or `from` (sender address)"
        )
    if not rows:
        raise UserError(f"{source}: no reviews after the header row; add one row per response")
    return {"reviews": [_csv_entry(row) for row in rows]}, lines


def _csv_entry(row: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        name: row[name]
        for name in ("from", "stance", "items", "note", "accept_suggestion", "campaign")
        if row.get(name)
    }
    named = row.get("response") or row.get("tracking_number") or row.get("id")
    if named:
        entry["response"] = named
    if row.get("excerpt"):
        entry["excerpts"] = [{"quote": row["excerpt"], "item": row.get("excerpt_item")}]
    return entry


def _review_input(
    entry: ReviewEntry, index: int, lines: SourceMap, single_line: bool
) -> ReviewInput:
    def where(*path: str | int) -> str:
        if single_line:  # a CSV row is one line: its number says it all
            return f"{lines.source} line {lines.line_of(('reviews', index))}"
        return lines.locate(("reviews", index, *path))

    return ReviewInput(
        where=where(),
        source=f"file {where()}",
        response=entry.response,
        sender=entry.sender,
        stance=entry.stance,
        items=entry.items,
        note=entry.note,
        accept_suggestion=entry.accept_suggestion,
        campaign=entry.campaign,
        excerpts=[
            ExcerptInput(
                item=excerpt.item,
                quote=excerpt.quote,
                attachment=excerpt.attachment,
                where=where("excerpts", number),
            )
            for number, excerpt in enumerate(entry.excerpts)
        ],
    )
