"""Two patients picking the same offered time at the same moment get one visit between them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlmodel import select

from app import create_app
from bot import runtime
from bot.booking import open_times
from bot.conversation.processing import process_inbound
from store.db import session_scope
from store.models import Appointment, ConversationState, Location, Message
from tests import factories
from tests.helpers import TWILIO_TOKEN
from tests.twilio_payloads import load, post_signed

HOURS = {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
PHONES = ("+15125550143", "+15125550144")
_sids = count(7000)


def _text(body: str, from_: str) -> int:
    """The patient's text through the signed webhook, recorded and queued but not processed yet."""
    sid = f"SM{next(_sids):032d}"
    params = load("inbound_basic", Body=body, From=from_, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    response = post_signed(create_app(runtime.settings()).test_client(), "/sms/inbound", params, TWILIO_TOKEN)
    assert response.status_code == 200
    with session_scope(runtime.db_url()) as session:
        return session.exec(select(Message.id).where(Message.twilio_sid == sid)).one()


@pytest.fixture
def two_patients_offered_the_same_time(settings, clock, db_url):
    """Ana and Bea, both lip-filler patients of Maya, each holding an offer of Maya's Tuesday 9:00."""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        location = session.exec(select(Location)).one()
        maya = factories.provider(session, practice.id, location_id=location.id, working_hours=HOURS)
        service = factories.service(session, practice.id)
        patients = []
        for phone, name in zip(PHONES, ("Ana", "Bea")):
            patient = factories.patient(session, practice.id, phone=phone, first_name=name)
            factories.appointment(
                session,
                patient,
                service,
                clock.now() - timedelta(days=150),
                provider_id=maya.id,
                location_id=location.id,
            )
            patients.append(patient.id)
    for phone in PHONES:
        process_inbound(_text("can I come in tuesday morning?", phone))
    with session_scope(db_url) as session:
        offers = [session.get(ConversationState, patient_id).pending["options"][0] for patient_id in patients]
    assert offers[0]["start"] == offers[1]["start"] and offers[0]["provider_id"] == offers[1]["provider_id"]
    return maya.id, datetime.fromisoformat(offers[0]["start"]).astimezone(UTC)


def test_two_patients_picking_one_time_at_once_get_one_visit(
    settings, clock, db_url, monkeypatch, two_patients_offered_the_same_time
):
    provider_id, start = two_patients_offered_the_same_time
    picks = [_text("1", phone) for phone in PHONES]
    # Both workers have checked that the time is free before either writes its visit: the race a
    # check-then-insert loses. The barrier gives up after a moment when a lock keeps one worker out.
    barrier = threading.Barrier(2, timeout=2)
    checked = open_times.still_open

    def still_open_then_wait(*args, **kwargs):
        free = checked(*args, **kwargs)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return free

    monkeypatch.setattr(open_times, "still_open", still_open_then_wait)
    errors: list[BaseException] = []

    def pick(message_id: int) -> None:
        try:
            process_inbound(message_id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=pick, args=(message_id,)) for message_id in picks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with session_scope(db_url) as session:
        visits = session.exec(select(Appointment).where(Appointment.status == "requested")).all()
        assert [(v.provider_id, v.start_at.replace(tzinfo=UTC)) for v in visits] == [(provider_id, start)]
        decisions = [session.get(Message, message_id).decision for message_id in picks]
    actions = sorted(
        action
        for decision in decisions
        for action in decision["actions"]
        if action == "slot_taken" or action.startswith("requested_appointment")
    )
    assert len(actions) == 2 and actions[1] == "slot_taken", actions
