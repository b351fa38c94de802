"""Due touches out, exactly once: tick claims, send_touch sends, reconcile repairs.

Touch rows are the truth and RQ only executes:

    scheduled --tick--> queued --send_touch--> sending --> sent
                                                       \\-> scheduled (deferred, paced, transient failure)
                                                       \\-> skipped | suppressed | failed

Every arrow is a conditional UPDATE whose row count is checked, so a
duplicate job, two workers or a re-enqueue after a Redis flush cannot send
twice. The outbound message row (idempotency key "touch-<id>") is written
before Twilio is called; a worker that died after that point is repaired by
looking the text up at Twilio, never by sending blindly.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import String, cast, literal, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot import composer, mailer, runtime
from bot.clock import to_utc
from bot.errors import AmbiguousSendError, TransportError
from bot.pacing import Pacer
from bot.phones import mask
from bot.plans import plans_for
from bot.queue import get_queue, redis_connection
from bot.sending_rules import DEFER, SEND, STATUS_FOR, decide, load_facts, retry_delay
from bot import caps
from store.db import get_engine, session_scope
from store.models import Location, Message, Patient, Touch
from store.queries import cancel_pending_touches

log = logging.getLogger(__name__)

SEND_JOB = "bot.dispatch.send_touch"
"""Dotted path of the job that sends one touch."""

CLAIM_BATCH = 2000
"""Touches one tick claims at most (without pacing)."""

PACING_HORIZON_S = 20
"""With pacing on, a tick claims per sender what that number can send in this many seconds."""

QUEUED_GRACE = timedelta(seconds=60)
"""A queued touch whose job is gone after this long is enqueued again."""

SENDING_GRACE = timedelta(minutes=5)
"""A touch still "sending" after this long lost its worker; its outcome is looked up at Twilio."""

RECONCILE_BATCH = 1000
"""Stuck touches one reconcile pass looks at."""

JOB_RESULT_TTL = 24 * 3600
"""Seconds RQ keeps a finished send job (its id shows it ran)."""

TRANSPORT_OPTIONS: dict = {}
"""Extra keyword arguments for SmsTransport (tests shorten the retry wait)."""

BAD_NUMBER_CODES = (21211, 21614)
OPT_OUT_CODES = (21610,)

_transports: dict = {}
_pacers: dict = {}


def job_id(touch_id: int) -> str:
    return f"touch-{touch_id}"


def idempotency_key(touch_id: int) -> str:
    return f"touch-{touch_id}"


@dataclass(frozen=True)
class Sender:
    """Who a text goes out from: a number, or a messaging service that picks one."""

    number: str | None
    service_sid: str | None

    @property
    def key(self) -> str:
        return self.number or self.service_sid or "default"


def sender_for(location: Location | None, settings) -> Sender:
    if location is not None and location.sms_number:
        return Sender(location.sms_number, None)
    if settings.twilio_from_number:
        return Sender(settings.twilio_from_number, None)
    return Sender(None, settings.twilio_messaging_service_sid)


def transport():
    """This process's SMS transport for the current settings (reused: one connection pool)."""
    from bot.transport import SmsTransport

    settings = runtime.settings()
    key = (settings.twilio_api_base_url, settings.twilio_account_sid, settings.twilio_auth_token,
           tuple(sorted(TRANSPORT_OPTIONS.items(), key=lambda kv: kv[0])).__repr__())
    found = _transports.get(key)
    if found is None:
        found = _transports[key] = SmsTransport(settings, runtime.clock(), **TRANSPORT_OPTIONS)
    return found


def _pacer(settings) -> Pacer:
    key = (settings.redis_url, str(settings.data_dir), settings.sender_mps)
    found = _pacers.get(key)
    if found is None:
        found = _pacers[key] = Pacer(redis_connection(settings), settings.sender_mps)
    return found


def _wall() -> datetime:
    # Twilio dates messages by wall time; lookups compare against it, not the injectable clock.
    return datetime.now(timezone.utc)


