"""Two practices on one installation: staff see only their own practice's patients, texts and escalations;
texts from numbers no practice owns are shown to admins alone."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.cli import main
from bot.staff.api_tokens import practice_token
from store.db import session_scope
from store.models import Escalation, Location, Message
from tests import factories
from tests.helpers import API_TOKEN

OTHER_NUMBER = "+13055550100"
"""Practice B's number."""


def _text(db, practice_id, patient, to, body, now):
    message = Message(
        practice_id=practice_id,
        patient_id=patient.id if patient else None,
        direction="in",
        kind="inbound",
        from_number=patient.phone if patient else "+12125550199",
        to_number=to,
        body=body,
        created_at=now,
    )
    db.add(message)
    db.flush()
    escalation = Escalation(
        practice_id=practice_id,
        patient_id=patient.id if patient else None,
        message_id=message.id,
        urgency="urgent",
        reason="question",
        created_at=now,
    )
    db.add(escalation)
    db.flush()
    return escalation.id


@pytest.fixture
def two_practices(settings, clock):
    """Practice A (Austin) and B (Miami), each with a patient who texted, and one unrouted text."""
    now = clock.now()
    with session_scope(settings.database_url) as db:
        a = factories.practice(db)
        b = factories.practice(db, name="Other Spa", slug="other", phone="+13055550199")
        db.exec(select(Location).where(Location.practice_id == b.id)).one().sms_number = OTHER_NUMBER
        ana = factories.patient(db, a.id, first_name="Anastasia")
        bea = factories.patient(db, b.id, first_name="Beatrix", phone="+13055550143")
        return {
            "a_patient": ana.id,
            "b_patient": bea.id,
            "a_escalation": _text(db, a.id, ana, factories.AUSTIN_NUMBER, "A-only text", now),
            "b_escalation": _text(db, b.id, bea, OTHER_NUMBER, "B-only text", now),
            "unrouted": _text(db, None, None, "+15005550006", "unrouted text", now),
            # A text from Beatrix's phone to practice A's number, not yet linked: A's, not B's.
            "stray": db.add(
                Message(
                    direction="in",
                    kind="inbound",
                    from_number=bea.phone,
                    to_number=factories.AUSTIN_NUMBER,
                    body="stray to A",
                    created_at=now,
                )
            ),
            "b_nurse": factories.staff(db, b.id, "nurse").email,
            "b_admin": factories.staff(db, b.id, "admin").email,
            "b_manager": factories.staff(db, b.id, "manager").email,
        }


def test_another_practices_patient_is_404(client, two_practices):
    factories.sign_in(client, two_practices["b_nurse"])
    assert client.get(f"/patients/{two_practices['a_patient']}").status_code == 404
    assert client.get(f"/patients/{two_practices['b_patient']}").status_code == 200


def test_another_practices_escalation_cannot_be_handled(client, settings, two_practices):
    token = factories.sign_in(client, two_practices["b_nurse"])
    for action in ("acknowledge", "resolve"):
        answer = client.post(f"/escalations/{two_practices['a_escalation']}/{action}", data={"csrf_token": token})
        assert answer.status_code == 404
    with session_scope(settings.database_url) as db:
        assert db.get(Escalation, two_practices["a_escalation"]).status == "open"


def test_the_inbox_shows_only_this_practice_and_unrouted_texts_only_to_admins(app, two_practices):
    nurse, admin = app.test_client(), app.test_client()
    factories.sign_in(nurse, two_practices["b_nurse"])
    factories.sign_in(admin, two_practices["b_admin"])
    seen_by_nurse = nurse.get("/").get_data(as_text=True)
    seen_by_admin = admin.get("/").get_data(as_text=True)
    assert "B-only text" in seen_by_nurse and "B-only text" in seen_by_admin
    assert "A-only text" not in seen_by_nurse + seen_by_admin
    assert "unrouted text" not in seen_by_nurse and "unrouted text" in seen_by_admin
    answer = nurse.post(f"/escalations/{two_practices['unrouted']}/acknowledge", data={"csrf_token": "x"})
    assert answer.status_code in (400, 404)


def test_lists_and_transcripts_never_show_the_other_practice(app, two_practices):
    client = app.test_client()
    factories.sign_in(client, two_practices["b_manager"])
    listed = client.get("/patients").get_data(as_text=True)
    assert "Beatrix" in listed and "Anastasia" not in listed
    transcript = client.get(f"/patients/{two_practices['b_patient']}").get_data(as_text=True)
    assert "B-only text" in transcript and "stray to A" not in transcript
    assert client.get("/numbers").status_code == 200


def _api(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_the_read_api_with_a_practice_token_shows_only_that_practice(client, two_practices):
    token = practice_token(API_TOKEN, "other")  # practice B's
    found = _api(client, token, "/api/patients?phone=+13055550143")
    assert [p["first_name"] for p in found.json["patients"]] == ["Beatrix"]
    assert _api(client, token, "/api/patients?phone=+15125550143").json["patients"] == []  # A's patient: not found
    assert _api(client, token, f"/api/patients/{two_practices['a_patient']}/timeline").status_code == 404
    timeline = _api(client, token, f"/api/patients/{two_practices['b_patient']}/timeline")
    assert timeline.status_code == 200
    assert [e["body"] for e in timeline.json["events"] if e["type"] == "message"] == ["B-only text"]
    ids = [e["id"] for e in _api(client, token, "/api/escalations").json["escalations"]]
    assert ids == [two_practices["b_escalation"]]  # neither A's nor the unrouted one


def test_the_installation_token_cannot_read_across_practices(client, two_practices):
    answer = _api(client, API_TOKEN, f"/api/patients/{two_practices['b_patient']}/timeline")
    assert answer.status_code == 401
    assert "practice's own token" in answer.json["error"]
    forged = practice_token("not-the-installation-token", "other")
    assert _api(client, forged, "/api/escalations").status_code == 401
    assert _api(client, "other.", "/api/escalations").status_code == 401


def test_the_installation_token_reads_the_only_practice(client, settings):
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db)
        patient_id = factories.patient(db, practice.id).id
    assert _api(client, API_TOKEN, f"/api/patients/{patient_id}/timeline").status_code == 200


def test_the_cli_prints_a_practice_token(settings, two_practices, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AFTERCARE_API_TOKEN", API_TOKEN)
    assert main(["practice", "--practice", "other", "api-token"]) == 0
    assert capsys.readouterr().out.strip() == practice_token(API_TOKEN, "other")
