"""The demo practice: believable, complete enough to show every feature, and seeded only once."""

from __future__ import annotations

import re
from datetime import timedelta

import phonenumbers
from sqlmodel import select
from werkzeug.security import check_password_hash

from bot.clock import to_utc
from bot.demo import calendar
from bot.demo.seed import CHECKER_PHONE, DEMO_PASSWORD, MANAGER_EMAIL, MIAMI, SERVICES, seed_demo
from bot.messaging import segments
from bot.touches import composer, plans
from store.db import session_scope
from store.models import (
    Appointment,
    Escalation,
    Location,
    Message,
    Patient,
    Practice,
    Provider,
    Service,
    StaffUser,
    Touch,
)


def test_seed_is_believable_and_follows_the_sending_rules(settings, demo_practice, clock):
    # One test, several checks: seeding replays eight months and takes seconds.
    check_practice(settings.database_url)
    check_patients(settings.database_url, clock.now())
    check_history(settings.database_url, clock.now())
    check_sending_rules(settings.database_url)
    check_spanish_names_and_location_phones(settings.database_url)


def _all(db_url, model):
    with session_scope(db_url) as session:
        return session.exec(select(model)).all()


def check_practice(url):
    [practice] = _all(url, Practice)
    assert practice.name == "Glow Aesthetics Med Spa"
    assert practice.emergency_line and practice.review_url and practice.facts["hours"]
    locations = {loc.sms_number: loc for loc in _all(url, Location)}
    assert locations["+15125550100"].timezone == "America/Chicago"
    assert locations["+13055550100"].timezone == "America/New_York"
    assert locations["+13055550100"].phone.startswith("+1305") and locations["+15125550100"].phone.startswith("+1512")

    providers = _all(url, Provider)
    assert len(providers) >= 4 and all(p.working_hours for p in providers)
    titles = " ".join(p.title or "" for p in providers)
    for kind in ("MD", "NP", "PA", "Aesthetician", "Laser"):
        assert kind in titles

    staff = _all(url, StaffUser)
    assert {"injector", "nurse", "front_desk", "manager"} <= {s.role for s in staff}
    assert any(s.on_call for s in staff) and any(s.backup for s in staff)
    assert all(s.phone and s.email and check_password_hash(s.password_hash, DEMO_PASSWORD) for s in staff)
    assert any(s.email == MANAGER_EMAIL and s.role == "manager" for s in staff)

    services = _all(url, Service)
    assert {
        "neuromodulator",
        "filler",
        "facial",
        "peel",
        "microneedling",
        "laser_resurfacing",
        "ipl",
        "laser_hair_removal",
        "body_contouring",
        "prp",
    } <= {s.category for s in services}
    assert {"lips", "cheeks", "jawline", "under_eyes"} <= {s.area for s in services if s.category == "filler"}
    assert {"Botox", "Dysport", "Xeomin", "HydraFacial", "CoolSculpting"} <= {
        word for s in services for word in s.name.replace(",", " ").split()
    }
    assert all(s.duration_min >= 15 and s.price is not None for s in services)
    assert all(s.name_es and s.name_es != s.name for s in services)


def _texting(rows):
    """Leave out the full calendar's clients and visits (bot/demo/calendar.py, tests/test_demo_calendar.py)."""
    return [row for row in rows if not (row.external_id or "").startswith(calendar.PREFIX)]


def check_patients(url, now):
    patients = _texting(_all(url, Patient))
    assert 45 <= len(patients) <= 60
    spanish = [p for p in patients if p.language == "es"]
    assert len(patients) / 4 <= len(spanish) <= len(patients) / 2
    assert {"Valeria", "Camila", "Carolina"} <= {p.first_name for p in spanish}
    for patient in patients:
        assert phonenumbers.is_valid_number(phonenumbers.parse(patient.phone)), patient.phone
    assert len({p.phone for p in patients}) == len(patients)
    assert any(p.phone == CHECKER_PHONE for p in patients)
    assert sum(1 for p in patients if p.birthday) >= len(patients) // 2
    upcoming = {(now.date() + timedelta(days=d)).strftime("%m-%d") for d in range(31)}
    assert any(p.birthday and p.birthday.strftime("%m-%d") in upcoming for p in patients), "birthdays come up soon"

    reachable = [p for p in patients if p.opted_out_at is None]
    assert all(p.care_sms and p.care_sms_source and p.care_sms_at for p in reachable)
    marketing = [p for p in reachable if p.marketing_sms]
    assert len(reachable) / 2 < len(marketing) < len(reachable)
    assert all(p.marketing_sms_source and p.marketing_sms_at for p in marketing)
    assert any(p.opted_out_at for p in patients)


