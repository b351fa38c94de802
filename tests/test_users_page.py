"""Users in the app: an admin adds staff, changes roles, deactivates and resets passwords, with the CLI's
checks, every session of the user ended where it must be, the last admin kept, and every change audited."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.cli import main
from store.db import session_scope
from store.models import AuditEvent, StaffUser
from tests import factories

NEW_PASSWORD = "a-brand-new-password"


@pytest.fixture
def clinic(settings):
    """A practice with an admin, a nurse and a manager; another practice with its own admin."""
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db)
        admin = factories.staff(db, practice.id, "admin")
        nurse = factories.staff(db, practice.id, "nurse", phone="+15125550111")
        manager = factories.staff(db, practice.id, "manager")
        other = factories.practice(db, slug="elsewhere", name="Elsewhere Spa")
        stranger = factories.staff(db, other.id, "admin")
        return {
            "practice_id": practice.id,
            "admin": admin.id,
            "admin_email": admin.email,
            "nurse": nurse.id,
            "nurse_email": nurse.email,
            "manager": manager.id,
            "manager_email": manager.email,
            "stranger": stranger.id,
        }


@pytest.fixture
def admin(app, clinic):
    """A client signed in as the clinic's admin, and its CSRF token."""
    client = app.test_client()
    return client, factories.sign_in(client, clinic["admin_email"])


def _events(db_url, action):
    with session_scope(db_url) as db:
        return db.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _person(db_url, staff_id) -> StaffUser:
    with session_scope(db_url) as db:
        return db.get(StaffUser, staff_id)


def _signed_out(client) -> bool:
    return client.get("/").headers.get("Location", "").startswith("/login")


def test_the_users_page_lists_this_practice_only(admin, clinic):
    client, _ = admin
    page = client.get("/users").get_data(as_text=True)
    assert "Nurse " in page and "Manager " in page and "Admin " in page
    assert f"user-{clinic['stranger']}" not in page
    assert "•••0111" in page or "0111" in page
    assert "+15125550111" not in page  # numbers are masked


def test_an_admin_adds_a_user_who_can_sign_in_with_that_role(app, admin, settings, clinic):
    client, token = admin
    answer = client.post(
        "/users",
        data={
            "csrf_token": token,
            "name": "Rita Desk",
            "email": "Rita@Glow.test",
            "role": "front_desk",
            "phone": "(512) 555-0122",
            "password": NEW_PASSWORD,
            "again": NEW_PASSWORD,
        },
    )
    assert answer.status_code == 302
    assert "Rita Desk can sign in as front desk" in client.get("/users").get_data(as_text=True)
    with session_scope(settings.database_url) as db:
        rita = db.exec(select(StaffUser).where(StaffUser.email == "rita@glow.test")).one()
        assert (rita.role, rita.phone, rita.practice_id) == ("front_desk", "+15125550122", clinic["practice_id"])
    [event] = _events(settings.database_url, "user_added")
    assert event.actor == f"staff:{clinic['admin']}" and event.subject_id == rita.id
    assert event.detail["before"] is None and event.detail["after"]["role"] == "front_desk"
    assert "password" not in str(event.detail) and "scrypt" not in str(event.detail)
    rita_client = app.test_client()
    factories.sign_in(rita_client, "rita@glow.test", NEW_PASSWORD)
    assert rita_client.get("/settings").status_code == 403  # the front desk's rights, no more


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"name": ""}, "--name: must not be empty"),
        ({"name": "Ri\x00ta"}, "--name: must not hold control characters"),
        ({"email": "nurse@1.test"}, "already belongs to a staff member"),  # the nurse's, in other letters below
        ({"email": "NURSE@1.TEST"}, "already belongs to a staff member"),
        ({"email": "rita"}, "is not an email address"),
        ({"email": ""}, "email: needed to sign in"),
        ({"role": "owner"}, "--role: expected one of"),
        ({"phone": "12"}, "--phone:"),
        ({"password": "short", "again": "short"}, "password: at least 10 characters"),
        ({"again": "something-else-entirely"}, "typed the same twice"),
    ],
)
def test_a_bad_new_user_is_refused_with_the_reason_and_nothing_is_written(admin, settings, changes, reason):
    client, token = admin
    form = {
        "csrf_token": token,
        "name": "Rita Desk",
        "email": "rita@glow.test",
        "role": "front_desk",
        "password": NEW_PASSWORD,
        "again": NEW_PASSWORD,
        **changes,
    }
    with session_scope(settings.database_url) as db:
        before = len(db.exec(select(StaffUser)).all())
    assert client.post("/users", data=form).status_code == 302
    page = client.get("/users").get_data(as_text=True)
    assert reason.replace("'", "&#39;") in page and "nothing was changed" in page
    with session_scope(settings.database_url) as db:
        assert len(db.exec(select(StaffUser)).all()) == before
    assert _events(settings.database_url, "user_added") == []


def test_a_role_change_is_audited_and_takes_effect_on_the_next_request(app, admin, settings, clinic):
    nurse = app.test_client()
    factories.sign_in(nurse, clinic["nurse_email"])
    assert nurse.get("/settings").status_code == 403
    client, token = admin
    client.post(f"/users/{clinic['nurse']}/role", data={"csrf_token": token, "role": "manager"})
    assert nurse.get("/settings").status_code == 200
    [event] = _events(settings.database_url, "user_role_changed")
    assert (event.detail["before"]["role"], event.detail["after"]["role"]) == ("nurse", "manager")
    assert event.actor == f"staff:{clinic['admin']}" and event.subject_id == clinic["nurse"]
    client.post(f"/users/{clinic['nurse']}/role", data={"csrf_token": token, "role": "captain"})
    assert _person(settings.database_url, clinic["nurse"]).role == "manager"


