"""The review in storage: stances, suggestions, review files, campaigns, completeness.

Runs on SQLite and PostgreSQL with the example responses to 24/750
(examples/responses/24-750: 12 single responses and a campaign of 22 LIS letters).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from domain.calendar import OSLO
from domain.email_intake import parse_message
from domain.errors import TransitionRefused, UserError
from domain.lifecycle import Action
from services import review
from services.intake import RawRef, file_batch
from services.intake import unreviewed_response_count as intake_unreviewed
from storage.blobs import BlobStore
from storage.db import read_session, write_session
from storage.intake_models import ResponseAttachmentRow, ResponseRow
from storage.review_models import (
    CampaignGroupRow,
    ResponseExcerptRow,
    ResponseReviewRow,
    ReviewEventRow,
)
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.hearing_helpers import AFTER_DEADLINE, CIRCULATED, ROOT, act, create

CASE = "24/750"
EXAMPLES = ROOT / "examples" / "responses" / "24-750"
REVIEW_FILE = ROOT / "examples" / "hearings" / "24-750-review.yaml"
IMPORTED = datetime(2024, 6, 10, 9, 0, tzinfo=OSLO)
REVIEWED = datetime(2024, 6, 12, 14, 0, tzinfo=OSLO)
CAMPAIGN_SIZE = 22
SINGLE_RESPONSES = 12


# --- shared set-up (also used by test_summary and test_publication) -------------------------


def import_messages(
    engine: Engine, store: BlobStore, messages: list[tuple[str, bytes]], now: datetime
) -> list:
    refs = [RawRef(name, store.put(raw), len(raw)) for name, raw in messages]
    with write_session(engine) as session:
        return file_batch(session, store, refs, now)


def hearing_with_responses(engine: Engine, folder: Path) -> BlobStore:
    """24/750 created, circulated and closed, with the example responses imported."""
    create(engine)
    act(engine, Action.CIRCULATE, CIRCULATED, folder / "letters")
    act(engine, Action.CLOSE, AFTER_DEADLINE, folder / "letters")
    store = BlobStore(folder / "blobs", durable=False)
    messages = [(p.name, p.read_bytes()) for p in sorted(EXAMPLES.glob("*.eml"))]
    outcomes = import_messages(engine, store, messages, IMPORTED)
    assert {o.outcome for o in outcomes} == {"matched"}, outcomes
    return store


def apply_example_review(engine: Engine) -> dict:
    with write_session(engine) as session:
        review.group_campaigns(session, CASE, actor="marie", now=REVIEWED)
    with write_session(engine) as session:
        return review.apply_review_file(
            session,
            CASE,
            REVIEW_FILE.read_text(encoding="utf-8"),
            str(REVIEW_FILE),
            actor="marie",
            now=REVIEWED,
        )


def email(
    sender: str, address: str, subject: str, body: str, when: datetime, **headers: str
) -> bytes:
    message = EmailMessage()
    message["From"] = f"{sender} <{address}>"
    message["To"] = "postmottak@helsedir.no"
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    digest = hashlib.sha256(f"{address}{subject}{body}".encode()).hexdigest()[:16]
    message["Message-ID"] = f"<{digest}@test.example>"
    for key, value in headers.items():
        message[key.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def response_by_sender(engine: Engine, address: str) -> ResponseRow:
    with read_session(engine) as session:
        return session.exec(select(ResponseRow).where(ResponseRow.from_address == address)).one()


@pytest.fixture
def store(engine, tmp_path) -> BlobStore:
    return hearing_with_responses(engine, tmp_path)


# --- the queue and suggestions ---------------------------------------------------------------


def test_queue_shows_suggested_stance_and_phrase_and_one_row_per_campaign(engine, store):
    with read_session(engine) as session:
        before = review.review_queue(session, CASE)
    assert before["responses"] == SINGLE_RESPONSES + CAMPAIGN_SIZE
    assert len(before["rows"]) == before["responses"]  # not grouped yet
    by_sender = {r["respondent"]: r for r in before["rows"]}
    nevro = by_sender["Legeforeningens spesialitetskomité i nevrokirurgi"]
    assert (nevro["suggested_stance"], nevro["suggested_phrase"]) == ("opposes", "går imot")
    bergen = by_sender["Helse Bergen HF"]  # the stance phrase is in the attached .docx
    assert bergen["suggested_phrase"] == "med følgende merknader"
    assert bergen["attachments"] == ["Helse Bergen - høringssvar 24-750.docx"]
    assert by_sender["Helse Vest RHF"]["suggested_phrase"] == "støttar framlegget"

    with write_session(engine) as session:
        groups = review.group_campaigns(session, CASE, actor="marie", now=REVIEWED)
    assert [(g["campaign"], g["size"]) for g in groups] == [(1, CAMPAIGN_SIZE)]
    with read_session(engine) as session:
        after = review.review_queue(session, CASE)
    campaign_rows = [r for r in after["rows"] if r["campaign"]]
    assert len(after["rows"]) == SINGLE_RESPONSES + 1
    assert [(r["campaign"], r["campaign_size"]) for r in campaign_rows] == [(1, CAMPAIGN_SIZE)]
    assert campaign_rows[0]["suggested_stance"] == "supports_with_comments"


def test_campaign_holds_exactly_the_lis_letters(engine, store):
    with write_session(engine) as session:
        groups = review.group_campaigns(session, CASE, actor="marie", now=REVIEWED)
        members = set(groups[0]["members"])
        senders = {
            r.from_address
            for r in session.exec(select(ResponseRow)).all()
            if r.tracking_number in members
        }
    lis = {
        line.split("<")[1].rstrip(">\n")
        for path in EXAMPLES.glob("*-lis-*.eml")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("From:")
    }
    assert len(lis) == CAMPAIGN_SIZE
    assert senders == lis


# --- recording reviews -----------------------------------------------------------------------


def test_a_person_records_a_stance_items_and_note(engine, store):
    nevro = response_by_sender(engine, "spesialitetskomite-nki@legeforeningen.no")
    with write_session(engine) as session:
        result = review.record_review(
            session,
            nevro.tracking_number,
            stance="går imot",
            items=["NKI-037"],  # the goal ID as the letter shows it
            note="Frykter flaskehals.",
            actor="marie",
            now=REVIEWED,
        )
    assert result["stance"] == "opposes" and result["items"] == ["NKI"]
    assert result["accepted_as_suggested"] is False
    with read_session(engine) as session:
        stored = session.exec(
            select(ResponseReviewRow).where(ResponseReviewRow.response_id == nevro.id)
        ).one()
        response = session.get(ResponseRow, nevro.id)
        events = session.exec(select(ReviewEventRow)).all()
    assert (stored.stance, json.loads(stored.items_json), stored.note) == (
        "opposes",
        ["NKI"],
        "Frykter flaskehals.",
    )
    assert stored.suggested_stance == "opposes" and stored.suggested_phrase == "går imot"
    assert (response.stance, response.reviewed_by) == ("opposes", "marie")
    assert [(e.response_id, e.stance, e.source, e.actor) for e in events] == [
        (nevro.id, "opposes", "cli", "marie")
    ]


def test_accepting_the_suggestion_is_recorded_as_such(engine, store):
    nord = response_by_sender(engine, "postmottak@helse-nord.no")
    with write_session(engine) as session:
        result = review.record_review(
            session,
            str(nord.id),
            stance=None,
            accept_suggestion=True,
            actor="marie",
            now=REVIEWED,
        )
    assert (result["stance"], result["accepted_as_suggested"]) == ("no_comments", True)
    assert result["suggested_phrase"] == "ingen merknader"
    with read_session(engine) as session:
        event = session.exec(select(ReviewEventRow)).one()
    assert event.accepted_as_suggested is True and event.suggested_stance == "no_comments"


BAD_REVIEWS = [
    ({"stance": None}, ["no stance for response", "accept the suggested stance"]),
    ({"stance": "kanskje"}, ["'kanskje' is not a stance", "'går imot'"]),
    (
        {"stance": "støtter", "accept_suggestion": True},
        ["'støtter' is not the suggested 'ingen merknader'"],
    ),
    ({"stance": "støtter", "items": ["XYZ"]}, ["--item: 'XYZ' is not a change item", "BLS"]),
    ({"stance": "støtter", "campaign": True}, ["is not in a campaign group"]),
]


def test_bad_reviews_are_refused_in_one_line_and_write_nothing(engine, store):
    nord = response_by_sender(engine, "postmottak@helse-nord.no")
    for kwargs, fragments in BAD_REVIEWS:
        with pytest.raises(UserError) as refused, write_session(engine) as session:
            review.record_review(
                session, nord.tracking_number, actor="marie", now=REVIEWED, **kwargs
            )
        message = str(refused.value)
        assert "\n" not in message
        for fragment in fragments:
            assert fragment in message, (kwargs, message)
    with read_session(engine) as session:
        assert session.exec(select(func.count(ReviewEventRow.id))).one() == 0


def test_unknown_response_references_are_refused(engine, store):
    with pytest.raises(UserError, match="no response '24/750-99'"), write_session(engine) as s:
        review.record_review(s, "24/750-99", stance="støtter", actor="m", now=REVIEWED)
    with pytest.raises(UserError, match="neither a tracking number"), write_session(engine) as s:
        review.record_review(s, "Helse Nord", stance="støtter", actor="m", now=REVIEWED)


# --- campaigns -------------------------------------------------------------------------------


def test_a_campaign_reviewed_as_one_gives_every_member_its_stance(engine, store):
    with write_session(engine) as session:
        review.group_campaigns(session, CASE, actor="marie", now=REVIEWED)
    with read_session(engine) as session:
        before = review.unreviewed_response_count(session, _hearing_id(session))
    member = response_by_sender(engine, "ola.hansen@hotmail.com")
    with write_session(engine) as session:
        result = review.record_review(
            session,
            member.tracking_number,
            stance="støtter med merknader",
            note="LIS-kampanje",
            campaign=True,
            actor="marie",
            now=REVIEWED,
        )
    assert result["campaign"] == 1 and len(result["responses"]) == CAMPAIGN_SIZE
    with read_session(engine) as session:
        hearing_id = _hearing_id(session)
        assert review.unreviewed_response_count(session, hearing_id) == before - CAMPAIGN_SIZE
        assert intake_unreviewed(session, hearing_id) == before - CAMPAIGN_SIZE
        events = session.exec(select(ReviewEventRow)).all()
    assert [(e.campaign_id is not None, e.members) for e in events] == [(True, CAMPAIGN_SIZE)]


def test_regrouping_keeps_the_number_and_gives_a_late_copy_the_group_review(engine, store):
    with write_session(engine) as session:
        review.group_campaigns(session, CASE, actor="marie", now=REVIEWED)
    member = response_by_sender(engine, "kari.nordmann@gmail.com")
    with write_session(engine) as session:
        review.record_review(
            session,
            member.tracking_number,
            stance="støtter med merknader",
            campaign=True,
            actor="marie",
            now=REVIEWED,
        )
    letter = parse_message((EXAMPLES / "2024-05-28-lis-01.eml").read_bytes())
    body = letter.body_text.replace("Kari Nordmann", "Per Persen")
    late_copy = email(
        "Per Persen",
        "per.persen@gmail.com",
        "Høringssvar 24/750",
        body,
        datetime(2024, 6, 11, 8, 0, tzinfo=OSLO),
    )
    import_messages(
        engine, store, [("late.eml", late_copy)], datetime(2024, 6, 11, 9, 0, tzinfo=OSLO)
    )
    with write_session(engine) as session:
        groups = review.group_campaigns(session, CASE, actor="ola", now=REVIEWED)
    assert [(g["campaign"], g["size"], g["stance"]) for g in groups] == [
        (1, CAMPAIGN_SIZE + 1, "supports_with_comments")
    ]
    late = response_by_sender(engine, "per.persen@gmail.com")
    assert (late.stance, late.reviewed_by) == ("supports_with_comments", "marie")
    with read_session(engine) as session:
        assert session.exec(select(func.count(CampaignGroupRow.id))).one() == 1


# --- review files and the lifecycle ----------------------------------------------------------


def test_the_example_review_file_completes_the_review_and_allows_review_done(
    engine, store, tmp_path
):
    with pytest.raises(TransitionRefused, match=r"34 response\(s\) not reviewed"):
        act(engine, Action.REVIEW_DONE, REVIEWED, tmp_path / "letters")
    result = apply_example_review(engine)
    assert result["rows"] == SINGLE_RESPONSES + 1
    assert result["responses_reviewed"] == SINGLE_RESPONSES + CAMPAIGN_SIZE
    assert result["unreviewed"] == 0
    assert act(engine, Action.REVIEW_DONE, REVIEWED, tmp_path / "letters").to_state == "reviewed"
    with read_session(engine) as session:
        stances = dict(
            session.exec(
                select(ResponseRow.stance, func.count(ResponseRow.id)).group_by(ResponseRow.stance)
            ).all()
        )
        accepted = session.exec(
            select(func.count(ResponseReviewRow.id)).where(ResponseReviewRow.accepted_as_suggested)
        ).one()
    assert stances == {
        "supports": 6,
        "supports_with_comments": 4 + CAMPAIGN_SIZE,
        "opposes": 1,
        "no_comments": 1,
    }
    assert accepted == 2  # Helse Nord and Helse Vest were accepted as suggested
    with read_session(engine) as session:
        history = review.review_history(session, CASE)
    assert len(history) == SINGLE_RESPONSES + 1
    assert (history[-1]["campaign"], history[-1]["members"]) == (1, CAMPAIGN_SIZE)
    assert history[0]["source"] == f"file {REVIEW_FILE} line 15, reviews[0]"
    assert [e["actor"] for e in history] == ["marie"] * len(history)


def test_excerpts_point_at_the_passage_in_the_body_or_attachment(engine, store):
    apply_example_review(engine)
    with read_session(engine) as session:
        excerpts = session.exec(select(ResponseExcerptRow)).all()
        attachments = {a.sha256: a for a in session.exec(select(ResponseAttachmentRow)).all()}
        bodies = {r.id: r.body_text for r in session.exec(select(ResponseRow)).all()}
    assert len(excerpts) == 9
    kir = next(e for e in excerpts if e.item_ref == "KIR")
    assert kir.source in attachments  # found in the committee's .docx
    assert attachments[kir.source].text[kir.start : kir.end] == kir.quote
    nki = next(e for e in excerpts if e.item_ref == "NKI")
    assert nki.source == "body"
    assert bodies[nki.response_id][nki.start : nki.end] == nki.quote
    # Applying the file again adds no excerpt twice.
    assert apply_example_review(engine)["excerpts_added"] == 0


def test_an_excerpt_can_be_added_on_its_own_and_only_once(engine, store):
    bergen = response_by_sender(engine, "postmottak@helse-bergen.no")
    quote = "Kapasiteten for supervisjon i\nlungesykdommer er allerede presset"
    with write_session(engine) as session:
        first = review.add_excerpt(
            session,
            bergen.tracking_number,
            quote=quote,
            item="LUN-061",
            attachment="Helse Bergen - høringssvar 24-750.docx",
            actor="marie",
            now=REVIEWED,
        )
    assert (first["item"], first["added"]) == ("LUN", True)
    assert first["quote"] == "Kapasiteten for supervisjon i lungesykdommer er allerede presset"
    with write_session(engine) as session:
        again = review.add_excerpt(
            session, bergen.tracking_number, quote=quote, item="LUN", actor="marie", now=REVIEWED
        )
    assert again["added"] is False
    missing = r"has no attachment 'svar\.pdf'"
    with pytest.raises(UserError, match=missing), write_session(engine) as s:
        review.add_excerpt(
            s,
            bergen.tracking_number,
            quote=quote,
            item="LUN",
            attachment="svar.pdf",
            actor="m",
            now=REVIEWED,
        )
    with read_session(engine) as session:
        assert session.exec(select(func.count(ResponseExcerptRow.id))).one() == 1


def test_a_csv_review_file_is_applied(engine, store):
    nord = response_by_sender(engine, "postmottak@helse-nord.no")
    csv_text = "\n".join(
        [
            "response;from;stance;items;note",
            f"{nord.tracking_number};;ingen merknader;;",
            ";spesialitetskomite-kir@legeforeningen.no;støtter med merknader;KIR, NKI;nivå",
        ]
    )
    with write_session(engine) as session:
        result = review.apply_review_file(
            session, CASE, csv_text, "vurdering.csv", actor="marie", now=REVIEWED
        )
    assert result["responses_reviewed"] == 2
    assert [(r["stance"], r["items"], r["note"]) for r in result["reviews"]] == [
        ("no_comments", [], None),
        ("supports_with_comments", ["KIR", "NKI"], "nivå"),
    ]


BAD_FILES = [
    (("stance: går imot", "stance: kanskje"), ["reviews[4]", "'kanskje' is not a stance"]),
    (("items: [NKI]", "items: [NKX]"), ["line", "'NKX' is not a change item"]),
    (
        ("from: post@helse-vest.no", "from: ukjent@example.no"),
        ["reviews[6]", "no response from 'ukjent@example.no'"],
    ),
    (
        ("quote: Barn er underrepresentert", "quote: Voksne er underrepresentert"),
        ["excerpts[0]", "is not in response", "copy the passage exactly"],
    ),
    (('case: "24/750"', 'case: "24/751"'), ["reviews case 24/751, not 24/750"]),
    (
        ("  - from: legeforeningen", "  - fra: legeforeningen"),
        ["unknown field 'fra'; did you mean from?"],
    ),
]


def test_a_bad_review_file_row_changes_nothing(engine, store):
    with write_session(engine) as session:
        review.group_campaigns(session, CASE, actor="marie", now=REVIEWED)
    text = REVIEW_FILE.read_text(encoding="utf-8")
    for (old, new), fragments in BAD_FILES:
        assert old in text
        with pytest.raises(UserError) as refused, write_session(engine) as session:
            review.apply_review_file(
                session, CASE, text.replace(old, new, 1), "r.yaml", actor="m", now=REVIEWED
            )
        message = str(refused.value)
        assert "\n" not in message and message.startswith("r.yaml"), message
        for fragment in fragments:
            assert fragment in message, (new, message)
    with read_session(engine) as session:
        assert session.exec(select(func.count(ReviewEventRow.id))).one() == 0
        reviewed = select(func.count(ResponseRow.id)).where(ResponseRow.stance.is_not(None))
        assert session.exec(reviewed).one() == 0


def test_automatic_replies_need_no_stance(engine, store):
    reply = email(
        "Ola Fravær",
        "ola.fravaer@helse-bergen.no",
        "Automatisk svar: Høring 24/750",
        "Jeg er på ferie til 1. juli.",
        datetime(2024, 6, 10, 8, 0, tzinfo=OSLO),
        Auto_Submitted="auto-replied",
    )
    import_messages(engine, store, [("auto.eml", reply)], IMPORTED)
    apply_example_review(engine)
    with read_session(engine) as session:
        hearing_id = _hearing_id(session)
        assert review.unreviewed_response_count(session, hearing_id) == 0
        queue = review.review_queue(session, CASE, include_reviewed=True)
    assert "ola.fravaer" not in json.dumps(queue, default=str)


def _hearing_id(session) -> int:
    from services.hearings import get_hearing

    return get_hearing(session, CASE).id


# --- the command line ------------------------------------------------------------------------


def test_review_summary_and_publish_from_the_command_line(flow_env, engine, tmp_path):
    """`review set` writes straight to storage; the file, campaigns, summary and export
    run their flows against the session's Prefect API."""
    env = {**flow_env, "HOERING_ACTOR": "marie"}
    data_dir = Path(env["HOERING_DATA_DIR"])
    hearing_with_responses(engine, data_dir)  # blobs where the CLI looks for them
    _review_summary_and_publish(env, tmp_path)


