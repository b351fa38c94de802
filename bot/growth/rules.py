"""Each offer moment's own rule, checked by the sender (bot.touches.sending_rules.decide) after the rules
every touch obeys (opt-out, consent, suppression) and before the lateness limit, quiet hours and caps.

Pure: a function of the touch, its offer, its visit and the time, so the sender, the preview and the
simulator take the same decisions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import to_utc
from bot.vocabulary import AppointmentStatus, OfferMoment, OfferStatus
from store.models import Appointment, Offer, Touch

SKIP, SUPPRESS = "skip", "suppress"
"""The verdicts a moment's rule may give (bot.touches.sending_rules names them the same)."""

AHEAD = (AppointmentStatus.BOOKED, AppointmentStatus.REQUESTED)

PRE_VISIT_WINDOW = (timedelta(hours=24), timedelta(hours=48))
"""A pre-visit add-on goes out between 48 and 24 hours before the visit."""

HISTORY_WINDOW = (timedelta(days=15), timedelta(days=30))
"""The history-based offer goes out between 15 and 30 days after the visit."""


def check(touch: Touch, offer: Offer | None, visit: Appointment | None, now: datetime) -> tuple[str, str] | None:
    """(verdict, reason) when the moment's rule holds the offer back, None when it may go."""
    if offer is None:
        return SKIP, "offer_missing: no offer row for this touch"
    if offer.status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.BOOKED):
        return SUPPRESS, f"offer_already_answered ({offer.status})"
    moment = offer.moment
    if moment == OfferMoment.AT_BOOKING and (
        visit is None or visit.status not in AHEAD or to_utc(visit.start_at) <= now
    ):
        return SKIP, "visit_no_longer_ahead"
    if moment == OfferMoment.PRE_VISIT:
        if visit is None or visit.status not in AHEAD or to_utc(visit.start_at) <= now:
            return SKIP, "visit_no_longer_ahead"
        close, far = PRE_VISIT_WINDOW
        left = to_utc(visit.start_at) - now
        if left < close:
            return (
                SKIP,
                f"outside_window: a pre-visit offer goes {int(far.total_seconds() // 3600)}-{int(close.total_seconds() // 3600)} h before the visit",
            )
        if any(a.get("item") == offer.item for a in visit.add_ons or []):
            return SUPPRESS, "already_added_to_the_visit"
    if moment == OfferMoment.HISTORY and visit is not None:
        first, last = HISTORY_WINDOW
        since = now - to_utc(visit.start_at)
        if since > last:
            return SKIP, f"outside_window: a history offer goes {first.days}-{last.days} days after the visit"
    return None
