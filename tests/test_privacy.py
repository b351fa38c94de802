"""`aftercare patient export|erase`: a patient's data on request, the opt-out outliving the erasure."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot import runtime
from bot.cli import main
from bot.consent.gate import held, refusal
from bot.consent.privacy import ERASED_PREFIX, erase_patient, erased_marker
from bot.intake.csv_import import import_csv
from store.db import session_scope
from store.models import Appointment, AuditEvent, Escalation, Message, Patient, Touch
from tests import factories
from tests.helpers import APPOINTMENT, PATIENT, post_appointment, seed_visit, sent_to, text_in
from tests.helpers import CSV_ROW as GOOD
from tests.helpers import write_csv as write


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


def test_erase_keeps_only_the_hashed_number_and_its_opt_out(settings, clock, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    patient_id, other_id = seed(settings.database_url, clock)
    assert main(["patient", "erase", "--patient", str(patient_id)]) == 2  # needs --yes
    assert main(["patient", "erase", "--patient", str(patient_id), "--yes"]) == 0
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        assert (patient.first_name, patient.last_name, patient.email) == (None, None, None)
        assert patient.phone.startswith(ERASED_PREFIX) and "5125550143" not in patient.phone
        assert patient.opted_out_at is not None
        assert not patient.care_sms and not patient.marketing_sms
        for model in (Message, Touch, Escalation, Appointment):
            assert session.exec(select(model).where(model.patient_id == patient_id)).all() == []
        assert session.get(Patient, other_id).referred_by_id is None
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "patient_erased")).one()


def _erase_ana(db_url) -> int:
    ids = seed_visit(db_url)
    with session_scope(db_url) as session:
        erase_patient(session, ids["patient_id"])
    return ids["patient_id"]


def test_the_hash_knows_every_spelling_of_the_number_and_depends_on_the_key(settings, clock):
    marker = erased_marker("+15125550143")
    assert marker == erased_marker("(512) 555-0143") != erased_marker("+15125550144")
    assert "5125550143" not in marker
    runtime.configure(runtime.settings().with_(erasure_key="a dedicated key"), clock)
    assert erased_marker("+15125550143") != marker


def test_a_text_from_an_erased_number_changes_nothing_and_opens_an_admin_item(settings, twilio, clock, db_url):
    runtime.configure(runtime.settings().with_(twilio_confirms_opt_out=False), clock)
    patient_id = _erase_ana(db_url)
    text_in("START")
    text_in("hi, can I book again?")
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        patient = session.get(Patient, patient_id)
        assert patient.opted_out_at is not None and not patient.care_sms
        assert session.exec(select(Patient).where(Patient.phone == PATIENT)).all() == []
        items = session.exec(select(Escalation)).all()
        assert [(e.reason, e.practice_id, e.patient_id) for e in items] == [
            ("erased_number_texted", patient.practice_id, None)
        ] * 2
        assert session.exec(select(Touch)).all() == []


def test_a_practice_system_cannot_bring_an_erased_number_back(client, settings, db_url):
    first = post_appointment(client, APPOINTMENT)
    with session_scope(db_url) as session:
        erase_patient(session, first.json["patient_id"])
    again = post_appointment(client, {**APPOINTMENT, "external_id": "A-NEW"})
    assert again.status_code == 400
    assert again.json["errors"][0]["field"] == "patient.phone"
    with session_scope(db_url) as session:
        assert session.exec(select(Patient).where(Patient.phone == APPOINTMENT["patient"]["phone"])).all() == []
        assert [a.external_id for a in session.exec(select(Appointment))] == []


def test_a_csv_import_cannot_bring_an_erased_number_back(tmp_path, settings, db_url):
    report = import_csv(write(tmp_path / "in.csv", [GOOD]), db_url)
    assert report.imported == 1
    with session_scope(db_url) as session:
        erase_patient(session, session.exec(select(Patient)).one().id)
    again = {**GOOD, "external_id": "A-2", "patient_external_id": "C-NEW"}
    report = import_csv(write(tmp_path / "again.csv", [again]), db_url)
    assert report.imported == 0
    assert [(line, errors[0]["field"]) for line, errors in report.errors] == [(2, "patient.phone")]
    with session_scope(db_url) as session:
        assert not any(p.phone.startswith("+") for p in session.exec(select(Patient)))


def test_the_send_gate_refuses_an_erased_number(settings, clock, db_url):
    patient_id = _erase_ana(db_url)
    with session_scope(db_url) as session:
        patient = session.get(Patient, patient_id)
        assert refusal(session, patient, clock.now(), kind="touch", reply_kind="opt_out") == "erased"
    with held(patient_id, PATIENT, kind="reply", reply_kind="opt_out") as check:
        assert check.refusal == "erased"
    # Even a row that somehow still names the number (another practice, a stale id) is refused.
    with held(10_000, PATIENT, kind="touch") as check:
        assert check.refusal == "erased"
