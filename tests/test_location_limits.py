"""Staff limited to some locations of their practice (StaffUser.location_ids, store.scope), on the demo
practice (Austin and Miami): the route-by-role matrix from the app's own url_map, for a limited front desk,
manager and admin. Every page they may open leaves out the other location's patients, every detail URL of
the other location's patient, escalation, draft or visit is a 404, the figures and exports cover their
location only, and admins set and lift the limit on the Users page and with `aftercare staff` (audited).

Which patient belongs where is worked out here from the rows themselves (visits and the numbers texted),
not with store.scope, so the rule is checked rather than repeated.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for
from sqlmodel import select

from bot.cli import main
from bot.demo.seed import ADMIN_EMAIL, DEMO_PASSWORD, MANAGER_EMAIL, MIAMI_DESK_EMAIL
from bot.staff import paging
from bot.vocabulary import Role
from store.db import session_scope
from store.models import (
    Appointment,
    AuditEvent,
    Correction,
    Escalation,
    Location,
    Message,
    OnCallShift,
    Patient,
    Service,
    StaffUser,
)
from tests import factories, helpers
from web import permissions

LIMITED = {"front_desk": MIAMI_DESK_EMAIL, "manager": MANAGER_EMAIL, "admin": ADMIN_EMAIL}
"""Who is limited to Miami in each run: the demo's Miami front desk, and the manager and admin limited here."""

DEMO_ONLY = ("simulator.", "mail.")
"""The patient simulator and the mail sink: demo tools, mounted only in demo mode, that show every patient."""

OBJECTS = ("patient_id", "escalation_id", "message_id", "appointment_id")
"""Route arguments that name a row of one location."""


def sign_in(email: str, password: str = DEMO_PASSWORD):
    """A test client signed in as this staff member, and the CSRF token of its signed-in session."""
    client, _ = helpers.sign_in(email, password)
    return client, factories.csrf_token(client, "/")


def _places(db_url: str) -> dict[str, Location]:
    with session_scope(db_url) as db:
        found = {loc.external_id: loc for loc in db.exec(select(Location))}
        db.expunge_all()
    return found


def _limit(db_url: str, email: str, external_ids: tuple[str, ...]) -> None:
    places = _places(db_url)
    with session_scope(db_url) as db:
        person = db.exec(select(StaffUser).where(StaffUser.email == email)).one()
        person.location_ids = [places[x].id for x in external_ids] or None


def _austin_rows(db_url: str, patient_id: int, clock) -> dict:
    """An open escalation on a text to Austin's number, a draft reply and a requested visit at Austin, all
    for one Austin-only patient."""
    places = _places(db_url)
    austin = places["L-AUS"]
    with session_scope(db_url) as db:
        person = db.get_one(Patient, patient_id)
        text = Message(
            practice_id=person.practice_id,
            patient_id=person.id,
            direction="in",
            kind="inbound",
            from_number=person.phone,
            to_number=austin.sms_number,
            body="my cheek is still swollen",
            created_at=clock.now(),
        )
        db.add(text)
        db.flush()
        escalation = Escalation(
            practice_id=person.practice_id,
            patient_id=person.id,
            message_id=text.id,
            urgency="urgent",
            reason="needs_reply:side_effect",
            created_at=clock.now(),
        )
        draft = Message(
            practice_id=person.practice_id,
            patient_id=person.id,
            direction="out",
            kind="reply",
            from_number=austin.sms_number,
            to_number=person.phone,
            body="Swelling is common for a few days.",
            status="draft",
            created_at=clock.now(),
        )
        service = db.exec(select(Service).where(Service.practice_id == person.practice_id)).first()
        visit = Appointment(
            practice_id=person.practice_id,
            patient_id=person.id,
            service_id=service.id,
            location_id=austin.id,
            status="requested",
            start_at=clock.now() + timedelta(days=3),
            end_at=clock.now() + timedelta(days=3, minutes=30),
            source="bot",
        )
        db.add_all([escalation, draft, visit])
        db.flush()
        return {
            "patient_id": person.id,
            "escalation_id": escalation.id,
            "message_id": draft.id,
            "appointment_id": visit.id,
            "answer": "decline",
        }


