"""The review desk in a real browser: Debian's Chromium, headless, driven by Playwright,
against the desk served by uvicorn on a free loopback port in a thread the test stops.

Signs in, filters to unreviewed, opens a response, accepts the suggested stance with
its keyboard shortcut, ties a selected passage as an excerpt, reviews a campaign as one,
assigns an unmatched message and downloads the summary; the database is checked after
each step. Outside CI a missing browser skips; under CI=true it fails.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.summary import write_summary
from storage.db import read_session, write_session
from storage.hearing_models import AuditEventRow
from storage.intake_models import ResponseRow
from storage.review_models import CampaignGroupRow, ResponseExcerptRow, ReviewEventRow
from tests.conftest import service_missing
from tests.desk_helpers import (
    CASE,
    GROUPED,
    PASSWORD,
    SLUG,
    desk_hearing,
    desk_settings,
    stray_response,
)
from tests.installation_helpers import free_port
from web.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def served_desk(engine, db_url, tmp_path) -> Iterator[str]:
    """The desk on 127.0.0.1:<free port>, stopped when the test ends."""
    import uvicorn

    desk_hearing(engine, tmp_path)
    app = create_app(desk_settings(tmp_path, db_url), engine)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="desk-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the desk did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        assert not thread.is_alive(), "the desk did not stop"


@pytest.fixture
def browser_page(tmp_path) -> Iterator:
    """A page in a fresh headless Chromium profile (Debian's chromium, no download)."""
    if not Path(CHROMIUM).exists():
        service_missing("no chromium installed (apt-get install chromium; .ci/chromium.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            accept_downloads=True,
        )
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            context.close()


def _one(engine, statement):
    with read_session(engine) as session:
        return session.exec(statement).one()


SELECT_PASSAGE = """() => {
    const body = document.getElementById('body');
    const node = body.firstChild;
    const text = node.textContent;
    const start = text.search(/\\S/);
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, Math.min(text.length, start + 40));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    body.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    return selection.toString().trim();
}"""


def _sign_in_and_open_an_unreviewed_response(page, base: str) -> int:
    page.goto(f"{base}/h/{SLUG}/responses")  # no session: to sign-in, and back after it
    assert "/login" in page.url
    page.fill("input[name=name]", "marie")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/h/{SLUG}/responses")
    assert "marie (saksbehandler)" in page.inner_text("header")
    page.check("input[name=unreviewed]")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**unreviewed=1**")
    assert "34 treff" in page.inner_text("main")
    page.click("table.responses tbody tr:first-child a")
    page.wait_for_url("**/r/*")
    return int(page.url.rsplit("/", 1)[-1])


def _accept_the_suggestion_by_key(page, engine, response_id: int) -> None:
    page.wait_for_selector("mark.suggestion")
    page.keyboard.press("a")
    page.wait_for_selector(".flash.ok")
    event = _one(engine, select(ReviewEventRow))
    assert (event.actor, event.source, event.accepted_as_suggested) == ("marie", "web", True)
    stance = _one(engine, select(ResponseRow.stance).where(ResponseRow.id == response_id))
    assert stance == event.stance


def _tie_a_selected_passage(page, engine, response_id: int) -> None:
    passage = page.evaluate(SELECT_PASSAGE)
    assert page.input_value("#quote") == passage
    page.select_option("#excerpt-form select[name=item]", "BLS")
    page.click("#excerpt-form button[type=submit]")
    page.wait_for_selector("ul.excerpts")
    excerpt = _one(engine, select(ResponseExcerptRow))
    assert (excerpt.response_id, excerpt.item_ref, excerpt.created_by) == (
        response_id,
        "BLS",
        "marie",
    )
    assert " ".join(excerpt.quote.split()) == " ".join(passage.split())
    page.keyboard.press("j")  # on to the next unreviewed response
    page.wait_for_url(lambda url: not url.endswith(f"/r/{response_id}"))
    next_id = int(page.url.rsplit("/", 1)[-1])
    assert _one(engine, select(ResponseRow.stance).where(ResponseRow.id == next_id)) is None


def _review_a_campaign_as_one(page, base: str, engine) -> None:
    page.goto(f"{base}/h/{SLUG}/campaign/1")
    page.select_option("#campaign-form select[name=stance]", "supports")
    page.click("#campaign-form button:not([name])")
    page.wait_for_selector(".flash.ok")
    group = _one(engine, select(CampaignGroupRow).where(CampaignGroupRow.number == 1))
    members = _one(engine, select(func.count()).where(ResponseRow.stance == "supports"))
    assert group.stance == "supports" and group.reviewed_by == "marie"
    assert members >= group.size == 22


def _assign_the_unmatched_message(page, base: str, engine) -> None:
    page.goto(f"{base}/intake")
    stray = stray_response(engine)
    page.select_option(f"form[action='/intake/assign/{stray.id}'] select", CASE)
    page.click(f"form[action='/intake/assign/{stray.id}'] button")
    page.wait_for_selector(".flash.ok")
    assigned = stray_response(engine)
    assert assigned.tracking_number and assigned.tracking_number.startswith("24/750-")
    audit = _one(engine, select(AuditEventRow).where(AuditEventRow.action == "assign_response"))
    assert audit.actor == "marie"


def _download_the_summary(page, base: str, engine, folder: Path) -> None:
    with write_session(engine) as session:
        write_summary(session, CASE, GROUPED, folder / "letters")
    page.goto(f"{base}/h/{SLUG}")
    link = page.locator("ul.downloads a", has_text=".docx").first
    with page.expect_download() as waiting:
        link.click()
    saved = folder / "downloaded.docx"
    waiting.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK" and saved.stat().st_size > 1000


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_case_officer_reviews_in_the_browser(served_desk, browser_page, engine, tmp_path):
    page, base = browser_page, served_desk
    response_id = _sign_in_and_open_an_unreviewed_response(page, base)
    _accept_the_suggestion_by_key(page, engine, response_id)
    page.goto(f"{base}/r/{response_id}")
    _tie_a_selected_passage(page, engine, response_id)
    _review_a_campaign_as_one(page, base, engine)
    _assign_the_unmatched_message(page, base, engine)
    _download_the_summary(page, base, engine, tmp_path)
