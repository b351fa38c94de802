"""The audit log, read by a manager in the app: who did what, when, to which patient or account, with
what it was before and after. Filters by action, staff member and date, newest first, a page at a time,
and only the signed-in staff member's practice (admins also see entries that belong to no practice).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import g, render_template, request, url_for
from sqlmodel import Session, col, func, select

from bot import runtime
from store.db import session_scope
from store.models import AuditEvent, Patient, StaffUser
from web.dashboard import bp
from web.dashboard.context import practice_rows, staff_practice

PAGE_SIZE = 50
"""Entries on one page of the audit log."""

ACTORS = {
    "api": "practice system (API)",
    "cli": "command line",
    "csv": "CSV import",
    "system": "Aftercare",
    "bot": "Aftercare",
    "patient": "the patient",
}
"""How the log names who acted when it was not a staff member."""


def record(db: Session, action: str, subject_type: str | None = None, subject_id: int | None = None, **detail) -> None:
    """One audit entry by the signed-in staff member, for their practice (an export, a download)."""
    db.add(
        AuditEvent(
            practice_id=g.staff.practice_id,
            actor=f"staff:{g.staff.id}",
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail or None,
            created_at=runtime.clock().now(),
        )
    )


class FilterError(ValueError):
    """A filter value that cannot be used; the page says which."""


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}: expected a date like 2026-11-23, got {value!r}") from None


def _filters(args, tz: str, staff_ids: set[int]) -> tuple[dict, list]:
    """The filters the query string asks for, and their conditions (FilterError names a bad one)."""
    chosen = {
        "action": (args.get("action") or "").strip(),
        "staff": (args.get("staff") or "").strip(),
        "from": (args.get("from") or "").strip(),
        "to": (args.get("to") or "").strip(),
    }
    conditions = []
    if chosen["action"]:
        conditions.append(AuditEvent.action == chosen["action"])
    if chosen["staff"]:
        if not chosen["staff"].isdigit() or int(chosen["staff"]) not in staff_ids:
            raise FilterError("staff: not a staff member of this practice")
        conditions.append(AuditEvent.actor == f"staff:{int(chosen['staff'])}")
    zone = ZoneInfo(tz)
    first, last = _day(chosen["from"], "from"), _day(chosen["to"], "to")
    if first and last and last < first:
        raise FilterError("to: comes before from")
    if first:
        conditions.append(col(AuditEvent.created_at) >= datetime.combine(first, time(), zone))
    if last:
        conditions.append(col(AuditEvent.created_at) < datetime.combine(last + timedelta(days=1), time(), zone))
    return chosen, conditions


def _page(args) -> int:
    value = args.get("page") or "1"
    if not value.isdigit() or not 1 <= int(value) <= 100_000:
        raise FilterError("page: expected a page number")
    return int(value)


def _who(actor: str, staff: dict[int, StaffUser]) -> str:
    if actor.startswith("staff:") and actor[6:].isdigit():
        person = staff.get(int(actor[6:]))
        return person.name if person else f"staff member #{actor[6:]}"
    return ACTORS.get(actor, actor)


def _subjects(db: Session, events, staff: dict[int, StaffUser]) -> dict[tuple[str, int], str]:
    """A readable name for each patient or account the entries are about."""
    names: dict[tuple[str, int], str] = {}
    patient_ids = {e.subject_id for e in events if e.subject_type == "patient" and e.subject_id}
    if patient_ids:
        for patient in db.exec(select(Patient).where(col(Patient.id).in_(patient_ids))):
            full = " ".join(part for part in (patient.first_name, patient.last_name) if part)
            names[("patient", patient.id)] = full or f"patient #{patient.id} (no name held)"
    for key, person in staff.items():
        names[("staff_user", key)] = person.name
    return names


def _changes(detail: dict | None) -> tuple[list[tuple[str, str, str]], dict]:
    """Before and after, field by field (only fields that differ), and the rest of the detail."""
    detail = dict(detail or {})
    before, after = detail.pop("before", None), detail.pop("after", None)
    rows = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key) or not (before and after):
                rows.append((key, _shown(before.get(key)), _shown(after.get(key))))
    elif before is not None or after is not None:
        rows.append(("value", _shown(before), _shown(after)))
    return rows, detail


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_shown(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value) or "—"
    return str(value)


@bp.get("/audit")
def audit_log():
    """Audit entries of this practice, newest first, filtered by action, staff member and date."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        staff = {p.id: p for p in db.exec(select(StaffUser).where(StaffUser.practice_id == practice.id))}
        scope = practice_rows(AuditEvent.practice_id)
        actions = sorted(set(db.exec(select(AuditEvent.action).where(scope).distinct())))
        error, chosen, page = None, {"action": "", "staff": "", "from": "", "to": ""}, 1
        try:
            chosen, conditions = _filters(request.args, practice.timezone, set(staff))
            page = _page(request.args)
        except FilterError as problem:
            error, conditions = str(problem), [col(AuditEvent.id).is_(None)]
        query = select(AuditEvent).where(scope, *conditions)
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        events = db.exec(
            query.order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        subjects = _subjects(db, events, staff)
        entries = [
            {
                "event": event,
                "who": _who(event.actor, staff),
                "subject": subjects.get((event.subject_type or "", event.subject_id or 0)),
                "changes": _changes(event.detail),
            }
            for event in events
        ]
        kept = {key: value for key, value in chosen.items() if value}
        newer = url_for("dashboard.audit_log", **kept, page=page - 1) if page > 1 else None
        older = url_for("dashboard.audit_log", **kept, page=page + 1) if page * PAGE_SIZE < total else None
        page_html = render_template(
            "audit.html",
            practice=practice,
            entries=entries,
            actions=actions,
            staff=sorted(staff.values(), key=lambda p: p.name),
            chosen=chosen,
            total=total,
            page=page,
            page_size=PAGE_SIZE,
            newer=newer,
            older=older,
            error=error,
        )
    return page_html, 400 if error else 200
