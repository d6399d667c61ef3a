"""The ID ledger on SQLite and PostgreSQL: never a reused number, idempotent per key."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from domain.errors import UserError
from storage import ledger
from storage.db import create_db_engine, read_session, write_session
from storage.models import IdPrefixRow, IdReservationRow, LearningGoalRow

NOW = datetime(2024, 3, 22, 9, 0, tzinfo=UTC)

EXPECTED_AFTER_INIT = {
    "AMM": "AMM-068",
    "BLS": "BLS-154",
    "GER": "GER-064",
    "MED": "MED-106",
    "LUN": "LUN-061",
    "NYR": "NYR-067",
    "KIR": "KIR-174",
    "NKI": "NKI-037",
    "URO": "URO-090",
    "PED": "PED-165",
    "NEV": "NEV-068",
    "ONC": "ONC-069",
}


def test_next_ids_after_init_match_the_24_750_letter(engine):
    with read_session(engine) as session:
        got = {prefix: str(ledger.peek_next(session, prefix)) for prefix in EXPECTED_AFTER_INIT}
    assert got == EXPECTED_AFTER_INIT


def test_peek_reserves_nothing(engine):
    with write_session(engine) as session:
        first = ledger.peek_next(session, "BLS")
        second = ledger.peek_next(session, "BLS")
        count = len(session.exec(select(IdReservationRow)).all())
    assert first == second
    assert count == 0


def test_reserve_is_consecutive_and_idempotent_per_key(engine):
    with write_session(engine) as session:
        a = ledger.reserve(session, "BLS", "hearing:24/750:BLS", NOW, "24/750")
        b = ledger.reserve(session, "BLS", "other", NOW)
    with write_session(engine) as session:
        again = ledger.reserve(session, "BLS", "hearing:24/750:BLS", NOW, "24/750")
    assert str(a.goal_id) == "BLS-154" and a.newly_created
    assert str(b.goal_id) == "BLS-155"
    assert again.goal_id == a.goal_id and not again.newly_created


def test_same_key_for_another_prefix_is_refused(engine):
    with write_session(engine) as session:
        ledger.reserve(session, "BLS", "k1", NOW)
    with (
        pytest.raises(UserError, match="already holds a BLS reservation"),
        write_session(engine) as session,
    ):
        ledger.reserve(session, "AMM", "k1", NOW)


def test_burned_numbers_are_never_reused(engine):
    with write_session(engine) as session:
        r = ledger.reserve(session, "GER", "withdrawn-hearing", NOW)
        ledger.mark(session, "withdrawn-hearing", "burned", NOW, "hearing withdrawn")
    with write_session(engine) as session:
        nxt = ledger.reserve(session, "GER", "next-hearing", NOW)
    assert str(r.goal_id) == "GER-064"
    assert str(nxt.goal_id) == "GER-065"


def test_rolled_back_transaction_leaves_no_gap_and_no_holder(engine):
    with pytest.raises(RuntimeError), write_session(engine) as session:
        ledger.reserve(session, "URO", "doomed", NOW)
        raise RuntimeError("crash before commit")
    with write_session(engine) as session:
        r = ledger.reserve(session, "URO", "survivor", NOW)
        doomed = session.exec(
            select(IdReservationRow).where(IdReservationRow.key == "doomed")
        ).first()
    assert str(r.goal_id) == "URO-090"
    assert doomed is None


def test_retired_and_catalogue_goals_raise_the_next_number(engine):
    with write_session(engine) as session:
        session.add(
            LearningGoalRow(
                goal_id="BLS-170",
                prefix="BLS",
                number=170,
                catalogue_code="BLS",
                text="Utgått mål.",
                status="retired",
                valid_to=date(2020, 1, 1),
            )
        )
        session.flush()
        ledger.sync_counters(session)  # goals written outside the ledger raise its counter
        nxt = ledger.reserve(session, "BLS", "after-retired", NOW)
    assert str(nxt.goal_id) == "BLS-171"


def test_deferred_is_its_own_state_and_resolves_to_the_next_number(engine):
    with write_session(engine) as session:
        deferred = ledger.defer(
            session, "HJS", "hearing:24/750:HJS", "revisjon av læringsmålene pågår", NOW, "24/750"
        )
        other = ledger.reserve(session, "HJS", "other-hjs", NOW)
    assert deferred.goal_id is None and deferred.status == "deferred"
    assert deferred.display == "HJS-xxx"
    with write_session(engine) as session:
        resolved = ledger.resolve_deferred(session, "hearing:24/750:HJS", NOW)
        again = ledger.resolve_deferred(session, "hearing:24/750:HJS", NOW)
    assert resolved.goal_id.number == other.goal_id.number + 1
    assert again.goal_id == resolved.goal_id


def test_deferral_needs_a_reason(engine):
    with pytest.raises(UserError, match="needs a reason"), write_session(engine) as session:
        ledger.defer(session, "HJS", "k", "  ", NOW)


def test_unknown_prefix_and_unknown_floor_are_refused(engine):
    with read_session(engine) as session:
        with pytest.raises(UserError, match="unknown ID prefix"):
            ledger.peek_next(session, "XYZ")
        no_floor = session.exec(select(IdPrefixRow.prefix).where(IdPrefixRow.floor.is_(None))).all()
        has_goals = set(session.exec(select(LearningGoalRow.prefix)).all())
        candidates = [p for p in no_floor if p not in has_goals]
        assert candidates, "reference data should have prefixes with no known floor"
        with pytest.raises(UserError, match="is not known"):
            ledger.peek_next(session, candidates[0])


def _allocate_many(url: str, worker: int, count: int, barrier) -> list[str]:
    engine = create_db_engine(url)
    barrier.wait()
    got = []
    for i in range(count):
        with write_session(engine) as session:
            r = ledger.reserve(session, "BLS", f"w{worker}-{i}", datetime.now(UTC))
            got.append(str(r.goal_id))
    engine.dispose()
    return got


def test_eight_processes_allocating_at_once_get_distinct_consecutive_ids(db_url):
    workers, per_worker = 8, 50
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(workers)
        with ctx.Pool(workers) as pool:
            results = pool.starmap(
                _allocate_many, [(db_url, w, per_worker, barrier) for w in range(workers)]
            )
    ids = [goal for batch in results for goal in batch]
    numbers = sorted(int(goal.split("-")[1]) for goal in ids)
    assert len(ids) == workers * per_worker
    assert len(set(ids)) == len(ids)
    assert numbers == list(range(154, 154 + workers * per_worker))
    engine = create_db_engine(db_url)
    with read_session(engine) as session:
        stored = session.exec(
            select(IdReservationRow.number).where(IdReservationRow.prefix == "BLS")
        ).all()
    engine.dispose()
    assert sorted(stored) == numbers


def test_a_key_committed_by_a_racer_is_returned_and_its_number_given_back(engine, monkeypatch):
    with write_session(engine) as session:
        first = ledger.reserve(session, "NEV", "raced", NOW)
    real_existing = ledger._existing
    calls: list[str] = []

    def missed_once(session, key, prefix=None):  # the racer committed after our lookup
        calls.append(key)
        return None if len(calls) == 1 else real_existing(session, key, prefix)

    monkeypatch.setattr(ledger, "_existing", missed_once)
    with write_session(engine) as session:
        again = ledger.reserve(session, "NEV", "raced", NOW)
    monkeypatch.undo()
    with write_session(engine) as session:
        nxt = ledger.reserve(session, "NEV", "after-race", NOW)
    assert len(calls) == 2
    assert again.goal_id == first.goal_id and not again.newly_created
    assert nxt.goal_id.number == first.goal_id.number + 1  # no number lost to the race


def test_raise_floor_raises_floor_and_next_number_and_never_lowers(engine):
    with write_session(engine) as session:
        ledger.raise_floor(session, "KIR", 200, verified=True, source="catalogue import")
        raised = str(ledger.peek_next(session, "KIR"))
        ledger.raise_floor(session, "KIR", 180, verified=False)
        kept = str(ledger.peek_next(session, "KIR"))
        row = session.get(IdPrefixRow, "KIR")
        assert row is not None and row.floor == 200 and row.floor_verified
        nxt = ledger.reserve(session, "KIR", "after-import", NOW)
    assert raised == kept == "KIR-201"
    assert str(nxt.goal_id) == "KIR-201"


def test_an_unknown_floor_takes_no_number(engine):
    with write_session(engine) as session:
        no_floor = session.exec(select(IdPrefixRow.prefix).where(IdPrefixRow.floor.is_(None))).all()
        has_goals = set(session.exec(select(LearningGoalRow.prefix)).all())
        prefix = next(p for p in no_floor if p not in has_goals)
        before = ledger.next_number(session, prefix)
        with pytest.raises(UserError, match="is not known"):
            ledger.reserve(session, prefix, "no-floor", NOW)
        assert ledger.next_number(session, prefix) == before
