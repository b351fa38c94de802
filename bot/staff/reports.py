"""The monthly retention report, mailed to the practice's managers on the 1st: once per practice and month
whatever the number of workers, because the first to INSERT the (practice, month) claim row is the only
one that sends it; and once per manager, because each copy has its own (practice, month, manager) claim,
so a retry after some copies failed mails only the managers still without theirs."""

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
from store.models import Practice, ReportClaim, ReportRecipient, StaffUser

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
            done.append((practice_id, month, deliver(practice_id, month, now)))
    return done


def claim(practice_id: int, month: str, now: datetime) -> bool:
    """True for the one caller that may send this report: it inserted the claim row, or took over a claim whose
    mail failed more than RETRY_AFTER ago (a conditional UPDATE, so two retrying workers cannot both win)."""
    row = ReportClaim(practice_id=practice_id, month=month, claimed_at=now)
    return _insert_or_retake(row, {"practice_id": practice_id, "month": month}, now)


def claim_recipient(practice_id: int, month: str, staff_id: int, email: str, now: datetime) -> bool:
    """True for the one caller that may mail this month's report to this manager: it inserted their
    report_recipient row, or took over their copy whose mail failed more than RETRY_AFTER ago (a conditional
    UPDATE). A copy sent, refused for good, or claimed and never finished is not mailed again."""
    row = ReportRecipient(practice_id=practice_id, month=month, staff_user_id=staff_id, email=email, claimed_at=now)
    keys = {"practice_id": practice_id, "month": month, "staff_user_id": staff_id}
    return _insert_or_retake(row, keys, now, email=email)


def _insert_or_retake(row: ReportClaim | ReportRecipient, keys: dict, now: datetime, **values) -> bool:
    """Insert the claim row; when it exists, take it over only if its mail failed more than RETRY_AFTER ago."""
    try:
        with session_scope(runtime.db_url()) as session:
            session.add(row)
        return True
    except IntegrityError:
        pass
    model = type(row)
    with session_scope(runtime.db_url()) as session:
        taken = session.execute(
            update(model)
            .where(
                *(getattr(model, name) == value for name, value in keys.items()),
                col(model.status) == FAILED,
                col(model.claimed_at) < now - RETRY_AFTER,
            )
            .values(status=CLAIMED, claimed_at=now, **values)
        )
        return bool(getattr(taken, "rowcount", 0))


def _record_recipient(practice_id: int, month: str, staff_id: int, status: str, detail: str) -> None:
    with session_scope(runtime.db_url()) as session:
        row = session.exec(
            select(ReportRecipient).where(
                ReportRecipient.practice_id == practice_id,
                ReportRecipient.month == month,
                ReportRecipient.staff_user_id == staff_id,
            )
        ).one()
        row.status, row.detail = status, detail
        session.add(row)


def deliver(practice_id: int, month: str, now: datetime | None = None) -> str:
    """Render the report and mail it with its PDF and CSV to every active manager with an email, each copy
    claimed per manager (`claim_recipient`) so that a retry after a partial failure mails only the managers
    still without it; record how it went on the claim row (the Report page shows it)."""
    now = to_utc(now or runtime.clock().now())
    with session_scope(runtime.db_url()) as session:
        report = monthly_report(session, practice_id, month)
        managers = [
            (s.id, s.email)
            for s in session.exec(
                select(StaffUser)
                .where(StaffUser.practice_id == practice_id, StaffUser.role == Role.MANAGER, StaffUser.active)
                .order_by(col(StaffUser.id))
            )
            if s.email
        ]
        already = {
            r.staff_user_id
            for r in session.exec(
                select(ReportRecipient).where(
                    ReportRecipient.practice_id == practice_id,
                    ReportRecipient.month == month,
                    col(ReportRecipient.status) == SENT,
                )
            )
        }
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
        sent = len(already & {staff_id for staff_id, _ in managers})
        failed: list[str] = []
        refused: list[str] = []
        for staff_id, address in managers:
            if staff_id in already or not claim_recipient(practice_id, month, staff_id, address, now):
                continue
            message_id = f"<report-{practice_id}-{month}-{staff_id}@aftercare>"
            try:
                mailer.send(runtime.settings(), address, subject, body, message_id, files)
            except MailNotConfigured as error:
                _record_recipient(practice_id, month, staff_id, NOT_SENT, str(error))
                status, detail = NOT_SENT, str(error)
                break
            except TransportError as error:
                _record_recipient(practice_id, month, staff_id, NOT_SENT if error.permanent else FAILED, str(error))
                (refused if error.permanent else failed).append(f"{mask_email(address)}: {error}")
                continue
            _record_recipient(practice_id, month, staff_id, SENT, "mailed")
            sent += 1
        if status != NOT_SENT:
            parts = [f"mailed to {sent} manager(s)"]
            if failed:
                parts.append(f"{len(failed)} to retry ({'; '.join(failed)})")
            if refused:
                parts.append(f"{len(refused)} refused ({'; '.join(refused)})")
            status = FAILED if failed else (SENT if sent else NOT_SENT)
            detail = ", ".join(parts)
    with session_scope(runtime.db_url()) as session:
        row = session.exec(
            select(ReportClaim).where(ReportClaim.practice_id == practice_id, ReportClaim.month == month)
        ).one()
        row.status, row.detail = status, detail
        session.add(row)
    log.info("monthly report %s for practice %s: %s (%s)", month, practice_id, status, detail)
    return status


def mask_email(address: str) -> str:
    """An address as the report's record shows it: "d***@glow.example"."""
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"
