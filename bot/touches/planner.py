"""Turn appointments into touches: one row per planned step, the database being the truth.

Called by appointment ingestion (API, CSV) after every upsert, whatever the
status, so it is cheap and idempotent:

- completed: plan the category's steps and the everyone plan's; the patient's
  older plans lose their pending steps of the same kind ("replaced_by_newer_plan");
- booked (or requested, e.g. by text) in the future: pending rebook and win-back touches
  are suppressed ("rebooked"); a booked one also gets the upcoming plan's reminders,
  counted back from the start (a moved visit moves them: the old ones are suppressed
  as "rescheduled");
- cancelled / no-show: the missed plan (a friendly "want to rebook?" text);
- anything else: nothing.

Birthdays are planned apart from visits, by `plan_birthdays` (the worker runs it
hourly): one birthday touch a year, a week ahead, for every patient it applies to.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import local_zone, to_utc, zone_name
from bot.growth import matrix
from bot.growth.segments import standings as segment_standings
from bot.touches import caps, step_timing
from bot.touches.plans import BIRTHDAY, EVERYONE, MISSED, REBOOK_PURPOSES, SPECIAL, UPCOMING, PlanBook, Step, plans_for
from bot.vocabulary import AppointmentStatus, TouchStatus
from store.models import Appointment, Location, Patient, Practice, Service, Touch
from store.queries import PENDING_TOUCH_STATUSES, cancel_pending_touches

REPLACED = "replaced_by_newer_plan"
REBOOKED = "rebooked"
CHUNK = 500
"""Appointments read per query when planning many at once."""
BIRTHDAY_HORIZON = timedelta(days=7)
"""Birthday touches are planned this far ahead, so `aftercare preview` shows them before they go out."""


def plan_appointment(session: Session, appointment_id: int, now: datetime | None = None) -> list[Touch]:
    """Plan (or un-plan) what one appointment's status calls for; returns the touches created."""
    return plan_appointments(session, [appointment_id], now)


def plan_appointments(
    session: Session, appointment_ids, now: datetime | None = None, book: PlanBook | None = None
) -> list[Touch]:
    """`plan_appointment` for many appointments, with a few queries per chunk (imports, benchmarks)."""
    now = to_utc(now or runtime.clock().now())
    book = book or plans_for(runtime.settings())
    created: list[Touch] = []
    ids = list(dict.fromkeys(appointment_ids))
    for start in range(0, len(ids), CHUNK):
        created += _plan_chunk(session, ids[start : start + CHUNK], now, book)
    return created


