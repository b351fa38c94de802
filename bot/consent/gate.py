"""The last check before a text leaves: who may be texted now, held steady while Twilio is called.

The rules of `refusal` are the ones every reply and touch already passed when it was written; the
gate asks them again at the moment of sending, because an opt-out, a staff takeover or a wrong-number
report can land between the two. On PostgreSQL the patient's row stays share-locked until the
provider has answered, so an opt-out that arrives meanwhile is recorded just after the text it could
no longer stop, and nothing queued before it can go out after it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from bot import runtime
from bot.clock import to_utc
from bot.consent.privacy import ERASED_PREFIX, erased_number, is_erased
from bot.vocabulary import Intent, MessageKind, TouchStatus, Urgency
from store.db import get_engine
from store.models import ConversationState, Patient, Practice, Touch

SAFETY_REPLIES = frozenset({Urgency.EMERGENCY, Urgency.URGENT, "opt_out", "opt_out_cancel"})
"""Replies that are never held back, by a staff takeover or anything else."""
HANDOVER_REPLIES = frozenset({"ask_for_person", "ask_for_person_hours", "ask_for_person_closed"})
"""The reply that tells a patient who asked for a person when one will answer: it starts the takeover it
announces (handlers/ask_for_person.py), so that takeover does not hold it back."""

CARRIER_REPLIES = frozenset({"opt_out", "opt_out_cancel", "help"})
"""What carrier rules require us to answer whoever texts: the only replies a number not on file, or one
that told us it is the wrong person, ever gets (the wrong number also its one apology)."""

PAUSED = "bot_paused"
"""The refusal while the practice's kill switch is on."""

CLAIM_LOST = "claim_lost"
"""The refusal of a touch its send batch no longer owns (a reconcile gave it to another worker)."""

PAUSED_KINDS = frozenset({MessageKind.TOUCH, MessageKind.REPLY})
"""What the kill switch stops: the bot's own texts. Pages and staff's own texts are never switched off."""

UNPAUSABLE_REPLIES = SAFETY_REPLIES | CARRIER_REPLIES | {"opt_in"}
"""Replies that go while the kill switch is on: the emergency and urgent instructions, and what carrier
rules require (the one opt-out confirmation, HELP, the START confirmation)."""


def paused(session: Session, practice_id: int | None) -> bool:
    """Whether the practice's kill switch is on."""
    if practice_id is None:
        return False
    practice = session.get(Practice, practice_id)
    return practice is not None and practice.paused_at is not None


@dataclass(frozen=True)
class Facts:
    """What the rules look at: the patient's consent, their conversation's state, the practice's switch."""

    opted_out: bool
    marketing_sms: bool
    wrong_number: bool
    takeover_until: datetime | None
    paused: bool
    erased: bool = False


def refusal(
    session: Session,
    patient: Patient,
    now: datetime,
    *,
    kind: str,
    reply_kind: str | None = None,
    marketing: bool = False,
) -> str | None:
    """Why this patient must not get a text of this kind now, or None when it may go (see `refuse`)."""
    state = session.get(ConversationState, patient.id)
    facts = Facts(
        opted_out=patient.opted_out_at is not None,
        marketing_sms=bool(patient.marketing_sms),
        wrong_number=bool(state is not None and state.wrong_number),
        takeover_until=state.takeover_until if state is not None else None,
        paused=paused(session, patient.practice_id),
        erased=is_erased(patient),
    )
    return refuse(facts, now, kind=kind, reply_kind=reply_kind, marketing=marketing)


def refuse(
    facts: Facts, now: datetime, *, kind: str, reply_kind: str | None = None, marketing: bool = False
) -> str | None:
    """The rules, in order. Erased on request: nothing, ever. Opted out: only the opt-out confirmation. A reported wrong number: only its
    apology and the carrier's replies (CARRIER_REPLIES). A staff takeover: staff's own texts and the
    safety replies only. Marketing needs marketing consent. The practice's kill switch on: no touch and
    no bot reply but UNPAUSABLE_REPLIES."""
    if facts.erased:
        return "erased"
    if facts.opted_out and not (reply_kind or "").startswith("opt_out"):
        return "opted_out"
    if marketing and not facts.marketing_sms:
        return "no_marketing_consent"
    if facts.wrong_number and reply_kind not in CARRIER_REPLIES | {Intent.WRONG_NUMBER}:
        return "wrong_number"
    taken_over = facts.takeover_until is not None and to_utc(facts.takeover_until) > now
    if taken_over and kind != MessageKind.STAFF and reply_kind not in SAFETY_REPLIES | HANDOVER_REPLIES:
        return "staff_takeover"
    if kind in PAUSED_KINDS and reply_kind not in UNPAUSABLE_REPLIES and facts.paused:
        return PAUSED
    return None


