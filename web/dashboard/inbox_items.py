"""The inbox's items and their filters: status, urgency, intent, location, provider, date, and a search by
name or the last four digits of the phone. Each item carries the patient's full name, the location and
the provider of their visit, and who was paged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.vocabulary import ESCALATION_URGENCIES, EscalationStatus, Intent, MessageKind
from store.models import Appointment, Escalation, Location, Message, Patient, Practice, Provider, StaffUser
from web.dashboard.context import practice_rows
from web.transcript import URGENCY_ORDER, ago, decision_view, reason_text

ACTIVE = (EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED)
"""What the inbox shows unless asked otherwise: what someone still has to handle."""
STATUS_CHOICES = ("active", *EscalationStatus, "all")
MAX_ITEMS = 200
"""The most items one view lists (newest first among those filtered)."""


@dataclass(frozen=True)
class Filters:
    status: str = "active"
    urgency: str = ""
    intent: str = ""
    location: int | None = None
    provider: int | None = None
    since: date | None = None
    until: date | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        """The filters a query string asks for; a value that is not a choice is ignored, not an error."""
        status = args.get("status") or "active"
        urgency = args.get("urgency") or ""
        intent = args.get("intent") or ""
        return cls(
            status=status if status in STATUS_CHOICES else "active",
            urgency=urgency if urgency in tuple(ESCALATION_URGENCIES) else "",
            intent=intent if intent in tuple(Intent) else "",
            location=args.get("location", type=int),
            provider=args.get("provider", type=int),
            since=_day(args.get("since")),
            until=_day(args.get("until")),
            q=" ".join((args.get("q") or "").split())[:60],
        )

    def any(self) -> bool:
        return self != Filters()


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _local_midnight(day: date, tz: str) -> datetime:
    return to_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)))


def search_condition(q: str):
    """Patients matching a search: four digits are the end of the phone; words must each be in a name."""
    digits = re.sub(r"\D", "", q)
    if len(digits) == 4 and not re.search(r"[A-Za-z]", q):
        return col(Patient.phone).endswith(digits)
    words = [w for w in q.split() if w]
    return and_(*[or_(col(Patient.first_name).ilike(f"%{w}%"), col(Patient.last_name).ilike(f"%{w}%")) for w in words])


def _visits(db: Session, patient_ids: set[int]) -> dict[int, Appointment]:
    """Each patient's latest visit (completed or booked): where and with whom they are seen."""
    latest: dict[int, Appointment] = {}
    if not patient_ids:
        return latest
    for visit in db.exec(
        select(Appointment)
        .where(col(Appointment.patient_id).in_(patient_ids), col(Appointment.status).in_(("completed", "booked")))
        .order_by(col(Appointment.start_at))
    ):
        latest[visit.patient_id] = visit
    return latest


def paged(db: Session, escalation_ids: list[int], staff: dict) -> dict[int, list[dict]]:
    """Who was texted a page for each escalation, and when, first page first."""
    found: dict[int, list[dict]] = {}
    if not escalation_ids:
        return found
    pages = db.exec(
        select(Message)
        .where(Message.kind == MessageKind.PAGE, col(Message.escalation_id).in_(escalation_ids))
        .order_by(col(Message.id))
    )
    for page in pages:
        person = staff.get(page.staff_user_id)
        round_ = 2 if (page.idempotency_key or "").split("-")[2:3] == ["2"] else 1
        found.setdefault(page.escalation_id or 0, []).append(
            {
                "name": person.name if person else "staff",
                "at": page.sent_at or page.created_at,
                "status": page.status,
                "round": round_,
            }
        )
    return found


def options(db: Session, practice: Practice) -> dict:
    """The choices of the filter form."""
    return {
        "statuses": STATUS_CHOICES,
        "urgencies": tuple(ESCALATION_URGENCIES)[::-1],
        "intents": tuple(Intent),
        "locations": list(db.exec(select(Location).where(practice_rows(Location.practice_id)))),
        "providers": list(db.exec(select(Provider).where(practice_rows(Provider.practice_id), col(Provider.active)))),
    }


