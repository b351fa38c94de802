"""The escalations page: open ones and those of the last days, who was paged and when, who acknowledged
and how fast, and how each was resolved."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from flask import render_template, request
from sqlmodel import col, select

from bot import runtime
from bot.clock import to_utc
from store.db import session_scope
from store.models import AuditEvent
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice
from web.dashboard.inbox_items import Filters, items

PERIODS = (1, 7, 30)
"""Days of history the page offers."""


def _minutes(seconds: float | None) -> str:
    """'4 min', '1 h 20 min', '35 s': a duration as staff say it."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


@bp.get("/escalations")
def escalations():
    """Open escalations and those of the last days, with their pages, acknowledgement and resolution."""
    now = current_time()
    days = request.args.get("days", 7, type=int)
    days = days if days in PERIODS else 7
    since = (now - timedelta(days=days)).date()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        open_ones = items(db, practice, Filters(status="active"), now)
        recent = [e for e in items(db, practice, Filters(status="all", since=since), now) if e["status"] == "resolved"]
        ids = [e["id"] for e in open_ones + recent]
        via = {
            event.subject_id: (event.detail or {}).get("via")
            for event in db.exec(
                select(AuditEvent).where(
                    AuditEvent.action == "escalation_acknowledged",
                    AuditEvent.subject_type == "escalation",
                    col(AuditEvent.subject_id).in_(ids or [0]),
                )
            )
        }
        for e in open_ones + recent:
            taken = e["acknowledged_at"]
            e["to_acknowledge"] = _minutes((to_utc(taken) - to_utc(e["created_at"])).total_seconds()) if taken else None
            e["open_for"] = _minutes((now - to_utc(e["created_at"])).total_seconds()) if not taken else None
            e["via"] = via.get(e["id"])
        waits = [
            (to_utc(e["acknowledged_at"]) - to_utc(e["created_at"])).total_seconds()
            for e in open_ones + recent
            if e["acknowledged_at"] and e["urgency"] in ("urgent", "emergency")
        ]
        summary = {
            "open": sum(1 for e in open_ones if e["status"] == "open"),
            "acknowledged": sum(1 for e in open_ones if e["status"] == "acknowledged"),
            "resolved": len(recent),
            "median_ack": _minutes(median(waits)) if waits else "no pages taken yet",
        }
        return render_template(
            "escalations.html",
            practice=practice,
            open_ones=open_ones,
            recent=recent,
            summary=summary,
            days=days,
            periods=PERIODS,
        )