# ------------------------------------------------------------------ tick


def tick(now: datetime | None = None) -> dict:
    """Repair stuck touches, claim due ones and enqueue their send jobs (every worker runs this)."""
    now = to_utc(now or runtime.clock().now())
    repaired = reconcile(now)
    claimed = claim_due(now)
    enqueued = enqueue(claimed)
    return {"claimed": len(claimed), "enqueued": enqueued, **repaired}


def claim_due(now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Move due scheduled touches to queued; returns the ids this caller won."""
    settings = runtime.settings()
    engine = get_engine(runtime.db_url())
    candidates = (
        select(Touch.id)
        .where(Touch.status == "scheduled", Touch.due_at <= now)
        .order_by(Touch.due_at, Touch.id)
    )
    with session_scope(runtime.db_url()) as session:
        if settings.pacing:
            ids = _paced_candidates(session, now, settings)
            if not ids:
                return []
            chosen = col(Touch.id).in_(ids)
        else:
            inner = candidates.limit(limit)
            if engine.dialect.name == "postgresql":
                inner = inner.with_for_update(skip_locked=True)
            chosen = col(Touch.id).in_(inner.scalar_subquery())
        statement = (
            update(Touch)
            .where(chosen, Touch.status == "scheduled")
            .values(status="queued", claimed_at=now, updated_at=now,
                    job_id=literal("touch-") + cast(Touch.id, String))
            .returning(Touch.id)
        )
        return sorted(session.exec(statement).scalars().all())


def _paced_candidates(session, now: datetime, settings) -> list[int]:
    """Due touches, at most what each sender can send within PACING_HORIZON_S."""
    budget = max(1, int(settings.sender_mps * PACING_HORIZON_S))
    from store.models import Appointment

    rows = session.exec(
        select(Touch.id, Location.sms_number)
        .outerjoin(Appointment, Appointment.id == Touch.appointment_id)
        .outerjoin(Location, Location.id == Appointment.location_id)
        .where(Touch.status == "scheduled", Touch.due_at <= now)
        .order_by(Touch.due_at, Touch.id)
        .limit(CLAIM_BATCH * 5)
    ).all()
    taken: dict[str, int] = {}
    ids = []
    for touch_id, number in rows:
        key = number or "default"
        if taken.get(key, 0) < budget:
            taken[key] = taken.get(key, 0) + 1
            ids.append(touch_id)
    return ids


def enqueue(touch_ids: list[int]) -> int:
    """Enqueue send jobs with deterministic ids; a lost enqueue is repaired by reconcile."""
    if not touch_ids:
        return 0
    queue = get_queue("touches", runtime.settings())
    jobs = [
        Queue.prepare_data(SEND_JOB, args=(touch_id,), job_id=job_id(touch_id), result_ttl=JOB_RESULT_TTL,
                           failure_ttl=7 * 24 * 3600, timeout=300)
        for touch_id in touch_ids
    ]
    try:
        for start in range(0, len(jobs), 1000):
            queue.enqueue_many(jobs[start:start + 1000])
    except RedisError as exc:
        log.warning("enqueue of %d touch job(s) failed (%s); reconcile will retry", len(touch_ids), exc)
        return 0
    return len(touch_ids)


# -------------------------------------------------------------- reconcile


def reconcile(now: datetime | None = None) -> dict:
    """Re-enqueue queued touches whose job vanished; settle "sending" touches whose worker died."""
    now = to_utc(now or runtime.clock().now())
    with session_scope(runtime.db_url()) as session:
        queued = list(session.exec(
            select(Touch.id).where(Touch.status == "queued", Touch.claimed_at < now - QUEUED_GRACE)
            .order_by(Touch.id).limit(RECONCILE_BATCH)
        ))
        sending = list(session.exec(
            select(Touch.id).where(Touch.status == "sending", Touch.claimed_at < now - SENDING_GRACE)
            .order_by(Touch.id).limit(RECONCILE_BATCH)
        ))
    lost = _without_live_job(queued)
    requeued = enqueue(lost) if lost else 0
    settled = sum(1 for touch_id in sending if settle_sending(touch_id, now))
    return {"requeued": requeued, "settled": settled}


def _without_live_job(touch_ids: list[int]) -> list[int]:
    if not touch_ids:
        return []
    connection = redis_connection(runtime.settings())
    try:
        pipe = connection.pipeline(transaction=False)
        for touch_id in touch_ids:
            pipe.hget(f"rq:job:{job_id(touch_id)}", "status")
        statuses = pipe.execute()
    except RedisError as exc:
        log.warning("cannot check send jobs in Redis: %s", exc)
        return []
    live = {b"queued", b"started", b"deferred", b"scheduled"}
    return [touch_id for touch_id, status in zip(touch_ids, statuses) if status not in live]


def settle_sending(touch_id: int, now: datetime) -> bool:
    """Decide what happened to a touch left "sending": sent (adopt the SID) or provably not (schedule again)."""
    with session_scope(runtime.db_url()) as session:
        touch = session.get(Touch, touch_id)
        if touch is None or touch.status != "sending":
            return False
        if touch.channel == "email" and touch.message_id is None:
            # Mail has no lookup: never risk a second copy.
            return _finish(session, touch, "failed", "email_outcome_unknown", now)
        message = session.exec(select(Message).where(Message.idempotency_key == idempotency_key(touch_id))).first()
        if message is None or message.status == "not_sent":
            return _finish(session, touch, "scheduled", "retry: worker stopped before sending", now, due_at=now)
        if message.twilio_sid:
            return _mark_sent(session, touch, message, now)
        patient = session.get(Patient, touch.patient_id)
        since = _attempt_wall(message) - timedelta(minutes=2)
        number, service = message.from_number, None
        if number.startswith("MG"):
            number, service = None, number
    try:
        found = transport().find_sent(patient.phone, message.body, since, from_=number or None,
                                      messaging_service_sid=service)
    except TransportError as exc:
        log.warning("touch %s: Twilio lookup failed (%s); will try again", touch_id, exc)
        return False
    with session_scope(runtime.db_url()) as session:
        touch = session.get(Touch, touch_id)
        message = session.get(Message, message.id)
        if touch.status != "sending":
            return False
        if found is not None:
            message.twilio_sid, message.status = found.sid, found.status
            message.segments = found.num_segments or message.segments
            log.info("touch %s was at Twilio as %s; marked sent without resending", touch_id, found.sid)
            return _mark_sent(session, touch, message, now)
        message.status = "not_sent"
        session.add(message)
        return _finish(session, touch, "scheduled", "retry: not found at Twilio after worker stopped", now, due_at=now)


def _attempt_wall(message: Message) -> datetime:
    decision = message.decision or {}
    try:
        return datetime.fromisoformat(decision["attempt_at"])
    except (KeyError, TypeError, ValueError):
        return _wall() - timedelta(days=2)


def _finish(session, touch: Touch, status: str, reason: str | None, now: datetime, due_at: datetime | None = None) -> bool:
    touch.status, touch.reason, touch.updated_at = status, reason, now
    if due_at is not None:
        touch.due_at = due_at
    session.add(touch)
    return True


def _mark_sent(session, touch: Touch, message: Message, now: datetime) -> bool:
    message.sent_at = message.sent_at or now
    session.add(message)
    touch.status, touch.reason, touch.sent_at, touch.message_id, touch.updated_at = "sent", None, now, message.id, now
    touch.body = message.body
    session.add(touch)
    return True


# ------------------------------------------------------------------- send


def send_touch(touch_id: int) -> str:
    """Check the rules and send one touch (job; at most one text per touch whatever runs it)."""
    settings = runtime.settings()
    url = runtime.db_url()
    now = to_utc(runtime.clock().now())
    with session_scope(url) as session:
        claimed = session.exec(
            update(Touch).where(Touch.id == touch_id, Touch.status == "queued")
            .values(status="sending", claimed_at=now, updated_at=now)
        ).rowcount
        if claimed != 1:
            return "already handled"
        touch = session.get(Touch, touch_id)
        facts = load_facts(session, touch, now)
        verdict = decide(touch, facts, now)
        if verdict.action == DEFER:
            touch.deferrals += 1
            _finish(session, touch, "scheduled", verdict.reason, now, due_at=verdict.due_at)
            return f"deferred: {verdict.reason}"
        if verdict.action != SEND:
            _finish(session, touch, STATUS_FOR[verdict.action], verdict.reason, now)
            return f"{STATUS_FOR[verdict.action]}: {verdict.reason}"
        step = plans_for(settings).step(touch.plan, touch.step)
        if step is None:
            _finish(session, touch, "skipped", f"step {touch.plan}.{touch.step} no longer in the plans", now)
            return "skipped: step removed"
        patient = facts.patient
        language = patient.language if patient.language in step.text else "en"
        context = composer.context_for(facts.practice, patient, facts.service, facts.provider)
        if step.channel == "email" and patient.email:
            return _send_email(session, touch, step, language, context, patient.email, settings, now)
        rendered = composer.render(step.template(language), context)
        sender = sender_for(facts.location, settings)
        to = patient.phone
        if not settings.pacing:
            # Without pacing the outbound row is written in the claim's own transaction: one commit fewer.
            outcome = _prepare(session, touch, patient, sender, to, rendered, now)
            if isinstance(outcome, str):
                return outcome
            message_id, attempts = outcome

    if settings.pacing:
        got, wait = _pacer(settings).reserve(sender.key)
        if not got:
            with session_scope(url) as session:
                touch = session.get(Touch, touch_id)
                _finish(session, touch, "scheduled", f"paced: {sender.key} busy for {wait:.1f}s", now,
                        due_at=now + timedelta(seconds=wait))
            return "paced"
        if wait > 0:
            time.sleep(wait)
        with session_scope(url) as session:
            outcome = _prepare(session, session.get(Touch, touch_id), facts.patient, sender, to, rendered, now)
            if isinstance(outcome, str):
                return outcome
            message_id, attempts = outcome

    status_callback = f"{settings.public_base_url}/sms/status" if settings.public_base_url else None
    try:
        result = transport().send(to, rendered.body, from_=sender.number, status_callback=status_callback,
                                  messaging_service_sid=sender.service_sid)
    except AmbiguousSendError as exc:
        with session_scope(url) as session:
            session.exec(update(Message).where(Message.id == message_id).values(status="unknown"))
            session.exec(update(Touch).where(Touch.id == touch_id).values(
                reason=f"outcome unknown, will look up at Twilio: {exc}"[:500]))
        log.warning("touch %s to %s: %s", touch_id, mask(to), exc)
        return "unknown"
    except TransportError as exc:
        return _failed(touch_id, message_id, exc, attempts + 1, now)

    with session_scope(url) as session:
        session.exec(update(Message).where(Message.id == message_id).values(
            twilio_sid=result.sid, status=result.status, segments=result.num_segments or rendered.segments, sent_at=now))
        session.exec(update(Touch).where(Touch.id == touch_id, Touch.status == "sending").values(
            status="sent", reason=None, sent_at=now, updated_at=now))
    return "sent"


def _prepare(session, touch: Touch, patient: Patient, sender: Sender, to: str, rendered, now: datetime):
    """Write the outbound row before Twilio is called: (message id, attempts so far), or why not to send."""
    message, fresh = _outbound_row(session, touch.id, patient, sender, to, rendered, now)
    if not fresh and message.status in ("pending", "unknown"):
        # An earlier attempt's outcome is not known: the reconciler looks it up at Twilio first.
        return "awaiting reconcile"
    if message.twilio_sid:
        _mark_sent(session, touch, message, now)
        return "sent (already at Twilio)"
    touch.message_id, touch.body = message.id, rendered.body
    session.add(touch)
    return message.id, int((message.decision or {}).get("attempts", 0))


def _outbound_row(session, touch_id: int, patient: Patient, sender: Sender, to: str, rendered,
                  now: datetime) -> tuple[Message, bool]:
    """The touch's outbound message row, written before Twilio is called (one per touch, ever), and
    whether this attempt may use it (False: sent already, or an earlier attempt is unresolved)."""
    key = idempotency_key(touch_id)
    message = session.exec(select(Message).where(Message.idempotency_key == key)).first()
    decision = {"touch_id": touch_id, "attempt_at": _wall().isoformat()}
    if message is not None:
        if message.twilio_sid or message.status in ("pending", "unknown"):
            return message, False
        decision["attempts"] = int((message.decision or {}).get("attempts", 0))
        message.body, message.status, message.decision = rendered.body, "pending", decision
        message.segments, message.encoding = rendered.segments, rendered.encoding
        session.add(message)
        session.flush()
        return message, True
    message = Message(practice_id=patient.practice_id, patient_id=patient.id, direction="out", kind="touch",
                      from_number=sender.number or sender.service_sid or "", to_number=to, body=rendered.body,
                      idempotency_key=key, status="pending", segments=rendered.segments, encoding=rendered.encoding,
                      touch_id=touch_id, decision=decision, created_at=now)
    session.add(message)
    try:
        session.flush()
    except IntegrityError:
        raise RuntimeError(f"touch {touch_id}: outbound row written concurrently") from None
    return message, True


def _failed(touch_id: int, message_id: int, exc: TransportError, attempts: int, now: datetime) -> str:
    """A send Twilio refused (permanent) or that never reached it (transient)."""
    from bot.inbound import opt_out

    with session_scope(runtime.db_url()) as session:
        message = session.get(Message, message_id)
        touch = session.get(Touch, touch_id)
        patient = session.get(Patient, touch.patient_id)
        message.status = "failed" if exc.permanent else "not_sent"
        message.error_code = exc.code
        message.decision = {**(message.decision or {}), "attempts": attempts}
        session.add(message)
        if exc.permanent:
            if exc.code in OPT_OUT_CODES:
                opt_out(session, patient, source=f"carrier:{exc.code}", message_id=message_id)
            elif exc.code in BAD_NUMBER_CODES and patient.flagged_at is None:
                patient.flagged_at, patient.flag_reason = now, f"twilio {exc.code}"
                session.add(patient)
                cancel_pending_touches(session, patient.id, reason=f"number_flagged:{exc.code}")
            session.refresh(touch)
            _finish(session, touch, "failed", f"twilio {exc.code}: {exc}"[:500], now)
            return f"failed: {exc.code}"
        if attempts >= caps.MAX_SEND_ATTEMPTS:
            _finish(session, touch, "failed", f"gave up after {attempts} attempts: {exc}"[:500], now)
            return "failed: attempts"
        _finish(session, touch, "scheduled", f"retry {attempts}: {exc}"[:500], now, due_at=now + retry_delay(attempts))
        return "retry"


def _send_email(session, touch: Touch, step, language: str, context: dict, address: str, settings, now: datetime) -> str:
    subject = step.template(language, "subject").format_map(context)
    body = step.template(language, "email").format_map(context)
    touch.body = body
    try:
        where = mailer.send(settings, address, subject, body)
    except TransportError as exc:
        if exc.permanent:
            _finish(session, touch, "failed", f"email: {exc}"[:500], now)
            return "failed: email"
        _finish(session, touch, "scheduled", f"email retry: {exc}"[:500], now, due_at=now + retry_delay(1))
        return "retry"
    touch.sent_at = now
    _finish(session, touch, "sent", f"email: {where}", now)
    return "sent (email)"
