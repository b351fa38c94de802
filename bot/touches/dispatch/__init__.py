"""Due touches out, exactly once: claim.py ticks and claims, send.py sends, reconciler.py repairs.

Touch rows are the truth and RQ only executes:

    scheduled --tick--> queued --send_touch--> sending --> sent
                                                       \\-> scheduled (deferred, paced, transient failure)
                                                       \\-> skipped | suppressed | failed

Every arrow is a conditional UPDATE whose row count is checked, so a
duplicate job, two workers or a re-enqueue after a Redis flush cannot send
twice. The outbound message row (idempotency key "touch-<id>") is written
before Twilio is called; a worker that died after that point is repaired by
looking the text up at Twilio, never by sending blindly.

The names the worker, the tests and the bench use are importable from here.
"""

from bot.touches.dispatch.claim import claim_due, tick
from bot.touches.dispatch.emails import email_message_id
from bot.touches.dispatch.jobs import SEND_JOB, batch_job_id, enqueue
from bot.touches.dispatch.reconciler import reconcile, settle_sending
from bot.touches.dispatch.send import SEND_THREADS, send_batch, send_many, send_touch

__all__ = [
    "SEND_JOB",
    "SEND_THREADS",
    "batch_job_id",
    "claim_due",
    "email_message_id",
    "enqueue",
    "reconcile",
    "send_batch",
    "send_many",
    "send_touch",
    "settle_sending",
    "tick",
]
