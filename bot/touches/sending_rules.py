"""Whether a touch may go out now: consent, suppression, quiet hours, caps, in that order.

`load_facts` reads what the rules need from the database; `decide` is a pure
function of the touch, those facts and the time, so the sender, the preview
and the simulator all take the same decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot import runtime
from bot.clock import local_zone, to_local, to_utc
from bot.growth import rules as offer_rules
from bot.growth.offers import label as offer_label
from bot.growth.offers import placeholders as offer_placeholders
from bot.touches import caps, composer, quiet_hours
from bot.touches.plans import MISSED, NEWS, OFFERS, REBOOK_PURPOSES, UPCOMING, Step
from bot.vocabulary import AppointmentStatus, Direction, EscalationStatus, Intent, TouchStatus
from store.models import (
    Appointment,
    ConversationState,
    Escalation,
    Location,
    Message,
    Offer,
    Patient,
    Practice,
    Provider,
    Service,
    Touch,
)

SEND, SKIP, SUPPRESS, DEFER, HOLD = "send", "skip", "suppress", "defer", "hold"
"""What `decide` can say: send now, skip for good, suppress for good, try again later, or wait (as due)
until the practice's kill switch is off."""

PAUSED_REASON = "bot_paused: held while the kill switch is on"
"""The reason a touch held by the kill switch carries."""

STATUS_FOR = {SKIP: "skipped", SUPPRESS: "suppressed"}
"""The touch status each final verdict leaves."""

NOT_COMPLAINTS = ("offer.goal_changed",)
"""Handlers that read a text the classifier called negative as something else (a changed goal)."""

TEAM_TASKS = (
    "referral_booked",
    "booking_request",
    "booked_by_text",
    "offer_accepted",
    "add_on_requested",
    "goal_changed",
)
"""Inbox items that are work for the team, not a reason to hold back the patient's texts."""


@dataclass
class Verdict:
    action: str
    reason: str | None = None
    due_at: datetime | None = None
    """For DEFER: the next moment worth trying."""


@dataclass
class Facts:
    """What the rules know about one touch's patient at one moment."""

    patient: Patient | None
    """None when the touch's patient is gone (erased): the rules skip it."""
    practice: Practice | None
    appointment: Appointment | None = None
    service: Service | None = None
    provider: Provider | None = None
    location: Location | None = None
    conversation: ConversationState | None = None
    open_escalation: bool = False
    escalated_since_visit: bool = False
    complained_since_visit: bool = False
    complained_recently: bool = False
    """A complaint within the settings' complaint_hold (only looked up for marketing touches)."""
    rebooked_since: bool = False
    offer: Offer | None = None
    """An offers-plan touch's offer (bot.growth), for its moment's own rule and its {offer}."""
    offer_names: dict[str, str] = field(default_factory=dict)
    """The offer's item as each language's text names it (bot.growth.offers.label): {offer} in that language."""
    sent: list = field(default_factory=list)
    """(sent_at, marketing) of the patient's touches sent within caps.HISTORY."""

    @property
    def timezone(self) -> str:
        return local_zone(self.location, self.practice)

    def text_context(self, patient: Patient, step: Step) -> tuple[str, dict]:
        """The language a step's text is written in for this patient (else English) and the placeholders
        it is composed with, the offer's included: the sender and the preview compose alike."""
        language = patient.language if patient.language in step.text else "en"
        context = composer.context_for(
            self.practice,
            patient,
            self.service,
            self.provider,
            language,
            self.location,
            self.appointment,
            self.timezone,
        )
        named = self.offer_names.get(language)
        return language, context | offer_placeholders(
            self.offer, language, named
        )  # an offer touch's {offer}, from bot.growth

    @property
    def state(self) -> str | None:
        if self.patient is None:
            return None
        return quiet_hours.state_for(self.patient.state, self.patient.phone)


def load_facts(session: Session, touch: Touch, now: datetime) -> Facts:
    """Read the patient, visit, conversation and history a decision about `touch` needs."""
    return load_facts_many(session, [touch], now)[touch.id]


