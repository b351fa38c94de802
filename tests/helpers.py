"""Plain functions and constants tests share: seeding a visit, texting in, running the worker, signing in.

Fixtures live in conftest.py; a test file imports from here (or factories.py, twilio_payloads.py),
never from another test file.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from sqlmodel import select
from werkzeug.security import generate_password_hash

from app import create_app
from bot import runtime
from bot.conversation.open_hours import SPANISH_DAYS, duration_words
from bot.growth import matrix
from bot.growth.offers import PRICE_WORD, phrase, price_text
from bot.intake.schema import CSV_FIELDS
from bot.messaging.transport import transport
from bot.queue import get_queue, redis_connection
from bot.touches import composer, dispatch, plans
from handlers import question, rebook, referral
from store.db import session_scope
from store.models import Appointment, Location, Message, Patient, Practice, Provider, Service, StaffUser, Touch
from tests import factories
from tests.twilio_payloads import load, post_signed

NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
"""The frozen clock's present: Monday 2026-11-23 16:00 UTC (10:00 in Chicago); the demo is seeded at it."""

TWILIO_TOKEN = "test-auth-token"
HMAC_SECRET = "test-appointments-secret"
API_TOKEN = "test-api-token"
SECRET_KEY = "test-secret-key"

PRACTICE_NUMBER = "+15125550100"
"""The practice's SMS number (the Austin location's): patients text it, touches come from it."""

PATIENT = "+15125550143"
"""Ana's phone, a Texas (512) number: the patient of most tests."""

STAFF_PASSWORD = "pw-123456"
"""The password of staff users tests sign in as."""

APPOINTMENT = {
    "external_id": "A-1001",
    "status": "completed",
    "start": "2026-11-20T15:00:00-06:00",
    "end": "2026-11-20T15:30:00-06:00",
    "service": {"code": "BOTOX-FOREHEAD", "name": "Botox forehead", "category": "neuromodulator"},
    "provider": {"external_id": "P-7", "name": "Dr. Lee"},
    "location": {"external_id": "L-1", "timezone": "America/Chicago"},
    "price": 450.00,
    "patient": {
        "external_id": "C-88",
        "first_name": "Ana",
        "last_name": "Ruiz",
        "phone": PATIENT,
        "email": None,
        "birthday": "1990-04-02",
        "language": "es",
        "consent": {
            "care_sms": True,
            "marketing_sms": False,
            "source": "intake form",
            "at": "2026-11-20T14:50:00-06:00",
        },
    },
    "referral_code": None,
}
"""A practice system's appointment as POST /api/appointments takes it (deep-copy before changing it)."""


CSV_ROW = {
    "external_id": "A-1",
    "status": "completed",
    "start": "2026-11-20T15:00:00-06:00",
    "end": "2026-11-20T15:30:00-06:00",
    "service_code": "BOTOX-FOREHEAD",
    "service_name": "Botox forehead",
    "service_category": "neuromodulator",
    "provider_external_id": "P-7",
    "provider_name": "Dr. Lee",
    "location_external_id": "L-1",
    "location_timezone": "America/Chicago",
    "price": "450",
    "patient_external_id": "C-1",
    "patient_first_name": "Ana",
    "patient_last_name": "Ruiz",
    "patient_phone": "(512) 555-0143",
    "patient_email": "",
    "patient_birthday": "1990-04-02",
    "patient_language": "es",
    "consent_care_sms": "yes",
    "consent_marketing_sms": "no",
    "consent_source": "intake form",
    "consent_at": "2026-11-20T14:50:00-06:00",
    "referral_code": "",
}
"""One good row of `aftercare import appointments` (copy it with changes: {**CSV_ROW, ...})."""


def write_csv(path, rows, fieldnames=CSV_FIELDS, encoding="utf-8"):
    """Rows as a CSV file, as a practice system exports them."""
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return path


# ------------------------------------------------------------------ rows


