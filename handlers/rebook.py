"""A booking wish: offer real open times, and book the one the patient picks.

- "Can I come in next Tuesday after 5?": up to three open times for the
  service they had last, with their provider when that provider works then
  (else anyone at the practice), matching the days and times they named
  (bot.booking.open_times); others only if they have done that kind of treatment here
  before. The offer is kept on the conversation for 48 hours.
- "2" / "the second one": the time is checked again (someone may have taken
  it), then written as a *requested* appointment, which suppresses the
  pending rebook and win-back texts at once; the front desk confirms it in
  the practice system from the staff inbox, and the patient is told so;
  Confirm in the dashboard books it (reminders follow) and texts the patient,
  Decline frees it and asks the patient for another day.
- No visit on record, no provider hours, or nothing open: a person answers
  from the staff inbox, and the patient is told someone will text back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot.booking import open_times as slots
from bot.clock import local_zone, to_local, to_utc
from bot.conversation.escalations import open_escalation
from bot.touches import composer
from bot.touches.planner import plan_appointment
from bot.vocabulary import AppointmentStatus, EscalationStatus, MessageKind
from handlers.turn import Turn
from store.models import Appointment, Location, Practice, Provider, Service
from store.queries import last_visit

OFFER_VALID = timedelta(hours=48)
"""How long offered times can be picked by number."""


def handle(turn: Turn) -> None:
    if turn.patient is None:
        return
    state = turn.state()
    pending = state.pending if state.pending and state.pending.get("kind") == "slots" else None
    choice = (turn.decision.entities or {}).get("slot_choice")
    if pending and isinstance(choice, int) and _fresh(pending, turn.now):
        options = pending.get("options") or []
        if 1 <= choice <= len(options):
            _book(turn, pending, options[choice - 1])
            return
    offer(turn)


def offer(turn: Turn, taken: bool = False) -> None:
    """Text up to three open times and remember them; the staff inbox when there are none."""
    session, patient = turn.session, turn.patient
    visit = last_visit(session, patient.id)
    if visit is None:
        _to_staff(turn)
        return
    appointment, service = visit
    location = session.get(Location, appointment.location_id) if appointment.location_id else None
    practice = session.get(Practice, patient.practice_id)
    tz = local_zone(location, practice)
    entities = turn.decision.entities or {}
    prefs = slots.Preferences.parse(
        entities.get("date_preference"), entities.get("time_preference"), to_local(turn.now, tz).date()
    )
    found = []
    for providers in _providers(session, appointment, location):
        found = slots.open_slots(session, service, providers, tz, turn.now, prefs)
        if found:
            break
    if not found:  # nothing open that matches what they asked: a person finds an alternative
        _to_staff(turn)
        return
    language = turn.language()
    listed = "; ".join(
        f"{n}) {describe(s.start, tz, language)} {'con' if language == 'es' else 'with'} {s.provider}"
        for n, s in enumerate(found, 1)
    )
    if turn.reply("slots_taken" if taken else "slots", options=listed) is None:
        _to_staff(turn)  # staff have the conversation (or it cannot be texted): times they did not see stay unoffered
        return
    turn.state().pending = {
        "kind": "slots",
        "options": [s.as_option() for s in found],
        "service_id": service.id,
        "location_id": location.id if location else None,
        "tz": tz,
        "asked_at": turn.now.isoformat(),
        "message_id": turn.message.id,
    }
    turn.actions.append(f"offered_slots:{len(found)}")


def _book(turn: Turn, pending: dict, option: dict) -> None:
    session, patient = turn.session, turn.patient
    service = session.get(Service, pending["service_id"])
    start = to_utc(datetime.fromisoformat(option["start"]))
    if service is not None:
        slots.hold_calendar(session, option["provider_id"])
    if (
        service is None
        or start <= turn.now + timedelta(hours=1)
        or not slots.still_open(session, service, option["provider_id"], start)
    ):
        turn.actions.append("slot_taken")
        offer(turn, taken=True)
        return
    appointment = Appointment(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        service_id=service.id,
        provider_id=option["provider_id"],
        location_id=pending.get("location_id"),
        status=AppointmentStatus.REQUESTED,
        start_at=start,
        price=service.price,
        end_at=start + timedelta(minutes=service.duration_min or 30),
        source="bot",
        created_at=turn.now,
        updated_at=turn.now,
    )
    session.add(appointment)
    session.flush()
    plan_appointment(session, appointment.id, turn.now)  # a future booking holds back rebook and win-back texts
    turn.state().pending = None
    request = open_escalation(session, turn.message.id, patient, "routine", "booking_request")
    request.note = (
        f"Asked by text for {describe(start, pending.get('tz') or 'UTC', 'en')} with "
        f"{option.get('provider') or 'any provider'}: {service.name}. Confirm or decline on the patient's page."
    )
    turn.actions += [f"requested_appointment:{appointment.id}", "staff_inbox"]
    turn.reply("requested", appointment=appointment)


def describe(start: datetime, tz: str, language: str) -> str:
    """A short offered time: "Tue, Nov 24 3:30 PM" / "mar 24 nov 15:30"."""
    local = to_local(start, tz)
    if language == "es":
        day = composer.DAYS["es"][local.weekday()][:3]
        return f"{day} {local.day} {composer.MONTHS_ES[local.month - 1][:3]} {local:%H:%M}"
    hour = local.hour % 12 or 12
    return f"{local:%a}, {local:%b} {local.day} {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def _providers(session, appointment: Appointment, location: Location | None) -> list[list[Provider]]:
    """Who to look at, in turn: their last provider, then everyone at that location who keeps hours and has
    done this kind of treatment before (the practice's own history says who performs what)."""
    everyone = session.exec(
        select(Provider)
        .where(Provider.practice_id == appointment.practice_id, Provider.active == True)  # noqa: E712
        .order_by(Provider.id)
    ).all()
    category = session.get(Service, appointment.service_id).category
    performs = set(
        session.exec(
            select(Appointment.provider_id)
            .join(Service, Service.id == Appointment.service_id)
            .where(
                Appointment.practice_id == appointment.practice_id,
                Appointment.status == AppointmentStatus.COMPLETED,
                Service.category == category,
            )
            .distinct()
        )
    )
    here = [
        p
        for p in everyone
        if p.working_hours and p.id in performs and (location is None or p.location_id in (None, location.id))
    ]
    last = [p for p in everyone if p.id == appointment.provider_id and p.working_hours]
    return [group for group in (last, here) if group]


def _fresh(pending: dict, now: datetime) -> bool:
    try:
        asked = to_utc(datetime.fromisoformat(pending["asked_at"]))
    except (KeyError, TypeError, ValueError):
        return False
    return now - asked <= OFFER_VALID


def _to_staff(turn: Turn) -> None:
    if turn.to_staff("rebook_request"):
        turn.reply("rebook")


def settle_request(session, appointment: Appointment, confirmed: bool, staff_id: int, now: datetime) -> int | None:
    """The front desk's answer to a requested visit: booked (reminders planned) or declined; texts the patient
    unless they opted out, and closes the booking request. Returns the text's row id (deliver it after the commit)."""
    from bot.conversation.replies import compose
    from bot.messaging import outbox
    from store.models import Escalation, Patient

    appointment.status, appointment.updated_at = ("booked" if confirmed else "declined"), now
    session.add(appointment)
    session.flush()
    if confirmed:
        plan_appointment(session, appointment.id, now)
    for item in session.exec(
        select(Escalation).where(
            Escalation.patient_id == appointment.patient_id,
            Escalation.reason == "booking_request",
            Escalation.status != EscalationStatus.RESOLVED,
        )
    ):
        item.status, item.resolved_at = "resolved", now
        item.acknowledged_at = item.acknowledged_at or now
        item.acknowledged_by = item.acknowledged_by or staff_id
        item.note = "confirmed" if confirmed else "declined"
        session.add(item)
    patient = session.get(Patient, appointment.patient_id)
    if patient is None or patient.opted_out_at is not None or not patient.care_sms:
        return None
    kind = "confirmed" if confirmed else "declined"
    body = compose(session, patient, kind, appointment=appointment)
    location = session.get(Location, appointment.location_id) if appointment.location_id else None
    sender = (
        (location.sms_number if location and location.sms_number else None)
        or session.get(Practice, appointment.practice_id).phone
        or ""
    )
    row = outbox.queue_text(
        session,
        key=f"booking-{appointment.id}-{kind}",
        to=patient.phone,
        from_=sender,
        body=body,
        kind=MessageKind.REPLY,
        reply_kind=kind,
        practice_id=patient.practice_id,
        patient_id=patient.id,
        staff_user_id=staff_id,
        now=now,
    )
    return row.id if row is not None else None
