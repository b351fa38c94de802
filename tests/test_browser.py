"""In a real browser: play a patient in the simulator, then sign in and acknowledge the escalation."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.clock import to_local
from bot.demo.seed import CHECKER_PHONE, DEMO_PASSWORD, MANAGER_EMAIL
from store.db import session_scope
from store.models import AuditEvent, Escalation, Message, Patient, Practice
from tests.helpers import skip_without_chromium, work
from web.transcript import TIME_FORMAT, thread_query

pytestmark = pytest.mark.browser


skip_without_chromium()


@pytest.fixture
def page(browser):
    """A page in the browser's own time zone."""
    return browser.new_page(viewport={"width": 1280, "height": 900})


@pytest.fixture
def page_in_tokyo(browser):
    """A page whose browser believes it is in Tokyo, 15 hours ahead of the demo practice."""
    return browser.new_page(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tokyo")


def _sign_in(page, base: str) -> None:
    """Sign in to the dashboard as the demo's manager (the simulator, too, needs a signed-in user)."""
    page.goto(base + "/login")
    page.fill("input[name=email]", MANAGER_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _text_as(page, name: str, body: str) -> None:
    page.fill("#sim-search", name)
    page.click(f".sim-patient:has-text('{name}')")
    page.wait_for_selector(".sim-msg")
    page.fill("#sim-body", body)
    page.click("#sim-send")
    page.locator("#sim-thread .from-patient", has_text=body).wait_for(timeout=10_000)


def test_patient_texts_in_the_simulator_and_staff_acknowledge_the_escalation(live, page):
    from playwright.sync_api import expect

    page.goto(live["base"] + "/simulator/")
    expect(page).to_have_url(live["base"] + "/login?next=/simulator/")  # not without signing in
    _sign_in(page, live["base"])
    page.goto(live["base"] + "/simulator/")
    _text_as(page, "Ana Ruiz", "can I come in next Tuesday after 5?")
    _text_as(page, "Lauren Mitchell", "my lip looks white and blotchy and it really hurts")
    expect(page.locator("#sim-escalations")).to_contain_text("Lauren", timeout=10_000)
    assert [m["body"] for m in live["fake"].inbound] == [
        "can I come in next Tuesday after 5?",
        "my lip looks white and blotchy and it really hurts",
    ]

    page.goto(live["base"] + "/")
    emergency = page.locator(".escalation.urgency-emergency", has_text="Lauren")
    expect(emergency).to_contain_text("my lip looks white and blotchy")
    expect(page.locator(".escalation").first).to_contain_text("Lauren")  # the emergency comes first
    emergency.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".flash")).to_contain_text("Acknowledged")
    expect(page.locator(".escalation.urgency-emergency")).to_contain_text("acknowledged by Dana Whitfield")

    page.locator(".escalation.urgency-emergency a.esc-name").click()
    expect(page.locator("#transcript")).to_contain_text("my lip looks white and blotchy")
    expect(page.locator("#transcript")).to_contain_text("emergency")

    with session_scope(live["db_url"]) as db:
        lauren = db.exec(select(Patient).where(Patient.first_name == "Lauren")).one()
        message = db.exec(
            select(Message)
            .where(Message.from_number == lauren.phone, Message.direction == "in")
            .order_by(Message.id.desc())
        ).first()
        escalation = db.exec(select(Escalation).where(Escalation.message_id == message.id)).one()
        assert (escalation.urgency, escalation.status) == ("emergency", "acknowledged")
        viewed = db.exec(
            select(AuditEvent).where(AuditEvent.action == "transcript_viewed", AuditEvent.subject_id == lauren.id)
        ).all()
        assert viewed and viewed[0].actor.startswith("staff:")


