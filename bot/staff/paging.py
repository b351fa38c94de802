"""Paging staff when a patient may need a clinician now.

- An urgent escalation pages the practice's on-call staff; an emergency pages
  on-call and backup at once. Routine items wait in the dashboard's inbox.
- Each page is an outbound row per person (kind "page", its escalation in
  `escalation_id`, key page-<escalation>-<round>-<staff>) sent through the outbox, plus an email
  to those with an address; `paged_at` is set when the rows exist.
- Still open (nobody acknowledged) after `AFTERCARE_REPAGE_MINUTES`: round 2
  pages the backup staff and the managers, once.
- No one on call: managers are paged instead, and an audit event says so.
- Staff acknowledge in the dashboard, or by texting "ACK 42" (or just "ACK"
  for their latest page) back to the number that paged them.

A page says who and how urgent, and links to the dashboard; it carries no
clinical detail beyond the reason the patient's words raised.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import to_utc
from bot.errors import TransportError
from bot.messaging import mailer, outbox
from bot.messaging.phones import mask
from bot.queue import get_queue
from bot.staff import roster
from bot.vocabulary import PAGING_URGENCIES, AppointmentStatus, EscalationStatus, MessageKind, Role, Urgency, is_paging
from store import scope
from store.db import session_scope
from store.models import Appointment, AuditEvent, Escalation, Location, Message, Patient, Practice, Service, StaffUser
from store.queries import patients_for_inbound

log = logging.getLogger(__name__)

PAGE_JOB = "bot.staff.paging.page_escalation"
PAGE_GRACE = timedelta(seconds=10)
"""An urgent escalation still unpaged this long after it opened lost its page job (Redis flushed, its worker
killed): the sweep pages it. Paging is idempotent per round, so a page that was merely slow is not sent twice."""
ACK = re.compile(r"^\s*(?:ack|ok|got it|on it|yes)\W*(?:#?\s*(\d+))?\W*$", re.IGNORECASE)
"""A staff member's text that takes a page: "ACK", "ack 42", "OK #42"."""


