"""The inbox: filters, search by name or the phone's last four digits, full names and locations on each
item, the live list the page polls, resolved items kept as history; the escalation record page; and
decisions in plain words on the transcript."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from store.db import session_scope
from store.models import Escalation, Location, Patient
from tests.helpers import csrf_token, text_in, work

EMERGENCY = "my lip is turning white and blotchy and it hurts a lot"
URGENT = "I think my eyelid is drooping since the botox"
MIAMI_NUMBER = "+13055550100"


def _patient(db_url, first_name) -> Patient:
    with session_scope(db_url) as db:
        return db.exec(select(Patient).where(Patient.first_name == first_name)).one()


@pytest.fixture
def texts(demo_practice, settings, twilio, db_url):
    """Lauren (Austin, filler) writes an emergency, Nicole (Miami) an urgent worry; pages are sent."""
    lauren, nicole = _patient(db_url, "Lauren"), _patient(db_url, "Nicole")
    text_in(EMERGENCY, from_=lauren.phone)
    text_in(URGENT, from_=nicole.phone, to=MIAMI_NUMBER)
    work()
    with session_scope(db_url) as db:
        found = {e.patient_id: e.id for e in db.exec(select(Escalation).where(Escalation.status == "open"))}
        places = {loc.external_id: loc.id for loc in db.exec(select(Location))}
    return {"lauren": lauren, "nicole": nicole, "escalations": found, "places": places}


def _items(client, **args) -> list[str]:
    """The names on the inbox's live list for these filters."""
    html = client.get("/inbox/items", query_string=args).get_data(as_text=True)
    assert "<html" not in html  # the list alone, for the page to swap in
    return re.findall(r'class="esc-name"[^>]*>([^<]+)<', html)


def test_each_item_shows_the_full_name_location_and_who_was_paged(manager, texts):
    client, _ = manager
    page = client.get("/").get_data(as_text=True)
    lauren = page[page.index("Lauren Mitchell") :][:2500]
    assert "Austin - South Congress" in lauren
    assert "paged: Sofia Reyes, NP, Hannah Kim, RN" in lauren  # on call and, for an emergency, the backup
    assert page.index("Lauren Mitchell") < page.index("Nicole Alvarez")  # the emergency first
    assert "Miami - Brickell" in page[page.index("Nicole Alvarez") :][:2500]


def test_filters_keep_only_what_they_name(manager, texts):
    client, _ = manager
    assert "Lauren Mitchell" in _items(client) and "Nicole Alvarez" in _items(client)
    assert _items(client, urgency="emergency") == ["Lauren Mitchell"]
    assert _items(client, location=texts["places"]["L-MIA"]) == ["Nicole Alvarez"]
    assert "Lauren Mitchell" not in _items(client, intent="question")
    assert "Lauren Mitchell" in _items(client, intent="side_effect_concern")
    assert _items(client, since="2026-11-24") == []  # the clock reads Nov 23
    assert "Lauren Mitchell" in _items(client, since="2026-11-23", until="2026-11-23")
    resolved = client.get("/inbox/items", query_string={"status": "resolved", "q": "Lauren"}).get_data(as_text=True)
    assert f'data-escalation="{texts["escalations"][texts["lauren"].id]}"' not in resolved  # still open


def test_search_finds_by_name_or_the_last_four_digits(manager, texts):
    client, _ = manager
    assert _items(client, q="mitchell") == ["Lauren Mitchell"]
    assert _items(client, q="lauren mitch") == ["Lauren Mitchell"]
    assert _items(client, q=texts["nicole"].phone[-4:]) == ["Nicole Alvarez"]
    assert _items(client, q="zzz") == []
    # The page keeps the filters it was asked for in its form and in the list it polls.
    page = client.get("/", query_string={"q": "mitchell"}).get_data(as_text=True)
    assert 'value="mitchell"' in page and 'data-poll="/inbox/items?q=mitchell"' in page


def test_a_resolved_item_leaves_the_list_and_stays_as_history(manager, texts, db_url):
    client, _ = manager
    escalation_id = texts["escalations"][texts["lauren"].id]
    token = csrf_token(client.get("/").get_data(as_text=True))
    client.post(f"/escalations/{escalation_id}/acknowledge", data={"csrf_token": token})
    client.post(f"/escalations/{escalation_id}/resolve", data={"csrf_token": token, "note": "Called her; seen at 11."})
    assert "Lauren Mitchell" not in _items(client)
    page = client.get("/").get_data(as_text=True)
    history = page[page.index('id="resolved"') :]
    assert "Lauren Mitchell" in history
    resolved = client.get("/inbox/items", query_string={"status": "resolved", "q": "Lauren"}).get_data(as_text=True)
    assert f'data-escalation="{escalation_id}"' in resolved


def test_the_escalation_record_shows_pages_acknowledgement_resolution_and_time_to_acknowledge(
    manager, texts, clock, db_url
):
    client, _ = manager
    escalation_id = texts["escalations"][texts["lauren"].id]
    page = client.get("/escalations").get_data(as_text=True)
    card = page[page.index(f'data-escalation="{escalation_id}"') :][:4000]
    assert "paged Sofia Reyes, NP" in card and "paged Hannah Kim, RN" in card
    assert "not acknowledged" in card
    clock.advance(minutes=4)
    token = csrf_token(page)
    client.post(f"/escalations/{escalation_id}/acknowledge", data={"csrf_token": token, "next": "/escalations"})
    clock.advance(minutes=10)
    client.post(f"/escalations/{escalation_id}/resolve", data={"csrf_token": token, "note": "Seen at 11."})
    page = client.get("/escalations").get_data(as_text=True)
    card = page[page.index(f'data-escalation="{escalation_id}"') :][:4000]
    assert "acknowledged by Dana Whitfield (in the dashboard)" in card
    assert '<strong class="ack-time">4 min</strong> to acknowledge' in card
    assert "resolved: Seen at 11." in card
    assert card.index("resolved") > card.index("acknowledged by")
    assert page.index('id="resolved-escalations"') < page.index(f'data-escalation="{escalation_id}"')


def test_the_transcript_says_each_decision_in_plain_words_with_the_detail_one_click_away(manager, texts):
    client, _ = manager
    page = client.get(f"/patients/{texts['lauren'].id}").get_data(as_text=True)
    assert "Read as: side effect, emergency, by the red-flag rule for vascular occlusion." in page
    plain = page.index("Read as: side effect, emergency, by the red-flag rule")
    detail = page[page.index('<details class="technical">', plain) :][:1500]
    assert "<dt>path</dt><dd>guard (redflag:vascular_occlusion)</dd>" in detail
    assert "<dt>handler</dt>" in detail or "<dt>actions</dt>" in detail