def _plan_chunk(session: Session, ids: list[int], now: datetime, book: PlanBook) -> list[Touch]:
    rows = session.exec(
        select(Appointment, Service, Patient, Practice, Location)  # type: ignore[call-overload]  # sqlmodel types select() up to four entities
        .join(Service, col(Service.id) == Appointment.service_id)
        .join(Patient, col(Patient.id) == Appointment.patient_id)
        .join(Practice, col(Practice.id) == Appointment.practice_id)
        .outerjoin(Location, col(Location.id) == Appointment.location_id)
        .where(col(Appointment.id).in_(ids))
    ).all()
    if not rows:
        return []
    planned: dict[int | None, set[str]] = {}
    for appointment_id, plan_name in session.exec(
        # Birthday and check-back touches hang off the latest visit, and reminders come before it:
        # none of them is the visit's own plan.
        select(Touch.appointment_id, Touch.plan)
        .where(col(Touch.appointment_id).in_(ids), col(Touch.plan).not_in(SPECIAL))
        .distinct()
    ):
        planned.setdefault(appointment_id, set()).add(plan_name)

    reminders: dict[int | None, dict[str, Touch]] = {}
    for touch in session.exec(
        select(Touch).where(
            col(Touch.appointment_id).in_(ids), Touch.plan == UPCOMING, col(Touch.status).in_(PENDING_TOUCH_STATUSES)
        )
    ):
        reminders.setdefault(touch.appointment_id, {})[touch.step] = touch

    patient_ids = {row[0].patient_id for row in rows}
    visits = _patient_visits(session, patient_ids)
    segments = (
        _segments(session, rows, now)
        if book.uses_segments or any(step_timing.for_practice(book, row[3]).uses_segments for row in rows)
        else {}
    )
    new_rows: list[dict] = []
    file_book = book
    for appointment, service, patient, practice, location in rows:
        book = step_timing.for_practice(file_book, practice)  # the practice's own offsets and conditions
        status = appointment.status
        tz = local_zone(location, practice)
        if status == AppointmentStatus.COMPLETED:
            if planned.get(appointment.id, set()) - {MISSED}:
                continue
            if MISSED in planned.get(appointment.id, set()):
                _unplan(session, appointment.id, keep_plan=None, only_plan=MISSED, reason="appointment_completed")
            if reminders.get(appointment.id):
                _unplan(session, appointment.id, keep_plan=None, only_plan=UPCOMING, reason="appointment_completed")
            visit_start = to_utc(appointment.start_at)
            newer = any(
                to_utc(start) > visit_start for _id, start in visits.get(patient.id, ()) if _id != appointment.id
            )
            _replace_older_plans(session, appointment, service.category, visits.get(patient.id, ()))
            in_segments = segments.get(patient.id, frozenset())
            for plan, step in book.steps_after_visit(service.category, service.area, patient.vip, in_segments):
                replaced = newer and _is_replaced_by_newer(plan.name, step, service.category)
                new_rows.append(
                    _touch_row(
                        appointment,
                        patient,
                        plan.name,
                        step,
                        to_utc(appointment.end_at),
                        tz,
                        now,
                        REPLACED if replaced else None,
                    )
                )
        elif status in ("booked", "requested"):
            if to_utc(appointment.start_at) > now:
                cancel_pending_touches(session, patient.id, REBOOKED, purposes=REBOOK_PURPOSES)
            if status == AppointmentStatus.BOOKED and to_utc(appointment.start_at) > now:
                new_rows += _plan_reminders(
                    session, appointment, service, patient, tz, now, book, reminders.get(appointment.id, {})
                )
        elif status in ("cancelled", "no_show"):
            if planned.get(appointment.id, set()) - {MISSED} or reminders.get(appointment.id):
                _unplan(session, appointment.id, keep_plan=MISSED, only_plan=None, reason=f"appointment_{status}")
            if MISSED in planned.get(appointment.id, set()):
                continue
            if now - to_utc(appointment.start_at) > caps.PLANNING_GRACE:
                continue  # an old record arriving late: no "sorry we missed you" weeks after
            if _has_future_booking(session, patient.id, appointment.id, now):
                continue
            base = max(to_utc(appointment.start_at), now)
            for plan, step in book.steps_after_missed():
                new_rows.append(_touch_row(appointment, patient, plan.name, step, base, tz, now, None))
    if not new_rows:
        return []
    return list(session.scalars(insert(Touch).returning(Touch), new_rows))


def _segments(session: Session, rows, now: datetime) -> dict[int, frozenset[str]]:
    """The segments of the chunk's patients, for steps with a `when.segment` condition."""
    found: dict[int, frozenset[str]] = {}
    by_practice: dict[int, set[int]] = {}
    for appointment, *_rest in rows:
        by_practice.setdefault(appointment.practice_id, set()).add(appointment.patient_id)
    for practice_id, ids in by_practice.items():
        table = matrix.current(session, practice_id)
        for patient_id, standing in segment_standings(session, practice_id, table, now, ids).items():
            found[patient_id] = standing.segments
    return found


def _plan_reminders(
    session: Session,
    appointment: Appointment,
    service: Service,
    patient: Patient,
    tz: str,
    now: datetime,
    book: PlanBook,
    existing: dict[str, Touch],
) -> list[dict]:
    """Rows for the upcoming plan's steps still ahead of a booked visit; pending ones whose time moved are
    suppressed ("rescheduled") and planned again. A step already past when the visit is booked is left out."""
    rows = []
    wanted = {
        step.key: (plan, step) for plan, step in book.steps_before_visit(service.category, service.area, patient.vip)
    }
    for key, touch in existing.items():
        if key not in wanted or to_utc(touch.due_at) != before_time(appointment.start_at, wanted[key][1], tz):
            touch.status, touch.reason, touch.updated_at = "suppressed", "rescheduled", now
            session.add(touch)
    for key, (plan, step) in wanted.items():
        due = before_time(appointment.start_at, step, tz)
        if due <= now or due >= to_utc(appointment.start_at):
            continue
        if key in existing and to_utc(existing[key].due_at) == due:
            continue
        rows.append(_touch_row(appointment, patient, plan.name, step, due, tz, now, None, due=due))
    return rows