@pytest.fixture
def split(demo_practice, settings, clock):
    """The demo practice with its manager and admin limited or not per test; the patients of each location,
    and one Austin-only patient with an open escalation, a draft and a requested visit."""
    patients = helpers.patients_by_location(settings.database_url)
    austin_only = {pid: name for pid, (name, where) in patients.items() if where == {"L-AUS"}}
    miami = {pid: name for pid, (name, where) in patients.items() if "L-MIA" in where}
    assert len(austin_only) >= 10 and len(miami) >= 10  # the demo has patients at both
    target = max(austin_only)
    return {
        "austin_only": austin_only,
        "miami": miami,
        "austin": _austin_rows(settings.database_url, target, clock),
        "places": _places(settings.database_url),
    }


def _pages(app, role: str) -> list:
    """Every dashboard page (GET, no argument) this role may open, from the app's own url_map."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.arguments
        and rule.endpoint in permissions.ROUTES
        and not rule.endpoint.startswith(DEMO_ONLY)
        and permissions.may(role, permissions.ROUTES[rule.endpoint])
    ]


def _leaks(body: bytes, patients: dict[int, str]) -> list[str]:
    return [
        name
        for pid, name in patients.items()
        if name.encode() in body or f'/patients/{pid}"'.encode() in body or f"/patients/{pid}/".encode() in body
    ]


@pytest.mark.parametrize("role", tuple(LIMITED))
def test_a_limited_user_never_sees_the_other_locations_patients(app, settings, split, role):
    email = LIMITED[role]
    _limit(settings.database_url, email, ("L-MIA",))
    limited, _ = sign_in(email, DEMO_PASSWORD)
    everyone, _ = sign_in(ADMIN_EMAIL if role != "admin" else MANAGER_EMAIL, DEMO_PASSWORD)
    pages = _pages(app, role)
    assert {"dashboard.inbox", "dashboard.patients", "dashboard.escalations", "dashboard.ready_page"} <= {
        r.endpoint for r in pages
    }
    seen_elsewhere, seen_mine = [], []
    for rule in pages:
        with app.test_request_context():
            url = url_for(rule.endpoint)
        answer = limited.get(url)
        assert answer.status_code == 200, f"{url} answered {answer.status_code}"
        body = answer.get_data()
        assert _leaks(body, split["austin_only"]) == [], f"{url} shows Austin's patients"
        seen_mine += _leaks(body, split["miami"])
        seen_elsewhere += _leaks(everyone.get(url).get_data(), split["austin_only"])
    # The same pages show Austin's patients to staff who see every location, and Miami's to this user.
    assert len(set(seen_elsewhere)) >= 10 and len(set(seen_mine)) >= 10
    inbox = limited.get("/").get_data(as_text=True)
    assert "Miami - Brickell" in inbox and "Austin - South Congress" not in inbox  # the location filter too


@pytest.mark.parametrize("role", tuple(LIMITED))
def test_the_other_locations_detail_urls_are_404(app, settings, split, role):
    """Every route naming a patient, escalation, draft or visit, GET and POST, from the url_map."""
    email = LIMITED[role]
    _limit(settings.database_url, email, ("L-MIA",))
    client, token = sign_in(email, DEMO_PASSWORD)
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in permissions.ROUTES or rule.endpoint.startswith(DEMO_ONLY):
            continue  # the read API's tokens are per practice; the demo tools show every patient
        if not set(rule.arguments) & set(OBJECTS):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: split["austin"][arg] for arg in rule.arguments})
        answer = (
            client.get(url) if "GET" in rule.methods else client.post(url, data={"csrf_token": token, "body": "hi"})
        )
        allowed = permissions.may(role, permissions.ROUTES[rule.endpoint])
        assert answer.status_code == (404 if allowed else 403), f"{rule.endpoint} answered {answer.status_code}"
        checked.append(rule.endpoint)
    assert {"dashboard.patient", "dashboard.acknowledge", "dashboard.approve_draft", "dashboard.settle_request"} <= set(
        checked
    )
    with session_scope(settings.database_url) as db:  # nothing happened to Austin's rows
        assert db.get_one(Escalation, split["austin"]["escalation_id"]).status == "open"
        assert db.get_one(Message, split["austin"]["message_id"]).status == "draft"
        assert db.get_one(Appointment, split["austin"]["appointment_id"]).status == "requested"
    mine = max(split["miami"])
    assert client.get(f"/patients/{mine}").status_code == 200


def test_the_inbox_list_search_and_filters_keep_to_the_users_locations(settings, split):
    client, _ = sign_in(MIAMI_DESK_EMAIL, DEMO_PASSWORD)
    everyone, _ = sign_in(ADMIN_EMAIL, DEMO_PASSWORD)
    target = split["austin_only"][split["austin"]["patient_id"]]
    austin_id = split["places"]["L-AUS"].id
    for url in ("/inbox/items", f"/inbox/items?q={target}", f"/inbox/items?status=all&location={austin_id}"):
        assert target in everyone.get(url).get_data(as_text=True)
        assert _leaks(client.get(url).get_data(), split["austin_only"]) == [], url
    assert "Miami - Brickell" in client.get("/inbox/items?status=all").get_data(as_text=True)


def _numbers(split) -> set[str]:
    return {loc.sms_number for loc in split["places"].values() if loc.sms_number}


def _tiles(html: str) -> str:
    return re.search(r'<div class="kpis">(.*?)<div class="charts">', html, re.S).group(1)


def test_numbers_operations_and_reports_cover_only_their_locations(settings, split):
    _limit(settings.database_url, MANAGER_EMAIL, ("L-MIA",))
    limited, _ = sign_in(MANAGER_EMAIL, DEMO_PASSWORD)
    everyone, _ = sign_in(ADMIN_EMAIL, DEMO_PASSWORD)
    miami, austin = split["places"]["L-MIA"].id, split["places"]["L-AUS"].id

    page = limited.get("/numbers?days=90").get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"', page)
    assert options == [str(miami)]  # the location filter offers only theirs
    at_miami = everyone.get(f"/numbers?days=90&location={miami}").get_data(as_text=True)
    whole = everyone.get("/numbers?days=90").get_data(as_text=True)
    assert _tiles(page) == _tiles(at_miami) != _tiles(whole)
    asking_austin = limited.get(f"/numbers?days=90&location={austin}").get_data(as_text=True)
    assert _tiles(asking_austin) == _tiles(at_miami)  # another location's id is ignored, not obeyed

    ops = limited.get("/operations?days=90").get_data(as_text=True)
    assert "Dr. Olivia Lee" not in ops  # Austin's provider
    assert "Dr. Olivia Lee" in everyone.get("/operations?days=90").get_data(as_text=True)

    month = "2026-10"
    report = limited.get(f"/report.csv?month={month}").get_data()
    assert report == everyone.get(f"/report.csv?month={month}&location={miami}").get_data()
    assert report != everyone.get(f"/report.csv?month={month}").get_data()


def test_exports_leave_out_the_other_location(settings, split):
    _limit(settings.database_url, MANAGER_EMAIL, ("L-MIA",))
    limited, _ = sign_in(MANAGER_EMAIL, DEMO_PASSWORD)
    everyone, _ = sign_in(ADMIN_EMAIL, DEMO_PASSWORD)
    mine = max(split["miami"])
    assert limited.get(f"/patients/{mine}/export.json").status_code == 200
    assert limited.get(f"/patients/{split['austin']['patient_id']}/export.json").status_code == 404
    # The corrections export: each row is a corrected text; those on Austin's number stay out.
    whole = everyone.get("/corrections.jsonl").get_data(as_text=True).splitlines()
    kept = limited.get("/corrections.jsonl").get_data(as_text=True).splitlines()
    with session_scope(settings.database_url) as db:
        miami_number = split["places"]["L-MIA"].sms_number
        expected = {
            f'"c{c.id}"'
            for c, m in db.exec(select(Correction, Message).join(Message, Message.id == Correction.message_id))
            if miami_number in (m.to_number, m.from_number)
            or (m.patient_id in split["miami"] and not {m.to_number, m.from_number} & _numbers(split))
        }
    assert len(whole) > len(kept)
    assert {re.search(r'"id": ("c\d+")', row).group(1) for row in kept} == expected


def test_the_users_page_sets_and_lifts_a_limit_and_audits_both(settings, split):
    admin, token = sign_in(ADMIN_EMAIL, DEMO_PASSWORD)
    miami = split["places"]["L-MIA"]
    with session_scope(settings.database_url) as db:
        person = db.exec(select(StaffUser).where(StaffUser.email == MANAGER_EMAIL)).one()
        staff_id = person.id
    page = admin.get("/users").get_data(as_text=True)
    assert f'action="/users/{staff_id}/locations"' in page and "Miami - Brickell" in page

    answer = admin.post(f"/users/{staff_id}/locations", data={"csrf_token": token, "locations": [miami.id]})
    assert answer.status_code == 302
    manager, _ = sign_in(MANAGER_EMAIL, DEMO_PASSWORD)
    assert _leaks(manager.get("/patients").get_data(), split["austin_only"]) == []
    admin.post(f"/users/{staff_id}/locations", data={"csrf_token": token})  # none ticked: every location
    name = split["austin_only"][split["austin"]["patient_id"]]
    assert name in manager.get("/patients", query_string={"q": name}).get_data(as_text=True)

    with session_scope(settings.database_url) as db:
        assert db.get_one(StaffUser, staff_id).location_ids is None
        events = db.exec(
            select(AuditEvent).where(AuditEvent.action == "user_locations_changed", AuditEvent.subject_id == staff_id)
        ).all()
        assert [(e.detail["before"]["locations"], e.detail["after"]["locations"]) for e in events] == [
            ("all", ["Miami - Brickell"]),
            (["Miami - Brickell"], "all"),
        ]
        admin_id = db.exec(select(StaffUser.id).where(StaffUser.email == ADMIN_EMAIL)).one()
        assert {e.actor for e in events} == {f"staff:{admin_id}"}


def test_a_location_not_of_the_practice_or_limiting_oneself_is_refused(settings, split):
    admin, token = sign_in(ADMIN_EMAIL, DEMO_PASSWORD)
    with session_scope(settings.database_url) as db:
        staff_id = db.exec(select(StaffUser.id).where(StaffUser.email == MANAGER_EMAIL)).one()
        my_id = db.exec(select(StaffUser.id).where(StaffUser.email == ADMIN_EMAIL)).one()
    for target, wanted in ((staff_id, [999_999]), (my_id, [split["places"]["L-MIA"].id])):
        answer = admin.post(f"/users/{target}/locations", data={"csrf_token": token, "locations": wanted})
        assert answer.status_code == 302
        assert "nothing was changed" in admin.get("/users").get_data(as_text=True)
    with session_scope(settings.database_url) as db:
        assert db.get_one(StaffUser, staff_id).location_ids is None
        assert db.get_one(StaffUser, my_id).location_ids is None
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "user_locations_changed")).all() == []


def test_aftercare_staff_limits_by_location_name_and_lifts_it(settings, split, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    with session_scope(settings.database_url) as db:
        staff_id = db.exec(select(StaffUser.id).where(StaffUser.email == MANAGER_EMAIL)).one()
    miami = split["places"]["L-MIA"].id
    assert main(["staff", "set", str(staff_id), "--locations", "miami - brickell"]) == 0
    assert json.loads(capsys.readouterr().out)["locations"] == [miami]
    with session_scope(settings.database_url) as db:
        assert db.get_one(StaffUser, staff_id).location_ids == [miami]
    assert main(["staff", "set", str(staff_id), "--locations", "Paris"]) == 2
    assert "'Paris' is not a location of this practice" in capsys.readouterr().err
    assert main(["staff", "set", str(staff_id), "--all-locations"]) == 0
    with session_scope(settings.database_url) as db:
        assert db.get_one(StaffUser, staff_id).location_ids is None


def test_a_limited_clinician_is_paged_only_where_the_roster_puts_them(settings, split):
    """Marcus Chen works in Miami and the demo roster has him on call there only: limited to Miami, he is
    paged for a Miami escalation in Miami's hours and not for an Austin one at the same moment."""
    places = split["places"]
    with session_scope(settings.database_url) as db:
        marcus = db.exec(select(StaffUser).where(StaffUser.name == "Marcus Chen, PA-C")).one()
        marcus.location_ids = [places["L-MIA"].id]
        db.flush()
        moment = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # Tuesday, 12:00 in Miami, 11:00 in Austin
        paged = {}
        for ext in ("L-MIA", "L-AUS"):
            text = Message(
                practice_id=marcus.practice_id,
                direction="in",
                kind="inbound",
                from_number="+13055550177",
                to_number=places[ext].sms_number,
                body="it hurts",
            )
            db.add(text)
            db.flush()
            escalation = Escalation(
                practice_id=marcus.practice_id, message_id=text.id, urgency="urgent", reason="redflag:pain"
            )
            db.add(escalation)
            db.flush()
            paged[ext] = {s.name for s in paging.recipients(db, escalation, 1, moment)}
        assert marcus.role == Role.INJECTOR
        assert "Marcus Chen, PA-C" in paged["L-MIA"]
        assert "Marcus Chen, PA-C" not in paged["L-AUS"] and paged["L-AUS"]


