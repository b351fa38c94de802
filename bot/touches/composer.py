"""Render a step's template for one patient: names filled in, accents kept unless the practice sends
GSM-only (or they would cost a third segment), segments known."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from bot.clock import MONTHS, to_local, zone_name
from bot.messaging import segments

PLACEHOLDERS = {
    "first_name": 'the patient\'s first name ("there" when unknown)',
    "sender": 'who is texting, e.g. "Maya" (practice fact `sender_name`, else "the team")',
    "practice": "the practice's name",
    "practice_phone": "the number to call: the visit's location's phone, else the practice's",
    "emergency_line": "the number to call at once about a possible complication (the visit's location's emergency "
    "line, else the practice's, else the number to call)",
    "treatment": 'the service the patient had, e.g. "Botox forehead" (its Spanish name in Spanish texts, when it has one)',
    "provider": 'who treated the patient ("your provider" when unknown)',
    "review_url": "the review link of the visit's location, else the practice's",
    "address": "the visit's location's address, else the practice's (fact `address`)",
    "booking_hint": 'how to book: "reply here or call <phone>" (in the text\'s language)',
    "area": 'the treated area, e.g. "lips" ("the area" when unknown; in Spanish with its article, "los labios")',
    "visit_time": "the booked visit's day and time in the location's zone, e.g. \"Tuesday, Nov 24 at 3:30 PM\" "
    "(upcoming and offers plans only)",
    "offer": 'what an offer step offers, from the upsell matrix, e.g. "a lip flip" (offers plan only)',
    "offer_for_price": 'the offered item\'s price as the sentence goes on, e.g. " for $150" (" por $150" in Spanish; '
    "nothing when the matrix gives no price; offers plan only)",
}
"""Every name a template may use, with what it becomes."""

SAMPLE_LONG = {
    "first_name": "Maximiliana",
    "sender": "Alexandra",
    "practice": "Glow Aesthetics & Med Spa",
    "practice_phone": "(512) 555-0100",
    "emergency_line": "(512) 555-0199",
    "treatment": "Botox forehead, frown lines & crow's feet",
    "provider": "Dr. Katherine Lee",
    "review_url": "https://g.page/r/CbX4h2kLmN8pEAE/review",
    "address": "1600 S Congress Ave, Suite 210, Austin, TX 78704",
    "booking_hint": "reply here or call (512) 555-0100",
    "area": "forehead and frown lines",
    "visit_time": "el miércoles 25 de noviembre a las 10:30",
    "offer": "Resurfacing series of three (10% off)",
    "offer_for_price": " for $1,250.00",
}
"""Long but real values: a template must fit two segments with these filled in. Treatment and area
are longer than any the demo names in English or Spanish ("depilación láser de piernas completas")."""

MAX_SEGMENTS = segments.MAX_SEGMENTS
"""A touch is one segment when it can be and never more than two."""

_formatter = string.Formatter()


@dataclass(frozen=True)
class Rendered:
    """A text ready to send."""

    body: str
    segments: int
    encoding: str
    folded: str | None = None
    """Why its accents were folded to GSM-7 (segments.GSM_ONLY or segments.TOO_LONG); None: sent as written."""


def fields(template: str) -> set[str]:
    """Placeholder names a template uses; ValueError when its braces are malformed."""
    names = set()
    for _literal, name, spec, conversion in _formatter.parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain name like {{first_name}}")
        names.add(name)
    return names


def checked_fields(template: str, allowed: Iterable[str] = PLACEHOLDERS) -> set[str]:
    """The placeholder names of a template, every one of them in `allowed`; ValueError saying why otherwise
    (the plan file, a practice's step texts and its aftercare texts are checked by this one rule)."""
    names = fields(template)
    unknown = names - set(allowed)
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {', '.join('{' + n + '}' for n in sorted(unknown))} "
            f"(allowed: {', '.join('{' + n + '}' for n in sorted(allowed))})"
        )
    return names


def render(template: str, context: dict, gsm_only: bool = False) -> Rendered:
    """The template filled in as the sender sends it (segments.fit), with its segment count: accents
    kept (UCS-2) unless `gsm_only` (the practice's choice) or they would cost more than two segments."""
    sent = segments.fit(template.format_map(context), gsm_only=gsm_only)
    return Rendered(sent.body, sent.segments, sent.encoding, sent.folded)


def _first(name: str | None) -> str:
    return name.strip().split()[0] if name and name.strip() else ""


