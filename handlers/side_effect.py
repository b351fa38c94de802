"""A possible complication: escalate by urgency, tell the patient what to do now, never diagnose.

- emergency: "call our emergency line now, or 911", page on-call and backup;
- urgent: "a clinician will call you within 15 minutes" (the call-back window of the visited location,
  open hours or after hours, from settings), page on-call;
- routine: the practice's aftercare text for that treatment and sign (bruising after filler, peeling after
  a peel, headache after a toxin...), which always says when to call, once its medical director signed that
  exact wording off, within care_texts.RECENT_DAYS of the visit (else the generic "a clinician will read
  this" reply); staff inbox (no page).
"""

from __future__ import annotations

import logging

from bot.clock import to_utc
from bot.conversation import care_signoff, care_texts
from bot.errors import ConfigError
from bot.vocabulary import Urgency, is_paging
from handlers.turn import Turn
from store.models import Escalation, Practice
from store.queries import last_visit

log = logging.getLogger(__name__)

AFTERCARE_REPLY = "aftercare"
"""The reply kind of a routine side effect's aftercare text (its text comes from care_texts, not replies.toml)."""


def handle(turn: Turn) -> None:
    decision = turn.decision
    urgency = Urgency.highest(decision.urgency, Urgency.ROUTINE)
    escalation = turn.escalate(urgency, decision.guard_rule or decision.intent)
    # The escalation may already be more urgent (the webhook's red-flag check): answer at its level, whose
    # reply (replies.toml "urgent", "emergency") is named after it.
    if is_paging(escalation.urgency):
        turn.reply(escalation.urgency)
    else:
        routine(turn, escalation)


def routine(turn: Turn, escalation: Escalation) -> None:
    """The aftercare text for the sign the patient reports after their last treatment, when the medical
    director signed it off; the inbox item says which text went, or which one awaits sign-off."""
    patient = turn.patient
    if patient is None:
        turn.reply("side_effect")
        return
    practice = turn.session.get(Practice, patient.practice_id)
    if practice is None:
        turn.reply("side_effect")
        return
    visit = last_visit(turn.session, patient.id)
    days = (turn.now - to_utc(visit[0].start_at)).days if visit else None
    if visit is None or days is None or days > care_texts.RECENT_DAYS:
        # The aftercare texts describe the usual course after a treatment ("expected for a few days"):
        # weeks later, or with no visit on file, they would tell the patient something untrue.
        turn.reply("side_effect")
        when = f"the last visit was {days} days ago" if days is not None else "no visit on file"
        _note(turn, escalation, f"No aftercare text: {when}; generic reply sent.")
        return
    category = visit[1].category
    try:
        review = care_signoff.review(turn.session, turn.settings.care_texts_file, practice)
    except ConfigError as error:  # a broken practice file must not leave the patient without an answer
        log.error("aftercare texts unreadable, generic reply sent: %s", error)
        turn.reply("side_effect")
        return
    chosen = care_texts.choose(review.texts, turn.message.body or "", category)
    if not review.is_signed(chosen.key):
        # Never an unreviewed text to a patient: the holding reply, and staff read which text waits.
        turn.actions.append(f"aftercare_unsigned:{chosen.sign}/{chosen.variant}")
        turn.reply("side_effect")
        _note(turn, escalation, f"Aftercare text {chosen.sign} ({chosen.variant}) awaits sign-off; generic reply sent.")
        return
    sent = turn.reply_with(AFTERCARE_REPLY, chosen.templates)
    turn.actions.append(f"aftercare:{chosen.sign}/{chosen.variant}")
    if sent is None or review.signoff is None:
        return
    signed = f"{review.signer or 'the medical director'}, {review.signoff.signed_at:%Y-%m-%d}"
    _note(turn, escalation, f"Aftercare text sent: {chosen.sign} ({chosen.variant}); signed off by {signed}.")


def _note(turn: Turn, escalation: Escalation, note: str) -> None:
    escalation.note = f"{escalation.note} {note}" if escalation.note else note
    turn.session.add(escalation)
