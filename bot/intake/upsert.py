"""A validated appointment into the tables, upserted by external id; a completed visit plans its touches."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from bot import runtime
from bot.consent.privacy import erased_number
from bot.errors import ValidationError
from bot.intake.number_fix import number_changed
from bot.intake.referrals import link_referral
from bot.intake.schema import AppointmentIn
from bot.touches.planner import plan_appointment
from store.models import (
    Appointment,
    AuditEvent,
    Location,
    Patient,
    Practice,
    Provider,
    Service,
)

log = logging.getLogger(__name__)


def _default_practice(session: Session) -> Practice:
    practice = session.exec(select(Practice).order_by(col(Practice.id))).first()
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
    practice = session.get_one(Practice, location.practice_id) if location else _default_practice(session)
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
        link_referral(session, practice.id, patient, appointment, item.referral_code, now)
    if previous_status != appointment.status:
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
    if patient is None and erased_number(session, data["phone"], practice_id) is not None:
        # Erased on request: storing the patient again would undo the erasure and could text them.
        raise ValidationError([{"field": "patient.phone", "message": "belongs to a patient erased on request"}])
    if patient is None:
        patient = Patient(practice_id=practice_id, phone=data["phone"], created_at=now)
    old_phone = patient.phone
    for key in ("external_id", "phone", "first_name", "last_name", "email", "birthday", "language"):
        if data.get(key) is not None:
            setattr(patient, key, data[key])
    if patient.id is not None:  # the practice fixed the number: the old number's flag goes with it
        number_changed(session, patient, old_phone, actor=source, now=now)
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
