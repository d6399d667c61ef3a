"""`review list` pages with a keyset (`--after`), read through an index."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services import review
from services.review_queue import group_page_query, review_queue, standalone_page_query
from storage.db import read_session, write_session
from tests.cli_helpers import run_hoering
from tests.services.test_review_storage import (
    CAMPAIGN_SIZE,
    CASE,
    REVIEWED,
    SINGLE_RESPONSES,
    apply_example_review,
    hearing_with_responses,
)


@pytest.fixture
def store(engine, tmp_path):
    return hearing_with_responses(engine, tmp_path)


def _all_pages(engine, limit: int, **kwargs) -> list[list[str]]:
    pages, after = [], None
    with read_session(engine) as session:
        while True:
            page = review_queue(session, CASE, limit=limit, after=after, counts=False, **kwargs)
            pages.append([row["tracking_number"] for row in page["rows"]])
            after = page["next_after"]
            if after is None:
                return pages


def test_pages_cover_the_queue_once_in_order(engine, store):
    with read_session(engine) as session:
        whole = review_queue(session, CASE, limit=1000)
    pages = _all_pages(engine, 5)
    assert [len(p) for p in pages[:-1]] == [5] * (len(pages) - 1)
    assert [t for page in pages for t in page] == [r["tracking_number"] for r in whole["rows"]]
    assert whole["responses"] == SINGLE_RESPONSES + CAMPAIGN_SIZE


def test_a_campaign_is_one_row_across_pages(engine, store):
    with write_session(engine) as session:
        review.group_campaigns(session, CASE, actor="marie", now=REVIEWED)
    pages = _all_pages(engine, 4)
    with read_session(engine) as session:
        whole = review_queue(session, CASE, limit=1000)
    flat = [t for page in pages for t in page]
    assert len(flat) == len(set(flat)) == SINGLE_RESPONSES + 1
    campaign = [r for r in whole["rows"] if r["campaign"]]
    assert [(r["campaign_size"], r["unreviewed"]) for r in campaign] == [
        (CAMPAIGN_SIZE, CAMPAIGN_SIZE)
    ]


def test_reviewed_responses_leave_the_queue_but_not_the_full_list(engine, store):
    apply_example_review(engine)
    assert _all_pages(engine, 5) == [[]]
    assert len([t for p in _all_pages(engine, 5, include_reviewed=True) for t in p]) > 0


def test_the_unreviewed_page_reads_through_its_index(engine, store):
    query = standalone_page_query(1, False, None, 50)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        else:  # a test database is tiny: make the planner show whether it can use the index
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")))
    # an index in page order (which of the two is the planner's choice on a tiny table),
    # no scan of the whole table and no sort: the page costs the same at any size
    assert "ix_response_hearing_" in plan, plan
    for whole_table in ("TEMP B-TREE", "SEQ SCAN", "SORT", "SCAN RESPONSE "):
        assert whole_table not in plan.upper(), plan


def _plan(engine, query) -> str:
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            return " ".join(str(row[-1]) for row in rows)
        conn.execute(text("SET enable_seqscan = off"))  # a test table is tiny
        return " ".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")))


@pytest.mark.parametrize("include_reviewed", [False, True])
def test_the_group_page_reads_only_its_range_through_its_index(engine, store, include_reviewed):
    cursor = (REVIEWED, 10)
    plan = _plan(engine, group_page_query(1, include_reviewed, cursor, 50, (REVIEWED, 99)))
    # the groups in key order from the index, no sort of all the hearing's groups
    assert "ix_campaign_group_hearing_received" in plan, plan
    for whole_table in ("TEMP B-TREE", "SEQ SCAN ON CAMPAIGN_GROUP", "SORT", "SCAN CAMPAIGN_GROUP"):
        assert whole_table not in plan.upper(), plan


def test_review_list_prints_the_next_page_command(engine, store, hoering_env):
    first = run_hoering("review", "list", CASE, "--limit", "3", env=hoering_env)
    assert first.code == 0, first.stderr
    assert f"Next page: hoering review list {CASE} --after " in first.stdout
    after = first.stdout.split("--after ")[-1].split()[0]
    second = run_hoering(
        "review", "list", CASE, "--limit", "3", "--after", after, "--json", env=hoering_env
    )
    assert second.code == 0, second.stderr
    assert after not in [r["tracking_number"] for r in second.json()["rows"]]
    bad = run_hoering("review", "list", CASE, "--after", "99/1-1", env=hoering_env)
    assert bad.code == 2 and "--after" in bad.stderr
