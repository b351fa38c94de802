"""In a real browser, on the seeded demo practice: a manager marks a decision wrong and downloads the
corrections, downloads the monthly report's PDF, reads offer acceptance on Numbers for a period and a
location, and the Numbers, report, operations and corrections pages are screenshot at desktop and phone
width, with no sideways scroll on a 390 px phone."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.demo.seed import DEMO_PASSWORD, MANAGER_EMAIL
from store.db import session_scope
from store.models import Appointment, Correction, Location, Message, Offer
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


def _seed_offers(db_url: str, now) -> dict[str, int]:
    """Known offers on the demo practice, made 20 days ago. Austin: 20 Lip flip offers after Botox (4 yes,
    16 no: flagged, over 75 % declined), 3 Brow lift (1 yes, $100 sold). Miami: 2 Touch-up after filler (both
    yes) and 1 held back. Returns the two location ids."""
    with session_scope(db_url) as db:
        places = {loc.name.split(" ")[0]: loc.id for loc in db.exec(select(Location))}
        austin, miami = places["Austin"], places["Miami"]  # "Austin - South Congress", "Miami - Brickell"
        visit = {
            loc: db.exec(
                select(Appointment).where(Appointment.location_id == loc).order_by(col(Appointment.id))
            ).first()
            for loc in (austin, miami)
        }
        made = now - timedelta(days=20)

        def offer(loc, primary, item, status, segment, **fields):
            db.add(
                Offer(
                    practice_id=visit[loc].practice_id,
                    patient_id=visit[loc].patient_id,
                    appointment_id=visit[loc].id,
                    moment="pre_visit",
                    primary=primary,
                    kind="add_on",
                    item=item,
                    matrix_version=0,
                    segment=segment,
                    status=status,
                    sent_at=None if status == "held" else made,
                    created_at=made,
                    **fields,
                )
            )

        for n in range(20):
            yes = n < 4
            offer(austin, "botox", "Lip flip", "accepted" if yes else "declined", "vip", **_answer(yes, made))
        offer(
            austin,
            "botox",
            "Brow lift",
            "booked",
            "new",
            booked_at=made,
            revenue=Decimal("100.00"),
            **_answer(True, made),
        )
        for _ in range(2):
            offer(austin, "botox", "Brow lift", "declined", "new", **_answer(False, made))
        for _ in range(2):
            offer(miami, "filler", "Touch-up", "accepted", "active", **_answer(True, made))
        offer(miami, "filler", "Touch-up", "held", "active")
    return {"austin": austin, "miami": miami}


def _answer(yes: bool, at) -> dict:
    return {"replied_at": at, "accepted_at": at if yes else None, "declined_at": None if yes else at}


def _row(page, group: str, key: str) -> list[str]:
    cells = page.locator(f'#offer-acceptance table[data-group="{group}"] tr[data-key="{key}"] td')
    return [cells.nth(i).inner_text().strip() for i in range(cells.count())]


@pytest.mark.timeout(300)  # a demo practice, two viewports and five pages on a shared machine
def test_offer_acceptance_on_numbers_follows_the_period_and_location(live, browser, clock):
    from playwright.sync_api import expect

    places = _seed_offers(live["db_url"], clock.now())
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _signed_in(browser, live["base"], 1280)
    page.goto(live["base"] + "/numbers?days=30")
    section = page.locator("#offer-acceptance")
    expect(section).to_be_visible()
    #                                      item   sent replied accepted declined booked revenue acceptance held
    assert _row(page, "Pairing", "botox/Lip flip") == [
        "botox → Lip flip",
        "20",
        "20",
        "4",
        "16",
        "0",
        "$0.00",
        "20%",
        "0",
    ]
    assert _row(page, "Pairing", "botox/Brow lift") == [
        "botox → Brow lift",
        "3",
        "3",
        "1",
        "2",
        "1",
        "$100.00",
        "33%",
        "0",
    ]
    assert _row(page, "Pairing", "filler/Touch-up") == [
        "filler → Touch-up",
        "2",
        "2",
        "2",
        "0",
        "0",
        "$0.00",
        "100%",
        "1",
    ]
    assert _row(page, "Moment", "pre_visit") == ["pre_visit", "25", "25", "7", "18", "1", "$100.00", "28%", "1"]
    assert _row(page, "Segment", "vip")[1:4] == ["20", "20", "4"]
    expect(page.locator('#flagged li[data-pairing="botox/Lip flip"]')).to_contain_text("declined 16 of 20 (80%)")
    tile = page.locator('.kpi[data-figure="offer_acceptance"]')
    assert "Offers made in the period" in (tile.get_attribute("title") or "")
    tile.focus()  # the definition shows on focus too (touch screens)
    expect(tile.locator(".definition")).to_be_visible()
    section.screenshot(path=str(SHOTS / "numbers-offers-1280.png"))

    page.select_option("select[name=location]", str(places["miami"]))
    page.click("form.picker button[type=submit]")
    page.wait_for_url(lambda url: f"location={places['miami']}" in url)
    assert _row(page, "Pairing", "filler/Touch-up")[1:] == ["2", "2", "2", "0", "0", "$0.00", "100%", "1"]
    expect(page.locator('#offer-acceptance tr[data-key="botox/Lip flip"]')).to_have_count(0)
    expect(page.locator("#flagged")).to_have_count(0)

    page.goto(live["base"] + "/numbers?days=7")  # the offers were made 20 days ago
    expect(page.locator('#offer-acceptance table[data-group="Pairing"]')).to_contain_text("No offers in this period.")

    phone = _signed_in(browser, live["base"], 390)
    phone.goto(live["base"] + "/numbers?days=30")
    expect(phone.locator('#flagged li[data-pairing="botox/Lip flip"]')).to_be_visible()
    phone.locator("#offer-acceptance").screenshot(path=str(SHOTS / "numbers-offers-390.png"))
    scroll = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 390, f"numbers with offers scrolls sideways at 390 px ({scroll} px wide)"
