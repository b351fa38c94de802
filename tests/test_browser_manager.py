"""In a real browser, the manager's pages: change a fact and see the bot answer with it, the inbox updating
itself, and every page at desktop and phone width (390 px) without sideways scroll, with a screenshot of
each saved under tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.demo.seed import DEMO_PASSWORD, MANAGER_EMAIL
from store.db import session_scope
from store.models import Patient
from tests.helpers import skip_without_chromium, work

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
"""Where the screenshots go (gitignored)."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

skip_without_chromium()


def _signed_in(browser, base: str, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.goto(base + "/login")
    page.fill("input[name=email]", MANAGER_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _text_as(page, name: str, body: str) -> None:
    page.fill("#sim-search", name)
    page.click(f".sim-patient:has-text('{name}')")
    page.wait_for_selector(".sim-msg")
    page.fill("#sim-body", body)
    page.click("#sim-send")
    page.locator("#sim-thread .from-patient", has_text=body).wait_for(timeout=10_000)


def test_a_fact_changed_on_the_settings_page_is_what_the_bot_answers(live, browser):
    from playwright.sync_api import expect  # why: only browser tests need Playwright loaded

    page = _signed_in(browser, live["base"], DESKTOP)
    page.goto(live["base"] + "/settings")
    new = "Free parking in the lot on Elizabeth St; the garage is closed for repairs."
    page.fill("textarea[name='fact:parking:L-AUS']", new)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    expect(page.locator("#fact-parking .fact-preview")).to_contain_text(new)  # the preview shows it at once

    page.goto(live["base"] + "/simulator/")
    _text_as(page, "Emily Carter", "where can I park?")  # an Austin patient
    work()  # what the worker does: read the text, answer it
    answer = page.locator("#sim-thread .from-practice", has_text="Elizabeth St")
    expect(answer).to_contain_text("Parking: " + new, timeout=10_000)


def test_the_inbox_shows_a_new_emergency_without_a_reload(live, browser):
    from playwright.sync_api import expect  # why: only browser tests need Playwright loaded

    inbox = _signed_in(browser, live["base"], PHONE)
    inbox.goto(live["base"] + "/")
    inbox.evaluate("window.__notReloaded = true")
    assert inbox.locator(".escalation", has_text="Lauren Mitchell").count() == 0
    simulator = _signed_in(browser, live["base"], DESKTOP)
    simulator.goto(live["base"] + "/simulator/")
    _text_as(simulator, "Lauren Mitchell", "my lip looks white and blotchy and it really hurts")
    work()  # the worker's pages
    item = inbox.locator(".escalation.urgency-emergency", has_text="Lauren Mitchell")
    expect(item).to_contain_text("Austin - South Congress", timeout=20_000)
    assert inbox.evaluate("window.__notReloaded") is True  # swapped in by the poll, not a page reload
    item.get_by_role("button", name="Acknowledge").click()
    expect(inbox.locator(".flash")).to_contain_text("Acknowledged")


PAGES = (
    ("inbox", "/"),
    ("inbox-filtered", "/?status=all&urgency=routine"),
    ("escalations", "/escalations?days=30"),
    ("patient", "/patients/{patient}"),
    ("settings-facts", "/settings"),
    ("settings-practice", "/settings/practice"),
    ("settings-on-call", "/settings/on-call"),
    ("settings-plans", "/settings/plans?step=filler.checkin"),
    ("settings-care-texts", "/settings/care-texts"),
)


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_manager_page_fits_the_screen_and_is_photographed(live, browser, width):
    with session_scope(live["db_url"]) as db:
        patient = db.exec(select(Patient).where(Patient.first_name == "Lauren")).one().id
    page = _signed_in(browser, live["base"], PHONE if width == "phone" else DESKTOP)
    ARTIFACTS.mkdir(exist_ok=True)
    too_wide = {}
    for name, path in PAGES:
        page.goto(live["base"] + path.format(patient=patient))
        assert page.locator("h1").count() == 1, f"{name} did not render"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        scroll = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        if width == "phone" and scroll > PHONE["width"]:
            too_wide[name] = scroll
    assert too_wide == {}, f"pages wider than {PHONE['width']} px: {too_wide}"
