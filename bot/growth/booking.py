"""The at-booking add-on: one add-on from the matrix, carried by the reply that answers a booking by text.

When a patient picks a time by text, the reply that tells them the visit is requested (or, in direct mode,
booked) may end with one add-on for that service: "Want to add lip flip for $150? Reply ADD." It is an
offer like any other, so before it is written into the reply the sending rules decide about it exactly as
they decide about an offer touch (bot.touches.sending_rules.decide): opt-out, marketing consent,
suppression (open escalation, takeover, complaint hold, flagged or wrong number), the moment's own rule,
the kill switch, quiet hours (and a state's marketing rules), the marketing caps (one a day, three a week,
a state's limit; the 12-hour gap between two texts does not apply, as the offer adds no text). Anything but "send" and the
reply is the plain confirmation, the offer is recorded as held back with the reason, and no separate text
follows (the pre-visit moment still offers an add-on 24-48 h before the visit). The reply with the offer
must fit two segments, and a reply that waits for staff approval (autonomy "draft") carries no offer.

An offer that goes is an `offers` plan touch marked sent with the reply (so later caps count it as a
marketing text) and an Offer row sent at that moment, answered by a yes or ADD like any other
(bot.growth.answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot import runtime
from bot.growth import matrix
from bot.growth.offers import choose, history, make
from bot.growth.segments import standing
from bot.messaging import segments
from bot.touches import composer, step_texts
from bot.touches.plans import OFFERS, PlanBook, plans_for
from bot.touches.sending_rules import SEND, STATUS_FOR, decide, load_facts
from bot.vocabulary import OfferMoment, OfferStatus, TouchStatus
from store.models import Appointment, Offer, Patient, Service, Touch

MAX_SEGMENTS = composer.MAX_SEGMENTS
"""The booking reply with its offer is at most this many segments; longer, and it goes without the offer."""


@dataclass
class Inline:
    """An add-on the rules let into a booking reply: its offer, its touch and the line to append, per language."""

    offer: Offer
    touch: Touch
    line: str
    """The offer's sentence, composed in the patient's language, to end the reply with."""

    def templates(self, base: dict[str, str]) -> dict[str, str]:
        """A reply's templates ({language: text}) with the offer's sentence at the end."""
        line = self.line.replace("{", "{{").replace("}", "}}")
        return {language: f"{text} {line}" for language, text in base.items()}


def at_booking(
    session: Session, patient: Patient, visit: Appointment, now: datetime, book: PlanBook | None = None
) -> Offer | None:
    """The at-booking offer for a visit just booked or requested by text (once per visit), its touch due now;
    None when the plan has no at_booking step or the matrix has no add-on that fits."""
    book = book or plans_for(runtime.settings())
    if book.step(OFFERS, OfferMoment.AT_BOOKING) is None:
        return None
    done = session.exec(
        select(Offer.id).where(Offer.appointment_id == visit.id, Offer.moment == OfferMoment.AT_BOOKING)
    ).first()
    if done is not None:
        return None
    service = session.get(Service, visit.service_id)
    table = matrix.current(session, patient.practice_id)
    choice = choose(
        OfferMoment.AT_BOOKING, table.entry_for(service), table, history(session, patient.id), now, visit=visit
    )
    if choice is None:
        return None
    segment = standing(session, patient, table, now).primary
    return make(session, book, table, patient, visit, OfferMoment.AT_BOOKING, choice, now, now, segment)


def prepare(
    session: Session, patient: Patient, visit: Appointment, now: datetime, book: PlanBook | None = None
) -> Inline | None:
    """The add-on the booking reply may carry, or None (then any offer made is recorded as held back)."""
    book = book or plans_for(runtime.settings())
    offer = at_booking(session, patient, visit, now, book)
    if offer is None or offer.touch_id is None:
        return None
    touch = session.get_one(Touch, offer.touch_id)
    facts = load_facts(session, touch, now)
    # The offer adds no text, so the gap kept between two texts (caps.MIN_GAP) is not about it: the marketing
    # caps are (one a day, three a week, a state's own limit), counted over the marketing texts sent.
    facts.sent = [(at, marketing) for at, marketing in facts.sent if marketing]
    verdict = decide(touch, facts, now)
    if verdict.action != SEND:
        status = STATUS_FOR.get(verdict.action, TouchStatus.SKIPPED)
        hold(
            session,
            offer,
            touch,
            f"{verdict.reason or verdict.action} (inside the booking reply or not at all)",
            now,
            status,
        )
        return None
    step = book.step(OFFERS, touch.step)
    if step is None:
        hold(session, offer, touch, f"step {OFFERS}.{touch.step} no longer in the plans", now)
        return None
    language, context = facts.text_context(patient, step)
    line = step_texts.template_for(facts.practice, step, language).format_map(context).strip()
    return Inline(offer, touch, line)


def fits(body: str) -> bool:
    """Whether a reply (with its offer) is at most MAX_SEGMENTS as the outbox will send it (accents kept when
    they fit, else folded; a GSM-only practice's text is never longer)."""
    return segments.fit(body).segments <= MAX_SEGMENTS


def sent(session: Session, inline: Inline, message_id: int, body: str, now: datetime) -> None:
    """The reply carrying the offer is queued: the touch and the offer are sent with it."""
    touch, offer = inline.touch, inline.offer
    touch.status, touch.sent_at, touch.message_id, touch.body = TouchStatus.SENT, now, message_id, body
    touch.reason, touch.updated_at = "inside the booking reply", now
    offer.status, offer.sent_at = OfferStatus.SENT, now
    session.add(touch)
    session.add(offer)


def hold(
    session: Session, offer: Offer, touch: Touch | None, reason: str, now: datetime, status: str = TouchStatus.SKIPPED
) -> None:
    """The offer did not go into the reply: held back, with the reason, and never texted later."""
    if touch is not None:
        touch.status, touch.reason, touch.updated_at = status, reason[:500], now
        session.add(touch)
    offer.status = OfferStatus.HELD
    session.add(offer)
