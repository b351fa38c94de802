"""Route by role: every endpoint of the app, from its own url_map, for anonymous visitors and each role.

A route added without a rule in web/permissions.py fails here, and so does a
role reaching what the permission table does not give it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for
from sqlmodel import select

from bot.vocabulary import Access, Role
from store.db import session_scope
from store.models import Appointment, Escalation, Location, Message, OnCallShift
from tests import factories
from web import permissions

ROLES = ("front_desk", "nurse", "manager", "admin")
"""One staff role per access level (a nurse is a clinician)."""


@pytest.fixture
def demo_app(settings, monkeypatch):
    """The app with every surface mounted: demo mode, a local Twilio (nothing listens there), bench endpoints."""
    from app import create_app

    monkeypatch.setenv("AFTERCARE_BENCH_ENDPOINTS", "1")
    return create_app(settings.with_(demo=True, twilio_api_base_url="http://127.0.0.1:9"))


@pytest.fixture
def clinic(settings, clock):
    """A practice with one patient, an open escalation, a requested visit, and one staff member per role."""
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db)
        patient = factories.patient(db, practice.id)
        service = factories.service(db, practice.id)
        escalation = Escalation(
            practice_id=practice.id, patient_id=patient.id, urgency="routine", reason="question", created_at=clock.now()
        )
        db.add(escalation)
        provider = factories.provider(db, practice.id)
        location = db.exec(select(Location).where(Location.practice_id == practice.id)).first()
        appointment = factories.appointment(
            db,
            patient,
            service,
            clock.now() + timedelta(days=2),
            status="requested",
            provider_id=provider.id,
            location_id=location.id,
        )
        people = {role: factories.staff(db, practice.id, role, phone=f"+1512555012{i}") for i, role in enumerate(ROLES)}
        staff = {role: person.email for role, person in people.items()}
        line = OnCallShift(
            practice_id=practice.id, staff_user_id=people["nurse"].id, weekday=0, start="08:00", end="17:00"
        )
        db.add(line)
        colleague = factories.staff(db, practice.id, "injector")  # whose account the users pages change
        draft = Message(
            practice_id=practice.id,
            patient_id=patient.id,
            direction="out",
            kind="reply",
            reply_kind="thanks",
            from_number=factories.AUSTIN_NUMBER,
            to_number=patient.phone,
            body="Thank you!",
            status="draft",
        )
        db.add(draft)
        db.flush()
        return {
            "patient_id": patient.id,
            "escalation_id": escalation.id,
            "message_id": draft.id,
            "appointment_id": appointment.id,
            "answer": "decline",
            "name": "none.eml",
            "filename": "app.css",
            "staff": staff,
            "staff_id": colleague.id,
            "location_id": location.id,
            "line_id": line.id,
            "ref": "neuromodulator.checkin",
        }


def _staff_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in permissions.PUBLIC | permissions.MACHINE]


def test_every_role_grants_an_access_level():
    assert set(permissions.ACCESS_OF_ROLE) == set(Role)
    assert {permissions.access_of(role) for role in ROLES} == set(Access)


def test_every_route_has_a_rule(demo_app):
    classified = permissions.PUBLIC | permissions.MACHINE | permissions.SIGNED_IN | set(permissions.ROUTES)
    endpoints = {rule.endpoint for rule in demo_app.url_map.iter_rules()}
    assert endpoints - classified == set(), "give each new route a rule in web/permissions.py"
    assert set(permissions.ROUTES) - endpoints == set(), "rules for routes that no longer exist"
    assert all(needed in permissions.PERMISSIONS for needed in permissions.ROUTES.values())


def test_a_route_without_a_rule_is_refused_to_everyone(demo_app, settings, clinic):
    demo_app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    client = demo_app.test_client()
    factories.sign_in(client, clinic["staff"]["admin"])
    assert client.get("/forgotten").status_code == 403


def _url(app, rule, clinic) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{arg: clinic[arg] for arg in rule.arguments})


def _call(client, app, rule, clinic, token):
    url = _url(app, rule, clinic)
    if "GET" in rule.methods:
        return client.get(url)
    return client.post(url, data={"csrf_token": token, "body": "On my way", "note": "done"})


@pytest.mark.parametrize("role", (None, *ROLES), ids=("anonymous", *ROLES))
def test_route_by_role(demo_app, clinic, role):
    """Each staff route: anonymous → sign in; a role with the permission gets through; one without gets 403."""
    client = demo_app.test_client()
    token = factories.sign_in(client, clinic["staff"][role]) if role else factories.csrf_token(client)
    seen = []
    for rule in _staff_rules(demo_app):
        if rule.endpoint == "auth.logout":
            continue  # it would end the session the rest of the matrix needs; test_sessions covers it
        answer = _call(client, demo_app, rule, clinic, token)
        needed = permissions.ROUTES.get(rule.endpoint)
        if role is None:
            refused = answer.status_code == 401 or answer.headers.get("Location", "").startswith("/login")
            assert refused, f"{rule.endpoint} answered {answer.status_code} to an anonymous visitor"
        elif needed is None or permissions.may(role, needed):
            assert answer.status_code not in (401, 403, 500), f"{rule.endpoint} answered {role} {answer.status_code}"
            assert not answer.headers.get("Location", "").startswith("/login"), f"{rule.endpoint} signed {role} out"
        else:
            assert answer.status_code == 403, f"{rule.endpoint} let {role} through ({answer.status_code})"
        seen.append(rule.endpoint)
    assert "dashboard.patient" in seen and "simulator.send" in seen and "dashboard.numbers" in seen
    assert "dashboard.users" in seen and "dashboard.reset_user_password" in seen and "dashboard.audit_log" in seen


def test_machine_routes_refuse_unsigned_callers(demo_app):
    client = demo_app.test_client()
    for rule in demo_app.url_map.iter_rules():
        if rule.endpoint not in permissions.MACHINE or rule.endpoint.startswith("bench."):
            continue
        url = _url(demo_app, rule, {"patient_id": 1, "appointment_id": 1})
        answer = client.get(url) if "GET" in rule.methods else client.post(url, data={"From": "+15125550143"})
        assert answer.status_code in (401, 403), f"{rule.endpoint} answered {answer.status_code} unsigned"


def test_a_form_posted_without_its_csrf_token_is_refused(demo_app, settings, clinic):
    client = demo_app.test_client()
    factories.sign_in(client, clinic["staff"]["nurse"])
    answer = client.post(f"/patients/{clinic['patient_id']}/takeover", data={})
    assert answer.status_code == 400 and "form expired" in answer.get_data(as_text=True)
    with session_scope(settings.database_url) as db:
        from store.models import ConversationState

        assert db.get(ConversationState, clinic["patient_id"]) is None


def test_the_front_desk_cannot_take_over_but_can_confirm_a_visit(demo_app, settings, clinic):
    client = demo_app.test_client()
    token = factories.sign_in(client, clinic["staff"]["front_desk"])
    assert client.post(f"/patients/{clinic['patient_id']}/takeover", data={"csrf_token": token}).status_code == 403
    answer = client.post(f"/appointments/{clinic['appointment_id']}/decline", data={"csrf_token": token})
    assert answer.status_code == 302
    with session_scope(settings.database_url) as db:
        assert db.get(Appointment, clinic["appointment_id"]).status != "requested"
