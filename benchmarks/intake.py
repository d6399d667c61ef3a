"""E-mail intake throughput and memory, against the standard library in the same run.

For each count (default 10,000) the benchmark writes that many realistic responses
(Norwegian text, 30 % with a .docx, 10 % with a PDF, HTML alternatives, a few resends
and a little junk) into a Maildir, then measures, each in a fresh process:

  - baseline: the standard library's own parse-and-hash of the same files: read the
    file, sha256 it, parse it with `email` (policy.default) and sha256 every decoded
    leaf part;
  - hoering: the import flow (`flows.intake_flows.import_responses`, run as a Prefect
    flow against a local Prefect server, batches of 200 parsed by the parse workers,
    HOERING_INTAKE_PARSE_WORKERS, and written in order) into a fresh database (SQLite
    and/or PostgreSQL, `--database`) and blob store: raw bytes kept, parsed, matched,
    numbered, attachment text extracted, receipts queued.

It prints messages per second of both, their ratio (target: at least 0.5), and the
peak resident memory (ru_maxrss) of each process (the importing process, and the
largest of its parse workers and attachment readers): with `--counts 10000 50000` it
shows whether the import's memory stays flat as the mailbox grows.

Run: .venv/bin/python -m benchmarks.intake [--counts 10000 50000] [--database both] [--keep]
PostgreSQL: a fresh database on HOERING_TEST_PG_URL's server (default the local one),
dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from email import policy
from email.parser import BytesParser
from pathlib import Path
from xml.sax.saxutils import escape

from tests.installation_helpers import free_port
from tests.sample_files import message, pdf_bytes

ROOT = Path(__file__).resolve().parents[1]

# --- generating the mailbox -----------------------------------------------------------------

OPENINGS = [
    "Vi viser til høringsbrev om nytt læringsmål om kliniske studier.",
    "Takk for muligheten til å gi innspill til forslaget.",
    "Helseforetaket har behandlet høringen i fagrådet for spesialistutdanning.",
    "Fagmiljøet har gått gjennom forslaget til læringsmål.",
]
STANCES = [
    "Vi støtter forslaget slik det foreligger.",
    "Vi støtter intensjonen, men mener kravet om deltakelse i en klinisk studie er for strengt.",
    "Vi har ingen merknader til forslaget.",
    "Vi er bekymret for kapasiteten til veiledning i mindre sykehus.",
    "Læringsmålet bør legges til del 3 av utdanningen, ikke del 2.",
]
DETAILS = [
    "Det er viktig at leger i spesialisering får praktisk erfaring med informert samtykke.",
    "Forskningsstøtte ved regionale kompetansesentre kan bidra til gjennomføringen.",
    "Vi foreslår at læringsmålet oppnås gjennom kurs kombinert med praktisk tjeneste.",
    "Ikrafttredelse 1. september 2025 gir tilstrekkelig tid til omstilling.",
    "Kompetansenivået bør være «kjenne til» og ikke «kunne utføre».",
]
SENDERS = [
    ("Åse Ødegård", "ase.odegard@helse-vest.no"),
    ("Per Håkonsen", "per.hakonsen@helse-bergen.no"),
    ("Kari Nordmann", "kari.nordmann@mh.ntnu.no"),
    ("Spesialitetskomiteen i blodsykdommer", "spesialitetskomite-bls@legeforeningen.no"),
    ("Ola Dahl", "ola.dahl@legeforeningen.no"),
    ("RegUt Helse Sør-Øst", "regutpost@ous-hf.no"),
    ("Ingrid Bø", "ingrid.bo@helse-nord.no"),
    ("Jon Ås", "jon.as@gmail.com"),
    ("Sykehuset Innlandet", "postmottak@sykehuset-innlandet.no"),
    ("Liv Berg", "liv.berg@medisin.uio.no"),
]
# A national hearing that becomes a campaign is answered mostly by private persons, each
# writing from an address of their own (some write twice); the rest by the consulted
# bodies and their staff, whose later messages count as supplements of the first.
PRIVATE_SHARE = 0.85
WRITES_AGAIN = 0.03
FIRST_NAMES = [
    "Åse",
    "Per",
    "Kari",
    "Ola",
    "Ingrid",
    "Jon",
    "Liv",
    "Bjørn",
    "Sigrid",
    "Håkon",
    "Marit",
    "Øystein",
    "Solveig",
    "Lars",
    "Ragnhild",
    "Eirik",
    "Tone",
    "Knut",
    "Ane",
    "Jørgen",
]
LAST_NAMES = [
    "Ødegård",
    "Håkonsen",
    "Nordmann",
    "Dahl",
    "Bø",
    "Ås",
    "Berg",
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Sæther",
    "Løken",
    "Strøm",
]
FREE_MAIL = ["gmail.com", "hotmail.com", "online.no", "outlook.com", "icloud.com", "live.no"]
SUBJECTS = [
    "SV: Høring – læringsmål om kliniske studier, sak 24/750",
    "Høringssvar sak 24/750",
    "Innspill til høring, saksnr. 24/750",
    "Høringsinnspill fra {org}",
    "Deres ref. 24/750-1 – høringssvar",
    "Høringssvar",
]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx_template() -> tuple[dict[str, bytes], str]:
    """A real .docx (python-docx), whose document.xml is rewritten per message."""
    from docx import Document

    document = Document()
    document.add_paragraph("PLACEHOLDER")
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    return parts, parts["word/document.xml"].decode("utf-8")


def _docx(parts: dict[str, bytes], xml: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    start = xml.index("<w:p>")
    end = xml.index("</w:p>", start) + len("</w:p>")
    document = xml[:start] + body + xml[end:]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, document if name == "word/document.xml" else data)
    return buffer.getvalue()


def _text(rng: random.Random, number: int) -> list[str]:
    paragraphs = [rng.choice(OPENINGS), rng.choice(STANCES)]
    paragraphs += rng.sample(DETAILS, k=rng.randint(1, 4))
    paragraphs.append(f"Vår referanse: {2024}/{1000 + number}.")
    return paragraphs


def cached_maildir(cache: Path | None, folder: Path, count: int) -> tuple[Path, dict[str, int]]:
    """The generated Maildir of `count` messages: in `folder` (made now), or with a
    `cache` folder, the one generated there earlier (made there once and kept), so
    several benchmarks can share a large mailbox; the generator is deterministic."""
    if cache is None:
        return folder, generate_maildir(folder, count)
    kept = cache / f"maildir-{count}-seed-750"
    done = kept / "generated.json"
    if done.is_file():
        return kept, json.loads(done.read_text(encoding="utf-8"))
    shutil.rmtree(kept, ignore_errors=True)  # a generation cut off half way
    stats = generate_maildir(kept, count)
    done.write_text(json.dumps(stats), encoding="utf-8")
    return kept, stats


def generate_maildir(folder: Path, count: int, seed: int = 750) -> dict[str, int]:
    """`count` responses in `folder` (a Maildir); returns what was generated."""
    rng = random.Random(seed)
    parts, xml = _docx_template()
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    stats = {"docx": 0, "pdf": 0, "resend": 0, "junk": 0, "bytes": 0}
    previous: bytes | None = None
    private: list[tuple[str, str]] = []  # recent private senders, some of whom write again
    for number in range(count):
        roll = rng.random()
        if previous is not None and roll < 0.01:
            raw = previous  # delivered twice
            stats["resend"] += 1
        elif roll < 0.015:
            raw = b"\x01\x02\x03\x04 binary junk " + os.urandom(64)
            stats["junk"] += 1
        else:
            raw = _message(rng, number, parts, xml, stats, private)
            previous = raw
        name = f"{1717000000 + number}.M{number}P42.postmottak"
        (folder / "new" / name).write_bytes(raw)
        stats["bytes"] += len(raw)
    return stats


def _ascii(name: str) -> str:
    table = str.maketrans({"å": "a", "æ": "ae", "ø": "o", "Å": "a", "Æ": "ae", "Ø": "o"})
    return name.translate(table).lower()


def _sender(rng: random.Random, number: int, private: list[tuple[str, str]]) -> tuple[str, str]:
    """Most messages from a private person of their own, some from one who wrote before,
    the rest from the consulted bodies (`SENDERS`)."""
    roll = rng.random()
    if roll >= PRIVATE_SHARE:
        return rng.choice(SENDERS)
    if private and roll < WRITES_AGAIN:
        return rng.choice(private)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    address = f"{_ascii(first)}.{_ascii(last)}.{number}@{rng.choice(FREE_MAIL)}"
    private.append((f"{first} {last}", address))
    if len(private) > 1000:
        del private[: len(private) - 1000]  # keep the generator's memory flat
    return private[-1]


def _message(
    rng: random.Random,
    number: int,
    parts: dict[str, bytes],
    xml: str,
    stats: dict[str, int],
    private: list[tuple[str, str]],
) -> bytes:
    name, address = _sender(rng, number, private)
    paragraphs = _text(rng, number)
    domain = address.split("@")[1]
    subject = rng.choice(SUBJECTS).format(org=name)
    day, hour = rng.randint(1, 31), rng.randint(7, 23)
    date = f"{day:02d} May 2024 {hour:02d}:{rng.randint(0, 59):02d}:00 +0200"
    message_id = f"<{number}.{rng.getrandbits(48):x}@{domain}>"
    received = f"from mail.{domain} by mx.helsedir.no; {day:02d} May 2024 {hour:02d}:59:00 +0200"
    body = "Hei,\n\n" + "\n\n".join(paragraphs) + f"\n\nVennlig hilsen\n{name}\n"
    html = None
    if rng.random() < 0.5:
        html = (
            "<html><body>" + "".join(f"<p>{escape(p)}</p>" for p in paragraphs) + "</body></html>"
        )
    attachments: list[tuple[str, bytes, str]] = []
    roll = rng.random()
    if roll < 0.30:
        letter = _docx(parts, xml, [name, "Høringssvar sak 24/750", *paragraphs] * 3)
        attachments.append((f"Høringssvar {name}.docx", letter, DOCX_TYPE))
        stats["docx"] += 1
    elif roll < 0.40:
        letter = pdf_bytes(name, "Deres ref.: 24/750", *paragraphs, errors="replace")
        attachments.append(("høringssvar.pdf", letter, "application/pdf"))
        stats["pdf"] += 1
    return message(
        sender=f"{name} <{address}>",
        subject=subject,
        body=body,
        date=date,
        message_id=message_id,
        headers=[("Received", received)],
        html=html,
        attachments=attachments,
    )


# --- the two measurements (in a child process) ---------------------------------------------


def baseline(folder: Path) -> int:
    """The standard library's parse-and-hash of every file; returns the count."""
    parser = BytesParser(policy=policy.default)
    count = 0
    for sub in ("cur", "new"):
        for path in sorted((folder / sub).iterdir()):
            raw = path.read_bytes()
            hashlib.sha256(raw).hexdigest()
            message = parser.parsebytes(raw)
            for part in message.walk():
                if not part.is_multipart():
                    payload = part.get_payload(decode=True) or b""
                    hashlib.sha256(payload).hexdigest()
            count += 1
    return count


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, folder: Path, work: Path) -> dict:
    """One measurement in a fresh process, so its peak memory is its own."""
    if mode == "baseline":
        started = time.perf_counter()
        read = baseline(folder)
        return {
            "messages": read,
            "seconds": time.perf_counter() - started,
            "peak_rss_mib": _peak_rss_mib(),
        }
    import asyncio

    os.environ["HOERING_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("HOERING_DATABASE_URL", f"sqlite:///{work / 'hoering.db'}")
    from config.settings import default_data_dir
    from flows.intake_flows import import_responses
    from services.reference_files import load_reference_data
    from storage.db import create_db_engine, upgrade_schema, write_session
    from storage.reference_sync import sync_reference_data

    sys.path.insert(0, str(ROOT))
    from tests.intake_helpers import circulated_hearing

    engine = create_db_engine(os.environ["HOERING_DATABASE_URL"])
    upgrade_schema(engine)
    with write_session(engine) as session:
        sync_reference_data(session, load_reference_data(default_data_dir()))
    circulated_hearing(engine)
    engine.dispose()
    ready_rss = _peak_rss_mib()
    started = time.perf_counter()
    result = asyncio.run(import_responses([str(folder)], as_of="2024-06-03T09:00"))
    return {
        "messages": result["read"],
        "seconds": time.perf_counter() - started,
        "counts": result["counts"],
        "ready_rss_mib": ready_rss,
        "peak_rss_mib": _peak_rss_mib(),
        "workers_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


# --- the driver ------------------------------------------------------------------------------


def _run_child(mode: str, folder: Path, work: Path, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.intake", "--child", mode, str(folder), str(work)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


PG_ADMIN_URL = os.environ.get(
    "HOERING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_database(name: str, drop: bool = False) -> str:
    """Create (or drop) database `name` on the PostgreSQL server; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _measure(database: str, folder: Path, work: Path, env: dict[str, str], base: dict) -> dict:
    """One import of `folder` into a fresh database of the kind; prints its line."""
    env = dict(env)
    name = f"hoering_bench_{os.getpid()}"
    if database == "postgresql":
        env["HOERING_DATABASE_URL"] = _pg_database(name)
    else:
        env["HOERING_DATABASE_URL"] = f"sqlite:///{work / 'hoering.db'}"
    try:
        result = _run_child("import", folder, work, env)
    finally:
        if database == "postgresql":
            _pg_database(name, drop=True)
    base_rate = base["messages"] / base["seconds"]
    rate = result["messages"] / result["seconds"]
    print(
        f"{result['messages']:>7} messages, {database:<10}: stdlib parse+hash {base_rate:5.0f} "
        f"msg/s ({base['seconds']:.0f} s) | hoering import {rate:5.0f} msg/s "
        f"({result['seconds']:.0f} s) | ratio {rate / base_rate:.2f} (target >= 0.50) | "
        f"peak RSS import {result['peak_rss_mib']:.0f} MiB (ready "
        f"{result['ready_rss_mib']:.0f}), largest worker {result['workers_peak_rss_mib']:.0f}"
        f" MiB, baseline {base['peak_rss_mib']:.0f} MiB | load {os.getloadavg()[0]:.1f} | "
        f"{result['counts']}",
        flush=True,
    )
    shutil.rmtree(work / "data", ignore_errors=True)
    for leftover in work.glob("hoering.db*"):
        leftover.unlink()
    return {**result, "database": database}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="where to"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), Path(args.child[2]))))
        return

    from flows.prefect_server import start_server, stop_server

    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]

    root = Path(tempfile.mkdtemp(prefix="hoering-intake-bench-"))
    env = {**os.environ, "PREFECT_HOME": str(root / "prefect-home")}
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    env.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    started_server = "PREFECT_API_URL" not in os.environ
    os.environ.update({k: v for k, v in env.items() if k.startswith("PREFECT_")})
    if started_server:  # a server of its own, stopped at the end
        env["PREFECT_API_URL"] = start_server(root / "server", free_port()).api_url
    else:
        env["PREFECT_API_URL"] = os.environ["PREFECT_API_URL"]
    rows = []
    try:
        for count in args.counts:
            folder = root / f"maildir-{count}"
            started = time.perf_counter()
            stats = generate_maildir(folder, count)
            print(
                f"generated {count} messages ({stats['docx']} .docx, {stats['pdf']} PDF, "
                f"{stats['resend']} resent, {stats['junk']} junk, "
                f"{stats['bytes'] / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            work = root / f"work-{count}"
            work.mkdir()
            for database in databases:  # the baseline again beside each: the load varies
                base = _run_child("baseline", folder, work, env)
                rows.append(_measure(database, folder, work, env, base))
            if not args.keep:
                shutil.rmtree(folder)
    finally:
        if started_server:
            stop_server(root / "server")
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    for database in databases:
        mine = [row for row in rows if row["database"] == database]
        if len(mine) > 1:
            first, last = mine[0], mine[-1]
            print(
                f"{database}: peak RSS from {first['messages']} to {last['messages']} messages: "
                f"import {first['peak_rss_mib']:.0f} -> {last['peak_rss_mib']:.0f} MiB, "
                f"largest worker {first['workers_peak_rss_mib']:.0f} -> "
                f"{last['workers_peak_rss_mib']:.0f} MiB"
            )


if __name__ == "__main__":
    main()
