"""The demo practice: Glow Aesthetics Med Spa, its people, menu and eight months of patients.

Appointments go in through `bot.appointments.validate` and `upsert`, exactly as a
practice system's webhook would send them, so the planner runs as in production.
The data is fictional: 555-01xx numbers, example.com addresses.
"""
from __future__ import annotations

import logging
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select
from werkzeug.security import generate_password_hash

from bot import appointments, runtime
from bot.clock import to_utc
from store.db import session_scope
from store.models import (
    Appointment, AuditEvent, ConversationState, Escalation, Location, Message, Patient, Practice, Provider,
    Service, StaffUser, Touch,
)

log = logging.getLogger(__name__)

PRACTICE_SLUG = "glow-aesthetics"
"""The demo practice's slug; its presence means the demo is already seeded."""

DEMO_PASSWORD = "glow-demo-2026"
"""Every demo staff user's password (printed in the demo banner)."""

MANAGER_EMAIL = "dana.whitfield@glowaesthetics.example"
"""The manager's sign-in, printed in the demo banner."""

CHECKER_PHONE = "+15125550143"
"""A patient the outside webhook checker texts from (Ana Ruiz, Austin)."""

AUSTIN = {"external_id": "L-AUS", "name": "Austin - South Congress", "timezone": "America/Chicago",
          "sms_number": "+15125550100", "state": "TX",
          "address": "1600 S Congress Ave, Suite 210, Austin, TX 78704"}
MIAMI = {"external_id": "L-MIA", "name": "Miami - Brickell", "timezone": "America/New_York",
         "sms_number": "+13055550100", "state": "FL",
         "address": "1200 Brickell Ave, Suite 500, Miami, FL 33131"}

FACTS = {
    "hours": "Tue-Fri 9am-7pm, Sat 9am-4pm; closed Sun and Mon",
    "address": {"L-AUS": AUSTIN["address"], "L-MIA": MIAMI["address"]},
    "parking": {"L-AUS": "Free garage parking behind the building (level 2), validated at the front desk.",
                "L-MIA": "Valet at the Brickell Ave entrance; we validate 2 hours."},
    "cancellation_policy": "Please give us 24 hours' notice to reschedule or cancel; late cancellations "
                           "and no-shows are charged $50.",
    "payment": "All major cards, HSA/FSA cards for eligible treatments, Cherry financing on $300+.",
    "membership": "Glow Club: $99/month, one HydraFacial or peel each month and 10% off injectables.",
    "consultations": "Consultations are free and take about 30 minutes.",
    "aftercare_sheets": "https://glowaesthetics.example/aftercare",
    "booking_url": "https://glowaesthetics.example/book",
}

LOCATIONS = (AUSTIN, MIAMI)

WEEKDAYS = {"tue": ["09:00", "19:00"], "wed": ["09:00", "19:00"], "thu": ["09:00", "19:00"],
            "fri": ["09:00", "19:00"], "sat": ["09:00", "16:00"]}

# external_id, name, title, location, working hours, the categories they perform
PROVIDERS = (
    ("P-LEE", "Dr. Olivia Lee", "MD, Medical Director", "L-AUS",
     {"tue": ["10:00", "18:00"], "thu": ["10:00", "18:00"], "sat": ["09:00", "14:00"]},
     ("neuromodulator", "filler", "prp", "laser_resurfacing", "consultation")),
    ("P-REYES", "Sofia Reyes", "NP-C, Nurse Injector", "L-AUS", WEEKDAYS,
     ("neuromodulator", "filler", "prp", "microneedling", "consultation")),
    ("P-PATEL", "Priya Patel", "Licensed Aesthetician", "L-AUS",
     {"tue": ["09:00", "17:00"], "wed": ["09:00", "17:00"], "fri": ["11:00", "19:00"], "sat": ["09:00", "16:00"]},
     ("facial", "peel", "microneedling", "consultation")),
    ("P-BROOKS", "Jordan Brooks", "Certified Laser Technician", "L-AUS",
     {"wed": ["10:00", "19:00"], "thu": ["10:00", "19:00"], "fri": ["09:00", "17:00"]},
     ("laser_resurfacing", "ipl", "laser_hair_removal", "body_contouring")),
    ("P-CHEN", "Marcus Chen", "PA-C, Injector", "L-MIA", WEEKDAYS,
     ("neuromodulator", "filler", "prp", "facial", "peel", "microneedling", "ipl", "laser_hair_removal",
      "body_contouring", "laser_resurfacing", "consultation")),
)

