"""In a real browser, a staff member limited to one location: the demo's Miami front desk signs in and the
inbox, its location filter and the patients list hold only Miami's patients, at desktop and phone width
(390 px) without sideways scroll, with a screenshot of each saved under tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo.seed import DEMO_PASSWORD, MANAGER_EMAIL, MIAMI_DESK_EMAIL
from tests.helpers import patients_by_location, skip_without_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
"""Where the screenshots go (gitignored)."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

skip_without_chromium()


def _signed_in(browser, base: str, email: str, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_miami_front_desk_sees_only_miamis_inbox(live, browser, width):
    patients = patients_by_location(live["db_url"])
    austin_only = [name for name, where in patients.values() if where == {"L-AUS"}]
    viewport = PHONE if width == "phone" else DESKTOP
    manager = _signed_in(browser, live["base"], MANAGER_EMAIL, viewport)
    manager.goto(live["base"] + "/?status=all")
    everything = manager.locator("main").inner_text()
    assert [name for name in austin_only if name in everything]  # staff of both locations see Austin's

    page = _signed_in(browser, live["base"], MIAMI_DESK_EMAIL, viewport)
    ARTIFACTS.mkdir(exist_ok=True)
    for name, path in (("inbox-miami-desk", "/?status=all"), ("patients-miami-desk", "/patients")):
        page.goto(live["base"] + path)
        assert page.locator("h1").count() == 1, f"{name} did not render"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        shown = page.locator("main").inner_text()
        assert [n for n in austin_only if n in shown] == [], f"{name} shows Austin's patients"
        scroll = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert width == "desktop" or scroll <= PHONE["width"], f"{name} is {scroll} px wide"
    page.goto(live["base"] + "/?status=all")
    places = page.locator(".escalation .esc-location").all_inner_texts()
    assert places and set(places) == {"Miami - Brickell"}
    options = page.locator("select[name=location] option").all_inner_texts()
    assert options == ["any", "Miami - Brickell"]