def items(db: Session, practice: Practice, filters: Filters, now: datetime) -> list[dict]:
    """The escalations the filters keep, most urgent and oldest first among active ones, newest first otherwise."""
    query = (
        select(Escalation, Patient, Message)
        .join(Patient, Patient.id == Escalation.patient_id, isouter=True)
        .join(Message, Message.id == Escalation.message_id, isouter=True)
        .where(practice_rows(Escalation.practice_id))
    )
    if filters.status == "active":
        query = query.where(col(Escalation.status).in_(ACTIVE))
    elif filters.status != "all":
        query = query.where(Escalation.status == filters.status)
    if filters.urgency:
        query = query.where(Escalation.urgency == filters.urgency)
    if filters.since:
        query = query.where(Escalation.created_at >= _local_midnight(filters.since, practice.timezone))
    if filters.until:
        query = query.where(
            Escalation.created_at < _local_midnight(filters.until + timedelta(days=1), practice.timezone)
        )
    if filters.q:
        query = query.where(search_condition(filters.q))
    rows = db.exec(query.order_by(col(Escalation.id).desc()).limit(MAX_ITEMS * 2)).all()
    staff = {s.id: s for s in db.exec(select(StaffUser).where(StaffUser.practice_id == practice.id))}
    places = {loc.id: loc for loc in db.exec(select(Location).where(Location.practice_id == practice.id))}
    by_number = {loc.sms_number: loc for loc in places.values() if loc.sms_number}
    providers = {p.id: p for p in db.exec(select(Provider).where(Provider.practice_id == practice.id))}
    visits = _visits(db, {p.id for _e, p, _m in rows if p is not None})
    pages = paged(db, [e.id for e, _p, _m in rows], staff)
    found = []
    for e, p, m in rows:
        visit = visits.get(p.id) if p is not None else None
        place = (by_number.get(m.to_number) if m is not None else None) or (
            places.get(visit.location_id) if visit and visit.location_id else None
        )
        provider = providers.get(visit.provider_id) if visit and visit.provider_id else None
        decision = decision_view(m.decision) if m is not None else None
        intent = (decision or {}).get("intent") or ""
        if filters.intent and intent != filters.intent and filters.intent not in (e.reason or ""):
            continue
        if filters.location and (place is None or place.id != filters.location):
            continue
        if filters.provider and (provider is None or provider.id != filters.provider):
            continue
        acknowledged = staff.get(e.acknowledged_by) if e.acknowledged_by else None
        found.append(
            {
                "id": e.id,
                "urgency": e.urgency,
                "status": e.status,
                "reason": reason_text(e.reason),
                "intent": intent,
                "patient_id": p.id if p else None,
                "name": (" ".join(x for x in (p.first_name, p.last_name) if x) if p else "") or "Unknown number",
                "phone_end": (p.phone[-4:] if p and p.phone else ""),
                "location": place.name if place else None,
                "provider": provider.name if provider else None,
                "body": m.body if m else (e.note or ""),
                "note": e.note if m else None,
                "created_at": e.created_at,
                "age": ago(e.created_at, now),
                "acknowledged_by": acknowledged.name if acknowledged else None,
                "acknowledged_at": e.acknowledged_at,
                "resolved_at": e.resolved_at,
                "paged": pages.get(e.id, []),
                "paged_names": list(dict.fromkeys(page["name"] for page in pages.get(e.id, []))),
                "repaged": e.repaged_at is not None,
            }
        )
        if len(found) >= MAX_ITEMS:
            break
    if filters.status == "active":
        found.sort(key=lambda i: (i["status"] != "open", URGENCY_ORDER.get(i["urgency"], 3), to_utc(i["created_at"])))
    return found
