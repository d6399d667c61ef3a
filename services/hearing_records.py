"""A hearing's own rows: reading the hearing, its items, recipients, letters and history;
recording a letter; queueing a message to every recipient; the document number series."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from domain.decisions import Decisions
from domain.errors import UserError
from domain.goal_ids import deferred_display
from domain.hearing_spec import HearingSpec
from domain.letter_building import RecipientInfo, SpecialtyInfo
from domain.reference import Stakeholder, StakeholderGroup
from storage import ledger
from storage.hearing_models import (
    AuditEventRow,
    HearingItemRow,
    HearingRecipientRow,
    HearingRow,
    LetterRow,
)
from storage.models import CatalogueRow, LearningGoalRow, SpecialtyRow, StakeholderRow
from storage.outbox_queue import queue_message
from storage.rows import row_id
from storage.timeutil import to_db


class HearingNotFound(UserError):
    pass


def get_hearing(session: Session, case: str, *, for_update: bool = False) -> HearingRow:
    """The hearing; `for_update` holds its row until commit (a lifecycle step), so that a
    concurrent step on it waits and then finds it done."""
    statement = select(HearingRow).where(HearingRow.case_number == case.strip())
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = session.exec(statement).first()
    if row is None:
        raise HearingNotFound(
            f"no hearing with case number '{case}'; check it with 'hoering hearing list' "
            "or create it with 'hoering hearing create SPEC'"
        )
    return row


def load_spec(row: HearingRow) -> HearingSpec:
    return HearingSpec.model_validate(json.loads(row.spec_json))


def load_decisions(row: HearingRow) -> Decisions | None:
    return Decisions.model_validate(json.loads(row.decisions_json)) if row.decisions_json else None


def specialty_infos(session: Session) -> dict[str, SpecialtyInfo]:
    """Name and group by catalogue code: every specialty (by prefix) and the catalogues
    that are not a specialty's (FKM, LIS1: group = their kind), as items name them."""
    infos = {
        r.code: SpecialtyInfo(name=r.name, group=r.kind)
        for r in session.exec(select(CatalogueRow)).all()
    }
    infos.update(
        (r.prefix, SpecialtyInfo(name=r.name, group=r.group))
        for r in session.exec(select(SpecialtyRow)).all()
    )
    return infos


def active_stakeholders(session: Session) -> list[Stakeholder]:
    rows = session.exec(
        select(StakeholderRow).where(StakeholderRow.active).order_by(StakeholderRow.key)
    ).all()
    return [
        Stakeholder(
            key=r.key,
            name=r.name,
            group=StakeholderGroup(r.group),
            email=r.email,
            email_verified=r.email_verified,
            specialty=r.specialty_prefix,
        )
        for r in rows
    ]


def _of_hearing(session: Session, model: Any, hearing: HearingRow, order: Any) -> list[Any]:
    """The rows of `model` that belong to the hearing, in `order`."""
    return list(session.exec(select(model).where(model.hearing_id == hearing.id).order_by(order)))


def recipients(session: Session, hearing: HearingRow) -> list[HearingRecipientRow]:
    return _of_hearing(session, HearingRecipientRow, hearing, HearingRecipientRow.position)


def items(session: Session, hearing: HearingRow) -> list[HearingItemRow]:
    return _of_hearing(session, HearingItemRow, hearing, HearingItemRow.position)


ARCHIVE_MARK = "~"  # a withdrawn record whose case number was reused: 25/4401~1


def ledger_case(case_number: str) -> str:
    """The case number the ledger knows a record's reservations by (an archived
    record '25/4401~1' reserved them as '25/4401')."""
    return case_number.split(ARCHIVE_MARK, 1)[0]


def outbox_case_key(session: Session, hearing: HearingRow) -> str:
    """The case as the outbox's dedupe keys carry it: the case number, or for a record
    that reuses a withdrawn record's case number, that number with its own row id, so
    that its letters are never taken for the withdrawn record's."""
    archived = session.exec(
        select(func.count())
        .select_from(HearingRow)
        .where(col(HearingRow.case_number).startswith(hearing.case_number + ARCHIVE_MARK))
    ).one()
    return f"{hearing.case_number}#{hearing.id}" if archived else hearing.case_number


def archive_withdrawn(session: Session, hearing: HearingRow, now: datetime, actor: str) -> str:
    """Free a withdrawn record's case number for a new draft: the record keeps all its
    rows (letters, outbox, responses, history) under '<case>~N'. Returns that label."""
    case = hearing.case_number
    earlier = session.exec(
        select(func.count())
        .select_from(HearingRow)
        .where(col(HearingRow.case_number).startswith(case + ARCHIVE_MARK))
    ).one()
    label = f"{case}{ARCHIVE_MARK}{earlier + 1}"
    hearing.case_number = label
    hearing.updated_at = to_db(now)
    session.add(hearing)
    session.add(
        AuditEventRow(
            hearing_id=row_id(hearing),
            action="archive",
            actor=actor,
            at=to_db(now),
            from_state=hearing.state,
            to_state=hearing.state,
            reason=f"case number {case} reused by a new draft; this record is kept as {label}",
            details_json=json.dumps({"case_number": case, "kept_as": label}),
        )
    )
    session.flush()
    return label