def test_deactivating_signs_the_user_out_at_once_and_keeps_them_out(app, admin, settings, clinic):
    nurse = app.test_client()
    factories.sign_in(nurse, clinic["nurse_email"])
    client, token = admin
    with session_scope(settings.database_url) as db:
        db.get(StaffUser, clinic["nurse"]).on_call = True
    client.post(f"/users/{clinic['nurse']}/active", data={"csrf_token": token, "active": "0"})
    assert _signed_out(nurse)
    person = _person(settings.database_url, clinic["nurse"])
    assert (person.active, person.on_call) == (False, False)  # and nobody pages them
    fresh = app.test_client()
    refused = fresh.post(
        "/login",
        data={
            "email": clinic["nurse_email"],
            "password": factories.STAFF_PASSWORD,
            "csrf_token": factories.csrf_token(fresh),
        },
    )
    assert refused.status_code == 401
    client.post(f"/users/{clinic['nurse']}/active", data={"csrf_token": token, "active": "1"})
    factories.sign_in(app.test_client(), clinic["nurse_email"])
    actions = [(e.action, e.detail["before"]["active"], e.detail["after"]["active"]) for e in _audit(settings)]
    assert actions == [("user_deactivated", True, False), ("user_reactivated", False, True)]


def _audit(settings):
    with session_scope(settings.database_url) as db:
        return db.exec(
            select(AuditEvent).where(AuditEvent.subject_type == "staff_user", AuditEvent.action.like("user_%"))
        ).all()


def test_a_password_reset_ends_every_session_of_that_user(app, admin, settings, clinic):
    phone, desk = app.test_client(), app.test_client()
    factories.sign_in(phone, clinic["nurse_email"])
    factories.sign_in(desk, clinic["nurse_email"])
    client, token = admin
    answer = client.post(
        f"/users/{clinic['nurse']}/password",
        data={"csrf_token": token, "password": NEW_PASSWORD, "again": NEW_PASSWORD},
    )
    assert answer.status_code == 302
    assert "2 session(s) of theirs ended" in client.get("/users").get_data(as_text=True)
    assert _signed_out(phone) and _signed_out(desk)
    fresh = app.test_client()
    old = fresh.post(
        "/login",
        data={
            "email": clinic["nurse_email"],
            "password": factories.STAFF_PASSWORD,
            "csrf_token": factories.csrf_token(fresh),
        },
    )
    assert old.status_code == 401
    factories.sign_in(fresh, clinic["nurse_email"], NEW_PASSWORD)
    [event] = _events(settings.database_url, "user_password_reset")
    assert event.subject_id == clinic["nurse"] and event.detail["signed_out"] == "everywhere"
    assert not _signed_out(client)  # the admin's own session goes on


def test_an_admin_resets_their_own_password_only_where_the_current_one_is_asked(admin, settings, clinic):
    client, token = admin
    client.post(
        f"/users/{clinic['admin']}/password",
        data={"csrf_token": token, "password": NEW_PASSWORD, "again": NEW_PASSWORD},
    )
    assert "change it under Password" in client.get("/users").get_data(as_text=True)
    assert _events(settings.database_url, "user_password_reset") == []


def test_the_last_admin_cannot_be_removed_in_the_app_or_with_the_cli(admin, settings, clinic, monkeypatch):
    client, token = admin
    client.post(f"/users/{clinic['admin']}/active", data={"csrf_token": token, "active": "0"})
    client.post(f"/users/{clinic['admin']}/role", data={"csrf_token": token, "role": "manager"})
    page = client.get("/users").get_data(as_text=True)
    assert page.count("the practice&#39;s last admin: make someone else admin first") == 2  # both refused
    person = _person(settings.database_url, clinic["admin"])
    assert (person.role, person.active) == ("admin", True)
    # With a second admin, the first may step down.
    client.post(f"/users/{clinic['manager']}/role", data={"csrf_token": token, "role": "admin"})
    client.post(f"/users/{clinic['admin']}/role", data={"csrf_token": token, "role": "manager"})
    assert _person(settings.database_url, clinic["admin"]).role == "manager"
    assert client.get("/users").status_code == 403  # their own change took their rights away
    # The command line keeps the one admin left too.
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    assert main(["staff", "set", str(clinic["manager"]), "--role", "nurse"]) == 2
    assert _person(settings.database_url, clinic["manager"]).role == "admin"


def test_another_practices_staff_member_is_404_and_unchanged(admin, settings, clinic):
    client, token = admin
    stranger = clinic["stranger"]
    for path, form in (
        (f"/users/{stranger}/role", {"role": "front_desk"}),
        (f"/users/{stranger}/active", {"active": "0"}),
        (f"/users/{stranger}/password", {"password": NEW_PASSWORD, "again": NEW_PASSWORD}),
    ):
        assert client.post(path, data={"csrf_token": token, **form}).status_code == 404
    person = _person(settings.database_url, stranger)
    assert (person.role, person.active) == ("admin", True)
    assert _audit(settings) == []


def test_only_admins_manage_users(app, clinic):
    manager = app.test_client()
    token = factories.sign_in(manager, clinic["manager_email"])
    assert manager.get("/users").status_code == 403
    answer = manager.post(f"/users/{clinic['nurse']}/role", data={"csrf_token": token, "role": "admin"})
    assert answer.status_code == 403
    assert "Users</a>" not in manager.get("/").get_data(as_text=True)
