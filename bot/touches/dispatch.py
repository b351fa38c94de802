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
import os
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from rq import Queue, get_current_job
from sqlalchemy import bindparam, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot import runtime
from bot.clock import to_utc
from bot.consent import gate
from bot.errors import AmbiguousSendError, TransportError
from bot.messaging import carrier_errors, delivery, mailer
from bot.messaging.pacing import Pacer
from bot.messaging.phones import mask
from bot.messaging.transport import SendResult, transport
from bot.queue import get_queue, redis_connection
from bot.touches import caps, composer
from bot.touches.plans import plans_for
from bot.touches.sending_rules import (
    DEFER,
    HOLD,
    PAUSED_REASON,
    SEND,
    STATUS_FOR,
    decide,
    load_facts_many,
    retry_delay,
)
from bot.vocabulary import Direction, MessageKind, TouchStatus
from store.db import get_engine, session_scope
from store.models import Appointment, Location, Message, Patient, Practice, Touch

log = logging.getLogger(__name__)

SEND_JOB = "bot.touches.dispatch.send_batch"
"""Dotted path of the job that sends one touch."""

CLAIM_BATCH = 2000
"""Touches one tick claims at most (without pacing)."""

PACING_HORIZON_S = 20
"""With pacing on, a tick claims per sender what that number can send in this many seconds."""

QUEUED_GRACE = timedelta(seconds=60)
"""A queued touch whose job is gone after this long is enqueued again."""

RECONCILE_BATCH = 1000
"""Stuck touches one reconcile pass looks at."""

JOB_RESULT_TTL = 24 * 3600
"""Seconds RQ keeps a finished send job (its id shows it ran)."""

SEND_BATCH = 100
"""Touches per send job: one job's touches go out over SEND_THREADS connections at once."""

RECORD_EVERY = 10
"""Sends whose SIDs are written together, as they return (a callback that beats its SID waits in early_status)."""

SEND_THREADS = 8
"""Concurrent sends inside one job: a send mostly waits on Twilio (~150 ms in production)."""

_pacers: dict = {}
_pool: dict = {}


def _send_pool() -> ThreadPoolExecutor:
    """This process's sending threads, kept for its life so their Twilio connections stay open."""
    pool = _pool.get(os.getpid())
    if pool is None:
        pool = _pool[os.getpid()] = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="send")
    return pool


def batch_job_id(touch_ids: list[int]) -> str:
    """The deterministic id of the job sending these touches (ids sorted)."""
    digest = zlib.crc32(",".join(map(str, touch_ids)).encode())
    return f"touches-{touch_ids[0]}-{len(touch_ids)}-{digest:08x}"


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


def _pacer(settings) -> Pacer:
    key = (settings.redis_url, str(settings.data_dir), settings.sender_mps)
    found = _pacers.get(key)
    if found is None:
        found = _pacers[key] = Pacer(redis_connection(settings), settings.sender_mps)
    return found


def _wall() -> datetime:
    # Twilio dates messages by wall time; lookups compare against it, not the injectable clock.
    return datetime.now(UTC)


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
        .where(Touch.status == TouchStatus.SCHEDULED, Touch.due_at <= now, _not_paused())
        .order_by(Touch.due_at, Touch.id)
    )
    with session_scope(runtime.db_url()) as session:
        _mark_held(session, now)
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
            .where(chosen, Touch.status == TouchStatus.SCHEDULED)
            .values(status=TouchStatus.QUEUED, claimed_at=now, updated_at=now)
            .returning(Touch.id)
        )
        return sorted(session.exec(statement).scalars().all())


def _mark_held(session, now: datetime) -> None:
    """Due touches of practices whose kill switch is on say why they wait (they stay scheduled, as due)."""
    session.exec(
        update(Touch)
        .where(
            Touch.status == TouchStatus.SCHEDULED,
            Touch.due_at <= now,
            col(Touch.practice_id).in_(select(Practice.id).where(col(Practice.paused_at).is_not(None))),
            or_(col(Touch.reason).is_(None), col(Touch.reason) != PAUSED_REASON),
        )
        .values(reason=PAUSED_REASON, updated_at=now)
    )


