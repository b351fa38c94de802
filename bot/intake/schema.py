"""The appointment payload practice systems send: validated field by field into an `AppointmentIn`.

The JSON webhook and the CSV import both end here, so both accept exactly the same fields.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import available_timezones

from bot import runtime
from bot.clock import to_utc
from bot.errors import ValidationError
from bot.messaging.phones import normalize
from store.money import to_money

log = logging.getLogger(__name__)


STATUSES = ("booked", "completed", "cancelled", "no_show")
CATEGORIES = (
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
    "consultation",
    "other",
)
"""Service categories; each has a follow-up plan (consultation and other get the general one)."""
LANGUAGES = ("en", "es")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LINE_BREAKS = re.compile(r"[\t\r\n]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""NUL and other control characters: no name, code or address has one (PostgreSQL refuses NUL outright)."""
YEARS = (1900, 2200)
"""Dates outside these years are typing mistakes (year 1 also overflows time zone arithmetic)."""
MAX_PRICE = 1_000_000
"""A price above this is a mistake, not a treatment."""


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    # A set of real zone names: "America" is a folder of the zone database, not a zone.
    return frozenset(available_timezones())


CSV_FIELDS = (
    "external_id",
    "status",
    "start",
    "end",
    "service_code",
    "service_name",
    "service_category",
    "provider_external_id",
    "provider_name",
    "location_external_id",
    "location_timezone",
    "price",
    "patient_external_id",
    "patient_first_name",
    "patient_last_name",
    "patient_phone",
    "patient_email",
    "patient_birthday",
    "patient_language",
    "consent_care_sms",
    "consent_marketing_sms",
    "consent_source",
    "consent_at",
    "referral_code",
)
"""The CSV import's columns: the JSON fields, flattened."""
CSV_OPTIONAL_FIELDS = ("service_area", "service_name_es", "location_phone")
"""Columns a CSV may add; an export without them imports as before."""


@dataclass
class AppointmentIn:
    """A validated appointment, ready to upsert."""

    external_id: str
    status: str
    start: datetime
    end: datetime
    service: dict
    provider: dict | None
    location: dict | None
    price: Decimal | None
    patient: dict
    consent: dict | None
    referral_code: str | None = None
    extra: dict = field(default_factory=dict)


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, name: str, message: str) -> None:
        self.items.append({"field": name, "message": message})


