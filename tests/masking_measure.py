"""Publishing the generated corpus (tests/masking_corpus.py) and counting what the export
left of the planted personal data: structured identifiers, names, and the case numbers,
dates and goal IDs that must stay."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import Engine
from sqlmodel import select

from domain.calendar import OSLO
from services.publication import export_publication
from storage.blobs import BlobStore
from storage.db import read_session
from storage.intake_models import IntakeMessageRow, ResponseRow
from tests.hearing_helpers import ROOT
from tests.intake_helpers import circulated_hearing, file_messages
from tests.masking_corpus import Planted, generate

PUBLISHED = datetime(2024, 9, 20, 12, 0, tzinfo=OSLO)
IMPORTED = datetime(2024, 5, 20, 9, 0, tzinfo=OSLO)


@dataclass
class Figures:
    private: int = 0
    organisations: int = 0
    identifiers: int = 0
    identifiers_masked: int = 0
    names: int = 0
    names_masked: int = 0
    kept: int = 0
    kept_lost: int = 0
    sentences: int = 0
    sentences_altered: int = 0
    organisations_identical: int = 0
    leaks: list[str] = field(default_factory=list)

    @property
    def identifier_rate(self) -> float:
        return self.identifiers_masked / self.identifiers if self.identifiers else 1.0

    @property
    def name_rate(self) -> float:
        return self.names_masked / self.names if self.names else 1.0

    def lines(self) -> list[str]:
        return [
            f"responses: {self.private} private, {self.organisations} organisations",
            f"structured identifiers masked: {self.identifiers_masked}/{self.identifiers} "
            f"({self.identifier_rate:.1%})",
            f"planted names masked: {self.names_masked}/{self.names} ({self.name_rate:.1%})",
            f"case numbers, dates, goal IDs masked: {self.kept_lost} of {self.kept}",
            f"sentences without personal data altered: {self.sentences_altered} of "
            f"{self.sentences}",
            f"organisation responses byte-identical: {self.organisations_identical}/"
            f"{self.organisations}",
        ]


def _present(value: str, text: str, digits: str) -> bool:
    if "@" in value:
        return value.lower() in text.lower()
    if value in text:
        return True
    only = re.sub(r"\D", "", value)
    return len(only) >= 8 and only in digits


def _name_present(name: str, text: str) -> str | None:
    for word in [name, *name.split()]:
        if len(word) >= 2 and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
            return word
    return None


def response_text(folder: Path) -> str:
    """A response folder's file names and file contents, as one text."""
    parts = [folder.name]
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            parts.append(str(path.relative_to(folder)))
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def evaluate(corpus: list[Planted], folders: dict[str, Path]) -> Figures:
    """Count what the export left of each response's planted data;
    `folders` maps each response's `tracking_source` to its folder."""
    figures = Figures()
    for planted in corpus:
        folder = folders[planted.tracking_source]
        text = response_text(folder)
        if not planted.private:
            figures.organisations += 1
            same = (folder / "melding.eml").read_bytes() == planted.raw and all(
                (folder / "vedlegg" / name).read_bytes() == data
                for name, data in planted.attachments.items()
            )
            figures.organisations_identical += same
            continue
        figures.private += 1
        digits = re.sub(r"[ \t.-]", "", text)
        for value in planted.identifiers:
            figures.identifiers += 1
            if _present(value, text, digits):
                figures.leaks.append(f"{folder.name}: identifier {value!r}")
            else:
                figures.identifiers_masked += 1
        for name in planted.names:
            figures.names += 1
            word = _name_present(name, text)
            if word:
                figures.leaks.append(f"{folder.name}: name {name!r} ({word!r} left)")
            else:
                figures.names_masked += 1
        for value in set(planted.kept):
            wanted = planted.kept.count(value)
            figures.kept += wanted
            lost = max(0, wanted - text.count(value))
            figures.kept_lost += lost
            if lost:
                figures.leaks.append(f"{folder.name}: {value!r} masked")
        flat = " ".join(text.split())
        for sentence in planted.sentences:
            figures.sentences += 1
            if " ".join(sentence.split()) not in flat:
                figures.sentences_altered += 1
                figures.leaks.append(f"{folder.name}: sentence altered: {sentence!r}")
    return figures


def stakeholder_domains() -> list[tuple[str, str]]:
    """(name, domain) of every stakeholder with its own mail domain."""
    data = yaml.safe_load((ROOT / "data" / "stakeholders.yaml").read_text(encoding="utf-8"))
    return [(s["name"], s["domains"][0]) for s in data["stakeholders"] if s.get("domains")]


def publish_corpus(
    engine: Engine, workdir: Path, private: int, organisations: int, seed: int = 750
) -> tuple[Figures, float]:
    """Generate the corpus, import it into hearing 24/750, publish it and measure the
    export; returns the figures and the seconds the export took."""
    import time

    corpus = generate(private, organisations, stakeholder_domains(), seed)
    circulated_hearing(engine)
    store = BlobStore(workdir / "blobs", durable=False)
    for start in range(0, len(corpus), 50):
        batch = corpus[start : start + 50]
        file_messages(engine, store, [(f"{p.tracking_source}.eml", p.raw) for p in batch], IMPORTED)
    with read_session(engine) as session:
        rows = session.exec(
            select(IntakeMessageRow.raw_sha256, ResponseRow.tracking_number).join(
                ResponseRow, ResponseRow.intake_message_id == IntakeMessageRow.id
            )
        ).all()
        tracking = dict(rows)
        started = time.perf_counter()
        export_publication(session, store, "24/750", workdir / "export", PUBLISHED)
        seconds = time.perf_counter() - started
    by_prefix = {p.name.split(" ", 1)[0]: p for p in (workdir / "export").iterdir() if p.is_dir()}
    folders = {
        p.tracking_source: by_prefix[tracking[hashlib.sha256(p.raw).hexdigest()].replace("/", "-")]
        for p in corpus
    }
    return evaluate(corpus, folders), seconds
