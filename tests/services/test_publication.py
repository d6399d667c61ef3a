"""The publication export: private senders masked everywhere, organisations as received.

Runs on both databases with the example responses to 24/750: 24 private senders (the 22
LIS letters, Ingrid Solberg with her name in the text and signature, Jonas Lie with his
name and address in an attached .docx) and 10 organisations. A quarantined message that
quotes the case is never exported.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zipfile import ZipFile

import pytest
from sqlmodel import select

from domain.calendar import OSLO
from domain.cells import FORMULA_STARTS
from domain.errors import UserError
from domain.masking import EMAIL_MASK, NAME_MASK
from services.publication import INDEX_NAME, export_publication
from storage.db import read_session
from storage.intake_models import ResponseRow
from tests.services.test_review_storage import (
    CASE,
    EXAMPLES,
    IMPORTED,
    email,
    hearing_with_responses,
    import_messages,
)

PUBLISHED = datetime(2024, 9, 20, 12, 0, tzinfo=OSLO)
SECRET = "Kari Hemmeligsen"


@pytest.fixture
def store(engine, tmp_path):
    store = hearing_with_responses(engine, tmp_path)
    garbage = b"\x00\x01\x02 Hoering 24/750 fra " + SECRET.encode() + b"\x00" * 64
    outcome = import_messages(engine, store, [("garbage.eml", garbage)], IMPORTED)
    assert outcome[0].outcome == "quarantined"
    return store


def _senders(engine) -> tuple[list[ResponseRow], list[ResponseRow]]:
    with read_session(engine) as session:
        rows = session.exec(select(ResponseRow)).all()
    private = [r for r in rows if r.stakeholder_key is None]
    organisations = [r for r in rows if r.stakeholder_key is not None]
    return private, organisations


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _folder_of(files: dict[str, bytes], tracking: str) -> str:
    prefix = tracking.replace("/", "-") + " "
    (folder,) = {name.split("/", 1)[0] for name in files if name.startswith(prefix)}
    return folder


def _words(name: str) -> list[str]:
    return [part for part in re.split(r"[\s.@_-]+", name) if len(part) >= 3]


def test_private_senders_are_masked_everywhere(engine, store, tmp_path):
    result = export(engine, store, tmp_path / "out")
    files = _files(tmp_path / "out")
    private, _ = _senders(engine)
    assert len(private) == 24 and result.as_json()["private"] == 24
    everything = "\n".join([*files, *(data.decode("utf-8", "replace") for data in files.values())])
    index = files[INDEX_NAME].decode("utf-8-sig").splitlines()
    for response in private:
        assert response.from_address.lower() not in everything.lower()
        assert response.from_name not in everything
        folder = _folder_of(files, response.tracking_number)
        own = [name for name in files if name.startswith(f"{folder}/")]
        texts = [folder, *own, *(files[name].decode() for name in own)]
        texts += [line for line in index if line.startswith(f"{response.tracking_number};")]
        for word in _words(response.from_name):  # first and last names, æøå included
            for text in texts:
                assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text), (word, text)

    solberg = next(r for r in private if r.from_address == "ingrid.solberg@gmail.com")
    folder = _folder_of(files, solberg.tracking_number)
    assert folder.endswith("Privatperson")
    message = files[f"{folder}/melding.txt"].decode()
    assert message.startswith(f"Fra: {NAME_MASK} <{EMAIL_MASK}>\n")  # header
    assert f"Jeg, {NAME_MASK}, er overlege i onkologi" in message  # body
    assert message.rstrip().endswith(
        f"Med vennlig hilsen\n{NAME_MASK}\nOverlege, onkologisk avdeling"
    )
    assert f"{folder}/melding.eml" not in files  # the raw message cannot be masked

    lie = next(r for r in private if r.from_address == "jonas.lie@online.no")
    folder = _folder_of(files, lie.tracking_number)
    attached = [name for name in files if name.startswith(f"{folder}/vedlegg/")]
    assert attached == [f"{folder}/vedlegg/Innspill fra {NAME_MASK}.docx.txt"]  # text only
    text = files[attached[0]].decode()
    assert f"Spørsmål kan sendes til meg på {EMAIL_MASK}." in text  # attachment text
    assert f"{NAME_MASK}, overlege i geriatri" in text
    assert f"Hilsen {NAME_MASK}" in files[f"{folder}/melding.txt"].decode()  # "Hilsen Jonas"


def test_organisations_are_published_as_received(engine, store, tmp_path):
    export(engine, store, tmp_path / "out")
    files = _files(tmp_path / "out")
    _, organisations = _senders(engine)
    assert len(organisations) == 10
    for response in organisations:
        folder = _folder_of(files, response.tracking_number)
        assert folder.endswith(response.organisation)
        message = files[f"{folder}/melding.txt"].decode()
        assert response.from_address in message and NAME_MASK not in message

    legeforeningen = next(r for r in organisations if r.stakeholder_key == "legeforeningen")
    folder = _folder_of(files, legeforeningen.tracking_number)
    sent = (EXAMPLES / "2024-04-12-legeforeningen.eml").read_bytes()
    assert files[f"{folder}/melding.eml"] == sent
    assert "Siri Moen\nfagdirektør" in files[f"{folder}/melding.txt"].decode()

    raw = (EXAMPLES / "2024-05-03-spesialitetskomite-kir.eml").read_bytes()
    original = BytesParser(policy=policy.default).parsebytes(raw)
    (part,) = list(original.iter_attachments())
    kir = next(r for r in organisations if r.stakeholder_key == "spesialitetskomite-kir")
    folder = _folder_of(files, kir.tracking_number)
    assert files[f"{folder}/vedlegg/Høringssvar generell kirurgi.docx"] == part.get_content()
    assert (
        "selvstendig kunne"
        in files[f"{folder}/vedlegg/Høringssvar generell kirurgi.docx.txt"].decode()
    )


def test_index_lists_every_response_and_leaves_out_quarantine_and_auto_replies(
    engine, store, tmp_path
):
    reply = email(
        "Ola Fravær",
        "ola.fravaer@example.com",
        "Automatisk svar: Høring 24/750",
        "Jeg er på ferie.",
        datetime(2024, 6, 10, 8, 0, tzinfo=OSLO),
        Auto_Submitted="auto-replied",
    )
    import_messages(engine, store, [("auto.eml", reply)], IMPORTED)
    result = export(engine, store, tmp_path / "out")
    assert result.excluded == {"automatic_replies": 1, "quarantined": 0}
    files = _files(tmp_path / "out")
    index = files[INDEX_NAME].decode("utf-8-sig").splitlines()
    assert index[0].startswith("Nr.;Avsender;Avsendertype;Mottatt;Etter fristen")
    assert len(index) == 1 + 34
    assert sum(";privatperson;" in line for line in index) == 24
    late = [line for line in index if ";ja;" in line]
    assert len(late) == 1 and "Sykehuset Innlandet HF" in late[0]
    blob = b"".join(files.values())
    assert SECRET.encode() not in blob and b"Fravaer" not in blob and "Fravær".encode() not in blob


def test_zip_export_has_the_same_content(engine, store, tmp_path):
    export(engine, store, tmp_path / "out")
    result = export(engine, store, tmp_path / "svar.zip")
    assert result.as_zip
    with ZipFile(tmp_path / "svar.zip") as archive:
        zipped = {info.filename: archive.read(info) for info in archive.infolist()}
    assert zipped == _files(tmp_path / "out")


def test_a_rerun_replaces_the_export_and_a_foreign_folder_is_refused(engine, store, tmp_path):
    target = tmp_path / "out"
    export(engine, store, target)
    (target / "stale.txt").write_text("old")
    export(engine, store, target)
    assert not (target / "stale.txt").exists()
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    with pytest.raises(UserError, match="not an earlier export"):
        export(engine, store, foreign)
    assert (foreign / "mine.txt").read_text() == "keep me"
    assert not any(p.name.startswith(".documents.") for p in tmp_path.iterdir())


def export(engine, store, target: Path):
    with read_session(engine) as session:
        return export_publication(session, store, CASE, target, PUBLISHED)


def test_index_csv_cells_that_look_like_formulas_are_text(engine, store, tmp_path):
    formula = email(
        "Formel Testesen",
        "formel@example.com",
        "=1+1 sak 24/750",
        "Innspill til høring 24/750.",
        datetime(2024, 6, 1, 8, 0, tzinfo=OSLO),
    )
    import_messages(engine, store, [("formula.eml", formula)], IMPORTED)
    export(engine, store, tmp_path / "out")
    text = (tmp_path / "out" / INDEX_NAME).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    (row,) = [row for row in rows if "1+1 sak 24/750" in row[5]]
    assert row[5] == "'=1+1 sak 24/750"  # an apostrophe first: Excel and LibreOffice show text
    starts = FORMULA_STARTS
    assert not any(cell.startswith(starts) for row in rows for cell in row)


def test_masking_in_worker_processes_gives_the_same_export(engine, store, tmp_path, monkeypatch):
    """Private persons masked by two worker processes (the pool used from the first
    batch on) give byte for byte the export masked in the exporting process."""
    import services.publication as publication

    here = export(engine, store, tmp_path / "here")
    monkeypatch.setattr(publication, "_POOL_FROM", 1)
    started = []
    real_pool = publication.ProcessPoolExecutor

    def pool(*args, **kwargs):
        started.append(args)
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(publication, "ProcessPoolExecutor", pool)
    with read_session(engine) as session:
        pooled = export_publication(session, store, CASE, tmp_path / "pooled", PUBLISHED, 2)
    assert started == [(2,)]  # the pool did the masking
    assert (pooled.responses, pooled.private, pooled.files) == (
        here.responses,
        here.private,
        here.files,
    )
    assert here.private == 24
    assert _files(tmp_path / "pooled") == _files(tmp_path / "here")
