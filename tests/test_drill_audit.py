"""The drill's audit catches each broken promise it reports: it is only worth its zeros if it can count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlmodel import select

from bench import drill_audit
from bench.drill_patients import Ledger, Post
from store.db import session_scope
from store.models import Message, Patient, Touch
from tests import factories

NOW = datetime.now(UTC)
PHONE = "+15125552001"


def seed(db_url: str) -> int:
    """One patient with one sent "thanks" touch and one inbound text, processed; returns the patient id."""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        patient = factories.patient(session, practice.id, phone=PHONE)
        session.add(
            Touch(
                practice_id=practice.id,
                patient_id=patient.id,
                plan="everyone",
                step="thanks",
                purpose="care",
                due_at=NOW - timedelta(minutes=5),
                status="sent",
                body="Hi Ana, thanks for coming in",
            )
        )
        session.add(
            Message(
                practice_id=practice.id,
                patient_id=patient.id,
                direction="in",
                kind="inbound",
                from_number=PHONE,
                to_number=factories.AUSTIN_NUMBER,
                body="thanks!",
                twilio_sid="SMin1",
                processed_at=NOW,
                decision={"intent": "positive_feedback"},
            )
        )
        return patient.id


def fake_text(sid: str, body: str, at: datetime, status: str = "delivered") -> dict:
    return {"sid": sid, "to": PHONE, "body": body, "status": status, "date_created": format_datetime(at)}


def run_audit(db_url: str, ledger: Ledger, texts: list[dict], tmp_path) -> dict:
    log = tmp_path / "worker.log"
    log.write_text("message 7 from …2001: other/none via local\n")
    with session_scope(db_url) as session:
        return drill_audit.audit(session, ledger, texts, [], [log])


def ledger_with(*posts: Post) -> Ledger:
    ledger = Ledger()
    for post in posts:
        ledger.add(post)
    return ledger


def test_a_clean_run_breaks_no_invariant(db_url, tmp_path):
    seed(db_url)
    ledger = ledger_with(Post("SMin1", PHONE, "thanks!", "question", NOW, 200))
    results = run_audit(db_url, ledger, [fake_text("SMout1", "Hi Ana, thanks for coming in", NOW)], tmp_path)
    assert results["touches"]["sent_once"] == 1
    assert results["inbound"]["processed_once"] == 1
    assert not any(results["invariants"].values()), results["invariants"]


def test_a_touch_at_twilio_twice_counts_as_sent_twice(db_url, tmp_path):
    seed(db_url)
    ledger = ledger_with(Post("SMin1", PHONE, "thanks!", "question", NOW, 200))
    texts = [fake_text(f"SMout{n}", "Hi Ana, thanks for coming in", NOW) for n in (1, 2)]
    assert run_audit(db_url, ledger, texts, tmp_path)["invariants"]["touches sent twice"] == 1


def test_a_claimed_text_without_a_decision_counts_as_lost(db_url, tmp_path):
    seed(db_url)
    with session_scope(db_url) as session:
        session.exec(select(Message).where(Message.twilio_sid == "SMin1")).one().decision = None
    ledger = ledger_with(Post("SMin1", PHONE, "thanks!", "question", NOW, 200))
    assert run_audit(db_url, ledger, [], tmp_path)["invariants"]["inbound lost"] == 1


def test_a_text_after_stop_counts_but_the_one_confirmation_does_not(db_url, tmp_path):
    seed(db_url)
    with session_scope(db_url) as session:
        session.exec(select(Patient).where(Patient.phone == PHONE)).one().opted_out_at = NOW
    ledger = ledger_with(Post("SMin1", PHONE, "thanks!", "question", NOW, 200))
    later = NOW + timedelta(seconds=5)
    texts = [
        fake_text("SMout1", "You're unsubscribed from Glow Test Spa texts and won't get any more.", later),
        fake_text("SMout2", "Hi Ana, thanks for coming in", later),
    ]
    assert run_audit(db_url, ledger, texts, tmp_path)["invariants"]["texts after opt-out"] == 1


def test_a_stuck_touch_and_a_full_phone_number_in_a_log_are_counted(db_url, tmp_path):
    seed(db_url)
    with session_scope(db_url) as session:
        touch = session.exec(select(Touch)).one()
        touch.status, touch.claimed_at = "sending", NOW - timedelta(minutes=3)
    ledger = ledger_with(Post("SMin1", PHONE, "thanks!", "question", NOW, 200))
    results = run_audit(db_url, ledger, [], tmp_path)
    assert results["invariants"]["touches stuck"] == 1
    (tmp_path / "web.log").write_text(f"GET /api/patients?phone={PHONE[1:]} 200\n")
    with session_scope(db_url) as session:
        found = drill_audit.audit(session, ledger, [], [], [tmp_path / "web.log"])
    assert found["invariants"]["phone numbers in logs"] == 1