# name, role, phone, email, on_call, backup
STAFF = (
    ("Sofia Reyes, NP", "injector", "+15125550181", "sofia.reyes@glowaesthetics.example", True, False),
    ("Hannah Kim, RN", "nurse", "+15125550182", "hannah.kim@glowaesthetics.example", False, True),
    ("Carla Mendoza", "front_desk", "+15125550183", "carla.mendoza@glowaesthetics.example", False, False),
    ("Dana Whitfield", "manager", "+15125550184", MANAGER_EMAIL, False, False),
    ("Marcus Chen, PA-C", "injector", "+13055550181", "marcus.chen@glowaesthetics.example", False, False),
)

# code, name, category, minutes, price, area
SERVICES = (
    ("BOTOX-FOREHEAD", "Botox - forehead lines", "neuromodulator", 30, 300, "forehead"),
    ("BOTOX-GLABELLA", "Botox - frown lines (11s)", "neuromodulator", 30, 280, "glabella"),
    ("BOTOX-CROWS", "Botox - crow's feet", "neuromodulator", 30, 280, "crows_feet"),
    ("BOTOX-MASSETER", "Botox - masseter (jaw slimming)", "neuromodulator", 30, 550, "masseter"),
    ("DYSPORT-UPPER", "Dysport - upper face, 3 areas", "neuromodulator", 45, 650, "upper_face"),
    ("XEOMIN-GLABELLA", "Xeomin - frown lines (11s)", "neuromodulator", 30, 300, "glabella"),
    ("FILLER-LIPS", "Lip filler (Juvederm Volbella, 1 syringe)", "filler", 45, 750, "lips"),
    ("FILLER-CHEEKS", "Cheek filler (Juvederm Voluma, 2 syringes)", "filler", 60, 1600, "cheeks"),
    ("FILLER-JAWLINE", "Jawline filler (RHA 4, 2 syringes)", "filler", 60, 1500, "jawline"),
    ("FILLER-UNDEREYE", "Under-eye filler (Restylane-L)", "filler", 45, 850, "under_eyes"),
    ("HYDRAFACIAL", "Signature HydraFacial", "facial", 60, 225, None),
    ("HYDRAFACIAL-DELUXE", "Deluxe HydraFacial with LED", "facial", 75, 299, None),
    ("PEEL-VI", "VI Peel", "peel", 45, 350, None),
    ("PEEL-GLYCOLIC", "Glycolic peel", "peel", 30, 150, None),
    ("MICRONEEDLING", "Microneedling (SkinPen)", "microneedling", 60, 350, None),
    ("MICRONEEDLING-PRP", "Microneedling with PRP", "microneedling", 90, 650, None),
    ("LASER-HALO", "Halo hybrid fractional laser", "laser_resurfacing", 90, 1500, "full_face"),
    ("LASER-CO2", "CO2 laser resurfacing", "laser_resurfacing", 120, 2800, "full_face"),
    ("IPL-PHOTOFACIAL", "IPL photofacial", "ipl", 45, 400, "full_face"),
    ("LHR-UNDERARM", "Laser hair removal - underarms", "laser_hair_removal", 20, 150, "underarms"),
    ("LHR-BIKINI", "Laser hair removal - bikini", "laser_hair_removal", 30, 200, "bikini"),
    ("LHR-LEGS", "Laser hair removal - full legs", "laser_hair_removal", 60, 450, "legs"),
    ("COOLSCULPT-ABDOMEN", "CoolSculpting - abdomen, 2 cycles", "body_contouring", 90, 1500, "abdomen"),
    ("COOLSCULPT-FLANKS", "CoolSculpting - flanks, 2 cycles", "body_contouring", 70, 1200, "flanks"),
    ("PRP-HAIR", "PRP hair restoration", "prp", 60, 750, "scalp"),
    ("PRP-UNDEREYE", "PRP under-eye rejuvenation", "prp", 45, 600, "under_eyes"),
    ("CONSULT", "Complimentary consultation", "consultation", 30, 0, None),
)