FALLBACKS = {
    "en": {
        "first_name": "there",
        "sender": "the team",
        "practice": "our office",
        "practice_phone": "our office",
        "treatment": "your treatment",
        "provider": "your provider",
        "area": "the area",
        "booking_hint": "reply here",
        "booking_hint_phone": "reply here or call {phone}",
        "visit_time": "at your visit",
        "address": "our office",
        "offer": "something new we think you'll like",
        "offer_for_price": "",
    },
    "es": {
        "first_name": "de nuevo",
        "sender": "el equipo",
        "practice": "nuestra clínica",
        "practice_phone": "la clínica",
        "treatment": "tu tratamiento",
        "provider": "tu especialista",
        "area": "la zona",
        "booking_hint": "responde aquí",
        "booking_hint_phone": "responde aquí o llama al {phone}",
        "visit_time": "en tu cita",
        "address": "la clínica",
        "offer": "algo nuevo que te va a gustar",
        "offer_for_price": "",
    },
}
"""Words for values a practice or patient record lacks, per language the plans ship."""

AREAS_ES = {
    "lips": "los labios",
    "under_eyes": "las ojeras",
    "cheeks": "los pómulos",
    "jawline": "la mandíbula",
    "chin": "el mentón",
    "temples": "las sienes",
    "forehead": "la frente",
    "glabella": "el entrecejo",
    "crows_feet": "las patas de gallo",
    "masseter": "la mandíbula",
    "upper_face": "la frente y los ojos",
    "full_face": "el rostro",
    "underarms": "las axilas",
    "bikini": "la zona del bikini",
    "legs": "las piernas",
    "abdomen": "el abdomen",
    "flanks": "los costados",
    "scalp": "el cuero cabelludo",
}
"""Spanish for the treated areas a service may name; Spanish texts write {area} with its article
("El relleno en {area}"), and an area not listed reads "la zona" rather than English."""


def context_for(
    practice,
    patient,
    service=None,
    provider=None,
    language: str = "en",
    location=None,
    appointment=None,
    tz: str | None = None,
) -> dict:
    """The placeholder values for one patient's touch (rows from store.models; any may be None),
    with fallbacks in the text's language.

    Arguments:
        location: where the visit was; its phone, emergency line, address and review link, when it has
            them, are the ones the text gives.
        appointment, tz: the visit and its time zone, for {visit_time}.
    """
    words = FALLBACKS.get(language, FALLBACKS["en"])
    facts = (practice.facts or {}) if practice is not None else {}
    # Patients call the front desk of the location they visited, not the practice's main number.
    phone = display_phone(
        (location.phone if location is not None else None)
        or (practice.phone if practice is not None else None)
        or facts.get("phone")
        or ""
    )
    # A location's own line and review link win; the practice's are for locations without their own.
    emergency = display_phone(
        (location.emergency_line if location is not None else None)
        or (practice.emergency_line if practice is not None else None)
    )
    review_url = (
        (location.review_url if location is not None else None)
        or (practice.review_url if practice is not None else None)
        or facts.get("review_url")
        or ""
    )
    address = (location.address if location is not None else None) or facts.get("address")
    return {
        "first_name": _first(getattr(patient, "first_name", None)) or words["first_name"],
        "sender": facts.get("sender_name") or words["sender"],
        "practice": practice.name if practice is not None else words["practice"],
        "practice_phone": phone or words["practice_phone"],
        "emergency_line": emergency or phone or words["practice_phone"],
        "treatment": service_name(service, language) or words["treatment"],
        "provider": provider.name if provider is not None else words["provider"],
        "review_url": review_url,
        "address": address if isinstance(address, str) else words["address"],
        "booking_hint": words["booking_hint_phone"].format(phone=phone) if phone else words["booking_hint"],
        "area": _area(service, language) or words["area"],
        "visit_time": (
            visit_time(appointment.start_at, zone_name(tz), language)
            if appointment is not None and appointment.start_at
            else words["visit_time"]
        ),
        "offer": words["offer"],  # an offer touch's own item replaces it (bot.growth.offers.placeholders)
        "offer_for_price": words["offer_for_price"],
    }


DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


def visit_time(start, tz: str, language: str = "en") -> str:
    """A visit's local day and time as a patient reads it: "Tuesday, Nov 24 at 3:30 PM" /
    "el martes 24 de noviembre a las 15:30"."""
    local = to_local(start, tz)
    if language == "es":
        return f"el {DAYS['es'][local.weekday()]} {local.day} de {MONTHS['es'][local.month - 1]} a las {local:%H:%M}"
    hour = local.hour % 12 or 12
    return f"{DAYS['en'][local.weekday()]}, {local:%b} {local.day} at {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


@lru_cache(maxsize=512)
def display_phone(number: str | None) -> str:
    """A stored number as a patient dials it: "(512) 555-0199" for a US number, else as stored."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_valid_number(parsed):
        return number
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _area(service, language: str) -> str | None:
    if service is None or not service.area:
        return None
    if language == "es":
        return AREAS_ES.get(service.area.strip().lower().replace("-", "_").replace(" ", "_"))
    return service.area.replace("_", "-")


def service_name(service, language: str = "en") -> str | None:
    """What a text in `language` calls the service: its Spanish name in Spanish when it has one, else its name."""
    if service is None:
        return None
    if language == "es" and service.name_es:
        return service.name_es
    return service.name
