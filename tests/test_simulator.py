"""The patient simulator's JSON: threads and alerts with times as the dashboard shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app import create_app
from bot import runtime
from store.db import session_scope
from store.models import Escalation, Message, Patient, Practice, Service
from tests import factories
from tests.helpers import text_in
from web.simulator import SUGGESTIONS

DEMO_TWILIO = "http://127.0.0.1:9"
"""A Twilio API on this machine (nothing listens there: these tests send nothing)."""


@pytest.fixture
def sim(settings, clock):
    """A client of the app in demo mode with the Twilio API a local fake: the simulator is mounted."""
    from app import create_app

    return create_app(settings.with_(twilio_api_base_url=DEMO_TWILIO, demo=True)).test_client()


@pytest.mark.parametrize(
    "changes",
    [{"twilio_api_base_url": DEMO_TWILIO}, {"twilio_api_base_url": "https://api.twilio.com", "demo": True}],
    ids=["not-demo-mode", "real-twilio"],
)
def test_the_simulator_and_mail_sink_are_not_mounted_outside_the_demo(settings, changes):
    from app import create_app

    app = create_app(settings.with_(**changes))
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not any(e.startswith(("simulator.", "mail.", "bench.")) for e in endpoints)
    assert app.test_client().get("/simulator/").status_code == 404


def test_the_simulator_needs_sign_in_even_in_the_demo(sim, settings):
    assert sim.get("/simulator/api/patients").status_code == 401
    assert sim.get("/simulator/").headers["Location"].startswith("/login?next=/simulator/")
    assert sim.get("/mail").status_code == 302


def test_times_are_shown_in_the_practice_zone_and_today_as_the_time_alone(sim, settings, clock):
    # The frozen clock is 16:00 UTC on Nov 23: 08:00 in Los Angeles.
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db, timezone="America/Los_Angeles")
        nurse = factories.staff(db, practice.id)
        patient = factories.patient(db, practice.id)
        for hours_ago in (1, 10, 72):
            db.add(
                Message(
                    practice_id=practice.id,
                    patient_id=patient.id,
                    direction="in",
                    kind="inbound",
                    from_number=patient.phone,
                    to_number=factories.AUSTIN_NUMBER,
                    body=f"{hours_ago} h ago",
                    created_at=clock.now() - timedelta(hours=hours_ago),
                )
            )
        db.add(
            Escalation(
                practice_id=practice.id,
                patient_id=patient.id,
                urgency="routine",
                reason="question",
                created_at=datetime(2026, 11, 23, 7, 30, tzinfo=UTC),
            )
        )
        patient_id = patient.id
    factories.sign_in(sim, nurse.email)

    thread = sim.get(f"/simulator/api/patients/{patient_id}/thread").json
    assert [(m["body"], m["time"]) for m in thread["messages"]] == [
        ("72 h ago", "Nov 20, 8:00 AM"),
        ("10 h ago", "Nov 22, 10:00 PM"),
        ("1 h ago", "7:00 AM"),
    ]
    [escalation] = sim.get("/simulator/api/alerts").json["escalations"]
    assert escalation["time"] == "Nov 22, 11:30 PM"


# ------------------------------------------------------------------ suggested texts

BEFORE = {
    "pick by ordinal": ["book"],
    "pick by time of day": ["book"],
    "confirm the cancel": ["cancel a visit"],
    "START": ["STOP"],
}
"""What a suggested text answers: the suggestions sent first."""


def _suggested(sim, patient_id) -> dict[str, str]:
    return {s["label"]: s["body"] for s in sim.get(f"/simulator/api/patients/{patient_id}/thread").json["suggestions"]}


def _seen(sim, patient_id) -> tuple[list[str], list[str]]:
    """(the practice's texts in the thread, the status lines) as the simulator shows them."""
    thread = sim.get(f"/simulator/api/patients/{patient_id}/thread").json
    return [m["body"] for m in thread["messages"] if m["direction"] == "out"], thread["status"]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("label", [label for label, _, _ in SUGGESTIONS] + ["pick by time of day"])
def test_every_suggested_text_shows_a_result_in_the_thread_or_the_status(
    settings, twilio, clock, spa, db_url, language, label
):
    with session_scope(db_url) as db:
        practice = db.get(Practice, spa["practice_id"])
        practice.facts = {"parking": "Free garage parking behind the building.", "cancellation_policy": "24 h notice."}
        ana = db.get(Patient, spa["patient_id"])
        ana.language = language
        factories.appointment(
            db,
            ana,
            db.get(Service, spa["service_id"]),
            clock.now() + timedelta(days=10),
            provider_id=spa["provider_id"],
            location_id=spa["location_id"],
            status="booked",
        )
        nurse = factories.staff(db, practice.id)
    sim = create_app(runtime.settings().with_(demo=True)).test_client()
    factories.sign_in(sim, nurse.email)
    patient_id = spa["patient_id"]
    for before in BEFORE.get(label, []):
        text_in(_suggested(sim, patient_id)[before])
    texts, status = _seen(sim, patient_id)
    body = _suggested(sim, patient_id)[label]
    text_in(body)
    after_texts, after_status = _seen(sim, patient_id)
    assert after_texts != texts or after_status != status, (label, body, after_texts, after_status)
    if label.startswith("pick"):  # the time named is the one asked for
        assert "booking request waiting for the front desk to confirm" in after_status, (label, body, after_status)


def test_the_status_says_what_the_last_text_did(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as db:
        nurse = factories.staff(db, spa["practice_id"])
    sim = create_app(runtime.settings().with_(demo=True)).test_client()
    factories.sign_in(sim, nurse.email)
    text_in("Can I talk to a real person?")
    _, status = _seen(sim, spa["patient_id"])
    assert any(line.startswith("handed to staff: the bot is paused until") for line in status)
    text_in("STOP")
    _, status = _seen(sim, spa["patient_id"])
    assert status[0].startswith("opted out")


@pytest.mark.parametrize("category", ["filler", "neurotoxin", "body_contouring"])
def test_the_suggested_emergency_is_one_for_the_patients_own_treatment(settings, twilio, clock, spa, db_url, category):
    """A white lip is a filler's emergency; a patient who had something else is offered one that pages
    as an emergency after any treatment, so the suggestion always shows what an emergency does."""
    with session_scope(db_url) as db:
        db.get_one(Service, spa["service_id"]).category = category
        nurse = factories.staff(db, spa["practice_id"])
    sim = create_app(runtime.settings().with_(demo=True)).test_client()
    factories.sign_in(sim, nurse.email)
    body = _suggested(sim, spa["patient_id"])["emergency"]
    assert ("white" in body) == (category == "filler")
    text_in(body)
    with session_scope(db_url) as db:
        urgencies = [e.urgency for e in db.exec(select(Escalation).where(Escalation.patient_id == spa["patient_id"]))]
    assert urgencies == ["emergency"], (category, body, urgencies)