# What each kind of patient comes in for, and roughly how often (days between visits).
ROUTINES = {
    "tox": (("BOTOX-FOREHEAD", "BOTOX-GLABELLA", "BOTOX-CROWS", "DYSPORT-UPPER", "XEOMIN-GLABELLA"), 100),
    "tox_filler": (("BOTOX-GLABELLA", "FILLER-LIPS", "BOTOX-CROWS", "FILLER-CHEEKS"), 80),
    "filler": (("FILLER-LIPS", "FILLER-UNDEREYE", "FILLER-JAWLINE", "FILLER-CHEEKS"), 120),
    "facial": (("HYDRAFACIAL", "HYDRAFACIAL-DELUXE", "PEEL-GLYCOLIC", "HYDRAFACIAL"), 35),
    "skin": (("MICRONEEDLING", "PEEL-VI", "MICRONEEDLING-PRP", "IPL-PHOTOFACIAL"), 45),
    "laser": (("IPL-PHOTOFACIAL", "LASER-HALO", "IPL-PHOTOFACIAL"), 70),
    "lhr": (("LHR-UNDERARM", "LHR-BIKINI", "LHR-LEGS"), 42),
    "body": (("CONSULT", "COOLSCULPT-ABDOMEN", "COOLSCULPT-FLANKS"), 60),
    "prp": (("PRP-HAIR", "PRP-HAIR", "PRP-UNDEREYE"), 35),
    "jaw": (("BOTOX-MASSETER", "FILLER-JAWLINE"), 110),
}