def load_facts_many(session: Session, touches: Sequence[Touch], now: datetime) -> dict[int, Facts]:
    """Facts for many touches in three queries whatever their number (the sender decides in batches)."""
    if not touches:
        return {}
    ids = [touch.id for touch in touches]
    later = aliased(Appointment)
    # A task for the team about the patient (a referral reward to apply) is not a problem with the patient.
    about_patient = col(Escalation.reason).not_in(TEAM_TASKS)
    open_escalation = exists().where(
        col(Escalation.patient_id) == col(Patient.id),
        col(Escalation.status) != EscalationStatus.RESOLVED,
        about_patient,
    )
    escalated_since = exists().where(
        col(Escalation.patient_id) == col(Patient.id),
        col(Escalation.created_at) >= col(Appointment.start_at),
        about_patient,
    )
    rebooked = exists().where(
        col(later.patient_id) == col(Patient.id),
        col(later.id) != col(Appointment.id),
        col(later.status).in_((AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED, AppointmentStatus.REQUESTED)),
        col(later.start_at) > col(Appointment.start_at),
    )
    # Eleven columns: past the typed overloads of sqlmodel's select, so SQLAlchemy's own.
    rows = session.execute(
        sa.select(
            col(Touch.id),
            Patient,
            Practice,
            Appointment,
            Service,
            Provider,
            Location,
            ConversationState,
            open_escalation.label("open_escalation"),
            escalated_since.label("escalated_since"),
            rebooked.label("rebooked"),
        )
        .select_from(Touch)
        .join(Patient, col(Patient.id) == col(Touch.patient_id))
        .join(Practice, col(Practice.id) == col(Patient.practice_id))
        .outerjoin(Appointment, col(Appointment.id) == col(Touch.appointment_id))
        .outerjoin(Service, col(Service.id) == col(Appointment.service_id))
        .outerjoin(Provider, col(Provider.id) == col(Appointment.provider_id))
        .outerjoin(Location, col(Location.id) == col(Appointment.location_id))
        .outerjoin(ConversationState, col(ConversationState.patient_id) == col(Patient.id))
        .where(col(Touch.id).in_(ids))
    ).all()
    found: dict[int, Facts] = {}
    for (
        touch_id,
        patient,
        practice,
        appointment,
        service,
        provider,
        location,
        conversation,
        is_open,
        since,
        again,
    ) in rows:
        found[touch_id] = Facts(
            patient=patient,
            practice=practice,
            appointment=appointment,
            service=service,
            provider=provider,
            location=location,
            conversation=conversation,
            open_escalation=bool(is_open),
            escalated_since_visit=bool(since) and appointment is not None,
            rebooked_since=bool(again) and appointment is not None,
        )

    offer_touches = [touch.id for touch in touches if touch.plan == OFFERS]
    offers = (
        {o.touch_id: o for o in session.exec(select(Offer).where(col(Offer.touch_id).in_(offer_touches)))}
        if offer_touches
        else {}
    )
    for touch_id, offer in offers.items():
        if touch_id in found:
            found[touch_id].offer = offer
            found[touch_id].offer_names = {language: offer_label(session, offer, language) for language in ("en", "es")}

    history: dict[int, list] = {}
    patient_ids = {touch.patient_id for touch in touches}
    for patient_id, touch_id, at, marketing in session.exec(
        select(Touch.patient_id, Touch.id, Touch.sent_at, Touch.marketing).where(
            col(Touch.patient_id).in_(patient_ids),
            Touch.status == TouchStatus.SENT,
            col(Touch.sent_at) >= now - caps.HISTORY,
        )
    ):
        if at is not None:
            history.setdefault(patient_id, []).append((touch_id, to_utc(at), marketing))

    facts_by_touch: dict[int, Facts] = {}
    for touch in touches:
        facts = found.get(touch.id) or Facts(patient=None, practice=None)
        facts.sent = [
            (at, marketing) for touch_id, at, marketing in history.get(touch.patient_id, ()) if touch_id != touch.id
        ]
        if touch.purpose == "review" and facts.appointment is not None:
            facts.complained_since_visit = _complained_since(session, touch.patient_id, facts.appointment.start_at)
        if touch.marketing:
            hold = runtime.settings().complaint_hold
            facts.complained_recently = bool(hold) and _complained_since(session, touch.patient_id, now - hold)
        facts_by_touch[touch.id] = facts
    return facts_by_touch


def _complained_since(session: Session, patient_id: int, since: datetime) -> bool:
    """Whether the patient sent a complaint (a negative_feedback decision) since `since`."""
    for decision in session.exec(
        select(Message.decision).where(
            Message.patient_id == patient_id, Message.direction == Direction.IN, Message.created_at >= since
        )
    ):
        if (
            isinstance(decision, dict)
            and decision.get("intent") == Intent.NEGATIVE_FEEDBACK
            and decision.get("handler") not in NOT_COMPLAINTS
        ):
            return True
    return False


