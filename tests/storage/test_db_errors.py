"""A database error's text names no values: it is logged, and responses hold personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import write_session


def test_a_failed_statement_does_not_quote_its_values(engine):
    secret = "Kari Nordmann, kari.nordmann@example.no"
    with pytest.raises(DBAPIError) as failed, write_session(engine) as session:
        session.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": secret})
    assert "Kari" not in str(failed.value)
    assert "parameters hidden" in str(failed.value).lower()
