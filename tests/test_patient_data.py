"""A patient's data from the patient's page: a manager exports it, an admin erases it, only within their
own practice, and both land in the audit log with who did it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.consent.privacy import ERASED_PREFIX
from store.db import session_scope
from store.models import AuditEvent, Message, Patient
from tests import factories


@pytest.fixture
def clinic(settings, clock):
    """Practice A: Ana with one text, a manager, an admin, the front desk; practice B: Zed."""
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db)
        ana = factories.patient(db, practice.id)
        db.add(
            Message(
                practice_id=practice.id,
                patient_id=ana.id,
                direction="in",
                from_number=ana.phone,
                to_number=factories.AUSTIN_NUMBER,
                body="is swelling normal?",
                created_at=clock.now(),
            )
        )
        emails = {role: factories.staff(db, practice.id, role).email for role in ("manager", "admin", "front_desk")}
        other = factories.practice(db, slug="elsewhere", name="Elsewhere Spa")
        zed = factories.patient(db, other.id, first_name="Zed", phone="+13055550100")
        return {"ana": ana.id, "zed": zed.id, **emails}


def _client(app, email):
    client = app.test_client()
    return client, factories.sign_in(client, email)


def _actions(settings, patient_id):
    with session_scope(settings.database_url) as db:
        events = db.exec(
            select(AuditEvent).where(AuditEvent.subject_id == patient_id, AuditEvent.subject_type == "patient")
        )
        return [(e.action, e.actor) for e in events]


def test_a_manager_exports_a_patient_as_json_and_the_export_is_audited(app, settings, clinic):
    client, _ = _client(app, clinic["manager"])
    page = client.get(f"/patients/{clinic['ana']}").get_data(as_text=True)
    assert f'href="/patients/{clinic["ana"]}/export.json"' in page
    answer = client.get(f"/patients/{clinic['ana']}/export.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="patient-{clinic["ana"]}.json"'
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.json
    assert data["patient"]["first_name"] == "Ana" and [m["body"] for m in data["messages"]] == ["is swelling normal?"]
    exports = [actor for action, actor in _actions(settings, clinic["ana"]) if action == "patient_exported"]
    assert len(exports) == 1 and exports[0].startswith("staff:")
    rows = client.get("/audit?action=patient_exported").get_data(as_text=True)
    assert "Manager 1" in rows and "Ana Ruiz" in rows


def test_an_admin_erases_a_patient_once_confirmed_and_the_erasure_is_audited(app, settings, clinic):
    client, token = _client(app, clinic["admin"])
    client.post(f"/patients/{clinic['ana']}/erase", data={"csrf_token": token, "confirm": "erase"})
    assert "Type ERASE to confirm" in client.get(f"/patients/{clinic['ana']}").get_data(as_text=True)
    with session_scope(settings.database_url) as db:
        assert db.get(Patient, clinic["ana"]).first_name == "Ana"  # a wrong confirmation erased nothing
    answer = client.post(f"/patients/{clinic['ana']}/erase", data={"csrf_token": token, "confirm": "ERASE"})
    assert answer.status_code == 302
    with session_scope(settings.database_url) as db:
        ana = db.get(Patient, clinic["ana"])
        assert ana.phone.startswith(ERASED_PREFIX) and ana.first_name is None and ana.opted_out_at is not None
        assert db.exec(select(Message).where(Message.patient_id == clinic["ana"])).all() == []
    assert [a for a, _ in _actions(settings, clinic["ana"]) if a == "patient_erased"] == ["patient_erased"]
    page = client.get("/audit?action=patient_erased").get_data(as_text=True)
    assert "Admin 1" in page and "patient erased" in page
    assert "Erased on request" in client.get(f"/patients/{clinic['ana']}").get_data(as_text=True)


def test_another_practices_patient_cannot_be_exported_or_erased(app, settings, clinic):
    client, token = _client(app, clinic["admin"])
    assert client.get(f"/patients/{clinic['zed']}/export.json").status_code == 404
    assert (
        client.post(f"/patients/{clinic['zed']}/erase", data={"csrf_token": token, "confirm": "ERASE"}).status_code
        == 404
    )
    with session_scope(settings.database_url) as db:
        assert db.get(Patient, clinic["zed"]).first_name == "Zed"
    assert _actions(settings, clinic["zed"]) == []


def test_export_is_for_managers_and_erasure_for_admins(app, settings, clinic):
    desk, _ = _client(app, clinic["front_desk"])
    assert desk.get(f"/patients/{clinic['ana']}/export.json").status_code == 403
    assert "Patient data" not in desk.get(f"/patients/{clinic['ana']}").get_data(as_text=True)
    manager, token = _client(app, clinic["manager"])
    answer = manager.post(f"/patients/{clinic['ana']}/erase", data={"csrf_token": token, "confirm": "ERASE"})
    assert answer.status_code == 403
    assert "Erase patient" not in manager.get(f"/patients/{clinic['ana']}").get_data(as_text=True)
    with session_scope(settings.database_url) as db:
        assert db.get(Patient, clinic["ana"]).first_name == "Ana"
