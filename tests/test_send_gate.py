"""The last check before a text leaves: nothing written before an opt-out, a takeover or a lost claim
goes out after it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import runtime
from bot.consent.opt_out import opt_out
from bot.messaging import outbox
from bot.touches import dispatch
from bot.touches.dispatch import send
from bot.vocabulary import MessageKind
from store.db import session_scope
from store.models import ConversationState, Message, Patient, Touch
from tests.helpers import (
    PATIENT,
    PRACTICE_NUMBER,
    add_touch,
    csrf_token,
    run_worker,
    seed_visit,
    sent_to,
    touch_row,
    work,
)


def _queued_reply(db_url, ids, reply_kind: str, body: str = "Here are three times: 1) Tue 9:00") -> int:
    with session_scope(db_url) as session:
        row = outbox.queue_text(
            session,
            key=f"reply-test-{reply_kind}",
            to=PATIENT,
            from_=PRACTICE_NUMBER,
            body=body,
            kind=MessageKind.REPLY,
            reply_kind=reply_kind,
            practice_id=ids["practice_id"],
            patient_id=ids["patient_id"],
        )
        return row.id


def _opt_out(db_url, patient_id: int) -> None:
    with session_scope(db_url) as session:
        opt_out(session, session.get(Patient, patient_id), source="sms:STOP")


def _take_over(db_url, patient_id: int, clock) -> None:
    with session_scope(db_url) as session:
        session.add(ConversationState(patient_id=patient_id, takeover_until=clock.now() + timedelta(hours=1)))


def _status(db_url, message_id: int) -> str:
    with session_scope(db_url) as session:
        return session.get(Message, message_id).status


def test_an_offer_queued_before_stop_is_never_delivered(settings, twilio, db_url):
    ids = seed_visit(db_url)
    offer = _queued_reply(db_url, ids, "offer")
    _opt_out(db_url, ids["patient_id"])

    assert outbox.deliver(offer) == "withheld: opted_out"

    assert sent_to(twilio, PATIENT) == []
    assert _status(db_url, offer) == "withheld"
    assert outbox.deliver(offer) == "already withheld"


def test_the_opt_out_confirmation_itself_still_goes(settings, twilio, db_url):
    ids = seed_visit(db_url)
    _opt_out(db_url, ids["patient_id"])
    confirmation = _queued_reply(db_url, ids, "opt_out", "You're unsubscribed and will get no more texts.")

    assert outbox.deliver(confirmation) == "sent"
    assert sent_to(twilio, PATIENT) == ["You're unsubscribed and will get no more texts."]


def test_a_courtesy_reply_written_before_a_takeover_waits_for_staff_but_safety_replies_go(
    settings, twilio, clock, db_url
):
    ids = seed_visit(db_url)
    courtesy = _queued_reply(db_url, ids, "thanks", "Thank you, Ana!")
    safety = _queued_reply(db_url, ids, "urgent", "A nurse will call you within 15 minutes.")
    _take_over(db_url, ids["patient_id"], clock)

    assert outbox.deliver(courtesy) == "withheld: staff_takeover"
    assert outbox.deliver(safety) == "sent"
    assert sent_to(twilio, PATIENT) == ["A nurse will call you within 15 minutes."]


def test_a_touch_decided_before_an_opt_out_is_not_sent(settings, twilio, db_url, monkeypatch):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    assert dispatch.tick()["enqueued"] == 1
    transmit = send._transmit

    def stop_arrives_first(item, now, settings_):
        # The batch has claimed and rendered the touch; the patient's STOP lands before it is sent.
        _opt_out(db_url, ids["patient_id"])
        return transmit(item, now, settings_)

    monkeypatch.setattr(send, "_transmit", stop_arrives_first)
    run_worker(runtime.settings())

    assert sent_to(twilio, PATIENT) == []
    touch = touch_row(db_url, touch_id)
    assert (touch.status, touch.reason) == ("suppressed", "opted_out (at send time)")
    assert _status(db_url, touch.message_id) == "withheld"


def test_a_batch_whose_claim_was_taken_over_sends_nothing(settings, twilio, clock, db_url, monkeypatch):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    dispatch.tick()
    transmit = send._transmit

    def reclaimed_meanwhile(item, now, settings_):
        # A reconcile decided this batch's worker was gone and another worker claimed the touch anew.
        with session_scope(db_url) as session:
            touch = session.get(Touch, item.touch_id)
            touch.claimed_at = now + timedelta(seconds=90)
            session.add(touch)
        return transmit(item, now, settings_)

    monkeypatch.setattr(send, "_transmit", reclaimed_meanwhile)
    assert dispatch.send_touch(touch_id) == "claim lost"
    assert sent_to(twilio, PATIENT) == []
    with session_scope(db_url) as session:
        assert session.exec(select(Touch.status).where(Touch.id == touch_id)).one() == "sending"


def test_a_staff_reply_goes_through_the_outbox_and_is_withheld_after_an_opt_out(settings, twilio, db_url, manager):
    client, _ = manager
    with session_scope(db_url) as session:
        patients = session.exec(select(Patient).where(Patient.opted_out_at.is_(None))).all()
        first, second = patients[0], patients[1]
        first_id, second_id, second_phone = first.id, second.id, second.phone

    for patient_id in (first_id, second_id):
        token = csrf_token(client.get(f"/patients/{patient_id}").get_data(as_text=True))
        answer = client.post(
            f"/patients/{patient_id}/reply", data={"body": "Hi, this is Dana at Glow.", "csrf_token": token}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    with session_scope(db_url) as session:
        rows = session.exec(select(Message).where(Message.kind == "staff", Message.status == "pending")).all()
        assert sorted(row.patient_id for row in rows) == sorted([first_id, second_id])
    _opt_out(db_url, second_id)  # the second patient texts STOP before the worker delivers the reply

    work()

    with session_scope(db_url) as session:
        rows = {row.patient_id: row.status for row in session.exec(select(Message).where(Message.kind == "staff"))}
    assert rows[second_id] == "withheld" and rows[first_id] not in ("pending", "withheld")
    assert "Hi, this is Dana at Glow." not in sent_to(twilio, second_phone)
