"""A booking wish: offer real open times, and book the one the patient picks.

- "Can I come in next Tuesday after 5?": up to three open times for the
  service they had last, with their provider when that provider works then
  (else anyone at the practice who has done that kind of treatment here),
  matching the days and times they named (bot.booking.open_times). The offer
  is kept on the conversation for AFTERCARE_OFFER_VALID_HOURS (48 by default).
- A pick, by number, ordinal, time of day or weekday ("2", "la segunda",
  "the 3pm", "thursday's"; bot.booking.picks): the time is checked again
  (someone may have taken it), then, in request mode (the default), written
  as a *requested* appointment, which suppresses the pending rebook and
  win-back texts at once; the front desk confirms it in the practice system
  from the staff inbox, and the patient is told so. Confirm in the dashboard
  books it (reminders follow) and texts the patient, Decline frees it and asks
  the patient for another day. A different pick while the request is pending
  moves the request. In direct mode (AFTERCARE_BOOKING_MODE=direct) the pick
  is booked at once, reminders planned, and staff see it in the inbox.
- A bare yes keeps the standing offer (one time: booked; several: the same
  times again); "none of those" asks again, with the new constraint when
  they gave one, never the times they turned down. A bare yes once the request
  is with the front desk (the offer picked, or expired) books nothing: the
  patient is told the request is with the front desk and when to expect its
  answer, from the visit's location's hours.
- Moving a booked visit (handlers/reschedule.py) uses the same offer, with
  that visit's service and provider.
- No visit on record, no provider hours, or nothing open: a person answers
  from the staff inbox, and the patient is told someone will text back.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, time, timedelta

from sqlmodel import col, select

from bot.booking import open_times as slots
from bot.booking import picks, visits
from bot.clock import MONTHS, local_zone, to_local, to_utc
from bot.conversation import care_texts, open_hours
from bot.conversation.escalations import open_escalation
from bot.conversation.replies import compose, replies
from bot.growth import booking as growth_booking
from bot.growth import events as growth_events
from bot.messaging import outbox
from bot.touches import composer
from bot.touches.planner import plan_appointment
from bot.vocabulary import AppointmentStatus, EscalationStatus, MessageKind
from handlers.turn import Turn
from store.models import Appointment, Escalation, Location, Patient, Practice, Provider, Service
from store.queries import last_visit


def handle(turn: Turn) -> None:
    if turn.patient is None:
        return
    pending = standing_offer(turn)
    if pending is None:
        offer(turn)
        return
    options = pending.get("options") or []
    body = turn.message.body
    choice = picks.pick(
        body, _pickable(pending), pending.get("tz") or "UTC", (turn.decision.entities or {}).get("slot_choice")
    )
    if choice is not None:
        _book(turn, pending, options[choice - 1])
        return
    which = _several_named(turn, pending)
    if which:  # "la de las 10" with two offered at 10:00: which one, never new times that forget the day asked
        tz = pending.get("tz") or "UTC"
        chosen = [options[n - 1] for n in which]
        times = [(to_utc(datetime.fromisoformat(o["start"])), o.get("provider")) for o in chosen]
        if turn.reply("slots_which", options=listing(times, tz, turn.language(), numbers=which)) is not None:
            turn.actions.append(f"asked_which:{','.join(map(str, which))}")
        return
    relative = _relative_to_offer(turn, pending)
    if relative is not None:  # "something later in the day?": times after (or before) all those offered
        offered = {o["start"] for o in options}
        offer(turn, exclude=set(pending.get("declined", [])) | offered, moving=pending.get("moves"), prefs=relative)
        return
    asked_again = _has_preferences(turn)
    if picks.says_yes(body) and not asked_again:
        if pending.get("picked"):
            # The front desk already answered the request (a pending one is request_pending's): "ok" to their
            # confirmation needs no answer, and never new times.
            turn.actions.append("already_settled")
        elif len(options) == 1:
            _book(turn, pending, options[0])
        else:  # "yes" to three times: the same three again, not new ones
            _offer_again(turn, pending)
        return
    if picks.turns_all_down(body):
        declined = [o["start"] for o in options]
        if not asked_again:
            turn.reply("slots_ask")
            pending["declined"] = sorted(set(pending.get("declined", []) + declined))
            turn.patient_state().pending = dict(pending)
            return
        offer(turn, exclude=set(pending.get("declined", [])) | set(declined), moving=pending.get("moves"))
        return
    offer(turn, exclude=set(pending.get("declined", [])), moving=pending.get("moves"))


ANSWER_SOON = timedelta(hours=1)
"""A request answered "today" needs the front desk open this much longer; closer to closing, the next opening."""


def awaits_front_desk(turn: Turn) -> Appointment | None:
    """The visit requested by text that a bare yes ("ok", "sí", "sounds good") is about: the front desk has not
    answered it yet, and no times are on offer that the yes could keep instead (looked up once per turn)."""
    if "awaited_visit" not in turn.worked_out:
        turn.worked_out["awaited_visit"] = _awaited_visit(turn)
    visit = turn.worked_out["awaited_visit"]
    return visit if isinstance(visit, Appointment) else None


def _awaited_visit(turn: Turn) -> Appointment | None:
    if turn.patient is None or not picks.says_yes(turn.message.body) or _has_preferences(turn):
        return None
    pending = standing_offer(turn)
    if pending is not None and not pending.get("picked"):
        return None  # a yes to times still on offer keeps them (handle)
    return turn.session.exec(
        select(Appointment)
        .where(
            Appointment.patient_id == turn.patient.id,
            Appointment.status == AppointmentStatus.REQUESTED,
            Appointment.start_at > turn.now,
        )
        .order_by(col(Appointment.updated_at).desc())
    ).first()


def request_pending(turn: Turn) -> None:
    """A yes while the front desk has the request: nothing is booked again; the patient is told the request is
    with them and when to expect their answer (today while the location stays open, else its next opening)."""
    visit = awaits_front_desk(turn)
    if visit is None:  # routed here only when there is one
        return
    session = turn.session
    practice = session.get(Practice, visit.practice_id)
    location = session.get(Location, visit.location_id) if visit.location_id else None
    turn.actions.append(f"request_pending:{visit.id}")
    if open_hours.is_open(session, practice, location, turn.now) and open_hours.is_open(
        session, practice, location, turn.now + ANSWER_SOON
    ):
        turn.reply("request_pending", appointment=visit)
        return
    reopens = open_hours.next_open(session, practice, location, turn.now)
    if reopens is None:
        turn.reply("request_pending_soon", appointment=visit)
        return
    turn.reply(
        "request_pending_closed", appointment=visit, reopens=open_hours.when_words(reopens, turn.now, turn.language())
    )


def _several_named(turn: Turn, pending: dict) -> list[int]:
    """The offered times a text names by their time of day when it names more than one ("the 10" to Tuesday
    10:00 and the next Tuesday 10:00), in order; empty otherwise."""
    body = turn.message.body
    if not picks.names_a_clock_time(body):
        return []
    named = picks.named_times(body, _pickable(pending), pending.get("tz") or "UTC")
    return sorted(named) if named and len(named) > 1 else []


def picks_offered_time(turn: Turn) -> bool:
    """Whether this text names one of the times still on offer ("the 11am instead?"), whatever else it reads as."""
    pending = standing_offer(turn) if turn.patient is not None else None
    return (
        pending is not None
        and picks.pick(turn.message.body, _pickable(pending), pending.get("tz") or "UTC") is not None
    )


def _pickable(pending: dict) -> list[dict]:
    """The offered times a text can pick: none once the patient turned them all down ("none of those work",
    then "thursday afternoon?" asks for new times, never Thursday's declined one)."""
    options = pending.get("options") or []
    declined = set(pending.get("declined") or [])
    return [] if options and {o["start"] for o in options} <= declined else options


def restates_wish(turn: Turn) -> bool:
    """Whether this text, sent while times are on offer, asks for other ones: a day or time ("anything after 3pm
    on a weekday?") or times relative to those offered ("something later in the day?"), whatever it reads as."""
    pending = standing_offer(turn) if turn.patient is not None else None
    if pending is None:
        return False
    return _relative_to_offer(turn, pending) is not None or _has_preferences(turn)


def asks_relative_to_offer(turn: Turn) -> bool:
    """Whether this text, sent while times are on offer, asks for times later or earlier than those offered,
    and names no sign of a side effect."""
    body = turn.message.body or ""
    if picks.later_or_earlier(body) is None or turn.patient is None:
        return False
    # A sign named beside it ("a bit of bruising, anything earlier?") keeps the text a side effect.
    return care_texts.sign_of(care_texts.care_texts(), body) is None and standing_offer(turn) is not None


def _relative_to_offer(turn: Turn, pending: dict) -> slots.Preferences | None:
    """The preferences of "later" / "earlier" than the times offered, with any day the text names; None when the
    text says neither, or names its own time ("later, after 5": that one wins)."""
    direction = picks.later_or_earlier(turn.message.body)
    options = pending.get("options") or []
    if direction is None or not options:
        return None
    tz = pending.get("tz") or "UTC"
    prefs = slots.Preferences.parse(None, None, to_local(turn.now, tz).date(), body=turn.message.body)
    if prefs.after or prefs.before or prefs.hours or prefs.around:
        return None
    starts = [to_local(to_utc(datetime.fromisoformat(o["start"])), tz).time() for o in options]
    if direction == "later":
        latest = max(starts)
        prefs.after = time(min(latest.hour + 1, 23), latest.minute)
    else:
        prefs.before = min(starts)
    return prefs


def standing_offer(turn: Turn) -> dict | None:
    """The times last offered to this patient, while they can still be picked."""
    state = turn.state()
    pending = state.pending if state and state.pending and state.pending.get("kind") == "slots" else None
    if pending is None or not _fresh(pending, turn.now, timedelta(hours=turn.settings.offer_valid_hours)):
        return None
    return pending


def offer(
    turn: Turn,
    taken: bool = False,
    exclude: Collection[str] = frozenset(),
    moving: int | None = None,
    kind: str | None = None,
    fallback: str = "rebook",
    prefs: slots.Preferences | None = None,
) -> None:
    """Text up to three open times and remember them; the staff inbox (and the `fallback` reply) when there are none.

    `moving` is the id of an upcoming visit to move: its service and provider are looked at first. `kind` is
    the reply that lists them (by default slots, slots_taken or move_slots); `prefs` stand in for the ones
    the text states."""
    session, patient = turn.session, turn.known_patient()
    moved = session.get(Appointment, moving) if moving else None
    visit: tuple[Appointment, Service] | None
    if moved is not None and moved.status in visits.UPCOMING_STATUSES:
        visit = (moved, session.get_one(Service, moved.service_id))
    else:
        moved, visit = None, last_visit(session, patient.id)
    if visit is None:
        _to_staff(turn, fallback)
        return
    appointment, service = visit
    location = session.get(Location, appointment.location_id) if appointment.location_id else None
    practice = session.get(Practice, patient.practice_id)
    tz = local_zone(location, practice)
    entities = turn.decision.entities or {}
    prefs = prefs or slots.Preferences.parse(
        entities.get("date_preference"),
        entities.get("time_preference"),
        to_local(turn.now, tz).date(),
        body=turn.message.body,
    )
    found = []
    for providers in _providers(session, appointment, location):
        found = slots.open_slots(
            session,
            service,
            providers,
            tz,
            turn.now,
            prefs,
            exclude=_own_time(moved, exclude),
            ignore=moved.id if moved else None,
        )
        if found:
            break
    if not found:  # nothing open that matches what they asked: a person finds an alternative
        _to_staff(turn, fallback)
        return
    language = turn.language()
    listed = listing([(s.start, s.provider) for s in found], tz, language)
    kind = kind or (
        "slots_taken" if taken else "move_slots" if moved is not None and moved.status == "booked" else "slots"
    )
    if turn.reply(kind, appointment=moved, options=listed) is None:
        _to_staff(
            turn, fallback
        )  # staff have the conversation (or it cannot be texted): times they did not see stay unoffered
        return
    turn.patient_state().pending = {
        "kind": "slots",
        "options": [s.as_option() for s in found],
        "service_id": service.id,
        "location_id": location.id if location else None,
        "tz": tz,
        "asked_at": turn.now.isoformat(),
        "message_id": turn.message.id,
        "moves": moved.id if moved is not None else None,
        "declined": sorted(exclude),
    }
    turn.actions.append(f"offered_slots:{len(found)}")


def _offer_again(turn: Turn, pending: dict) -> None:
    tz, language = pending.get("tz") or "UTC", turn.language()
    listed = listing(
        [(to_utc(datetime.fromisoformat(o["start"])), o.get("provider")) for o in pending.get("options") or []],
        tz,
        language,
    )
    if turn.reply("slots_again", options=listed) is not None:
        turn.actions.append("offer_kept")


def _book(turn: Turn, pending: dict, option: dict) -> None:
    session, patient = turn.session, turn.known_patient()
    service = session.get(Service, pending["service_id"])
    start = to_utc(datetime.fromisoformat(option["start"]))
    moving = session.get(Appointment, pending["moves"]) if pending.get("moves") else None
    if moving is not None and moving.status not in visits.UPCOMING_STATUSES:
        moving = None  # settled or cancelled since: this is a new booking
    if moving is not None and to_utc(moving.start_at) == start and moving.provider_id == option["provider_id"]:
        turn.actions.append("same_time")
        turn.reply("requested" if moving.status == "requested" else "confirmed", appointment=moving)
        return
    if service is not None:
        slots.hold_calendar(session, option["provider_id"])
    if (
        service is None
        or start <= turn.now + timedelta(hours=1)
        or not slots.still_open(session, service, option["provider_id"], start, ignore=moving.id if moving else None)
    ):
        turn.actions.append("slot_taken")
        offer(turn, taken=True, moving=moving.id if moving else None)
        return
    when = describe(start, pending.get("tz") or "UTC", "en")
    who = option.get("provider") or "any provider"
    direct = turn.settings.booking_mode == "direct"
    if moving is not None and (direct or moving.status == "requested"):
        # Booked outright, or a request not yet answered: the visit itself moves (a change of mind moves the request).
        was = describe(moving.start_at, pending.get("tz") or "UTC", "en")
        visits.move(session, moving, option["provider_id"], start, turn.now)
        reason = "booking_request" if moving.status == "requested" else "visit_moved"
        item = _inbox_item(turn, moving, reason, f"Moved by text from {was} to {when} with {who}: {service.name}.")
        if reason == "booking_request":
            item.note += " Confirm or decline on the patient's page."
        turn.actions += [f"moved_appointment:{moving.id}", "staff_inbox"]
        turn.patient_state().pending = dict(pending, moves=moving.id, picked=option["start"]) if not direct else None
        if moving.status != "requested":
            turn.reply("moved", appointment=moving)
        else:  # a move asked for says again that the booked time stays theirs until the front desk confirms
            turn.reply("move_requested" if moving.replaces_id else "requested", appointment=moving)
        return
    appointment = Appointment(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        service_id=service.id,
        provider_id=option["provider_id"],
        location_id=pending.get("location_id"),
        status=AppointmentStatus.BOOKED if direct else AppointmentStatus.REQUESTED,
        start_at=start,
        price=service.price,
        end_at=start + timedelta(minutes=service.duration_min or 30),
        source="bot",
        replaces_id=moving.id if moving is not None else None,
        created_at=turn.now,
        updated_at=turn.now,
    )
    session.add(appointment)
    session.flush()
    plan_appointment(session, appointment.id, turn.now)  # a future booking holds back rebook and win-back texts
    if direct:
        _inbox_item(turn, appointment, "booked_by_text", f"Booked by text for {when} with {who}: {service.name}.")
        turn.patient_state().pending = None
        turn.actions += [f"booked_appointment:{appointment.id}", "staff_inbox"]
        _reply_with_add_on(turn, "confirmed", appointment, new=moving is None)
        return
    if moving is not None:
        was = describe(moving.start_at, pending.get("tz") or "UTC", "en")
        note = f"Asked by text to move {was} to {when} with {who}: {service.name}. Confirm or decline on the patient's page."
    else:
        note = f"Asked by text for {when} with {who}: {service.name}. Confirm or decline on the patient's page."
    _inbox_item(turn, appointment, "booking_request", note)
    # The offer stays: a different pick before the front desk answers moves this request.
    turn.patient_state().pending = dict(pending, moves=appointment.id, picked=option["start"])
    turn.actions += [f"requested_appointment:{appointment.id}", "staff_inbox"]
    if moving is not None:
        turn.reply("move_requested", appointment=appointment)
    else:  # one add-on, offered before the front desk confirms
        _reply_with_add_on(turn, "requested", appointment, new=True)


def _reply_with_add_on(turn: Turn, kind: str, appointment: Appointment, new: bool) -> None:
    """The booking reply, ending with one add-on from the matrix when the sending rules allow a marketing text
    now (bot.growth.booking); otherwise, or when the two would pass two segments, the plain reply."""
    inline = growth_booking.prepare(turn.session, turn.known_patient(), appointment, turn.now) if new else None
    if inline is None:
        turn.reply(kind, appointment=appointment)
        return
    templates = inline.templates(replies()[kind])
    body = compose(turn.session, turn.patient, kind, appointment=appointment, templates=templates)
    held = (
        "reply_waits_for_staff_approval"
        if not turn.goes_at_once(kind)
        else None
        if growth_booking.fits(body)
        else f"too_long: over {growth_booking.MAX_SEGMENTS} segments with the booking reply"
    )
    if held is not None:
        growth_booking.hold(turn.session, inline.offer, inline.touch, held, turn.now)
        turn.reply(kind, appointment=appointment)
        return
    row = turn.reply_with(kind, templates, appointment=appointment)
    if row is None:
        growth_booking.hold(turn.session, inline.offer, inline.touch, "reply_not_sent", turn.now)
        return
    growth_booking.sent(turn.session, inline, row.id, row.body, turn.now)
    turn.actions.append(f"offer_sent:{inline.offer.id}")


def _inbox_item(turn: Turn, appointment: Appointment, reason: str, note: str):
    """The staff inbox item about this visit; a moved request keeps its one open booking request."""
    item = None
    if reason == "booking_request":
        item = turn.session.exec(
            select(Escalation).where(
                Escalation.patient_id == turn.known_patient().id,
                Escalation.reason == reason,
                Escalation.status != "resolved",
            )
        ).first()
    item = item or open_escalation(turn.session, turn.message.id, turn.patient, "routine", reason)
    item.note = note
    turn.session.add(item)
    return item


def _own_time(moved: Appointment | None, exclude: Collection[str]) -> set[str]:
    """Times not to offer: those turned down, and the visit's own time when it is the one being moved."""
    if moved is None:
        return set(exclude)
    return set(exclude) | {to_utc(moved.start_at).isoformat()}


def _has_preferences(turn: Turn) -> bool:
    entities = turn.decision.entities or {}
    if entities.get("date_preference") or entities.get("time_preference"):
        return True
    return not slots.Preferences.parse(None, None, turn.now.date(), body=turn.message.body).empty()


def listing(times: list[tuple[datetime, str | None]], tz: str, language: str, numbers: list[int] | None = None) -> str:
    """The {options} of a reply: "1) Tue, Nov 24 3:30 PM with Maya; 2) ..." / "1) mar 24 nov 15:30 con Maya; ...",
    numbered 1, 2, 3 or by the `numbers` they were offered under."""
    joiner = "con" if language == "es" else "with"
    numbers = numbers or list(range(1, len(times) + 1))
    return "; ".join(
        f"{n}) {describe(start, tz, language)} {joiner} {who}" for n, (start, who) in zip(numbers, times, strict=True)
    )


def describe(start: datetime, tz: str, language: str) -> str:
    """A short offered time: "Tue, Nov 24 3:30 PM" / "mar 24 nov 15:30"."""
    local = to_local(start, tz)
    if language == "es":
        day = composer.DAYS["es"][local.weekday()][:3]
        return f"{day} {local.day} {MONTHS['es'][local.month - 1][:3]} {local:%H:%M}"
    hour = local.hour % 12 or 12
    return f"{local:%a}, {local:%b} {local.day} {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def _providers(session, appointment: Appointment, location: Location | None) -> list[list[Provider]]:
    """Who to look at, in turn: their last provider, then everyone at that location who keeps hours and has
    done this kind of treatment before (the practice's own history says who performs what)."""
    everyone = session.exec(
        select(Provider)
        .where(Provider.practice_id == appointment.practice_id, Provider.active == True)  # noqa: E712
        .order_by(col(Provider.id))
    ).all()
    category = session.get(Service, appointment.service_id).category
    performs = set(
        session.exec(
            select(Appointment.provider_id)
            .join(Service, col(Service.id) == Appointment.service_id)
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


def _fresh(pending: dict, now: datetime, valid: timedelta) -> bool:
    try:
        asked = to_utc(datetime.fromisoformat(pending["asked_at"]))
    except (KeyError, TypeError, ValueError):
        return False
    return now - asked <= valid


def _to_staff(turn: Turn, reply: str = "rebook") -> None:
    turn.to_staff("rebook_request")  # an item already open holds this text too; the patient is told either way
    turn.tell_a_person_replies(reply)


def settle_request(session, appointment: Appointment, confirmed: bool, staff_id: int, now: datetime) -> int | None:
    """The front desk's answer to a requested visit: booked (reminders planned) or declined; texts the patient
    unless they opted out, and closes the booking request. Returns the text's row id (deliver it after the commit)."""
    appointment.status, appointment.updated_at = ("booked" if confirmed else "declined"), now
    session.add(appointment)
    session.flush()
    if confirmed:
        plan_appointment(session, appointment.id, now)
        visits.settle_move(session, appointment, now)  # a move: the old time is freed, its reminders dropped
    else:
        growth_events.drop_visit_offers(session, appointment.id, now, reason="appointment_declined")
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
