"""The monthly retention report, mailed to the practice's managers on the 1st: once per practice and month
whatever the number of workers, because the first to INSERT the (practice, month) claim row is the only
one that sends it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot import runtime
from bot.clock import to_utc
from bot.errors import MailNotConfigured, TransportError
from bot.messaging import mailer
from bot.metrics.periods import previous_month
from bot.metrics.report_files import to_csv, to_pdf
from bot.metrics.retention import monthly_report
from bot.vocabulary import Role
from store.db import session_scope
from store.models import Practice, ReportClaim, StaffUser

log = logging.getLogger("aftercare.reports")

SEND_WITHIN_DAYS = 7
"""The report goes from the 1st until this day of the month (a worker down on the 1st still sends it)."""
RETRY_AFTER = timedelta(hours=1)
"""A report whose mail failed for a reason a retry may fix is claimed again after this long."""
SENT, NOT_SENT, FAILED, CLAIMED = "sent", "not_sent", "failed", "claimed"
"""A claim's status: mailed, not mailed for good (no SMTP_URL, no manager with an email), failed (retried)."""


def send_due(now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Mail last month's report for every practice whose local date is in the first days of a month and whose
    report nobody has claimed; returns (practice id, month, status) for each one this call handled."""
    now = to_utc(now or runtime.clock().now())
    with session_scope(runtime.db_url()) as session:
        practices = [(p.id, p.timezone) for p in session.exec(select(Practice))]
    done = []
    for practice_id, tz in practices:
        if now.astimezone(ZoneInfo(tz)).day > SEND_WITHIN_DAYS:
            continue
        month = previous_month(now, tz)
        if claim(practice_id, month, now):
            done.append((practice_id, month, deliver(practice_id, month)))
    return done


def claim(practice_id: int, month: str, now: datetime) -> bool:
    """True for the one caller that may send this report: it inserted the claim row, or took over a claim whose
    mail failed more than RETRY_AFTER ago (a conditional UPDATE, so two retrying workers cannot both win)."""
    try:
        with session_scope(runtime.db_url()) as session:
            session.add(ReportClaim(practice_id=practice_id, month=month, claimed_at=now))
        return True
    except IntegrityError:
        pass
    with session_scope(runtime.db_url()) as session:
        taken = session.execute(
            update(ReportClaim)
            .where(
                col(ReportClaim.practice_id) == practice_id,
                col(ReportClaim.month) == month,
                col(ReportClaim.status) == FAILED,
                col(ReportClaim.claimed_at) < now - RETRY_AFTER,
            )
            .values(status=CLAIMED, claimed_at=now)
        )
        return bool(getattr(taken, "rowcount", 0))


def deliver(practice_id: int, month: str) -> str:
    """Render the report and mail it with its PDF and CSV to every active manager with an email; record how it
    went on the claim row (the Report page shows it)."""
    with session_scope(runtime.db_url()) as session:
        report = monthly_report(session, practice_id, month)
        managers = [
            s.email
            for s in session.exec(
                select(StaffUser).where(
                    StaffUser.practice_id == practice_id, StaffUser.role == Role.MANAGER, StaffUser.active
                )
            )
            if s.email
        ]
    status, detail = SENT, ""
    if not managers:
        status, detail = NOT_SENT, "no active manager has an email address"
    else:
        files = [
            (f"retention-{month}.pdf", "application/pdf", to_pdf(report)),
            (f"retention-{month}.csv", "text/csv", to_csv(report).encode()),
        ]
        subject = f"{report['practice']}: retention report for {report['label']}"
        body = (
            f"The retention report for {report['label']} is attached (PDF and CSV).\n\n"
            f"Revenue: ${report['revenue']:,.2f}\n"
            f"Patients seen: {report['new_returning']['patients']} "
            f"({report['new_returning']['new']} new, {report['new_returning']['returning']} returning)\n"
        )
        sent = []
        for address in managers:
            try:
                mailer.send(
                    runtime.settings(), address, subject, body, f"<report-{practice_id}-{month}@aftercare>", files
                )
                sent.append(address)
            except MailNotConfigured as error:
                status, detail = NOT_SENT, str(error)
                break
            except TransportError as error:
                status, detail = (NOT_SENT if error.permanent else FAILED), str(error)
        if status == SENT:
            detail = f"mailed to {len(sent)} manager(s)"
    with session_scope(runtime.db_url()) as session:
        row = session.exec(
            select(ReportClaim).where(ReportClaim.practice_id == practice_id, ReportClaim.month == month)
        ).one()
        row.status, row.detail = status, detail
        session.add(row)
    log.info("monthly report %s for practice %s: %s (%s)", month, practice_id, status, detail)
    return status
