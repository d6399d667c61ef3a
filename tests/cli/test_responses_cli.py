"""`hoering responses list/unmatched` on supplements and suggested hearings (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.blobs import BlobStore
from tests.cli_helpers import assert_one_line_error, run_hoering
from tests.intake_helpers import circulated_hearing, file_messages, message

RECEIPT_REPLY = "SV: Kvittering for mottatt høringsinnspill – sak 24/750 (vår ref. 24/750-2)"


@pytest.fixture
def filed(hoering_env, engine, tmp_path):
    circulated_hearing(engine)
    store = BlobStore(Path(hoering_env["HOERING_DATA_DIR"]) / "blobs", durable=False)
    return lambda raws: file_messages(engine, store, raws)


def test_list_shows_a_receipt_reply_as_a_supplement(filed, hoering_env):
    filed([message()])
    filed(
        [
            message(
                subject=RECEIPT_REPLY,
                body="Her er vedlegget vi glemte.",
                message_id="<svar-2@helse-vest.no>",
            )
        ]
    )
    result = run_hoering("responses", "list", "24/750", "--json", env=hoering_env)
    assert result.code == 0, result.stderr
    rows = {r["tracking_number"]: r for r in result.json()}
    assert rows["24/750-3"]["supplement_of"] == "24/750-2"
    assert rows["24/750-2"]["supplements"] == ["24/750-3"]
    text = run_hoering("responses", "list", "24/750", env=hoering_env)
    assert text.code == 0, text.stderr
    assert "2 responses in 24/750 (1 counted, 1 supplements)" in text.stdout
    assert "Supplement to 24/750-2 (counted with it)." in text.stdout


def test_unmatched_suggests_the_hearing_the_subject_names(filed, hoering_env):
    filed(
        [
            message(
                sender="ola@gmail.com",
                subject="Innspill til høring – kliniske studier",
                body="Jeg støtter forslaget.",
                message_id="<o1@gmail.com>",
            ),
            message(
                sender="kari@gmail.com",
                subject="Høringssvar",
                body="Se vedlegg.",
                message_id="<k1@gmail.com>",
            ),
        ]
    )
    result = run_hoering("responses", "unmatched", "--json", env=hoering_env)
    assert result.code == 0, result.stderr
    rows = {r["sender_address"]: r for r in result.json()}
    assert [s["case"] for s in rows["ola@gmail.com"]["suggested_cases"]] == ["24/750"]
    assert rows["ola@gmail.com"]["quoted_cases"] == []
    assert rows["kari@gmail.com"]["suggested_cases"] == []
    text = run_hoering("responses", "unmatched", env=hoering_env)
    assert text.code == 0, text.stderr
    assert "24/750" in text.stdout and "Suggested: the subject names" in text.stdout


def test_show_names_the_first_response_and_refuses_a_bad_ref(filed, hoering_env):
    filed([message()])
    filed([message(sender="per@helse-vest.no", message_id="<t@helse-vest.no>", body="Tillegg.")])
    shown = run_hoering("responses", "show", "24/750-3", "--json", env=hoering_env)
    assert shown.code == 0, shown.stderr
    assert shown.json()["supplement_of"] == "24/750-2" and shown.json()["body_text"] == "Tillegg."
    first = run_hoering("responses", "show", "24/0750-2", env=hoering_env)
    assert first.code == 0, first.stderr
    assert "Supplements: 24/750-3." in first.stdout
    assert_one_line_error(
        run_hoering("responses", "show", "kliniske", env=hoering_env), "REF:", "24/750-3"
    )
    assert_one_line_error(
        run_hoering("responses", "show", "24/750-9", env=hoering_env), "no response 24/750-9"
    )
