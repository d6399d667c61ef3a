"""Shards of a sharded import (`flows.intake_shards`): one row per key range of a source.

The row says which run files the shard (`flow_run_id`, a Prefect flow run of the
`import-shard` deployment), how far it got (`heartbeat_at`, `read`: after every
committed batch) and when it finished (`done_at`). The planning run reads these rows to
find a shard whose worker died: no heartbeat for a while, or its run failed or crashed.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, col, select


class IntakeShardRow(SQLModel, table=True):
    """One key range of one mail source, imported by one Prefect flow run at a time."""

    __tablename__ = "intake_shard"
    __table_args__ = (UniqueConstraint("plan_key", "position", name="uq_intake_shard"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_key: str = Field(max_length=64)  # the planning run (its flow run id)
    position: int
    source: str = Field(sa_column=Column(Text, nullable=False))  # as the user named it
    lower: str | None = Field(default=None, sa_column=Column(Text))  # first key (inclusive)
    upper: str | None = Field(default=None, sa_column=Column(Text))  # end key (exclusive)
    # an IMAP folder's UIDVALIDITY when planned: its keys are UIDs valid under it only
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger))
    flow_run_id: str | None = Field(default=None, max_length=64)  # the run filing it now
    runner: str | None = Field(default=None, max_length=300)  # host:pid of that run
    attempts: int = 0
    planned_at: datetime
    heartbeat_at: datetime | None = None  # the last batch committed (or the run's start)
    read: int = 0
    done_at: datetime | None = None
    counts_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))


PlannedRange = tuple[str, str | None, str | None, int | None]  # source, lower, upper, UIDVALIDITY


def add_shards(session: Session, plan_key: str, ranges: list[PlannedRange], now: datetime) -> None:
    """Record the plan: one row per (source, lower, upper, uidvalidity)."""
    rows = [
        IntakeShardRow(
            plan_key=plan_key,
            position=i,
            source=src,
            lower=lo,
            upper=up,
            uidvalidity=uidvalidity,
            planned_at=now,
        )
        for i, (src, lo, up, uidvalidity) in enumerate(ranges)
    ]
    session.add_all(rows)
    session.flush()


def plan_shards(session: Session, plan_key: str) -> list[IntakeShardRow]:
    return list(
        session.exec(
            select(IntakeShardRow)
            .where(IntakeShardRow.plan_key == plan_key)
            .order_by(col(IntakeShardRow.position))
        ).all()
    )


def assign_run(session: Session, shard_id: int, flow_run_id: str) -> None:
    """The shard is (again) handed to this flow run."""
    session.execute(
        update(IntakeShardRow)
        .where(col(IntakeShardRow.id) == shard_id)
        .values(
            flow_run_id=flow_run_id,
            attempts=IntakeShardRow.attempts + 1,
            heartbeat_at=None,
            runner=None,
        )
    )


def beat(session: Session, shard_id: int, now: datetime, runner: str, read: int = 0) -> None:
    """The shard's run (`runner`: host:pid) is alive: a batch was committed (`read` more)."""
    session.execute(
        update(IntakeShardRow)
        .where(col(IntakeShardRow.id) == shard_id)
        .values(heartbeat_at=now, runner=runner, read=IntakeShardRow.read + read)
    )


def finish(session: Session, shard_id: int, now: datetime, counts: dict[str, float]) -> None:
    """The shard is filed: its counts by outcome (and the run's peak memory)."""
    session.execute(
        update(IntakeShardRow)
        .where(col(IntakeShardRow.id) == shard_id, col(IntakeShardRow.done_at).is_(None))
        .values(done_at=now, heartbeat_at=now, counts_json=json.dumps(counts))
    )