def _escalation_at(db, practice_id: int, number: str) -> Escalation:
    text = Message(
        practice_id=practice_id, direction="in", kind="inbound", from_number="+13055550178", to_number=number, body="ow"
    )
    db.add(text)
    db.flush()
    escalation = Escalation(practice_id=practice_id, message_id=text.id, urgency="urgent", reason="redflag:pain")
    db.add(escalation)
    db.flush()
    return escalation


def test_standing_on_call_flags_page_only_where_a_person_works(settings, split):
    """With no roster line at all, the standing flags decide: a clinician limited to Miami and flagged
    on call is paged for Miami and not for Austin while someone on call works in Austin; when nobody on
    call works there, they are paged all the same (an escalation is never left without a page)."""
    places = split["places"]
    with session_scope(settings.database_url) as db:
        marcus = db.exec(select(StaffUser).where(StaffUser.name == "Marcus Chen, PA-C")).one()
        for line in db.exec(select(OnCallShift).where(OnCallShift.practice_id == marcus.practice_id)):
            db.delete(line)
        staff = db.exec(
            select(StaffUser).where(StaffUser.practice_id == marcus.practice_id, StaffUser.active == True)  # noqa: E712
        ).all()
        others = [s for s in staff if s.on_call and s.id != marcus.id and s.phone]
        assert others, "the demo practice has someone else on call"
        marcus.on_call, marcus.phone, marcus.location_ids = True, marcus.phone or "+15125550190", [places["L-MIA"].id]
        db.flush()

        def paged(ext: str) -> set[str]:
            escalation = _escalation_at(db, marcus.practice_id, places[ext].sms_number)
            return {s.name for s in paging.recipients(db, escalation, 1)}

        assert marcus.name in paged("L-MIA")
        austin = paged("L-AUS")
        assert marcus.name not in austin and {s.name for s in others} <= austin
        for person in others:
            person.on_call = False
        db.flush()
        assert marcus.name in paged("L-AUS")


def test_a_limited_admin_does_not_see_unrouted_texts(settings, split, clock):
    with session_scope(settings.database_url) as db:
        db.add(
            Message(
                direction="in",
                kind="inbound",
                from_number="+17865550123",
                to_number="+19995550100",
                body="who is this? unrouted hello",
                created_at=clock.now(),
            )
        )
    everyone, _ = sign_in(ADMIN_EMAIL)
    assert "unrouted hello" in everyone.get("/").get_data(as_text=True)
    _limit(settings.database_url, ADMIN_EMAIL, ("L-MIA",))
    limited, _ = sign_in(ADMIN_EMAIL)
    assert "unrouted hello" not in limited.get("/").get_data(as_text=True)
