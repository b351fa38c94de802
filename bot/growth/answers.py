"""A patient's yes or no to an offer: a yes adds an add-on to the visit (or to the front desk's request) and
records the revenue; any other yes becomes an inbox item for the team; a no is recorded, so the item is not
offered again for a while (bot.growth.offers.RECENT) and the pairing's decline rate counts it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.booking import picks
from bot.clock import local_zone, to_utc
from bot.growth.offers import label
from bot.touches import composer
from bot.vocabulary import AppointmentStatus, Direction, OfferStatus, TouchStatus
from store.models import Appointment, Location, Message, Offer, Practice, Touch

ANSWER_WINDOW = timedelta(days=3)
"""A bare yes or no this long after an offer answers it."""

OPEN = (OfferStatus.PLANNED, OfferStatus.SENT, OfferStatus.REPLIED)
"""Offers not answered yet."""

_ADD = re.compile(
    r"^(?:(?:yes|si|ok|okay|sure|please|por favor) )?(?:add|add it|add that|add me|agregar|agregalo|agregala|agregame|"
    r"agreguelo|anadir|anadelo|anadela|sumalo)(?: (?:it|please|pls|thanks|thank you|por favor|porfa|gracias))*$"
)
"""The words an offer asks for ("Reply ADD", "Responde AGREGAR"), accents and case aside."""


def says_add(body: str) -> bool:
    """ "ADD", "add it please", "Agrégalo", "sí, agregar": a yes to an offer in the words the offer asked for."""
    return bool(_ADD.match(picks.plain(body)))


def accepts(body: str) -> bool:
    """A yes to an offer: a bare yes in English or Spanish ("yes", "sí", "si", "SÍ") or the offer's ADD."""
    return picks.says_yes(body) or says_add(body)


def open_offer(session: Session, patient_id: int, now: datetime) -> Offer | None:
    """The latest offer texted to the patient within ANSWER_WINDOW and not answered yet."""
    since = now - ANSWER_WINDOW
    by_touch = session.exec(
        select(Offer)
        .join(Touch, col(Touch.id) == Offer.touch_id)
        .where(
            Offer.patient_id == patient_id,
            col(Offer.status).in_(OPEN),
            Touch.status == TouchStatus.SENT,
            col(Touch.sent_at) >= since,
        )
        .order_by(col(Touch.sent_at).desc())
    ).first()
    if by_touch is not None:
        return by_touch
    return session.exec(  # offered inside a reply (a booking by text): no touch
        select(Offer)
        .where(
            Offer.patient_id == patient_id,
            col(Offer.status).in_(OPEN),
            col(Offer.touch_id).is_(None),
            col(Offer.sent_at) >= since,
        )
        .order_by(col(Offer.sent_at).desc())
    ).first()


def texted_since(session: Session, offer: Offer) -> bool:
    """Whether another text went to the patient after the one that carried the offer."""
    touch = session.get(Touch, offer.touch_id) if offer.touch_id else None
    if touch is None or touch.message_id is None:
        return False
    return (
        session.exec(
            select(Message.id).where(
                Message.patient_id == offer.patient_id,
                Message.direction == Direction.OUT,
                col(Message.id) > touch.message_id,
            )
        ).first()
        is not None
    )


def sent_at(session: Session, offer: Offer) -> datetime | None:
    """When the offer reached the patient (its touch's send time, or its own for an offer inside a reply)."""
    touch = session.get(Touch, offer.touch_id) if offer.touch_id else None
    moment = touch.sent_at if touch is not None and touch.sent_at else offer.sent_at
    return to_utc(moment) if moment else None


def when_text(session: Session, visit: Appointment, language: str) -> str:
    """The visit's day and time as the patient reads it."""
    location = session.get(Location, visit.location_id) if visit.location_id else None
    practice = session.get(Practice, visit.practice_id)
    text = composer.visit_time(visit.start_at, local_zone(location, practice), language)
    return text.removeprefix("el ") if language == "es" else text


def accept(session: Session, offer: Offer, now: datetime, booking_mode: str) -> tuple[str, Appointment | None, str]:
    """Record a yes; (reply kind, the visit it changed, the note for the front desk)."""
    offer.status, offer.accepted_at, offer.replied_at = OfferStatus.ACCEPTED, now, offer.replied_at or now
    session.add(offer)
    visit = session.get(Appointment, offer.appointment_id) if offer.appointment_id else None
    ahead = (
        visit is not None
        and visit.status in (AppointmentStatus.BOOKED, AppointmentStatus.REQUESTED)
        and to_utc(visit.start_at) > now
    )
    price = f" (${offer.price})" if offer.price else ""
    if offer.kind == "add_on" and ahead and visit is not None:
        added = {
            "item": offer.item,
            "price": str(offer.price) if offer.price is not None else None,
            "offer_id": offer.id,
        }
        visit.add_ons = [*(visit.add_ons or []), added]  # a new list: JSON columns see reassignment only
        visit.updated_at = now
        session.add(visit)
        # Sold on a visit already booked: booked now, its own price the revenue.
        offer.status, offer.booked_at, offer.booked_appointment_id = OfferStatus.BOOKED, now, visit.id
        offer.revenue = offer.price
        note = f"Add-on said yes to by text: {offer.item}{price} for the visit of {to_utc(visit.start_at):%Y-%m-%d %H:%M} UTC."
        if booking_mode == "direct" and visit.status == AppointmentStatus.BOOKED:
            return "offer_added", visit, note
        return "offer_requested", visit, note + " Add it in the practice system."
    # A retail item said yes to is set aside, not sold: its revenue is the sale staff record (bot.growth.retail).
    after = " Record the sale on the patient's page when it is bought." if offer.kind == "retail" else ""
    return (
        "offer_noted",
        None,
        f"Said yes by text to {offer.item}{price} ({offer.moment.replace('_', ' ')} offer). "
        f"Follow up to book or sell it.{after}",
    )


def decline(session: Session, offer: Offer, now: datetime) -> None:
    """Record a no."""
    offer.status, offer.declined_at, offer.replied_at = OfferStatus.DECLINED, now, offer.replied_at or now
    session.add(offer)


def described(session: Session, offer: Offer, language: str = "en") -> str:
    """The item as the reply names it, in the reply's language (see `bot.growth.offers.label`)."""
    return label(session, offer, language)