def _not_paused():
    """Touches of practices whose kill switch is off: a held touch stays scheduled, unclaimed, until then."""
    return col(Touch.practice_id).not_in(select(Practice.id).where(col(Practice.paused_at).is_not(None)))


def _paced_candidates(session, now: datetime, settings) -> list[int]:
    """Due touches, at most what each sender can send within PACING_HORIZON_S."""
    budget = max(1, int(settings.sender_mps * PACING_HORIZON_S))
    rows = session.exec(
        select(Touch.id, Location.sms_number)
        .outerjoin(Appointment, Appointment.id == Touch.appointment_id)
        .outerjoin(Location, Location.id == Appointment.location_id)
        .where(Touch.status == TouchStatus.SCHEDULED, Touch.due_at <= now, _not_paused())
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
    """Enqueue send jobs of about SEND_BATCH touches with deterministic ids, kept on the touch rows;
    a lost enqueue is repaired by reconcile. A patient's touches always share one job, where they
    run one after another, so frequency caps see each other's sends."""
    if not touch_ids:
        return 0
    with session_scope(runtime.db_url()) as session:
        owners = session.exec(select(Touch.patient_id, Touch.id).where(col(Touch.id).in_(sorted(touch_ids)))).all()
        per_patient: dict[int, list[int]] = {}
        for patient_id, touch_id in sorted(owners):
            per_patient.setdefault(patient_id, []).append(touch_id)
        batches: list[list[int]] = [[]]
        for group in per_patient.values():
            if batches[-1] and len(batches[-1]) + len(group) > SEND_BATCH:
                batches.append([])
            batches[-1].extend(group)
        batches = [sorted(batch) for batch in batches if batch]
        for batch in batches:
            session.exec(update(Touch).where(col(Touch.id).in_(batch)).values(job_id=batch_job_id(batch)))
    queue = get_queue("touches", runtime.settings())
    jobs = [
        Queue.prepare_data(
            SEND_JOB,
            args=(batch,),
            job_id=batch_job_id(batch),
            result_ttl=JOB_RESULT_TTL,
            failure_ttl=7 * 24 * 3600,
            timeout=600,
        )
        for batch in batches
    ]
    try:
        for start in range(0, len(jobs), 500):
            queue.enqueue_many(jobs[start : start + 500])
    except RedisError as exc:
        log.warning("enqueue of %d touch job(s) failed (%s); reconcile will retry", len(touch_ids), exc)
        return 0
    return sum(len(batch) for batch in batches)


def send_batch(touch_ids: list[int]) -> dict:
    """Send a batch of touches (job); returns how many ended which way. Each touch is claimed with a
    conditional update, so a batch that runs twice, or overlaps another, sends each at most once."""
    job = get_current_job()
    with _Lease(job.id if job is not None else batch_job_id(touch_ids), runtime.settings().send_lease_s):
        return _send_batch(touch_ids)


def _send_batch(touch_ids: list[int]) -> dict:
    outcomes: dict[str, int] = {}
    for result in send_many(touch_ids).values():
        key = result.split(":", 1)[0]
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


# -------------------------------------------------------------- reconcile


def reconcile(now: datetime | None = None) -> dict:
    """Re-enqueue queued touches whose job vanished or whose worker died; settle "sending" touches whose
    worker died (no lease renewed for `send_lease_s`): their outcome is looked up at Twilio."""
    now = to_utc(now or runtime.clock().now())
    with session_scope(runtime.db_url()) as session:
        queued = list(
            session.exec(
                select(Touch.id)
                .where(Touch.status == TouchStatus.QUEUED, Touch.claimed_at < now - QUEUED_GRACE)
                .order_by(Touch.id)
                .limit(RECONCILE_BATCH)
            )
        )
        sending = list(
            session.exec(
                select(Touch.id)
                .where(
                    Touch.status == TouchStatus.SENDING,
                    Touch.claimed_at < now - timedelta(seconds=runtime.settings().send_lease_s),
                )
                .order_by(Touch.id)
                .limit(RECONCILE_BATCH)
            )
        )
    lost = _without_live_job(queued)
    requeued = enqueue(lost) if lost else 0
    settled = sum(1 for touch_id in _without_live_job(sending) if settle_sending(touch_id, now))
    return {"requeued": requeued, "settled": settled}


def _without_live_job(touch_ids: list[int]) -> list[int]:
    if not touch_ids:
        return []
    with session_scope(runtime.db_url()) as session:
        job_ids = dict(session.exec(select(Touch.id, Touch.job_id).where(col(Touch.id).in_(touch_ids))).all())
    distinct = sorted({jid for jid in job_ids.values() if jid})
    connection = redis_connection(runtime.settings())
    try:
        pipe = connection.pipeline(transaction=False)
        for jid in distinct:
            pipe.hget(f"rq:job:{jid}", "status")
            pipe.exists(_Lease.key(jid))
        answers = pipe.execute()
    except RedisError as exc:
        log.warning("cannot check send jobs in Redis: %s", exc)
        return []
    # Waiting jobs are live; a started one only while its worker renews the lease (a killed worker's
    # job stays "started" in RQ until its timeout, minutes later).
    live = {
        jid
        for jid, status, leased in zip(distinct, answers[0::2], answers[1::2])
        if status in (b"queued", b"deferred", b"scheduled") or (status == b"started" and leased)
    }
    return [touch_id for touch_id in touch_ids if job_ids.get(touch_id) not in live]


class _Lease:
    """A running send job's hold on its batch: a Redis key with a time to live, renewed while the job runs.

    When the worker dies the key expires within `seconds`, and reconcile re-drives the batch."""

    def __init__(self, job_id: str, seconds: int):
        self.name, self.seconds = self.key(job_id), seconds
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name=f"lease-{job_id}", daemon=True)

    @staticmethod
    def key(job_id: str) -> str:
        return f"aftercare:lease:{job_id}"

    def _set(self) -> None:
        try:
            redis_connection(runtime.settings()).set(self.name, os.getpid(), ex=self.seconds)
        except RedisError as exc:  # the rows' claims still keep each text to one send
            log.warning("send lease %s not renewed: %s", self.name, exc)

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            self._set()

    def __enter__(self) -> _Lease:
        self._set()
        self._renewer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._renewer.join(timeout=5)
        try:
            redis_connection(runtime.settings()).delete(self.name)
        except RedisError:
            pass


