"""The monthly retention report against the ledger (tests/ledger.py): its figures, CSV, PDF and page, and the
scheduled email that goes once per practice and month however many workers try."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlmodel import select

from bot import runtime
from bot.metrics.report_files import to_csv, to_pdf
from bot.metrics.retention import monthly_report
from bot.staff import reports
from fakes.smtp_server import FakeSmtp
from store.db import session_scope
from store.models import ReportClaim, ReportRecipient, StaffUser
from tests import ledger
from tests.helpers import add_staff, sign_in


def _mails() -> list:
    """The mails the demo's sink holds, parsed."""
    folder = Path(runtime.settings().data_dir) / "mail"
    return [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


@pytest.fixture
def books(settings, db_url, clock):
    """The ledger practice and its manager, who signs in and gets the report by email."""
    ids = ledger.build(db_url)
    add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    return ids


def test_the_november_report_matches_the_ledger(books, db_url):
    with session_scope(db_url) as db:
        report = monthly_report(db, books["practice_id"], "2026-11")
    assert report["revenue_by_channel"] == [
        {"channel": "practice system", "source": "api", "visits": 3, "revenue": Decimal("1349.97")}
    ]  # unconfirmed requests and declined times are not revenue
    assert report["revenue"] == Decimal("1349.97")
    assert report["treatments"] == [{"treatment": "Botox", "requests": 2}, {"treatment": "Lip filler", "requests": 2}]
    assert report["new_returning"] == {"patients": 3, "new": 2, "returning": 1}
    assert report["retention"] == {"patients": 2, "retained": 1, "rate": 50.0}  # Ana came back, Dee did not


def test_a_visit_booked_by_text_is_revenue_by_text_once_confirmed(books, db_url):
    with session_scope(db_url) as db:
        december = monthly_report(db, books["practice_id"], "2026-12")
        miami = monthly_report(db, books["practice_id"], "2026-11", books["miami"])
    assert december["revenue_by_channel"] == [
        {"channel": "booked by text", "source": "bot", "visits": 1, "revenue": Decimal("449.99")}
    ]
    assert miami["revenue"] == Decimal("449.99") and miami["new_returning"] == {"patients": 1, "new": 1, "returning": 0}


def test_csv_and_pdf_carry_the_figures(books, db_url):
    with session_scope(db_url) as db:
        report = monthly_report(db, books["practice_id"], "2026-11")
    text = to_csv(report)
    assert "revenue by channel,practice system,3,1349.97" in text and "retention,1 of 2 patients,,50%" in text
    pdf = to_pdf(report)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 1500


def test_the_page_and_its_downloads(books):
    client, _ = sign_in("mo@glow.test")
    page = client.get("/report?month=2026-11").get_data(as_text=True)
    assert "November 2026" in page and "$1,349.97" in page
    pdf = client.get("/report.pdf?month=2026-11")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert 'filename="retention-2026-11.pdf"' in pdf.headers["Content-Disposition"]
    csv = client.get("/report.csv?month=2026-11")
    assert csv.mimetype == "text/csv" and b"1349.97" in csv.data
    bad = client.get("/report?month=13-2026").get_data(as_text=True)
    assert "month must look like 2026-11" in bad


def test_the_report_is_mailed_once_on_the_first_whatever_the_number_of_workers(books, db_url, mail_sink):
    first = datetime(2026, 12, 1, 14, tzinfo=UTC)  # 08:00 in Chicago on the 1st
    results: list = []
    workers = [threading.Thread(target=lambda: results.append(reports.send_due(first))) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    handled = [item for batch in results for item in batch]
    assert handled == [(books["practice_id"], "2026-11", "sent")]
    assert reports.send_due(first) == []  # the next hour's tick: already claimed
    mails = _mails()
    assert len(mails) == 1 and "retention report for November 2026" in mails[0]["Subject"]
    names = [part.get_filename() for part in mails[0].iter_attachments()]
    assert names == ["retention-2026-11.pdf", "retention-2026-11.csv"]


def test_no_report_goes_after_the_first_week(books):
    assert reports.send_due(datetime(2026, 11, 23, 16, tzinfo=UTC)) == []


def test_without_smtp_the_report_is_not_sent_and_the_page_says_why(books, db_url, settings):
    # Outside the demo with no SMTP_URL (the test settings): nothing is mailed, and staff are told.
    assert reports.send_due(datetime(2026, 12, 1, 14, tzinfo=UTC)) == [(books["practice_id"], "2026-11", "not_sent")]
    with session_scope(db_url) as db:
        claim = db.exec(select(ReportClaim)).one()
    assert claim.status == "not_sent" and "SMTP_URL is not set" in (claim.detail or "")
    client, _ = sign_in("mo@glow.test")
    assert "SMTP_URL is not set" in client.get("/report").get_data(as_text=True)


def test_the_workers_hourly_tick_mails_last_months_report(books, db_url, mail_sink, clock):
    import worker  # why: the worker's entry module, imported only by the test that runs its tick

    clock.set(datetime(2026, 12, 1, 14, tzinfo=UTC))
    worker.tick_once(worker.REPORT_TICKS)  # the tick that carries the hourly steps
    worker.tick_once(worker.REPORT_TICKS * 2)  # an hour later, on this or another worker: nothing more
    with session_scope(db_url) as db:
        claims = db.exec(select(ReportClaim)).all()
    assert [(c.month, c.status) for c in claims] == [("2026-11", "sent")]
    assert len(_mails()) == 1


def test_a_retry_after_one_managers_mail_failed_mails_only_that_manager_once(books, db_url, settings, clock):

    add_staff(db_url, books["practice_id"], name="Fran Manager", role="manager", email="fran@glow.test")
    add_staff(db_url, books["practice_id"], name="Ivy Manager", role="manager", email="ivy@glow.test")
    first = datetime(2026, 12, 1, 14, tzinfo=UTC)
    with FakeSmtp() as smtp:
        runtime.configure(settings.with_(smtp_url=smtp.url), clock)
        smtp.fail_for("fran@glow.test")  # her mailbox answers 451 for now
        assert reports.send_due(first) == [(books["practice_id"], "2026-11", "failed")]
        assert sorted(m["to"] for m in smtp.mails) == ["ivy@glow.test", "mo@glow.test"]
        assert smtp.refused == [["fran@glow.test"]]
        with session_scope(db_url) as db:
            claim = db.exec(select(ReportClaim)).one()
            copies = {r.email: r.status for r in db.exec(select(ReportRecipient))}
        assert claim.status == "failed" and "mailed to 2 manager(s), 1 to retry (f***@glow.test" in claim.detail
        assert copies == {"mo@glow.test": "sent", "ivy@glow.test": "sent", "fran@glow.test": "failed"}
        assert reports.send_due(datetime(2026, 12, 1, 14, 30, tzinfo=UTC)) == []  # within the hour: no retry
        smtp.fail_for()  # her mailbox works again
        retry = datetime(2026, 12, 1, 15, 5, tzinfo=UTC)
        assert reports.send_due(retry) == [(books["practice_id"], "2026-11", "sent")]
        assert reports.send_due(datetime(2026, 12, 1, 16, 10, tzinfo=UTC)) == []
        got = sorted(m["to"] for m in smtp.mails)
    assert got == ["fran@glow.test", "ivy@glow.test", "mo@glow.test"]  # each manager exactly once
    with session_scope(db_url) as db:
        claim = db.exec(select(ReportClaim)).one()
        copies = {r.email: r.status for r in db.exec(select(ReportRecipient))}
    assert claim.status == "sent" and claim.detail == "mailed to 3 manager(s)"
    assert set(copies.values()) == {"sent"}


def test_one_managers_copy_is_claimed_by_one_worker_whatever_the_number_trying(books, db_url):
    with session_scope(db_url) as db:
        manager = db.exec(select(StaffUser).where(StaffUser.email == "mo@glow.test")).one().id
    now = datetime(2026, 12, 1, 14, tzinfo=UTC)
    won: list[bool] = []
    tries = [
        threading.Thread(
            target=lambda: won.append(
                reports.claim_recipient(books["practice_id"], "2026-11", manager, "mo@glow.test", now)
            )
        )
        for _ in range(4)
    ]
    for attempt in tries:
        attempt.start()
    for attempt in tries:
        attempt.join(30)
    assert sorted(won) == [False, False, False, True]