def id_displays(session: Session, hearing: HearingRow) -> dict[str, str]:
    """Item ref -> the ID as letters show it (BLS-154, or HJS-xxx while deferred)."""
    reservations = ledger.reservations_for_case(session, ledger_case(hearing.case_number))
    by_key = {r.key: r for r in reservations}
    # An item on an existing goal shows that goal's ID, before codification too.
    named = {i.ref: getattr(i, "goal_id", None) for i in load_spec(hearing).items}
    shown = {}
    for item in items(session, hearing):
        if item.final_goal_id:
            shown[item.ref] = item.final_goal_id
        elif item.reservation_key and item.reservation_key in by_key:
            shown[item.ref] = by_key[item.reservation_key].display
        elif named.get(item.ref):
            shown[item.ref] = str(named[item.ref])
        else:
            shown[item.ref] = deferred_display(item.specialty_prefix)
    return shown


def history(session: Session, hearing: HearingRow) -> list[AuditEventRow]:
    return _of_hearing(session, AuditEventRow, hearing, AuditEventRow.id)


def letters(session: Session, hearing: HearingRow) -> list[LetterRow]:
    return _of_hearing(session, LetterRow, hearing, LetterRow.id)


def allocate_document_number(session: Session, hearing_id: int) -> str:
    """The next number in the case's document series (24/750-2, -3, ...)."""
    number = session.execute(
        update(HearingRow)
        .where(col(HearingRow.id) == hearing_id)
        .values(last_document_number=col(HearingRow.last_document_number) + 1)
        .returning(col(HearingRow.last_document_number), col(HearingRow.case_number))
    ).one()
    return f"{number[1]}-{number[0]}"


def case_folder(letters_dir: Path, case: str) -> Path:
    return letters_dir / case.replace("/", "-")


def record_letter(
    session: Session,
    hearing: HearingRow,
    kind: str,
    path: Path,
    sha256: str,
    now: datetime,
    document_number: str | None = None,
    variant: str = "",
) -> LetterRow:
    row = session.exec(
        select(LetterRow).where(
            LetterRow.hearing_id == hearing.id, LetterRow.kind == kind, LetterRow.variant == variant
        )
    ).first()
    if row is None:
        row = LetterRow(
            hearing_id=row_id(hearing),
            kind=kind,
            variant=variant,
            document_number=document_number,
            path=str(path),
            sha256=sha256,
            created_at=to_db(now),
        )
    else:
        row.path, row.sha256, row.document_number = str(path), sha256, document_number
    session.add(row)
    session.flush()
    return row


def recipient_infos(session: Session, hearing: HearingRow) -> list[RecipientInfo]:
    return [
        RecipientInfo(name=r.name, email=r.email, group=r.group)
        for r in recipients(session, hearing)
    ]


def queue_to_recipients(
    session: Session,
    hearing: HearingRow,
    kind: str,
    now: datetime,
    attachments: list[Path],
    subject: str,
    body: str,
) -> int:
    queued = 0
    case_key = outbox_case_key(session, hearing)
    for recipient in recipients(session, hearing):
        _, created = queue_message(
            session,
            kind=kind,
            dedupe_key=f"{kind}:{case_key}:{recipient.email.lower()}",
            to_address=recipient.email,
            to_name=recipient.name,
            subject=subject,
            body_text=body,
            now=to_db(now),
            hearing_id=hearing.id,
            organisation=recipient.name,
            stakeholder_key=recipient.stakeholder_key,
            attachments=attachments,
        )
        queued += created
    return queued


def current_version(session: Session, goal_id: str) -> LearningGoalRow | None:
    """The goal's latest version if it is active (a deletion adds a retired version,
    which no later change may build on)."""
    latest = session.exec(
        select(LearningGoalRow)
        .where(LearningGoalRow.goal_id == goal_id, col(LearningGoalRow.valid_to).is_(None))
        .order_by(col(LearningGoalRow.version).desc())
    ).first()
    return latest if latest is not None and latest.status == "active" else None


def goal_texts(session: Session, spec: HearingSpec) -> dict[str, str]:
    """Goal ID -> the text of its version in force, for every existing goal the spec's
    items change (a deleted goal's letter row shows the text that goes)."""
    texts = {}
    for item in spec.items:
        goal_id = getattr(item, "goal_id", None)
        if goal_id is not None and goal_id not in texts:
            current = current_version(session, goal_id)
            if current is not None:
                texts[goal_id] = current.text
    return texts
