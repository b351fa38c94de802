"""What came of each offer: sent, replied, accepted, declined, booked, revenue; acceptance by pairing, moment,
segment and variant; pairings declined too often; A/B results per moment.

`refresh` brings offers up to date from their touches, the texts that came back and the bookings that
followed (the worker runs it hourly; the results page runs it before reading). An offer is booked when,
within BOOKED_WINDOW of being sent, the patient books the offered service (by code or category) or, for an
offer that is not a service (a package, a return or VIP offer), any visit; its revenue is that visit's price
(an add-on said yes to: its own price).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.growth.ab import Result, two_proportion
from bot.growth.answers import ANSWER_WINDOW
from bot.growth.matrix import Matrix
from bot.vocabulary import AppointmentStatus, Direction, OfferStatus, TouchStatus
from store import scope
from store.models import Appointment, Message, Offer, Service, Touch
from store.scope import Places

BOOKED_WINDOW = timedelta(days=60)
"""A booking this long after an offer counts as booked because of it."""

NOT_SENT = (TouchStatus.SKIPPED, TouchStatus.SUPPRESSED, TouchStatus.FAILED)
"""Touch outcomes that mean the offer never reached the patient."""

CATEGORY = "category:"
"""Offer.item_code prefix naming a service category rather than a code."""


def refresh(session: Session, practice_id: int, now: datetime) -> int:
    """Bring the practice's offers up to date; returns how many changed."""
    changed = 0
    rows = session.exec(
        select(Offer, Touch)
        .outerjoin(Touch, col(Touch.id) == Offer.touch_id)
        .where(Offer.practice_id == practice_id, col(Offer.status).not_in((OfferStatus.HELD, OfferStatus.BOOKED)))
    ).all()
    for offer, touch in rows:
        before = (offer.status, offer.sent_at, offer.replied_at, offer.booked_at)
        if touch is not None and offer.sent_at is None:
            if touch.status == TouchStatus.SENT and touch.sent_at is not None:
                offer.sent_at = touch.sent_at
                offer.status = OfferStatus.SENT if offer.status == OfferStatus.PLANNED else offer.status
            elif touch.status in NOT_SENT and offer.status == OfferStatus.PLANNED:
                offer.status = OfferStatus.HELD
        if offer.sent_at is not None:
            sent = to_utc(offer.sent_at)
            if offer.replied_at is None:
                first = session.exec(
                    select(Message.created_at)
                    .where(
                        Message.patient_id == offer.patient_id,
                        Message.direction == Direction.IN,
                        Message.created_at > sent,
                        Message.created_at <= sent + ANSWER_WINDOW,
                    )
                    .order_by(col(Message.created_at))
                ).first()
                if first is not None:
                    offer.replied_at = first
                    if offer.status == OfferStatus.SENT:
                        offer.status = OfferStatus.REPLIED
            if offer.booked_at is None and offer.status != OfferStatus.DECLINED:
                booking = _booking_after(session, offer, sent, now)
                if booking is not None:
                    offer.booked_at, offer.booked_appointment_id = booking.created_at, booking.id
                    offer.revenue = offer.revenue or _money(booking.price)
                    offer.status = OfferStatus.BOOKED
        if (offer.status, offer.sent_at, offer.replied_at, offer.booked_at) != before:
            session.add(offer)
            changed += 1
    session.flush()
    return changed


def _money(value) -> Decimal | None:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None


def _booking_after(session: Session, offer: Offer, sent: datetime, now: datetime) -> Appointment | None:
    query = (
        select(Appointment)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(
            Appointment.patient_id == offer.patient_id,
            col(Appointment.status).in_((AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)),
            Appointment.created_at > sent,
            Appointment.created_at <= min(sent + BOOKED_WINDOW, now),
        )
        .order_by(col(Appointment.created_at))
    )
    if offer.kind in ("add_on", "retail"):
        return None  # sold on the visit, not booked: counted when said yes to
    code = offer.item_code
    if code and code.startswith(CATEGORY):
        query = query.where(Service.category == code.removeprefix(CATEGORY))
    elif code:
        query = query.where(Service.code == code)
    elif offer.kind == "follow_up":
        return None
    return session.exec(query).first()


@dataclass
class Tally:
    """One group's funnel."""

    sent: int = 0
    replied: int = 0
    accepted: int = 0
    declined: int = 0
    booked: int = 0
    held: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal("0.00"))

    @property
    def acceptance(self) -> float:
        return self.accepted / self.sent if self.sent else 0.0

    @property
    def decline_rate(self) -> float:
        answered = self.accepted + self.declined
        return self.declined / answered if answered else 0.0

    def add(self, offer: Offer) -> None:
        if offer.status == OfferStatus.HELD:
            self.held += 1
            return
        if offer.sent_at is None:
            return
        self.sent += 1
        self.replied += offer.replied_at is not None
        self.accepted += offer.accepted_at is not None
        self.declined += offer.declined_at is not None
        self.booked += offer.booked_at is not None
        self.revenue += offer.revenue or Decimal("0.00")


@dataclass
class Results:
    total: Tally
    by_pairing: dict[tuple[str, str], Tally]
    by_moment: dict[str, Tally]
    by_segment: dict[str, Tally]
    by_version: dict[int, Tally]
    flagged: list[tuple[tuple[str, str], Tally]]
    experiments: dict[str, Result]


def results(
    session: Session, practice_id: int, table: Matrix, since: datetime | None = None, places: Places = None
) -> Results:
    """Over the offers to these locations' patients when given (store.scope): the funnel by pairing (primary service -> item), moment, segment and matrix version, the pairings
    declined more than the matrix's flags.decline_rate over at least flags.min_sample answers, and each
    moment's A/B test."""
    query = select(Offer).where(Offer.practice_id == practice_id, scope.rule(Offer, places))
    if since is not None:
        query = query.where(Offer.created_at >= since)
    total = Tally()
    groups: dict[str, dict] = {name: defaultdict(Tally) for name in ("pairing", "moment", "segment", "version")}
    arms: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for offer in session.exec(query):
        total.add(offer)
        groups["pairing"][(offer.primary, offer.item)].add(offer)
        groups["moment"][offer.moment].add(offer)
        groups["segment"][offer.segment or "unknown"].add(offer)
        groups["version"][offer.matrix_version].add(offer)
        arms[offer.moment][offer.variant].add(offer)
    rate, minimum = table.setting("flags", "decline_rate"), table.setting("flags", "min_sample")
    flagged = [
        (pairing, tally)
        for pairing, tally in sorted(groups["pairing"].items())
        if tally.accepted + tally.declined >= minimum and tally.decline_rate > rate
    ]
    experiments = {
        moment: two_proportion(v["a"].sent, v["a"].accepted, v["b"].sent, v["b"].accepted)
        for moment, v in sorted(arms.items())
        if "b" in v
    }
    return Results(
        total,
        dict(sorted(groups["pairing"].items())),
        dict(sorted(groups["moment"].items())),
        dict(sorted(groups["segment"].items())),
        dict(sorted(groups["version"].items())),
        flagged,
        experiments,
    )
