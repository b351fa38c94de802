"""Appointments in from any practice system: validated field by field, upserted by external id.

The JSON webhook and the CSV import both end here, so both accept exactly the same fields.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.errors import ValidationError
from bot.messaging.phones import normalize
from store.models import (
    Appointment,
    AuditEvent,
    Escalation,
    Location,
    Patient,
    Practice,
    Provider,
    Referral,
    Service,
    Touch,
)

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
    price: float | None
    patient: dict
    consent: dict | None
    referral_code: str | None = None
    extra: dict = field(default_factory=dict)


class _Errors:
    def __init__(self):
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
    value = str(value).strip()
    if len(value) > max_len:
        errors.add(path + key, f"is longer than {max_len} characters")
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
            if tz:
                try:
                    ZoneInfo(tz)
                except (ZoneInfoNotFoundError, ValueError):
                    errors.add("location.timezone", f"{tz!r} is not an IANA time zone like America/Chicago")
            location_out = {
                "external_id": _text(location, "external_id", errors, "location.", max_len=60),
                "timezone": tz,
            }
            if location.get("phone") not in (None, ""):
                try:
                    location_out["phone"] = normalize(location["phone"], runtime.settings().default_country)
                except ValidationError as exc:
                    errors.add("location.phone", exc.errors[0]["message"])

    price = payload.get("price")
    if price in ("", None):
        price = None
    else:
        try:
            price = float(price)
            if price < 0:
                errors.add("price", "must not be negative")
        except (TypeError, ValueError):
            errors.add("price", "must be a number")
            price = None

    patient = payload.get("patient")
    patient_out: dict = {}
    consent_out = None
    if not isinstance(patient, dict):
        errors.add("patient", "is required (an object with external_id, first_name, phone, …)")
    else:
        patient_out["external_id"] = _text(patient, "external_id", errors, "patient.", max_len=60)
        patient_out["first_name"] = _text(patient, "first_name", errors, "patient.", max_len=80)
        patient_out["last_name"] = _text(patient, "last_name", errors, "patient.", required=False, max_len=80)
        try:
            patient_out["phone"] = normalize(patient.get("phone"), runtime.settings().default_country)
        except ValidationError as exc:
            errors.add("patient.phone", exc.errors[0]["message"])
        email = patient.get("email")
        if email not in (None, ""):
            if not isinstance(email, str) or not EMAIL.match(email.strip()):
                errors.add("patient.email", "is not an email address")
            else:
                patient_out["email"] = email.strip()
        birthday = patient.get("birthday")
        if birthday not in (None, ""):
            try:
                patient_out["birthday"] = date.fromisoformat(str(birthday))
            except ValueError:
                errors.add("patient.birthday", "must be a date like 1990-04-02")
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
    if errors.items:
        raise ValidationError(errors.items)
    return AppointmentIn(
        external_id=external_id,
        status=status,
        start=start,
        end=end,
        service=service_out,
        provider=provider_out,
        location=location_out,
        price=price,
        patient=patient_out,
        consent=consent_out,
        referral_code=(referral_code or None),
    )


def _default_practice(session: Session) -> Practice:
    practice = session.exec(select(Practice).order_by(Practice.id)).first()
    if practice is None:
        practice = Practice(name="My Med Spa", slug="my-med-spa")
        session.add(practice)
        session.flush()
    return practice


def upsert(session: Session, item: AppointmentIn, source: str = "api") -> dict:
    """Create or update the appointment and what it names; returns the stored ids."""
    now = runtime.clock().now()
    location = None
    if item.location and item.location["external_id"]:
        location = session.exec(select(Location).where(Location.external_id == item.location["external_id"])).first()
    practice = session.get(Practice, location.practice_id) if location else _default_practice(session)
    if item.location:
        if location is None:
            location = Location(
                practice_id=practice.id,
                external_id=item.location["external_id"],
                name=item.location["external_id"],
                timezone=item.location["timezone"],
            )
        location.timezone = item.location["timezone"]
        if item.location.get("phone"):
            location.phone = item.location["phone"]
        session.add(location)

    service = session.exec(
        select(Service).where(Service.practice_id == practice.id, Service.code == item.service["code"])
    ).first()
    if service is None:
        minutes = max(5, int((item.end - item.start).total_seconds() // 60))
        service = Service(
            practice_id=practice.id,
            code=item.service["code"],
            name=item.service["name"],
            category=item.service["category"],
            duration_min=minutes,
            price=item.price,
        )
    service.name = item.service["name"]
    service.category = item.service["category"]
    if item.service.get("area"):
        service.area = item.service["area"]
    if item.service.get("name_es"):
        service.name_es = item.service["name_es"]
    session.add(service)

    provider = None
    if item.provider:
        provider = session.exec(
            select(Provider).where(
                Provider.practice_id == practice.id, Provider.external_id == item.provider["external_id"]
            )
        ).first()
        if provider is None:
            provider = Provider(
                practice_id=practice.id, external_id=item.provider["external_id"], name=item.provider["name"]
            )
        provider.name = item.provider["name"]
        session.add(provider)

    patient = _upsert_patient(session, practice.id, item, source, now)
    session.flush()

    appointment = session.exec(
        select(Appointment).where(Appointment.practice_id == practice.id, Appointment.external_id == item.external_id)
    ).first()
    previous_status = appointment.status if appointment else None
    if appointment is None:
        appointment = Appointment(
            practice_id=practice.id,
            external_id=item.external_id,
            patient_id=patient.id,
            service_id=service.id,
            start_at=item.start,
            end_at=item.end,
            source=source,
            created_at=now,
        )
    appointment.patient_id = patient.id
    appointment.service_id = service.id
    appointment.provider_id = provider.id if provider else None
    appointment.location_id = location.id if location else None
    appointment.status = item.status
    appointment.start_at = item.start
    appointment.end_at = item.end
    appointment.price = item.price
    appointment.referral_code = item.referral_code
    appointment.updated_at = now
    session.add(appointment)
    session.flush()
    if item.referral_code:
        _link_referral(session, practice.id, patient, appointment, item.referral_code, now)
    if previous_status != appointment.status:
        from bot.touches.planner import plan_appointment

        plan_appointment(session, appointment.id)
    return {
        "appointment_id": appointment.id,
        "patient_id": patient.id,
        "service_id": service.id,
        "provider_id": provider.id if provider else None,
        "location_id": location.id if location else None,
        "practice_id": practice.id,
    }


def _upsert_patient(session: Session, practice_id: int, item: AppointmentIn, source: str, now: datetime) -> Patient:
    data = item.patient
    patient = session.exec(
        select(Patient).where(Patient.practice_id == practice_id, Patient.external_id == data["external_id"])
    ).first()
    if patient is None:
        patient = session.exec(
            select(Patient).where(Patient.practice_id == practice_id, Patient.phone == data["phone"])
        ).first()
    if patient is None:
        patient = Patient(practice_id=practice_id, phone=data["phone"], created_at=now)
    for key in ("external_id", "phone", "first_name", "last_name", "email", "birthday", "language"):
        if data.get(key) is not None:
            setattr(patient, key, data[key])
    consent = item.consent
    if consent:
        at = consent["at"] or now
        if patient.opted_out_at is not None and (consent["care_sms"] or consent["marketing_sms"]):
            # An opt-out is final: only the patient can reverse it (by texting START), not a system sync.
            session.add(
                AuditEvent(
                    practice_id=practice_id,
                    actor=source,
                    action="consent_ignored_opted_out",
                    subject_type="patient",
                    subject_id=patient.id,
                    created_at=now,
                )
            )
        else:
            if consent["care_sms"] is not None and consent["care_sms"] != patient.care_sms:
                patient.care_sms, patient.care_sms_source, patient.care_sms_at = (
                    consent["care_sms"],
                    consent["source"],
                    at,
                )
            if consent["marketing_sms"] is not None and consent["marketing_sms"] != patient.marketing_sms:
                patient.marketing_sms = consent["marketing_sms"]
                patient.marketing_sms_source, patient.marketing_sms_at = consent["source"], at
    session.add(patient)
    return patient


def _link_referral(
    session: Session, practice_id: int, patient: Patient, appointment: Appointment, code: str, now: datetime
) -> None:
    referrer = session.exec(
        select(Patient).where(Patient.practice_id == practice_id, Patient.referral_code == code)
    ).first()
    if referrer is None or referrer.id == patient.id:
        return
    if patient.referred_by_id is None:
        patient.referred_by_id = referrer.id
        session.add(patient)
    referral = session.exec(
        select(Referral).where(Referral.code == code, Referral.referred_patient_id == patient.id)
    ).first()
    if referral is None:  # the referral the referrer asked for by text, else a new one
        referral = session.exec(
            select(Referral)
            .where(Referral.code == code, Referral.status == "issued", col(Referral.referred_patient_id).is_(None))
            .order_by(Referral.id)
        ).first()
        referral = referral or Referral(practice_id=practice_id, referrer_id=referrer.id, code=code, created_at=now)
        referral.referred_patient_id = patient.id
    if referral.status == "issued" and appointment.status in ("booked", "completed"):
        referral.status = "booked"
        referral.booked_at = now
        referral.appointment_id = appointment.id
        _thank_referrer(session, referrer, appointment, now)
    session.add(referral)


def _thank_referrer(session: Session, referrer: Patient, appointment: Appointment, now: datetime) -> None:
    """Plan the referrer's thank-you text (the `referred` plan) and put the reward in the team's inbox."""
    from bot import runtime
    from bot.touches.planner import due_time
    from bot.touches.plans import REFERRED, plans_for

    practice = session.get(Practice, referrer.practice_id)
    session.add(
        Escalation(
            practice_id=referrer.practice_id,
            patient_id=referrer.id,
            urgency="routine",
            reason="referral_booked",
            created_at=now,
            note=f"A new patient booked with {referrer.referral_code}: apply the referral reward.",
        )
    )
    plan = plans_for(runtime.settings()).plans.get(REFERRED)
    for step in plan.steps if plan else ():
        session.add(
            Touch(
                practice_id=referrer.practice_id,
                patient_id=referrer.id,
                appointment_id=appointment.id,
                plan=REFERRED,
                step=step.key,
                purpose=step.purpose,
                channel=step.channel,
                marketing=step.marketing,
                due_at=due_time(now, step, practice.timezone or "UTC"),
                status="scheduled" if referrer.opted_out_at is None else "skipped",
                reason=None if referrer.opted_out_at is None else "opted_out",
                created_at=now,
                updated_at=now,
            )
        )


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, list[dict]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def row_to_payload(row: dict) -> dict:
    """A flattened CSV row as the JSON webhook's nested shape."""

    def get(key):
        value = row.get(key)
        return value.strip() if isinstance(value, str) else value

    consent_keys = ("consent_care_sms", "consent_marketing_sms", "consent_source", "consent_at")
    return {
        "external_id": get("external_id"),
        "status": get("status"),
        "start": get("start"),
        "end": get("end"),
        "service": {
            "code": get("service_code"),
            "name": get("service_name"),
            "category": get("service_category"),
            **({"area": get("service_area")} if get("service_area") else {}),
            **({"name_es": get("service_name_es")} if get("service_name_es") else {}),
        },
        "provider": (
            {"external_id": get("provider_external_id"), "name": get("provider_name")}
            if get("provider_external_id") or get("provider_name")
            else None
        ),
        "location": (
            {
                "external_id": get("location_external_id"),
                "timezone": get("location_timezone"),
                **({"phone": get("location_phone")} if get("location_phone") else {}),
            }
            if get("location_external_id") or get("location_timezone")
            else None
        ),
        "price": get("price"),
        "patient": {
            "external_id": get("patient_external_id"),
            "first_name": get("patient_first_name"),
            "last_name": get("patient_last_name"),
            "phone": get("patient_phone"),
            "email": get("patient_email"),
            "birthday": get("patient_birthday"),
            "language": get("patient_language") or "en",
            "consent": (
                {
                    "care_sms": get("consent_care_sms"),
                    "marketing_sms": get("consent_marketing_sms"),
                    "source": get("consent_source"),
                    "at": get("consent_at"),
                }
                if any(get(k) for k in consent_keys)
                else None
            ),
        },
        "referral_code": get("referral_code") or None,
    }


def import_csv(path, db_url: str, source: str = "csv") -> ImportReport:
    """Import a CSV file row by row: good rows are kept, bad rows reported by line number."""
    from store.db import session_scope

    report = ImportReport()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [
            name
            for name in ("external_id", "status", "start", "end", "service_code", "patient_phone")
            if name not in (reader.fieldnames or [])
        ]
        if missing:
            report.errors.append(
                (1, [{"field": name, "message": "column is missing from the header"} for name in missing])
            )
            return report
        line = reader.line_num
        for row in reader:
            start_line, line = line + 1, reader.line_num
            if None in row:
                report.errors.append((start_line, [{"field": "(row)", "message": "has more cells than the header"}]))
                continue
            try:
                item = validate(row_to_payload(row))
                with session_scope(db_url) as session:
                    upsert(session, item, source=source)
                report.imported += 1
            except ValidationError as exc:
                report.errors.append((start_line, exc.errors))
    return report
