"""In a real browser, on the demo practice: the manager rewrites an aftercare text, which then awaits
sign-off, and the medical director signs the set off; the page fits 390 px without sideways scroll, with
screenshots at desktop and phone width saved under tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.demo.seed import DEMO_PASSWORD, DIRECTOR_EMAIL, MANAGER_EMAIL
from store.db import session_scope
from store.models import AuditEvent, CareTextSignoff
from tests.helpers import skip_without_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
"""Where the screenshots go (gitignored)."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NEW = (
    "Thanks for telling us, {first_name}. A bruise after filler fades in 7-10 days; arnica gel helps. "
    "Call {emergency_line} if it spreads, hurts more, or the skin looks white or dusky."
)

skip_without_chromium()


def _signed_in(browser, base: str, viewport: dict, email: str):
    page = browser.new_page(viewport=viewport)
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_manager_edits_a_text_and_the_medical_director_signs_it_off(live, browser, width):
    from playwright.sync_api import expect  # why: only browser tests need Playwright loaded

    viewport = PHONE if width == "phone" else DESKTOP
    ARTIFACTS.mkdir(exist_ok=True)
    manager = _signed_in(browser, live["base"], viewport, MANAGER_EMAIL)
    manager.goto(live["base"] + "/settings/care-texts")
    expect(manager.locator("#signoff-latest")).to_contain_text("Dr. Olivia Lee, MD")  # the demo's sign-off
    card = manager.locator("#bruising-filler")
    expect(card.locator(".status")).to_have_text("signed off")
    card.locator("textarea[name='text:en']").fill(NEW)
    card.get_by_role("button", name="Save").click()
    expect(manager.locator(".flash")).to_contain_text("awaits the medical director's sign-off")
    expect(manager.locator("#bruising-filler .status")).to_have_text("awaits sign-off")
    expect(manager.locator("#signoff-summary")).to_contain_text("1 await sign-off")
    assert manager.locator("form[action$='/settings/care-texts/sign']").count() == 0  # not the manager's to sign
    manager.screenshot(path=str(ARTIFACTS / f"care-texts-edited-{width}.png"), full_page=True)
    assert width == "desktop" or _width(manager) <= PHONE["width"]

    director = _signed_in(browser, live["base"], viewport, DIRECTOR_EMAIL)
    director.get_by_role("link", name="Aftercare texts").first.click()  # an injector: this page, no other settings
    expect(director.locator("#bruising-filler textarea[name='text:en']")).to_have_value(NEW)
    director.get_by_role("button", name="Sign off all").click()
    expect(director.locator(".flash")).to_contain_text("Signed off")
    expect(director.locator("#bruising-filler .status")).to_have_text("signed off")
    expect(director.locator("#signoff-summary")).not_to_contain_text("await")
    director.screenshot(path=str(ARTIFACTS / f"care-texts-signed-{width}.png"), full_page=True)
    assert width == "desktop" or _width(director) <= PHONE["width"]

    with session_scope(live["db_url"]) as db:
        latest = db.exec(select(CareTextSignoff).order_by(CareTextSignoff.id.desc())).first()
        assert latest.texts["bruising.filler"]["en"] == NEW
        actions = {e.action for e in db.exec(select(AuditEvent).where(AuditEvent.action.like("care_text%")))}
        assert actions == {"care_text_changed", "care_texts_signed_off"}
