"""The demo practice's on-call roster and a few past pages: who covers Austin and Miami in opening
hours, and two escalations of recent weeks with who was paged, who took it and when."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.vocabulary import MessageKind, OnCallDuty
from store.models import Escalation, Location, Message, OnCallShift, Patient, StaffUser

ROSTER = (
    # staff, duty, location, weekdays (0 = Monday), start, end
    ("Sofia Reyes, NP", OnCallDuty.ON_CALL, "L-AUS", (1, 2, 3, 4), "09:00", "19:00"),
    ("Sofia Reyes, NP", OnCallDuty.ON_CALL, "L-AUS", (5,), "09:00", "16:00"),
    ("Hannah Kim, RN", OnCallDuty.BACKUP, "L-AUS", (1, 2, 3, 4), "09:00", "19:00"),
    ("Marcus Chen, PA-C", OnCallDuty.ON_CALL, "L-MIA", (1, 2, 3, 4, 5), "10:00", "18:00"),
    ("Hannah Kim, RN", OnCallDuty.BACKUP, "L-MIA", (1, 2, 3, 4, 5), "10:00", "18:00"),
    ("Sofia Reyes, NP", OnCallDuty.ON_CALL, None, (0, 1, 2, 3, 4, 5, 6), "19:00", "24:00"),
)
"""Opening hours are covered at each location, evenings by Sofia everywhere; Sunday, Monday and nights
fall back on the standing on-call flag (Sofia) and backup (Hannah)."""

PAST_PAGES = (
    # patient, days ago, urgency, reason, text, paged, acknowledged by, minutes to acknowledge, note
    (
        "Valentina",
        18,
        "emergency",
        "redflag:vascular_occlusion",
        "mi labio se ve blanco y me duele mucho",
        ("Marcus Chen, PA-C", "Hannah Kim, RN"),
        "Marcus Chen, PA-C",
        3,
        "Seen within the hour, hyaluronidase given; resolved, follow-up booked.",
    ),
    (
        "Jessica",
        6,
        "urgent",
        "redflag:toxin_spread",
        "my left eyelid looks droopy since the botox on friday",
        ("Sofia Reyes, NP",),
        "Sofia Reyes, NP",
        9,
        "Mild ptosis; apraclonidine drops prescribed, check-in in 2 weeks.",
    ),
)


def seed_roster(session: Session, practice_id: int) -> int:
    """The roster lines; how many were written."""
    staff = {s.name: s.id for s in session.exec(select(StaffUser).where(StaffUser.practice_id == practice_id))}
    places = {
        loc.external_id: loc.id for loc in session.exec(select(Location).where(Location.practice_id == practice_id))
    }
    lines = [
        OnCallShift(
            practice_id=practice_id,
            staff_user_id=staff[name],
            duty=duty,
            location_id=places[place] if place else None,
            weekday=day,
            start=start,
            end=end,
        )
        for name, duty, place, days, start, end in ROSTER
        for day in days
    ]
    session.add_all(lines)
    session.flush()
    return len(lines)


def seed_past_pages(session: Session, practice_id: int, now: datetime) -> None:
    """Two past escalations that paged staff, with their page texts, acknowledgement and resolution."""
    staff = {s.name: s for s in session.exec(select(StaffUser).where(StaffUser.practice_id == practice_id))}
    places = {loc.external_id: loc for loc in session.exec(select(Location).where(Location.practice_id == practice_id))}
    for first, days, urgency, reason, text, paged, taker, minutes, note in PAST_PAGES:
        patient = session.exec(
            select(Patient).where(Patient.practice_id == practice_id, Patient.first_name == first)
        ).first()
        if patient is None:
            continue
        at = (now - timedelta(days=days)).replace(hour=16, minute=12, second=0, microsecond=0)
        number = places["L-MIA" if patient.phone.startswith("+1305") else "L-AUS"].sms_number or ""
        inbound = Message(
            practice_id=practice_id,
            patient_id=patient.id,
            direction="in",
            kind=MessageKind.INBOUND,
            from_number=patient.phone,
            to_number=number,
            body=text,
            status="received",
            decision={
                "intent": "side_effect_concern",
                "urgency": urgency,
                "path": "guard",
                "guard": {"rule": reason, "intent": "side_effect_concern", "urgency": urgency},
                "confidence": 1.0,
                "actions": [f"escalation:{urgency}", "reply:side_effect"],
                "handler": "side_effect",
            },
            created_at=at,
            processed_at=at,
        )
        session.add(inbound)
        session.flush()
        escalation = Escalation(
            practice_id=practice_id,
            patient_id=patient.id,
            message_id=inbound.id,
            urgency=urgency,
            reason=reason,
            status="resolved",
            assigned_staff_id=staff[taker].id,
            created_at=at,
            paged_at=at + timedelta(seconds=4),
            acknowledged_at=at + timedelta(minutes=minutes),
            acknowledged_by=staff[taker].id,
            resolved_at=at + timedelta(minutes=minutes + 41),
            note=note,
        )
        session.add(escalation)
        session.flush()
        for name in paged:
            person = staff[name]
            session.add(
                Message(
                    practice_id=practice_id,
                    staff_user_id=person.id,
                    direction="out",
                    kind=MessageKind.PAGE,
                    escalation_id=escalation.id,
                    idempotency_key=f"page-{escalation.id}-1-{person.id}",
                    from_number=number,
                    to_number=person.phone or "",
                    body=f"{urgency.upper()} #{escalation.id}: {patient.first_name} {(patient.last_name or ' ')[0]}. "
                    f"wrote about {reason.split(':')[-1].replace('_', ' ')}. Reply ACK {escalation.id} to take it.",
                    status="delivered",
                    created_at=at + timedelta(seconds=4),
                    sent_at=at + timedelta(seconds=5),
                )
            )
    session.flush()