class Check:
    """The gate's answer, and the open transaction that keeps it true: write what the send returned in
    `session`, which is that transaction's (made when first asked: a touch's send records nothing in it)."""

    def __init__(self, refusal: str | None, connection: sa.Connection):
        self.refusal = refusal
        self._connection = connection
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            # Joins the connection's transaction: committed (or rolled back) with it when `held` ends.
            self._session = Session(bind=self._connection, expire_on_commit=False)
        return self._session


@contextmanager
def held(
    patient_id: int | None,
    to_number: str,
    *,
    kind: str,
    reply_kind: str | None = None,
    marketing: bool = False,
    claim: tuple[int, datetime] | None = None,
) -> Iterator[Check]:
    """Why the text must not go (`refusal`, None when it may), kept true until the block ends.

    Send inside the block, and record the outcome in `session`: it commits when the block ends.
    Texts to anyone but the patient themselves (a page to staff about them) pass: the patient's
    consent is not the recipient's. A touch passes its `claim` (touch id, claimed_at): read in the
    same query, a touch no longer "sending" under that claim is refused as CLAIM_LOST.

    One connection and its transaction, with no ORM session unless the caller asks for one: this runs
    before every text, and a session's set-up and commit cost a dispatched text more than the query."""
    engine = get_engine(runtime.db_url())
    with engine.connect() as connection, connection.begin():
        check = Check(None, connection)
        try:
            check.refusal = _refusal(
                check, connection, engine.dialect.name, patient_id, to_number, kind, reply_kind, marketing, claim
            )
            yield check
            if check._session is not None:
                check._session.flush()
        finally:
            if check._session is not None:
                check._session.close()


def _refusal(
    check: Check,
    connection: sa.Connection,
    dialect: str,
    patient_id: int | None,
    to_number: str,
    kind: str,
    reply_kind: str | None,
    marketing: bool,
    claim: tuple[int, datetime] | None,
) -> str | None:
    """What `held` answers, read in its transaction."""
    if patient_id is None:
        return None
    query = _facts_query(claim is not None, dialect == "postgresql")
    params = {"patient_id": patient_id, "touch_id": claim[0] if claim is not None else None}
    row = connection.execute(query, params).first()
    if row is None or row[0] != to_number:
        # Not the patient's own number: a page to staff passes, but never an erased number (a stale
        # or mistaken id must not reach it), and an erased patient's row reaches no number at all.
        gone = row is not None and row[0].startswith(ERASED_PREFIX)
        refused = "erased" if gone or erased_number(check.session, to_number) else None
        if refused is None and claim is not None and (row is None or not _still_claimed(row[6], row[7], claim[1])):
            refused = CLAIM_LOST
        return refused
    facts = Facts(row[1] is not None, bool(row[2]), bool(row[3]), row[4], row[5] is not None)
    refused = refuse(facts, runtime.clock().now(), kind=kind, reply_kind=reply_kind, marketing=marketing)
    if refused is None and claim is not None and not _still_claimed(row[6], row[7], claim[1]):
        refused = CLAIM_LOST
    return refused


@functools.cache
def _facts_query(with_claim: bool, share_lock: bool) -> sa.Select:
    """What `held` reads, in one round trip of plain columns; built once, since this runs before every
    text and building the statement cost more than running it. With a claim, the touch's status and
    claimed_at; on PostgreSQL, the patient's row is share-locked."""
    query = (
        sa.select(
            col(Patient.phone),
            col(Patient.opted_out_at),
            col(Patient.marketing_sms),
            col(ConversationState.wrong_number),
            col(ConversationState.takeover_until),
            col(Practice.paused_at),
        )
        .select_from(Patient)
        .outerjoin(ConversationState, col(ConversationState.patient_id) == col(Patient.id))
        .outerjoin(Practice, col(Practice.id) == col(Patient.practice_id))
        .where(col(Patient.id) == sa.bindparam("patient_id"))
    )
    if with_claim:
        query = query.add_columns(col(Touch.status), col(Touch.claimed_at)).outerjoin(
            Touch, sa.and_(col(Touch.id) == sa.bindparam("touch_id"), col(Touch.patient_id) == col(Patient.id))
        )
    if share_lock:
        query = query.with_for_update(read=True, of=Patient)
    return query


def _still_claimed(status: str | None, claimed_at: datetime | None, ours: datetime) -> bool:
    """Whether a touch is still "sending" under the claim made at `ours` (to the millisecond)."""
    if status != TouchStatus.SENDING or claimed_at is None:
        return False
    return abs((to_utc(claimed_at) - to_utc(ours)).total_seconds()) <= 0.001
