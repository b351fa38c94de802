"""Segments computed in SQL: VIP from enough treatments (configurable), new, lapsed; on the patient page and in
plan conditions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.errors import PlanError
from bot.growth import matrix, segments
from bot.touches import plans
from bot.touches.planner import plan_appointments
from store.db import session_scope
from store.models import Patient, Service, Touch
from tests import factories
from tests.helpers import add_staff, sign_in


def _seed(session, now):
    """Vera (three treatments), Nina (one, last week), Lou (two, 200 days ago), Ben (one booked, none had),
    Carl (a consultation only, marked VIP by the practice)."""
    practice = factories.practice(session)
    filler = factories.service(session, practice.id)
    consult = factories.service(session, practice.id, code="CONSULT", name="Consultation", category="consultation")
    people = {}
    for name, phone in (("Vera", "01"), ("Nina", "02"), ("Lou", "03"), ("Ben", "04"), ("Carl", "05")):
        people[name] = factories.patient(session, practice.id, first_name=name, phone=f"+151255501{phone}")
    for days in (30, 120, 250):
        factories.appointment(session, people["Vera"], filler, now - timedelta(days=days))
    factories.appointment(session, people["Nina"], filler, now - timedelta(days=7))
    for days in (200, 320):
        factories.appointment(session, people["Lou"], filler, now - timedelta(days=days))
    factories.appointment(session, people["Ben"], filler, now + timedelta(days=3), status="booked")
    factories.appointment(session, people["Carl"], consult, now - timedelta(days=10))
    people["Carl"].vip = True
    return practice, {name: p.id for name, p in people.items()}


def test_segments_follow_the_visits_and_the_thresholds(db_url, settings, clock):
    now = clock.now()
    with session_scope(db_url) as session:
        practice, ids = _seed(session, now)
        table = matrix.defaults()
        found = segments.standings(session, practice.id, table, now)
        by_name = {name: found[pid].segments for name, pid in ids.items()}
        assert by_name == {
            "Vera": {"vip"},
            "Nina": {"new"},
            "Lou": {"lapsed"},
            "Ben": {"new"},
            "Carl": {"vip", "new"},
        }
        assert found[ids["Vera"]].treatments == 3 and found[ids["Carl"]].treatments == 0
        assert found[ids["Ben"]].booked_ahead
        assert segments.counts(found) == {"vip": 2, "new": 3, "active": 0, "lapsed": 1}
        document = table.document
        document["segments"].update(vip_min_treatments=2, lapsed_after_days=365)
        stricter = matrix.save(session, practice.id, document, "cli")
        again = segments.standings(session, practice.id, stricter, now)
        assert again[ids["Lou"]].segments == {"vip"} and again[ids["Lou"]].primary == "vip"


def test_the_patient_page_shows_the_segments(db_url, settings, clock):
    with session_scope(db_url) as session:
        practice, ids = _seed(session, clock.now())
    add_staff(db_url, practice.id, name="Fran Desk", role="front_desk", email="fran@glow.test")
    client, _ = sign_in("fran@glow.test")
    page = client.get(f"/patients/{ids['Vera']}").get_data(as_text=True)
    assert 'data-segment="vip"' in page and "3 treatment(s)" in page
    assert 'data-segment="lapsed"' in client.get(f"/patients/{ids['Lou']}").get_data(as_text=True)
    listing = client.get("/offers/segments").get_data(as_text=True)
    assert 'data-segment="vip"><div class="stat-value">2<' in listing


def test_a_plan_step_may_name_segments(db_url, settings, clock, tmp_path):
    extra = tmp_path / "plans.toml"
    extra.write_text(
        """
[[plans.filler.steps]]
key = "vip_thanks"
offset = "2d"
purpose = "care"
when = { segment = ["vip"] }
text.en = "Hi {first_name}, thank you for being one of our regulars at {practice}."
"""
    )
    book = plans.load(extra)
    assert book.step("filler", "vip_thanks").segment == ("vip",)
    now = clock.now()
    with session_scope(db_url) as session:
        _practice, ids = _seed(session, now)
        filler = session.exec(select(Service).where(Service.code == "LIP-FILLER")).one()
        visits = {
            name: factories.appointment(
                session, session.get_one(Patient, ids[name]), filler, now - timedelta(hours=2)
            ).id
            for name in ("Vera", "Nina")
        }
        plan_appointments(session, list(visits.values()), now, book=book)
        planned = {
            name: {t.step for t in session.exec(select(Touch).where(Touch.appointment_id == visit))}
            for name, visit in visits.items()
        }
    assert "vip_thanks" in planned["Vera"] and "vip_thanks" not in planned["Nina"]
    bad = tmp_path / "bad.toml"
    bad.write_text(extra.read_text().replace('["vip"]', '["gold"]'))
    with pytest.raises(PlanError, match="when.segment"):
        plans.load(bad)
