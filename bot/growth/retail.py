"""Retail sold at the desk: staff record what a patient bought (SPF, a serum) and for how much, against the
retail offer it answers, so that a retail pairing's revenue is what was sold, not a patient's yes.

A sale names its offer, or is matched to the patient's latest retail offer of that item sent within
attribution.BOOKED_WINDOW (60 days) before the sale; a sale that answers no offer is kept for the patient
and counts for no pairing. An offer with sales is booked (bought), accepted if it was not yet (buying is a
yes), and its revenue is the sum of its sales in exact cents.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, func, select

from bot.clock import to_utc
from bot.growth.attribution import BOOKED_WINDOW
from bot.vocabulary import OfferStatus
from store.models import Offer, Patient, RetailSale
from store.money import cents_sum, from_cents, to_money

MAX_AMOUNT = Decimal("10000.00")
"""The most one retail sale may be (a typo guard: a serum is not $35,000)."""


class SaleError(ValueError):
    """A sale that cannot be recorded; the message says which field and why."""


def amount_of(text: str | None) -> Decimal:
    """A price as staff type it ("38", "$38.50", "1,200.00") as exact cents; SaleError when it is not one."""
    raw = (text or "").strip().removeprefix("$").replace(",", "").strip()
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise SaleError(f"amount: {text!r} is not a price (write it like 38.50)") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise SaleError(f"amount: {text!r} must be dollars and cents (at most two decimals)")
    if amount <= 0 or amount > MAX_AMOUNT:
        raise SaleError(f"amount: must be more than $0 and at most ${MAX_AMOUNT:,.2f}")
    return to_money(amount) or Decimal("0.00")


def retail_offers(session: Session, patient: Patient) -> list[Offer]:
    """The patient's retail offers that reached them, newest first (what a sale may be recorded against)."""
    return list(
        session.exec(
            select(Offer)
            .where(
                Offer.practice_id == patient.practice_id,
                Offer.patient_id == patient.id,
                Offer.kind == "retail",
                col(Offer.sent_at).is_not(None),
            )
            .order_by(col(Offer.sent_at).desc(), col(Offer.id).desc())
        )
    )


def _matching(session: Session, patient: Patient, item: str, sold_at: datetime) -> Offer | None:
    wanted = item.strip().casefold()
    for offer in retail_offers(session, patient):
        sent = to_utc(offer.sent_at) if offer.sent_at else None
        if offer.item.casefold() == wanted and sent is not None and sent <= sold_at <= sent + BOOKED_WINDOW:
            return offer
    return None


def record(
    session: Session,
    patient: Patient,
    item: str,
    amount: Decimal,
    sold_at: datetime,
    staff_id: int | None = None,
    offer_id: int | None = None,
    location_id: int | None = None,
) -> RetailSale:
    """Record one sale (and bring its offer's revenue up to date); SaleError when it cannot be."""
    item = " ".join((item or "").split())
    if not item or len(item) > 120:
        raise SaleError("item: name what was sold (at most 120 characters)")
    offer = None
    if offer_id is not None:
        offer = session.get(Offer, offer_id)
        if offer is None or offer.patient_id != patient.id or offer.kind != "retail":
            raise SaleError("offer: not a retail offer made to this patient")
    else:
        offer = _matching(session, patient, item, to_utc(sold_at))
    sale = RetailSale(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        offer_id=offer.id if offer is not None else None,
        location_id=location_id,
        staff_user_id=staff_id,
        item=item,
        amount=amount,
        sold_at=sold_at,
        created_at=sold_at,
    )
    session.add(sale)
    session.flush()
    if offer is not None:
        _settle(session, offer, sold_at)
    return sale


def _settle(session: Session, offer: Offer, sold_at: datetime) -> None:
    """The offer's revenue is the sum of its sales; bought means accepted and booked."""
    cents = session.exec(select(cents_sum(col(RetailSale.amount))).where(RetailSale.offer_id == offer.id)).one()
    first = session.exec(select(func.min(RetailSale.sold_at)).where(RetailSale.offer_id == offer.id)).one()
    offer.revenue = from_cents(cents)
    offer.accepted_at = offer.accepted_at or sold_at
    offer.booked_at = offer.booked_at or first or sold_at
    offer.declined_at = None  # a no by text, then a purchase at the desk: the purchase is the answer
    offer.status = OfferStatus.BOOKED
    session.add(offer)


def sales(session: Session, patient: Patient) -> list[RetailSale]:
    """The patient's recorded retail sales, newest first."""
    return list(
        session.exec(
            select(RetailSale)
            .where(RetailSale.practice_id == patient.practice_id, RetailSale.patient_id == patient.id)
            .order_by(col(RetailSale.sold_at).desc(), col(RetailSale.id).desc())
        )
    )
