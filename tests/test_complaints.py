"""Complaints: an apology, a manager alerted by text or email as they prefer, the review request skipped
and marketing held; signed webhook, the worker's queues, Redis, the database, the fake Twilio, the mail sink."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import runtime
from store.db import session_scope
from store.models import Escalation, Patient, Touch
from tests.helpers import PATIENT, add_staff, add_touch, dispatch_all, sent_to, text_in

MANAGER = "+15125550133"
SORRY = {
    "en": "We're sorry to hear that, Ana. Our manager will reach out to you to make it right.",
    "es": "Lamentamos mucho leer eso, Ana. La gerencia se comunicará contigo para resolverlo.",
}


def _mail(settings) -> list[str]:
    folder = settings.data_dir / "mail"
    return [path.read_text() for path in sorted(folder.glob("*.eml"))] if folder.exists() else []


@pytest.mark.parametrize(
    "language, text",
    [("en", "the staff was rude and my results are awful"), ("es", "estoy muy decepcionada con el servicio")],
)
def test_a_complaint_is_apologised_for_and_a_manager_who_prefers_texts_is_texted(
    settings, twilio, clock, spa, db_url, language, text
):
    add_staff(
        db_url,
        spa["practice_id"],
        name="Mo Manager",
        role="manager",
        email="mo@glow.test",
        phone=MANAGER,
        alert_by="sms",
    )
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = language
    text_in(text)
    assert sent_to(twilio, PATIENT) == [SORRY[language]]
    [alert] = sent_to(twilio, MANAGER)
    assert alert.startswith("COMPLAINT #") and "Ana R." in alert and "Glow Test Spa" in alert
    assert _mail(runtime.settings()) == []
    with session_scope(db_url) as session:
        [item] = session.exec(select(Escalation)).all()
    assert (item.reason, item.urgency, item.status) == ("complaint", "routine", "open") and item.paged_at is not None


def test_a_manager_who_prefers_email_gets_an_email(settings, twilio, clock, spa, db_url, mail_sink):
    add_staff(
        db_url,
        spa["practice_id"],
        name="Mo Manager",
        role="manager",
        email="mo@glow.test",
        phone=MANAGER,
        alert_by="email",
    )
    text_in("the staff was rude")
    text_in("really rude")  # after our apology, a second complaint: its own item, its own email
    assert sent_to(twilio, MANAGER) == []
    mails = _mail(runtime.settings())
    assert mails and all("To: mo@glow.test" in mail and "Complaint #" in mail for mail in mails)


def test_a_complaint_skips_the_review_request_and_holds_marketing_for_the_set_period(
    settings, twilio, clock, spa, db_url
):
    runtime.configure(runtime.settings().with_(complaint_hold_days=30), clock)
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).marketing_sms = True
    visit = {**spa, "appointment_id": None}
    review = add_touch(
        db_url, visit, plan="everyone", step="review", purpose="review", due_at=clock.now() + timedelta(days=1)
    )
    soon = add_touch(
        db_url,
        visit,
        plan="everyone",
        step="referral",
        purpose="referral",
        marketing=True,
        due_at=clock.now() + timedelta(days=2),
    )
    later = add_touch(
        db_url,
        visit,
        plan="everyone",
        step="winback_16w",
        purpose="reactivation",
        marketing=True,
        due_at=clock.now() + timedelta(days=31),
    )
    text_in("the staff was rude")
    with session_scope(db_url) as session:
        session.exec(select(Escalation)).one().status = "resolved"  # the manager called back
    clock.advance(days=2, minutes=5)
    dispatch_all(runtime.settings())
    clock.advance(days=29)
    dispatch_all(runtime.settings())
    with session_scope(db_url) as session:
        touches = {t.id: (t.status, t.reason) for t in session.exec(select(Touch))}
    assert touches[review] == ("suppressed", "complaint")
    assert touches[soon] == ("suppressed", "complaint_hold")
    assert touches[later][0] == "sent", touches[later]  # the hold is over