def test_simulator_shows_times_in_the_practice_zone_like_the_dashboard(live, page_in_tokyo):
    from playwright.sync_api import expect

    page = page_in_tokyo
    with session_scope(live["db_url"]) as db:
        practice_tz = db.exec(select(Practice.timezone)).one()
        ana = db.exec(select(Patient).where(Patient.phone == CHECKER_PHONE)).one()
        last = db.exec(thread_query(ana).order_by(Message.created_at.desc(), Message.id.desc())).first()
        escalation = db.exec(select(Escalation).where(Escalation.status == "open")).one()
        text_at, escalated_at = last.created_at, escalation.created_at
    shown, in_tokyo = (to_local(text_at, tz).strftime(TIME_FORMAT) for tz in (practice_tz, "Asia/Tokyo"))
    assert shown != in_tokyo

    _sign_in(page, live["base"])
    page.goto(live["base"] + "/simulator/")
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"
    page.fill("#sim-search", "Ana Ruiz")
    page.click(".sim-patient:has-text('Ana Ruiz')")
    meta = page.locator(f'[data-message-id="{last.id}"] .sim-meta')
    expect(meta).to_contain_text(shown)
    expect(meta).not_to_contain_text(in_tokyo)
    expect(page.locator("#sim-escalations")).to_contain_text(to_local(escalated_at, practice_tz).strftime(TIME_FORMAT))

    # The same time, as the dashboard shows it on the patient's transcript.
    page.goto(live["base"] + f"/patients/{ana.id}")
    expect(page.locator("#transcript")).to_contain_text(shown)


def test_a_patient_books_by_text_and_the_front_desk_confirms(live, page):
    from playwright.sync_api import expect

    _sign_in(page, live["base"])
    page.goto(live["base"] + "/simulator/")
    _text_as(page, "Ana Ruiz", "tienes algo el jueves en la tarde?")  # Ana texts in Spanish
    work()
    thread = page.locator("#sim-thread")
    expect(thread.locator(".from-practice.kind-reply").last).to_contain_text("Responde 1, 2 o 3", timeout=10_000)
    offer = thread.locator(".from-practice.kind-reply").last.inner_text()
    assert "1) jue 26 nov" in offer

    before = thread.locator(".from-patient").count()
    page.fill("#sim-body", "2")
    page.click("#sim-send")
    expect(thread.locator(".from-patient")).to_have_count(before + 1, timeout=10_000)
    work()
    expect(thread.locator(".from-practice.kind-reply").last).to_contain_text(
        "Pedimos el jueves 26 de noviembre", timeout=10_000
    )

    page.goto(live["base"] + "/")
    expect(page.locator(".escalation", has_text="booking request")).to_contain_text("Asked by text for Thu, Nov 26")
    page.locator(".escalation", has_text="booking request").locator("a.esc-name").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash")).to_contain_text("Booked")
    work()
    with session_scope(live["db_url"]) as db:
        ana = db.exec(select(Patient).where(Patient.phone == CHECKER_PHONE)).one()
        last = db.exec(thread_query(ana).order_by(Message.id.desc())).first()
    assert last.body.startswith("Ana, tu cita es el jueves 26 de noviembre") and last.twilio_sid
    assert any(m["body"] == last.body for m in live["fake"].messages)