def check_history(url, now):
    visits = _texting(_all(url, Appointment))
    statuses = [a.status for a in visits]
    assert statuses.count("completed") >= 80
    assert statuses.count("booked") >= 3 and "no_show" in statuses and "cancelled" in statuses
    assert all(to_utc(a.start_at) > now for a in visits if a.status == "booked")
    completed = [to_utc(a.start_at) for a in visits if a.status == "completed"]
    assert min(completed) >= now - timedelta(days=250) and max(completed) < now
    assert all(a.source in ("seed", "bot", "staff") and a.provider_id and a.location_id for a in visits)
    assert any(a.source == "bot" for a in visits)  # bot/demo/history.py: some were booked by text

    touches = _all(url, Touch)
    assert any(t.status == "scheduled" and to_utc(t.due_at) > now for t in touches), "the future is planned"
    assert any(t.status == "sent" for t in touches) and any(t.status == "suppressed" for t in touches)
    messages = _all(url, Message)
    assert any(m.direction == "in" for m in messages) and any(m.kind == "touch" for m in messages)
    assert any(e.status == "open" for e in _all(url, Escalation))


def check_sending_rules(url):
    patients = {p.id: p for p in _all(url, Patient)}
    for touch in _all(url, Touch):
        if touch.status != "sent":
            continue
        patient = patients[touch.patient_id]
        if touch.marketing:
            assert patient.marketing_sms or patient.opted_out_at, "no marketing without consent"
        if patient.opted_out_at:
            assert to_utc(touch.sent_at) < to_utc(patient.opted_out_at), "nothing after an opt-out"


def check_spanish_names_and_location_phones(url):
    book = plans.load()
    with session_scope(url) as session:
        rows = session.exec(
            select(Touch, Message, Patient, Service, Location)
            .join(Message, Message.id == Touch.message_id)
            .join(Patient, Patient.id == Touch.patient_id)
            .join(Appointment, Appointment.id == Touch.appointment_id)
            .join(Service, Service.id == Appointment.service_id)
            .join(Location, Location.id == Appointment.location_id)
        ).all()
    named = called = 0
    for touch, message, patient, service, location in rows:
        step = book.step(touch.plan, touch.step)
        if patient.language == "es" and "{treatment}" in step.template("es"):
            # as written when the text keeps its accents, folded when it goes GSM-7
            name = service.name_es if message.encoding == "UCS-2" else segments.normalize(service.name_es)
            assert name in message.body, message.body
            named += 1
        # Every number a Miami patient's text gives is Miami's own: its phone or its emergency line.
        numbers = set(re.findall(r"\(\d{3}\) \d{3}-\d{4}", message.body))
        if location.phone == MIAMI["phone"] and numbers:
            assert numbers <= {composer.display_phone(MIAMI[key]) for key in ("phone", "emergency_line")}, message.body
            called += 1
    assert named >= 10 and called >= 3


def test_demo_services_fit_every_text_in_two_segments_in_both_languages():
    book = plans.load()
    for code, name, name_es, category, _minutes, _price, area in SERVICES:
        service = Service(practice_id=1, code=code, name=name, name_es=name_es, category=category, area=area)
        for language in ("en", "es"):
            real = composer.context_for(None, None, service, None, language)
            assert len(real["treatment"]) <= len(composer.SAMPLE_LONG["treatment"]), real["treatment"]
            assert len(real["area"]) <= len(composer.SAMPLE_LONG["area"]), real["area"]
            context = {**composer.SAMPLE_LONG, "treatment": real["treatment"], "area": real["area"]}
            for plan in book.plans.values():
                for step in plan.steps:
                    rendered = composer.render(step.template(language), context)
                    # English is GSM-7; Spanish keeps its accents (UCS-2) when they fit, else goes folded
                    assert rendered.segments <= composer.MAX_SEGMENTS, (code, plan.name, step.key, language)
                    assert rendered.encoding == "GSM-7" or (language == "es" and not rendered.folded), (
                        code,
                        plan.name,
                        step.key,
                        language,
                    )


def test_seeding_twice_adds_nothing(settings, demo_practice, clock):
    url = settings.database_url
    before = {model.__name__: len(_all(url, model)) for model in (Practice, Patient, Appointment, Touch, Message)}
    again = seed_demo(url, now=clock.now() + timedelta(days=1))
    assert again == {"created": False, "practice_id": demo_practice["practice_id"]}
    after = {model.__name__: len(_all(url, model)) for model in (Practice, Patient, Appointment, Touch, Message)}
    assert after == before


def test_the_demo_manager_signs_in_with_the_demo_password_and_sees_the_practice(manager):
    client, _token = manager
    page = client.get("/")
    assert page.status_code == 200
    assert "Glow Aesthetics Med Spa" in page.get_data(as_text=True)