def _text(data: dict, key: str, errors: _Errors, path: str, required: bool = True, max_len: int = 200) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(path + key, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        errors.add(path + key, "must be a string")
        return None
    # A line break inside a quoted CSV cell is a space; any other control character is refused.
    value = LINE_BREAKS.sub(" ", str(value)).strip()
    if len(value) > max_len:
        errors.add(path + key, f"is longer than {max_len} characters")
        return None
    if CONTROL.search(value):
        errors.add(path + key, "must not contain control characters")
        return None
    return value


def _moment(data: dict, key: str, errors: _Errors, path: str = "", required: bool = True) -> datetime | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            errors.add(path + key, "is required")
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors.add(path + key, f"{str(value)[:40]!r} is not an ISO 8601 date-time like 2026-11-20T15:00:00-06:00")
        return None
    if parsed.tzinfo is None:
        errors.add(path + key, "needs a UTC offset, e.g. 2026-11-20T15:00:00-06:00")
        return None
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        errors.add(path + key, f"must be between the years {YEARS[0]} and {YEARS[1]}")
        return None
    return to_utc(parsed)


def _flag(data: dict, key: str, errors: _Errors, path: str) -> bool | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1", "y"):
        return True
    if lowered in ("false", "no", "0", "n"):
        return False
    errors.add(path + key, "must be true or false")
    return None


def validate(payload) -> AppointmentIn:
    """Check every field; ValidationError lists each bad one by its dotted name."""
    errors = _Errors()
    if not isinstance(payload, dict):
        raise ValidationError([{"field": "(body)", "message": "must be a JSON object"}])
    external_id = _text(payload, "external_id", errors, "")
    status = payload.get("status")
    if status not in STATUSES:
        errors.add("status", f"must be one of {', '.join(STATUSES)}")
    start = _moment(payload, "start", errors)
    end = _moment(payload, "end", errors)
    if start and end and end <= start:
        errors.add("end", "must be after start")

    service = payload.get("service")
    service_out = {}
    if not isinstance(service, dict):
        errors.add("service", "is required (an object with code, name, category)")
    else:
        service_out["code"] = _text(service, "code", errors, "service.", max_len=60)
        service_out["name"] = _text(service, "name", errors, "service.")
        category = service.get("category")
        if category not in CATEGORIES:
            errors.add("service.category", f"must be one of {', '.join(CATEGORIES)}")
        service_out["category"] = category
        if service.get("area") is not None:
            service_out["area"] = _text(service, "area", errors, "service.", required=False, max_len=40)
        if service.get("name_es") is not None:
            service_out["name_es"] = _text(service, "name_es", errors, "service.", required=False)

    provider = payload.get("provider")
    provider_out = None
    if provider is not None:
        if not isinstance(provider, dict):
            errors.add("provider", "must be an object with external_id and name")
        else:
            provider_out = {
                "external_id": _text(provider, "external_id", errors, "provider.", max_len=60),
                "name": _text(provider, "name", errors, "provider."),
            }

    location = payload.get("location")
    location_out = None
    if location is not None:
        if not isinstance(location, dict):
            errors.add("location", "must be an object with external_id and timezone")
        else:
            tz = _text(location, "timezone", errors, "location.", max_len=60)
            if tz and tz not in _zones():
                errors.add("location.timezone", f"{tz!r} is not an IANA time zone like America/Chicago")
            location_out = {
                "external_id": _text(location, "external_id", errors, "location.", max_len=60),
                "timezone": tz,
            }
            if isinstance(location.get("phone"), str) and CONTROL.search(location["phone"]):
                errors.add("location.phone", "must not contain control characters")
            elif location.get("phone") not in (None, ""):
                try:
                    location_out["phone"] = normalize(location["phone"], runtime.settings().default_country)
                except ValidationError as exc:
                    errors.add("location.phone", exc.errors[0]["message"])

    price = payload.get("price")
    if price in ("", None):
        price = None
    else:
        try:
            price = float(price) if not isinstance(price, bool) else None
        except (TypeError, ValueError):
            price = None
        if price is None or not math.isfinite(price):
            errors.add("price", "must be a number")
            price = None
        elif not 0 <= price <= MAX_PRICE:
            errors.add("price", f"must be between 0 and {MAX_PRICE}")
    amount = to_money(price)  # kept as exact cents: 449.99 stays 449.99

    patient = payload.get("patient")
    patient_out: dict = {}
    consent_out = None
    if not isinstance(patient, dict):
        errors.add("patient", "is required (an object with external_id, first_name, phone, …)")
    else:
        patient_out["external_id"] = _text(patient, "external_id", errors, "patient.", max_len=60)
        patient_out["first_name"] = _text(patient, "first_name", errors, "patient.", max_len=80)
        patient_out["last_name"] = _text(patient, "last_name", errors, "patient.", required=False, max_len=80)
        phone = patient.get("phone")
        if isinstance(phone, str) and CONTROL.search(phone):
            errors.add("patient.phone", "must not contain control characters")
        else:
            try:
                patient_out["phone"] = normalize(phone, runtime.settings().default_country)
            except ValidationError as exc:
                errors.add("patient.phone", exc.errors[0]["message"])
        email = patient.get("email")
        if email not in (None, ""):
            if not isinstance(email, str) or CONTROL.search(email) or not EMAIL.match(email.strip()):
                errors.add("patient.email", "is not an email address")
            else:
                patient_out["email"] = email.strip()
        birthday = patient.get("birthday")
        if birthday not in (None, ""):
            try:
                patient_out["birthday"] = date.fromisoformat(str(birthday))
            except ValueError:
                errors.add("patient.birthday", "must be a date like 1990-04-02")
            else:
                if not YEARS[0] <= patient_out["birthday"].year <= runtime.clock().now().year:
                    errors.add("patient.birthday", f"must be a real birthday, after {YEARS[0]} and not in the future")
                    del patient_out["birthday"]
        language = patient.get("language") or "en"
        if language not in LANGUAGES:
            errors.add("patient.language", f"must be one of {', '.join(LANGUAGES)}")
        patient_out["language"] = language
        consent = patient.get("consent")
        if consent is not None:
            if not isinstance(consent, dict):
                errors.add("patient.consent", "must be an object")
            else:
                consent_out = {
                    "care_sms": _flag(consent, "care_sms", errors, "patient.consent."),
                    "marketing_sms": _flag(consent, "marketing_sms", errors, "patient.consent."),
                    "source": _text(consent, "source", errors, "patient.consent.", required=False),
                    "at": _moment(consent, "at", errors, "patient.consent.", required=False),
                }
                if (consent_out["care_sms"] or consent_out["marketing_sms"]) and not consent_out["source"]:
                    errors.add("patient.consent.source", "is required when consent is given (where it was given)")

    referral_code = payload.get("referral_code")
    if referral_code is not None and not isinstance(referral_code, str):
        errors.add("referral_code", "must be a string")
    elif referral_code and (CONTROL.search(referral_code) or len(referral_code) > 60):
        errors.add("referral_code", "must be up to 60 characters, without control characters")
    if errors.items:
        raise ValidationError(errors.items)
    # A required field left None added its error above.
    assert external_id is not None and status is not None and start is not None and end is not None
    return AppointmentIn(
        external_id=external_id,
        status=status,
        start=start,
        end=end,
        service=service_out,
        provider=provider_out,
        location=location_out,
        price=amount,
        patient=patient_out,
        consent=consent_out,
        referral_code=(referral_code or None),
    )
