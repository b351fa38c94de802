"""The operations view: occupancy per provider, the treatments that pay best, retention and revenue."""

from __future__ import annotations

from flask import render_template, request

from bot import runtime
from bot.metrics import operations as ops
from bot.metrics import retention
from bot.metrics.figures import revenue
from bot.metrics.periods import LAST_DAYS, from_args
from store.db import session_scope
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice
from web.dashboard.numbers import pick_location


@bp.get("/operations")
def operations():
    """Occupancy, treatments by revenue per chair hour, retention and revenue for a period and location."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        period, error = from_args(request.args, current_time(), practice.timezone)
        locations, location_id, where = pick_location(db)
        return render_template(
            "operations.html",
            practice=practice,
            period=period,
            error=error,
            periods=LAST_DAYS,
            locations=locations,
            location_id=location_id,
            occupancy=ops.occupancy(db, practice.id, period, where),
            treatments=ops.treatments(db, practice.id, period, where),
            retention=retention.retention(db, practice.id, period, where),
            revenue=revenue(db, practice.id, period.start, period.end, where),
            definitions={**retention.DEFINITIONS, **ops.DEFINITIONS},  # "treatments" means the operations one here
        )