def settle_sending(touch_id: int, now: datetime) -> bool:
    """Decide what happened to a touch left "sending": sent (adopt the SID) or provably not (schedule again)."""
    with session_scope(runtime.db_url()) as session:
        touch = session.get(Touch, touch_id)
        if touch is None or touch.status != TouchStatus.SENDING:
            return False
        if touch.channel == "email":
            # Mail has no lookup: a record written before the hand-off but never finished is never resent.
            record = session.get(Message, touch.message_id) if touch.message_id else None
            if record is not None and record.status == "sent":
                return _mark_sent(session, touch, record, now)
            if record is None or record.status == "not_sent":
                return _finish(
                    session, touch, TouchStatus.SCHEDULED, "retry: worker stopped before emailing", now, due_at=now
                )
            return _finish(session, touch, TouchStatus.FAILED, "email_outcome_unknown", now)
        message = session.exec(select(Message).where(Message.idempotency_key == idempotency_key(touch_id))).first()
        if message is None or message.status == "not_sent":
            return _finish(
                session, touch, TouchStatus.SCHEDULED, "retry: worker stopped before sending", now, due_at=now
            )
        if message.twilio_sid:
            return _mark_sent(session, touch, message, now)
        patient = session.get(Patient, touch.patient_id)
        since = _attempt_wall(message) - timedelta(minutes=2)
        number, service = message.from_number, None
        if number.startswith("MG"):
            number, service = None, number
    try:
        found = transport().find_sent(
            patient.phone, message.body, since, from_=number or None, messaging_service_sid=service
        )
    except TransportError as exc:
        log.warning("touch %s: Twilio lookup failed (%s); will try again", touch_id, exc)
        return False
    with session_scope(runtime.db_url()) as session:
        touch = session.get(Touch, touch_id)
        message = session.get(Message, message.id)
        if touch.status != TouchStatus.SENDING:
            return False
        if found is not None:
            message.twilio_sid, message.status = found.sid, found.status
            message.segments = found.num_segments or message.segments
            session.add(message)
            delivery.apply_early(session, found.sid)
            log.info("touch %s was at Twilio as %s; marked sent without resending", touch_id, found.sid)
            return _mark_sent(session, touch, message, now)
        message.status = "not_sent"
        session.add(message)
        return _finish(
            session, touch, TouchStatus.SCHEDULED, "retry: not found at Twilio after worker stopped", now, due_at=now
        )