def before_time(start: datetime, step: Step, tz: str) -> datetime:
    """When an upcoming step falls due: the visit's start minus the offset, at the step's local time of day
    when it names one (the calendar day of start - offset)."""
    due = to_utc(start) - step.offset
    if step.at is None:
        return due
    zone = ZoneInfo(tz)
    return to_utc(datetime.combine(due.astimezone(zone).date(), step.at, tzinfo=zone))


def _touch_row(
    appointment: Appointment,
    patient: Patient,
    plan: str,
    step: Step,
    base: datetime,
    tz: str,
    now: datetime,
    suppressed: str | None,
    due: datetime | None = None,
) -> dict:
    due = due or due_time(base, step, tz)
    status, reason = "scheduled", None
    if suppressed:
        status, reason = "suppressed", suppressed
    elif patient.opted_out_at is not None:
        status, reason = "skipped", "opted_out"
    elif now - due > caps.PLANNING_GRACE:
        status, reason = "skipped", "past_due_when_planned"
    return {
        "practice_id": appointment.practice_id,
        "patient_id": appointment.patient_id,
        "appointment_id": appointment.id,
        "plan": plan,
        "step": step.key,
        "purpose": step.purpose,
        "channel": step.channel,
        "marketing": step.marketing,
        "due_at": due,
        "status": status,
        "reason": reason,
        "deferrals": 0,
        "created_at": now,
        "updated_at": now,
    }


def due_time(base: datetime, step: Step, tz: str) -> datetime:
    """When a step falls due: base + offset, moved to the step's local time of day when it names one."""
    due = to_utc(base) + step.offset
    if step.at is None:
        return due
    zone = ZoneInfo(tz)
    day = due.astimezone(zone).date()
    # Built from the local calendar day, so 11:00 stays 11:00 across a DST change.
    return to_utc(datetime.combine(day, step.at, tzinfo=zone))


def _patient_visits(session: Session, patient_ids: set[int]) -> dict[int, list[tuple[int, datetime]]]:
    visits: dict[int, list[tuple[int, datetime]]] = {}
    for appointment_id, patient_id, start in session.exec(
        select(Appointment.id, Appointment.patient_id, Appointment.start_at).where(
            col(Appointment.patient_id).in_(patient_ids), Appointment.status == AppointmentStatus.COMPLETED
        )
    ):
        visits.setdefault(patient_id, []).append((appointment_id, start))
    return visits


def _is_replaced_by_newer(plan: str, step: Step, category: str) -> bool:
    """Whether a newer visit of `category` makes this pending step of an older plan pointless."""
    return plan in (category, EVERYONE, MISSED) or step.purpose == "reactivation"


def _replace_older_plans(session: Session, appointment: Appointment, category: str, visits) -> None:
    visit_start = to_utc(appointment.start_at)
    older = [vid for vid, start in visits if vid != appointment.id and to_utc(start) < visit_start]
    if not older:
        return
    older_categories = dict(
        session.exec(
            select(Appointment.id, Service.category)
            .join(Service, col(Service.id) == Appointment.service_id)
            .where(col(Appointment.id).in_(older))
        ).all()
    )
    same = [vid for vid in older if older_categories.get(vid) == category]
    condition = col(Touch.plan).in_((EVERYONE, MISSED)) | (Touch.purpose == "reactivation")
    if same:
        condition = condition | col(Touch.appointment_id).in_(same)
    session.exec(
        update(Touch)
        .where(
            col(Touch.appointment_id).in_(older),
            col(Touch.status).in_(PENDING_TOUCH_STATUSES),
            col(Touch.plan) != BIRTHDAY,
            condition,
        )
        .values(status=TouchStatus.SUPPRESSED, reason=REPLACED, updated_at=runtime.clock().now())
    )


