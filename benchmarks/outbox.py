"""Messages delivered per second to a local SMTP server, against plain smtplib.

N outbox rows, each with a rendered påminnelse (.docx) attached, go to an aiosmtpd
server on loopback, on SQLite and on PostgreSQL:
  - sender: `services.outbox.send_pending` over the SMTP transport (batch claim,
    e-mail built from the row, delivery, fsynced journal entry, batch mark);
  - baseline: the same e-mails, already built, sent by `smtplib.SMTP.send_message`
    in a loop over one connection (no database, no journal).
Both runs use the same server in the same process, so the ratio shows what the
bookkeeping that makes delivery exactly-once costs over the bare SMTP conversation.

Run: .venv/bin/python -m benchmarks.outbox [--messages 500]
"""

from __future__ import annotations

import argparse
import json
import smtplib
import tempfile
import time
import uuid
from datetime import date, datetime
from email.headerregistry import Address
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from domain.calendar import OSLO
from domain.letter_context import Contact, ReminderContext
from mail.outgoing import build_email
from mail.transports import MailSettings, open_transport
from rendering.letters import render_docx
from services.outbox import (
    SendPolicy,
    attachment_paths,
    outgoing_message,
    send_pending,
)
from storage.db import create_db_engine, read_session, upgrade_schema, write_session
from storage.hearing_models import OutboxMessageRow
from storage.outbox_queue import queue_message
from tests.installation_helpers import free_port

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SENDER = Address(display_name="Helsedirektoratet", addr_spec="postmottak@helsedir.no")
NOW = datetime(2024, 5, 16, 7, 0, tzinfo=OSLO)


class Counting:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        return "250 2.0.0 Ok: queued"


def _letter(folder: Path) -> Path:
    path = folder / "paaminnelse.docx"
    context = ReminderContext(
        case_number="24/750",
        letter_date=NOW.date(),
        title="Kompetanse om kliniske studier i spesialistutdanningen for leger",
        circulated_date=date(2024, 3, 22),
        deadline=date(2024, 5, 31),
        recipient_name="Helse Vest RHF",
        recipient_address="post@helse-vest.no",
        case_officer="Marie Thoresen",
        contact=Contact(title="seniorrådgiver", name="Marie Thoresen", email="m@helsedir.no"),
    )
    render_docx("paaminnelse", context, path)
    return path


def _queue(url: str, count: int, letter: Path) -> None:
    engine = create_db_engine(url)
    upgrade_schema(engine)
    with write_session(engine) as session:
        for n in range(count):
            queue_message(
                session,
                kind="paaminnelse",
                dedupe_key=f"bench:{n}",
                to_address=f"mottaker{n}@example.no",
                to_name=f"Mottaker {n}",
                subject="Påminnelse om høring med frist 31. mai 2024 – Vår ref. 24/750",
                body_text="Vi minner om at høringsfristen er 31. mai 2024.\n",
                now=NOW,
                attachments=[letter],
            )
    engine.dispose()


def _baseline(url: str, port: int) -> float:
    engine = create_db_engine(url)
    with read_session(engine) as session:
        rows = session.exec(select(OutboxMessageRow).order_by(col(OutboxMessageRow.id))).all()
        outgoing = [outgoing_message(row, "24/750") for row in rows]
    engine.dispose()
    messages = [
        build_email(m, sender=SENDER, attachments=attachment_paths(m, with_pdf=False))
        for m in outgoing
    ]
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for message in messages:
            connection.send_message(message)
    return len(messages) / (time.perf_counter() - start)


def _sender(url: str, port: int, data_dir: Path, count: int) -> float:
    engine = create_db_engine(url)
    settings = MailSettings(
        data_dir=data_dir,
        mail_transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_pdf=False,
    )
    start = time.perf_counter()
    report = send_pending(
        engine,
        open_transport(settings),
        now=NOW,
        data_dir=data_dir,
        sender=SENDER,
        policy=SendPolicy(batch_size=50),
    )
    elapsed = time.perf_counter() - start
    engine.dispose()
    if report.counts()["sent"] != count:
        raise SystemExit(f"sender delivered {report.counts()} of {count}")
    return count / elapsed


def run_backend(name: str, url: str, count: int, folder: Path) -> dict:
    letter = _letter(folder)
    _queue(url, count, letter)
    handler = Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        baseline = _baseline(url, controller.port)
        sender = _sender(url, controller.port, folder / f"data-{name}", count)
    finally:
        controller.stop()
    if handler.count != 2 * count:
        raise SystemExit(f"server received {handler.count}, expected {2 * count}")
    print(
        f"{name:10s} smtplib loop msgs/s {baseline:7.0f}   outbox sender msgs/s "
        f"{sender:7.0f}   ratio {sender / baseline:5.2f}"
    )
    return {"backend": name, "baseline": baseline, "sender": sender, "ratio": sender / baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="also print the numbers as JSON")
    args = parser.parse_args()
    print(f"{args.messages} messages, each with a .docx attached, to aiosmtpd on loopback")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(
            run_backend(
                "sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args.messages, Path(folder)
            )
        )
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        database = f"hoering_bench_{uuid.uuid4().hex[:8]}"
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
        except Exception as exc:
            print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        else:
            try:
                url = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
                results.append(run_backend("postgresql", url, args.messages, Path(folder)))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
