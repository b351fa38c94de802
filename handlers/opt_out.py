"""Stop everything for the number at once, with one confirmation unless the carrier already sent it.

Twilio answers its own keywords (STOP, CANCEL, ...) on a number with default
handling (TWILIO_CONFIRMS_OPT_OUT); free-text and Spanish opt-outs are ours
to confirm. A bare CANCEL is an opt-out for the carrier, so our confirmation
says how to cancel an appointment instead.
"""

from __future__ import annotations

from bot.consent.opt_out import opt_out
from bot.vocabulary import is_paging
from handlers.turn import Turn
from store.queries import patients_for_inbound


def handle(turn: Turn) -> None:
    message, decision = turn.message, turn.decision
    for each in patients_for_inbound(turn.session, message.from_number, message.to_number):
        if opt_out(turn.session, each, source=f"sms:{decision.path}", message_id=message.id):
            turn.actions.append("opted_out")
    if is_paging(decision.urgency):
        # "Stop texting me, my lip is turning white": staff are still paged; the patient gets only the confirmation.
        turn.escalate(decision.urgency, decision.guard_rule or "opt_out_with_red_flag")
    rule = decision.guard_rule or ""
    if rule.startswith("keyword:") and turn.twilio_confirms_keywords():
        return
    if turn.confirmed_opt_out_before():
        return  # one confirmation, however many times the patient says it
    turn.reply("opt_out_cancel" if rule == "keyword:cancel" else "opt_out")


def opted_out_wrote(turn: Turn) -> None:
    """An opted-out patient wrote something that would book, offer or market: nothing of the kind happens
    (no reply may go to them either); a person reads it in the staff inbox."""
    turn.actions.append("opted_out:nothing_booked")
    turn.to_staff("opted_out_wrote")
