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
- `domain.review_file`: reading a review file (YAML or CSV) into `ReviewInput`s;
- this module: applying a review file (all rows or none).

The review of a hearing is complete when every response that is not an automatic reply
has a stance (`unreviewed_response_count`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from domain.review_file import parse_review_file
from services import hearings
from services.campaigns import group_campaigns
from services.excerpts import add_excerpt
from services.review_lookup import HearingIndex, ReviewError
from services.review_queue import review_history, review_queue
from services.review_recording import record_review, resolve_review, write_reviews
from storage.review_queries import unreviewed_response_count
from storage.rows import row_id

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
        "unreviewed": unreviewed_response_count(session, row_id(hearing)),
        "reviews": results,
    }
