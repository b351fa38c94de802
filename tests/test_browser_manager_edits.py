"""In a real browser, on the demo: an admin sets a staff member's mobile number on the Users page (stored in
E.164, shown masked), and a manager previews then saves a plan step's new offset, seeing its new timing for
a real patient; each page photographed at desktop and phone width (390 px) without sideways scroll."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.demo.practice import ADMIN_EMAIL
from bot.demo.seed import DEMO_PASSWORD, MANAGER_EMAIL
from store.db import session_scope
from store.models import Practice, StaffUser
from tests.helpers import skip_without_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
"""Where the screenshots go (gitignored)."""
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

skip_without_chromium()


def _signed_in(browser, base: str, email: str, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _photographed(page, name: str, width: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    scroll = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert scroll <= VIEWPORTS[width]["width"] or width == "desktop", f"{name} is {scroll} px wide on a phone"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_an_admin_sets_a_mobile_number_on_the_users_page(live, browser, width):
    from playwright.sync_api import expect  # why: only browser tests need Playwright loaded

    with session_scope(live["db_url"]) as db:
        carla = db.exec(select(StaffUser).where(StaffUser.name == "Carla Mendoza")).one().id
    page = _signed_in(browser, live["base"], ADMIN_EMAIL, VIEWPORTS[width])
    page.goto(live["base"] + "/users")
    row = page.locator(f"#user-{carla}")
    row.get_by_role("textbox", name="Mobile of Carla Mendoza", exact=True).fill("(512) 555-0166")
    row.get_by_role("button", name="Save email and mobile of Carla Mendoza").click()
    expect(page.locator(".flash")).to_contain_text("Carla Mendoza: mobile")
    expect(page.locator(f"#user-{carla}")).to_contain_text("0166")
    assert "+15125550166" not in page.content()  # shown masked
    with session_scope(live["db_url"]) as db:
        assert db.get(StaffUser, carla).phone == "+15125550166"
    _photographed(page, "users-contact", width)


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_manager_previews_and_saves_a_new_offset_for_a_plan_step(live, browser, width):
    from playwright.sync_api import expect  # why: only browser tests need Playwright loaded

    page = _signed_in(browser, live["base"], MANAGER_EMAIL, VIEWPORTS[width])
    page.goto(live["base"] + "/settings/plans?step=neuromodulator.rebook")
    timing = page.locator("#step-timing")
    expect(timing.locator(".timing-now")).to_contain_text("78 days after the visit, at 11:00 local")
    timing.get_by_label("Offset", exact=True).fill("85d")
    timing.get_by_label("Local time of day").fill("10:30")
    timing.get_by_role("button", name="Preview the timing").click()
    expect(page.locator("#step-timing .timing-now")).to_contain_text("85 days after the visit, at 10:30 local")
    expect(page.locator("#step-timing .timing-now")).to_contain_text("preview, not saved")
    expect(page.locator("#timing-preview")).to_contain_text("10:30 AM")
    _photographed(page, "plans-timing-preview", width)
    with session_scope(live["db_url"]) as db:
        assert db.exec(select(Practice)).one().step_timing == {}
    page.locator("#step-timing").get_by_role("button", name="Save the timing").click()
    expect(page.locator(".flash")).to_contain_text("Saved: 85 days after the visit, at 10:30 local")
    expect(page.locator("#step-timing")).to_contain_text("the practice's timing")
    with session_scope(live["db_url"]) as db:
        assert db.exec(select(Practice)).one().step_timing["neuromodulator.rebook"]["offset"] == "85d"
    _photographed(page, "plans-timing-saved", width)
