"""The demo's full calendar: the practice system's other clients, who never agreed to texts, booked with every
provider for the weeks before now that Operations shows, so occupancy reads as a busy med spa's (about 60 to 75 %) rather
than the 50 texting patients' 1 %.

They come from the practice system (source "api", external ids "CAL-..."), have no text consent (Aftercare
plans and sends them nothing: the visits are written straight to the calendar, not through the planner) and
fill each provider's working hours day by day around the visits the demo's texting patients already hold.
Deterministic (its own random seed); a few thousand rows in two bulk INSERTs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.demo.practice import PROVIDERS
from bot.vocabulary import AppointmentStatus
from store.models import Appointment, Location, Patient, Provider, Service, table_of

WEEKS_BACK = 17
"""The calendar is full for this many weeks before the demo's present (the 90-day period of Operations and a
little more). The weeks ahead are left to the texting patients, so booking by text still finds open times."""
CLIENTS = 420
"""The practice system's clients who do not text (each has a few visits over the four months)."""
BOOKED_SHARE = 0.78
"""Chance that a free slot in a provider's day holds a visit (the rest are gaps of GAP_MIN)."""
GAP_MIN = 30
NO_SHOW, CANCELLED = 0.03, 0.04
"""Shares of past visits that were a no-show or cancelled (they take no chair time)."""
# No name is the end of another ("Ella" in "Isabella", "Martin" in "Martinez"), so a name found on a page is one client.
FIRST = (
    "Olivia",
    "Emma",
    "Sophia",
    "Isabella",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Avery",
    "Scarlett",
    "Grace",
    "Chloe",
    "Victoria",
    "Riley",
    "Aria",
    "Lily",
    "Zoey",
    "Nora",
    "Hannah",
    "Layla",
    "Camila",
    "Valeria",
    "Lucia",
    "Daniela",
    "Gabriela",
    "Mariana",
    "James",
    "Michael",
    "David",
    "Carlos",
    "Luis",
    "Ethan",
    "Noah",
    "Mateo",
    "Julia",
    "Rachel",
    "Megan",
    "Jessica",
    "Ashley",
    "Lauren",
)
LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
)
PREFIX = "CAL-"
"""The external ids of the calendar's clients and visits start with it."""
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def fill_calendar(session: Session, practice_id: int, now: datetime) -> dict:
    """Book the practice system's clients into every provider's free working hours; returns what was made."""
    rng = random.Random(20261202)
    now = to_utc(now)
    locations = {loc.id: loc for loc in session.exec(select(Location).where(Location.practice_id == practice_id))}
    by_external = {loc.external_id: loc for loc in locations.values()}
    services = [s for s in session.exec(select(Service).where(Service.practice_id == practice_id)) if s.price]
    providers = {p.external_id: p for p in session.exec(select(Provider).where(Provider.practice_id == practice_id))}
    taken: dict[int, list[tuple[datetime, datetime]]] = {}
    for provider_id, start, end in session.exec(
        select(Appointment.provider_id, Appointment.start_at, Appointment.end_at).where(
            Appointment.practice_id == practice_id, col(Appointment.provider_id).is_not(None)
        )
    ):
        taken.setdefault(provider_id or 0, []).append((to_utc(start), to_utc(end)))

    # Names no texting patient of the demo has, so a demo patient is still found by first name alone.
    # Each client's full name is their own (no two clients, nor a client and a texting patient, share one).
    used = set(session.exec(select(Patient.first_name).where(Patient.practice_id == practice_id)))
    names = [(first, last) for first in FIRST if first not in used for last in LAST]
    rng.shuffle(names)
    clients_by_location: dict[int, list[int]] = {}
    patient_rows = []
    for n in range(CLIENTS):
        place = by_external["L-MIA" if n % 4 == 3 else "L-AUS"]  # a quarter of them are Miami's
        area = "305" if place.external_id == "L-MIA" else "512"
        patient_rows.append(
            {
                "practice_id": practice_id,
                "external_id": f"{PREFIX}{n + 1:04d}",
                "phone": f"+1{area}555{7000 + n:04d}",
                "first_name": names[n][0],
                "last_name": names[n][1],
                "language": "es" if rng.random() < 0.15 else "en",
                "created_at": now - timedelta(weeks=WEEKS_BACK + rng.randint(1, 80)),
            }
        )
    ids = list(session.scalars(insert(table_of(Patient)).returning(table_of(Patient).c.id), patient_rows))
    for n, patient_id in enumerate(ids):
        place = by_external["L-MIA" if n % 4 == 3 else "L-AUS"]
        clients_by_location.setdefault(place.id, []).append(patient_id)

    visits: list[dict] = []
    first_day = (now - timedelta(weeks=WEEKS_BACK)).date()
    for external_id, _name, _title, location_key, hours, categories in PROVIDERS:
        provider = providers.get(external_id)
        site = by_external.get(location_key)
        if provider is None or site is None:
            continue
        place = site
        zone = ZoneInfo(place.timezone)
        menu = [s for s in services if s.category in categories]
        busy = sorted(taken.get(provider.id, []))
        for offset in range(7 * WEEKS_BACK + 1):
            day = first_day + timedelta(days=offset)
            span = hours.get(DAY_KEYS[day.weekday()])
            if not span or not menu:
                continue
            opens = datetime.combine(day, datetime.strptime(span[0], "%H:%M").time(), tzinfo=zone)
            closes = datetime.combine(day, datetime.strptime(span[1], "%H:%M").time(), tzinfo=zone)
            at = to_utc(opens)
            while at < to_utc(closes):
                service = rng.choice(menu)
                end = at + timedelta(minutes=service.duration_min)
                clash = next((b for b in busy if b[0] < end and at < b[1]), None)
                if clash is not None:
                    at = max(at + timedelta(minutes=GAP_MIN), clash[1])
                    continue
                if end > to_utc(closes) or rng.random() > BOOKED_SHARE:
                    at += timedelta(minutes=GAP_MIN)
                    continue
                if end > now:
                    break  # the present: what comes next is the texting patients' to book
                draw = rng.random()
                status = (
                    AppointmentStatus.NO_SHOW
                    if draw < NO_SHOW
                    else AppointmentStatus.CANCELLED
                    if draw < NO_SHOW + CANCELLED
                    else AppointmentStatus.COMPLETED
                )
                visits.append(
                    {
                        "practice_id": practice_id,
                        "external_id": f"{PREFIX}{external_id}-{len(visits) + 1:05d}",
                        "patient_id": rng.choice(clients_by_location[place.id]),
                        "service_id": service.id,
                        "provider_id": provider.id,
                        "location_id": place.id,
                        "status": status,
                        "start_at": at,
                        "end_at": end,
                        "price": service.price,
                        "source": "api",
                        "add_ons": [],
                        "created_at": at - timedelta(days=rng.randint(2, 30)),
                        "updated_at": min(end, now),
                    }
                )
                at = end + timedelta(minutes=service.buffer_min)
    if visits:
        session.execute(insert(table_of(Appointment)), visits)
    return {"calendar_clients": len(ids), "calendar_visits": len(visits)}
