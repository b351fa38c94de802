"""Drafts in the inbox: staff approve (edited or not) or discard the bot's replies that wait for them."""

from __future__ import annotations

import logging

from flask import abort, flash, g, redirect, request, url_for
from redis.exceptions import RedisError

from bot import runtime
from bot.messaging import drafts, outbox
from store.db import session_scope
from store.models import AuditEvent, Message
from web.dashboard import bp
from web.dashboard.context import current_time, row_or_404

log = logging.getLogger(__name__)


GONE = "No such draft (it may have been approved or discarded already)."


def _draft_or_404(db, message_id: int) -> Message:
    message = row_or_404(db, Message, message_id, GONE)
    if message.status != outbox.DRAFT:
        abort(404, description=GONE)
    return message


def _audit(db, message: Message, action: str, now, detail: dict | None = None) -> None:
    db.add(
        AuditEvent(
            practice_id=message.practice_id,
            actor=f"staff:{g.staff.id}",
            action=action,
            subject_type="message",
            subject_id=message.id,
            detail=detail,
            created_at=now,
        )
    )


@bp.post("/drafts/<int:message_id>/approve")
def approve_draft(message_id: int):
    """Send the draft (as written, or as edited) through the outbox."""
    body = " ".join((request.form.get("body") or "").split())
    if len(body) > drafts.MAX_DRAFT:
        flash(f"Keep replies under {drafts.MAX_DRAFT} characters.", "error")
        return redirect(url_for("dashboard.inbox") + "#drafts")
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        message = _draft_or_404(db, message_id)
        before = message.body
        if not drafts.approve(db, message, g.staff.id, now, body or None):
            abort(404, description=GONE)
        db.refresh(message)
        _audit(db, message, "draft_approved", now, {"before": before, "after": message.body})
    try:
        outbox.enqueue([message_id])
    except RedisError as error:  # the outbox sweep sends it within a minute
        log.warning("approved draft %s waits for the sweep: %s", message_id, error)
    flash("Approved: it shows as sent in the thread in a moment.", "info")
    return redirect(url_for("dashboard.inbox") + "#drafts")


@bp.post("/drafts/<int:message_id>/discard")
def discard_draft(message_id: int):
    """Drop the draft: it is kept, marked discarded, and never sent."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        message = _draft_or_404(db, message_id)
        if drafts.discard(db, message, g.staff.id, now):
            _audit(db, message, "draft_discarded", now)
    flash("Discarded: the patient gets nothing from the bot for it.", "info")
    return redirect(url_for("dashboard.inbox") + "#drafts")
