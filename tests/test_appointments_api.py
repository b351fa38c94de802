"""POST /api/appointments: HMAC, field-level errors, upsert by external id."""

from __future__ import annotations

import copy

from sqlmodel import select

from store.db import session_scope
from store.models import Appointment, AuditEvent, Location, Patient, Service
from tests.helpers import APPOINTMENT
from tests.helpers import post_appointment as post


def count(db_url, model):
    with session_scope(db_url) as session:
        return len(session.exec(select(model)).all())


def test_signed_appointment_is_stored(client, settings):
    response = post(client, APPOINTMENT)
    assert response.status_code == 200, response.json
    with session_scope(settings.database_url) as session:
        appointment = session.get(Appointment, response.json["appointment_id"])
        patient = session.get(Patient, response.json["patient_id"])
        assert appointment.status == "completed" and appointment.external_id == "A-1001"
        assert appointment.start_at.isoformat() == "2026-11-20T21:00:00+00:00"
        assert (patient.phone, patient.language, patient.care_sms, patient.marketing_sms) == (
            "+15125550143",
            "es",
            True,
            False,
        )
        assert patient.care_sms_source == "intake form"


def test_same_external_id_updates_instead_of_duplicating(client, settings):
    first = post(client, APPOINTMENT).json
    changed = copy.deepcopy(APPOINTMENT)
    changed["status"] = "no_show"
    changed["patient"]["first_name"] = "Ana María"
    second = post(client, changed).json
    assert first["appointment_id"] == second["appointment_id"]
    assert count(settings.database_url, Appointment) == 1 and count(settings.database_url, Patient) == 1
    with session_scope(settings.database_url) as session:
        assert session.get(Appointment, first["appointment_id"]).status == "no_show"
        assert session.get(Patient, first["patient_id"]).first_name == "Ana María"


def test_spanish_service_name_and_location_phone_are_stored_and_kept(client, settings):
    named = copy.deepcopy(APPOINTMENT)
    named["service"]["name_es"] = "Botox en la frente"
    named["location"]["phone"] = "(305) 555-0100"
    first = post(client, named)
    assert first.status_code == 200, first.json
    again = copy.deepcopy(APPOINTMENT)  # a later sync that leaves both out changes neither
    again["external_id"] = "A-1002"
    assert post(client, again).status_code == 200
    with session_scope(settings.database_url) as session:
        assert session.get(Service, first.json["service_id"]).name_es == "Botox en la frente"
        assert session.get(Location, first.json["location_id"]).phone == "+13055550100"


def test_bad_spanish_service_name_and_location_phone_get_field_errors(client, settings):
    bad = copy.deepcopy(APPOINTMENT)
    bad["service"]["name_es"] = ["Botox", "en la frente"]
    bad["location"]["phone"] = "555"
    response = post(client, bad)
    assert response.status_code == 400
    assert {e["field"]: e["message"] for e in response.json["errors"]} == {
        "service.name_es": "must be a string",
        "location.phone": "… is not a valid number",
    }
    bad["service"]["name_es"] = True
    bad["location"]["phone"] = "+13055550100"
    assert [e["field"] for e in post(client, bad).json["errors"]] == ["service.name_es"]
    assert count(settings.database_url, Service) == 0


def test_bad_signature_gets_401_and_stores_nothing(client, settings):
    assert post(client, APPOINTMENT, secret="wrong").status_code == 401
    response = client.post("/api/appointments", json=APPOINTMENT)
    assert response.status_code == 401
    assert count(settings.database_url, Appointment) == 0


def test_malformed_appointment_gets_field_errors(client, settings):
    bad = copy.deepcopy(APPOINTMENT)
    bad["start"] = "next tuesday"
    bad["status"] = "done"
    bad["service"]["category"] = "magic"
    bad["patient"]["phone"] = "12"
    bad["patient"]["birthday"] = "04/02/1990"
    bad["location"]["timezone"] = "Mars/Olympus"
    response = post(client, bad)
    assert response.status_code == 400
    fields = {error["field"] for error in response.json["errors"]}
    assert fields == {"start", "status", "service.category", "patient.phone", "patient.birthday", "location.timezone"}
    assert count(settings.database_url, Appointment) == 0 and count(settings.database_url, Service) == 0


def test_body_that_is_not_json_gets_400(client, settings):
    response = post(client, None, raw=b"{not json")
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "(body)"


def test_naive_times_and_end_before_start_are_refused(client):
    bad = {**APPOINTMENT, "start": "2026-11-20T15:00:00", "end": "2026-11-20T14:00:00-06:00"}
    fields = {e["field"] for e in post(client, bad).json["errors"]}
    assert fields == {"start"}
    bad = {**APPOINTMENT, "end": "2026-11-20T14:00:00-06:00"}
    assert {e["field"] for e in post(client, bad).json["errors"]} == {"end"}


def test_practice_system_cannot_undo_an_opt_out(client, settings, clock):
    patient_id = post(client, APPOINTMENT).json["patient_id"]
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        patient.opted_out_at, patient.care_sms = clock.now(), False
        session.add(patient)
    again = copy.deepcopy(APPOINTMENT)
    again["patient"]["consent"]["marketing_sms"] = True
    assert post(client, again).status_code == 200
    with session_scope(settings.database_url) as session:
        patient = session.get(Patient, patient_id)
        assert patient.opted_out_at is not None and not patient.care_sms and not patient.marketing_sms
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "consent_ignored_opted_out")).first()