def _unplan(session: Session, appointment_id: int, keep_plan: str | None, only_plan: str | None, reason: str) -> None:
    """Suppress an appointment's pending touches that its new status no longer calls for."""
    statement = update(Touch).where(
        col(Touch.appointment_id) == appointment_id,
        col(Touch.status).in_(PENDING_TOUCH_STATUSES),
        col(Touch.plan) != BIRTHDAY,
    )
    if keep_plan is not None:
        statement = statement.where(col(Touch.plan) != keep_plan)
    if only_plan is not None:
        statement = statement.where(col(Touch.plan) == only_plan)
    session.exec(statement.values(status=TouchStatus.SUPPRESSED, reason=reason, updated_at=runtime.clock().now()))


def _has_future_booking(session: Session, patient_id: int, other_than: int, now: datetime) -> bool:
    return (
        session.exec(
            select(Appointment.id)
            .where(
                Appointment.patient_id == patient_id,
                Appointment.id != other_than,
                col(Appointment.status).in_((AppointmentStatus.BOOKED, AppointmentStatus.REQUESTED)),
                Appointment.start_at > now,
            )
            .limit(1)
        ).first()
        is not None
    )


OPTED_OUT = "opted_out"
"""The reason an opt-out gives the touches it stops (bot.consent.opt_out)."""


def plan_again_after_opt_in(
    session: Session, patient_id: int, now: datetime | None = None, stopped_by: str = OPTED_OUT, why: str = "opted in"
) -> int:
    """Put back the touches an opt-out stopped that still apply now the patient opted in again; how many.

    `stopped_by` names another reason they were stopped for ("wrong_number", once staff fixed the number),
    `why` what the touch's reason then says ("planned again: number fixed").

    Still applies: not yet due (or due within the planning grace), for a visit that is still what the
    plan was about (reminders for a visit still booked ahead, after-visit steps for a completed one);
    a marketing step only with marketing consent, which an opt-out cleared and only fresh consent gives."""
    now = to_utc(now or runtime.clock().now())
    patient = session.get(Patient, patient_id)
    if patient is None or patient.opted_out_at is not None or patient.flagged_at is not None:
        return 0
    stopped = session.exec(
        select(Touch, Appointment)
        .outerjoin(Appointment, col(Appointment.id) == Touch.appointment_id)
        .where(
            Touch.patient_id == patient_id,
            Touch.status == TouchStatus.SUPPRESSED,
            Touch.reason == stopped_by,
            Touch.due_at > now - caps.PLANNING_GRACE,
        )
    ).all()
    again = 0
    for touch, appointment in stopped:
        if touch.marketing and not patient.marketing_sms:
            continue
        if appointment is None:
            continue
        if touch.plan == UPCOMING:
            if appointment.status != AppointmentStatus.BOOKED or to_utc(appointment.start_at) <= now:
                continue
        elif touch.plan != BIRTHDAY and appointment.status != AppointmentStatus.COMPLETED:
            continue
        touch.status, touch.reason, touch.updated_at = TouchStatus.SCHEDULED, f"planned again: {why}", now
        touch.due_at = max(to_utc(touch.due_at), now)
        session.add(touch)
        again += 1
    return again


