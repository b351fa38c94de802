"""What `aftercare simulate` says about offers: per moment and offer, how many patients would receive it
and how many are held back, with the reasons."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlmodel import Session, col, select

from bot.touches.plans import OFFERS
from bot.vocabulary import OfferMoment
from store.models import Offer

SENT, DEFERRED = "send", "defer"
"""The simulator's actions for a text that would go and one that waits (bot.touches.sending_rules)."""

TRIGGERED = (OfferMoment.AFTER_RESULTS, OfferMoment.GOAL_CHANGE, OfferMoment.AT_BOOKING, OfferMoment.STAFF_PICK)
"""Moments a patient's reply or a staff member starts: a simulation of the plans cannot foresee them."""


def summary(session: Session, events) -> list[str]:
    """Lines for the simulation's end: each moment, each offer, would receive / held back (reasons)."""
    offer_events = [e for e in events if e.plan == OFFERS]
    ids = {e.touch_id for e in offer_events}
    offers = {o.touch_id: o for o in session.exec(select(Offer).where(col(Offer.touch_id).in_(ids)))} if ids else {}
    # A touch's last event is its outcome (deferrals come before it).
    final = {e.touch_id: e for e in offer_events}
    receive: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    held: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for touch_id, event in final.items():
        offer = offers.get(touch_id)
        if offer is None:
            continue
        label = f"{offer.item} ({offer.kind}, variant {offer.variant})"
        if event.action == SENT:
            receive[offer.moment][label].add(event.patient_id)
        else:
            reason = (event.reason or event.action).split(":")[0] if event.action != DEFERRED else "still_deferred"
            held[offer.moment][label][reason] += 1
    lines = ["", "== Offers, by moment and offer: patients who would receive it / held back (reasons) =="]
    for moment in OfferMoment:
        labels = sorted(set(receive[moment]) | set(held[moment]))
        total_in = sum(len(p) for p in receive[moment].values())
        total_out = sum(sum(c.values()) for c in held[moment].values())
        note = "  (started by a reply or by staff: not foreseen by a simulation)" if moment in TRIGGERED else ""
        lines.append(f"{moment.value}: {total_in} would receive, {total_out} held back{note}")
        for label in labels:
            reasons = ", ".join(f"{why} {n}" for why, n in held[moment][label].most_common())
            lines.append(
                f"    {label}: {len(receive[moment][label])} would receive, "
                f"{sum(held[moment][label].values())} held back" + (f" ({reasons})" if reasons else "")
            )
    return lines
