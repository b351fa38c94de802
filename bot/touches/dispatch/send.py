"""The send job: claim each touch (queued -> sending), decide, and send past the last-moment gate."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta

from rq import get_current_job
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.consent import gate
from bot.errors import AmbiguousSendError, TransportError
from bot.messaging.pacing import Pacer
from bot.messaging.phones import mask
from bot.messaging.transport import SendResult, transport
from bot.queue import redis_connection
from bot.settings import Settings
from bot.touches import composer, step_texts
from bot.touches.dispatch.emails import Email, send_email
from bot.touches.dispatch.jobs import Lease, batch_job_id
from bot.touches.dispatch.outbound import Outbound, failed, prepare, prepare_many, record_sent, sender_for
from bot.touches.dispatch.rows import finish
from bot.touches.plans import plans_for
from bot.touches.sending_rules import DEFER, HOLD, PAUSED_REASON, SEND, STATUS_FOR, Facts, decide, load_facts_many
from bot.vocabulary import MessageKind, TouchStatus
from store.db import session_scope
from store.models import Message, Touch

log = logging.getLogger(__name__)


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


def _pacer(settings) -> Pacer:
    key = (settings.redis_url, str(settings.data_dir), settings.sender_mps)
    found = _pacers.get(key)
    if found is None:
        found = _pacers[key] = Pacer(redis_connection(settings), settings.sender_mps)
    return found


def send_batch(touch_ids: list[int]) -> dict:
    """Send a batch of touches (job); returns how many ended which way. Each touch is claimed with a
    conditional update, so a batch that runs twice, or overlaps another, sends each at most once."""
    job = get_current_job()
    with Lease(job.id if job is not None else batch_job_id(touch_ids), runtime.settings().send_lease_s):
        return _send_batch(touch_ids)


def _send_batch(touch_ids: list[int]) -> dict:
    outcomes: dict[str, int] = {}
    for result in send_many(touch_ids).values():
        key = result.split(":", 1)[0]
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


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
    ready: list[Outbound] = []
    with session_scope(runtime.db_url()) as session:
        claimed = (
            session.exec(
                update(Touch)
                .where(col(Touch.id).in_(touch_ids), col(Touch.status) == TouchStatus.QUEUED)
                .values(status=TouchStatus.SENDING, claimed_at=now, updated_at=now)
                .returning(col(Touch.id))
            )
            .scalars()
            .all()
        )
        going: dict[int, list] = {}  # patient id -> (when, marketing) of texts decided in this batch
        touches = session.exec(
            select(Touch).where(col(Touch.id).in_(claimed)).order_by(col(Touch.patient_id), col(Touch.id))
        ).all()
        facts_by_touch = load_facts_many(session, touches, now)
        passed = []
        emails: list[Email] = []
        for touch in touches:
            outcome = _decide(
                session, touch, facts_by_touch[touch.id], now, settings, going.setdefault(touch.patient_id, [])
            )
            if isinstance(outcome, str):
                outcomes[touch.id] = outcome
            elif isinstance(outcome, Email):
                emails.append(outcome)
            else:
                passed.append((touch, outcome))
        if not settings.pacing and passed:
            # Without pacing the outbound rows are written in the claim's own transaction; with pacing,
            # each is written once its send slot comes up.
            refused = prepare_many(session, passed, now)
            outcomes.update(refused)
            passed = [(touch, item) for touch, item in passed if touch.id not in refused]
        ready = [item for _, item in passed]
    for email in emails:
        outcomes[email.touch_id] = send_email(email, now, settings)
    if ready:
        sent: list[tuple[Outbound, SendResult]] = []

        def settle(item: Outbound, result) -> None:
            if isinstance(result, SendResult):
                sent.append((item, result))
                outcomes[item.touch_id] = TouchStatus.SENT
            else:
                outcomes[item.touch_id] = str(result)
            if len(sent) >= RECORD_EVERY:
                record_sent(sent, now)
                sent.clear()

        if len(ready) == 1 or SEND_THREADS <= 1:
            for item in ready:
                settle(item, _transmit(item, now, settings))
        else:
            futures = {_send_pool().submit(_transmit, item, now, settings): item for item in ready}
            for future in as_completed(futures):
                settle(futures[future], future.result())
        if sent:
            record_sent(sent, now)
    return outcomes


def _decide(
    session: Session, touch: Touch, facts: Facts, now: datetime, settings: Settings, going: list
) -> str | Email | Outbound:
    """Apply the rules to one claimed touch: an Outbound to send, or the outcome string."""
    facts.sent.extend(going)
    verdict = decide(touch, facts, now)
    if verdict.action == HOLD:
        finish(session, touch, TouchStatus.SCHEDULED, verdict.reason, now)
        return f"held: {verdict.reason}"
    if verdict.action == DEFER:
        touch.deferrals += 1
        finish(session, touch, TouchStatus.SCHEDULED, verdict.reason, now, due_at=verdict.due_at)
        return f"deferred: {verdict.reason}"
    patient = facts.patient
    if verdict.action != SEND or patient is None:  # decide() skips a touch whose patient is gone
        finish(session, touch, STATUS_FOR[verdict.action], verdict.reason, now)
        return f"{STATUS_FOR[verdict.action]}: {verdict.reason}"
    step = plans_for(settings).step(touch.plan, touch.step)
    if step is None:
        finish(session, touch, TouchStatus.SKIPPED, f"step {touch.plan}.{touch.step} no longer in the plans", now)
        return "skipped: step removed"
    language, context = facts.text_context(patient, step)
    going.append((now, touch.marketing))
    if step.channel == "email" and patient.email:
        return Email(
            touch.id,
            patient.email,
            step.template(language, "subject").format_map(context),
            step.template(language, "email").format_map(context),
            patient.practice_id,
            patient.id,
            touch.marketing,
        )
    rendered = composer.render(
        step_texts.template_for(facts.practice, step, language),
        context,
        gsm_only=bool(facts.practice and facts.practice.gsm_only),
    )
    return Outbound(
        touch.id,
        patient.phone,
        rendered.body,
        rendered.segments,
        sender_for(facts.location, settings),
        rendered.encoding,
        patient.practice_id,
        patient.id,
        touch.marketing,
        now,
    )


def _transmit(item: Outbound, now: datetime, settings):
    """Pace (when on), write the outbound row if not yet written, and send: a SendResult, or the outcome string."""
    url = runtime.db_url()
    if settings.pacing:
        got, wait = _pacer(settings).reserve(item.sender.key)
        if not got:
            with session_scope(url) as session:
                touch = session.get_one(Touch, item.touch_id)
                finish(
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
            prepared = prepare(session, session.get_one(Touch, item.touch_id), item, now)
            if isinstance(prepared, str):
                return prepared
    message_id = item.message_id
    if message_id is None:  # written by prepare_many, with or without pacing, before any send
        raise RuntimeError(f"touch {item.touch_id}: no outbound row before sending")
    status_callback = f"{settings.public_base_url}/sms/status" if settings.public_base_url else None
    try:
        # Asked again at the last moment, and held until Twilio answers: an opt-out, a takeover or a
        # lost claim since the batch was decided stops the text here.
        with gate.held(
            item.patient_id,
            item.to,
            kind=MessageKind.TOUCH,
            marketing=item.marketing,
            claim=(item.touch_id, item.claimed_at),
        ) as check:
            refused = check.refusal
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
            session.exec(update(Message).where(col(Message.id) == item.message_id).values(status="unknown"))
            session.exec(
                update(Touch)
                .where(col(Touch.id) == item.touch_id)
                .values(reason=f"outcome unknown, will look up at Twilio: {exc}"[:500])
            )
        log.warning("touch %s to %s: %s", item.touch_id, mask(item.to), exc)
        return "unknown"
    except TransportError as exc:
        return failed(item.touch_id, message_id, exc, item.attempts + 1, now)
    if refused is not None:
        return _withhold(item, refused, now)
    return result


def _withhold(item: Outbound, reason: str, now: datetime) -> str:
    """The text must not go after all: its row is kept unsent and the touch says why."""
    if reason == gate.CLAIM_LOST:
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