def test_an_admin_adds_a_user_who_signs_in_and_a_manager_reads_it_in_the_audit_log(live, browser, page):
    from playwright.sync_api import expect

    from tests.factories import STAFF_PASSWORD
    from tests.factories import staff as add_staff

    with session_scope(live["db_url"]) as db:
        practice = db.exec(select(Practice)).first()
        admin = add_staff(db, practice.id, "admin", name="Ada Admin", email="ada@glowaesthetics.example")
    page.goto(live["base"] + "/login")
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("link", name="Users").click()
    form = page.locator("form", has_text="Add a user")
    form.get_by_label("Name").fill("Rita Desk")
    form.get_by_label("Email (to sign in)").fill("rita@glowaesthetics.example")
    form.get_by_label("Role").select_option("front_desk")
    form.get_by_label("First password (at least").fill("a-first-password")
    form.get_by_label("First password again").fill("a-first-password")
    form.get_by_role("button", name="Add user").click()
    expect(page.locator(".flash")).to_contain_text("Rita Desk can sign in as front desk")
    row = page.locator("tr", has_text="Rita Desk")
    row.get_by_label("Role of Rita Desk").select_option("nurse")
    row.get_by_role("button", name="Change role").click()
    expect(page.locator(".flash")).to_contain_text("Rita Desk is now nurse")

    rita = browser.new_page(viewport={"width": 1280, "height": 900})
    rita.goto(live["base"] + "/login")
    rita.fill("input[name=email]", "rita@glowaesthetics.example")
    rita.fill("input[name=password]", "a-first-password")
    rita.click("button[type=submit]")
    rita.wait_for_url(lambda url: "/login" not in url)
    expect(rita.locator(".who .role")).to_have_text("nurse")

    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, live["base"])  # the manager now
    page.goto(live["base"] + "/audit")
    page.get_by_label("Action").select_option("user_role_changed")
    page.get_by_role("button", name="Show").click()
    entry = page.locator("tr.audit-entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Ada Admin")
    expect(entry).to_contain_text("Rita Desk")
    expect(entry.locator("td").nth(4)).to_contain_text("role: front_desk")
    expect(entry.locator("td").nth(5)).to_contain_text("role: nurse")


def test_a_manager_walks_the_matrix_segments_ready_this_week_and_offer_results(live, page):
    from playwright.sync_api import expect

    from bot.touches.dispatch import tick
    from store.models import GrowthConfig, Offer

    _sign_in(page, live["base"])
    page.get_by_role("link", name="Growth").click()
    expect(page.locator("h1")).to_have_text("Ready this week")
    rows = page.locator("#ready tbody tr")
    expect(rows.first).to_be_visible()
    first = rows.first.get_attribute("data-patient")
    rows.first.get_by_role("button", name="Send offer").click()
    expect(page.locator(".flash")).to_contain_text("Queued")
    expect(page.locator(f'#ready tr[data-patient="{first}"]')).to_have_count(0)  # offered: off the list

    page.get_by_role("link", name="Matrix").click()
    expect(page.locator(".page-head")).to_contain_text("version 0")
    page.get_by_label("Botox add ons").fill("Lip flip $175; Brow lift $100")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator(".flash")).to_contain_text("Saved as version 1")
    expect(page.get_by_label("Botox add ons")).to_have_value("Lip flip $175; Brow lift $100")

    page.get_by_role("link", name="Segments").click()
    expect(page.locator('.stat[data-segment="vip"] .stat-value')).not_to_have_text("0")

    page.get_by_role("link", name="Today's visits").click()
    expect(page.locator("h1")).to_have_text("Today's visits")

    tick()
    work()
    page.get_by_role("link", name="Offer results").click()
    expect(page.locator("#experiments")).to_contain_text("A/B tests")
    expect(page.locator('table[data-group="Moment"]')).to_contain_text("staff_pick")
    with session_scope(live["db_url"]) as db:
        assert db.exec(select(GrowthConfig)).one().version == 1
        offer = db.exec(select(Offer).where(Offer.moment == "staff_pick")).one()
        assert str(offer.patient_id) == first and offer.matrix_version == 0


def test_a_suggested_text_sends_with_a_click_and_its_result_shows(live, page):
    from playwright.sync_api import expect

    _sign_in(page, live["base"])
    page.goto(live["base"] + "/simulator/")
    page.fill("#sim-search", "Ana Ruiz")
    page.locator(".sim-patient", has_text="Ana Ruiz").first.click()
    page.locator(".sim-suggestion[data-label='STOP']").click()
    expect(page.locator("#sim-status")).to_contain_text("opted out", timeout=10_000)
    page.locator(".sim-suggestion[data-label='START']").click()
    expect(page.locator("#sim-status")).not_to_contain_text("opted out", timeout=10_000)
    assert [m["body"] for m in live["fake"].inbound][-2:] == ["STOP", "START"]
