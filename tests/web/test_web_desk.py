"""The review desk in process (Starlette's TestClient): who may do what, sign-in,
CSRF, every page and every form, with the database checked after each change.

Runs on SQLite and PostgreSQL with hearing 24/750's example responses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from services.summary import write_summary
from storage.db import read_session, write_session
from storage.hearing_models import AuditEventRow
from storage.intake_models import QuarantineRow, ResponseRow
from storage.review_models import (
    CampaignGroupRow,
    ResponseExcerptRow,
    ResponseReviewRow,
    ReviewEventRow,
)
from tests.desk_helpers import (
    CASE,
    GROUPED,
    PASSWORD,
    SLUG,
    csrf_of,
    desk_hearing,
    desk_settings,
    response_with_suggestion,
    stray_response,
)
from web.app import create_app


@pytest.fixture
def desk(engine, db_url, tmp_path) -> Iterator[TestClient]:
    desk_hearing(engine, tmp_path)
    app = create_app(desk_settings(tmp_path, db_url), engine)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, name: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf": token})


def page_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def counts(engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (ResponseReviewRow, ReviewEventRow, ResponseExcerptRow, AuditEventRow)
        }


# --- nobody anonymous ------------------------------------------------------------------------


def test_a_request_without_a_session_is_sent_to_sign_in(desk, engine):
    for path in ("/", f"/h/{SLUG}", f"/h/{SLUG}/responses?unreviewed=1", "/r/1", "/intake"):
        answer = desk.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=/"), path
    before = counts(engine)
    answer = desk.post("/r/1/review", data={"stance": "supports"})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert counts(engine) == before


def test_a_wrong_login_is_refused_and_logged_without_personal_data(desk, caplog):
    with caplog.at_level(logging.WARNING, logger="hoering.web"):
        answer = sign_in(desk, "marie", "galt-passord")
        unknown = sign_in(desk, "ingen.her", "galt-passord")
    assert answer.status_code == 401 and unknown.status_code == 401
    assert "Feil navn eller passord" in answer.text
    refused = [r.getMessage() for r in caplog.records if "sign-in refused" in r.getMessage()]
    assert len(refused) == 2
    assert not any("marie" in m or "galt" in m or "ingen.her" in m for m in refused)
    assert desk.get("/").status_code == 303  # still not signed in


def test_sign_in_returns_to_the_page_asked_for(desk):
    token = csrf_of(desk.get(f"/login?next=/h/{SLUG}").text)
    answer = desk.post(
        "/login",
        data={"name": "marie", "password": PASSWORD, "csrf": token, "next": f"/h/{SLUG}"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/h/{SLUG}"
    assert desk.get(f"/h/{SLUG}").status_code == 200


# --- CSRF ------------------------------------------------------------------------------------


def test_a_form_without_a_valid_csrf_token_is_refused_and_logged(desk, engine, caplog):
    sign_in(desk, "marie")
    response = response_with_suggestion(engine)
    before = counts(engine)
    with caplog.at_level(logging.WARNING, logger="hoering.web"):
        missing = desk.post(f"/r/{response.id}/review", data={"accept": "1"})
        wrong = desk.post(f"/r/{response.id}/review", data={"accept": "1", "csrf": "x" * 43})
    assert missing.status_code == 403 and wrong.status_code == 403
    assert counts(engine) == before
    assert sum("CSRF" in r.getMessage() for r in caplog.records) == 2
    stray = stray_response(engine)
    assert desk.post(f"/intake/assign/{stray.id}", data={"case": CASE}).status_code == 403
    assert stray_response(engine).hearing_id is None


def test_a_login_form_without_the_token_is_refused(desk):
    answer = desk.post("/login", data={"name": "marie", "password": PASSWORD})
    assert answer.status_code == 403
    assert desk.get("/").status_code == 303


# --- a leser reads and changes nothing ------------------------------------------------------


def test_a_leser_reads_every_page_but_cannot_change_anything(desk, engine):
    assert sign_in(desk, "lars").status_code == 303
    response = response_with_suggestion(engine)
    stray = stray_response(engine)
    page = desk.get(f"/r/{response.id}")
    assert page.status_code == 200
    assert response.body_text.split()[0] in page.text  # reads the letter
    assert "review-form" not in page.text and "excerpt-form" not in page.text
    token = csrf_of(page.text)
    before = counts(engine)
    posts = {
        f"/r/{response.id}/review": {"accept": "1"},
        f"/r/{response.id}/excerpt": {"quote": response.body_text.split("\n")[0]},
        f"/h/{SLUG}/campaign/1/review": {"stance": "supports", "representative": "1"},
        f"/intake/assign/{stray.id}": {"case": CASE},
        "/intake/quarantine/1": {"decision": "release", "reason": "ok"},
    }
    for path, data in posts.items():
        answer = desk.post(path, data={**data, "csrf": token})
        assert answer.status_code == 403, path
    assert counts(engine) == before
    assert stray_response(engine).hearing_id is None
    with read_session(engine) as session:
        assert session.exec(select(func.count()).where(ResponseRow.stance.is_not(None))).one() == 0
        assert session.exec(select(QuarantineRow)).one().note is None


# --- pages -----------------------------------------------------------------------------------


def test_the_pages_show_hearings_recipients_and_the_filtered_responses(desk, engine):
    sign_in(desk, "marie")
    hearings = desk.get("/")
    assert hearings.status_code == 200 and CASE in hearings.text and "closed" in hearings.text
    hearing = desk.get(f"/h/{SLUG}")
    assert hearing.status_code == 200 and "Høringsinstanser" in hearing.text
    assert "forfalt" in hearing.text  # a recipient without an answer after the deadline
    everything = desk.get(f"/h/{SLUG}/responses")
    assert "34 svar" in everything.text and "34 uvurdert" in everything.text
    private = desk.get(f"/h/{SLUG}/responses?sender=private")
    organisations = desk.get(f"/h/{SLUG}/responses?sender=organisation")
    matched_private = int(private.text.split(" treff")[0].rsplit(">", 1)[-1])
    matched_orgs = int(organisations.text.split(" treff")[0].rsplit(">", 1)[-1])
    assert matched_private + matched_orgs == 34 and matched_private > 0 and matched_orgs > 0
    campaign = desk.get(f"/h/{SLUG}/responses?campaign=1")
    assert "22 treff" in campaign.text
    found = desk.get(f"/h/{SLUG}/responses", params={"q": "kliniske studier"})
    assert " treff" in found.text and "0 treff" not in found.text
    nothing = desk.get(f"/h/{SLUG}/responses", params={"q": "ikke-et-ord-i-noe-svar"})
    assert "0 treff" in nothing.text


def test_the_response_page_highlights_the_suggested_phrase(desk, engine):
    sign_in(desk, "marie")
    response = response_with_suggestion(engine)
    page = desk.get(f"/r/{response.id}")
    assert page.status_code == 200
    assert '<mark class="suggestion">' in page.text
    assert response.tracking_number in page.text
    assert 'data-key="j"' in page.text or 'data-key="k"' in page.text


def test_the_campaign_page_shows_members_side_by_side(desk, engine):
    sign_in(desk, "marie")
    page = desk.get(f"/h/{SLUG}/campaign/1")
    assert page.status_code == 200
    assert page.text.count("<tr>") == 22 + 1  # a row per member, and the header
    assert "<ins>" in page.text  # members differ from the representative somewhere


# --- forms, each checked in the database ---------------------------------------------------


def test_accepting_a_suggestion_records_the_review_from_the_web(desk, engine):
    sign_in(desk, "marie")
    response = response_with_suggestion(engine)
    token = page_token(desk, f"/r/{response.id}")
    answer = desk.post(f"/r/{response.id}/review", data={"accept": "1", "csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == f"/r/{response.id}"
    with read_session(engine) as session:
        event = session.exec(select(ReviewEventRow)).one()
        stored = session.get(ResponseRow, response.id)
    assert (event.actor, event.source, event.accepted_as_suggested) == ("marie", "web", True)
    assert stored.stance == event.stance and stored.reviewed_by == "marie"
    assert "Lagret" in desk.get(f"/r/{response.id}").text


def test_a_stance_with_items_and_a_note_and_an_excerpt(desk, engine):
    sign_in(desk, "marie")
    response = response_with_suggestion(engine)
    token = page_token(desk, f"/r/{response.id}")
    desk.post(
        f"/r/{response.id}/review",
        data={"stance": "opposes", "items": ["BLS-154"], "note": "Se merknad", "csrf": token},
    )
    with read_session(engine) as session:
        current = session.exec(select(ResponseReviewRow)).one()
    assert (current.stance, current.note, current.reviewed_by) == ("opposes", "Se merknad", "marie")
    assert json.loads(current.items_json) == ["BLS"]  # the item's ref, from its goal ID
    assert "1 treff" in desk.get(f"/h/{SLUG}/responses?specialty=BLS").text
    quote = " ".join(response.body_text.split()[:6])
    desk.post(f"/r/{response.id}/excerpt", data={"quote": quote, "csrf": token})
    with read_session(engine) as session:
        excerpt = session.exec(select(ResponseExcerptRow)).one()
    assert excerpt.created_by == "marie" and excerpt.response_id == response.id
    bad = desk.post(f"/r/{response.id}/excerpt", data={"quote": "finnes ikke her", "csrf": token})
    assert bad.status_code == 303
    assert "not in response" in desk.get(f"/r/{response.id}").text
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(ResponseExcerptRow)).one() == 1


def test_a_campaign_reviewed_as_one_gives_every_member_the_stance(desk, engine):
    sign_in(desk, "marie")
    with read_session(engine) as session:
        group = session.exec(select(CampaignGroupRow).where(CampaignGroupRow.number == 1)).one()
    token = page_token(desk, f"/h/{SLUG}/campaign/1")
    desk.post(
        f"/h/{SLUG}/campaign/1/review",
        data={"stance": "supports", "representative": str(group.representative_id), "csrf": token},
    )
    with read_session(engine) as session:
        event = session.exec(select(ReviewEventRow)).one()
        reviewed = session.exec(select(func.count()).where(ResponseRow.stance == "supports")).one()
    assert (event.members, event.source, event.actor) == (22, "web", "marie")
    assert reviewed == 22


def test_an_unmatched_response_is_assigned_with_its_audit_row(desk, engine):
    sign_in(desk, "marie")
    stray = stray_response(engine)
    page = desk.get("/intake")
    assert "ukjent.person@example.org" in page.text
    unfiled = desk.get(f"/r/{stray.id}")  # read before it is filed
    assert unfiled.status_code == 200 and "Uplassert svar" in unfiled.text
    assert "<script>alert" not in unfiled.text and "&lt;script&gt;alert" in unfiled.text
    answer = desk.post(
        f"/intake/assign/{stray.id}", data={"case": CASE, "csrf": csrf_of(page.text)}
    )
    assert answer.status_code == 303
    assigned = stray_response(engine)
    assert assigned.hearing_id is not None and assigned.tracking_number.startswith("24/750-")
    with read_session(engine) as session:
        audit = session.exec(
            select(AuditEventRow).where(AuditEventRow.action == "assign_response")
        ).one()
    assert audit.actor == "marie"
    assert json.loads(audit.details_json)["source"] == "web"
    assert assigned.tracking_number in desk.get("/intake").text  # the flash message


def test_the_summary_files_are_downloaded_internal_and_public(desk, engine, tmp_path):
    sign_in(desk, "marie")
    assert "Ingen oppsummering" in desk.get(f"/h/{SLUG}").text
    with write_session(engine) as session:
        write_summary(session, CASE, GROUPED, tmp_path / "letters")
    page = desk.get(f"/h/{SLUG}").text
    links = sorted(set(part.split('"')[0] for part in page.split('href="/letter/')[1:]))
    assert len(links) == 4, links  # .docx and .xlsx, internal and public
    for link in links:
        answer = desk.get(f"/letter/{link}")
        assert answer.status_code == 200 and answer.content[:2] == b"PK"
    assert "offentlig" in page and "intern" in page


def test_a_trusted_proxy_header_signs_in_a_listed_user_only(engine, db_url, tmp_path):
    desk_hearing(engine, tmp_path)
    settings = desk_settings(tmp_path, db_url, trusted_user_header="X-Remote-User")
    with TestClient(create_app(settings, engine), follow_redirects=False) as client:
        assert client.get("/", headers={"X-Remote-User": "marie"}).status_code == 200
        assert client.get("/", headers={"X-Remote-User": "mallory"}).status_code == 303
        assert client.get("/").status_code == 303


def test_a_quarantined_message_is_kept_or_released_with_a_reason(desk, engine):
    sign_in(desk, "marie")
    token = page_token(desk, "/intake")
    with read_session(engine) as session:
        held = session.exec(select(QuarantineRow)).one()
    path = f"/intake/quarantine/{held.id}"
    desk.post(path, data={"decision": "release", "reason": "  ", "csrf": token})
    assert "no reason given" in desk.get("/intake").text
    desk.post(path, data={"decision": "keep", "reason": "Ikke en e-post", "csrf": token})
    with read_session(engine) as session:
        kept = session.get(QuarantineRow, held.id)
    assert kept.released_at is None and "beholdt av marie (web): Ikke en e-post" in kept.note
    desk.post(path, data={"decision": "release", "reason": "Arkivert for hånd", "csrf": token})
    with read_session(engine) as session:
        released = session.get(QuarantineRow, held.id)
    assert released.released_at is not None
    assert "frigitt av marie (web): Arkivert for hånd" in released.note
    assert "Ingen meldinger i karantene" in desk.get("/intake").text


def test_an_attachment_shows_its_text_and_downloads_the_original(desk, engine, tmp_path):
    from urllib.parse import quote

    from storage.blobs import BlobStore
    from storage.intake_models import ResponseAttachmentRow

    sign_in(desk, "lars")  # reading is enough
    with read_session(engine) as session:
        attachment = session.exec(
            select(ResponseAttachmentRow).where(ResponseAttachmentRow.text.is_not(None))
        ).first()
    assert attachment is not None, "the examples have a response with a readable attachment"
    page = desk.get(f"/r/{attachment.response_id}").text
    assert f"/attachment/{attachment.id}" in page
    assert attachment.text.split()[0] in page
    download = desk.get(f"/attachment/{attachment.id}")
    assert download.status_code == 200
    assert download.content == BlobStore(tmp_path / "blobs").get(attachment.sha256)
    assert quote(attachment.safe_name) in download.headers["content-disposition"]