def _attempt_wall(message: Message) -> datetime:
    decision = message.decision or {}
    try:
        return datetime.fromisoformat(decision["attempt_at"])
    except (KeyError, TypeError, ValueError):
        return _wall() - timedelta(days=2)


def _finish(
    session, touch: Touch, status: str, reason: str | None, now: datetime, due_at: datetime | None = None
) -> bool:
    touch.status, touch.reason, touch.updated_at = status, reason, now
    if due_at is not None:
        touch.due_at = due_at
    session.add(touch)
    return True


def _mark_sent(session, touch: Touch, message: Message, now: datetime) -> bool:
    message.sent_at = message.sent_at or now
    session.add(message)
    touch.status, touch.reason, touch.sent_at, touch.message_id, touch.updated_at = (
        TouchStatus.SENT,
        None,
        now,
        message.id,
        now,
    )
    touch.body = message.body
    session.add(touch)
    return True


# ------------------------------------------------------------------- send


@dataclass
class _Outbound:
    """A touch that passed the rules and is rendered, on its way to Twilio."""

    touch_id: int
    to: str
    body: str
    segments: int
    sender: Sender
    encoding: str
    practice_id: int
    patient_id: int
    marketing: bool
    claimed_at: datetime
    message_id: int | None = None
    attempts: int = 0


def send_touch(touch_id: int) -> str:
    """Check the rules and send one touch (job; at most one text per touch whatever runs it)."""
    return send_many([touch_id])[touch_id]


def send_many(touch_ids: list[int]) -> dict[int, str]:
    """Check the rules for these touches and send those that pass: one transaction to claim, decide and
    write the outbound rows, the texts sent several at once, one transaction to record what Twilio said.
    Returns each touch's outcome."""
    settings = runtime.settings()
    now = to_utc(runtime.clock().now())
    outcomes: dict[int, str] = {touch_id: "already handled" for touch_id in touch_ids}
    ready: list[_Outbound] = []
    with session_scope(runtime.db_url()) as session:
        claimed = (
            session.exec(
                update(Touch)
                .where(col(Touch.id).in_(touch_ids), Touch.status == TouchStatus.QUEUED)
                .values(status=TouchStatus.SENDING, claimed_at=now, updated_at=now)
                .returning(Touch.id)
            )
            .scalars()
            .all()
        )
        going: dict[int, list] = {}  # patient id -> (when, marketing) of texts decided in this batch
        touches = session.exec(
            select(Touch).where(col(Touch.id).in_(claimed)).order_by(Touch.patient_id, Touch.id)
        ).all()
        facts_by_touch = load_facts_many(session, touches, now)
        passed = []
        emails: list[_Email] = []
        for touch in touches:
            outcome = _decide(
                session, touch, facts_by_touch[touch.id], now, settings, going.setdefault(touch.patient_id, [])
            )
            if isinstance(outcome, str):
                outcomes[touch.id] = outcome
            elif isinstance(outcome, _Email):
                emails.append(outcome)
            else:
                passed.append((touch, outcome))
        if not settings.pacing and passed:
            # Without pacing the outbound rows are written in the claim's own transaction; with pacing,
            # each is written once its send slot comes up.
            refused = _prepare_many(session, passed, now)
            outcomes.update(refused)
            passed = [(touch, item) for touch, item in passed if touch.id not in refused]
        ready = [item for _, item in passed]
    for email in emails:
        outcomes[email.touch_id] = _send_email(email, now, settings)
    if ready:
        sent: list[tuple[_Outbound, SendResult]] = []

        def settle(item: _Outbound, result) -> None:
            if isinstance(result, SendResult):
                sent.append((item, result))
                outcomes[item.touch_id] = TouchStatus.SENT
            else:
                outcomes[item.touch_id] = str(result)
            if len(sent) >= RECORD_EVERY:
                _record_sent(sent, now)
                sent.clear()

        if len(ready) == 1 or SEND_THREADS <= 1:
            for item in ready:
                settle(item, _transmit(item, now, settings))
        else:
            futures = {_send_pool().submit(_transmit, item, now, settings): item for item in ready}
            for future in as_completed(futures):
                settle(futures[future], future.result())
        if sent:
            _record_sent(sent, now)
    return outcomes


