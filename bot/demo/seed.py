"""Seeding the demo practice (its data in bot/demo/practice.py): eight months of patients, replayed.

Appointments go in through `bot.intake.schema.validate` and `bot.intake.upsert.upsert`, exactly as a
practice system's webhook would send them, so the planner runs as in production.
The data is fictional: 555-01xx numbers, example.com addresses.
"""

from __future__ import annotations

import logging
import random
import secrets
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from werkzeug.security import generate_password_hash

from bot import runtime
from bot.clock import FrozenClock, to_utc
from bot.consent.opt_out import opt_out
from bot.conversation import care_signoff
from bot.demo.calendar import fill_calendar
from bot.demo.history import add_history
from bot.demo.practice import (
    ADMIN_EMAIL,
    AUSTIN,
    CHECKER_PHONE,
    CONVERSATIONS,
    COSTS,
    DEMO_PASSWORD,
    DIRECTOR_EMAIL,
    FACTS,
    HAPPY_REPLIES,
    LOCATIONS,
    MANAGER_EMAIL,
    MARKETING_SOURCES,
    MIAMI,
    MIAMI_DESK_EMAIL,
    OPTED_OUT,
    PATIENTS,
    PRACTICE_SLUG,
    PROVIDERS,
    ROUTINES,
    SERVICES,
    STAFF,
    STAFF_LOCATIONS,
)
from bot.demo.seed_staffing import seed_past_pages, seed_roster
from bot.intake.schema import validate
from bot.intake.upsert import upsert
from bot.touches import composer, sending_rules
from bot.touches.plans import plans_for
from bot.vocabulary import KeywordConfirmer
from store.db import session_scope
from store.models import (
    Appointment,
    ConversationState,
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

log = logging.getLogger(__name__)

__all__ = [
    "ADMIN_EMAIL",
    "CHECKER_PHONE",
    "DEMO_PASSWORD",
    "DIRECTOR_EMAIL",
    "MANAGER_EMAIL",
    "MIAMI",
    "MIAMI_DESK_EMAIL",
    "SERVICES",
    "seed_demo",
]
"""seed_demo, and the demo's sign-in and numbers, still importable from here (run.py and the tests use them)."""

SIGNED_OFF_BEFORE = timedelta(days=21)
"""How long before the demo's now its medical director signed off the aftercare texts."""


def seed_demo(db_url: str, now: datetime | None = None) -> dict:
    """Create the demo practice once; returns what was made ({"created": False} when it exists).

    The history is replayed in time order: each appointment is booked, then completed (or missed),
    at the moment it happened, and each planned touch meets the sending rules on its due date, so
    the touches, texts and numbers are what eight months of running Aftercare would have left.

    Arguments:
        db_url: a migrated database.
        now: the demo's present (default: the runtime clock); history is laid out before it.
    """
    now = to_utc(now or runtime.clock().now())
    with session_scope(db_url) as session:
        existing = session.exec(select(Practice).where(Practice.slug == PRACTICE_SLUG)).first()
        if existing is not None:
            return {"created": False, "practice_id": existing.id}
        practice = _practice(session, now)
        practice_id = practice.id
        _sign_care_texts(session, practice, now - SIGNED_OFF_BEFORE)

    rng = random.Random(20261123)
    events = _timeline(_visit_plan(rng, now), now)
    with session_scope(db_url) as session:
        for at, _order, kind, data in events:
            _settle_touches(session, practice_id, at, rng)
            with _clock_at(at):
                if kind == "appointment":
                    upsert(session, validate(data), source="seed")
                else:
                    _opt_out_by_text(session, practice_id, data, at)
        _settle_touches(session, practice_id, now, rng)
    with session_scope(db_url) as session:
        _patient_details(session, practice_id)
        _conversations(session, practice_id, now)
        add_history(session, practice_id, now)  # the numbers' months: channels, past escalations, corrections
        fill_calendar(session, practice_id, now)  # the practice system's other clients: Operations' occupancy
        seed_roster(session, practice_id)
        seed_past_pages(session, practice_id, now)
        summary = _summary(session, practice_id)
    log.info("seeded %s: %s", PRACTICE_SLUG, summary)
    return {"created": True, "practice_id": practice_id, **summary}


def _sign_care_texts(session, practice: Practice, at: datetime) -> None:
    """The medical director signs off the aftercare texts as shipped, so the demo's care replies go."""
    director = session.exec(
        select(StaffUser).where(StaffUser.practice_id == practice.id, StaffUser.email == DIRECTOR_EMAIL)
    ).one()
    care_signoff.sign(session, runtime.settings().care_texts_file, practice, director, at)


@contextmanager
def _clock_at(moment: datetime):
    """Run ingestion as if at `moment` (planning, record times), then put the real clock back."""
    settings, previous = runtime.settings(), runtime.clock()
    runtime.configure(settings, FrozenClock(moment))
    try:
        yield
    finally:
        runtime.configure(settings, previous)


def _timeline(visits: list[tuple[dict, datetime]], now: datetime) -> list[tuple]:
    """Every booking, status change and opt-out as (at, order, kind, data), oldest first."""
    events: list[tuple] = []
    for payload, booked_at in visits:
        start = to_utc(datetime.fromisoformat(payload["start"]))
        end = to_utc(datetime.fromisoformat(payload["end"]))
        events.append((booked_at, 0, "appointment", {**payload, "status": "booked"}))
        changed_at = {
            "completed": end + timedelta(minutes=20),
            "no_show": start + timedelta(hours=1),
            "cancelled": start - timedelta(days=1),
        }.get(payload["status"])
        if changed_at is not None:
            events.append((min(changed_at, now), 1, "appointment", payload))
    events.append((now - timedelta(days=58, hours=5), 2, "opt_out", OPTED_OUT))
    events.sort(key=lambda event: (event[0], event[1]))
    return events


def _settle_touches(session, practice_id: int, until: datetime, rng: random.Random) -> None:
    """Decide every touch due by `until` at its due time, with the dispatcher's own rules."""
    for _ in range(20):  # deferrals (quiet hours, caps) move a touch later; a few rounds settle them
        due = session.exec(
            select(Touch)
            .where(Touch.practice_id == practice_id, Touch.status == "scheduled", col(Touch.due_at) <= until)
            .order_by(col(Touch.due_at), col(Touch.id))
        ).all()
        if not due:
            return
        for touch in due:
            at = to_utc(touch.due_at)
            facts = sending_rules.load_facts(session, touch, at)
            verdict = sending_rules.decide(touch, facts, at)
            if verdict.action == sending_rules.DEFER:
                touch.deferrals += 1
                touch.due_at, touch.reason = verdict.due_at, verdict.reason
            elif verdict.action != sending_rules.SEND:
                touch.status, touch.reason = sending_rules.STATUS_FOR[verdict.action], verdict.reason
            else:
                _send_in_the_past(session, touch, facts, at + timedelta(seconds=rng.randint(5, 240)), rng)
            touch.updated_at = at
            session.add(touch)
        session.flush()


def _send_in_the_past(session, touch: Touch, facts, at: datetime, rng: random.Random) -> None:
    step = plans_for(runtime.settings()).step(touch.plan, touch.step)
    touch.status, touch.reason, touch.sent_at = "sent", None, at
    if step is None:
        return
    patient = facts.patient
    language = patient.language if patient.language in step.text else "en"
    if step.channel == "email" and patient.email:
        return  # an email long ago: nothing for the text thread
    rendered = composer.render(
        step.template(language),
        composer.context_for(
            facts.practice,
            patient,
            facts.service,
            facts.provider,
            language,
            facts.location,
            facts.appointment,
            facts.timezone,
        ),
    )
    sender = (facts.location.sms_number if facts.location else None) or facts.practice.phone
    message = _text_out(session, patient, sender, rendered.body, at, kind="touch", touch_id=touch.id)
    message.segments, message.encoding = rendered.segments, rendered.encoding
    touch.message_id, touch.body = message.id, rendered.body
    if touch.purpose == "care" and rng.random() < 0.3:
        # About a third of patients answer a check-in, usually to say all is well.
        text, answer = rng.choice(HAPPY_REPLIES[language])
        reply_at = at + timedelta(minutes=rng.randint(4, 180))
        confidence = round(0.8 + rng.random() * 0.18, 2)
        _text_in(
            session, patient, text, reply_at, _decision("positive_feedback", "thanks, no concern raised", confidence)
        )
        # Answered by the front desk: the assistant itself does not reply yet.
        _text_out(
            session,
            patient,
            sender,
            answer.format(first=patient.first_name),
            reply_at + timedelta(minutes=rng.randint(5, 40)),
            kind="staff",
            staff_user_id=_front_desk(session, patient.practice_id),
        )


def _practice(session, now: datetime) -> Practice:
    practice = Practice(
        name="Glow Aesthetics Med Spa",
        slug=PRACTICE_SLUG,
        timezone="America/Chicago",
        phone=AUSTIN["sms_number"],
        emergency_line="+15125550199",
        website="https://glowaesthetics.example",
        review_url="https://g.page/r/glow-aesthetics-austin/review",
        facts=FACTS,
        # The demo's fake Twilio does not answer STOP, START and HELP as Twilio's opt-out handling does,
        # so the demo practice sends its own confirmations and the simulator shows them.
        keyword_confirmations=KeywordConfirmer.AFTERCARE,
        created_at=now - timedelta(days=400),
    )
    session.add(practice)
    session.flush()
    locations = {}
    for spec in LOCATIONS:
        site = Location.model_validate({**spec, "practice_id": practice.id})
        session.add(site)
        session.flush()
        locations[spec["external_id"]] = site.id
    for external_id, name, title, location, hours, _ in PROVIDERS:
        session.add(
            Provider(
                practice_id=practice.id,
                location_id=locations[location],
                external_id=external_id,
                name=name,
                title=title,
                working_hours=hours,
            )
        )
    password = generate_password_hash(DEMO_PASSWORD)
    for name, role, phone, email, on_call, backup in STAFF:
        session.add(
            StaffUser(
                practice_id=practice.id,
                name=name,
                role=role,
                phone=phone,
                email=email,
                on_call=on_call,
                backup=backup,
                password_hash=password,
                location_ids=[locations[place] for place in STAFF_LOCATIONS.get(email, ())] or None,
                medical_director=email == DIRECTOR_EMAIL,
            )
        )
    for code, name, name_es, category, minutes, price, area in SERVICES:
        session.add(
            Service(
                practice_id=practice.id,
                code=code,
                name=name,
                name_es=name_es,
                category=category,
                duration_min=minutes,
                buffer_min=15 if minutes >= 60 else 10,
                price=Decimal(str(price)),
                area=area,
                product_cost=Decimal(COSTS[code][0]) if code in COSTS else None,
                supply_cost=Decimal(COSTS[code][1]) if code in COSTS else None,
            )
        )
    session.flush()
    return practice


def _phone(location: str, index: int) -> str:
    prefix = "+1512555" if location == "L-AUS" else "+1305555"
    return f"{prefix}{index:04d}"


def _providers_for(category: str, location: str) -> list[tuple[str, str, dict]]:
    return [(pid, name, hours) for pid, name, _, loc, hours, cats in PROVIDERS if loc == location and category in cats]


def _slot(rng: random.Random, day: date, hours: dict, tz: str, minutes: int) -> datetime | None:
    """A start time on `day` inside the provider's hours, on the half hour; None when not working."""
    window = hours.get(day.strftime("%a").lower())
    if not window:
        return None
    opens, closes = (time.fromisoformat(t) for t in window)
    last = closes.hour * 60 + closes.minute - minutes
    first = opens.hour * 60 + opens.minute
    start = first + 30 * rng.randint(0, max(0, (last - first) // 30))
    return datetime.combine(day, time(start // 60, start % 60), ZoneInfo(tz))


def _visit_plan(rng: random.Random, now: datetime) -> list[tuple[dict, datetime]]:
    """Appointment payloads in time order, each with when it was booked."""
    services = {row[0]: row[1:] for row in SERVICES}
    taken: set[tuple[str, datetime]] = set()
    planned: list[tuple[dict, datetime]] = []
    austin, miami = 101, 101
    for index, (first, last, language, location, routine, count, marketing, email) in enumerate(PATIENTS):
        if location == "L-AUS":
            number, austin = austin, austin + 1
            if number == 143:  # keep 0143 for Ana Ruiz, the checker's patient
                number, austin = austin, austin + 1
        else:
            number, miami = miami, miami + 1
        phone = CHECKER_PHONE if (first, last) == ("Ana", "Ruiz") else _phone(location, number)
        site = AUSTIN if location == "L-AUS" else MIAMI
        tz = site["timezone"]
        codes, every = ROUTINES[routine]
        # Most recent visit between 2 and 16 weeks ago; earlier ones spaced by the routine's rhythm.
        latest = 14 + rng.randint(0, 100) if (first, last) != ("Ana", "Ruiz") else 105
        days_ago = [latest + k * (every + rng.randint(-7, 10)) for k in range(count)][::-1]
        days_ago = [d for d in days_ago if d <= 240] or [latest]
        first_visit = now - timedelta(days=days_ago[0] + 22)  # consent came with the first booking
        consent = {
            "care_sms": True,
            "marketing_sms": marketing,
            "source": rng.choice(MARKETING_SOURCES) if marketing else "intake form, signed",
            "at": first_visit.isoformat(),
        }
        patient = {
            "external_id": f"C-{1001 + index}",
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "email": email,
            "language": language,
            "consent": consent,
            "birthday": _birthday(rng, now, index).isoformat(),
        }
        statuses = ["completed"] * len(days_ago)
        if index in (9, 27):  # two no-shows
            statuses[-1] = "no_show"
        if index == 16:
            statuses[-1] = "cancelled"
        visits = [(-d, status) for d, status in zip(days_ago, statuses)]
        if index % 7 == 3 or index in (2, 24, 35):  # a few already booked again
            visits.append((rng.randint(3, 20), "booked"))
        for k, (offset, status) in enumerate(visits):
            code = codes[k % len(codes)]
            name, name_es, category, minutes, price, area = services[code]
            options = _providers_for(category, location)
            provider_id, provider_name, hours = options[(index + k) % len(options)]
            start = None
            for shift in range(0, 14):
                day = (now + timedelta(days=offset + shift)).astimezone(ZoneInfo(tz)).date()
                candidate = _slot(rng, day, hours, tz, minutes)
                if (
                    candidate is not None
                    and (provider_id, candidate) not in taken
                    and (status == "booked" or to_utc(candidate) < now - timedelta(hours=2))
                ):
                    start = candidate
                    break
            if start is None:
                continue
            taken.add((provider_id, start))
            payload = {
                "external_id": f"A-{2000 + len(planned)}",
                "status": status,
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=minutes)).isoformat(),
                "service": {
                    "code": code,
                    "name": name,
                    "name_es": name_es,
                    "category": category,
                    **({"area": area} if area else {}),
                },
                "provider": {"external_id": provider_id, "name": provider_name},
                "location": {"external_id": location, "timezone": tz, "phone": site["phone"]},
                "price": float(price),
                "patient": patient,
                "referral_code": None,
            }
            booked_at = to_utc(start) - timedelta(days=rng.randint(3, 21))
            if status == "booked":
                booked_at = min(booked_at, now - timedelta(days=rng.randint(1, 4)))
            planned.append((payload, booked_at))
    planned.sort(key=lambda item: item[0]["start"])
    return planned


def _birthday(rng: random.Random, now: datetime, index: int) -> date:
    year = 1972 + rng.randint(0, 28)
    if index % 12 == 5:  # a few birthdays coming up this month
        soon = now.date() + timedelta(days=3 + index % 20)
        return date(year, soon.month, min(soon.day, 28))
    return date(year, rng.randint(1, 12), rng.randint(1, 28))


def _patient_details(session, practice_id: int) -> None:
    """What a practice system does not send: home state (for quiet hours), referral codes, VIPs."""
    locations = {loc.id: loc for loc in session.exec(select(Location).where(Location.practice_id == practice_id))}
    for patient in session.exec(select(Patient).where(Patient.practice_id == practice_id)):
        visit = session.exec(select(Appointment).where(Appointment.patient_id == patient.id)).first()
        if visit is not None and visit.location_id in locations:
            patient.state = locations[visit.location_id].state
        patient.referral_code = f"GLOW-{patient.first_name.upper()[:4]}{patient.id:03d}"
        patient.vip = patient.last_name in ("Nguyen", "Gonzalez", "Alvarez", "Mendez")
        session.add(patient)


def _sid() -> str:
    return "SM" + secrets.token_hex(16)


def _sender(session, patient: Patient) -> str:
    """The number the patient texts: their latest visit's location, else the practice's."""
    number = session.exec(
        select(Location.sms_number)
        .join(Appointment, col(Appointment.location_id) == Location.id)
        .where(Appointment.patient_id == patient.id)
        .order_by(col(Appointment.start_at).desc())
    ).first()
    return number or session.get(Practice, patient.practice_id).phone


def _front_desk(session, practice_id: int) -> int | None:
    return session.exec(
        select(StaffUser.id)
        .where(StaffUser.practice_id == practice_id, StaffUser.role == "front_desk")
        .order_by(col(StaffUser.id))
    ).first()


def _text_out(
    session,
    patient: Patient,
    sender: str,
    body: str,
    at: datetime,
    kind: str,
    touch_id: int | None = None,
    staff_user_id: int | None = None,
    decision: dict | None = None,
) -> Message:
    message = Message(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        direction="out",
        kind=kind,
        from_number=sender,
        to_number=patient.phone,
        body=body,
        twilio_sid=_sid(),
        status="delivered",
        segments=1 + len(body) // 154,
        encoding="GSM-7",
        touch_id=touch_id,
        staff_user_id=staff_user_id,
        decision=decision,
        created_at=at,
        sent_at=at,
        status_at=at,
    )
    session.add(message)
    session.flush()
    return message


def _decision(
    intent: str,
    rationale: str,
    confidence: float,
    actions: list[str] | None = None,
    *,
    urgency: str = "none",
    path: str = "local",
    guard: dict | None = None,
) -> dict:
    """A reply's decision as processing stores it (the guard's own reading first, when a guard decided)."""
    decision: dict = {"guard": guard} if guard is not None else {}
    return decision | {
        "intent": intent,
        "urgency": urgency,
        "path": path,
        "confidence": confidence,
        "rationale": rationale,
        "actions": actions or [],
    }


def _text_in(session, patient: Patient, body: str, at: datetime, decision: dict) -> Message:
    message = Message(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        direction="in",
        kind="inbound",
        from_number=patient.phone,
        to_number=_sender(session, patient),
        body=body,
        twilio_sid=_sid(),
        status="received",
        segments=1,
        decision=decision,
        processed_at=at,
        created_at=at,
    )
    session.add(message)
    session.flush()
    return message


def _by_name(session, practice_id: int, first: str, last: str | None = None) -> Patient:
    query = select(Patient).where(Patient.practice_id == practice_id, Patient.first_name == first)
    if last:
        query = query.where(Patient.last_name == last)
    return session.exec(query).first()


def _opt_out_by_text(session, practice_id: int, name: tuple[str, str], at: datetime) -> None:
    patient = _by_name(session, practice_id, *name)
    guard = {"intent": "opt_out", "urgency": "none", "rule": "carrier_keyword", "keyword": "STOP", "at": "webhook"}
    decision = _decision("opt_out", "carrier opt-out keyword", 1.0, ["opted_out"], path="guard", guard=guard)
    stop = _text_in(session, patient, "STOP", at, decision)
    with _clock_at(at):
        opt_out(session, patient, source="sms:carrier_keyword", message_id=stop.id)


def _conversations(session, practice_id: int, now: datetime) -> None:
    """A few replies already handled, and one routine question from yesterday still open."""
    practice = session.get(Practice, practice_id)
    nurse = session.exec(
        select(StaffUser).where(StaffUser.practice_id == practice_id, StaffUser.role == "nurse")
    ).first()
    for first, text, intent, urgency, answer, days_ago in CONVERSATIONS:
        patient = _by_name(session, practice_id, first)
        last_visit = session.exec(
            select(Appointment)
            .where(
                Appointment.patient_id == patient.id,
                Appointment.status == "completed",
                Appointment.start_at < now - timedelta(days=days_ago),
            )
            .order_by(col(Appointment.start_at).desc())
        ).first()
        at = now - timedelta(days=days_ago, hours=3)
        if last_visit is not None:
            at = min(max(at, to_utc(last_visit.end_at) + timedelta(days=1, hours=2)), now - timedelta(hours=6))
        decision = _decision(intent, f"reads as {intent.replace('_', ' ')}", 0.93, ["staff_inbox"], urgency=urgency)
        inbound = _text_in(session, patient, text, at, decision)
        sender = inbound.to_number
        if answer.startswith("staff:"):
            session.add(
                Escalation(
                    practice_id=practice_id,
                    patient_id=patient.id,
                    message_id=inbound.id,
                    urgency=urgency,
                    reason="side_effect_concern",
                    status="resolved",
                    assigned_staff_id=nurse.id,
                    created_at=at,
                    paged_at=at,
                    acknowledged_at=at + timedelta(minutes=7),
                    acknowledged_by=nurse.id,
                    resolved_at=at + timedelta(minutes=19),
                    note="Normal bruising; reassured, aftercare sheet sent.",
                )
            )
            reply_at = at + timedelta(minutes=18)
            _text_out(session, patient, sender, answer[len("staff:") :], reply_at, kind="staff", staff_user_id=nurse.id)
        else:
            reply_at = at + timedelta(minutes=12)
            _text_out(
                session,
                patient,
                sender,
                answer.format(review=practice.review_url),
                reply_at,
                kind="staff",
                staff_user_id=_front_desk(session, practice_id),
            )
        state = session.get(ConversationState, patient.id) or ConversationState(patient_id=patient.id)
        state.last_inbound_at, state.last_outbound_at, state.updated_at = at, reply_at, reply_at
        session.add(state)

    kayla = _by_name(session, practice_id, "Kayla")
    at = now - timedelta(hours=20)
    decision = _decision(
        "side_effect_concern", "asks about a lump after filler; no red flag", 0.88, ["escalated"], urgency="routine"
    )
    worry = _text_in(session, kayla, "One side of my lips still feels a bit lumpy, should I massage it?", at, decision)
    session.add(
        Escalation(
            practice_id=practice_id,
            patient_id=kayla.id,
            message_id=worry.id,
            urgency="routine",
            reason="side_effect_concern",
            status="open",
            created_at=at,
        )
    )


def _summary(session, practice_id: int) -> dict:
    def count(model, *where):
        return len(session.exec(select(model.id).where(model.practice_id == practice_id, *where)).all())

    touches: dict[str, int] = {}
    for status in session.exec(select(Touch.status).where(Touch.practice_id == practice_id)):
        touches[status] = touches.get(status, 0) + 1
    return {
        "patients": count(Patient),
        "appointments": count(Appointment),
        "services": count(Service),
        "providers": count(Provider),
        "staff": count(StaffUser),
        "messages": count(Message),
        "touches": touches,
    }
