"""The medical director signs off the aftercare texts; only a signed text reaches a patient.

Through the dashboard's forms (CSRF, role rules, the audit log), the signed webhook, the worker's queues
and the fake Twilio: an edit leaves its text unsigned (the patient gets the generic reply, staff the inbox
item), a new sign-off sends it, and only a staff member marked medical director may sign.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from app import create_app
from bot import runtime
from bot.conversation import care_signoff, care_texts
from store.db import session_scope
from store.models import Appointment, AuditEvent, CareTextSignoff, Escalation, Patient, Practice, StaffUser
from tests import factories
from tests.helpers import PATIENT, sent_to, text_in

GENERIC = {
    "en": "Thanks for letting us know, Ana. Someone from our clinical team will read your message and get back to "
    "you as soon as possible. If anything gets worse, call (512) 555-0199.",
    "es": "Gracias por avisarnos, Ana.",
}
"""replies.toml's side_effect reply (the Spanish one's start: its accents are being reworked), what goes
while the chosen text awaits sign-off."""

NEW = {
    "en": "{first_name}, a bruise after filler fades in 7-10 days; arnica gel helps. Call {emergency_line} if it "
    "spreads or hurts more.",
    "es": "{first_name}, el moretón se va en 7-10 días; el árnica ayuda. Llama al {emergency_line} si crece o duele.",
}
SENT = {
    "en": "Ana, a bruise after filler fades in 7-10 days; arnica gel helps. Call (512) 555-0199 if it spreads or "
    "hurts more.",
    # Accents kept (UCS-2): the practice has not chosen GSM-only.
    "es": "Ana, el moretón se va en 7-10 días; el árnica ayuda. Llama al (512) 555-0199 si crece o duele.",
}
REPORT = {"en": "some bruising on my lip since yesterday", "es": "tengo un moretón en el labio"}


@pytest.fixture(autouse=True)
def recent_visit(spa, db_url, clock):
    """Ana's visit was two days ago: aftercare texts apply within care_texts.RECENT_DAYS of a visit."""
    with session_scope(db_url) as session:
        for visit in session.exec(select(Appointment)):
            visit.start_at = clock.now() - timedelta(days=2)


def add_staff(db_url, practice_id: int, **fields) -> int:
    with session_scope(db_url) as db:
        return factories.staff(db, practice_id, **fields).id


def sign_in(email: str):
    """A client of the app (on the test's settings as they are now) signed in as `email`, and its CSRF token."""
    client = create_app(runtime.settings()).test_client()
    return client, factories.sign_in(client, email)


def _digest_on(page: str) -> str:
    return re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)


def _events(db_url, action: str) -> list[AuditEvent]:
    with session_scope(db_url) as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def _signoffs(db_url) -> list[CareTextSignoff]:
    with session_scope(db_url) as db:
        return list(db.exec(select(CareTextSignoff).order_by(col(CareTextSignoff.id))))


def _resolve_all(db_url) -> list[str | None]:
    """Staff resolve the inbox (so the next report opens its own item); the notes they read."""
    with session_scope(db_url) as db:
        notes = []
        for escalation in db.exec(select(Escalation).order_by(col(Escalation.id))):
            if escalation.status != "resolved":
                notes.append(escalation.note)
            escalation.status = "resolved"
        return notes


def _language(db_url, language: str) -> None:
    with session_scope(db_url) as db:
        for patient in db.exec(select(Patient)):
            patient.language = language


@pytest.fixture
def manager(spa, db_url):
    add_staff(db_url, spa["practice_id"], name="Mia Manager", role="manager", email="mia@glow.test")
    return sign_in("mia@glow.test")


