"""In a real browser, on the seeded demo practice: a manager marks a decision wrong and downloads the
corrections, downloads the monthly report's PDF, and the Numbers, report, operations and corrections pages
are screenshot at desktop and phone width, with no sideways scroll on a 390 px phone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.demo.seed import DEMO_PASSWORD, MANAGER_EMAIL
from store.db import session_scope
from store.models import Correction, Message
from tests.helpers import skip_without_chromium

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("AFTERCARE_SCREENSHOTS", "var/screenshots"))
"""Where the screenshots go (var/ is not committed)."""
PAGES = {
    "numbers": "/numbers?days=90",
    "report": "/report?month=2026-10",
    "operations": "/operations?days=30",
    "corrections": "/corrections",
}
"""The pages screenshot, by name."""

skip_without_chromium()


def _signed_in(browser, base: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    page.goto(base + "/login")
    page.fill("input[name=email]", MANAGER_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_a_manager_marks_a_decision_wrong_and_exports_the_correction(live, browser):
    with session_scope(live["db_url"]) as db:
        corrected = set(db.exec(select(Correction.message_id)))
        message = next(
            m
            for m in db.exec(select(Message).where(Message.direction == "in").order_by(col(Message.id).desc()))
            if m.decision and m.decision.get("intent") != "negative_feedback" and m.id not in corrected
        )
    page = _signed_in(browser, live["base"], 1280)
    page.goto(f"{live['base']}/patients/{message.patient_id}")
    page.click(f"a[href='/messages/{message.id}/correct']")
    page.select_option("select[name=intent]", "negative_feedback")
    page.select_option("select[name=urgency]", "routine")
    page.fill("input[name=note]", "an unhappy patient, not a question")
    page.click("button:has-text('Save correction')")
    page.wait_for_url(lambda url: "/patients/" in url)
    assert "Correction saved" in page.content()
    page.goto(live["base"] + "/corrections")
    with page.expect_download() as info:
        page.click("#export-corrections")
    rows = [json.loads(line) for line in Path(info.value.path()).read_text().splitlines()]
    mine = [r for r in rows if r["notes"].startswith(f"corrected from {message.decision['intent']}")]
    assert {"intent": "negative_feedback", "urgency": "routine"} in [
        {"intent": r["intent"], "urgency": r["urgency"]} for r in mine
    ]


def test_the_monthly_report_pdf_downloads(live, browser):
    page = _signed_in(browser, live["base"], 1280)
    page.goto(live["base"] + "/report?month=2026-10")
    assert "October 2026" in page.content()
    with page.expect_download() as info:
        page.click("#report-pdf")
    assert info.value.suggested_filename == "retention-2026-10.pdf"
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_pages_at_desktop_and_phone_width(live, browser, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _signed_in(browser, live["base"], width)
    for name, path in PAGES.items():
        page.goto(live["base"] + path)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        if width == 390:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= 390, f"{name} scrolls sideways at 390 px ({scroll} px wide)"
