"""The queues: jobs queued under a module path from before a rename still run."""

from __future__ import annotations

from rq import SimpleWorker

from bot.conversation.processing import process_inbound
from bot.queue import RENAMED_JOBS, AftercareJob, get_queue
from bot.touches import dispatch
from store.db import session_scope
from store.models import Message
from tests import factories


def test_every_renamed_job_resolves_to_a_function_that_exists(redis):
    for old, new in RENAMED_JOBS.items():
        job = AftercareJob.create(old, connection=redis)
        assert f"{job.func.__module__}.{job.func.__name__}" == new


def test_a_job_queued_under_its_old_path_runs(settings, redis):
    with session_scope(settings.database_url) as session:
        practice = factories.practice(session)
        message = Message(
            practice_id=practice.id,
            direction="in",
            kind="sms",
            from_number="+15125550143",
            to_number=factories.AUSTIN_NUMBER,
            body="ok thanks",
            twilio_sid="SM" + "7" * 32,
        )
        session.add(message)
        session.flush()
        message_id = message.id
    queue = get_queue("inbound", settings)
    job = queue.enqueue("bot.inbound.process_inbound", message_id)
    SimpleWorker([queue], connection=queue.connection, job_class=AftercareJob).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result().exc_string if job.latest_result() else job.get_status()
    with session_scope(settings.database_url) as session:
        assert session.get(Message, message_id).processed_at is not None
    assert process_inbound(message_id) == "already processed"
    assert dispatch.SEND_JOB in RENAMED_JOBS.values()
