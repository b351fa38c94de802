"""A small practice whose figures are known by hand: the dataset the metrics and report tests share.

November 2026 (America/Chicago), two locations. Each figure's expected value is written next to the rows
that make it, in EXPECTED.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import select

from bot.consent.opt_out import opt_in, opt_out
from bot.consent.privacy import erase_patient
from store.db import session_scope
from store.models import Escalation, Location, Message, Patient, Referral, Touch
from tests import factories


def at(day: int, hour: int = 16, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


BOTOX = Decimal("449.99")
"""Three of these sum to 1349.97 exactly (a float sum says 1349.9699999999998)."""


def build(db_url: str) -> dict:
    """Seed the ledger; returns the ids tests need."""
    with session_scope(db_url) as s:
        practice = factories.practice(s)
        austin_id = s.exec(select(Location.id).where(Location.practice_id == practice.id)).one()
        miami = Location(practice_id=practice.id, external_id="L-2", name="Miami", timezone="America/New_York")
        s.add(miami)
        s.flush()
        filler = factories.service(s, practice.id)  # 750.00, 45 min
        botox = factories.service(
            s,
            practice.id,
            code="BOTOX",
            name="Botox",
            category="neuromodulator",
            area="forehead",
            duration_min=30,
            price=BOTOX,
        )
        maya = factories.provider(s, practice.id, location_id=austin_id)
        leo = factories.provider(s, practice.id, external_id="P-2", name="Leo Park, RN", location_id=miami.id)

        def patient(first: str, phone: str) -> Patient:
            return factories.patient(s, practice.id, first_name=first, last_name="Test", phone=phone)

        ana, bea, cy = patient("Ana", "+15125550143"), patient("Bea", "+15125550144"), patient("Cy", "+13055550145")
        dee, eve = patient("Dee", "+13055550146"), patient("Eve", "+15125550147")

        def visit(p, service, start, status="completed", location=austin_id, provider=maya, **fields):
            fields.setdefault("created_at", start - timedelta(days=7))  # booked a week ahead unless said
            return factories.appointment(
                s,
                p,
                service,
                start,
                status=status,
                location_id=location,
                provider_id=provider.id,
                price=service.price,
                **fields,
            )

        visit(ana, filler, at(10, month=10))  # Ana's first visit: October, so not a first-time patient in November
        visit(ana, botox, at(5))  # rebooked: her December visit starts 45 days later
        visit(ana, botox, at(20, month=12), status="booked", source="bot", created_at=at(10))  # booked by text
        visit(bea, botox, at(2))  # first time; never came back: not rebooked, not returned
        visit(bea, filler, at(28), status="requested", source="bot", created_at=at(12))  # waiting: not a booking
        visit(cy, botox, at(3), location=miami.id, provider=leo)  # first time (Miami)
        visit(  # Cy's return, 78 days after: returned, but not within 60 days
            cy,
            botox,
            at(20, month=1, year=2027),
            status="booked",
            source="bot",
            created_at=at(15),
            location=miami.id,
            provider=leo,
        )
        visit(cy, filler, at(30), status="declined", source="bot", created_at=at(16), location=miami.id, provider=leo)
        visit(dee, filler, at(15, month=9), location=miami.id, provider=leo)  # Dee belongs to Miami
        visit(eve, botox, at(4))  # erased below: her visit goes with her

        def touch(p, sent: datetime) -> None:
            row = Touch(
                practice_id=practice.id,
                patient_id=p.id,
                plan="filler",
                step="day1",
                purpose="care",
                due_at=sent,
                status="sent",
                sent_at=sent,
                updated_at=sent,
            )
            s.add(row)
            s.flush()
            s.add(text(p, "out", "touch", sent, "delivered", touch_id=row.id))

        def text(p, direction, kind, when, status=None, **fields) -> Message:
            ours, theirs = factories.AUSTIN_NUMBER, p.phone
            return Message(
                practice_id=practice.id,
                patient_id=p.id,
                direction=direction,
                kind=kind,
                from_number=ours if direction == "out" else theirs,
                to_number=theirs if direction == "out" else ours,
                body="Thanks!" if direction == "out" else "ok",
                status=status,
                created_at=when,
                sent_at=when,
                **fields,
            )

        touch(ana, at(6, 10))
        s.add(text(ana, "in", "inbound", at(7, 10)))  # replied within 3 days
        touch(bea, at(3))  # no reply
        touch(cy, at(4))
        s.add(text(cy, "in", "inbound", at(9)))  # 5 days later: not a reply to the touch
        s.add(text(cy, "out", "reply", at(9, 17), "undelivered", error_code=30003))  # a delivery failure
        s.add(text(cy, "out", "reply", at(9, 18), "draft"))  # never left: not counted
        touch(dee, at(19))
        s.add(text(dee, "in", "inbound", at(20, 10)))  # STOP: a reply within 3 days
        s.add(text(dee, "in", "inbound", at(20, 11)))  # START

        for urgency, minutes, p in (
            ("emergency", 2, ana),
            ("emergency", 10, cy),
            ("urgent", 1, ana),
            ("urgent", 5, bea),
            ("urgent", 30, cy),
            ("routine", None, bea),
        ):
            opened = at(12)
            s.add(
                Escalation(
                    practice_id=practice.id,
                    patient_id=p.id,
                    urgency=urgency,
                    reason="test",
                    created_at=opened,
                    status="acknowledged" if minutes else "open",
                    acknowledged_at=opened + timedelta(minutes=minutes) if minutes else None,
                )
            )
        s.add(Referral(practice_id=practice.id, referrer_id=ana.id, code="ANA1", status="booked", created_at=at(8)))
        s.add(Referral(practice_id=practice.id, referrer_id=bea.id, code="BEA1", created_at=at(9)))
        s.flush()
        opt_out(s, dee, source="keyword")  # STOP ...
        opt_in(s, dee)  # ... then START: the opt-out event still counts
        ids = {
            "practice_id": practice.id,
            "austin": austin_id,
            "miami": miami.id,
            "maya": maya.id,
            "leo": leo.id,
            "ana": ana.id,
            "eve": eve.id,
        }
    with session_scope(db_url) as s:
        erase_patient(s, ids["eve"], actor="staff:1")  # an erasure, counted apart from opt-outs
    return ids


EXPECTED = {
    "reply_rate": {"touches_sent": 4, "replied": 2, "rate": 50.0},
    "rebooking": {"visits": 3, "rebooked": 1, "rate": 33.3},  # Ana's, Bea's and Cy's November visits (Eve erased)
    "first_time_return": {"patients": 2, "returned": 1, "rate": 50.0},  # Bea (no), Cy (yes)
    "booked_by_text": {"bookings": 2, "revenue": Decimal("899.98"), "requests_waiting": 1},
    "opt_outs": {"events": 1, "patients_texted": 4, "rate": 25.0, "erasures": 1},
    "referrals": {"issued": 2, "booked": 1, "rate": 50.0},
    "texts": {"out": 5, "in": 4, "failed": 1, "failure_rate": 20.0},
}
"""The November figures, by hand."""

EXPECTED_ESCALATIONS = [
    {"urgency": "emergency", "count": 2, "acknowledged": 2, "median_ack_min": 2.0, "p90_ack_min": 10.0},
    {"urgency": "urgent", "count": 3, "acknowledged": 3, "median_ack_min": 5.0, "p90_ack_min": 30.0},
    {"urgency": "routine", "count": 1, "acknowledged": 0, "median_ack_min": None, "p90_ack_min": None},
]
