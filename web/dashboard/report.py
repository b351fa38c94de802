"""The monthly retention report: a page, its CSV and its PDF, and whether the month's email went."""

from __future__ import annotations

from flask import Response, render_template, request
from sqlmodel import select

from bot import runtime
from bot.metrics.periods import PeriodError, month, previous_month
from bot.metrics.report_files import to_csv, to_pdf
from bot.metrics.retention import DEFINITIONS, monthly_report
from store.db import session_scope
from store.models import ReportClaim
from web.dashboard import bp
from web.dashboard.audit import record
from web.dashboard.context import current_time, staff_practice
from web.dashboard.numbers import pick_location


def _report(db, fmt: str | None = None):
    practice = staff_practice(db)
    wanted = request.args.get("month") or previous_month(current_time(), practice.timezone)
    error = None
    try:
        month(wanted, practice.timezone)
    except PeriodError as exc:
        error, wanted = str(exc), previous_month(current_time(), practice.timezone)
    locations, location_id, where = pick_location(db)
    return practice, monthly_report(db, practice.id, wanted, where), error, locations, location_id


@bp.get("/report")
def report():
    """The retention report for a month (?month=YYYY-MM, default last month) and a location (?location=)."""
    with session_scope(runtime.db_url()) as db:
        practice, found, error, locations, location_id = _report(db)
        claims = db.exec(
            select(ReportClaim).where(ReportClaim.practice_id == practice.id).order_by(ReportClaim.month.desc())  # type: ignore[attr-defined]
        ).all()
        return render_template(
            "report.html",
            practice=practice,
            report=found,
            error=error,
            definitions=DEFINITIONS,
            claims=claims[:12],
            locations=locations,
            location_id=location_id,
        )


@bp.get("/report.csv")
def report_csv():
    """The report as CSV."""
    with session_scope(runtime.db_url()) as db:
        _, found, _, _, location_id = _report(db)
        record(db, "report_exported", format="csv", month=found["month"], location_id=location_id)
    return Response(
        to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="retention-{found["month"]}.csv"'},
    )


@bp.get("/report.pdf")
def report_pdf():
    """The report as PDF."""
    with session_scope(runtime.db_url()) as db:
        _, found, _, _, location_id = _report(db)
        record(db, "report_exported", format="pdf", month=found["month"], location_id=location_id)
    return Response(
        to_pdf(found),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="retention-{found["month"]}.pdf"'},
    )