@pytest.fixture
def director(settings, care_signed, db_url):
    with session_scope(db_url) as db:
        email = db.get(StaffUser, care_signed).email
    return sign_in(email)


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_edited_text_waits_for_sign_off_then_goes_once_signed(
    settings, twilio, clock, spa, care_signed, db_url, manager, director, language
):
    _language(db_url, language)
    shipped = care_texts.care_texts().entries()["bruising.filler"]
    text_in(REPORT[language])  # signed as shipped: the shipped text goes
    first = sent_to(twilio, PATIENT)
    assert (
        len(first) == 1
        and not first[0].startswith(GENERIC[language])
        and ("Call" if language == "en" else "llama") in first[0]
    )
    _resolve_all(db_url)

    client, token = manager
    form = {"csrf_token": token, "key": "bruising.filler", "action": "save", "text:en": NEW["en"], "text:es": NEW["es"]}
    assert client.post("/settings/care-texts", data=form).status_code == 302
    page = client.get("/settings/care-texts").get_data(as_text=True)
    row = page[page.index('id="bruising-filler"') :]
    assert "awaits sign-off" in row[: row.index("</h2>")]
    total = len(care_texts.care_texts().entries())
    assert f"{total - 1} of {total}</strong> texts signed off" in page  # every other one still is

    text_in(REPORT[language])  # edited, not signed: the holding reply, and the inbox says why
    [generic] = sent_to(twilio, PATIENT)[1:]
    assert generic.startswith(GENERIC[language]) and generic.endswith("(512) 555-0199.")
    assert _resolve_all(db_url) == ["Aftercare text bruising (filler) awaits sign-off; generic reply sent."]

    signer, signer_token = director
    page = signer.get("/settings/care-texts").get_data(as_text=True)
    answer = signer.post("/settings/care-texts/sign", data={"csrf_token": signer_token, "digest": _digest_on(page)})
    assert answer.status_code == 302
    text_in(REPORT[language])  # signed again: the practice's wording goes
    assert sent_to(twilio, PATIENT)[2:] == [SENT[language]]
    [note] = _resolve_all(db_url)
    assert note == "Aftercare text sent: bruising (filler); signed off by Dr. Olivia Lee, MD, 2026-11-23."

    [changed] = _events(db_url, "care_text_changed")
    assert changed.actor.startswith("staff:") and changed.actor != f"staff:{care_signed}"
    assert changed.detail == {"before": {"bruising.filler": shipped}, "after": {"bruising.filler": NEW}}
    [signed] = _events(db_url, "care_texts_signed_off")
    assert signed.actor == f"staff:{care_signed}"
    latest = _signoffs(db_url)[-1]
    assert latest.staff_user_id == care_signed and latest.texts["bruising.filler"] == NEW
    assert latest.digest == care_texts.digest(latest.texts) == signed.detail["after"]["digest"]
    assert signed.detail["before"]["digest"] == _signoffs(db_url)[0].digest != latest.digest


@pytest.mark.parametrize("role", ["front_desk", "nurse", "manager", "admin"])
def test_only_the_medical_director_may_sign_off(settings, spa, care_signed, db_url, role):
    add_staff(db_url, spa["practice_id"], name=f"Pat {role}", role=role, email=f"{role}@glow.test")
    client, token = sign_in(f"{role}@glow.test")
    before = len(_signoffs(db_url))
    with session_scope(db_url) as db:
        practice = db.get(Practice, spa["practice_id"])
        current = care_texts.digest(care_signoff.practice_texts(None, practice).entries())
    assert client.post("/settings/care-texts/sign", data={"csrf_token": token, "digest": current}).status_code == 403
    assert len(_signoffs(db_url)) == before and _events(db_url, "care_texts_signed_off") == []
    page = client.get("/settings/care-texts")
    # Managers and admins read and edit the texts; no sign-off button is theirs. Others do not see the page.
    assert page.status_code == (200 if role in ("manager", "admin") else 403)
    assert "/settings/care-texts/sign" not in page.get_data(as_text=True)


def test_the_director_reads_the_page_without_settings_access_and_signs(settings, spa, care_signed, db_url, director):
    client, token = director  # an injector by role: no other settings page
    assert client.get("/settings").status_code == 403
    page = client.get("/settings/care-texts").get_data(as_text=True)
    assert "Sign off all" in page and "readonly" in page and 'value="save"' not in page
    total = len(care_texts.care_texts().entries())
    assert f"{total} of {total}</strong> texts signed off" in page
    assert "Latest sign-off: Dr. Olivia Lee, MD" in page
    # An edit is a manager's: the director's role does not change settings.
    form = {
        "csrf_token": token,
        "key": "general",
        "text:en": "Call {emergency_line}.",
        "text:es": "Llama al {emergency_line}.",
    }
    assert client.post("/settings/care-texts", data=form).status_code == 403


def test_a_sign_off_of_texts_changed_since_the_page_was_read_is_refused(
    settings, spa, care_signed, db_url, manager, director
):
    signer, signer_token = director
    read = _digest_on(signer.get("/settings/care-texts").get_data(as_text=True))
    client, token = manager
    form = {"csrf_token": token, "key": "bruising.filler", "text:en": NEW["en"], "text:es": NEW["es"]}
    assert client.post("/settings/care-texts", data=form).status_code == 302
    answer = signer.post("/settings/care-texts/sign", data={"csrf_token": signer_token, "digest": read})
    assert answer.status_code == 302
    assert "The texts changed since this page was opened" in signer.get("/settings/care-texts").get_data(as_text=True)
    assert len(_signoffs(db_url)) == 1  # the seeded one only