def plan_birthdays(
    session: Session,
    now: datetime | None = None,
    horizon: timedelta = BIRTHDAY_HORIZON,
    book: PlanBook | None = None,
    patient_id: int | None = None,
) -> list[Touch]:
    """Plan the birthday steps falling due within `horizon` for every patient they apply to; returns the touches created.

    A patient qualifies with a birthday on file, marketing consent, no opt-out and at least
    one completed visit (the touch hangs off the latest, whose location sends it and whose
    provider the text may name). Idempotent: a patient's birthday is planned once a year.
    A birthday already more than PLANNING_GRACE past is not planned late.
    """
    now = to_utc(now or runtime.clock().now())
    file_book = book or plans_for(runtime.settings())
    practices = {p.id: p for p in session.exec(select(Practice))}
    books = {pid: step_timing.for_practice(file_book, p) for pid, p in practices.items()}
    if not any(b.steps_on_birthday(False) or b.steps_on_birthday(True) for b in [file_book, *books.values()]):
        return []
    query = select(Patient.id, col(Patient.birthday), Patient.vip).where(
        col(Patient.birthday).is_not(None),
        Patient.marketing_sms == True,  # noqa: E712
        col(Patient.opted_out_at).is_(None),
        col(Patient.flagged_at).is_(None),
    )
    if patient_id is not None:
        query = query.where(Patient.id == patient_id)
    # A day's slack each side: the local calendar day of a birthday differs from UTC's.
    first, last = (now - caps.PLANNING_GRACE).date() - timedelta(days=1), (now + horizon).date() + timedelta(days=1)
    candidates = {
        pid: (birthday, vip)
        for pid, birthday, vip in session.exec(query)
        if birthday is not None and _birthday_between(birthday, first, last) is not None
    }
    if not candidates:
        return []
    latest = _latest_visits(session, set(candidates))
    already = set(
        session.exec(
            select(Touch.patient_id)
            .where(
                col(Touch.patient_id).in_(set(latest)), Touch.plan == BIRTHDAY, Touch.due_at > now - timedelta(days=300)
            )
            .distinct()
        )
    )
    new_rows: list[dict] = []
    for patient_id_, (appointment, tz) in latest.items():
        if patient_id_ in already:
            continue
        birthday, vip = candidates[patient_id_]
        day = _birthday_between(birthday, first, last)
        if day is None:  # never: candidates have one in range
            continue
        base = to_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)))
        book = books.get(appointment.practice_id, file_book)
        for plan, step in book.steps_on_birthday(vip):
            due = due_time(base, step, tz)
            if not now - caps.PLANNING_GRACE <= due <= now + horizon:
                continue
            new_rows.append(
                {
                    "practice_id": appointment.practice_id,
                    "patient_id": patient_id_,
                    "appointment_id": appointment.id,
                    "plan": plan.name,
                    "step": step.key,
                    "purpose": step.purpose,
                    "channel": step.channel,
                    "marketing": step.marketing,
                    "due_at": due,
                    "status": TouchStatus.SCHEDULED,
                    "reason": None,
                    "deferrals": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if not new_rows:
        return []
    return list(session.scalars(insert(Touch).returning(Touch), new_rows))


def next_birthday(birthday: date, today: date) -> date:
    """The patient's next birthday on or after today (29 February is kept on the 28th in other years)."""
    day = _birthday_between(birthday, today, date(today.year + 1, 12, 31))
    assert day is not None  # a birthday falls in every year
    return day


def _birthday_between(birthday: date, first: date, last: date) -> date | None:
    """The patient's birthday in a year of [first, last], if one falls there (29 February is kept on the 28th)."""
    for year in range(first.year, last.year + 1):
        try:
            day = birthday.replace(year=year)
        except ValueError:
            day = date(year, 2, 28)
        if first <= day <= last:
            return day
    return None


def _latest_visits(session: Session, patient_ids: set[int]) -> dict[int, tuple[Appointment, str]]:
    """Each patient's latest completed appointment, with the time zone its texts go out in."""
    latest: dict[int, tuple[Appointment, str]] = {}
    rows = session.exec(
        select(Appointment, Location.timezone, Practice.timezone)
        .join(Practice, col(Practice.id) == Appointment.practice_id)
        .outerjoin(Location, col(Location.id) == Appointment.location_id)
        .where(col(Appointment.patient_id).in_(patient_ids), Appointment.status == AppointmentStatus.COMPLETED)
        .order_by(col(Appointment.patient_id), col(Appointment.start_at))
    )
    for appointment, location_tz, practice_tz in rows:
        latest[appointment.patient_id] = (appointment, zone_name(location_tz, practice_tz))
    return latest


PLAN_CHANGED = "plan_changed"
"""The reason a touch a plan change no longer calls for is suppressed or skipped with."""


def replan_step(session: Session, practice_id: int, step: Step, now: datetime | None = None) -> dict[str, int]:
    """After a practice changed a step's timing or conditions: its touches not yet claimed by the sender
    (scheduled) are planned again with the new step, as the planner would plan them now. Each one's time is
    worked out again from what it counts from (the visit's end, the booked visit's start, the cancellation,
    the birthday); one whose conditions no longer hold is suppressed, one whose new time passed more than
    PLANNING_GRACE ago is skipped, one that would now fall at or after its booked visit is suppressed. Touches
    already queued, sent or stopped are left alone, and visits the old conditions left out get nothing.
    Returns how many were moved, stopped and left as they were."""
    now = to_utc(now or runtime.clock().now())
    rows = session.exec(
        select(Touch, Appointment, Service, Patient, Practice, Location)  # type: ignore[call-overload]  # sqlmodel types select() up to four entities
        .join(Appointment, col(Appointment.id) == Touch.appointment_id)
        .join(Service, col(Service.id) == Appointment.service_id)
        .join(Patient, col(Patient.id) == Touch.patient_id)
        .join(Practice, col(Practice.id) == Touch.practice_id)
        .outerjoin(Location, col(Location.id) == Appointment.location_id)
        .where(
            Touch.practice_id == practice_id,
            Touch.plan == step.plan,
            Touch.step == step.key,
            Touch.status == TouchStatus.SCHEDULED,
        )
    ).all()
    segments: dict[int, frozenset[str]] = {}
    if step.segment is not None and rows:
        table = matrix.current(session, practice_id)
        ids = {row[3].id for row in rows}
        segments = {pid: s.segments for pid, s in segment_standings(session, practice_id, table, now, ids).items()}
    counts = {"moved": 0, "stopped": 0, "unchanged": 0}
    for touch, appointment, service, patient, practice, location in rows:
        tz = local_zone(location, practice)
        category = service.category if step.plan == UPCOMING else None
        if not step.applies_to(service.area, patient.vip, category, segments.get(patient.id, frozenset())):
            touch.status, touch.reason = TouchStatus.SUPPRESSED, f"{PLAN_CHANGED}: its conditions no longer hold"
        else:
            due = _due_again(touch, appointment, patient, step, tz)
            if step.plan == UPCOMING and due >= to_utc(appointment.start_at):
                touch.status, touch.reason = TouchStatus.SUPPRESSED, f"{PLAN_CHANGED}: it would fall after the visit"
            elif now - due > caps.PLANNING_GRACE:
                touch.status, touch.reason = TouchStatus.SKIPPED, f"{PLAN_CHANGED}: its new time has passed"
            elif due == to_utc(touch.due_at):
                counts["unchanged"] += 1
                continue
            else:
                touch.due_at, touch.deferrals, touch.reason = due, 0, f"{PLAN_CHANGED}: re-timed"
                touch.updated_at = now
                session.add(touch)
                counts["moved"] += 1
                continue
        touch.updated_at = now
        session.add(touch)
        counts["stopped"] += 1
    return counts


def _due_again(touch: Touch, appointment: Appointment, patient: Patient, step: Step, tz: str) -> datetime:
    """When a planned touch of this step falls due by the step as it is now, from what it counts from."""
    if step.plan == UPCOMING:
        return before_time(appointment.start_at, step, tz)
    if step.plan == BIRTHDAY:
        # The birthday it was planned for: at most BIRTHDAY_MAX_OFFSET (27 days) before its old time.
        last = to_utc(touch.due_at).astimezone(ZoneInfo(tz)).date()
        day = _birthday_between(patient.birthday, last - timedelta(days=28), last) if patient.birthday else None
        if day is None:  # never: a birthday touch is planned for a patient with a birthday
            return to_utc(touch.due_at)
        return due_time(to_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))), step, tz)
    if step.plan == MISSED:
        # Planned from the missed visit's start, or from when it was planned if that came later.
        return due_time(max(to_utc(appointment.start_at), to_utc(touch.created_at)), step, tz)
    return due_time(to_utc(appointment.end_at), step, tz)
