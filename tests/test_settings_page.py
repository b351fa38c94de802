"""The settings page: a manager changes quiet hours and facts per language, with the CLI's checks, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from store.db import session_scope
from store.models import AuditEvent, Patient, Practice
from tests import factories
from tests.helpers import PATIENT, add_staff, csrf_token, sent_to, sign_in, text_in

PARKING = "Free garage parking behind the building (level 2)"


@pytest.fixture
def spa(settings, clock, db_url):
    """A practice with a parking fact only in English, Ana seen last week, and a manager who signs in."""
    with session_scope(db_url) as session:
        practice = factories.practice(session, facts={"parking": "Street parking only", "L-1 note": {"L-1": "x"}})
        ana = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)
        factories.appointment(session, ana, service, clock.now() - timedelta(days=7))
        ids = {"practice_id": practice.id, "ana": ana.id}
    add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    return ids


def _save(client, **form):
    token = csrf_token(client.get("/settings").get_data(as_text=True))
    return client.post("/settings", data={"csrf_token": token, **form})


def test_a_fact_changed_here_is_what_the_bot_answers_in_each_language(spa, settings, twilio, db_url):
    client, _ = sign_in("mo@glow.test")
    response = _save(
        client,
        quiet_hours="9-20",
        **{"fact:parking:en": PARKING, "fact:parking:es": "Estacionamiento gratis detras del edificio"},
        new_name="hours",
        **{"new-fact:en": "Tue-Fri 9am-7pm"},
    )
    assert response.status_code == 302
    with session_scope(db_url) as session:
        practice = session.get(Practice, spa["practice_id"])
        assert practice.facts == {
            "parking": {"en": PARKING, "es": "Estacionamiento gratis detras del edificio"},
            "hours": "Tue-Fri 9am-7pm",
            "L-1 note": {"L-1": "x"},  # a fact per location is left as it was
        }
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "settings_changed")).one()
        assert event.detail["before"]["facts"]["parking"] == "Street parking only"
        assert event.detail["after"]["facts"]["hours"] == "Tue-Fri 9am-7pm"

    text_in("is there parking?")
    assert sent_to(twilio, PATIENT)[-1] == f"Hi Ana! Parking: {PARKING}. Anything else, just reply here."
    with session_scope(db_url) as session:
        session.get(Patient, spa["ana"]).language = "es"
    text_in("hay estacionamiento?")
    assert "Estacionamiento gratis detras del edificio" in sent_to(twilio, PATIENT)[-1]


def test_quiet_hours_are_checked_as_the_cli_checks_them(spa, db_url):
    client, _ = sign_in("mo@glow.test")
    for bad, reason in (("20-9", "expected 0 &lt;= START &lt; END &lt;= 24"), ("nine", "expected START-END hours")):
        _save(client, quiet_hours=bad, **{"fact:parking:en": "changed"})
        assert reason in client.get("/settings").get_data(as_text=True)
    _save(client, quiet_hours="10-19", **{"fact:parking:en": "Street parking only"})
    with session_scope(db_url) as session:
        practice = session.get(Practice, spa["practice_id"])
        assert (practice.quiet_start_hour, practice.quiet_end_hour) == (10, 19)
        assert practice.facts["parking"] == "Street parking only"  # the refused saves changed nothing
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "settings_changed")).all()
        assert [e.detail["after"]["quiet_hours"] for e in events] == [[10, 19]]


def test_front_desk_may_not_change_settings(spa, db_url):
    add_staff(db_url, spa["practice_id"], email="fran@glow.test", role="front_desk")
    client, _ = sign_in("fran@glow.test")
    assert client.get("/settings").status_code == 403
