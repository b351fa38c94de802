"""The manager's numbers: texts, responses, opt-outs, escalations, touches, rebookings and revenue."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from flask import render_template, request
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.vocabulary import ESCALATION_URGENCIES, MessageKind
from store.db import session_scope
from store.models import Appointment, AuditEvent, Escalation, Message, Touch
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice

PERIODS = (7, 30, 90)
"""The windows a manager may pick on the numbers page (days, ending now)."""
NUMBERS_DAYS = 30
"""The window shown when none (or one not in PERIODS) is picked."""

NOT_SENT = ("draft", "discarded", "withheld")
"""Outbound rows that never left: drafts waiting or discarded, texts the send gate withheld."""

BOOKED = ("booked", "completed")
"""Visits that count as bookings: a requested time counts only once the front desk confirmed it."""

RESPONSE_WINDOW = timedelta(days=3)
"""A reply within this long after a touch counts as a response to it."""

BOOKING_WINDOW = timedelta(days=30)
"""An appointment booked within this long after a touch counts as booked after that touch."""


@bp.get("/numbers")
def numbers():
    """The last 7, 30 or 90 days (?days=): texts, responses, opt-outs, escalations, touches, rebookings, revenue."""
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else NUMBERS_DAYS
    now = current_time()
    since = now - timedelta(days=days)
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        figures = practice_numbers(db, practice.id, since, now)
        return render_template(
            "numbers.html", figures=figures, since=since, now=now, days=days, periods=PERIODS, practice=practice
        )


def practice_numbers(db: Session, practice_id: int, since: datetime, now: datetime) -> dict:
    """The manager's figures for one practice between `since` and `now`."""
    messages = db.exec(
        select(Message).where(
            Message.practice_id == practice_id, Message.created_at >= since, Message.created_at <= now
        )
    ).all()
    out = [m for m in messages if m.direction == "out" and m.kind != MessageKind.PAGE and m.status not in NOT_SENT]
    inbound = [m for m in messages if m.direction == "in"]
    alerts = [m for m in messages if m.kind == MessageKind.PAGE]

    sent_touches = db.exec(
        select(Touch).where(
            Touch.practice_id == practice_id, Touch.status == "sent", Touch.sent_at >= since, Touch.sent_at <= now
        )
    ).all()
    replies_by_patient: dict[int, list[datetime]] = {}
    for message in db.exec(
        select(Message).where(
            Message.practice_id == practice_id, Message.direction == "in", Message.created_at >= since
        )
    ):
        replies_by_patient.setdefault(message.patient_id, []).append(to_utc(message.created_at))
    answered = sum(
        1
        for t in sent_touches
        if any(
            to_utc(t.sent_at) < r <= to_utc(t.sent_at) + RESPONSE_WINDOW
            for r in replies_by_patient.get(t.patient_id, ())
        )
    )

    # Opt-out events, not patients now opted out: a STOP later undone by START still happened. An erasure
    # also marks the patient opted out but is no opt-out event: it is counted apart.
    def events(action: str) -> int:
        return db.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.practice_id == practice_id,
                AuditEvent.action == action,
                AuditEvent.created_at >= since,
                AuditEvent.created_at <= now,
            )
        ).one()

    opt_outs, erasures = events("opt_out"), events("patient_erased")

    escalation_rows = db.exec(
        select(Escalation).where(
            Escalation.practice_id == practice_id, Escalation.created_at >= since, Escalation.created_at <= now
        )
    ).all()
    escalations = []
    for urgency in reversed(ESCALATION_URGENCIES):
        rows = [e for e in escalation_rows if e.urgency == urgency]
        waits = [
            (to_utc(e.acknowledged_at) - to_utc(e.created_at)).total_seconds() / 60 for e in rows if e.acknowledged_at
        ]
        escalations.append(
            {
                "urgency": urgency,
                "count": len(rows),
                "open": sum(1 for e in rows if e.status == "open"),
                "median_ack_min": round(median(waits), 1) if waits else None,
            }
        )

    touch_rows = db.exec(
        select(Touch.status, Touch.reason, func.count())
        .where(
            Touch.practice_id == practice_id,
            Touch.updated_at >= since,
            Touch.updated_at <= now,
            col(Touch.status).in_(("sent", "skipped", "suppressed", "failed")),
        )
        .group_by(Touch.status, Touch.reason)
    ).all()
    touch_outcomes = sorted(
        ({"status": s, "reason": (r or "").replace("_", " "), "count": n} for s, r, n in touch_rows),
        key=lambda row: (row["status"] != "sent", -row["count"]),
    )

    # Booked after a touch: created within BOOKING_WINDOW after a text from a touch reached that patient.
    touch_times: dict[int, list[datetime]] = {}
    for patient_id, sent_at in db.exec(
        select(Touch.patient_id, Touch.sent_at).where(
            Touch.practice_id == practice_id, Touch.status == "sent", Touch.sent_at >= since - BOOKING_WINDOW
        )
    ):
        touch_times.setdefault(patient_id, []).append(to_utc(sent_at))
    bookings = db.exec(
        select(Appointment).where(
            Appointment.practice_id == practice_id,
            Appointment.created_at >= since,
            Appointment.created_at <= now,
            col(Appointment.status).in_(BOOKED + ("requested",)),
        )
    ).all()
    requested = [a for a in bookings if a.status == "requested"]
    bookings = [a for a in bookings if a.status in BOOKED]
    after_touch = [
        a
        for a in bookings
        if any(t < to_utc(a.created_at) <= t + BOOKING_WINDOW for t in touch_times.get(a.patient_id, ()))
    ]
    return {
        "texts_out": len(out),
        "texts_in": len(inbound),
        "alerts": len(alerts),
        "touches_sent": len(sent_touches),
        "touches_answered": answered,
        "response_rate": round(100 * answered / len(sent_touches)) if sent_touches else None,
        "opt_outs": opt_outs,
        "opt_out_rate": round(100 * opt_outs / len(sent_touches), 1) if sent_touches else None,
        "erasures": erasures,
        "escalations": escalations,
        "escalations_total": len(escalation_rows),
        "touch_outcomes": touch_outcomes,
        "rebooked_patients": len({a.patient_id for a in after_touch}),
        "rebooked_appointments": len(after_touch),
        "revenue_after_touch": sum(a.price or 0 for a in after_touch),
        "booked_by_text": sum(1 for a in bookings if a.source == "bot"),
        "requests_waiting": len(requested),
    }