HOURS = {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
"""A provider's working hours: Monday to Friday, 9 to 5."""


def chicago_utc(y, m, d, hh, mm=0):
    """A Chicago wall time in November/December (CST, UTC-6) as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) + timedelta(hours=6)


def seed_visit(
    db_url: str,
    *,
    category="neuromodulator",
    area=None,
    phone=PATIENT,
    care=True,
    marketing=False,
    tz="America/Chicago",
    state=None,
    language="en",
    email=None,
    start=None,
    status="completed",
    practice_id=None,
    patient_id=None,
    service_name="Botox forehead",
) -> dict:
    """One practice, location, provider, service, patient and appointment (reused when ids are given)."""
    start = start or datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    with session_scope(db_url) as session:
        if practice_id is None:
            practice = Practice(
                name="Glow Med Spa",
                slug=f"glow-{phone[-4:]}",
                timezone=tz,
                phone="(512) 555-0100",
                review_url="https://g.page/glow/review",
                facts={"sender_name": "Maya"},
            )
            session.add(practice)
            session.flush()
            practice_id = practice.id
        location = session.exec(select(Location).where(Location.practice_id == practice_id)).first()
        if location is None:
            location = Location(practice_id=practice_id, name="Main", timezone=tz, sms_number=PRACTICE_NUMBER)
            provider = Provider(practice_id=practice_id, name="Dr. Lee")
            session.add_all([location, provider])
            session.flush()
        provider = session.exec(select(Provider).where(Provider.practice_id == practice_id)).first()
        service = session.exec(
            select(Service).where(
                Service.practice_id == practice_id, Service.category == category, Service.area == area
            )
        ).first()
        if service is None:
            service = Service(
                practice_id=practice_id, code=f"{category}-{area}", name=service_name, category=category, area=area
            )
            session.add(service)
            session.flush()
        if patient_id is None:
            patient = Patient(
                practice_id=practice_id,
                phone=phone,
                first_name="Ana",
                language=language,
                state=state,
                email=email,
                care_sms=care,
                marketing_sms=marketing,
            )
            session.add(patient)
            session.flush()
            patient_id = patient.id
        appointment = Appointment(
            practice_id=practice_id,
            patient_id=patient_id,
            service_id=service.id,
            provider_id=provider.id,
            location_id=location.id,
            status=status,
            start_at=start,
            end_at=start + timedelta(minutes=30),
        )
        session.add(appointment)
        session.flush()
        return {
            "practice_id": practice_id,
            "patient_id": patient_id,
            "appointment_id": appointment.id,
            "location_id": location.id,
            "service_id": service.id,
        }


def add_touch(
    db_url: str,
    ids: dict,
    *,
    plan="neuromodulator",
    step="checkin",
    purpose="care",
    marketing=False,
    due_at=None,
    status="scheduled",
) -> int:
    """A touch row due at `due_at` (a plan's step, without planning the whole visit)."""
    with session_scope(db_url) as session:
        touch = Touch(
            practice_id=ids["practice_id"],
            patient_id=ids["patient_id"],
            appointment_id=ids["appointment_id"],
            plan=plan,
            step=step,
            purpose=purpose,
            marketing=marketing,
            due_at=due_at or runtime.clock().now(),
            status=status,
        )
        session.add(touch)
        session.flush()
        return touch.id


def seed_patient(db_url, clock, **fields) -> int:
    """Ana (fields changed by keyword) seen two days ago for filler, with a rebook touch due in five months."""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        patient = factories.patient(session, practice.id, **fields)
        service = factories.service(session, practice.id)
        factories.appointment(session, patient, service, clock.now() - timedelta(days=2))
        session.add(
            Touch(
                practice_id=practice.id,
                patient_id=patient.id,
                plan="filler",
                step="rebook",
                purpose="rebook",
                due_at=clock.now() + timedelta(days=150),
            )
        )
        return patient.id


def outbound_message(db_url, sid, status="sent", patient_id=None) -> int:
    """A touch text from the practice to Ana that Twilio accepted as `sid` (for status callbacks)."""
    with session_scope(db_url) as session:
        message = Message(
            direction="out",
            kind="touch",
            from_number="+15125550100",
            to_number="+15125550143",
            body="Hi Ana",
            twilio_sid=sid,
            status=status,
            patient_id=patient_id,
        )
        session.add(message)
        session.flush()
        return message.id


def touch_row(db_url: str, touch_id: int) -> Touch:
    with session_scope(db_url) as session:
        return session.get(Touch, touch_id)


# ------------------------------------------------------------------ the worker


def run_worker(settings) -> None:
    """Run every queued touch job in this process (RQ's SimpleWorker, burst mode)."""
    SimpleWorker([get_queue("touches", settings)], connection=redis_connection(settings)).work(burst=True)


def dispatch_all(settings, rounds: int = 1) -> None:
    """The dispatcher's tick, then the touch jobs it queued, `rounds` times."""
    for _ in range(rounds):
        dispatch.tick()
        run_worker(settings)


def work() -> None:
    """What the worker would do now: process the texts that came in and send what they call for."""
    connection = redis_connection(runtime.settings())
    queues = [Queue(name, connection=connection) for name in ("inbound", "alerts")]
    SimpleWorker(queues, connection=connection).work(burst=True)


# ------------------------------------------------------------------ texts


_sids = count(1)


def next_sid() -> str:
    """A MessageSid no other text in this run has."""
    return f"SM{next(_sids):032d}"


def text_in(body: str, from_: str = PATIENT, to: str | None = None) -> None:
    """The patient (or a staff phone) texts the practice (`to`: another of its numbers than Austin's):
    signed webhook, then the worker's queues."""
    sid = next_sid()
    extra = {"To": to} if to else {}
    params = load("inbound_basic", Body=body, From=from_, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, **extra)
    client = create_app(runtime.settings()).test_client()
    response = post_signed(client, "/sms/inbound", params, TWILIO_TOKEN)
    assert response.status_code == 200
    # As Twilio does: a <Message> in the TwiML answer goes out to the sender.
    for answer in ET.fromstring(response.get_data()).iter("Message"):
        transport().client.messages.create(to=from_, from_=params["To"], body=answer.text)
    work()


def sent_to(fake, number: str) -> list[str]:
    """The bodies the fake Twilio was asked to send to `number`, oldest first."""
    return [m["body"] for m in fake.messages if m["to"] == number]


def post_appointment(client, payload, secret=HMAC_SECRET, raw=None):
    """POST an appointment (or `raw` bytes) to /api/appointments, signed with `secret` as a practice system would."""
    body = raw if raw is not None else json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/appointments", data=body, content_type="application/json", headers={"X-Aftercare-Signature": signature}
    )


# ------------------------------------------------------------------ staff


def csrf_token(page: str) -> str:
    """The CSRF token a dashboard page carries in its forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def add_staff(db_url: str, practice_id: int, *, email: str, password: str = STAFF_PASSWORD, **fields) -> int:
    """A staff user who can sign in with `password` (role, name and phone by keyword)."""
    with session_scope(db_url) as session:
        staff = StaffUser(
            practice_id=practice_id,
            email=email,
            password_hash=generate_password_hash(password, method="pbkdf2"),
            **{"name": "Fran Desk", "role": "front_desk", **fields},
        )
        session.add(staff)
        session.flush()
        return staff.id


def set_password(db_url: str, staff_id: int, password: str = STAFF_PASSWORD) -> None:
    """Let an existing staff user sign in with `password`."""
    with session_scope(db_url) as session:
        session.get(StaffUser, staff_id).password_hash = generate_password_hash(password, method="pbkdf2")


def patients_by_location(db_url: str) -> dict[int, tuple[str, set[str]]]:
    """Each named patient's full name and the locations (by external id) they belong to, worked out from the
    rows: where they had a visit, and whose number they texted or were texted from."""
    with session_scope(db_url) as db:
        places = {loc.external_id: loc for loc in db.exec(select(Location))}
        db.expunge_all()
    by_id = {loc.id: ext for ext, loc in places.items()}
    by_number = {loc.sms_number: ext for ext, loc in places.items() if loc.sms_number}
    where: dict[int, set[str]] = defaultdict(set)
    with session_scope(db_url) as db:
        for visit in db.exec(select(Appointment)):
            if visit.location_id:
                where[visit.patient_id].add(by_id[visit.location_id])
        for text in db.exec(select(Message).where(Message.patient_id != None)):  # noqa: E711
            for number in (text.to_number, text.from_number):
                if number in by_number:
                    where[text.patient_id].add(by_number[number])
        return {
            p.id: (f"{p.first_name} {p.last_name}", where[p.id])
            for p in db.exec(select(Patient))
            if p.first_name and p.last_name
        }


def sign_in(email: str, password: str = STAFF_PASSWORD):
    """A test client of the app signed in to the dashboard, and its session's CSRF token."""
    client = create_app(runtime.settings()).test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, f"{email} could not sign in"
    return client, token


def front_desk(db_url, practice_id):
    """A signed-in front-desk client."""
    add_staff(db_url, practice_id, name="Fran Desk", role="front_desk", email="fran@glow.test")
    return sign_in("fran@glow.test")


def answer_request(client, token, db_url, answer):
    """The front desk answers the one requested visit (`confirm` or `decline`) on its patient's page."""
    with session_scope(db_url) as session:
        requested = session.exec(select(Appointment).where(Appointment.status == "requested")).one()
    page = client.get(f"/patients/{requested.patient_id}").get_data(as_text=True)
    assert f"/appointments/{requested.id}/{answer}" in page
    token = csrf_token(page)  # the signed-in session's token
    response = client.post(f"/appointments/{requested.id}/{answer}", data={"csrf_token": token})
    assert response.status_code == 302
    work()
    return requested.id, token


CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium, which the browser tests drive through Playwright (apt-get install chromium)."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
"""Headless flags: without the background-networking ones Chromium keeps dialling out of a closed network."""


def skip_without_chromium() -> None:
    """Called at the top of a browser test module: skips it where Chromium is missing, unless CI asks for it."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"REQUIRE_BROWSER is set but {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(
        f"{CHROMIUM} is not installed (apt-get install chromium); CI sets REQUIRE_BROWSER=1", allow_module_level=True
    )


def step_services(session, practice_id: int, plan, step) -> list:
    """The practice's services a plan step can be sent about: a category plan's own category, the upcoming
    plan's step's categories, each narrowed by the step's area and VIP conditions; the plans that follow
    any visit (everyone, missed, birthday, deferred, referral, offers, welcome) any service. A step whose
    conditions no service of the practice meets (a filler area it does not list) is measured with all of
    its plan's services."""
    services = session.exec(select(Service).where(Service.practice_id == practice_id)).all()
    vip, groups = bool(step.vip), frozenset(step.segment or ())
    if plan.name not in (plans.EVERYONE, plans.MISSED, *plans.SPECIAL):
        own = [s for s in services if s.category == plan.name]
        return [s for s in own if step.applies_to(s.area, vip, None, groups)] or own
    if plan.name == plans.UPCOMING:
        return [s for s in services if step.applies_to(s.area, vip, s.category, groups)]
    return [s for s in services if step.applies_to(s.area, vip, None, groups)]


def step_offers(session, practice_id: int, step) -> list:
    """The items of the practice's matrix an offers-plan step can offer (bot.growth.offers.choose): add-ons
    before and at a booking, retail after a visit, the package at rebooking, a follow-up service after
    results, from the history or a staff pick, the referral, reactivation and goal offers at theirs."""
    table = matrix.current(session, practice_id)
    moment = step.key.removesuffix("_b")
    rows = {
        "pre_visit": lambda e: e.add_ons,
        "at_booking": lambda e: e.add_ons,
        "visit_summary": lambda e: e.retail,
        "rebooking": lambda e: [e.package] if e.package else [],
        "after_results": lambda e: e.follow_up,
        "history": lambda e: e.follow_up,
        "staff_pick": lambda e: e.follow_up,
    }
    if moment in rows:
        return [item for entry in table.entries for item in rows[moment](entry)]
    if moment == "referral":
        return [table.offer_item("referral", "offer")]
    if moment in ("reactivation_vip", "reactivation_new"):
        return [table.offer_item("reactivation", "vip_offer" if moment == "reactivation_vip" else "new_offer")]
    if moment == "goal_change":
        return list(table.settings["goals"].values())
    return table.items()


def price_words(price, language: str) -> str:
    """{offer_for_price} for an item's price ("" when it has none), as bot.growth.offers.placeholders words it."""
    return f" {PRICE_WORD.get(language, 'for')} {price_text(price)}" if price else ""


def longest_placeholders(
    session, practice_id: int, language: str, services: list | None = None, offers: list | None = None
) -> dict:
    """Every placeholder a text may use, each at the longest value it takes at this practice in `language`:
    its longest first name, service name (of `services` when given: a plan step's own, see
    `step_services`; else of any service) and that service's area, provider, each location's lines, the
    longest day and time a visit can be written as in a year, three such offered times, the longest fact
    answer and offer (with its price) among `offers` when given (an offer step's own, see `step_offers`; else
    every item of the practice's matrix), in `language`'s words."""

    def longest(values):
        values = [v for v in values if v]
        return max(values, key=lambda v: (len(v), not v.isascii())) if values else ""

    practice = session.get_one(Practice, practice_id)
    patients = session.exec(select(Patient).where(Patient.practice_id == practice_id)).all()
    patient = max(patients, key=lambda p: len(p.first_name or ""))
    if services is None:
        services = session.exec(select(Service).where(Service.practice_id == practice_id)).all()
        services = [max(services, key=lambda s: len(composer.service_name(s, language) or ""))]
    providers = session.exec(select(Provider).where(Provider.practice_id == practice_id)).all()
    provider = max(providers, key=lambda p: len(p.name))
    locations = session.exec(select(Location).where(Location.practice_id == practice_id)).all()
    contexts = [
        composer.context_for(practice, patient, service, provider, language, location)
        for service in services or [None]
        for location in [None, *locations]
    ]
    values = {key: longest(c[key] for c in contexts) for key in contexts[0]}
    start = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    year = [start + timedelta(days=n) for n in range(365)]
    tz = practice.timezone
    values["visit_time"] = values["slot"] = longest(composer.visit_time(d, tz, language) for d in year)
    times = sorted(
        year, key=lambda d: (len(rebook.describe(d, tz, language)), not rebook.describe(d, tz, language).isascii())
    )[-3:]
    values["options"] = rebook.listing([(d, provider.name) for d in times], tz, language)
    values["with_provider"] = provider.name
    day_words = [values["visit_time"].removeprefix("el ")]
    values["when"] = longest(day_words)
    values["code"] = referral.ensure_code(session, patient, practice)
    facts = practice.facts or {}
    values["reward"] = question.fact_text(facts, "referral_reward", language, None) or referral.REWARD[language]
    policy = question.fact_text(facts, "cancellation_policy", language, None)
    label = "Nuestra política de cancelación" if language == "es" else "Our cancellation policy"
    values["policy"] = f" {label}: {policy.strip()}" if policy else ""
    values["hours"] = longest(question.fact_text(facts, "hours", language, loc) for loc in [None, *locations])
    values["callback"] = longest(duration_words(m, language) for m in (15, 45, 60, 90, 120))
    if language == "es":
        values["reopens"] = longest(f"las 10:00 del {day}" for day in SPANISH_DAYS)
    else:
        values["reopens"] = longest(f"10:00 AM on {day}" for day in composer.DAYS["en"])
    values["answer"] = longest(
        question.answer_text(topic, question.fact_text(facts, topic, language, loc), language)
        for topic in question.LEAD
        for loc in [None, *locations]
    )
    items = offers if offers is not None else matrix.current(session, practice_id).items()
    values["offer"] = longest(phrase(item.label(language)) for item in items)
    values["offer_for_price"] = longest(price_words(item.price, language) for item in items)
    return values