# first, last, language, location, routine, visits, marketing consent, email
PATIENTS = (
    ("Ana", "Ruiz", "es", "L-AUS", "tox", 2, False, None),
    ("Emily", "Carter", "en", "L-AUS", "tox", 3, True, "emily.carter@example.com"),
    ("Jessica", "Nguyen", "en", "L-AUS", "tox_filler", 4, True, "jess.nguyen@example.com"),
    ("Lauren", "Mitchell", "en", "L-AUS", "filler", 2, True, None),
    ("Megan", "Brooks", "en", "L-AUS", "facial", 5, True, "megan.brooks@example.com"),
    ("Ashley", "Thompson", "en", "L-AUS", "lhr", 4, False, None),
    ("Rachel", "Kim", "en", "L-AUS", "skin", 3, True, "rachel.kim@example.com"),
    ("Olivia", "Hart", "en", "L-AUS", "tox", 2, True, None),
    ("Sarah", "Bennett", "en", "L-AUS", "laser", 3, True, "sbennett@example.com"),
    ("Hannah", "Foster", "en", "L-AUS", "facial", 4, False, None),
    ("Natalie", "Price", "en", "L-AUS", "tox_filler", 3, True, "natalie.price@example.com"),
    ("Brittany", "Cole", "en", "L-AUS", "body", 3, True, None),
    ("Kayla", "Jensen", "en", "L-AUS", "filler", 1, True, None),
    ("Amanda", "Reed", "en", "L-AUS", "prp", 3, False, "amanda.reed@example.com"),
    ("Michael", "Turner", "en", "L-AUS", "jaw", 2, True, None),
    ("David", "Walsh", "en", "L-AUS", "tox", 2, False, None),
    ("Chloe", "Sullivan", "en", "L-AUS", "skin", 2, True, "chloe.s@example.com"),
    ("Madison", "Hayes", "en", "L-AUS", "lhr", 3, True, None),
    ("Taylor", "Morgan", "en", "L-AUS", "facial", 3, True, None),
    ("Grace", "Patterson", "en", "L-AUS", "tox", 3, True, "grace.patterson@example.com"),
    ("Victoria", "Long", "en", "L-AUS", "laser", 2, False, None),
    ("Caroline", "Webb", "en", "L-AUS", "tox_filler", 2, True, None),
    ("Erin", "Doyle", "en", "L-AUS", "facial", 2, True, None),
    ("Valeria", "Gonzalez", "es", "L-AUS", "tox_filler", 3, True, "valeria.g@example.com"),
    ("Camila", "Hernandez", "es", "L-AUS", "facial", 4, True, None),
    ("Lucia", "Martinez", "es", "L-AUS", "filler", 2, False, None),
    ("Mariana", "Lopez", "es", "L-AUS", "lhr", 4, True, None),
    ("Daniela", "Ramirez", "es", "L-AUS", "skin", 3, True, "daniela.ramirez@example.com"),
    ("Gabriela", "Torres", "es", "L-AUS", "tox", 2, True, None),
    ("Isabel", "Flores", "es", "L-AUS", "body", 2, False, None),
    ("Sofia", "Castillo", "es", "L-AUS", "prp", 2, True, None),
    ("Alejandro", "Vargas", "es", "L-AUS", "jaw", 1, True, None),
    ("Paula", "Jimenez", "es", "L-AUS", "laser", 2, True, None),
    ("Jennifer", "Blake", "en", "L-AUS", "tox", 1, True, None),
    ("Stephanie", "Ward", "en", "L-AUS", "filler", 2, True, "stephanie.ward@example.com"),
    ("Nicole", "Alvarez", "en", "L-MIA", "tox_filler", 3, True, "nicole.alvarez@example.com"),
    ("Brianna", "Stone", "en", "L-MIA", "facial", 3, True, None),
    ("Samantha", "Greene", "en", "L-MIA", "laser", 2, True, None),
    ("Alexis", "Parker", "en", "L-MIA", "body", 2, False, None),
    ("Morgan", "Ellis", "en", "L-MIA", "tox", 2, True, None),
    ("Christina", "Wolfe", "en", "L-MIA", "skin", 2, True, "c.wolfe@example.com"),
    ("Rebecca", "Lane", "en", "L-MIA", "lhr", 3, False, None),
    ("Carolina", "Mendez", "es", "L-MIA", "tox_filler", 3, True, "carolina.mendez@example.com"),
    ("Fernanda", "Rojas", "es", "L-MIA", "facial", 4, True, None),
    ("Valentina", "Herrera", "es", "L-MIA", "filler", 2, True, None),
    ("Adriana", "Navarro", "es", "L-MIA", "tox", 3, True, None),
    ("Ximena", "Cruz", "es", "L-MIA", "skin", 2, False, None),
    ("Renata", "Silva", "es", "L-MIA", "lhr", 3, True, "renata.silva@example.com"),
    ("Javier", "Morales", "es", "L-MIA", "prp", 2, True, None),
    ("Patricia", "Ortiz", "es", "L-MIA", "laser", 1, True, None),
)

MARKETING_SOURCES = ("online booking form (checkbox)", "intake form, signed", "front desk tablet", "Glow Club sign-up")


