"""`aftercare preview --patient ID` and `aftercare simulate --days 180`: what the plans would do, sending nothing.

Both run the sender's own decision function (bot.touches.sending_rules.decide) on a
virtual clock over the pending touches, and over the birthday touches the
window would plan, keeping what "was sent" in memory for the frequency caps.
Nothing is kept: the session is rolled back.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_local, to_utc
from bot.growth.moments import plan_offers
from bot.growth.report import summary as offer_summary
from bot.touches import composer, step_texts
from bot.touches.planner import plan_birthdays
from bot.touches.plans import plans_for
from bot.touches.sending_rules import DEFER, SEND, STATUS_FOR, decide, load_facts
from store.db import get_engine
from store.models import Patient, Touch
from store.queries import PENDING_TOUCH_STATUSES


@dataclass
class Event:
    """One thing the simulation saw happen to a touch."""

    at: datetime
    touch_id: int
    patient_id: int
    action: str  # send | skip | suppress | defer
    channel: str
    plan: str
    step: str
    purpose: str
    marketing: bool
    timezone: str
    reason: str | None = None
    body: str | None = None
    segments: int | None = None
    encoding: str | None = None


def simulate(
    session: Session, start: datetime, until: datetime, patient_id: int | None = None, practice_id: int | None = None
) -> list[Event]:
    """Run pending touches forward from `start` to `until` on a virtual clock; the caller rolls the session back."""
    settings = runtime.settings()
    book = plans_for(settings)
    plan_birthdays(session, start, horizon=until - start, book=book, patient_id=patient_id)
    plan_offers(session, start, horizon=until - start, practice_id=practice_id, book=book)
    query = select(Touch).where(col(Touch.status).in_(PENDING_TOUCH_STATUSES), col(Touch.due_at) <= until)
    if patient_id is not None:
        query = query.where(Touch.patient_id == patient_id)
    if practice_id is not None:
        query = query.where(Touch.practice_id == practice_id)
    pending: list[tuple[datetime, int, Touch]] = []
    for row in session.exec(query.order_by(col(Touch.due_at), col(Touch.id))):
        copy = Touch(**{name: getattr(row, name) for name in Touch.model_fields})
        pending.append((max(to_utc(copy.due_at), start), copy.id, copy))
        session.expunge(row)
    heapq.heapify(pending)
    virtual_sent: dict[int, list[tuple[datetime, bool]]] = {}
    events: list[Event] = []
    while pending:
        moment, _id, touch = heapq.heappop(pending)
        facts = load_facts(session, touch, moment)
        facts.sent = facts.sent + [
            s for s in virtual_sent.get(touch.patient_id, []) if s[0] > moment - timedelta(days=7)
        ]
        verdict = decide(touch, facts, moment)
        event = Event(
            moment,
            touch.id,
            touch.patient_id,
            verdict.action,
            touch.channel,
            touch.plan,
            touch.step,
            touch.purpose,
            touch.marketing,
            facts.timezone,
            verdict.reason,
        )
        events.append(event)
        if verdict.action == DEFER:
            touch.deferrals += 1
            if verdict.due_at is not None and verdict.due_at <= until:  # a deferral always says until when
                heapq.heappush(pending, (verdict.due_at, touch.id, touch))
        elif verdict.action == SEND:
            virtual_sent.setdefault(touch.patient_id, []).append((moment, touch.marketing))
            step = book.step(touch.plan, touch.step)
            if step is None:
                event.action, event.reason = "skip", "step no longer in the plans"
                continue
            patient = facts.patient
            if patient is None:  # decide() never sends to a patient who is gone
                continue
            language, context = facts.text_context(patient, step)
            if step.channel == "email" and patient.email:
                event.channel = "email"
                event.body = step.template(language, "subject").format_map(context)
            else:
                event.channel = "sms"
                rendered = composer.render(
                    step_texts.template_for(facts.practice, step, language),
                    context,
                    gsm_only=bool(facts.practice and facts.practice.gsm_only),
                )
                event.body, event.segments, event.encoding = rendered.body, rendered.segments, rendered.encoding
    return events


def _format(event: Event) -> str:
    when = to_local(event.at, event.timezone).strftime("%a %Y-%m-%d %H:%M %Z")
    kind = "marketing" if event.marketing else event.purpose
    head = f"{when}  touch {event.touch_id} patient {event.patient_id}  {event.plan}.{event.step} ({kind}, {event.channel})"
    if event.action == SEND:
        if event.channel == "email":
            return f"{head}\n    WOULD EMAIL  subject: {event.body}"
        return f"{head}\n    WOULD SEND  [{event.segments} segment(s), {event.encoding}] {event.body}"
    label = {DEFER: "DEFERRED"}.get(event.action, STATUS_FOR.get(event.action, event.action).upper())
    return f"{head}\n    {label}: {event.reason}"


def _print(events: list[Event], out) -> None:
    for event in events:
        print(_format(event), file=out)
    sent = sum(1 for e in events if e.action == SEND)
    deferred = sum(1 for e in events if e.action == DEFER)
    dropped = sum(1 for e in events if e.action not in (SEND, DEFER))
    print(
        f"-- {sent} would go out, {deferred} deferral(s), {dropped} skipped or suppressed; nothing was sent", file=out
    )


def _run(patient_id: int | None, practice_id: int | None, days: int, start: datetime | None, out) -> int:
    start = to_utc(start or runtime.clock().now())
    session = Session(get_engine(runtime.db_url()))
    try:
        if patient_id is not None and session.get(Patient, patient_id) is None:
            print(f"no patient {patient_id}", file=sys.stderr)
            return 1
        events = simulate(session, start, start + timedelta(days=days), patient_id=patient_id, practice_id=practice_id)
        offers = offer_summary(session, events)
    finally:
        session.rollback()
        session.close()
    _print(events, out)
    print("\n".join(offers), file=out)
    return 0


def _moment(text: str) -> datetime:
    try:
        return to_utc(datetime.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO date/time, got {text!r}") from None


def main_preview(argv: list[str] | None = None, out=None) -> int:
    """`aftercare preview --patient ID [--days N] [--from ISO]`."""
    parser = argparse.ArgumentParser(
        prog="aftercare preview", description="Every touch a patient's plan would send or skip, and why."
    )
    parser.add_argument("--patient", type=int, required=True)
    parser.add_argument("--days", type=int, default=400, help="how far ahead to look (default 400)")
    parser.add_argument("--from", dest="start", type=_moment, help="virtual start (default: now)")
    args = parser.parse_args(argv)
    return _run(args.patient, None, args.days, args.start, out or sys.stdout)


def main_simulate(argv: list[str] | None = None, out=None) -> int:
    """`aftercare simulate [--days 180] [--practice ID] [--from ISO]`."""
    parser = argparse.ArgumentParser(
        prog="aftercare simulate", description="Run every pending touch forward on a virtual clock."
    )
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--practice", type=int)
    parser.add_argument("--from", dest="start", type=_moment, help="virtual start (default: now)")
    args = parser.parse_args(argv)
    return _run(None, args.practice, args.days, args.start, out or sys.stdout)