@pytest.mark.parametrize(
    "text_en, reason",
    [
        ("{first_name}, a bruise fades in a week.", "must say which number to call"),
        ("{first_name}, bruises fade. Ring {emergency_line} if worried.", "must tell the patient when to call"),
        ("Call {emergency_line}. " + "A bruise fades slowly over time. " * 10, "the limit is 2"),
    ],
)
def test_a_text_that_breaks_the_rules_is_refused_and_nothing_changes(
    settings, spa, care_signed, db_url, manager, text_en, reason
):
    client, token = manager
    form = {"csrf_token": token, "key": "bruising.filler", "text:en": text_en, "text:es": NEW["es"]}
    answer = client.post("/settings/care-texts", data=form)
    assert answer.status_code == 400 and reason in answer.get_data(as_text=True)
    with session_scope(db_url) as db:
        assert db.get(Practice, spa["practice_id"]).care_texts == {}
    assert _events(db_url, "care_text_changed") == []
    unknown = client.post("/settings/care-texts", data={**form, "key": "bruising.nowhere"})
    assert unknown.status_code == 404


def test_back_to_the_files_text_is_signed_again_without_a_new_sign_off(settings, spa, care_signed, db_url, manager):
    client, token = manager
    form = {"csrf_token": token, "key": "swelling.filler", "text:en": NEW["en"], "text:es": NEW["es"]}
    client.post("/settings/care-texts", data=form)
    with session_scope(db_url) as db:
        review = care_signoff.review(db, None, db.get(Practice, spa["practice_id"]))
        assert review.waiting == ["swelling.filler"]
    client.post("/settings/care-texts", data={**form, "action": "reset"})
    with session_scope(db_url) as db:
        review = care_signoff.review(db, None, db.get(Practice, spa["practice_id"]))
        assert review.waiting == [] and db.get(Practice, spa["practice_id"]).care_texts == {}
    assert len(_events(db_url, "care_text_changed")) == 2


def test_a_sign_off_whose_texts_no_longer_match_its_hash_signs_nothing(settings, spa, care_signed, db_url):
    with session_scope(db_url) as db:
        [row] = db.exec(select(CareTextSignoff)).all()
        entries = care_texts.care_texts().entries()
        assert care_signoff.signed_keys(entries, row) == frozenset(entries)
        row.texts = {**row.texts, "general": {"en": "Call {emergency_line}.", "es": "Llama al {emergency_line}."}}
        assert care_signoff.signed_keys(entries, row) == frozenset()


def test_an_admin_marks_the_medical_director_on_the_users_page_audited(settings, twilio, spa, db_url, clock):
    admin_id = add_staff(db_url, spa["practice_id"], name="Ada Admin", role="admin", email="ada@glow.test")
    nurse_id = add_staff(db_url, spa["practice_id"], name="Dr. Nia Park", role="nurse", email="nia@glow.test")
    admin, token = sign_in("ada@glow.test")
    assert (
        admin.post(
            f"/users/{nurse_id}/medical-director", data={"csrf_token": token, "medical_director": "1"}
        ).status_code
        == 302
    )
    assert "Dr. Nia Park is the medical director" in admin.get("/users").get_data(as_text=True)
    [event] = _events(db_url, "user_medical_director_changed")
    assert event.actor == f"staff:{admin_id}" and event.subject_id == nurse_id
    assert (event.detail["before"]["medical_director"], event.detail["after"]["medical_director"]) == (False, True)

    nurse, nurse_token = sign_in("nia@glow.test")
    page = nurse.get("/settings/care-texts").get_data(as_text=True)
    assert "Never signed off" in page
    signed = nurse.post("/settings/care-texts/sign", data={"csrf_token": nurse_token, "digest": _digest_on(page)})
    assert signed.status_code == 302
    text_in("a little bruising on my lip")
    assert sent_to(twilio, PATIENT)[0].startswith("Thanks for telling us, Ana. Some bruising after filler")

    admin.post(f"/users/{nurse_id}/active", data={"csrf_token": token, "active": "0"})  # leaving: no longer signs
    with session_scope(db_url) as db:
        assert db.get(StaffUser, nurse_id).medical_director is False
    refused = admin.post(f"/users/{nurse_id}/medical-director", data={"csrf_token": token, "medical_director": "1"})
    assert refused.status_code == 302 and "is deactivated" in admin.get("/users").get_data(as_text=True)
    assert len(_events(db_url, "user_medical_director_changed")) == 1
