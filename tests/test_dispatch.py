"""Sending touches: consent, suppression, quiet hours, caps and Twilio errors, against the fake Twilio over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import runtime
from bot.errors import MailNotConfigured
from bot.messaging import mailer
from bot.touches import dispatch
from bot.touches.dispatch import emails
from store.db import session_scope
from store.models import (
    ConversationState,
    Escalation,
    Location,
    Message,
    Patient,
    Service,
    Touch,
)
from tests.helpers import PATIENT, PRACTICE_NUMBER, add_touch, dispatch_all, run_worker, seed_visit, touch_row


def test_due_touch_is_sent_once_with_who_is_texting(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    dispatch_all(runtime.settings(), rounds=2)
    assert len(twilio.messages) == 1
    text = twilio.messages[0]
    assert text["to"] == PATIENT and text["from"] == PRACTICE_NUMBER
    assert text["body"].startswith("Hi Ana, it's Maya at Glow Med Spa.")
    assert "Botox forehead" in text["body"]
    touch = touch_row(db_url, touch_id)
    assert touch.status == "sent" and touch.message_id
    with session_scope(db_url) as session:
        message = session.get(Message, touch.message_id)
        assert message.idempotency_key == f"touch-{touch_id}" and message.kind == "touch"
        assert message.twilio_sid == text["sid"] and message.segments >= 1


def test_spanish_patient_in_miami_reads_the_spanish_service_name_and_the_miami_number(settings, twilio, clock, db_url):
    ids = seed_visit(
        db_url,
        category="filler",
        area="lips",
        service_name="Lip filler",
        language="es",
        phone="+13055550143",
        tz="America/New_York",
        state="FL",
        status="no_show",
    )
    with session_scope(db_url) as session:
        session.get(Service, ids["service_id"]).name_es = "relleno de labios"
        session.get(Location, ids["location_id"]).phone = "+13055550100"
    touch_id = add_touch(db_url, ids, plan="missed", step="sorry_missed", purpose="rebook")
    dispatch_all(runtime.settings())
    [text] = twilio.messages
    assert text["body"] == (
        "Glow Med Spa: Hola Ana, ¡te extrañamos hoy! ¿Buscamos otra fecha? Solo responde aquí o llama al "
        "(305) 555-0100."
    )
    assert touch_row(db_url, touch_id).body == text["body"]
    clock.advance(days=2)  # a day later, past the frequency cap
    touch_id = add_touch(db_url, ids, plan="filler", step="results", purpose="results", due_at=clock.now())
    dispatch_all(runtime.settings())
    assert twilio.messages[-1]["body"] == (
        "Glow Med Spa: Ana, ¿te gusta el resultado de tu relleno de labios? Escríbenos; Dr. Lee lo revisa con gusto."
    )
    assert touch_row(db_url, touch_id).body == twilio.messages[-1]["body"]


def test_opted_out_patient_gets_nothing_whatever_was_queued(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    first = add_touch(db_url, ids)
    dispatch.tick()  # the job is in Redis now
    with session_scope(db_url) as session:
        # Opted out behind the planner's back: the touch stays queued, the job still runs.
        session.get(Patient, ids["patient_id"]).opted_out_at = clock.now()
    run_worker(runtime.settings())
    assert twilio.messages == []
    assert touch_row(db_url, first).status == "skipped"
    assert touch_row(db_url, first).reason == "opted_out"


def test_opt_out_through_inbound_cancels_queued_touches(settings, twilio, clock, db_url):
    from bot.consent.opt_out import opt_out

    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    dispatch.tick()
    with session_scope(db_url) as session:
        opt_out(session, session.get(Patient, ids["patient_id"]), source="sms:STOP")
    run_worker(runtime.settings())
    assert twilio.messages == []
    assert touch_row(db_url, touch_id).status == "suppressed"


def test_marketing_step_without_marketing_consent_is_skipped(settings, twilio, clock, db_url):
    ids = seed_visit(db_url, marketing=False)
    touch_id = add_touch(db_url, ids, plan="everyone", step="referral", purpose="referral", marketing=True)
    dispatch_all(runtime.settings())
    assert twilio.messages == []
    touch = touch_row(db_url, touch_id)
    assert (touch.status, touch.reason) == ("skipped", "no_marketing_consent")


def test_no_care_consent_is_skipped(settings, twilio, clock, db_url):
    ids = seed_visit(db_url, care=False)
    touch_id = add_touch(db_url, ids)
    dispatch_all(runtime.settings())
    assert (touch_row(db_url, touch_id).status, touch_row(db_url, touch_id).reason) == ("skipped", "no_care_consent")


@pytest.mark.parametrize(
    "setup, reason",
    [
        ("escalation", "open_escalation"),
        ("takeover", "staff_takeover"),
        ("wrong_number", "wrong_number"),
        ("flagged", "number_flagged: twilio 21614"),
    ],
)
def test_suppressed_touches_keep_their_reason(settings, twilio, clock, db_url, setup, reason):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    with session_scope(db_url) as session:
        if setup == "escalation":
            session.add(
                Escalation(
                    practice_id=ids["practice_id"],
                    patient_id=ids["patient_id"],
                    urgency="urgent",
                    reason="swelling",
                    status="acknowledged",
                    created_at=clock.now(),
                )
            )
        elif setup == "takeover":
            session.add(
                ConversationState(patient_id=ids["patient_id"], takeover_until=clock.now() + timedelta(hours=2))
            )
        elif setup == "wrong_number":
            session.add(ConversationState(patient_id=ids["patient_id"], wrong_number=True))
        else:
            patient = session.get(Patient, ids["patient_id"])
            patient.flagged_at, patient.flag_reason = clock.now(), "twilio 21614"
    dispatch_all(runtime.settings())
    assert twilio.messages == []
    touch = touch_row(db_url, touch_id)
    assert (touch.status, touch.reason) == ("suppressed", reason)


def test_touch_due_at_night_goes_out_at_nine_next_morning(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    night = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # 23:00 in Chicago
    clock.set(night)
    touch_id = add_touch(db_url, ids, due_at=night)
    dispatch_all(runtime.settings())
    touch = touch_row(db_url, touch_id)
    assert touch.status == "scheduled" and touch.deferrals == 1
    assert touch.reason.startswith("quiet_hours: deferred from 2026-11-23 23:00 CST to 2026-11-24 09:00 CST")
    assert touch.due_at.replace(tzinfo=UTC) == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 24, 14, 59, tzinfo=UTC))
    dispatch_all(runtime.settings())
    assert twilio.messages == []
    clock.set(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    dispatch_all(runtime.settings())
    assert len(twilio.messages) == 1


def test_frequency_cap_defers_a_second_touch_the_same_day(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    first = add_touch(db_url, ids)
    second = add_touch(db_url, ids, step="results", purpose="results")
    dispatch_all(runtime.settings(), rounds=2)
    assert len(twilio.messages) == 1
    statuses = {touch_row(db_url, first).status, touch_row(db_url, second).status}
    assert statuses == {"sent", "scheduled"}
    held = touch_row(db_url, second) if touch_row(db_url, second).status == "scheduled" else touch_row(db_url, first)
    assert held.reason.startswith("frequency_cap (min_gap 12h)")


def test_rebooked_patient_gets_no_rebook_text(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids, step="rebook", purpose="rebook")
    seed_visit(
        db_url,
        practice_id=ids["practice_id"],
        patient_id=ids["patient_id"],
        status="booked",
        start=clock.now() + timedelta(days=30),
    )
    dispatch_all(runtime.settings())
    assert twilio.messages == []
    assert (touch_row(db_url, touch_id).status, touch_row(db_url, touch_id).reason) == ("suppressed", "rebooked")


def test_carrier_opt_out_21610_opts_the_patient_out(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    later = add_touch(db_url, ids, step="rebook", purpose="rebook", due_at=clock.now() + timedelta(days=70))
    twilio.opt_out(PATIENT)
    dispatch_all(runtime.settings())
    touch = touch_row(db_url, touch_id)
    assert touch.status == "failed" and "21610" in touch.reason
    with session_scope(db_url) as session:
        patient = session.get(Patient, ids["patient_id"])
        assert patient.opted_out_at is not None and patient.opt_out_source == "carrier:21610"
    assert touch_row(db_url, later).status == "suppressed"


def test_not_a_mobile_number_is_flagged(settings, twilio, clock, db_url):
    ids = seed_visit(db_url, phone="+15125550199")
    touch_id = add_touch(db_url, ids)
    dispatch_all(runtime.settings())
    assert touch_row(db_url, touch_id).status == "failed"
    with session_scope(db_url) as session:
        assert session.get(Patient, ids["patient_id"]).flag_reason == "twilio 21614"


def test_transient_failure_retries_with_backoff_then_sends(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    twilio.inject(status=429, times=4)  # every attempt of one send
    dispatch_all(runtime.settings())
    touch = touch_row(db_url, touch_id)
    assert touch.status == "scheduled" and touch.reason.startswith("retry 1:")
    assert twilio.messages == []
    clock.advance(minutes=1)
    dispatch_all(runtime.settings())
    assert touch_row(db_url, touch_id).status == "sent"
    assert len(twilio.messages) == 1


def test_results_step_goes_by_email_when_the_patient_has_one(settings, twilio, clock, db_url, mail_sink):
    ids = seed_visit(db_url, email="ana@example.com")
    touch_id = add_touch(db_url, ids, step="results", purpose="results")
    with session_scope(db_url) as session:
        session.get(Touch, touch_id).channel = "email"
    dispatch_all(runtime.settings())
    touch = touch_row(db_url, touch_id)
    assert touch.status == "sent" and touch.reason.startswith("email: ")
    assert twilio.messages == []
    mails = list((runtime.settings().data_dir / "mail").glob("*.eml"))
    assert len(mails) == 1 and "Botox forehead" in mails[0].read_text()


def test_status_callback_points_at_the_public_url(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    add_touch(db_url, ids)
    dispatch_all(runtime.settings())
    with session_scope(db_url) as session:
        message = session.exec(select(Message).where(Message.kind == "touch")).one()
    assert message.status in ("queued", "accepted", "sent")
    assert twilio.get(message.twilio_sid) is not None


def test_an_email_whose_commit_fails_after_the_hand_off_is_never_sent_twice(
    settings, twilio, clock, db_url, monkeypatch, mail_sink
):
    ids = seed_visit(db_url, email="ana@example.com")
    touch_id = add_touch(db_url, ids, step="results", purpose="results")
    with session_scope(db_url) as session:
        session.get(Touch, touch_id).channel = "email"
    finish = emails.finish

    def crash_after_the_hand_off(session, touch, status, reason, *args, **kwargs):
        if status == "sent" and (reason or "").startswith("email: "):
            raise RuntimeError("the worker died before recording the mail")
        return finish(session, touch, status, reason, *args, **kwargs)

    monkeypatch.setattr(emails, "finish", crash_after_the_hand_off)
    dispatch.tick()
    with pytest.raises(RuntimeError):
        dispatch.send_touch(touch_id)
    monkeypatch.setattr(emails, "finish", finish)
    mails = list((runtime.settings().data_dir / "mail").glob("*.eml"))
    assert len(mails) == 1
    assert f"Message-ID: {dispatch.email_message_id(touch_id)}" in mails[0].read_text()

    assert touch_row(db_url, touch_id).status == "sending"
    assert dispatch.settle_sending(touch_id, clock.now()) is True
    touch = touch_row(db_url, touch_id)
    assert (touch.status, touch.reason) == ("failed", "email_outcome_unknown")
    dispatch_all(runtime.settings(), rounds=2)
    assert len(list((runtime.settings().data_dir / "mail").glob("*.eml"))) == 1


def test_without_smtp_outside_the_demo_an_email_step_fails_with_the_reason_and_nothing_is_written(
    settings, twilio, clock, db_url
):
    ids = seed_visit(db_url, email="ana@example.com")
    touch_id = add_touch(db_url, ids, step="results", purpose="results")
    with session_scope(db_url) as session:
        session.get(Touch, touch_id).channel = "email"
    dispatch_all(settings)
    touch = touch_row(db_url, touch_id)
    assert (touch.status, touch.reason) == ("failed", "email: not sent: SMTP_URL is not set")
    assert not (settings.data_dir / "mail").exists()
    with pytest.raises(MailNotConfigured):
        mailer.send(runtime.settings(), "ana@example.com", "Results", "body")
