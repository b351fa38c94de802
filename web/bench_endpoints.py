"""Reference endpoints for `make bench`, registered only when AFTERCARE_BENCH_ENDPOINTS=1.

They take the same signed Twilio form as POST /sms/inbound and bracket it:
`/bench/bare` is Flask alone, `/bench/floor` is the least any webhook that
loses nothing must do (one INSERT of the raw message, one Redis push).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request

from bot import runtime
from bot.queue import redis_connection
from store.db import get_engine
from store.models import Message

bp = Blueprint("bench", __name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

FLOOR_LIST = "aftercare:bench:floor"
"""The Redis list the floor pushes message ids onto (the bench flushes its Redis db afterwards)."""

# Built once: the floor pays for executing an INSERT, not for building one.
_INSERT = Message.__table__.insert().returning(Message.__table__.c.id)


@bp.post("/bench/bare")
def bare():
    """Empty TwiML and nothing else: what Flask and gunicorn cost on their own."""
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/bench/floor")
def floor():
    """One INSERT of the raw message and one LPUSH of its id: the floor for a durable webhook."""
    form = request.form
    now = datetime.now(UTC)
    # Marked processed: no job handles a floor row, and the worker's requeue must not pick it up.
    values = {
        "direction": "in",
        "kind": "inbound",
        "from_number": form["From"],
        "to_number": form["To"],
        "body": form.get("Body", ""),
        "twilio_sid": form["MessageSid"],
        "status": "received",
        "created_at": now,
        "processed_at": now,
    }
    with get_engine(runtime.db_url()).begin() as connection:
        message_id = connection.execute(_INSERT, values).scalar()
    redis_connection(runtime.settings()).lpush(FLOOR_LIST, message_id)
    return Response(EMPTY_TWIML, mimetype="text/xml")