def seed_demo(db_url: str, now: datetime | None = None) -> dict:
    """Create the demo practice once; returns what was made ({"created": False} when it exists).

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

    rng = random.Random(20261123)
    visits = _visit_plan(rng, now)
    with session_scope(db_url) as session:
        for payload, booked_at in visits:
            ids = appointments.upsert(session, appointments.validate(payload), source="seed")
            _backdate(session, ids, payload, booked_at)
    with session_scope(db_url) as session:
        _patient_details(session, practice_id, rng, now)
        _history(session, practice_id, rng, now)
        summary = _summary(session, practice_id)
    log.info("seeded %s: %s", PRACTICE_SLUG, summary)
    return {"created": True, "practice_id": practice_id, **summary}


def _practice(session, now: datetime) -> Practice:
    practice = Practice(name="Glow Aesthetics Med Spa", slug=PRACTICE_SLUG, timezone="America/Chicago",
                        phone=AUSTIN["sms_number"], emergency_line="+15125550199",
                        website="https://glowaesthetics.example",
                        review_url="https://g.page/r/glow-aesthetics-austin/review",
                        facts=FACTS, created_at=now - timedelta(days=400))
    session.add(practice)
    session.flush()
    locations = {}
    for spec in LOCATIONS:
        location = Location(practice_id=practice.id, **spec)
        session.add(location)
        session.flush()
        locations[spec["external_id"]] = location.id
    for external_id, name, title, location, hours, _ in PROVIDERS:
        session.add(Provider(practice_id=practice.id, location_id=locations[location], external_id=external_id,
                             name=name, title=title, working_hours=hours))
    password = generate_password_hash(DEMO_PASSWORD)
    for name, role, phone, email, on_call, backup in STAFF:
        session.add(StaffUser(practice_id=practice.id, name=name, role=role, phone=phone, email=email,
                              on_call=on_call, backup=backup, password_hash=password))
    for code, name, category, minutes, price, area in SERVICES:
        session.add(Service(practice_id=practice.id, code=code, name=name, category=category,
                            duration_min=minutes, buffer_min=15 if minutes >= 60 else 10, price=float(price),
                            area=area))
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
    services = {code: (name, category, minutes, price, area) for code, name, category, minutes, price, area in SERVICES}
    taken: set[tuple[str, datetime]] = set()
    planned = []
    austin, miami = 101, 101
    for index, (first, last, language, location, routine, count, marketing, email) in enumerate(PATIENTS):
        if location == "L-AUS":
            number, austin = austin, austin + 1
            if number == 143:  # keep 0143 for Ana Ruiz, the checker's patient
                number, austin = austin, austin + 1
        else:
            number, miami = miami, miami + 1
        phone = CHECKER_PHONE if (first, last) == ("Ana", "Ruiz") else _phone(location, number)
        tz = AUSTIN["timezone"] if location == "L-AUS" else MIAMI["timezone"]
        codes, every = ROUTINES[routine]
        # Most recent visit between 2 and 16 weeks ago; earlier ones spaced by the routine's rhythm.
        latest = 14 + rng.randint(0, 100) if (first, last) != ("Ana", "Ruiz") else 105
        days_ago = [latest + k * (every + rng.randint(-7, 10)) for k in range(count)][::-1]
        days_ago = [d for d in days_ago if d <= 240] or [latest]
        first_visit = now - timedelta(days=days_ago[0] + 2)
        consent = {"care_sms": True, "marketing_sms": marketing,
                   "source": rng.choice(MARKETING_SOURCES) if marketing else "intake form, signed",
                   "at": first_visit.isoformat()}
        patient = {"external_id": f"C-{1001 + index}", "first_name": first, "last_name": last, "phone": phone,
                   "email": email, "language": language, "consent": consent,
                   "birthday": _birthday(rng, now, index).isoformat()}
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
            name, category, minutes, price, area = services[code]
            options = _providers_for(category, location)
            provider_id, provider_name, hours = options[(index + k) % len(options)]
            start = None
            for shift in range(0, 14):
                day = (now + timedelta(days=offset + shift)).astimezone(ZoneInfo(tz)).date()
                candidate = _slot(rng, day, hours, tz, minutes)
                if candidate is not None and (provider_id, candidate) not in taken:
                    if status == "booked" or to_utc(candidate) < now - timedelta(hours=2):
                        start = candidate
                        break
            if start is None:
                continue
            taken.add((provider_id, start))
            payload = {
                "external_id": f"A-{2000 + len(planned)}", "status": status,
                "start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat(),
                "service": {"code": code, "name": name, "category": category, **({"area": area} if area else {})},
                "provider": {"external_id": provider_id, "name": provider_name},
                "location": {"external_id": location, "timezone": tz},
                "price": float(price), "patient": patient, "referral_code": None,
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


def _backdate(session, ids: dict, payload: dict, booked_at: datetime) -> None:
    """Booking and record times as they would have been, not the moment the seed ran."""
    appointment = session.get(Appointment, ids["appointment_id"])
    appointment.created_at = booked_at
    appointment.updated_at = max(booked_at, to_utc(datetime.fromisoformat(payload["end"])))
    session.add(appointment)
    patient = session.get(Patient, ids["patient_id"])
    if patient.created_at is None or to_utc(patient.created_at) > booked_at:
        patient.created_at = booked_at
        session.add(patient)


def _patient_details(session, practice_id: int, rng: random.Random, now: datetime) -> None:
    locations = {loc.id: loc for loc in session.exec(select(Location).where(Location.practice_id == practice_id))}
    for patient in session.exec(select(Patient).where(Patient.practice_id == practice_id)):
        visit = session.exec(select(Appointment).where(Appointment.patient_id == patient.id)).first()
        if visit is not None and visit.location_id in locations:
            patient.state = locations[visit.location_id].state
        patient.referral_code = f"GLOW-{patient.first_name.upper()[:4]}{patient.id:03d}"
        patient.vip = patient.last_name in ("Nguyen", "Gonzalez", "Alvarez", "Mendez")
        session.add(patient)


HISTORY_TEXT = {
    ("care", "en"): "Hi {first}, it's Glow Aesthetics checking in after your {treatment}. How are you feeling? "
                    "Reply here with any questions.",
    ("care", "es"): "Hola {first}, le escribe Glow Aesthetics. Como se siente despues de su {treatment}? "
                    "Responda aqui si tiene preguntas.",
    ("rebook", "en"): "Hi {first}, it's about time to refresh your {treatment}. Want us to find you a time? "
                      "Reply with a day that works.",
    ("rebook", "es"): "Hola {first}, ya es buen momento para su proximo {treatment}. Le buscamos un horario? "
                      "Responda con el dia que le convenga.",
    ("review", "en"): "Thanks for visiting Glow, {first}! If you have a minute, a review helps us a lot: {review}",
    ("review", "es"): "Gracias por su visita, {first}! Si tiene un minuto, su opinion nos ayuda mucho: {review}",
    ("other", "en"): "Hi {first}, it's Glow Aesthetics. We'd love to see you again - reply to book your next visit.",
    ("other", "es"): "Hola {first}, le escribe Glow Aesthetics. Nos encantaria verle pronto: responda para reservar.",
}

# Conversations already had: (patient, patient's text, decision, the bot's or a staff member's answer, days ago)
CONVERSATIONS = (
    ("Emily", "All good, thank you!! Already seeing a difference", "positive_feedback", "none",
     "So glad to hear it, Emily! If you have a minute, a review helps us a lot: {review}", 40),
    ("Camila", "Gracias! Me encanto el facial, mi piel se siente increible", "positive_feedback", "none",
     "Que gusto, Camila! Gracias por escribirnos.", 25),
    ("Jessica", "A little bruising on my upper lip, is that normal?", "side_effect_concern", "routine",
     "staff:Hi Jessica, this is Hannah, RN. Mild bruising for 3-7 days is normal after lip filler. Arnica and a "
     "cold compress help. If it gets darker, more painful or the skin turns pale or dusky, call us right away.", 60),
    ("Lucia", "Ahorita no puedo, escribame despues de las fiestas", "defer", "none",
     "Claro, Lucia. Le escribimos mas adelante. Feliz temporada!", 18),
    ("Megan", "Yes! Can I come in a Saturday morning?", "rebook_request", "none",
     "Great! Sat 10:00am or Sat 11:30am with Priya. Reply 1 or 2 and we'll book it.", 9),
)


def _history(session, practice_id: int, rng: random.Random, now: datetime) -> None:
    """Settle touches already due (sent, or held back for the reason the dispatcher would give) and add a
    few replies, so threads and numbers are not empty on day one."""
    practice = session.get(Practice, practice_id)
    location_numbers = {loc.id: loc.sms_number for loc in session.exec(select(Location))}
    patients = {p.id: p for p in session.exec(select(Patient).where(Patient.practice_id == practice_id))}
    visits = {}
    for appointment in session.exec(select(Appointment).where(Appointment.practice_id == practice_id)):
        visits.setdefault(appointment.patient_id, []).append(appointment)
    due = session.exec(select(Touch).where(Touch.practice_id == practice_id, Touch.due_at <= now,
                                           Touch.status.in_(("scheduled", "queued"))).order_by(Touch.due_at)).all()
    for touch in due:
        patient = patients[touch.patient_id]
        appointment = session.get(Appointment, touch.appointment_id) if touch.appointment_id else None
        due_at = to_utc(touch.due_at)
        later = [a for a in visits.get(patient.id, ())
                 if appointment is not None and a.id != appointment.id and to_utc(a.created_at) < due_at
                 and to_utc(a.start_at) > to_utc(appointment.start_at) and a.status in ("booked", "completed")]
        if touch.marketing and not patient.marketing_sms:
            touch.status, touch.reason = "skipped", "no_marketing_consent"
        elif later and touch.purpose not in ("care", "review"):
            touch.status, touch.reason = "suppressed", "rebooked"
        else:
            sender = location_numbers.get(appointment.location_id if appointment else None) or practice.phone
            message = _text_out(session, patient, sender, touch.body or _history_body(session, touch, patient, practice),
                                due_at + timedelta(minutes=rng.randint(0, 40)), kind="touch", touch_id=touch.id)
            touch.status, touch.sent_at, touch.message_id, touch.body = "sent", message.sent_at, message.id, message.body
        touch.updated_at = due_at
        session.add(touch)
    session.flush()
    _conversations(session, practice, patients, location_numbers, visits, now)


def _history_body(session, touch: Touch, patient: Patient, practice: Practice) -> str:
    service = None
    if touch.appointment_id:
        appointment = session.get(Appointment, touch.appointment_id)
        service = session.get(Service, appointment.service_id)
    treatment = (service.name.split(" (")[0] if service else "last visit")
    purpose = touch.purpose if touch.purpose in ("care", "rebook", "review") else "other"
    language = patient.language if patient.language in ("en", "es") else "en"
    return HISTORY_TEXT[(purpose, language)].format(first=patient.first_name, treatment=treatment,
                                                    review=practice.review_url)


def _sid() -> str:
    return "SM" + "".join(random.choice("0123456789abcdef") for _ in range(32))


def _text_out(session, patient: Patient, sender: str, body: str, at: datetime, kind: str,
              touch_id: int | None = None, staff_user_id: int | None = None, decision: dict | None = None) -> Message:
    message = Message(practice_id=patient.practice_id, patient_id=patient.id, direction="out", kind=kind,
                      from_number=sender, to_number=patient.phone, body=body, twilio_sid=_sid(),
                      status="delivered", segments=1 + len(body) // 154, encoding="GSM-7", touch_id=touch_id,
                      staff_user_id=staff_user_id, decision=decision, created_at=at, sent_at=at, status_at=at)
    session.add(message)
    session.flush()
    return message


def _conversations(session, practice: Practice, patients: dict, numbers: dict, visits: dict, now: datetime) -> None:
    by_first = {p.first_name: p for p in patients.values()}
    staff = {s.role: s for s in session.exec(select(StaffUser).where(StaffUser.practice_id == practice.id))}
    for first, text, intent, urgency, answer, days_ago in CONVERSATIONS:
        patient = by_first[first]
        last = max((a for a in visits.get(patient.id, ()) if a.status == "completed"),
                   key=lambda a: a.start_at, default=None)
        sender = numbers.get(last.location_id if last else None) or practice.phone
        at = min(now - timedelta(days=days_ago, hours=3), now - timedelta(hours=6))
        if last is not None:
            at = max(at, to_utc(last.end_at) + timedelta(days=1, hours=2))
        decision = {"intent": intent, "urgency": urgency, "path": "local", "confidence": 0.93,
                    "rationale": f"reads as {intent.replace('_', ' ')}", "handler": intent}
        inbound = Message(practice_id=practice.id, patient_id=patient.id, direction="in", kind="inbound",
                          from_number=patient.phone, to_number=sender, body=text, twilio_sid=_sid(),
                          status="received", segments=1, decision=decision, processed_at=at, created_at=at)
        session.add(inbound)
        session.flush()
        reply_at = at + timedelta(minutes=2)
        if answer.startswith("staff:"):
            nurse = staff["nurse"]
            escalation = Escalation(practice_id=practice.id, patient_id=patient.id, message_id=inbound.id,
                                    urgency=urgency, reason="side_effect_concern", status="resolved",
                                    assigned_staff_id=nurse.id, created_at=at, paged_at=at,
                                    acknowledged_at=at + timedelta(minutes=7), acknowledged_by=nurse.id,
                                    resolved_at=at + timedelta(minutes=19), note="Normal bruising; reassured, aftercare sent.")
            session.add(escalation)
            _text_out(session, patient, sender, answer[len("staff:"):], at + timedelta(minutes=18), kind="staff",
                      staff_user_id=nurse.id)
        else:
            _text_out(session, patient, sender, answer.format(review=practice.review_url), reply_at, kind="reply",
                      decision={"handler": intent, "action": "replied"})
        state = session.get(ConversationState, patient.id) or ConversationState(patient_id=patient.id)
        state.last_inbound_at, state.last_outbound_at, state.updated_at = at, reply_at, reply_at
        session.add(state)

    # One patient asked to stop two months ago: she keeps her history, gets nothing more.
    david = by_first["David"]
    at = now - timedelta(days=58)
    sender = numbers.get(next(iter(visits.get(david.id, ()))).location_id) if visits.get(david.id) else practice.phone
    stop = Message(practice_id=practice.id, patient_id=david.id, direction="in", kind="inbound",
                   from_number=david.phone, to_number=sender, body="STOP", twilio_sid=_sid(), status="received",
                   segments=1, processed_at=at, created_at=at,
                   decision={"guard": {"intent": "opt_out", "urgency": "none", "rule": "carrier_keyword",
                                       "keyword": "STOP", "at": "webhook"},
                             "intent": "opt_out", "urgency": "none", "path": "guard", "confidence": 1.0,
                             "rationale": "carrier opt-out keyword"})
    session.add(stop)
    session.flush()
    david.opted_out_at, david.opt_out_source = at, "sms:carrier_keyword"
    david.care_sms = david.marketing_sms = False
    session.add(david)
    session.exec(Touch.__table__.update().where(Touch.patient_id == david.id,
                                                Touch.status.in_(("scheduled", "queued")))
                 .values(status="suppressed", reason="opted_out", updated_at=at))
    session.add(AuditEvent(practice_id=practice.id, actor="patient", action="opt_out", subject_type="patient",
                           subject_id=david.id, detail={"source": "sms:carrier_keyword", "message_id": stop.id},
                           created_at=at))

    # A routine question from yesterday that nobody has picked up yet: the inbox is not empty on day one.
    kayla = by_first["Kayla"]
    at = now - timedelta(hours=20)
    last = max(visits.get(kayla.id, ()), key=lambda a: a.start_at)
    worry = Message(practice_id=practice.id, patient_id=kayla.id, direction="in", kind="inbound",
                    from_number=kayla.phone, to_number=numbers.get(last.location_id) or practice.phone,
                    body="One side of my lips still feels a bit lumpy, should I massage it?", twilio_sid=_sid(),
                    status="received", segments=1, processed_at=at, created_at=at,
                    decision={"intent": "side_effect_concern", "urgency": "routine", "path": "local",
                              "confidence": 0.88, "rationale": "asks about a lump after filler; no red flag",
                              "handler": "side_effect"})
    session.add(worry)
    session.flush()
    session.add(Escalation(practice_id=practice.id, patient_id=kayla.id, message_id=worry.id, urgency="routine",
                           reason="side_effect_concern", status="open", created_at=at))


def _summary(session, practice_id: int) -> dict:
    def count(model, *where):
        return len(session.exec(select(model.id).where(model.practice_id == practice_id, *where)).all())

    touches = {}
    for status in session.exec(select(Touch.status).where(Touch.practice_id == practice_id)):
        touches[status] = touches.get(status, 0) + 1
    return {"patients": count(Patient), "appointments": count(Appointment), "services": count(Service),
            "providers": count(Provider), "staff": count(StaffUser), "messages": count(Message),
            "touches": touches}