def _decide(session, touch: Touch, facts, now: datetime, settings, going: list):
    """Apply the rules to one claimed touch: an _Outbound to send, or the outcome string."""
    facts.sent.extend(going)
    verdict = decide(touch, facts, now)
    if verdict.action == HOLD:
        _finish(session, touch, TouchStatus.SCHEDULED, verdict.reason, now)
        return f"held: {verdict.reason}"
    if verdict.action == DEFER:
        touch.deferrals += 1
        _finish(session, touch, TouchStatus.SCHEDULED, verdict.reason, now, due_at=verdict.due_at)
        return f"deferred: {verdict.reason}"
    if verdict.action != SEND:
        _finish(session, touch, STATUS_FOR[verdict.action], verdict.reason, now)
        return f"{STATUS_FOR[verdict.action]}: {verdict.reason}"
    step = plans_for(settings).step(touch.plan, touch.step)
    if step is None:
        _finish(session, touch, TouchStatus.SKIPPED, f"step {touch.plan}.{touch.step} no longer in the plans", now)
        return "skipped: step removed"
    patient = facts.patient
    language = patient.language if patient.language in step.text else "en"
    context = composer.context_for(
        facts.practice,
        patient,
        facts.service,
        facts.provider,
        language,
        facts.location,
        facts.appointment,
        facts.timezone,
    )
    going.append((now, touch.marketing))
    if step.channel == "email" and patient.email:
        return _Email(
            touch.id,
            patient.email,
            step.template(language, "subject").format_map(context),
            step.template(language, "email").format_map(context),
            facts.patient.practice_id,
            patient.id,
            touch.marketing,
        )
    rendered = composer.render(step.template(language), context)
    return _Outbound(
        touch.id,
        patient.phone,
        rendered.body,
        rendered.segments,
        sender_for(facts.location, settings),
        rendered.encoding,
        facts.patient.practice_id,
        patient.id,
        touch.marketing,
        now,
    )


def _transmit(item: _Outbound, now: datetime, settings):
    """Pace (when on), write the outbound row if not yet written, and send: a SendResult, or the outcome string."""
    url = runtime.db_url()
    if settings.pacing:
        got, wait = _pacer(settings).reserve(item.sender.key)
        if not got:
            with session_scope(url) as session:
                touch = session.get(Touch, item.touch_id)
                _finish(
                    session,
                    touch,
                    "scheduled",
                    f"paced: {item.sender.key} busy for {wait:.1f}s",
                    now,
                    due_at=now + timedelta(seconds=wait),
                )
            return "paced"
        if wait > 0:
            time.sleep(wait)
        with session_scope(url) as session:
            prepared = _prepare(session, session.get(Touch, item.touch_id), item, now)
            if isinstance(prepared, str):
                return prepared
    status_callback = f"{settings.public_base_url}/sms/status" if settings.public_base_url else None
    try:
        # Asked again at the last moment, and held until Twilio answers: an opt-out, a takeover or a
        # lost claim since the batch was decided stops the text here.
        with gate.held(item.patient_id, item.to, kind=MessageKind.TOUCH, marketing=item.marketing) as check:
            refused = check.refusal or _claim_lost(check.session, item)
            if refused is None:
                result = transport().send(
                    item.to,
                    item.body,
                    from_=item.sender.number,
                    status_callback=status_callback,
                    messaging_service_sid=item.sender.service_sid,
                )
    except AmbiguousSendError as exc:
        with session_scope(url) as session:
            session.exec(update(Message).where(Message.id == item.message_id).values(status="unknown"))
            session.exec(
                update(Touch)
                .where(Touch.id == item.touch_id)
                .values(reason=f"outcome unknown, will look up at Twilio: {exc}"[:500])
            )
        log.warning("touch %s to %s: %s", item.touch_id, mask(item.to), exc)
        return "unknown"
    except TransportError as exc:
        return _failed(item.touch_id, item.message_id, exc, item.attempts + 1, now)
    if refused is not None:
        return _withhold(item, refused, now)
    return result