def _local_text(moment: datetime, tz: str) -> str:
    return to_local(moment, tz).strftime("%Y-%m-%d %H:%M %Z")


def decide(touch: Touch, facts: Facts, now: datetime) -> Verdict:
    """The rules, in order: opted out, marketing consent, care consent, suppression, lateness, the kill
    switch, quiet hours, caps. A touch held by the kill switch keeps its due time: when the switch goes
    off it is sent, or skipped as too late if its moment passed meanwhile."""
    patient = facts.patient
    if patient is None or patient.opted_out_at is not None:
        return Verdict(SKIP, "opted_out")
    if touch.marketing and not patient.marketing_sms:
        return Verdict(SKIP, "no_marketing_consent")
    if not patient.care_sms:
        return Verdict(SKIP, "no_care_consent")

    conversation = facts.conversation
    if patient.flagged_at is not None:
        return Verdict(SUPPRESS, f"number_flagged: {patient.flag_reason or 'flagged'}")
    if conversation is not None and conversation.wrong_number:
        return Verdict(SUPPRESS, "wrong_number")
    if conversation is not None and conversation.takeover_until and to_utc(conversation.takeover_until) > now:
        return Verdict(SUPPRESS, "staff_takeover")
    if facts.open_escalation:
        return Verdict(SUPPRESS, "open_escalation")
    if touch.marketing and facts.complained_recently:
        return Verdict(SUPPRESS, "complaint_hold")
    if (touch.purpose in REBOOK_PURPOSES or touch.plan == MISSED) and facts.rebooked_since:
        return Verdict(SUPPRESS, "rebooked")
    if touch.plan == UPCOMING:
        visit = facts.appointment
        if visit is None or visit.status not in ("booked", "requested") or to_utc(visit.start_at) <= now:
            return Verdict(SKIP, "visit_no_longer_ahead")
    if touch.plan == OFFERS:
        moment_rule = offer_rules.check(touch, facts.offer, facts.appointment, now)
        if moment_rule is not None:
            return Verdict(*moment_rule)
    if touch.purpose == "review":
        if facts.complained_since_visit:
            return Verdict(SUPPRESS, "complained_since_visit")
        if facts.escalated_since_visit:
            return Verdict(SUPPRESS, "escalated_since_visit")
        if not (
            (facts.practice and facts.practice.review_url)
            or (facts.practice and (facts.practice.facts or {}).get("review_url"))
        ):
            return Verdict(SKIP, "no_review_url")

    due = to_utc(touch.due_at)
    if now - due > caps.LATE_LIMIT:
        return Verdict(SKIP, f"too_late: due {_local_text(due, facts.timezone)}")
    if touch.deferrals >= caps.MAX_DEFERRALS:
        return Verdict(SKIP, f"deferred_too_often ({touch.deferrals})")

    if facts.practice is not None and facts.practice.paused_at is not None:
        return Verdict(HOLD, PAUSED_REASON)

    tz, state = facts.timezone, facts.state
    window = quiet_hours.practice_window(facts.practice)
    allowed = quiet_hours.next_allowed(now, tz, window, state, touch.marketing)
    if allowed > now:
        return Verdict(
            DEFER, f"quiet_hours: deferred from {_local_text(now, tz)} to {_local_text(allowed, tz)}", allowed
        )

    if touch.plan in NEWS:  # news the patient is waiting for, once per booking: no cap holds it back
        return Verdict(SEND)
    rule = quiet_hours.STATE_RULES.get(state or "") if touch.marketing else None
    held = caps.cap_until(facts.sent, now, touch.marketing, rule.max_per_24h if rule else None)
    if held is not None:
        until, which = held
        until = quiet_hours.next_allowed(until, tz, window, state, touch.marketing)
        return Verdict(
            DEFER, f"frequency_cap ({which}): deferred from {_local_text(now, tz)} to {_local_text(until, tz)}", until
        )
    return Verdict(SEND)


def retry_delay(attempts: int) -> timedelta:
    """The wait before attempt number `attempts + 1` after a transient failure."""
    return caps.RETRY_BACKOFF[min(max(attempts - 1, 0), len(caps.RETRY_BACKOFF) - 1)]
