"""`review set` and a page of `review list` at 10,000 and 200,000 responses.

A hearing's responses are written straight into the tables (bulk INSERTs, not through
the import) in a realistic mix: Norwegian bodies as in `benchmarks/intake.py`, 40 % with
an attachment whose text was extracted, 2 % automatic replies, 10 % in campaign groups
of 50 near-identical letters, 30 % already reviewed. Then, in this process, with the
service calls the CLI makes:

  - `review set`: `services.review_recording.record_review` on a response not yet
    reviewed (by tracking number), one write transaction each;
  - a page of `review list`: `services.review_queue.review_queue` (50 rows, no counts),
    the first page and one taken `--after` a response half way through.

One database is filled per size; the sizes are then measured in alternating rounds
(the machine is shared; its load drifts), `--repeat` rounds, and the medians compared.
The goal is the same time at both sizes, within 20 % (ratio large/small 0.8-1.2).
On PostgreSQL the tables are ANALYZEd after the bulk load, as autovacuum would; SQLite
is left as the product leaves it.

Run: .venv/bin/python -m benchmarks.review_scale [--sizes 10000 200000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, text
from sqlmodel import col, select

from benchmarks.intake import OPENINGS, STANCES
from config.settings import default_data_dir
from domain.hearing_spec import parse_hearing_spec
from services import hearings
from services.reference_files import load_reference_data
from services.review_queue import review_queue
from services.review_recording import record_review
from storage.db import create_db_engine, read_session, upgrade_schema, write_session
from storage.intake_models import IntakeMessageRow, ResponseAttachmentRow, ResponseRow
from storage.reference_sync import sync_reference_data
from storage.review_models import CampaignGroupRow, CampaignMemberRow, ResponseReviewRow

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "hearings" / "24-750-kliniske-studier.yaml"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CASE = "24/750"
START = datetime(2024, 3, 25, 8, 0, tzinfo=UTC)
CAMPAIGN = 50
CHUNK = 5000
STANCE_VALUES = ["supports", "supports_with_comments", "opposes", "no_comments"]


def _table(row: type) -> Any:
    return row.metadata.tables[row.__tablename__]  # type: ignore[attr-defined]


def _hearing(engine: Engine) -> int:
    upgrade_schema(engine)
    content = SPEC.read_text(encoding="utf-8")
    spec = parse_hearing_spec(content, str(SPEC))
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
        row, _ = hearings.create_hearing(session, spec, content, str(SPEC), START, "bench")
        assert row.id is not None
        return row.id


def _received_at(n: int) -> datetime:
    return START + timedelta(seconds=n * 7)


def _rows(hearing_id: int, first: int, count: int) -> dict[str, list]:
    """Rows for responses first..first+count-1 (ids and tracking numbers from `first`)."""
    rows: dict[str, list] = {"msg": [], "resp": [], "att": [], "rev": [], "members": []}
    for n in range(first, first + count):
        # the same content every 1,000 responses: a page at the middle of either size
        # holds the same mix, so the sizes are compared on equal pages
        rng = random.Random(n % 1000)
        at = _received_at(n)
        in_campaign = n % 10 == 0
        auto = not in_campaign and rng.random() < 0.02
        stance = rng.choice(STANCE_VALUES) if not auto and rng.random() < 0.3 else None
        body = "\n\n".join((rng.choice(OPENINGS), rng.choice(STANCES), f"Hilsen avsender {n}"))
        rows["msg"].append(
            dict(id=n, raw_sha256=f"{n:064d}", size=2000, source="bench", read_at=at,
                 outcome="matched", message_id=f"<{n}@bench>", from_address=f"a{n}@hf.no",
                 warnings_json="[]")
        )  # fmt: skip
        rows["resp"].append(
            dict(id=n, intake_message_id=n, hearing_id=hearing_id,
                 tracking_number=f"{CASE}-{n}", message_id=f"<{n}@bench>",
                 subject="Høringssvar 24/750", from_name=f"Avsender {n}",
                 from_address=f"a{n}@hf.no", received_at=at, received_source="received",
                 late=False, body_text=body, auto_submitted=auto, filed_at=at, stance=stance,
                 reviewed_at=at if stance else None, reviewed_by="bench" if stance else None)
        )  # fmt: skip
        if rng.random() < 0.4:
            rows["att"].append(
                dict(response_id=n, position=0, filename=f"svar-{n}.docx",
                     safe_name=f"svar-{n}.docx", content_type="application/vnd.openxmlformats-"
                     "officedocument.wordprocessingml.document", size=12000,
                     sha256=f"{n:064x}", text=body, forwarded=False)
            )  # fmt: skip
        if stance:
            rows["rev"].append(
                dict(response_id=n, hearing_id=hearing_id, stance=stance, items_json="[]",
                     accepted_as_suggested=False, reviewed_at=at, reviewed_by="bench")
            )  # fmt: skip
        if in_campaign:
            rows["members"].append(n)
    return rows


def _write_groups(conn: Any, hearing_id: int, members: list[int], number: int) -> int:
    groups, links = _table(CampaignGroupRow), _table(CampaignMemberRow)
    for start in range(0, len(members), CAMPAIGN):
        chunk = members[start : start + CAMPAIGN]
        number += 1
        group_id = conn.execute(
            insert(groups).returning(groups.c.id),
            dict(hearing_id=hearing_id, number=number, size=len(chunk),
                 representative_id=chunk[0], representative_received_at=_received_at(chunk[0]),
                 threshold=0.9, items_json="[]",
                 grouped_at=START),
        ).scalar_one()  # fmt: skip
        conn.execute(insert(links), [dict(campaign_id=group_id, response_id=r) for r in chunk])
    return number


def grow(engine: Engine, hearing_id: int, have: int, want: int) -> None:
    """Bulk-insert responses have+1..want, in chunks of CHUNK."""
    with engine.connect() as conn:
        number = conn.execute(select(func.count()).select_from(_table(CampaignGroupRow))).one()[0]
    for first in range(have + 1, want + 1, CHUNK):
        rows = _rows(hearing_id, first, min(CHUNK, want + 1 - first))
        with engine.begin() as conn:
            conn.execute(insert(_table(IntakeMessageRow)), rows["msg"])
            conn.execute(insert(_table(ResponseRow)), rows["resp"])
            if rows["att"]:
                conn.execute(insert(_table(ResponseAttachmentRow)), rows["att"])
            if rows["rev"]:
                conn.execute(insert(_table(ResponseReviewRow)), rows["rev"])
            number = _write_groups(conn, hearing_id, rows["members"], number)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("intake_message", "response"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {want})")
                )
            conn.execute(text("ANALYZE"))


def _operations(engine: Engine, size: int, repeat: int, rng: random.Random) -> dict[str, Any]:
    """The three measured calls on one database; call i reviews the i-th target."""
    with read_session(engine) as session:
        unreviewed = session.exec(
            select(col(ResponseRow.tracking_number))
            .where(col(ResponseRow.stance).is_(None), col(ResponseRow.auto_submitted).is_(False))
            .where(col(ResponseRow.id) % 10 != 0)  # not in a campaign group
            .order_by(col(ResponseRow.id))
        ).all()
    targets = [t for t in rng.sample(list(unreviewed), repeat) if t]
    now = START + timedelta(days=80)
    middle = f"{CASE}-{size // 2}"

    def review_set(i: int) -> None:
        with write_session(engine) as session:
            record_review(session, targets[i], stance="støtter", actor="bench", now=now)

    def first_page(_: int) -> None:
        with read_session(engine) as session:
            assert len(review_queue(session, CASE, counts=False)["rows"]) == 50

    def middle_page(_: int) -> None:
        with read_session(engine) as session:
            assert len(review_queue(session, CASE, after=middle, counts=False)["rows"]) == 50

    return {
        "review set": review_set,
        "review list, first page": first_page,
        "review list, page after the middle": middle_page,
    }


def run_backend(name: str, urls: list[str], sizes: list[int], repeat: int) -> None:
    """One database per size, filled; then the sizes are measured in alternating rounds
    (the machine is shared and its load drifts), and the medians compared."""
    rng = random.Random(750)
    engines, operations = [], []
    for url, size in zip(urls, sizes, strict=True):
        engine = create_db_engine(url)
        start = time.perf_counter()
        grow(engine, _hearing(engine), 0, size)
        print(f"{name}: {size:,} responses written in {time.perf_counter() - start:.0f} s")
        engines.append(engine)
        operations.append(_operations(engine, size, repeat, rng))
    times: list[dict[str, list[float]]] = [{what: [] for what in ops} for ops in operations]
    for i in range(repeat):
        for ops, got in zip(operations, times, strict=True):
            for what, call in ops.items():
                start = time.perf_counter()
                call(i)
                got[what].append((time.perf_counter() - start) * 1000)
    for engine in engines:
        engine.dispose()
    small, large = times[0], times[-1]
    for what in small:
        a, b = statistics.median(small[what]), statistics.median(large[what])
        verdict = "ok" if 0.8 <= b / a <= 1.2 else "NOT within 20 %"
        print(
            f"{name:10s} {what:36s} {sizes[0]:>7,}: {a:6.1f} ms   "
            f"{sizes[-1]:>7,}: {b:6.1f} ms   ratio {b / a:4.2f} {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    with tempfile.TemporaryDirectory() as folder:
        urls = [f"sqlite:///{Path(folder) / f'review-{size}.db'}" for size in sizes]
        run_backend("sqlite", urls, sizes, args.repeat)
    if args.skip_postgres:
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    names = [f"hoering_review_{uuid.uuid4().hex[:8]}" for _ in sizes]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return
    try:
        base = PG_ADMIN.rsplit("/", 1)[0]
        run_backend("postgresql", [f"{base}/{name}" for name in names], sizes, args.repeat)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
