"""A staff member's own mobile number and email, set on the web: on the Users page (admins) and on the
on-call roster page (managers), with the CLI's own checks (the number to E.164 as `aftercare staff set
--phone` stores it, the email checked and not another's), refused values changing nothing, and every change
audited with who, when, before and after, the numbers masked."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.cli import main
from bot.staff import roster
from store.db import session_scope
from store.models import AuditEvent, StaffUser
from tests import factories


@pytest.fixture
def clinic(settings):
    """A practice with an admin, a nurse on the roster and a manager; another practice with its own nurse."""
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db)
        admin = factories.staff(db, practice.id, "admin")
        nurse = factories.staff(db, practice.id, "nurse", phone="+15125550111")
        manager = factories.staff(db, practice.id, "manager")
        roster.add_shift(db, practice.id, nurse.id, "on_call", [0, 1], "08:00", "18:00")
        other = factories.practice(db, slug="elsewhere", name="Elsewhere Spa")
        stranger = factories.staff(db, other.id, "nurse", phone="+15125550177")
        return {
            "admin_email": admin.email,
            "nurse": nurse.id,
            "manager_email": manager.email,
            "manager": manager.id,
            "stranger": stranger.id,
        }


def _signed_in(app, email):
    client = app.test_client()
    return client, factories.sign_in(client, email)


def _person(db_url, staff_id) -> StaffUser:
    with session_scope(db_url) as db:
        return db.get(StaffUser, staff_id)


def _contact_events(db_url) -> list[AuditEvent]:
    with session_scope(db_url) as db:
        return list(
            db.exec(select(AuditEvent).where(AuditEvent.action == "user_contact_changed").order_by(AuditEvent.id))
        )


def test_an_admin_sets_a_mobile_and_an_email_on_the_users_page_stored_as_the_cli_stores_them(
    app, settings, clinic, monkeypatch
):
    client, token = _signed_in(app, clinic["admin_email"])
    answer = client.post(
        f"/users/{clinic['manager']}/contact",
        data={"csrf_token": token, "phone": "(512) 555-0133", "email": "  Dana.W@Glow.TEST "},
        follow_redirects=True,
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "mobile" in page and "0133" in page
    assert "+15125550133" not in page  # shown masked
    person = _person(settings.database_url, clinic["manager"])
    assert (person.phone, person.email) == ("+15125550133", "dana.w@glow.test")
    [event] = _contact_events(settings.database_url)
    assert event.actor.startswith("staff:") and event.subject_id == clinic["manager"]
    assert event.detail["before"]["phone"] is None and event.detail["before"]["email"] == clinic["manager_email"]
    assert event.detail["after"]["email"] == "dana.w@glow.test"
    assert "0133" in event.detail["after"]["phone"] and "+15125550133" not in event.detail["after"]["phone"]
    audit_page = client.get("/audit?action=user_contact_changed").get_data(as_text=True)
    assert "0133" in audit_page and "+15125550133" not in audit_page
    # The same number through the CLI is stored the same way (one normaliser).
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    assert main(["staff", "set", str(clinic["nurse"]), "--phone", "(512) 555-0133"]) == 0
    assert _person(settings.database_url, clinic["nurse"]).phone == "+15125550133"


@pytest.mark.parametrize(
    "form, reason",
    [
        ({"phone": "555-01"}, "--phone"),
        ({"email": "not-an-address"}, "is not an email address"),
        ({"email": "nurse@{practice}.test"}, "already belongs to a staff member"),
        ({"email": ""}, "signs in with it"),
    ],
)
def test_a_bad_mobile_or_email_is_refused_with_the_reason_and_changes_nothing(app, settings, clinic, form, reason):
    client, token = _signed_in(app, clinic["admin_email"])
    before = _person(settings.database_url, clinic["manager"])
    form = {"email": before.email, **form}
    form["email"] = form["email"].replace("{practice}", str(before.practice_id))
    page = client.post(
        f"/users/{clinic['manager']}/contact", data={"csrf_token": token, **form}, follow_redirects=True
    ).get_data(as_text=True)
    assert reason in page and "nothing was changed" in page
    after = _person(settings.database_url, clinic["manager"])
    assert (after.phone, after.email) == (before.phone, before.email)
    assert _contact_events(settings.database_url) == []


def test_an_empty_number_keeps_it_and_removing_the_mobile_of_someone_on_the_roster_is_refused(app, settings, clinic):
    client, token = _signed_in(app, clinic["admin_email"])
    nurse = _person(settings.database_url, clinic["nurse"])
    client.post(f"/users/{nurse.id}/contact", data={"csrf_token": token, "phone": "", "email": "nina@glow.test"})
    assert (_person(settings.database_url, nurse.id).phone, _person(settings.database_url, nurse.id).email) == (
        "+15125550111",
        "nina@glow.test",
    )
    page = client.post(
        f"/users/{nurse.id}/contact",
        data={"csrf_token": token, "remove_phone": "1", "email": "nina@glow.test"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "on the on-call roster" in page
    assert _person(settings.database_url, nurse.id).phone == "+15125550111"
    assert len(_contact_events(settings.database_url)) == 1  # the email change only


def test_a_manager_sets_a_mobile_on_the_roster_page_and_may_not_touch_another_practice(app, settings, clinic):
    client, token = _signed_in(app, clinic["manager_email"])
    page = client.post(
        f"/settings/on-call/staff/{clinic['nurse']}/contact",
        data={"csrf_token": token, "phone": "512.555.0144", "email": "nurse.two@glow.test"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "0144" in page and "+15125550144" not in page
    assert _person(settings.database_url, clinic["nurse"]).phone == "+15125550144"
    [event] = _contact_events(settings.database_url)
    assert event.actor == f"staff:{clinic['manager']}"
    assert "0111" in event.detail["before"]["phone"] and "0144" in event.detail["after"]["phone"]
    page = client.post(
        f"/settings/on-call/staff/{clinic['stranger']}/contact",
        data={"csrf_token": token, "phone": "(512) 555-0199"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "No such staff member" in page
    assert _person(settings.database_url, clinic["stranger"]).phone == "+15125550177"
    # Managers do not manage accounts: the Users page's own route stays the admins'.
    answer = client.post(f"/users/{clinic['nurse']}/contact", data={"csrf_token": token, "phone": "(512) 555-0155"})
    assert answer.status_code == 403
    assert _person(settings.database_url, clinic["nurse"]).phone == "+15125550144"
