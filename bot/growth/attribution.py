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
from functools import partial

from sqlalchemy import and_, case, exists, func, or_, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.growth.ab import Result, two_proportion
from bot.growth.answers import ANSWER_WINDOW
from bot.growth.matrix import Matrix
from bot.metrics.sql import Where, at_location, visited
from bot.vocabulary import AppointmentStatus, Direction, OfferStatus, TouchStatus
from store import scope
from store.models import Appointment, Message, Offer, Service, Touch
from store.money import cents_sum, from_cents
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


DEFINITIONS = {
    "offer_acceptance": "Offers made in the period (when the offer was planned) and what came of them: sent "
    "(reached the patient, as a text or inside a booking reply), replied (any text back within 3 days), "
    "accepted (a yes), declined (a no), booked (the offered service booked within 60 days, an add-on said yes "
    "to on a visit ahead, a retail item sold), revenue (the booked visit's price, the add-on's price, the "
    "retail sales recorded against it; exact cents). Acceptance is accepted over sent. Held back: planned but "
    "stopped by a sending rule (consent, quiet hours, caps, suppression, the kill switch). With a location "
    "picked: offers about a visit there (an offer without a visit: its patient had a visit there).",
    "offer_flagged": "Pairings (primary service to item) whose answers were no more often than the matrix's "
    "decline rate (75 %) over at least its minimum sample (20 answers) in the period: worth changing.",
}
"""What the offer figures mean, in the words their tooltips use (the Numbers page and Growth, Offer results)."""


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


@dataclass
class Results:
    total: Tally
    by_pairing: dict[tuple[str, str], Tally]
    by_moment: dict[str, Tally]
    by_segment: dict[str, Tally]
    by_version: dict[int, Tally]
    flagged: list[tuple[tuple[str, str], Tally]]
    experiments: dict[str, Result]


def _sent():
    return and_(col(Offer.status) != OfferStatus.HELD, col(Offer.sent_at).is_not(None))


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _about(location_id: Where):
    """Offers about a visit at the location(s) (without a visit: of a patient who had one there); all without."""
    if location_id is None:
        return true()
    return or_(
        and_(
            col(Offer.appointment_id).is_not(None),
            exists(
                sa_select(col(Appointment.id)).where(
                    col(Appointment.id) == col(Offer.appointment_id),
                    at_location(Appointment.location_id, location_id),
                )
            ),
        ),
        and_(col(Offer.appointment_id).is_(None), visited(col(Offer.patient_id), location_id)),
    )


def tallies(
    session: Session,
    practice_id: int,
    by: tuple = (),
    since: datetime | None = None,
    until: datetime | None = None,
    location_id: Where = None,
    places: Places = None,
) -> dict[tuple, Tally]:
    """The funnel of the practice's offers made in [since, until), grouped by the columns `by`: one SQL query,
    the same on SQLite and PostgreSQL, money summed in whole cents. Keys are tuples of the group's values.
    `location_id` is the location filter picked (bot.metrics.sql.Where); `places` the staff member's own
    limit to some locations (store.scope), applied whatever is picked."""
    sent = _sent()
    query = (
        sa_select(
            *by,
            _count(sent),
            _count(and_(sent, col(Offer.replied_at).is_not(None))),
            _count(and_(sent, col(Offer.accepted_at).is_not(None))),
            _count(and_(sent, col(Offer.declined_at).is_not(None))),
            _count(and_(sent, col(Offer.booked_at).is_not(None))),
            _count(col(Offer.status) == OfferStatus.HELD),
            cents_sum(case((sent, col(Offer.revenue)), else_=None)),
        )
        .where(
            col(Offer.practice_id) == practice_id,
            col(Offer.created_at) >= since if since is not None else true(),
            col(Offer.created_at) < until if until is not None else true(),
            _about(location_id),
            scope.rule(Offer, places),
        )
        .group_by(*by)
    )
    found: dict[tuple, Tally] = {}
    width = len(by)
    for row in session.execute(query):
        key, (n_sent, replied, accepted, declined, booked, held, cents) = tuple(row[:width]), row[width:]
        found[key] = Tally(n_sent, replied, accepted, declined, booked, held, from_cents(cents))
    return found


def _one(groups: dict[tuple, Tally]) -> dict:
    return {key[0]: tally for key, tally in sorted(groups.items(), key=lambda kv: str(kv[0][0]))}


def results(
    session: Session,
    practice_id: int,
    table: Matrix,
    since: datetime | None = None,
    until: datetime | None = None,
    location_id: Where = None,
    places: Places = None,
) -> Results:
    """The funnel by pairing (primary service -> item), moment, segment and matrix version, the pairings
    declined more than the matrix's flags.decline_rate over at least flags.min_sample answers, and each
    moment's A/B test: one SQL query per grouping (`tallies`), for the offers made in [since, until) (all
    when not given), about the location when one is given, over the offers to the patients of `places` when
    the staff member is limited to some locations (store.scope)."""
    tally = partial(tallies, session, practice_id, since=since, until=until, location_id=location_id, places=places)
    total = tally(()).get((), Tally())
    pairing = dict(sorted(tally((col(Offer.primary), col(Offer.item))).items()))
    moment = _one(tally((col(Offer.moment),)))
    segment = _one(tally((func.coalesce(col(Offer.segment), "unknown"),)))
    version = dict(sorted((key[0], t) for key, t in tally((col(Offer.matrix_version),)).items()))
    arms: dict[str, dict[str, Tally]] = defaultdict(dict)
    for (name, arm), found in tally((col(Offer.moment), col(Offer.variant))).items():
        arms[name][arm] = found
    rate, minimum = table.setting("flags", "decline_rate"), table.setting("flags", "min_sample")
    flagged = [
        (key, tally)
        for key, tally in pairing.items()
        if tally.accepted + tally.declined >= minimum and tally.decline_rate > rate
    ]
    experiments = {
        name: two_proportion(v.get("a", Tally()).sent, v.get("a", Tally()).accepted, v["b"].sent, v["b"].accepted)
        for name, v in sorted(arms.items())
        if "b" in v
    }
    return Results(total, pairing, moment, segment, version, flagged, experiments)