def enqueue(escalation_id: int, round_: int = 1) -> None:
    """Queue a page round (after the escalation is committed); one job per escalation and round."""
    get_queue(outbox.QUEUE, runtime.settings()).enqueue(
        PAGE_JOB,
        escalation_id,
        round_,
        job_id=f"page-{escalation_id}-{round_}",
        retry=outbox.DELIVER_RETRY,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def page_escalation(escalation_id: int, round_: int = 1) -> int:
    """Write the page rows for one round and send them; returns how many texts were written. Idempotent."""
    now = runtime.clock().now()
    with session_scope(runtime.db_url()) as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None or not is_paging(escalation.urgency):
            return 0
        if escalation.status != EscalationStatus.OPEN:
            return 0  # someone took it (in the dashboard) before the page went out
        staff = recipients(session, escalation, round_, now)
        body, subject = page_text(session, escalation, round_)
        texted = [person for person in staff if person.phone]
        written = _write_pages(session, escalation, texted, f"page-{escalation.id}-{round_}", body, now)
        column = col(Escalation.paged_at) if round_ == 1 else col(Escalation.repaged_at)
        first = _stamp(session, escalation, column, now)
        if first and not written:
            _nobody_to_page(session, escalation, {"reason": "no staff with a phone to page", "round": round_}, now)
            log.error("escalation %s: nobody to page (round %s)", escalation.id, round_)
        # Texts are keyed rows; email has no such key, so only the job that stamped the round sends it.
        emails = [(p.email, p.id) for p in staff if p.email] if first else []
    outbox.enqueue(written)
    _email(emails, subject, body, escalation_id, round_)
    return len(written)


COMPLAINT = "complaint"
"""Escalation.reason of a patient's complaint: routine (no page), but its managers are alerted at once."""

ALERT_JOB = "bot.staff.paging.alert_managers"


def enqueue_alert(escalation_id: int) -> None:
    """Queue the managers' alert about a complaint (after it is committed); one job per escalation."""
    get_queue(outbox.QUEUE, runtime.settings()).enqueue(
        ALERT_JOB,
        escalation_id,
        job_id=f"manager-alert-{escalation_id}",
        retry=outbox.DELIVER_RETRY,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def alert_managers(escalation_id: int) -> int:
    """Tell the practice's managers about a complaint, each by text or email as they prefer (job,
    idempotent: texts are keyed rows, email goes from the run that stamps `paged_at`); texts written."""
    now = runtime.clock().now()
    with session_scope(runtime.db_url()) as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None or escalation.practice_id is None:
            return 0
        managers = session.exec(
            select(StaffUser)
            .where(
                StaffUser.practice_id == escalation.practice_id,
                StaffUser.role == Role.MANAGER,
                StaffUser.active == True,  # noqa: E712
            )
            .order_by(col(StaffUser.id))
        ).all()
        body, subject = _complaint_text(session, escalation)
        by_email = [p for p in managers if _prefers_email(p)]
        texted = [p for p in managers if p.phone and not _prefers_email(p)]
        written = _write_pages(session, escalation, texted, f"manager-alert-{escalation.id}", body, now)
        first = _stamp(session, escalation, col(Escalation.paged_at), now)
        if first and not (written or by_email):
            _nobody_to_page(session, escalation, {"reason": "no manager with a phone or an email to alert"}, now)
        emails = [(p.email, p.id) for p in by_email if p.email] if first else []
    outbox.enqueue(written)
    _email(emails, subject, body, escalation_id, 1)
    return len(written)


def _prefers_email(person: StaffUser) -> bool:
    """A manager alerted by email: who asked for it, or who has no phone."""
    return bool(person.email) and (person.alert_by == "email" or not person.phone)


def _write_pages(
    session: Session, escalation: Escalation, people: list[StaffUser], key: str, body: str, now: datetime
) -> list[int]:
    """One page row per person, keyed `<key>-<staff id>` so a rerun writes none twice; the ids written."""
    sender = _sender(session, escalation)
    written = []
    for person in people:
        row = outbox.queue_text(
            session,
            key=f"{key}-{person.id}",
            to=person.phone or "",
            from_=sender,
            body=body,
            kind=MessageKind.PAGE,
            escalation_id=escalation.id,
            practice_id=escalation.practice_id,
            staff_user_id=person.id,
            now=now,
        )
        if row is not None:
            written.append(row.id)
    return written


def _stamp(session: Session, escalation: Escalation, column, now: datetime) -> bool:
    """Set the round's time on the escalation; True for the one run that did (only it sends the email)."""
    stamped = session.exec(
        update(Escalation).where(col(Escalation.id) == escalation.id, column.is_(None)).values({column: now})
    )
    return stamped.rowcount == 1


def _nobody_to_page(session: Session, escalation: Escalation, detail: dict, now: datetime) -> None:
    session.add(
        AuditEvent(
            practice_id=escalation.practice_id,
            actor="system",
            action="page_failed",
            subject_type="escalation",
            subject_id=escalation.id,
            detail=detail,
            created_at=now,
        )
    )


def _complaint_text(session: Session, escalation: Escalation) -> tuple[str, str]:
    """(text, email subject) of a complaint alert: who, about which visit, where to read it."""
    patient = session.get(Patient, escalation.patient_id) if escalation.patient_id else None
    practice = session.get(Practice, escalation.practice_id) if escalation.practice_id else None
    who = _who(patient)
    link = ""
    base = runtime.settings().public_base_url
    if base and patient is not None:
        link = f" {base.rstrip('/')}/patients/{patient.id}"
    body = (
        f"COMPLAINT #{escalation.id}{' at ' + practice.name if practice else ''}: {who}{_treatment(session, patient, escalation)} "
        f"is unhappy and was told a manager will reach out. Marketing texts are on hold.{link}"
    )
    return body, f"Complaint #{escalation.id}: {who} is unhappy"


def _who(patient: Patient | None) -> str:
    if patient is None or not patient.first_name:
        return "A patient"
    return patient.first_name.strip().split()[0] + (f" {patient.last_name.strip()[0]}." if patient.last_name else "")


def _treatment(session: Session, patient: Patient | None, escalation: Escalation) -> str:
    if patient is None:
        return ""
    visit = session.exec(
        select(Service.name, Appointment.start_at)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(Appointment.patient_id == patient.id, Appointment.status == AppointmentStatus.COMPLETED)
        .order_by(col(Appointment.start_at).desc())
    ).first()
    if visit is None:
        return ""
    days = max(0, (to_utc(escalation.created_at) - to_utc(visit[1])).days)
    return f" ({visit[0]}, day {days})"


def recipients(
    session: Session,
    escalation: Escalation,
    round_: int,
    now: datetime | None = None,
    location: Location | None = None,
) -> list[StaffUser]:
    """Who a round pages: on-call (and backup for an emergency) first; backup and managers on the re-page.
    The on-call roster decides who is on call and backup at this moment and place (bot.staff.roster;
    `location` names the place, else the escalation's own); where it is silent, the standing flags do."""
    staff = session.exec(
        select(StaffUser)
        .where(StaffUser.practice_id == escalation.practice_id, StaffUser.active == True)  # noqa: E712
        .order_by(col(StaffUser.id))
    ).all()
    duty = roster.on_duty(session, escalation, now or runtime.clock().now(), location)
    place = location if location is not None else roster.escalation_location(session, escalation)
    # The standing flags and the managers count only where a person works: someone limited to other
    # locations is not paged for this one, unless nobody who works here could be.
    here = [s for s in staff if _works_at(s, place)]

    def standing(flag) -> list[StaffUser]:
        return [s for s in here if flag(s)] or [s for s in staff if flag(s)]

    managers = standing(lambda s: s.role == Role.MANAGER)
    on_call = duty.on_call if duty is not None and duty.on_call else standing(lambda s: s.on_call)
    backup = duty.backup if duty is not None and duty.backup else standing(lambda s: s.backup)
    if round_ == 1:
        chosen = list(on_call)
        if not any(s.phone for s in chosen):
            chosen += managers  # nobody on call: the managers are
        if escalation.urgency == Urgency.EMERGENCY:
            chosen += backup
    else:
        chosen = list(backup) + managers
    unique = list({s.id: s for s in chosen}.values())
    return [s for s in unique if s.phone or s.email]


def _works_at(person: StaffUser, place: Location | None) -> bool:
    """Whether a staff member works where an escalation belongs (anywhere, when it belongs nowhere)."""
    places = scope.places_of(person)
    return place is None or places is None or place.id in places


def page_text(session: Session, escalation: Escalation, round_: int) -> tuple[str, str]:
    """(text, email subject) of a page: urgency, who, what raised it, where to act."""
    patient = session.get(Patient, escalation.patient_id) if escalation.patient_id else None
    practice = session.get(Practice, escalation.practice_id) if escalation.practice_id else None
    who = _who(patient)
    treatment = _treatment(session, patient, escalation)
    reason = _reason_words(escalation.reason)
    level = escalation.urgency.upper()
    again = "STILL OPEN, " if round_ > 1 else ""
    link = ""
    base = runtime.settings().public_base_url
    if base and patient is not None:
        link = f" {base.rstrip('/')}/patients/{patient.id}"
    action = (
        "Call the patient now." if escalation.urgency == Urgency.EMERGENCY else "Please call the patient back soon."
    )
    body = (
        f"{again}{level} #{escalation.id}{' at ' + practice.name if practice else ''}: {who}{treatment} "
        f"wrote about {reason}. {action}{link} Reply ACK {escalation.id} to take it."
    )
    subject = f"{again}{level} #{escalation.id}: {who} needs a call back"
    return body, subject


def _reason_words(reason: str | None) -> str:
    """'redflag:vascular_occlusion' as 'signs of possible vascular occlusion'; an intent as plain words."""
    reason = reason or ""
    if reason.startswith("redflag:"):
        return "signs of possible " + reason.split(":", 1)[1].replace("_", " ")
    if reason.startswith("freetext_opt_out+redflag:"):
        return "signs of possible " + reason.split(":", 1)[1].replace("_", " ") + " (and opted out of texts)"
    return {"side_effect_concern": "a possible side effect"}.get(
        reason, reason.replace("_", " ") or "a possible side effect"
    )


def _sender(session: Session, escalation: Escalation) -> str:
    """Page from the number the patient wrote to, else the practice's."""
    if escalation.message_id:
        message = session.get(Message, escalation.message_id)
        if message is not None and message.to_number:
            return message.to_number
    practice = session.get(Practice, escalation.practice_id) if escalation.practice_id else None
    return (practice.phone if practice else None) or runtime.settings().twilio_from_number or ""


def _email(recipients_: list[tuple[str, int]], subject: str, body: str, escalation_id: int, round_: int) -> None:
    for address, staff_id in recipients_:
        try:
            mailer.send(runtime.settings(), address, subject, body)
        except TransportError as error:  # the text page still goes; email is the second channel
            log.warning("page %s/%s email to staff %s failed: %s", escalation_id, round_, staff_id, error)


def sweep(now: datetime | None = None) -> dict:
    """Page escalations whose page job was lost, and re-page the ones nobody took in time (every tick)."""
    now = to_utc(now or runtime.clock().now())
    after = runtime.settings().repage_after
    with session_scope(runtime.db_url()) as session:
        unpaged = list(
            session.exec(
                select(Escalation.id).where(
                    col(Escalation.urgency).in_(PAGING_URGENCIES),
                    col(Escalation.paged_at).is_(None),
                    Escalation.status == EscalationStatus.OPEN,
                    Escalation.created_at < now - PAGE_GRACE,
                )
            )
        )
        stale = list(
            session.exec(
                select(Escalation.id).where(
                    col(Escalation.urgency).in_(PAGING_URGENCIES),
                    Escalation.status == EscalationStatus.OPEN,
                    col(Escalation.paged_at).is_not(None),
                    col(Escalation.repaged_at).is_(None),
                    col(Escalation.paged_at) <= now - after,
                )
            )
        )
        unalerted = list(
            session.exec(
                select(Escalation.id).where(
                    Escalation.reason == COMPLAINT,
                    col(Escalation.paged_at).is_(None),
                    Escalation.created_at < now - outbox.QUEUED_GRACE,
                )
            )
        )
    for escalation_id in unalerted:
        enqueue_alert(escalation_id)
    for escalation_id in unpaged:
        enqueue(escalation_id, 1)
    for escalation_id in stale:
        enqueue(escalation_id, 2)
    return {"paged": len(unpaged), "repaged": len(stale)}


def acknowledge(session: Session, escalation: Escalation, staff_id: int, now: datetime, via: str) -> None:
    """Staff take an escalation: it stops being re-paged and shows who has it; the audit log keeps who and how."""
    escalation.status, escalation.acknowledged_at, escalation.acknowledged_by = (
        EscalationStatus.ACKNOWLEDGED,
        now,
        staff_id,
    )
    escalation.assigned_staff_id = escalation.assigned_staff_id or staff_id
    session.add(escalation)
    session.add(
        AuditEvent(
            practice_id=escalation.practice_id,
            actor=f"staff:{staff_id}",
            action="escalation_acknowledged",
            subject_type="escalation",
            subject_id=escalation.id,
            detail={"via": via},
            created_at=now,
        )
    )


def staff_acknowledgement(session: Session, message: Message) -> bool:
    """Handle a text from a staff member's phone ("ACK 42"); True when it was one (it never reaches the classifier).

    A staff member who is also a patient and writes anything but an ACK is handled as the patient.
    """
    staff = session.exec(
        select(StaffUser).where(StaffUser.phone == message.from_number, col(StaffUser.active).is_(True))
    ).all()
    if not staff:
        return False
    match = ACK.match(message.body or "")
    if not match and patients_for_inbound(session, message.from_number, message.to_number):
        return False  # staff are patients too: anything but an ACK is read as the patient's text
    now = runtime.clock().now()
    actions: list[str] = []
    record = {"intent": "staff", "path": "staff", "actions": actions}
    if match:
        person_ids = [s.id for s in staff]
        query = select(Escalation).where(
            col(Escalation.practice_id).in_([s.practice_id for s in staff]), Escalation.status == EscalationStatus.OPEN
        )
        if match.group(1):
            query = query.where(Escalation.id == int(match.group(1)))
        else:  # the latest escalation this person was paged about
            paged = select(Message.escalation_id).where(
                col(Message.staff_user_id).in_(person_ids),
                Message.kind == MessageKind.PAGE,
                Message.to_number == message.from_number,
            )
            latest = session.exec(paged.order_by(col(Message.id).desc()).limit(1)).first()
            query = query.where(Escalation.id == (latest if latest is not None else -1))
        escalation = session.exec(query).first()
        if escalation is not None:
            person = next(s for s in staff if s.practice_id == escalation.practice_id)
            acknowledge(session, escalation, person.id, now, via="sms")
            actions.append(f"acknowledged:{escalation.id}")
            log.info(
                "escalation %s acknowledged by staff %s from %s", escalation.id, person.id, mask(message.from_number)
            )
    message.practice_id = staff[0].practice_id
    message.decision = record
    message.processed_at = now
    session.add(message)
    return True
