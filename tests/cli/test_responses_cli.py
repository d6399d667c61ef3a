"""`hoering responses list/unmatched` on supplements and suggested hearings (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.blobs import BlobStore
from tests.cli_helpers import run_hoering
from tests.intake_helpers import circulated_hearing, file_messages, message


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
                subject="SV: Kvittering for mottatt høringsinnspill – sak 24/750 (vår ref. 24/750-2)",
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
