"""What follows a reply: safety replies, pages to staff (and re-pages), confirmations, courtesy replies, the outbox.

Inbound texts go through the signed webhook and the real worker jobs; texts leave through the
fake Twilio over HTTP; the mail sink holds the email pages.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot import runtime
from bot.conversation.replies import REPLY_PLACEHOLDERS, replies
from bot.messaging import outbox
from bot.staff import paging
from bot.touches import composer
from bot.understanding import classifier
from bot.understanding.classifier import Decision
from handlers import ROUTES, Turn, route
from store.db import session_scope
from store.models import AuditEvent, ConversationState, Escalation, Message, Patient, StaffUser
from tests import factories
from tests.helpers import PATIENT, TWILIO_TOKEN, dispatch_all, next_sid, sent_to, set_password, sign_in, text_in, work
from tests.twilio_payloads import load, post_signed

NURSE, INJECTOR, MANAGER = "+15125550111", "+15125550122", "+15125550133"
EMERGENCY_LINE = "+15125550177"


@pytest.fixture
def spa(settings, clock, db_url):
    """A practice with an emergency line, a filler patient seen yesterday, and on-call, backup and manager staff."""
    with session_scope(db_url) as session:
        practice = factories.practice(session, emergency_line=EMERGENCY_LINE)
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)
        factories.appointment(session, patient, service, clock.now() - timedelta(days=1))
        staff = [
            StaffUser(practice_id=practice.id, name="Nina Nurse", role="nurse", phone=NURSE, on_call=True),
            StaffUser(
                practice_id=practice.id,
                name="Ivy Injector",
                role="injector",
                phone=INJECTOR,
                email="ivy@glow.test",
                backup=True,
            ),
            StaffUser(practice_id=practice.id, name="Mo Manager", role="manager", phone=MANAGER, email="mo@glow.test"),
        ]
        session.add_all(staff)
        session.flush()
        return {
            "practice_id": practice.id,
            "patient_id": patient.id,
            "nurse": staff[0].id,
            "injector": staff[1].id,
            "manager": staff[2].id,
        }


def escalation(db_url) -> Escalation:
    with session_scope(db_url) as session:
        return session.exec(select(Escalation).order_by(Escalation.id.desc())).first()


# ------------------------------------------------------------------ safety


def test_emergency_tells_the_patient_what_to_do_and_pages_on_call_and_backup(
    settings, twilio, clock, spa, db_url, mail_sink
):
    text_in("my lip is turning white and blotchy and it hurts a lot")
    [reply] = sent_to(twilio, PATIENT)
    assert "(512) 555-0177" in reply and "911" in reply and reply.startswith("Ana, this needs attention right away.")
    found = escalation(db_url)
    assert found.urgency == "emergency" and found.paged_at is not None
    for number in (NURSE, INJECTOR):
        [page] = sent_to(twilio, number)
        assert page.startswith(
            f"EMERGENCY #{found.id} at Glow Test Spa: Ana R. (Lip filler, day 1) "
            "wrote about signs of possible vascular occlusion. Call the patient now."
        )
        assert "Ruiz" not in page and PATIENT not in page and f"/patients/{spa['patient_id']}" in page
    assert sent_to(twilio, MANAGER) == []
    mails = list((settings.data_dir / "mail").glob("*.eml"))
    assert len(mails) == 1 and "ivy@glow.test" in mails[0].read_text()
    with session_scope(db_url) as session:
        message = session.exec(select(Message).where(Message.direction == "in")).one()
        assert message.decision["guard"]["reply"] == "twiml"  # answered in the webhook's TwiML, before any worker
        reply = session.exec(select(Message).where(Message.kind == "reply")).one()
        assert (reply.status, reply.body) == ("twiml", sent_to(twilio, PATIENT)[0])
        pages = session.exec(select(Message).where(Message.kind == "page")).all()
        assert len(pages) == 2 and all(m.twilio_sid and m.status not in ("pending", "transmitting") for m in pages)


def test_a_page_and_a_reply_go_once_whatever_runs_twice(settings, twilio, clock, spa, db_url):
    text_in("my lip is turning white and blotchy and it hurts a lot")
    found = escalation(db_url)
    assert paging.page_escalation(found.id) == 0  # rows exist: nothing new
    paging.enqueue(found.id)
    with session_scope(db_url) as session:
        ids = list(session.exec(select(Message.id).where(Message.direction == "out")))
    outbox.enqueue(ids)
    work()
    assert all(outbox.deliver(i).startswith("already ") for i in ids)
    assert len(twilio.messages) == 3  # patient, nurse, injector


def test_urgent_pages_on_call_only_and_promises_a_call(settings, twilio, clock, spa, db_url):
    pages, outbound = _route_urgent(db_url, spa, settings, clock)
    for escalation_id in pages:
        paging.page_escalation(escalation_id)
    outbox.enqueue(outbound)
    work()
    [reply] = sent_to(twilio, PATIENT)
    assert "a clinician will call you within 1 hour" in reply and "911" in reply  # no hours on file: after hours
    assert len(sent_to(twilio, NURSE)) == 1 and sent_to(twilio, INJECTOR) == [] and sent_to(twilio, MANAGER) == []
    assert escalation(db_url).urgency == "urgent"


def test_unacknowledged_pages_go_to_backup_and_managers_once(settings, twilio, clock, spa, db_url):
    text_in("my lip is turning white and blotchy and it hurts a lot")
    found = escalation(db_url)
    clock.advance(minutes=settings.repage_minutes - 1)
    assert paging.sweep()["repaged"] == 0
    clock.advance(minutes=2)
    assert paging.sweep()["repaged"] == 1
    work()
    assert [p.startswith(f"STILL OPEN, EMERGENCY #{found.id}") for p in sent_to(twilio, INJECTOR)] == [False, True]
    assert len(sent_to(twilio, MANAGER)) == 1 and len(sent_to(twilio, NURSE)) == 1
    assert escalation(db_url).repaged_at is not None
    clock.advance(minutes=30)
    assert paging.sweep()["repaged"] == 0


def test_staff_take_a_page_by_texting_ack(settings, twilio, clock, spa, db_url):
    text_in("my lip is turning white and blotchy and it hurts a lot")
    found = escalation(db_url)
    text_in("ack", from_=NURSE)
    taken = escalation(db_url)
    assert (taken.status, taken.acknowledged_by) == ("acknowledged", spa["nurse"])
    clock.advance(minutes=settings.repage_minutes + 1)
    assert paging.sweep()["repaged"] == 0
    with session_scope(db_url) as session:
        ack = session.exec(select(Message).where(Message.from_number == NURSE)).one()
        assert ack.decision["actions"] == [f"acknowledged:{found.id}"] and ack.patient_id is None
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "escalation_acknowledged")).one()
        assert audit.detail == {"via": "sms"}
    assert sent_to(twilio, NURSE)[-1].startswith("EMERGENCY")  # nothing texted back to the nurse


def test_with_nobody_on_call_the_managers_are_paged(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(StaffUser, spa["nurse"]).on_call = False
    text_in("my lip is turning white and blotchy and it hurts a lot")
    assert len(sent_to(twilio, MANAGER)) == 1 and len(sent_to(twilio, INJECTOR)) == 1


def test_with_no_staff_at_all_the_failure_is_recorded(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        for person in session.exec(select(StaffUser)):
            person.active = False
    text_in("my lip is turning white and blotchy and it hurts a lot")
    assert len(sent_to(twilio, PATIENT)) == 1
    with session_scope(db_url) as session:
        failed = session.exec(select(AuditEvent).where(AuditEvent.action == "page_failed")).one()
        assert failed.detail["reason"] == "no staff with a phone to page"


def test_an_opted_out_patient_gets_no_reply_but_staff_are_paged(settings, twilio, clock, spa, db_url):
    text_in("STOP")
    text_in("my lip is turning white and blotchy and it hurts a lot")
    assert sent_to(twilio, PATIENT) == []
    assert len(sent_to(twilio, NURSE)) == 1


# --------------------------------------------------------------- opt-out


def test_free_text_opt_out_gets_one_confirmation(settings, twilio, clock, spa, db_url):
    text_in("please stop texting me")
    text_in("i said stop texting me")
    [confirmation] = sent_to(twilio, PATIENT)
    assert confirmation.startswith("You're unsubscribed from Glow Test Spa texts") and "START" in confirmation
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["patient_id"]).opted_out_at is not None


@pytest.mark.parametrize(
    "twilio_confirms, word, expected",
    [
        (True, "STOP", None),
        (False, "STOP", "You're unsubscribed"),
        (False, "cancel", "To cancel an appointment instead, call (512) 555-0199."),
    ],
)
def test_carrier_keywords_are_confirmed_only_when_twilio_does_not(
    settings,
    twilio,
    clock,
    spa,
    db_url,
    twilio_confirms,
    word,
    expected,
):
    runtime.configure(runtime.settings().with_(twilio_confirms_opt_out=twilio_confirms), clock)
    text_in(word)
    replies_sent = sent_to(twilio, PATIENT)
    if expected is None:
        assert replies_sent == []
    else:
        assert len(replies_sent) == 1 and expected in replies_sent[0]


def test_spanish_opt_out_is_confirmed_in_spanish(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).language = "es"
    text_in("ya no me manden mensajes por favor")
    assert sent_to(twilio, PATIENT) == [
        "Ya no recibirás mensajes de Glow Test Spa. Responde START para volver a suscribirte."
    ]


# ------------------------------------------------------------ courtesy


def test_a_booking_wish_reaches_the_inbox_and_each_courtesy_reply_goes_once(settings, twilio, clock, spa, db_url):
    text_in("can I come in next Tuesday after 5?")
    text_in("or wednesday works too")
    text_in("or thursday")
    assert sent_to(twilio, PATIENT) == [  # the third text: both already said a person will reply
        "Thanks, Ana! Someone from our team will text you back shortly with times that work.",
        "Got it, Ana. We've added this to your messages for our team; someone will get back to you.",
    ]
    found = escalation(db_url)
    assert (found.urgency, found.reason) == ("routine", "needs_reply:rebook_request")
    assert sent_to(twilio, NURSE) == []  # routine items are not paged


def test_courtesy_replies_wait_while_staff_have_taken_over(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.add(
            ConversationState(
                patient_id=spa["patient_id"],
                takeover_staff_id=spa["nurse"],
                takeover_until=clock.now() + timedelta(hours=1),
            )
        )
    text_in("thank you so much, love my lips!")
    assert sent_to(twilio, PATIENT) == []
    clock.advance(hours=2)
    text_in("thank you so much, love my lips!")
    assert sent_to(twilio, PATIENT) == ["That's wonderful to hear, Ana! Thank you for letting us know."]
    text_in("seriously, thank you!")
    assert len(sent_to(twilio, PATIENT)) == 1  # once per 12 hours


def test_wrong_number_apologises_once_and_stops_the_plan(settings, twilio, clock, spa, db_url):
    text_in("wrong number, I don't know any Ana")
    text_in("wrong number!!")
    assert sent_to(twilio, PATIENT) == ["Sorry about that! We've removed this number and won't text it again."]


# ---------------------------------------------------------------- outbox


def test_a_reply_whose_job_was_lost_is_sent_by_the_sweep(settings, twilio, clock, spa, db_url):
    _queued_reply(db_url, spa)
    clock.advance(seconds=10)
    assert outbox.sweep()["requeued"] == 0
    clock.advance(seconds=30)
    assert outbox.sweep()["requeued"] == 1
    work()
    assert len(sent_to(twilio, PATIENT)) == 1
    assert outbox.sweep()["requeued"] == 0


@pytest.mark.parametrize("twilio_has_it", [True, False])
def test_a_reply_cut_off_mid_send_is_adopted_or_sent_once(settings, twilio, clock, spa, db_url, twilio_has_it):
    message_id = _queued_reply(db_url, spa)
    with session_scope(db_url) as session:
        row = session.get(Message, message_id)
        row.status, row.status_at = outbox.TRANSMITTING, clock.now()
        body = row.body
    if twilio_has_it:  # the worker died after Twilio took the text
        from bot.messaging.transport import transport

        transport().client.messages.create(to=PATIENT, from_=factories.AUSTIN_NUMBER, body=body)
    clock.advance(minutes=3)
    outbox.sweep()
    work()
    assert sent_to(twilio, PATIENT) == [body]
    with session_scope(db_url) as session:
        row = session.get(Message, message_id)
        assert row.twilio_sid == twilio.messages[0]["sid"] and row.status not in (outbox.PENDING, outbox.TRANSMITTING)


def test_a_refused_reply_is_failed_not_retried(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        row = outbox.queue_text(
            session,
            key="reply-x-thanks",
            to="+15125550199",
            from_=factories.AUSTIN_NUMBER,
            body="Thanks!",
            kind="reply",
            patient_id=spa["patient_id"],
        )
        message_id = row.id
    assert outbox.deliver(message_id) == "failed"  # the fake's landline: Twilio refuses with a 4xx
    with session_scope(db_url) as session:
        assert session.get(Message, message_id).status == "failed"
    assert twilio.messages == []


# ------------------------------------------------------------ the table


def test_every_intent_has_a_handler():
    assert set(ROUTES) == set(classifier.INTENTS)


@pytest.mark.parametrize("kind", sorted(replies()))
def test_every_reply_fits_two_segments_in_both_languages(kind):
    texts = replies()[kind]
    assert set(texts) == {"en", "es"}
    for language, template in texts.items():
        assert composer.fields(template) <= set(composer.PLACEHOLDERS) | set(REPLY_PLACEHOLDERS), (kind, language)
        # As sent: accents kept (UCS-2) when they fit two segments, else folded; GSM-only is never longer.
        # (tests/test_spanish_texts.py renders them with the demo practice's longest values too.)
        rendered = composer.render(template, {**composer.SAMPLE_LONG, **REPLY_PLACEHOLDERS})
        assert rendered.segments <= 2, (kind, language, rendered)
        gsm = composer.render(template, {**composer.SAMPLE_LONG, **REPLY_PLACEHOLDERS}, gsm_only=True)
        assert gsm.segments <= 2 and gsm.encoding == "GSM-7", (kind, language, gsm)


# --------------------------------------------------------------- helpers


def _route_urgent(db_url, spa, settings, clock) -> tuple[list[int], list[int]]:
    """Route "my eyelid is drooping", read as an urgent side effect, for Ana; (escalations to page, texts queued)."""
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        turn = Turn(
            session=session,
            message=_inbound(session, patient, "my eyelid is drooping"),
            patient=patient,
            decision=_decision("side_effect_concern", "urgent"),
            now=clock.now(),
            settings=settings,
        )
        route(turn)
        return turn.pages, turn.outbound


def _decision(intent: str, urgency: str) -> Decision:
    return Decision(intent=intent, urgency=urgency, entities={}, confidence=0.9, rationale="test", path="local")


def _inbound(session, patient: Patient, body: str) -> Message:
    message = Message(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        direction="in",
        kind="inbound",
        from_number=patient.phone,
        to_number=factories.AUSTIN_NUMBER,
        body=body,
        twilio_sid=next_sid(),
        created_at=runtime.clock().now(),
    )
    session.add(message)
    session.flush()
    return message


def _queued_reply(db_url, spa) -> int:
    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        inbound = _inbound(session, patient, "thanks!")
        row = outbox.queue_text(
            session,
            key=f"reply-{inbound.id}-thanks",
            to=PATIENT,
            from_=factories.AUSTIN_NUMBER,
            body="That's wonderful to hear, Ana!",
            kind="reply",
            patient_id=patient.id,
        )
        return row.id


def test_the_inbox_shows_who_was_paged(settings, twilio, clock, spa, db_url):
    set_password(db_url, spa["manager"])
    text_in("my lip is turning white and blotchy and it hurts a lot")
    client, _token = sign_in("mo@glow.test")
    page = client.get("/").get_data(as_text=True)
    assert "paged: Nina Nurse, Ivy Injector" in page
    clock.advance(minutes=settings.repage_minutes + 1)
    paging.sweep()
    work()
    assert "re-paged: Nina Nurse, Ivy Injector, Mo Manager" in client.get("/").get_data(as_text=True)


def test_a_staff_member_who_is_a_patient_is_heard_as_a_patient(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        session.get(StaffUser, spa["nurse"]).phone = PATIENT  # Nina is also Ana's number
    text_in("my lip is turning white and blotchy and it hurts a lot")
    assert escalation(db_url).urgency == "emergency"
    assert sent_to(twilio, PATIENT)[0].startswith("Ana, this needs attention right away.")


def test_praise_brings_a_pending_review_request_forward(settings, twilio, clock, spa, db_url):
    from store.models import Practice, Touch

    with session_scope(db_url) as session:
        session.get(Practice, spa["practice_id"]).review_url = "https://g.page/glow/review"
        session.add(
            Touch(
                practice_id=spa["practice_id"],
                patient_id=spa["patient_id"],
                plan="everyone",
                step="review",
                purpose="review",
                due_at=clock.now() + timedelta(days=2),
            )
        )
    text_in("love my lips, thank you so much!")
    with session_scope(db_url) as session:
        review = session.exec(select(Touch)).one()
        assert review.due_at.replace(tzinfo=clock.now().tzinfo) == clock.now() + timedelta(minutes=10)
    clock.advance(minutes=11)
    dispatch_all(runtime.settings(), rounds=2)
    thanks, review_text = sent_to(twilio, PATIENT)
    assert thanks.startswith("That's wonderful to hear") and "https://g.page/glow/review" in review_text


def test_an_escalation_taken_before_its_page_runs_pages_nobody(settings, twilio, clock, spa, db_url):
    [escalation_id], _outbound = _route_urgent(db_url, spa, settings, clock)
    with session_scope(db_url) as session:
        session.get(Escalation, escalation_id).status = "acknowledged"  # a nurse saw it in the dashboard at once
    assert paging.page_escalation(escalation_id) == 0
    clock.advance(minutes=5)
    assert paging.sweep() == {"paged": 0, "repaged": 0}


def test_a_redis_failure_after_handling_leaves_the_texts_to_the_sweep(
    settings,
    twilio,
    clock,
    spa,
    db_url,
    monkeypatch,
):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from bot.conversation.processing import process_inbound

    def down(*_args, **_kwargs):
        raise RedisConnectionError("redis went away")

    with session_scope(db_url) as session:
        patient = session.get(Patient, spa["patient_id"])
        message_id = _inbound(session, patient, "my lip is turning white and blotchy and it hurts a lot").id
    with monkeypatch.context() as patched:
        patched.setattr(outbox, "enqueue", down)
        patched.setattr(paging, "enqueue", down)
        assert process_inbound(message_id) == "side_effect_concern"  # handled once, not retried
    clock.advance(minutes=1)
    assert paging.sweep()["paged"] == 1
    work()
    assert outbox.sweep()["requeued"] == 1  # the patient's reply
    work()
    assert len(sent_to(twilio, PATIENT)) == 1 and len(sent_to(twilio, NURSE)) == 1


def test_a_red_flag_is_answered_in_the_webhooks_twiml_with_no_worker(settings, clock, spa, db_url):
    from app import create_app

    client = create_app(runtime.settings()).test_client()

    def post(body, sid):
        params = load("inbound_basic", Body=body, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
        return post_signed(client, "/sms/inbound", params, TWILIO_TOKEN).get_data(as_text=True)

    answer = post("my lip is turning white & blotchy, it hurts a lot", "SM" + "a" * 32)
    assert "<Response><Message>Ana, this needs attention right away. Call our emergency line (512) 555-0177" in answer
    assert escalation(db_url).urgency == "emergency"  # no worker has run
    assert post("hi, can I book botox for friday?", "SM" + "b" * 32).endswith("<Response></Response>")
    with session_scope(db_url) as session:
        session.get(Patient, spa["patient_id"]).opted_out_at = clock.now()
    assert post("my lip is turning white and blotchy and it hurts", "SM" + "c" * 32).endswith("<Response></Response>")


def test_the_webhook_weighs_an_occlusion_sign_against_the_treatment_had(settings, clock, spa, db_url):
    from app import create_app
    from store.models import Service

    client = create_app(runtime.settings()).test_client()
    body = "my lip is turning white and it really hurts"
    with session_scope(db_url) as session:  # Ana's visit was CoolSculpting, not a filler
        service = session.exec(select(Service)).one()
        service.category, service.area = "body_contouring", "abdomen"
    params = load("inbound_basic", Body=body, MessageSid="SM" + "d" * 32, SmsSid="SM" + "d" * 32)
    assert (
        post_signed(client, "/sms/inbound", params, TWILIO_TOKEN)
        .get_data(as_text=True)
        .endswith("<Response></Response>")
    )
    stranger = load("inbound_basic", Body=body, From="+15125550166", MessageSid="SM" + "e" * 32, SmsSid="SM" + "e" * 32)
    post_signed(client, "/sms/inbound", stranger, TWILIO_TOKEN)  # treatment unknown: assumed possible
    assert escalation(db_url).urgency == "emergency" and escalation(db_url).patient_id is None


def test_an_emergency_whose_page_job_was_flushed_is_paged_within_seconds(settings, twilio, clock, spa, db_url, redis):
    text_in("my lip is turning white and blotchy and it hurts a lot")  # the webhook queues the page at once
    with session_scope(db_url) as session:
        session.exec(update(Escalation).values(paged_at=None))  # as if its page job never ran
    redis.flushdb()  # and Redis lost it

    clock.advance(seconds=paging.PAGE_GRACE.total_seconds() - 1)
    assert paging.sweep()["paged"] == 0  # a page still on its way is left to its job
    clock.advance(seconds=2)
    assert paging.sweep()["paged"] == 1
    work()
    assert len(sent_to(twilio, NURSE)) == 1  # the page row written the first time is not sent again
