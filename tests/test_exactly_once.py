"""A touch is sent at most once: Redis flushes, duplicate jobs, racing workers and crashed sends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from tenacity import wait_none

from bot import runtime
from bot.messaging.transport import SmsTransport
from bot.touches import dispatch
from store.db import session_scope
from store.models import Message, Practice, Touch
from tests.helpers import PRACTICE_NUMBER, add_touch, dispatch_all, run_worker, seed_visit, touch_row

ROOT = Path(__file__).resolve().parent.parent


def seed_patients(db_url: str, count: int, due_at: datetime, all_day: bool = False) -> list[int]:
    """`count` patients of one practice, each with one care touch due at `due_at`."""
    ids = seed_visit(db_url, phone="+15125551000")
    if all_day:
        with session_scope(db_url) as session:
            practice = session.get(Practice, ids["practice_id"])
            practice.quiet_start_hour, practice.quiet_end_hour = 0, 24
    touches = [add_touch(db_url, ids, due_at=due_at)]
    for n in range(1, count):
        more = seed_visit(db_url, phone=f"+1512555{1000 + n:04d}", practice_id=ids["practice_id"])
        touches.append(add_touch(db_url, more, due_at=due_at))
    return touches


def texts_per_number(fake) -> dict:
    counts: dict = {}
    for message in fake.messages:
        counts[message["to"]] = counts.get(message["to"], 0) + 1
    return counts


def test_redis_flushed_after_enqueue_still_sends_everything_once(settings, twilio, clock, db_url, redis):
    touches = seed_patients(db_url, 5, clock.now())
    assert dispatch.tick()["enqueued"] == 5
    redis.flushdb()  # every job lost
    run_worker(runtime.settings())
    assert twilio.messages == []
    assert dispatch.tick()["requeued"] == 0  # still within the grace period: the job may just be slow
    clock.advance(minutes=2)
    assert dispatch.tick()["requeued"] == 5
    run_worker(runtime.settings())
    redis.flushdb()
    clock.advance(minutes=2)
    dispatch_all(runtime.settings(), rounds=2)
    assert sorted(texts_per_number(twilio).values()) == [1] * 5
    assert {touch_row(db_url, t).status for t in touches} == {"sent"}


def test_duplicate_jobs_send_one_text(settings, twilio, clock, db_url):
    touch_id = seed_patients(db_url, 1, clock.now())[0]
    dispatch.tick()
    assert dispatch.send_touch(touch_id) == "sent"
    assert dispatch.send_touch(touch_id) == "already handled"
    dispatch.enqueue([touch_id])
    run_worker(runtime.settings())
    assert len(twilio.messages) == 1


def test_two_threads_racing_on_the_same_touches_send_one_text_each(settings, twilio, clock, db_url):
    touches = seed_patients(db_url, 12, clock.now())
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait()
            dispatch.tick()
            for touch_id in touches:
                dispatch.send_touch(touch_id)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    run_worker(runtime.settings())
    assert errors == []
    assert sorted(texts_per_number(twilio).values()) == [1] * 12


@pytest.mark.slow
def test_two_worker_processes_send_one_text_each(settings, twilio, clock, db_url, _redis_server_url, tmp_path):
    # The processes run on the real clock: the touches are due now, in a window open all day.
    touches = seed_patients(db_url, 30, datetime.now(UTC) - timedelta(minutes=1), all_day=True)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": _redis_server_url,
        "AFTERCARE_DATA_DIR": str(tmp_path / "worker"),
        "TWILIO_API_BASE_URL": twilio.base_url,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "TWILIO_FROM_NUMBER": PRACTICE_NUMBER,
        "AFTERCARE_PACING": "false",
        "SECRET_KEY": settings.secret_key,  # keys the gate's check for erased numbers, as in any real worker
        "PYTHONPATH": str(ROOT),
    }
    script = (
        "import sys\n"
        "from rq import SimpleWorker\n"
        "from bot import runtime\n"
        "from bot.touches import dispatch\n"
        "from bot.queue import get_queue, redis_connection\n"
        "settings = runtime.configure()\n"
        "for _ in range(3):\n"
        "    dispatch.tick()\n"
        "    SimpleWorker([get_queue('touches', settings)], connection=redis_connection(settings)).work(burst=True)\n"
        "for touch_id in map(int, sys.argv[1:]):\n"
        "    dispatch.send_touch(touch_id)\n"
    )
    args = [sys.executable, "-c", script, *map(str, touches)]
    processes = [
        subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=90)
        assert process.returncode == 0, err.decode()[-2000:]
    assert sorted(texts_per_number(twilio).values()) == [1] * 30
    with session_scope(db_url) as session:
        assert {t.status for t in session.exec(select(Touch))} == {"sent"}


def _crashed_send(db_url: str, touch_id: int, clock, reached_twilio: bool, fake) -> None:
    """What a worker killed between "send" and "mark sent" leaves behind."""
    with session_scope(db_url) as session:
        touch = session.get(Touch, touch_id)
        body = f"Hi Ana, it's Maya at Glow Med Spa. Checking in ({touch_id})."
        message = Message(
            practice_id=touch.practice_id,
            patient_id=touch.patient_id,
            direction="out",
            kind="touch",
            from_number=PRACTICE_NUMBER,
            to_number="+15125551000",
            body=body,
            idempotency_key=f"touch-{touch_id}",
            status="pending",
            touch_id=touch_id,
            decision={"touch_id": touch_id, "attempt_at": datetime.now(UTC).isoformat()},
            created_at=clock.now(),
        )
        session.add(message)
        touch.status, touch.claimed_at, touch.body = "sending", clock.now(), body
    if reached_twilio:
        SmsTransport(runtime.settings(), wait=wait_none()).send("+15125551000", body, from_=PRACTICE_NUMBER)


def test_send_that_crashed_after_twilio_accepted_is_not_sent_again(settings, twilio, clock, db_url):
    touch_id = seed_patients(db_url, 1, clock.now())[0]
    _crashed_send(db_url, touch_id, clock, reached_twilio=True, fake=twilio)
    assert dispatch.tick()["settled"] == 0  # a slow worker is not a dead one
    clock.advance(minutes=6)
    assert dispatch.tick()["settled"] == 1
    run_worker(runtime.settings())
    assert len(twilio.messages) == 1
    touch = touch_row(db_url, touch_id)
    assert touch.status == "sent"
    with session_scope(db_url) as session:
        message = session.get(Message, touch.message_id)
        assert message.twilio_sid == twilio.messages[0]["sid"]


def test_send_that_crashed_before_reaching_twilio_is_sent_once(settings, twilio, clock, db_url):
    touch_id = seed_patients(db_url, 1, clock.now())[0]
    _crashed_send(db_url, touch_id, clock, reached_twilio=False, fake=twilio)
    clock.advance(minutes=6)
    assert dispatch.tick()["settled"] == 1
    assert touch_row(db_url, touch_id).status == "queued"  # back to the schedule, claimed again at once
    dispatch_all(runtime.settings(), rounds=2)
    assert len(twilio.messages) == 1
    assert touch_row(db_url, touch_id).status == "sent"
    with session_scope(db_url) as session:
        assert len(session.exec(select(Message).where(Message.touch_id == touch_id)).all()) == 1


def test_ambiguous_twilio_error_is_looked_up_not_resent(settings, twilio, clock, db_url):
    touch_id = seed_patients(db_url, 1, clock.now())[0]
    twilio.inject(status=500, after_store=True, times=1)  # Twilio stored it, then answered 500
    dispatch_all(runtime.settings())
    assert len(twilio.messages) == 1
    clock.advance(minutes=6)
    dispatch_all(runtime.settings(), rounds=2)
    assert len(twilio.messages) == 1
    assert touch_row(db_url, touch_id).status == "sent"