def _claim_lost(session, item: _Outbound) -> str | None:
    """Why this batch no longer owns the touch (a reconcile gave it to another worker), or None."""
    status, claimed_at = session.exec(select(Touch.status, Touch.claimed_at).where(Touch.id == item.touch_id)).one()
    if status != TouchStatus.SENDING or claimed_at is None:
        return "claim_lost"
    if abs((to_utc(claimed_at) - to_utc(item.claimed_at)).total_seconds()) > 0.001:
        return "claim_lost"
    return None


def _withhold(item: _Outbound, reason: str, now: datetime) -> str:
    """The text must not go after all: its row is kept unsent and the touch says why."""
    if reason == "claim_lost":
        log.warning("touch %s: claimed again elsewhere; this batch leaves it", item.touch_id)
        return "claim lost"
    with session_scope(runtime.db_url()) as session:
        session.exec(update(Message).where(col(Message.id) == item.message_id).values(status="withheld", status_at=now))
        if reason == gate.PAUSED:
            # Not lost: the touch waits, as due, for the kill switch to go off (its row is reused then).
            session.exec(
                update(Touch)
                .where(col(Touch.id) == item.touch_id, col(Touch.status) == TouchStatus.SENDING)
                .values(status=TouchStatus.SCHEDULED, reason=f"{PAUSED_REASON} (at send time)", updated_at=now)
            )
            log.info("touch %s held at send time: the kill switch is on", item.touch_id)
            return f"held: {reason}"
        session.exec(
            update(Touch)
            .where(col(Touch.id) == item.touch_id, col(Touch.status) == TouchStatus.SENDING)
            .values(status=TouchStatus.SUPPRESSED, reason=f"{reason} (at send time)", updated_at=now)
        )
    log.info("touch %s to %s withheld at send time: %s", item.touch_id, mask(item.to), reason)
    return f"{TouchStatus.SUPPRESSED}: {reason}"


def _record_sent(sent: list, now: datetime) -> None:
    """Twilio's answers on the rows, a few sends at a time as they return (one writer: SQLite's lock is
    not fought over by every sending thread); callbacks that beat their SID are applied here too."""
    with session_scope(runtime.db_url()) as session:
        connection = session.connection()
        messages = Message.__table__  # type: ignore[attr-defined]
        touches = Touch.__table__  # type: ignore[attr-defined]
        connection.execute(
            update(messages)
            .where(messages.c.id == bindparam("mid"))
            .values(twilio_sid=bindparam("sid"), status=bindparam("st"), segments=bindparam("seg"), sent_at=now),
            [
                {
                    "mid": item.message_id,
                    "sid": result.sid,
                    "st": result.status,
                    "seg": result.num_segments or item.segments,
                }
                for item, result in sent
            ],
        )
        connection.execute(
            update(touches)
            .where(touches.c.id == bindparam("tid"), touches.c.status == TouchStatus.SENDING)
            .values(status=TouchStatus.SENT, reason=None, sent_at=now, updated_at=now),
            [{"tid": item.touch_id} for item, _ in sent],
        )
        for _, result in sent:
            delivery.apply_early(session, result.sid)


