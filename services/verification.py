"""What unverified reference data a hearing relies on (see `domain.unverified_data`):
read from the stored hearing, its items, recipients and the reference tables. Called by
create, revise, circulate and codify, and by the høringsbrev for its provisional IDs."""

from __future__ import annotations

from sqlmodel import Session, col, select

from domain.change_items import NewGoal
from domain.unverified_data import (
    ItemId,
    RecipientAddress,
    UnverifiedData,
    provisional_refs,
    unverified_warnings,
)
from services.hearing_items import id_prefix
from services.hearing_records import id_displays, items, load_spec, recipients
from storage.hearing_models import HearingRow
from storage.models import IdPrefixRow, SpecialtyRow, StakeholderRow

DROPPED = "drop"


def _unverified(session: Session) -> UnverifiedData:
    prefixes = session.exec(select(SpecialtyRow.prefix).where(~col(SpecialtyRow.prefix_verified)))
    floors = session.exec(
        select(IdPrefixRow.prefix, IdPrefixRow.floor).where(~col(IdPrefixRow.floor_verified))
    )
    return UnverifiedData(
        prefixes=frozenset(prefixes.all()), floors={p: f for p, f in floors.all()}
    )


def _item_ids(session: Session, hearing: HearingRow) -> list[ItemId]:
    """The items' IDs as shown; an item decided 'drop' gets no ID and is left out."""
    spec = load_spec(hearing)
    shown = id_displays(session, hearing)
    dropped = {row.ref for row in items(session, hearing) if row.decision == DROPPED}
    ids = []
    for item in spec.items:
        if item.ref in dropped:
            continue
        if isinstance(item, NewGoal):
            ids.append(ItemId(item.ref, shown.get(item.ref, ""), id_prefix(item), new=True))
            continue
        goal_id = getattr(item, "goal_id", None) or ""  # none for a heading change
        prefix = goal_id.split("-", 1)[0] if goal_id else item.catalogue_code
        ids.append(ItemId(item.ref, goal_id, prefix, new=False))
    return ids


def _addresses(session: Session, hearing: HearingRow) -> list[RecipientAddress]:
    rows = recipients(session, hearing)
    keys = [r.stakeholder_key for r in rows]
    verified = dict(
        session.exec(
            select(StakeholderRow.key, StakeholderRow.email_verified).where(
                col(StakeholderRow.key).in_(keys)
            )
        ).all()
    )
    return [RecipientAddress(r.name, bool(verified.get(r.stakeholder_key))) for r in rows]


def hearing_warnings(session: Session, hearing: HearingRow) -> list[str]:
    """One line per kind of unverified data the hearing relies on (prefix, floor,
    recipient addresses)."""
    return unverified_warnings(
        _item_ids(session, hearing), _addresses(session, hearing), _unverified(session)
    )


def hearing_provisional_refs(session: Session, hearing: HearingRow) -> frozenset[str]:
    """The items whose ID the høringsbrev prints as provisional ('RAD-041 (foreløpig)')."""
    return provisional_refs(_item_ids(session, hearing), _unverified(session))
