"""Migration 0011_review_groups fills campaign_group.representative_received_at from the
representative's response on a database that already has groups."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from benchmarks.bulk_responses import insert_responses
from services import campaigns
from services.hearings import get_hearing
from storage.db import alembic_config, read_session, upgrade_schema, write_session
from storage.rows import row_id
from tests.hearing_helpers import create
from tests.services.test_campaign_batches import NOW
from tests.services.test_campaign_representative import _letters

CHECK = """
SELECT g.representative_received_at, r.received_at
FROM campaign_group g JOIN response r ON r.id = g.representative_id
"""


def test_the_representative_time_is_filled_from_its_response(engine):
    case = create(engine)
    with read_session(engine) as session:
        hearing_id = row_id(get_hearing(session, case))
    _, b, _ = _letters()
    insert_responses(engine, hearing_id, ["Vi har ingen merknader.", b, b, b])
    with write_session(engine) as session:
        campaigns.group_campaigns(session, case, actor="t", now=NOW)
    config = alembic_config(engine)
    with engine.begin() as conn:  # back to a database from before 0011, then up again
        config.attributes["connection"] = conn
        command.downgrade(config, "0010_intake")
    upgrade_schema(engine)
    with engine.connect() as conn:
        rows = conn.execute(text(CHECK)).all()
    assert len(rows) == 1 and rows[0][0] is not None
    assert rows[0][0] == rows[0][1]
