"""The review desk in tests: hearing 24/750 with the example responses grouped into
campaigns, one unmatched response, two users, and signing in through the real form."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import col, select

from config.settings import Settings, WebSettings
from domain.calendar import OSLO
from domain.web_users import Role
from services import review
from services.desk_users import add_user
from storage.db import read_session, write_session
from storage.intake_models import ResponseRow
from tests.services.test_review_storage import email, hearing_with_responses, import_messages

CASE = "24/750"
SLUG = "24-750"
PASSWORD = "riktig-passord-1"
GROUPED = datetime(2024, 6, 11, 9, 0, tzinfo=OSLO)
STRAY_ADDRESS = "ukjent.person@example.org"
STRAY_BODY = "Vi støtter forslaget. <script>alert('x')</script>"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def desk_settings(tmp_path: Path, db_url: str, **web: object) -> Settings:
    users = tmp_path / "web-users.yaml"
    add_user(users, "marie", Role.SAKSBEHANDLER, PASSWORD)
    add_user(users, "lars", Role.LESER, PASSWORD)
    return Settings(
        data_dir=tmp_path,
        database_url=db_url,
        web=WebSettings(secret=SecretStr("test-secret"), users_file=users, **web),  # type: ignore[arg-type]
    )


def desk_hearing(engine: Engine, folder: Path) -> None:
    """24/750 closed with the example responses, campaigns grouped, one unmatched
    reply and one quarantined message."""
    store = hearing_with_responses(engine, folder)
    with write_session(engine) as session:
        review.group_campaigns(session, CASE, actor="system", now=GROUPED)
    stray = email("Ukjent Person", STRAY_ADDRESS, "Innspill", STRAY_BODY, GROUPED)
    junk = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    outcomes = import_messages(engine, store, [("stray.eml", stray), ("junk", junk)], GROUPED)
    assert [o.outcome for o in outcomes] == ["unmatched", "quarantined"], outcomes


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def response_with_suggestion(engine: Engine) -> ResponseRow:
    """A single (non-campaign) response whose text suggests a stance."""
    from services.review_lookup import suggestion
    from storage.review_models import CampaignMemberRow

    with read_session(engine) as session:
        members = set(session.exec(select(CampaignMemberRow.response_id)).all())
        for response in session.exec(
            select(ResponseRow)
            .where(col(ResponseRow.hearing_id).is_not(None))
            .order_by(col(ResponseRow.id))
        ).all():
            if response.id not in members and suggestion(response, []) is not None:
                return response
    raise AssertionError("no single response with a suggested stance")


def stray_response(engine: Engine) -> ResponseRow:
    with read_session(engine) as session:
        return session.exec(
            select(ResponseRow).where(ResponseRow.from_address == STRAY_ADDRESS)
        ).one()
