"""The review of a hearing's responses, and review files.

A review is recorded by a person (`record_review`, the CLI) or from a review file
(`apply_review_file`, YAML or CSV, one row a response); either way the stance is one a
person chose, or the suggested stance with the flag that it was accepted as suggested.
Where the parts live:

- `services.review_lookup`: the responses, attachments, items and campaign groups a review
  looks up (`HearingIndex`), `ReviewError`;
- `services.review_recording`: checking and writing a review (current review, history);
- `services.excerpts`: quoted passages tied to a change item;
- `services.campaigns`: grouping near-identical responses (`group_campaigns`);
- `services.review_queue`: what is left to review, and the history;
- `storage.review_queries`: the one definition of an unreviewed response;
- this module: reading review files and applying them (all rows or none).

The review of a hearing is complete when every response that is not an automatic reply
has a stance (`unreviewed_response_count`).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlmodel import Session

from domain.yaml_lines import SourceMap, load_yaml_mapping
from services import hearings
from services.campaigns import group_campaigns
from services.excerpts import add_excerpt
from services.review_inputs import ExcerptInput, ReviewInput
from services.review_lookup import HearingIndex, ReviewError
from services.review_queue import review_history, review_queue
from services.review_recording import record_review, resolve_review, write_reviews
from storage.review_queries import unreviewed_response_count

__all__ = [  # the review flows and the CLI call these through this module
    "ReviewError",
    "add_excerpt",
    "apply_review_file",
    "group_campaigns",
    "parse_review_file",
    "record_review",
    "review_history",
    "review_queue",
    "unreviewed_response_count",
]

_TRUE = frozenset({"true", "yes", "ja", "1", "x"})
_FALSE = frozenset({"false", "no", "nei", "0", ""})


# --- review files ----------------------------------------------------------------------------


def parse_review_file(text: str, source: str) -> tuple[str | None, list[ReviewInput]]:
    """The rows of a review file: YAML (`case:` and `reviews:`) or CSV (a header row with
    response/from, stance, items, note, accept_suggestion, campaign, excerpt_item,
    excerpt). Returns the case the file names (YAML only) and the rows."""
    if source.lower().endswith(".csv"):
        return None, _parse_csv(text, source)
    return _parse_yaml(text, source)


def _flag(value: Any, where: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ReviewError(f"{where}: `{name}` must be true or false, not '{value}'")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def _items(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return tuple(str(v) for v in value)
    raise ReviewError(f"{where}: `items` must be a list of change items, e.g. [KIR, NKI]")


_YAML_FIELDS = frozenset(
    {"response", "from", "stance", "items", "note", "accept_suggestion", "campaign", "excerpts"}
)


def _parse_yaml(text: str, source: str) -> tuple[str | None, list[ReviewInput]]:
    data, lines = load_yaml_mapping(text, source)
    unknown = sorted(set(data) - {"case", "reviews"})
    if unknown:
        raise lines.error(
            (unknown[0],), f"unknown field `{unknown[0]}`; a review file has case and reviews"
        )
    rows = data.get("reviews")
    if not isinstance(rows, list) or not rows:
        raise lines.error(
            ("reviews",), "`reviews` must be a list with one entry per response or campaign"
        )
    entries = []
    for index, row in enumerate(rows):
        entries.append(_yaml_row(row, index, lines))
    case = _text(data.get("case"))
    return case, entries


def _yaml_row(row: Any, index: int, lines: SourceMap) -> ReviewInput:
    path = ("reviews", index)
    where = lines.locate(path)
    if not isinstance(row, dict):
        raise lines.error(path, "each review must be a mapping (`response:`, `stance:`, ...)")
    unknown = sorted(set(row) - _YAML_FIELDS)
    if unknown:
        raise lines.error(
            (*path, unknown[0]),
            f"unknown field `{unknown[0]}`; use {', '.join(sorted(_YAML_FIELDS))}",
        )
    excerpts = []
    raw_excerpts = row.get("excerpts") or []
    if not isinstance(raw_excerpts, list):
        raise lines.error((*path, "excerpts"), "`excerpts` must be a list of {item, quote}")
    for number, excerpt in enumerate(raw_excerpts):
        at = (*path, "excerpts", number)
        if not isinstance(excerpt, dict) or not _text(excerpt.get("quote")):
            raise lines.error(at, "an excerpt needs `quote:` (the passage) and may have `item:`")
        excerpts.append(
            ExcerptInput(
                item=_text(excerpt.get("item")),
                quote=str(excerpt["quote"]),
                attachment=_text(excerpt.get("attachment")),
                where=lines.locate(at),
            )
        )
    return ReviewInput(
        where=where,
        source=f"file {where}",
        response=_text(row.get("response")),
        sender=_text(row.get("from")),
        stance=_text(row.get("stance")),
        items=_items(row.get("items"), lines.locate((*path, "items"))),
        note=_text(row.get("note")),
        accept_suggestion=_flag(row.get("accept_suggestion"), where, "accept_suggestion"),
        campaign=_flag(row.get("campaign"), where, "campaign"),
        excerpts=excerpts,
    )


_CSV_COLUMNS = frozenset(
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


def _parse_csv(text: str, source: str) -> list[ReviewInput]:
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise ReviewError(f"{source}: the file is empty; write a header row first")
    unknown = [h for h in header if h and h not in _CSV_COLUMNS]
    if unknown:
        raise ReviewError(
            f"{source} line 1: unknown column '{unknown[0]}'; use {', '.join(sorted(_CSV_COLUMNS))}"
        )
    if not {"response", "tracking_number", "id", "from"} & set(header):
        raise ReviewError(
            f"{source} line 1: no column naming the response; add `response` "
            "(tracking number or id) or `from` (sender address)"
        )
    entries = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        where = f"{source} line {number}"
        excerpts = []
        if row.get("excerpt"):
            excerpts.append(
                ExcerptInput(
                    item=row.get("excerpt_item") or None, quote=row["excerpt"], where=where
                )
            )
        entries.append(
            ReviewInput(
                where=where,
                source=f"file {where}",
                response=row.get("response") or row.get("tracking_number") or row.get("id") or None,
                sender=row.get("from") or None,
                stance=row.get("stance") or None,
                items=(row["items"],) if row.get("items") else (),
                note=row.get("note") or None,
                accept_suggestion=_flag(row.get("accept_suggestion"), where, "accept_suggestion"),
                campaign=_flag(row.get("campaign"), where, "campaign"),
                excerpts=excerpts,
            )
        )
    if not entries:
        raise ReviewError(f"{source}: no reviews after the header row; add one row per response")
    return entries


def apply_review_file(
    session: Session, case: str, text: str, source: str, *, actor: str, now: datetime
) -> dict[str, Any]:
    """Apply every row of a review file, or none: the first bad row raises one line."""
    hearing = hearings.get_hearing(session, case)
    named_case, entries = parse_review_file(text, source)
    if named_case is not None and named_case != hearing.case_number:
        raise ReviewError(
            f"{source}: the file reviews case {named_case}, not {hearing.case_number}; use the "
            "review file of this hearing"
        )
    index = HearingIndex(session, hearing)
    resolved = [resolve_review(index, entry) for entry in entries]
    seen: dict[int, str] = {}
    for entry in resolved:
        for response in entry.responses:
            assert response.id is not None
            if response.id in seen and entry.campaign is None:
                raise ReviewError(
                    f"{entry.input.where}: response {response.tracking_number} is reviewed "
                    f"twice (also {seen[response.id]}); keep one row per response"
                )
            seen.setdefault(response.id, entry.input.where)
    results = write_reviews(session, hearing, resolved, actor, now)
    return {
        "case": hearing.case_number,
        "rows": len(results),
        "responses_reviewed": sum(len(r["responses"]) for r in results),
        "excerpts_added": sum(r["excerpts_added"] for r in results),
        "unreviewed": unreviewed_response_count(session, hearing.id),
        "reviews": results,
    }
