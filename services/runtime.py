"""What every command needs: settings, the engine, a check that init has run."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from config.settings import Settings, load_settings
from domain.calendar import OSLO, parse_date
from domain.errors import UserError
from storage.db import describe_url, engine_for, schema_is_current


def settings() -> Settings:
    return load_settings()


def engine(config: Settings | None = None, *, require_schema: bool = True) -> Engine:
    config = config or settings()
    db = engine_for(config.resolved_database_url, config.sqlite_busy_timeout_s)
    if require_schema and not schema_is_current(db):
        raise UserError(
            f"the database {describe_url(config.resolved_database_url)} has no hoering "
            "tables yet; run 'hoering init' first"
        )
    return db


def as_of_date(text: str | None, option: str = "--as-of") -> date:
    """The date a command works on: the given one, else today in Europe/Oslo."""
    if text is None:
        return datetime.now(OSLO).date()
    return parse_date(text, option)


def as_of_moment(text: str | None, option: str = "--as-of") -> datetime:
    """An aware moment for `--as-of`: a date means noon that day in Oslo; else now."""
    if text is None:
        return datetime.now(OSLO)
    stripped = text.strip()
    if "T" in stripped or " " in stripped:
        try:
            moment = datetime.fromisoformat(stripped)
        except ValueError:
            raise UserError(
                f"{option}: '{text}' is not a valid date or time; write YYYY-MM-DD or "
                "YYYY-MM-DDTHH:MM, e.g. 2024-06-01T08:00"
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=OSLO)
    day = parse_date(stripped, option)
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=OSLO)
