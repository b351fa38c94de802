"""Twilio's webhooks: inbound texts and delivery status callbacks."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from flask import Blueprint, Response, request
from redis.exceptions import RedisError

from bot.conversation import inbound
from bot.messaging import delivery
from bot.vocabulary import is_paging
from web.twilio_auth import valid_twilio_request

bp = Blueprint("sms", __name__)
log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
REQUIRED = ("From", "To", "MessageSid")


def twiml(status: int = 200, message: str | None = None) -> Response:
    """Empty TwiML, or TwiML answering the sender with one text (a red flag's safety reply)."""
    if message is None:
        return Response(EMPTY_TWIML, status=status, mimetype="text/xml")
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(message)}</Message></Response>'
    return Response(body, status=status, mimetype="text/xml")


def _nul_fields(params: dict) -> list[str]:
    # No text a phone sends holds NUL, and PostgreSQL refuses to store one: refuse it, naming the field.
    return sorted(name for name, value in params.items() if "\x00" in value)


@bp.post("/sms/inbound")
def sms_inbound():
    """Verify, dedupe, store, guard, enqueue, answer: no network wait but one INSERT and one push
    (a red flag adds the patient's lookup, the escalation and the safety reply in the TwiML)."""
    params = request.form.to_dict()
    if not valid_twilio_request(params):
        return Response("invalid signature", status=403, mimetype="text/plain")
    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        return Response(f"missing {', '.join(missing)}", status=400, mimetype="text/plain")
    refused = _nul_fields(params)
    if refused:
        return Response(f"NUL character in {', '.join(refused)}", status=400, mimetype="text/plain")
    message_id = inbound.record(params)
    if message_id is None:  # Twilio retried a message we already have
        return twiml()
    guard = inbound.guard(params)
    reply = None
    if guard is not None and (guard.final or is_paging(guard.urgency)):
        reply = inbound.apply_guard(message_id, params, guard)
    try:
        inbound.enqueue(message_id)
    except RedisError as error:  # stored and guarded: the worker's sweep queues it within a minute
        log.warning("message %s waits for the sweep: %s", message_id, error)
    return twiml(message=reply)  # a red flag is answered at once, even with no worker running


@bp.post("/sms/status")
def sms_status():
    """Record a delivery status; unknown SIDs still get 200 so Twilio stops retrying."""
    params = request.form.to_dict()
    if not valid_twilio_request(params):
        return Response("invalid signature", status=403, mimetype="text/plain")
    if not params.get("MessageSid") or not params.get("MessageStatus"):
        return Response("missing MessageSid or MessageStatus", status=400, mimetype="text/plain")
    refused = _nul_fields(params)
    if refused:
        return Response(f"NUL character in {', '.join(refused)}", status=400, mimetype="text/plain")
    code = params.get("ErrorCode") or ""
    if code and not (code.isascii() and code.isdigit()):  # "١٢" is a digit to Python, not to Twilio
        return Response("ErrorCode must be a number", status=400, mimetype="text/plain")
    delivery.record_status(params["MessageSid"], params["MessageStatus"], params.get("ErrorCode"))
    return Response("", status=204)
