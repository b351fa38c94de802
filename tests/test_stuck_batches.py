"""A send batch whose worker died is re-driven within the lease, whatever RQ still says about its job."""

from __future__ import annotations

from rq.job import Job, JobStatus
from sqlalchemy import update

from bot import runtime
from bot.queue import redis_connection
from bot.touches import dispatch
from bot.touches.dispatch.jobs import Lease
from store.db import session_scope
from store.models import Touch
from tests.helpers import PATIENT, add_touch, run_worker, seed_visit, sent_to, touch_row


def _started_by_a_worker_that_died(touch_id: int) -> str:
    """The batch's job as RQ leaves it when its worker is SIGKILLed: "started", for minutes."""
    job_id = touch_row(runtime.db_url(), touch_id).job_id
    job = Job.fetch(job_id, connection=redis_connection(runtime.settings()))
    job.set_status(JobStatus.STARTED)
    return job_id


def test_a_queued_batch_whose_worker_died_is_enqueued_again_after_the_lease(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    touches = [add_touch(db_url, ids, step=f"step{n}") for n in range(3)]
    assert dispatch.tick()["enqueued"] == 3
    _started_by_a_worker_that_died(touches[0])

    clock.advance(seconds=settings.send_lease_s + 1)
    assert dispatch.reconcile()["requeued"] == 3


def test_a_batch_whose_worker_renews_its_lease_is_left_alone(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    dispatch.tick()
    job_id = _started_by_a_worker_that_died(touch_id)
    redis_connection(settings).set(Lease.key(job_id), 1, ex=60)  # the worker is alive, only slow

    clock.advance(seconds=settings.send_lease_s + 1)
    assert dispatch.reconcile() == {"requeued": 0, "settled": 0}


def test_a_touch_left_sending_by_a_dead_worker_is_looked_up_and_sent_once(settings, twilio, clock, db_url):
    ids = seed_visit(db_url)
    touch_id = add_touch(db_url, ids)
    dispatch.tick()
    _started_by_a_worker_that_died(touch_id)
    with session_scope(db_url) as session:  # it had claimed the touch, then died before calling Twilio
        session.exec(update(Touch).where(Touch.id == touch_id).values(status="sending", claimed_at=clock.now()))

    clock.advance(seconds=settings.send_lease_s + 1)
    assert dispatch.reconcile()["settled"] == 1
    assert touch_row(db_url, touch_id).status == "scheduled"
    clock.advance(seconds=1)
    dispatch.tick()

    run_worker(settings)
    assert touch_row(db_url, touch_id).status == "sent"
    assert len(sent_to(twilio, PATIENT)) == 1
    clock.advance(minutes=10)
    dispatch.tick()
    assert len(sent_to(twilio, PATIENT)) == 1
