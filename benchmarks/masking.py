"""Masking of private persons' personal data in the publication export.

Generates a corpus (tests/masking_corpus.py: private persons' responses with planted
phone numbers, fødselsnummer/D-nummer, e-mail and street addresses, birth dates and
names in the body, quotes, forwards, signatures, .docx and .pdf attachments and file
names; organisations' responses from stakeholders' domains), imports it into hearing
24/750 on a fresh SQLite database, runs the export `hoering hearing publish` runs, and
prints what share of the planted data was masked, how many case numbers, dates and goal
IDs were masked by mistake, and how many organisation responses are byte-identical.

Run: .venv/bin/python -m benchmarks.masking [--private 200] [--organisations 50] [--leaks]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--private", type=int, default=200)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--seed", type=int, default=750)
    parser.add_argument("--leaks", action="store_true", help="list every leak found")
    parser.add_argument("--keep", type=Path, help="a folder to keep the database and export in")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from config.settings import default_data_dir
    from services.reference_files import load_reference_data
    from storage.db import create_db_engine, upgrade_schema, write_session
    from storage.reference_sync import sync_reference_data
    from tests.masking_measure import publish_corpus

    with tempfile.TemporaryDirectory(prefix="masking-") as temporary:
        work = options.keep or temporary
        Path(work).mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(f"sqlite:///{Path(work) / 'hoering.db'}")
        try:
            upgrade_schema(engine)
            with write_session(engine) as session:
                sync_reference_data(session, load_reference_data(default_data_dir()))
            figures, seconds = publish_corpus(
                engine, Path(work), options.private, options.organisations, options.seed
            )
        finally:
            engine.dispose()
    for line in figures.lines():
        print(line)
    print(f"export time: {seconds:.1f} s")
    if options.leaks:
        for leak in figures.leaks:
            print("  " + leak)
    ok = (
        figures.identifier_rate == 1.0
        and figures.name_rate >= 0.95
        and figures.kept_lost == 0
        and figures.sentences_altered == 0
        and figures.organisations_identical == figures.organisations
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
