"""GET /healthz: is the database reachable, is Redis reachable."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from bot import runtime
from bot.queue import redis_connection
from store.db import get_engine, retry_on_disconnect

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database and Redis answer, 503 naming the part that does not."""
    result = {"status": "ok", "db": "ok", "redis": "ok"}

    def ping():
        with get_engine(runtime.db_url()).connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        retry_on_disconnect(ping)  # a connection dropped by a database restart is not an outage
    except Exception as exc:  # any failure means "not ok"; the reason is reported
        result["db"] = f"error: {type(exc).__name__}"
    try:
        redis_connection(runtime.settings()).ping()
    except Exception as exc:
        result["redis"] = f"error: {type(exc).__name__}"
    healthy = result["db"] == "ok" and result["redis"] == "ok"
    result["status"] = "ok" if healthy else "error"
    return jsonify(result), 200 if healthy else 503
