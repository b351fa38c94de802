"""Which offer a patient gets at a moment, and making it: the Offer row and the touch that carries it.

The choice reads the matrix and the patient's history: an add-on not already on the visit nor declined
lately (one they took before first); a follow-up service they have not had (never an introductory offer
for something already had, unless the matrix marks it `repeat`); a retail pairing not taken lately; the
package at rebooking; the practice's VIP, return and goal offers. The touch is an ordinary `offers` plan
touch (marketing), so every sending rule applies to it as to any other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from bot.clock import to_utc
from bot.growth.matrix import Entry, Item, Matrix, at_version
from bot.touches.plans import OFFERS, PlanBook
from bot.vocabulary import AppointmentStatus, OfferMoment, OfferStatus, TouchStatus
from store.models import Appointment, Offer, Patient, Service, Touch

RECENT = timedelta(days=180)
"""An item declined or offered within this long is not offered again (at another moment either)."""

BRANDS = ("Botox", "HydraFacial", "SPF", "LED", "PRP", "IPL", "Halo", "VIP", "CoolSculpting")
"""Words an offer keeps capitalised mid-sentence."""


@dataclass(frozen=True)
class Choice:
    """What to offer, from which row of the matrix."""

    primary: str
    kind: str  # add_on | retail | follow_up | package | vip | return | goal
    item: Item


@dataclass
class History:
    """What the choice needs to know about a patient: services had, and offers made before."""

    services: list[Service]
    offers: list[Offer]

    def had(self, item: Item) -> bool:
        return any(item.matches(service) for service in self.services)

    def offered_lately(self, name: str, now: datetime) -> bool:
        return any(o.item == name and to_utc(o.created_at) > now - RECENT for o in self.offers)

    def declined_lately(self, name: str, now: datetime) -> bool:
        return any(
            o.item == name and o.declined_at is not None and to_utc(o.declined_at) > now - RECENT for o in self.offers
        )

    def accepted(self, name: str) -> bool:
        return any(o.item == name and o.accepted_at is not None for o in self.offers)


def history(session: Session, patient_id: int) -> History:
    """The services a patient has completed, and every offer made to them."""
    services = list(
        session.exec(
            select(Service)
            .join(Appointment, col(Appointment.service_id) == Service.id)
            .where(Appointment.patient_id == patient_id, Appointment.status == AppointmentStatus.COMPLETED)
        )
    )
    offers = list(session.exec(select(Offer).where(Offer.patient_id == patient_id)))
    return History(services, offers)


def choose(moment: str, entry: Entry | None, table: Matrix, past: History, now: datetime, visit=None, goal=None):
    """The one offer for this moment, or None when nothing fits (the reason is the moment's: nothing to offer)."""
    if moment in (OfferMoment.REACTIVATION_VIP, OfferMoment.REACTIVATION_NEW):
        key = "vip_offer" if moment == OfferMoment.REACTIVATION_VIP else "new_offer"
        return Choice(entry.key if entry else "any", "return", table.offer_item("reactivation", key))
    if moment == OfferMoment.REFERRAL:
        item = table.offer_item("referral", "offer")
        return None if past.offered_lately(item.name, now) else Choice(entry.key if entry else "any", "vip", item)
    if moment == OfferMoment.GOAL_CHANGE:
        item = table.settings["goals"].get(goal or "")
        return Choice(entry.key if entry else "any", "goal", item) if item is not None else None
    if entry is None:
        return None
    if moment in (OfferMoment.PRE_VISIT, OfferMoment.AT_BOOKING):
        on_visit = {a.get("item") for a in (visit.add_ons or [])} if visit is not None else set()
        fits = [i for i in entry.add_ons if i.name not in on_visit and not past.declined_lately(i.name, now)]
        fits.sort(key=lambda i: not past.accepted(i.name))  # one they took before comes first
        return Choice(entry.key, "add_on", fits[0]) if fits else None
    if moment == OfferMoment.VISIT_SUMMARY:
        fits = [i for i in entry.retail if not past.offered_lately(i.name, now)]
        return Choice(entry.key, "retail", fits[0]) if fits else None
    if moment == OfferMoment.REBOOKING:
        package = entry.package
        if package is None or past.offered_lately(package.name, now) or past.accepted(package.name):
            return None
        return Choice(entry.key, "package", package)
    # history, after results and staff picks: the follow-up service that fits what they have done
    for item in entry.follow_up:
        if past.had(item) and not item.repeat:
            continue  # never an introductory offer for something already had
        if past.offered_lately(item.name, now):
            continue
        return Choice(entry.key, "follow_up", item)
    return None


def variant(book: PlanBook, moment: str, practice_id: int, patient_id: int) -> tuple[str, str]:
    """(variant, step key): "b" for half the patients, the same half every time, when the plan has a `<moment>_b`
    step; "a" and the moment's own step otherwise."""
    if book.step(OFFERS, f"{moment}_b") is None:
        return "a", moment
    digest = hashlib.sha256(f"{practice_id}:{moment}:{patient_id}".encode()).digest()
    return ("b", f"{moment}_b") if digest[0] % 2 else ("a", moment)


def make(
    session: Session,
    book: PlanBook,
    table: Matrix,
    patient: Patient,
    appointment: Appointment | None,
    moment: str,
    choice: Choice,
    due: datetime,
    now: datetime,
    segment: str | None,
    created_by: str = "system",
) -> Offer:
    """The offer and its touch (scheduled at `due`; the sender's rules decide when, or whether, it goes)."""
    arm, step = variant(book, moment, patient.practice_id, patient.id)
    plan_step = book.step(OFFERS, step)
    purpose = plan_step.purpose if plan_step is not None else "upsell"
    touch = Touch(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        appointment_id=appointment.id if appointment is not None else None,
        plan=OFFERS,
        step=step,
        purpose=purpose,
        marketing=True,
        due_at=max(due, now),
        status=TouchStatus.SKIPPED if patient.opted_out_at is not None else TouchStatus.SCHEDULED,
        reason="opted_out" if patient.opted_out_at is not None else None,
        created_at=now,
        updated_at=now,
    )
    session.add(touch)
    session.flush()
    offer = Offer(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        touch_id=touch.id,
        appointment_id=touch.appointment_id,
        moment=moment,
        primary=choice.primary,
        kind=choice.kind,
        item=choice.item.name,
        item_code=choice.item.code or (f"category:{choice.item.category}" if choice.item.category else None),
        price=choice.item.price,
        matrix_version=table.version,
        variant=arm,
        segment=segment,
        status=OfferStatus.PLANNED,
        created_by=created_by,
        created_at=now,
    )
    session.add(offer)
    session.flush()
    return offer


def phrase(item: str) -> str:
    """An item as it reads mid-sentence: "Lip flip" -> "lip flip", "HydraFacial" stays."""
    first = item.split(" ", 1)[0]
    if first in BRANDS or first[1:2].isupper() or any(c.isupper() for c in first[1:]):
        return item
    return item[:1].lower() + item[1:]


PRICE_WORD = {"en": "for", "es": "por"}
"""How a price follows the item in each language: "lip flip for $150", "lip flip por $150"."""


def price_text(price) -> str:
    """A price as a text says it: "$150", "$149.50", "$1,250"."""
    amount = Decimal(str(price)).quantize(Decimal("0.01"))
    whole = amount == amount.to_integral_value()
    return f"${amount:,.0f}" if whole else f"${amount:,.2f}"


def label(session: Session, offer: Offer, language: str) -> str:
    """The offer's item as a text in `language` names it mid-sentence: its Spanish name in the matrix version
    the offer came from when it has one ("lifting de cejas"), else the item's own name ("brow lift")."""
    if language == "en":
        return phrase(offer.item)
    return phrase(at_version(session, offer.practice_id, offer.matrix_version).label(offer.item, language))


def placeholders(offer: Offer | None, language: str = "en", named: str | None = None) -> dict:
    """The {offer} and {offer_for_price} values of an offer touch (nothing for other touches: the composer's
    fallbacks stay); `named` is the item as `label` gives it in `language` (else the item's own name)."""
    if offer is None:
        return {}
    price = f" {PRICE_WORD.get(language, 'for')} {price_text(offer.price)}" if offer.price else ""
    return {"offer": named or phrase(offer.item), "offer_for_price": price}
