"""The review desk shows a supplement beside its first response and counts it once."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select

from storage.db import read_session, write_session
from storage.intake_models import ResponseRow
from tests.desk_helpers import SLUG, response_with_suggestion
from tests.web.test_web_desk import desk, sign_in

__all__ = ["desk"]  # the fixture, shared with the desk's own tests


def test_a_supplement_links_to_its_first_response_and_counts_once(desk, engine):
    sign_in(desk, "marie")
    first = response_with_suggestion(engine)
    with read_session(engine) as session:
        other = session.exec(
            select(ResponseRow)
            .where(col(ResponseRow.hearing_id) == first.hearing_id, ResponseRow.id != first.id)
            .where(col(ResponseRow.stance).is_(None), col(ResponseRow.auto_submitted).is_(False))
            .order_by(col(ResponseRow.id).desc())
        ).first()
    assert other is not None
    with write_session(engine) as session:
        session.execute(
            update(ResponseRow)
            .where(col(ResponseRow.id) == other.id)
            .values(supplement_of_id=first.id)
        )
    page = desk.get(f"/r/{other.id}")
    assert page.status_code == 200
    assert 'id="supplement-of"' in page.text and f'href="/r/{first.id}"' in page.text
    assert 'id="review-form"' not in page.text and "Dette er et tillegg" in page.text
    first_page = desk.get(f"/r/{first.id}")
    assert 'id="supplements"' in first_page.text and f'href="/r/{other.id}"' in first_page.text
    listed = desk.get(f"/h/{SLUG}/responses")
    assert "33 svar" in listed.text and "33 uvurdert" in listed.text  # 34 before