def _prepare(session, touch: Touch, item: _Outbound, now: datetime) -> str | None:
    """Write one touch's outbound row before Twilio is called; a string says why not to send."""
    return _prepare_many(session, [(touch, item)], now).get(touch.id)


def _prepare_many(session, pairs: list, now: datetime) -> dict[int, str]:
    """Write the outbound rows (one per touch, ever) before Twilio is called, setting each item's
    message_id and attempts so far; returns, for touches that must not be sent now, why."""
    keys = {idempotency_key(touch.id): (touch, item) for touch, item in pairs}
    existing = {
        m.idempotency_key: m for m in session.exec(select(Message).where(col(Message.idempotency_key).in_(list(keys))))
    }
    refused: dict[int, str] = {}
    attempt_at = _wall().isoformat()
    new_rows = []
    for key, (touch, item) in keys.items():
        decision = {"touch_id": touch.id, "attempt_at": attempt_at}
        message = existing.get(key)
        if message is None:
            new_rows.append(
                {
                    "practice_id": item.practice_id,
                    "patient_id": item.patient_id,
                    "direction": Direction.OUT,
                    "kind": MessageKind.TOUCH,
                    "from_number": item.sender.number or item.sender.service_sid or "",
                    "to_number": item.to,
                    "body": item.body,
                    "idempotency_key": key,
                    "status": "pending",
                    "segments": item.segments,
                    "encoding": item.encoding,
                    "touch_id": touch.id,
                    "decision": decision,
                    "created_at": now,
                }
            )
            continue
        if message.twilio_sid:
            _mark_sent(session, touch, message, now)
            refused[touch.id] = "sent (already at Twilio)"
            continue
        if message.status in ("pending", "unknown"):
            # An earlier attempt's outcome is not known: the reconciler looks it up at Twilio first.
            refused[touch.id] = "awaiting reconcile"
            continue
        # A retry after a send that provably failed: the same row, so a touch never has two.
        decision["attempts"] = item.attempts = int((message.decision or {}).get("attempts", 0))
        message.body, message.status, message.decision = item.body, "pending", decision
        message.segments, message.encoding = item.segments, item.encoding
        session.add(message)
        session.flush()
        item.message_id = message.id
    if new_rows:
        # Core rather than ORM objects: building a few hundred Message instances cost more than the INSERT.
        table = Message.__table__
        try:
            inserted = session.execute(insert(table).returning(table.c.id, table.c.touch_id), new_rows).all()
        except IntegrityError:
            raise RuntimeError(
                f"outbound rows written concurrently for touches {sorted(t.id for t, _ in pairs)}"
            ) from None
        ids = {touch_id: message_id for message_id, touch_id in inserted}
        for touch, item in keys.values():
            if touch.id in ids:
                item.message_id = ids[touch.id]
    session.flush()
    ready = [(touch, item) for touch, item in keys.values() if touch.id not in refused]
    if ready:
        session.connection().execute(
            update(Touch.__table__)
            .where(Touch.__table__.c.id == bindparam("tid"))
            .values(message_id=bindparam("mid"), body=bindparam("text")),
            [{"tid": touch.id, "mid": item.message_id, "text": item.body} for touch, item in ready],
        )
    return refused


def _failed(touch_id: int, message_id: int, exc: TransportError, attempts: int, now: datetime) -> str:
    """A send Twilio refused (permanent) or that never reached it (transient)."""

    with session_scope(runtime.db_url()) as session:
        message = session.get(Message, message_id)
        touch = session.get(Touch, touch_id)
        patient = session.get(Patient, touch.patient_id)
        message.status = "failed" if exc.permanent else "not_sent"
        message.error_code = exc.code
        message.decision = {**(message.decision or {}), "attempts": attempts}
        session.add(message)
        if exc.permanent:
            if exc.code is not None:
                carrier_errors.act_on(session, patient, exc.code, message_id, now)
            session.refresh(touch)
            _finish(session, touch, TouchStatus.FAILED, f"twilio {exc.code}: {exc}"[:500], now)
            return f"failed: {exc.code}"
        if attempts >= caps.MAX_SEND_ATTEMPTS:
            _finish(session, touch, TouchStatus.FAILED, f"gave up after {attempts} attempts: {exc}"[:500], now)
            return "failed: attempts"
        _finish(
            session,
            touch,
            TouchStatus.SCHEDULED,
            f"retry {attempts}: {exc}"[:500],
            now,
            due_at=now + retry_delay(attempts),
        )
        return "retry"


