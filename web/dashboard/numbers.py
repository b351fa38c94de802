"""The manager's numbers: a period and a location to pick, every figure from SQL with its definition on hover,
charts drawn on the server (web/dashboard/charts.py), and offer acceptance by pairing, moment and segment
(bot.growth.attribution, the queries Growth → Offer results reads)."""

from __future__ import annotations

from flask import render_template, request
from sqlmodel import Session, select

from bot import runtime
from bot.growth import attribution, matrix
from bot.metrics import figures
from bot.metrics.periods import LAST_DAYS, Period, buckets, from_args
from bot.metrics.sql import Where
from store.db import session_scope
from store.models import Location
from web.dashboard import bp, charts
from web.dashboard.context import current_time, my_places, practice_rows, staff_practice


@bp.get("/numbers")
def numbers():
    """The figures for a period (?days=7|30|90, ?month=YYYY-MM or ?from=&to=) and a location (?location=id)."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        period, error = from_args(request.args, current_time(), practice.timezone)
        locations, location_id, where = pick_location(db)
        found = figures.all_figures(db, practice.id, period, where)
        series = _series(db, practice.id, period, practice.timezone, where)
        table = matrix.current(db, practice.id)
        attribution.refresh(db, practice.id, current_time())
        offers = attribution.results(db, practice.id, table, period.start, period.end, where, my_places())
        return render_template(
            "numbers.html",
            practice=practice,
            period=period,
            error=error,
            periods=LAST_DAYS,
            locations=locations,
            location_id=location_id,
            figures=found,
            definitions=figures.DEFINITIONS | attribution.DEFINITIONS,
            charts=series,
            offers=offers,
            flags=table.settings["flags"],
        )


def pick_location(db: Session) -> tuple[list[Location], int | None, Where]:
    """The locations the signed-in staff member sees (every one of the practice unless they are limited to
    some), the one ?location= names (None for all, or for an id not among them), and what the figures
    cover: that location, else all of theirs (None: the whole practice)."""
    locations = list(db.exec(select(Location).where(practice_rows(Location.practice_id)).order_by(Location.name)))
    wanted = request.args.get("location", type=int)
    picked = wanted if any(loc.id == wanted for loc in locations) else None
    return locations, picked, picked if picked is not None else my_places()


def _series(db: Session, practice_id: int, period: Period, tz: str, location_id: Where) -> dict:
    """The period cut into days, weeks or months, with one chart per figure that moves over time."""
    replies, bookings, opt_outs = [], [], []
    for label, start, end in buckets(period, tz):
        part = Period(start, end, label, "part")
        reply = figures.reply_rate(db, practice_id, part, location_id)
        booked = figures.booked_by_text(db, practice_id, part, location_id)
        out = figures.opt_outs(db, practice_id, part, location_id)
        replies.append((label, reply["rate"] or 0, f"{reply['replied']} of {reply['touches_sent']} touches answered"))
        bookings.append((label, float(booked["revenue"]), f"{booked['bookings']} visits, ${booked['revenue']:,.2f}"))
        opt_outs.append((label, out["events"], f"{out['events']} opt-out events, {out['erasures']} erasures"))
    return {
        "reply_rate": charts.bars("Reply rate", replies, "%"),
        "booked_by_text": charts.bars("Revenue booked by text", bookings, prefix="$"),
        "opt_outs": charts.bars("Opt-out events", opt_outs),
    }
