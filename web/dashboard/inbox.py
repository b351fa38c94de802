"""The inbox: open escalations first (most urgent, then oldest), the latest texts in; acknowledge and resolve."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.messaging import drafts as draft_replies
from bot.staff.paging import acknowledge as acknowledge_escalation
from bot.vocabulary import MessageKind
from store.db import session_scope
from store.models import AuditEvent, Escalation, Message, Patient, StaffUser
from web.auth import safe_next
from web.dashboard import bp
from web.dashboard.context import current_time, practice_rows, staff_practice, visible
from web.transcript import URGENCY_ORDER, ago, decision_view, reason_text


@bp.get("/")
def inbox():
    """Open escalations first (most urgent, then oldest), then the latest texts in."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        rows = db.exec(
            select(Escalation, Patient, Message)
            .join(Patient, Patient.id == Escalation.patient_id, isouter=True)
            .join(Message, Message.id == Escalation.message_id, isouter=True)
            .where(
                col(Escalation.status).in_(("open", "acknowledged")),
                practice_rows(Escalation.practice_id),
            )
        ).all()
        staff = {s.id: s.name for s in db.exec(select(StaffUser).where(StaffUser.practice_id == practice.id))}
        paged = _paged(db, [e.id for e, _p, _m in rows], staff)
        escalations = sorted(
            (
                {
                    "id": e.id,
                    "urgency": e.urgency,
                    "status": e.status,
                    "reason": reason_text(e.reason),
                    "patient_id": p.id if p else None,
                    "first_name": (p.first_name if p else None) or "Unknown number",
                    "body": m.body if m else (e.note or ""),
                    "note": e.note if m else None,
                    "created_at": e.created_at,
                    "age": ago(e.created_at, now),
                    "acknowledged_by": staff.get(e.acknowledged_by),
                    "assigned": staff.get(e.assigned_staff_id),
                    "paged": paged.get(e.id, []),
                    "repaged": e.repaged_at is not None,
                }
                for e, p, m in rows
            ),
            key=lambda e: (e["status"] != "open", URGENCY_ORDER.get(e["urgency"], 3), to_utc(e["created_at"])),
        )
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
            for m in draft_replies.waiting(db, practice.id)
        ]
        return render_template("inbox.html", escalations=escalations, latest=latest, practice=practice, drafts=waiting)


def _paged(db: Session, escalation_ids: list[int], staff: dict) -> dict[int, list[str]]:
    """Who was texted a page for each escalation, first page first."""
    if not escalation_ids:
        return {}
    found: dict[int, list[str]] = {}
    pages = db.exec(
        select(Message.escalation_id, Message.staff_user_id)
        .where(Message.kind == MessageKind.PAGE, col(Message.escalation_id).in_(escalation_ids))
        .order_by(Message.id)
    )
    for escalation_id, staff_id in pages:
        name = staff.get(staff_id)
        names = found.setdefault(escalation_id, [])
        if name and name not in names:
            names.append(name)
    return found


def _escalation_for_staff(db: Session, escalation_id: int) -> Escalation:
    escalation = db.get(Escalation, escalation_id)
    if escalation is None or not visible(escalation.practice_id):
        abort(404, description="No such escalation.")
    return escalation


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