@dataclass
class _Email:
    """A touch that passed the rules and goes out as an email."""

    touch_id: int
    to: str
    subject: str
    body: str
    practice_id: int
    patient_id: int
    marketing: bool


def email_message_id(touch_id: int) -> str:
    """The Message-ID of a touch's email: the same on every attempt, so a mail system can tell a copy."""
    return f"<touch-{touch_id}@aftercare.local>"


def _send_email(email: _Email, now: datetime, settings) -> str:
    """Record the email before handing it to SMTP, then hand it over once: a crash after the hand-off
    leaves the record "transmitting", which settles as failed, never as a second copy."""
    key = idempotency_key(email.touch_id)
    with session_scope(runtime.db_url()) as session:
        record = session.exec(select(Message).where(Message.idempotency_key == key)).first()
        if record is not None and record.status != "not_sent":
            # An earlier attempt reached the hand-off: its outcome stands (sent, or unknown).
            touch = session.get(Touch, email.touch_id)
            if record.status == "sent":
                _mark_sent(session, touch, record, now)
                return "sent (email, earlier attempt)"
            _finish(session, touch, TouchStatus.FAILED, "email_outcome_unknown", now)
            return "failed: email outcome unknown"
        patient = session.get(Patient, email.patient_id)
        refused = gate.refusal(session, patient, now, kind=MessageKind.TOUCH, marketing=email.marketing)
        if refused == gate.PAUSED:
            _finish(
                session,
                session.get(Touch, email.touch_id),
                TouchStatus.SCHEDULED,
                f"{PAUSED_REASON} (at send time)",
                now,
            )
            return f"held: {refused}"
        if refused is not None:  # an opt-out or a takeover since the batch was decided
            touch = session.get(Touch, email.touch_id)
            _finish(session, touch, TouchStatus.SUPPRESSED, f"{refused} (at send time)", now)
            return f"{TouchStatus.SUPPRESSED}: {refused}"
        if record is None:
            record = Message(
                practice_id=email.practice_id,
                patient_id=email.patient_id,
                direction=Direction.OUT,
                kind=MessageKind.TOUCH,
                from_number=settings.mail_from,
                to_number=email.to,
                body=email.body,
                idempotency_key=key,
                touch_id=email.touch_id,
                created_at=now,
            )
        record.status, record.status_at = "transmitting", now
        session.add(record)
        session.flush()
        record_id = record.id
        session.exec(update(Touch).where(col(Touch.id) == email.touch_id).values(message_id=record_id, body=email.body))
    try:
        where = mailer.send(settings, email.to, email.subject, email.body, message_id=email_message_id(email.touch_id))
    except TransportError as exc:
        with session_scope(runtime.db_url()) as session:
            touch = session.get(Touch, email.touch_id)
            session.exec(update(Message).where(col(Message.id) == record_id).values(status="not_sent"))
            if exc.permanent:
                _finish(session, touch, TouchStatus.FAILED, f"email: {exc}"[:500], now)
                return "failed: email"
            _finish(
                session, touch, TouchStatus.SCHEDULED, f"email retry: {exc}"[:500], now, due_at=now + retry_delay(1)
            )
        return "retry"
    with session_scope(runtime.db_url()) as session:
        session.exec(update(Message).where(col(Message.id) == record_id).values(status="sent", sent_at=now))
        touch = session.get(Touch, email.touch_id)
        touch.sent_at = now
        _finish(session, touch, TouchStatus.SENT, f"email: {where}", now)
    return "sent (email)"
