"""The publication export of a hearing's responses (offentleglova: they are public).

One folder per response, plus `index.csv`:

- from an organisation (the sender matched a stakeholder): the message as received
  (`melding.eml`), its header lines and text (`melding.txt`), every attachment as
  received under `vedlegg/`, and each attachment's extracted text (`<name>.txt`);
- from a private person (no stakeholder): `melding.txt` and the attachments' extracted
  text only, with personal data masked everywhere (header lines, body, quotes, forwards,
  signature, attachment text and file names): identifiers such as phone numbers,
  fødselsnummer, e-mail and street addresses, birth dates, and the names of the sender
  and of the people the text names (`response_masker`, the one masking the public
  høringsoppsummering uses too). The raw message and
  the original attachments are not exported, because their bytes cannot be masked
  reliably. The folder and the index name the sender only as "Privatperson".

Automatic replies and quarantined messages are left out. `OUTDIR` ending in `.zip` gives
a zip file, anything else a folder; the export is built beside the target and moved into
place, so a re-run replaces an earlier export whole.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from sqlmodel import Session, col, select

from domain.calendar import OSLO
from domain.cells import csv_cell
from domain.email_intake import AddressedTo, ParsedMessage, read_addressed_to
from domain.errors import UserError
from domain.mail_names import safe_attachment_name
from domain.private_persons import is_private_sender
from domain.response_masking import (
    MaskedTexts,
    PrivateTexts,
    ResponseMasker,
    mask_private_texts,
)
from services import hearings
from services.review_lookup import attachments_of
from storage.blobs import BlobMissing, BlobStore
from storage.intake_models import (
    IntakeMessageRow,
    QuarantineRow,
    ResponseAttachmentRow,
    ResponseRow,
)
from storage.intake_queries import supplement_firsts
from storage.rows import row_id
from storage.timeutil import from_db

INDEX_NAME = "index.csv"
PRIVATE_NB = "Privatperson"
_BATCH = 500
# Below this many private persons in a batch, starting worker processes (about a second)
# costs more than masking them here.
_POOL_FROM = 100
INDEX_HEADERS = (
    "Nr.",
    "Avsender",
    "Avsendertype",
    "Mottatt",
    "Etter fristen",
    "Emne",
    "Mappe",
    "Filer",
    "Tillegg til",  # a supplement: the document number of the response it adds to
)


class PublicationError(UserError):
    pass


@dataclass(frozen=True)
class PublishedResponse:
    tracking_number: str
    sender: str
    private: bool
    received: datetime
    late: bool
    subject: str
    folder: str
    files: tuple[str, ...]
    supplement_of: str | None = None  # counted with that response, not on its own


@dataclass(frozen=True)
class PublicationResult:
    """What was exported: counts only (the index names every response)."""

    case: str
    target: Path
    as_zip: bool
    responses: int
    private: int
    files: int  # index.csv included
    excluded: dict[str, int]
    supplements: int = 0  # exported beside their first responses, not counted on their own

    def as_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "target": str(self.target),
            "zip": self.as_zip,
            "responses": self.responses,
            "private": self.private,
            "organisations": self.responses - self.private,
            "supplements": self.supplements,
            "files": self.files,
            "excluded": self.excluded,
        }


def is_private(response: ResponseRow) -> bool:
    """A sender that matched no stakeholder is treated as a private person."""
    return is_private_sender(response.stakeholder_key)


def _responses(
    session: Session, hearing_id: int, excluded: dict[str, int]
) -> Iterator[list[tuple[ResponseRow, str]]]:
    """The responses to publish with their raw message's sha256, a page at a time, oldest
    first (a streamed query over the hearing's received index); what is left out is
    counted in `excluded`."""
    query = (
        select(
            ResponseRow,
            IntakeMessageRow.raw_sha256,
            IntakeMessageRow.outcome,
            QuarantineRow.id,
        )
        .join(IntakeMessageRow, col(IntakeMessageRow.id) == col(ResponseRow.intake_message_id))
        .outerjoin(
            QuarantineRow,
            (col(QuarantineRow.intake_message_id) == col(ResponseRow.intake_message_id))
            & col(QuarantineRow.released_at).is_(None),
        )
        .where(col(ResponseRow.hearing_id) == hearing_id)
        .order_by(col(ResponseRow.received_at), col(ResponseRow.id))
        .execution_options(yield_per=_BATCH)
    )
    for page in session.execute(query).partitions():
        kept: list[tuple[ResponseRow, str]] = []
        for response, sha, outcome, quarantine_id in page:
            if outcome == "quarantined" or quarantine_id is not None:
                excluded["quarantined"] += 1
            elif response.auto_submitted:
                excluded["automatic_replies"] += 1
            else:
                kept.append((response, sha))
        yield kept


def private_texts(
    response: ResponseRow,
    attachments: Sequence[ResponseAttachmentRow],
    parsed: AddressedTo | ParsedMessage | None = None,
) -> PrivateTexts:
    """What a private person's response shows: header lines and body, subject,
    attachment names and texts (each masked by what all of them name)."""
    return PrivateTexts(
        sender_name=response.from_name,
        sender_address=response.from_address,
        message=message_text(response, parsed),
        subject=response.subject or "",
        file_names=tuple(a.filename or a.safe_name for a in attachments),
        attachment_texts=tuple(a.text for a in attachments),
    )


def response_masker(
    response: ResponseRow,
    attachments: Sequence[ResponseAttachmentRow],
    parsed: AddressedTo | ParsedMessage | None = None,
) -> ResponseMasker | None:
    """The masking of a private person's response (None for an organisation): learnt
    from its header lines, body, attachment texts and file names."""
    if not is_private(response):
        return None
    return private_texts(response, attachments, parsed).masker()


class _Masking:
    """Masks private persons' responses a batch at a time: in this process, or, from a
    batch with `_POOL_FROM` private persons on, in `workers` processes (started once,
    with `spawn`: the export may run inside a Prefect flow run's threads)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def map(self, jobs: Sequence[PrivateTexts]) -> list[MaskedTexts]:
        if self.pool is None and self.workers > 1 and len(jobs) >= _POOL_FROM:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        if self.pool is None:
            return [mask_private_texts(job) for job in jobs]
        return list(self.pool.map(mask_private_texts, jobs, chunksize=8))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return (from_db(moment) or moment).astimezone(OSLO).strftime("%d.%m.%Y %H:%M")


def message_text(response: ResponseRow, parsed: AddressedTo | ParsedMessage | None) -> str:
    """Header lines and the text of the message, as a reader sees them."""
    sender = response.from_name or ""
    if response.from_address:
        sender = f"{sender} <{response.from_address}>".strip()
    lines = [f"Fra: {sender}"]
    if parsed is not None and parsed.to_addresses:
        lines.append(f"Til: {', '.join(parsed.to_addresses)}")
    if parsed is not None and parsed.cc_addresses:
        lines.append(f"Kopi: {', '.join(parsed.cc_addresses)}")
    date_shown = parsed.date if parsed is not None and parsed.date else response.received_at
    lines.append(f"Dato: {_local(date_shown)}")
    lines.append(f"Emne: {response.subject or ''}")
    lines.append(f"Vår ref.: {response.tracking_number or ''}")
    return "\n".join(lines) + "\n\n" + (response.body_text or "") + "\n"


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    candidate, number = name, 2
    while candidate.casefold() in taken:
        candidate = f"{stem} ({number}){dot}{extension}"
        number += 1
    taken.add(candidate.casefold())
    return candidate


class _Writer:
    """Writes the export as it goes (50,000 responses do not fit in memory) into a staging
    folder or zip beside the target; `commit` moves it into place, `abort` removes it."""

    def __init__(self, target: Path, day: date) -> None:
        self.target = target
        self.as_zip = target.suffix.lower() == ".zip"
        if not self.as_zip and target.exists() and (not target.is_dir() or _is_foreign(target)):
            raise PublicationError(
                f"OUTDIR: {target} exists and is not an earlier export (no {INDEX_NAME}); "
                "choose a new or empty folder"
            )
        if self.as_zip and target.is_dir():
            raise PublicationError(f"OUTDIR: {target} is a folder; name a .zip file or a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        self.stamp = (day.year, day.month, day.day, 0, 0, 0)
        self.staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        self.archive = (
            ZipFile(self.staging / "export.zip", "w", ZIP_DEFLATED) if self.as_zip else None
        )

    def add(self, relative: str, data: bytes) -> None:
        if self.archive is not None:
            entry = ZipInfo(relative, date_time=self.stamp)
            entry.compress_type = ZIP_DEFLATED
            entry.flag_bits |= 0x800  # UTF-8 file names (æøå)
            self.archive.writestr(entry, data)
            return
        path = self.staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def add_file(self, relative: str, path: Path) -> None:
        """Add the file at `path` (in the staging folder) as `relative`, then remove it."""
        if self.archive is not None:
            entry = ZipInfo(relative, date_time=self.stamp)
            entry.compress_type = ZIP_DEFLATED
            entry.flag_bits |= 0x800
            with open(path, "rb") as source, self.archive.open(entry, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            path.unlink()
            return
        destination = self.staging / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, destination)

    def commit(self) -> None:
        if self.archive is not None:
            self.archive.close()
            os.replace(self.staging / "export.zip", self.target)
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            self.target.rename(old)
            self.staging.rename(self.target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.staging.rename(self.target)

    def abort(self) -> None:
        if self.archive is not None:
            self.archive.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def _is_foreign(folder: Path) -> bool:
    return any(folder.iterdir()) and not (folder / INDEX_NAME).is_file()


def _blob(store: BlobStore, sha256: str, response: ResponseRow) -> bytes:
    try:
        return store.get(sha256)
    except BlobMissing as missing:
        raise PublicationError(
            f"a file of response {response.tracking_number} is missing from the blob store "
            f"({missing}); restore the data folder before publishing"
        ) from None


def _export_response(
    writer: _Writer,
    store: BlobStore,
    response: ResponseRow,
    raw: bytes,
    parsed: AddressedTo | None,
    attachments: Sequence[ResponseAttachmentRow],
    masked: MaskedTexts | None,
    supplement_of: str | None = None,
) -> PublishedResponse:
    """One response's folder: a private person's (`masked` given) masked texts only, an
    organisation's message and attachments as received."""
    private = masked is not None
    number = (response.tracking_number or f"#{response.id}").replace("/", "-")
    sender = PRIVATE_NB if private else (response.organisation or response.from_name or "")
    folder = safe_attachment_name(f"{number} {sender}", 0)
    files: list[str] = []

    def put(name: str, data: bytes) -> None:
        path = f"{folder}/{name}"
        writer.add(path, data)
        files.append(path)

    text = masked.message if masked is not None else message_text(response, parsed)
    put("melding.txt", text.encode("utf-8"))
    if masked is None:
        put("melding.eml", raw)
    taken: set[str] = {"melding.txt", "melding.eml"}
    for index, attachment in enumerate(attachments):
        shown = attachment.filename or attachment.safe_name
        body = attachment.text
        if masked is not None:
            shown, body = masked.file_names[index], masked.attachment_texts[index]
        name = safe_attachment_name(shown, attachment.position, attachment.content_type)
        if masked is None:
            put(f"vedlegg/{_unique(name, taken)}", _blob(store, attachment.sha256, response))
        if body:
            put(f"vedlegg/{_unique(name + '.txt', taken)}", body.encode("utf-8"))
    return PublishedResponse(
        tracking_number=response.tracking_number or f"#{response.id}",
        sender=sender,
        private=private,
        received=from_db(response.received_at) or response.received_at,
        late=bool(response.late),
        subject=masked.subject if masked is not None else response.subject or "",
        folder=folder,
        files=tuple(files),
        supplement_of=supplement_of,
    )


def _export_batch(
    writer: _Writer,
    store: BlobStore,
    masking: _Masking,
    batch: Sequence[tuple[ResponseRow, str]],
    attachments: dict[int, list[ResponseAttachmentRow]],
    firsts: dict[int, str],
) -> Iterator[PublishedResponse]:
    """The batch's responses exported in order, the private persons masked together."""
    read = []
    for response, sha in batch:
        raw = _blob(store, sha, response)
        parsed = read_addressed_to(raw)  # the header lines shown; the parts are not needed
        read.append((response, raw, parsed, attachments.get(row_id(response), [])))
    jobs = [private_texts(r, found, parsed) for r, _, parsed, found in read if is_private(r)]
    masked = iter(masking.map(jobs))
    for response, raw, parsed, found in read:
        shown = next(masked) if is_private(response) else None
        yield _export_response(
            writer, store, response, raw, parsed, found, shown, firsts.get(row_id(response))
        )


class _Index:
    """index.csv, a row per exported response, written to a file as the export goes."""

    def __init__(self, stream: TextIO) -> None:
        self.writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        self.writer.writerow(INDEX_HEADERS)

    def add(self, row: PublishedResponse) -> None:
        cells = (
            row.tracking_number,
            row.sender,
            "privatperson" if row.private else "organisasjon",
            _local(row.received),
            "ja" if row.late else "nei",
            row.subject,
            row.folder,
            " | ".join(f.split("/", 1)[1] for f in row.files),
            row.supplement_of or "",
        )
        self.writer.writerow([csv_cell(cell) for cell in cells])


def export_publication(
    session: Session,
    store: BlobStore,
    case: str,
    outdir: Path,
    as_of: datetime,
    workers: int = 1,
) -> PublicationResult:
    """Export hearing `case`'s responses for publication to `outdir` (a folder, or a zip
    when it ends in .zip); private persons masked (in `workers` processes when there
    are many), organisations as received."""
    hearing = hearings.get_hearing(session, case)
    if hearing.state in ("draft", "withdrawn") and hearing.circulated_on is None:
        raise PublicationError(
            f"CASE: hearing {hearing.case_number} was never circulated and has no responses "
            "to publish"
        )
    excluded = {"automatic_replies": 0, "quarantined": 0}
    target = Path(outdir)
    writer = _Writer(target, as_of.astimezone(OSLO).date())
    counts = {"responses": 0, "private": 0, "supplements": 0, "files": 1}
    masking = _Masking(workers)
    try:
        index_path = writer.staging / f".{INDEX_NAME}"
        # Excel reads æøå from UTF-8 with a BOM
        with open(index_path, "w", encoding="utf-8-sig", newline="") as index_file:
            index = _Index(index_file)
            for batch in _responses(session, row_id(hearing), excluded):
                ids = [row_id(r) for r, _ in batch]
                attachments = attachments_of(session, ids)
                firsts = supplement_firsts(session, row_id(hearing), ids)
                for published in _export_batch(writer, store, masking, batch, attachments, firsts):
                    index.add(published)
                    if published.supplement_of is None:  # counted with its first response
                        counts["responses"] += 1
                        counts["private"] += published.private
                    else:
                        counts["supplements"] += 1
                    counts["files"] += len(published.files)
                for response, _ in batch:
                    session.expunge(response)
        writer.add_file(INDEX_NAME, index_path)
    except BaseException:
        writer.abort()
        raise
    finally:
        masking.close()
    writer.commit()
    return PublicationResult(
        hearing.case_number, target, writer.as_zip, excluded=excluded, **counts
    )


__all__ = [
    "INDEX_NAME",
    "PRIVATE_NB",
    "PublicationError",
    "PublicationResult",
    "PublishedResponse",
    "export_publication",
    "is_private",
    "message_text",
    "private_texts",
    "response_masker",
]
