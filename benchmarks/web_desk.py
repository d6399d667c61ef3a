"""The review desk at 50,000 responses: time of the responses list and of a response
page with the server warm, against a bare SELECT of the same rows in the same run.

Builds a fresh database (SQLite by default, `--postgres URL` for PostgreSQL) with
hearing 24/750 and N responses generated directly as rows (varied senders, bodies,
stances, late ones, private persons, attachments with text, one large campaign), serves
the desk with uvicorn on a free loopback port in a thread, signs in, warms up, and
times each page (median of `--repeat` requests over real HTTP):

  - the responses list: first page, a deep page (offset ~N/2), unreviewed only,
    private persons, one campaign, a text search;
  - a response page (headers, body, attachments, suggestion, neighbours, forms);
  - baselines: a bare SELECT of the same list page (LIMIT/OFFSET) and of one response
    with its attachments, through the same engine.

Target: under 300 ms for the list and the response page.

Run: .venv/bin/python -m benchmarks.web_desk [--responses 50000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr
from sqlalchemy import Engine, insert, select, text, update
from sqlmodel import col

from config.settings import Settings, WebSettings, default_data_dir
from domain.web_users import Role
from services.desk_users import add_user
from services.reference_files import load_reference_data
from storage.db import create_db_engine, upgrade_schema, write_session
from storage.hearing_models import HearingRow
from storage.intake_models import IntakeMessageRow, ResponseAttachmentRow, ResponseRow
from storage.reference_sync import sync_reference_data
from storage.review_models import CampaignGroupRow, CampaignMemberRow
from tests.hearing_helpers import create
from tests.installation_helpers import free_port
from web.app import create_app

PASSWORD = "benchmark-passord"
OPENINGS = [
    "Vi viser til høringsbrev om nytt læringsmål om kliniske studier.",
    "Takk for muligheten til å gi innspill til forslaget.",
    "Fagmiljøet har gått gjennom forslaget til læringsmål.",
    "Helseforetaket har behandlet høringen i fagrådet.",
]
STANCES = [
    "Vi støtter forslaget slik det foreligger.",
    "Vi har ingen merknader til forslaget.",
    "Vi går imot forslaget om et felles læringsmål.",
    "Vi støtter intensjonen, men har noen merknader.",
    "Kapasiteten til veiledning er en utfordring.",
]
DETAILS = [
    "Det er viktig at leger i spesialisering får praktisk erfaring med informert samtykke.",
    "Forskningsstøtte ved regionale kompetansesentre kan bidra til gjennomføringen.",
    "Vi foreslår at læringsmålet oppnås gjennom kurs kombinert med praktisk tjeneste.",
    "Kompetansenivået bør være «kjenne til» og ikke «kunne utføre».",
]
STANCE_VALUES = ["supports", "no_comments", "opposes", "supports_with_comments"]
START = datetime(2024, 3, 25, 8, 0, tzinfo=UTC)
CAMPAIGN_TEXT = (
    "Som lege i spesialisering støtter jeg forslaget om et læringsmål om kliniske studier. "
    "Det gir oss kunnskap vi trenger i møte med pasientene."
)


def _body(n: int, rng: random.Random) -> str:
    if n % 10 == 0:  # every tenth: the form letter
        return f"{CAMPAIGN_TEXT}\n\nHilsen\nLIS {n}"
    parts = [rng.choice(OPENINGS), rng.choice(STANCES), *rng.sample(DETAILS, 2)]
    return "\n\n".join([*parts, f"Med vennlig hilsen\nAvsender {n}"])


def _response(n: int, hearing_id: int, count: int, body: str, rng: random.Random) -> dict:
    received = START + timedelta(minutes=3 * n + rng.randint(0, 2))
    private = n % 10 == 0 or rng.random() < 0.4
    reviewed = rng.random() < 0.3
    return {
        "id": n,
        "intake_message_id": n,
        "hearing_id": hearing_id,
        "tracking_number": f"24/750-{n + 1}",
        "message_id": f"<m{n}@bench.example>",
        "subject": f"Høringsinnspill 24/750 fra avsender {n}",
        "from_name": f"Avsender {n}",
        "from_address": f"avsender{n}@{'gmail.com' if private else 'helse-vest.no'}",
        "stakeholder_key": None if private else f"org-{n % 40}",
        "organisation": None if private else f"Organisasjon {n % 40}",
        "matched_by": None if private else "domain",
        "received_at": received,
        "received_source": "received",
        "late": n > count * 0.97,
        "body_text": body,
        "auto_submitted": False,
        "filed_at": received,
        "stance": rng.choice(STANCE_VALUES) if reviewed else None,
        "reviewed_at": received if reviewed else None,
        "reviewed_by": "benchmark" if reviewed else None,
    }


def _rows(hearing_id: int, count: int, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Intake messages, responses and attachments (every fourth response has one)."""
    rng = random.Random(seed)
    messages, responses, attachments = [], [], []
    for n in range(1, count + 1):
        response = _response(n, hearing_id, count, _body(n, rng), rng)
        responses.append(response)
        messages.append(
            {
                "id": n,
                "raw_sha256": hashlib.sha256(f"m{n}".encode()).hexdigest(),
                "size": len(response["body_text"]) + 400,
                "source": f"bench#{n}",
                "read_at": response["received_at"],
                "outcome": "matched",
                "warnings_json": "[]",
            }
        )
        if n % 4 == 1:
            attachments.append(
                {
                    "response_id": n,
                    "position": 1,
                    "filename": f"innspill-{n}.docx",
                    "safe_name": f"innspill-{n}.docx",
                    "content_type": "application/octet-stream",
                    "size": 2048,
                    "sha256": hashlib.sha256(f"a{n}".encode()).hexdigest(),
                    "text": " ".join(rng.sample(DETAILS, 3)),
                    "forwarded": False,
                }
            )
    return messages, responses, attachments


