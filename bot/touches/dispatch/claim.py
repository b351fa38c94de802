"""The tick: claim due touches (scheduled -> queued) and enqueue their send jobs, after a reconcile pass."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select

from bot import runtime
from bot.clock import to_utc
from bot.touches.dispatch.jobs import enqueue
from bot.touches.dispatch.reconciler import reconcile
from bot.touches.sending_rules import PAUSED_REASON
from bot.vocabulary import TouchStatus
from store.db import get_engine, session_scope
from store.models import Appointment, Location, Practice, Touch

CLAIM_BATCH = 2000
"""Touches one tick claims at most (without pacing)."""
PACING_HORIZON_S = 20
"""With pacing on, a tick claims per sender what that number can send in this many seconds."""


def tick(now: datetime | None = None) -> dict:
    """Repair stuck touches, claim due ones and enqueue their send jobs (every worker runs this)."""
    now = to_utc(now or runtime.clock().now())
    repaired = reconcile(now)
    claimed = claim_due(now)
    enqueued = enqueue(claimed)
    return {"claimed": len(claimed), "enqueued": enqueued, **repaired}


def claim_due(now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Move due scheduled touches to queued; returns the ids this caller won."""
    settings = runtime.settings()
    engine = get_engine(runtime.db_url())
    candidates = (
        select(Touch.id)
        .where(Touch.status == TouchStatus.SCHEDULED, Touch.due_at <= now, _not_paused())
        .order_by(col(Touch.due_at), col(Touch.id))
    )
    with session_scope(runtime.db_url()) as session:
        _mark_held(session, now)
        if settings.pacing:
            ids = _paced_candidates(session, now, settings)
            if not ids:
                return []
            chosen = col(Touch.id).in_(ids)
        else:
            inner = candidates.limit(limit)
            if engine.dialect.name == "postgresql":
                inner = inner.with_for_update(skip_locked=True)
            chosen = col(Touch.id).in_(inner.scalar_subquery())
        statement = (
            update(Touch)
            .where(chosen, col(Touch.status) == TouchStatus.SCHEDULED)
            .values(status=TouchStatus.QUEUED, claimed_at=now, updated_at=now)
            .returning(col(Touch.id))
        )
        return sorted(session.exec(statement).scalars().all())


def _mark_held(session, now: datetime) -> None:
    """Due touches of practices whose kill switch is on say why they wait (they stay scheduled, as due)."""
    session.exec(
        update(Touch)
        .where(
            col(Touch.status) == TouchStatus.SCHEDULED,
            col(Touch.due_at) <= now,
            col(Touch.practice_id).in_(select(Practice.id).where(col(Practice.paused_at).is_not(None))),
            or_(col(Touch.reason).is_(None), col(Touch.reason) != PAUSED_REASON),
        )
        .values(reason=PAUSED_REASON, updated_at=now)
    )


def _not_paused():
    """Touches of practices whose kill switch is off: a held touch stays scheduled, unclaimed, until then."""
    return col(Touch.practice_id).not_in(select(Practice.id).where(col(Practice.paused_at).is_not(None)))


def _paced_candidates(session, now: datetime, settings) -> list[int]:
    """Due touches, at most what each sender can send within PACING_HORIZON_S."""
    budget = max(1, int(settings.sender_mps * PACING_HORIZON_S))
    rows = session.exec(
        select(Touch.id, Location.sms_number)
        .outerjoin(Appointment, col(Appointment.id) == col(Touch.appointment_id))
        .outerjoin(Location, col(Location.id) == col(Appointment.location_id))
        .where(Touch.status == TouchStatus.SCHEDULED, Touch.due_at <= now, _not_paused())
        .order_by(col(Touch.due_at), col(Touch.id))
        .limit(CLAIM_BATCH * 5)
    ).all()
    taken: dict[str, int] = {}
    ids = []
    for touch_id, number in rows:
        key = number or "default"
        if taken.get(key, 0) < budget:
            taken[key] = taken.get(key, 0) + 1
            ids.append(touch_id)
    return ids