def _review_summary_and_publish(env: dict[str, str], tmp_path: Path) -> None:

    bad = run_hoering("review", "set", "24/750-2", "--stance", "kanskje", env=env)
    assert_one_line_error(bad, "--stance: 'kanskje' is not a stance")
    listed = run_hoering("review", "24/750", "--json", "--count", env=env).json()
    assert (listed["responses"], listed["unreviewed"]) == (34, 34)
    nord = next(r for r in listed["rows"] if r["respondent"] == "Helse Nord RHF")
    assert (nord["suggested_stance_nb"], nord["suggested_phrase"]) == (
        "ingen merknader",
        "ingen merknader",
    )

    groups = run_hoering("review", "campaigns", "24/750", "--json", env=env).json()
    assert [(g["campaign"], g["size"]) for g in groups] == [(1, CAMPAIGN_SIZE)]
    accepted = run_hoering(
        "review", "set", nord["tracking_number"], "--accept-suggestion", "--json", env=env
    ).json()
    assert (accepted["stance"], accepted["accepted_as_suggested"]) == ("no_comments", True)
    applied = run_hoering("review", "apply", "24/750", str(REVIEW_FILE), "--json", env=env)
    assert applied.code == 0, applied.stderr
    assert applied.json()["unreviewed"] == 0

    written = run_hoering(
        "hearing", "summary", "24/750", "--as-of", "2024-06-12", "--json", env=env
    )
    assert written.code == 0, written.stderr
    result = written.json()
    assert Path(result["docx"]).is_file() and Path(result["xlsx"]).is_file()
    assert Path(result["public_docx"]).is_file() and Path(result["public_xlsx"]).is_file()
    assert result["stances"]["supports_with_comments"] == 4 + CAMPAIGN_SIZE
    published = run_hoering(
        "hearing", "publish", "24/750", str(tmp_path / "svar.zip"), "--json", env=env
    )
    assert published.code == 0, published.stderr
    assert (published.json()["responses"], published.json()["private"]) == (34, 24)
    missing = run_hoering("hearing", "summary", "24/999", env=env)
    assert_one_line_error(missing, "no hearing with case number '24/999'")
