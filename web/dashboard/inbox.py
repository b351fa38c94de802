"""The inbox: open escalations first (most urgent, then oldest), the latest texts in; acknowledge and resolve."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request
from sqlmodel import Session, col, select

from bot import runtime
from bot.messaging import drafts as draft_replies
from bot.staff.paging import acknowledge as acknowledge_escalation
from store.db import session_scope
from store.models import AuditEvent, Escalation, Message, Patient
from web.auth import safe_next
from web.dashboard import bp
from web.dashboard.context import current_time, my_places, practice_rows, row_or_404, staff_practice
from web.dashboard.inbox_items import Filters, items, options
from web.transcript import ago, decision_view

RECENTLY_RESOLVED = 10
"""Resolved escalations the unfiltered inbox keeps below the open ones, as history."""


@bp.get("/")
def inbox():
    """Open escalations first (most urgent, then oldest), filtered as asked; drafts; the latest texts in."""
    now = current_time()
    filters = Filters.from_args(request.args)
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        escalations = items(db, practice, filters, now)
        resolved = [] if filters.any() else items(db, practice, Filters(status="resolved"), now)[:RECENTLY_RESOLVED]
        recent = db.exec(
            select(Message, Patient)
            .join(Patient, Patient.id == Message.patient_id, isouter=True)
            .where(Message.direction == "in", practice_rows(Message.practice_id))
            .order_by(col(Message.id).desc())
            .limit(15)
        ).all()
        latest = [
            {"message": m, "patient": p, "decision": decision_view(m.decision), "age": ago(m.created_at, now)}
            for m, p in recent
        ]
        waiting = [
            {
                "message": m,
                "patient": db.get(Patient, m.patient_id) if m.patient_id else None,
                "age": ago(m.created_at, now),
            }
            for m in draft_replies.waiting(db, practice.id, places=my_places())
        ]
        return render_template(
            "inbox.html",
            escalations=escalations,
            resolved=resolved,
            latest=latest,
            practice=practice,
            drafts=waiting,
            filters=filters,
            options=options(db, practice),
        )


@bp.get("/inbox/items")
def inbox_items():
    """The inbox's list alone, filtered as the page is: what the page polls to stay live."""
    now = current_time()
    filters = Filters.from_args(request.args)
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        return render_template("inbox_items.html", escalations=items(db, practice, filters, now), filters=filters)


def _escalation_for_staff(db: Session, escalation_id: int) -> Escalation:
    return row_or_404(db, Escalation, escalation_id, "No such escalation.")


@bp.post("/escalations/<int:escalation_id>/acknowledge")
def acknowledge(escalation_id: int):
    """Say 'I have it': the escalation shows who took it."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        escalation = _escalation_for_staff(db, escalation_id)
        if escalation.status == "open":
            acknowledge_escalation(db, escalation, g.staff.id, now, via="dashboard")
            flash("Acknowledged: it is yours now.", "info")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/escalations/<int:escalation_id>/resolve")
def resolve(escalation_id: int):
    """Close an escalation, with an optional note."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        escalation = _escalation_for_staff(db, escalation_id)
        if escalation.status != "resolved":
            if escalation.acknowledged_at is None:
                escalation.acknowledged_at, escalation.acknowledged_by = now, g.staff.id
            escalation.status, escalation.resolved_at = "resolved", now
            note = (request.form.get("note") or "").strip()[:500]
            escalation.note = note or escalation.note
            db.add(escalation)
            db.add(
                AuditEvent(
                    practice_id=g.staff.practice_id,
                    actor=f"staff:{g.staff.id}",
                    action="escalation_resolved",
                    subject_type="escalation",
                    subject_id=escalation.id,
                    created_at=now,
                )
            )
            flash("Resolved.", "info")
    return redirect(safe_next(request.form.get("next")))
