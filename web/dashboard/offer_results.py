"""Offer results for managers: every offer's funnel by pairing, moment, segment and matrix version, the
pairings declined too often, and each A/B test with its p-value and the sample still needed."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template, request

from bot import runtime
from bot.growth import matrix
from bot.growth.attribution import DEFINITIONS, refresh, results
from store.db import session_scope
from web.dashboard import bp
from web.dashboard.context import current_time, my_places, staff_practice

PERIODS = (30, 90, 365)
"""Windows a manager may pick (days of offers made, ending now); none picked: every offer."""


@bp.get("/offers")
def offer_results():
    """Sent, replied, accepted, booked and revenue of the practice's offers (?days=30|90|365)."""
    now = current_time()
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else None
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        table = matrix.current(db, practice.id)
        refresh(db, practice.id, now)
        found = results(db, practice.id, table, since=now - timedelta(days=days) if days else None, places=my_places())
        return render_template(
            "offers_results.html",
            practice=practice,
            results=found,
            flags=table.settings["flags"],
            days=days,
            periods=PERIODS,
            definitions=DEFINITIONS,
        )
