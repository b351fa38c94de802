"""`aftercare patient export|erase`: a patient's data on request, the opt-out outliving the erasure."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.cli import main
from store.db import session_scope
from store.models import Appointment, AuditEvent, Escalation, Message, Patient, Touch
from tests import factories


def seed(db_url, clock):
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        patient = factories.patient(session, practice.id, email="ana@example.com")
        other = factories.patient(
            session, practice.id, phone="+15125550177", first_name="Bea", referred_by_id=patient.id
        )
        service = factories.service(session, practice.id)
        factories.appointment(session, patient, service, clock.now() - timedelta(days=3))
        message = Message(
            practice_id=practice.id,
            patient_id=patient.id,
            direction="in",
            kind="inbound",
            from_number=patient.phone,
            to_number=factories.AUSTIN_NUMBER,
            body="my lip is white",
        )
        session.add(message)
        session.flush()
        session.add(
            Escalation(
                practice_id=practice.id,
                patient_id=patient.id,
                message_id=message.id,
                urgency="emergency",
                reason="redflag",
            )
        )
        session.add(
            Touch(
                practice_id=practice.id,
                patient_id=patient.id,
                plan="filler",
                step="d14",
                purpose="results",
                due_at=clock.now() + timedelta(days=11),
            )
        )
        return patient.id, other.id


def test_export_prints_everything_held(settings, clock, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    patient_id, _ = seed(settings.database_url, clock)
    assert main(["patient", "export", "--patient", str(patient_id)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["patient"]["email"] == "ana@example.com"
    assert [m["body"] for m in data["messages"]] == ["my lip is white"]
    assert len(data["appointments"]) == 1 and len(data["touches"]) == 1 and len(data["escalations"]) == 1
    assert main(["patient", "export", "--patient", "999"]) == 1


def test_erase_keeps_only_the_number_and_its_opt_out(settings, clock, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    patient_id, other_id = seed(settings.database_url, clock)
    assert main(["patient", "erase", "--patient", str(patient_id)]) == 2  # needs --yes
    assert main(["patient", "erase", "--patient", str(patient_id), "--yes"]) == 0
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        assert (patient.first_name, patient.last_name, patient.email) == (None, None, None)
        assert patient.phone == "+15125550143" and patient.opted_out_at is not None
        assert not patient.care_sms and not patient.marketing_sms
        for model in (Message, Touch, Escalation, Appointment):
            assert session.exec(select(model).where(model.patient_id == patient_id)).all() == []
        assert session.get(Patient, other_id).referred_by_id is None
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "patient_erased")).one()
