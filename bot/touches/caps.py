"""Frequency caps and the other numbers that shape when touches go out, in one place."""

from __future__ import annotations

from datetime import datetime, timedelta

MIN_GAP = timedelta(hours=12)
"""No two touches to one patient closer than this; the later one waits."""

MARKETING_PER_DAY = 1
"""Marketing touches per patient in any 24 hours."""

MARKETING_PER_WEEK = 3
"""Marketing touches per patient in any 7 days."""

HISTORY = timedelta(days=7)
"""How far back sent touches count towards the caps."""

LATE_LIMIT = timedelta(days=3)
"""A touch this far past its due time is skipped, not sent (a day-1 check-in a week late reads wrong)."""

PLANNING_GRACE = timedelta(hours=24)
"""A step already this far in the past when its visit is planned (late imports) is recorded as skipped."""

MAX_DEFERRALS = 30
"""Deferrals (quiet hours, caps) after which a touch is skipped rather than pushed again."""

MAX_SEND_ATTEMPTS = 5
"""Transient send failures after which a touch is marked failed."""

RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
"""Wait before the next attempt after a transient failure (the last one repeats)."""


def cap_until(
    sent: list[tuple[datetime, bool]], now: datetime, marketing: bool, state_limit_24h: int | None = None
) -> tuple[datetime, str] | None:
    """When the caps next allow this touch, and which cap holds it; None when it may go now.

    Arguments:
        sent: (sent_at, marketing) of the patient's touches sent in the last HISTORY.
        now: the moment of sending (aware UTC).
        marketing: whether this touch is marketing.
        state_limit_24h: the patient's state's marketing limit per 24 h, if any.
    """
    holds: list[tuple[datetime, str]] = []
    recent = [at for at, _ in sent if at > now - MIN_GAP]
    if recent:
        holds.append((max(recent) + MIN_GAP, f"min_gap {int(MIN_GAP.total_seconds() // 3600)}h"))
    if marketing:
        per_day = MARKETING_PER_DAY if state_limit_24h is None else min(MARKETING_PER_DAY, state_limit_24h)
        day = sorted(at for at, is_marketing in sent if is_marketing and at > now - timedelta(hours=24))
        if len(day) >= per_day:
            holds.append((day[len(day) - per_day] + timedelta(hours=24), f"marketing {per_day}/24h"))
        week = sorted(at for at, is_marketing in sent if is_marketing and at > now - timedelta(days=7))
        if len(week) >= MARKETING_PER_WEEK:
            holds.append(
                (week[len(week) - MARKETING_PER_WEEK] + timedelta(days=7), f"marketing {MARKETING_PER_WEEK}/7d")
            )
    if not holds:
        return None
    return max(holds)
