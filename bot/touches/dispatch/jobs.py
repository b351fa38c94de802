"""The send jobs in RQ: batches with deterministic ids, the lease a running job holds, which jobs are live."""

from __future__ import annotations

import logging
import os
import threading
import zlib

from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import update
from sqlmodel import col, select

from bot import runtime
from bot.queue import get_queue, redis_connection
from store.db import session_scope
from store.models import Touch

log = logging.getLogger(__name__)


SEND_JOB = "bot.touches.dispatch.send.send_batch"
"""Dotted path of the job that sends one touch."""
JOB_RESULT_TTL = 24 * 3600
"""Seconds RQ keeps a finished send job (its id shows it ran)."""
SEND_BATCH = 100
"""Touches per send job: one job's touches go out over SEND_THREADS connections at once."""


def batch_job_id(touch_ids: list[int]) -> str:
    """The deterministic id of the job sending these touches (ids sorted)."""
    digest = zlib.crc32(",".join(map(str, touch_ids)).encode())
    return f"touches-{touch_ids[0]}-{len(touch_ids)}-{digest:08x}"


def enqueue(touch_ids: list[int]) -> int:
    """Enqueue send jobs of about SEND_BATCH touches with deterministic ids, kept on the touch rows;
    a lost enqueue is repaired by reconcile. A patient's touches always share one job, where they
    run one after another, so frequency caps see each other's sends."""
    if not touch_ids:
        return 0
    with session_scope(runtime.db_url()) as session:
        owners = session.exec(select(Touch.patient_id, Touch.id).where(col(Touch.id).in_(sorted(touch_ids)))).all()
        per_patient: dict[int, list[int]] = {}
        for patient_id, touch_id in sorted(owners):
            per_patient.setdefault(patient_id, []).append(touch_id)
        batches: list[list[int]] = [[]]
        for group in per_patient.values():
            if batches[-1] and len(batches[-1]) + len(group) > SEND_BATCH:
                batches.append([])
            batches[-1].extend(group)
        batches = [sorted(batch) for batch in batches if batch]
        for batch in batches:
            session.exec(update(Touch).where(col(Touch.id).in_(batch)).values(job_id=batch_job_id(batch)))
    queue = get_queue("touches", runtime.settings())
    jobs = [
        Queue.prepare_data(
            SEND_JOB,
            args=(batch,),
            job_id=batch_job_id(batch),
            result_ttl=JOB_RESULT_TTL,
            failure_ttl=7 * 24 * 3600,
            timeout=600,
        )
        for batch in batches
    ]
    try:
        for start in range(0, len(jobs), 500):
            queue.enqueue_many(jobs[start : start + 500])
    except RedisError as exc:
        log.warning("enqueue of %d touch job(s) failed (%s); reconcile will retry", len(touch_ids), exc)
        return 0
    return sum(len(batch) for batch in batches)


def without_live_job(touch_ids: list[int]) -> list[int]:
    if not touch_ids:
        return []
    with session_scope(runtime.db_url()) as session:
        job_ids = dict(session.exec(select(Touch.id, Touch.job_id).where(col(Touch.id).in_(touch_ids))).all())
    distinct = sorted({jid for jid in job_ids.values() if jid})
    connection = redis_connection(runtime.settings())
    try:
        pipe = connection.pipeline(transaction=False)
        for jid in distinct:
            pipe.hget(f"rq:job:{jid}", "status")
            pipe.exists(Lease.key(jid))
        answers = pipe.execute()
    except RedisError as exc:
        log.warning("cannot check send jobs in Redis: %s", exc)
        return []
    # Waiting jobs are live; a started one only while its worker renews the lease (a killed worker's
    # job stays "started" in RQ until its timeout, minutes later).
    live = {
        jid
        for jid, status, leased in zip(distinct, answers[0::2], answers[1::2])
        if status in (b"queued", b"deferred", b"scheduled") or (status == b"started" and leased)
    }
    return [touch_id for touch_id in touch_ids if job_ids.get(touch_id) not in live]


class Lease:
    """A running send job's hold on its batch: a Redis key with a time to live, renewed while the job runs.

    When the worker dies the key expires within `seconds`, and reconcile re-drives the batch."""

    def __init__(self, job_id: str, seconds: int):
        self.name, self.seconds = self.key(job_id), seconds
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name=f"lease-{job_id}", daemon=True)

    @staticmethod
    def key(job_id: str) -> str:
        return f"aftercare:lease:{job_id}"

    def _set(self) -> None:
        try:
            redis_connection(runtime.settings()).set(self.name, os.getpid(), ex=self.seconds)
        except RedisError as exc:  # the rows' claims still keep each text to one send
            log.warning("send lease %s not renewed: %s", self.name, exc)

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            self._set()

    def __enter__(self) -> Lease:
        self._set()
        self._renewer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._renewer.join(timeout=5)
        try:
            redis_connection(runtime.settings()).delete(self.name)
        except RedisError:
            pass