def build(engine: Engine, count: int) -> int:
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
    create(engine)
    with write_session(engine) as session:
        session.execute(update(HearingRow).values(state="closed", last_document_number=count + 1))
        hearing_id = session.execute(select(HearingRow.id)).scalar_one()
    messages, responses, attachments = _rows(hearing_id, count, seed=14)
    with write_session(engine) as session:
        for table, rows in (
            (IntakeMessageRow, messages),
            (ResponseRow, responses),
            (ResponseAttachmentRow, attachments),
        ):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start : start + 5000])
        members = [r["id"] for r in responses if r["id"] % 10 == 0]
        first = next(r for r in responses if r["id"] == members[0])
        group_id = session.execute(
            insert(CampaignGroupRow).returning(col(CampaignGroupRow.id)),
            [
                {
                    "hearing_id": hearing_id,
                    "number": 1,
                    "size": len(members),
                    "representative_id": members[0],
                    "representative_received_at": first["received_at"],
                    "threshold": 0.8,
                    "items_json": "[]",
                    "grouped_at": datetime.now(UTC),
                }
            ],
        ).scalar_one()
        session.execute(
            insert(CampaignMemberRow),
            [{"campaign_id": group_id, "response_id": m} for m in members],
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return hearing_id


def _median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post(
        "/login", data={"name": "bench", "password": PASSWORD, "csrf": token.group(1)}
    )
    assert answer.status_code == 303, answer.text
    return client


def _get(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)


def measure(engine: Engine, hearing_id: int, count: int, data_dir: Path, repeat: int) -> None:
    users = data_dir / "web-users.yaml"
    add_user(users, "bench", Role.SAKSBEHANDLER, PASSWORD)
    settings = Settings(
        data_dir=data_dir,
        database_url=str(engine.url),
        web=WebSettings(secret=SecretStr("benchmark"), users_file=users),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine),
            host="127.0.0.1",
            port=free_port(),
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        _report(
            _signed_in(f"http://127.0.0.1:{server.config.port}"), engine, hearing_id, count, repeat
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _report(client: httpx.Client, engine: Engine, hearing_id: int, count: int, repeat: int) -> None:
    middle = count // 2 + 1  # not in the campaign (odd), no attachment at n % 4 == 1 half
    deep = count // 100
    pages = {
        "list, first page": "/h/24-750/responses",
        f"list, page {deep} (offset {(deep - 1) * 50})": f"/h/24-750/responses?page={deep}",
        "list, unreviewed only": "/h/24-750/responses?unreviewed=1",
        "list, private persons, late": "/h/24-750/responses?sender=private&late=1",
        "list, campaign 1": "/h/24-750/responses?campaign=1",
        "list, search 'informert samtykke'": "/h/24-750/responses?q=informert+samtykke",
        "response page": f"/r/{middle}",
        "response page with attachment": f"/r/{middle - (middle % 4) + 1}",
    }
    for path in pages.values():  # warm: templates compiled, connections open
        _get(client, path)
        _get(client, path)

    def bare_list() -> None:
        with engine.connect() as conn:
            conn.execute(
                select(ResponseRow)
                .where(col(ResponseRow.hearing_id) == hearing_id)
                .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
                .limit(50)
                .offset(0)
            ).all()

    def bare_response() -> None:
        with engine.connect() as conn:
            conn.execute(select(ResponseRow).where(col(ResponseRow.id) == middle)).one()
            conn.execute(
                select(ResponseAttachmentRow).where(
                    col(ResponseAttachmentRow.response_id) == middle
                )
            ).all()

    print(f"{engine.dialect.name}, {count} responses in one hearing, median of {repeat}:")
    print(
        f"  {'baseline: bare SELECT of the list page':48s} {_median_ms(bare_list, repeat):8.1f} ms"
    )
    one = _median_ms(bare_response, repeat)
    print(f"  {'baseline: bare SELECT of one response':48s} {one:8.1f} ms")
    for label, path in pages.items():
        took = _median_ms(lambda p=path: _get(client, p), repeat)
        mark = "ok" if took < 300 else "OVER 300 ms"
        print(f"  {label:48s} {took:8.1f} ms  {mark}")
    _report_review_post(client, middle, repeat)


def _report_review_post(client: httpx.Client, first: int, repeat: int) -> None:
    """Recording a review (a POST through `record_review`, as the CLI's `review set`)."""
    page = client.get(f"/r/{first}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    targets = iter(range(first, first + 2 * repeat + 2, 2))  # odd: not in the campaign

    def post() -> None:
        answer = client.post(
            f"/r/{next(targets)}/review", data={"stance": "supports", "csrf": token.group(1)}
        )
        assert answer.status_code == 303 and "error" not in client.get("/").text

    took = _median_ms(post, max(3, repeat // 3))
    print(f"  {'recording a review (POST, then the next page)':48s} {took:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", help="a PostgreSQL URL of an empty database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoering-desk-bench-") as folder:
        data_dir = Path(folder)
        url = args.postgres or f"sqlite:///{data_dir / 'hoering.db'}"
        engine = create_db_engine(url)
        began = time.perf_counter()
        hearing_id = build(engine, args.responses)
        print(f"generated {args.responses} responses in {time.perf_counter() - began:.1f} s")
        measure(engine, hearing_id, args.responses, data_dir, args.repeat)
        engine.dispose()


if __name__ == "__main__":
    main()
