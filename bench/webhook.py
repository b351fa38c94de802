"""The inbound webhook under load: gunicorn serving the app, a loopback load generator, peak RSS.

One gunicorn run serves the real webhook (POST /sms/inbound) and the two
reference endpoints of web/bench_endpoints.py; a separate process posts
validly signed Twilio forms, each with its own MessageSid, over keep-alive
connections at a fixed concurrency, endpoints interleaved in rounds so the
ratios hold on a noisy machine.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent

ENDPOINTS = {"webhook": "/sms/inbound", "webhook_bare": "/bench/bare", "webhook_floor": "/bench/floor"}
"""Benchmark name → path, all on the same server."""

GUNICORN_WORKERS = 2
"""Web worker processes: one per core of the 2-core reference machine."""
GUNICORN_THREADS = 4
"""Threads per gthread worker: enough to overlap the commit and the Redis round trip while the GIL
serialises the Python; 2, 4 and 8 measured within noise of each other on the 2-core machine."""
CONCURRENCY = 8
"""Open keep-alive connections, each with one request in flight: as many as the server has request
threads (2 workers x 4), so the server is saturated while latency measures the server, not requests
waiting in its listen backlog (at 16 connections every latency doubles by Little's law)."""
ROUNDS = 2
"""Each endpoint is measured this many times, the order reversed every round."""
WARMUP_S = 1.0
"""Requests sent before measuring, per phase: connections open, pools fill, caches warm."""
MEASURE_S = 5.0
"""Seconds measured per endpoint per round."""
MAX_RPS = 4000
"""Requests prebuilt per second of a phase; a phase that runs out stops early and says so."""
AUTH_TOKEN = "bench-twilio-token"
PUBLIC_BASE_URL = "https://aftercare.bench.invalid"
"""The URL the load generator signs, as Twilio signs PUBLIC_BASE_URL + path."""

# A Twilio inbound form as Twilio posts it (tests/payloads/inbound_basic.form); the
# signature covers every field, so the real number of fields matters.
TWILIO_FORM = {
    "ToCountry": "US",
    "ToState": "TX",
    "SmsMessageSid": "",
    "NumMedia": "0",
    "ToCity": "AUSTIN",
    "FromZip": "78701",
    "SmsSid": "",
    "FromState": "TX",
    "SmsStatus": "received",
    "FromCity": "AUSTIN",
    "Body": "",
    "FromCountry": "US",
    "To": "+15125550100",
    "ToZip": "78701",
    "NumSegments": "1",
    "MessageSid": "",
    "AccountSid": "AC" + "0" * 32,
    "From": "",
    "ApiVersion": "2010-04-01",
}

BODIES = (
    "Can I come in next Tuesday after 5?",
    "Thank you so much, I love the results!",
    "Do you have anything Saturday morning?",
    "What time do you close on Fridays?",
    "Sounds good, see you then",
    "Can I move my appointment to next week?",
    "How much is a lip flip?",
    "Maybe next month, I'm traveling",
    "¿Tienen citas el sábado?",
    "Gracias, todo bien",
    "Is parking free at your office?",
    "My friend wants to book too, do you have a referral code?",
)
"""Ordinary replies that fire no guard: the path nearly every inbound text takes."""


# ---------------------------------------------------------------- requests


def build_requests(path: str, count: int, host: str) -> list[bytes]:
    """`count` complete HTTP/1.1 requests for `path`, each a signed Twilio form with its own MessageSid."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = PUBLIC_BASE_URL + path
    requests = []
    for i in range(count):
        sid = "SM" + uuid.uuid4().hex
        params = dict(
            TWILIO_FORM,
            MessageSid=sid,
            SmsMessageSid=sid,
            SmsSid=sid,
            Body=BODIES[i % len(BODIES)],
            From=f"+1512555{i % 10000:04d}",
        )
        body = urlencode(params).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\n"
            f"Accept: */*\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
            f"X-Twilio-Signature: {validator.compute_signature(url, params)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


# ------------------------------------------------------------ load generator


@dataclass
class Phase:
    """What one timed phase against one endpoint produced."""

    name: str
    measured_s: float = 0.0
    completed: int = 0
    errors: int = 0
    latencies_ms: list = field(default_factory=list)
    error_samples: list = field(default_factory=list)
    ran_out: bool = False
    client_cpu_s: float = 0.0


class _Run:
    """Shared state of one phase: the prebuilt requests, the clock window, the tallies."""

    def __init__(self, phase: Phase, requests: list[bytes], start: float, warmup_s: float, measure_s: float):
        self.phase = phase
        self.requests = requests
        self.next_index = 0
        self.window_start = start + warmup_s
        self.window_end = start + warmup_s + measure_s
        self.open = 0
        self.done = asyncio.get_running_loop().create_future()

    def take(self) -> bytes | None:
        if time.perf_counter() >= self.window_end:
            return None
        if self.next_index >= len(self.requests):
            self.phase.ran_out = True
            return None
        request = self.requests[self.next_index]
        self.next_index += 1
        return request

    def record(self, started: float, finished: float, ok: bool, detail: str = "") -> None:
        if not (self.window_start <= started and finished <= self.window_end):
            return
        if ok:
            self.phase.completed += 1
            self.phase.latencies_ms.append((finished - started) * 1000)
        else:
            self.phase.errors += 1
            if len(self.phase.error_samples) < 5:
                self.phase.error_samples.append(detail)

    def closed(self) -> None:
        self.open -= 1
        if self.open == 0 and not self.done.done():
            self.done.set_result(None)


def _content_length(head: bytes) -> int:
    marker = head.find(b"content-length:")
    if marker < 0:
        return 0
    end = head.find(b"\r\n", marker)
    return int(head[marker + 15 : end if end > 0 else None])


class _Connection(asyncio.Protocol):
    """One keep-alive connection with one request in flight; latency is send to last byte of the response."""

    def __init__(self, run: _Run):
        self.run = run
        self.buffer = bytearray()
        self.needed = None
        self.status = 0
        self.started = 0.0
        self.in_flight = False
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send_next()

    def _send_next(self) -> None:
        request = self.run.take()
        if request is None:
            self.transport.close()
            return
        self.started = time.perf_counter()
        self.in_flight = True
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.needed is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                self.status = int(head[9:12])
                self.body_start = end + 4
                self.needed = self.body_start + _content_length(head)
            if len(self.buffer) < self.needed:
                return
            body = bytes(self.buffer[self.body_start : self.needed]) if self.status >= 300 else b""
            del self.buffer[: self.needed]
            self.needed = None
            self.in_flight = False
            ok = 200 <= self.status < 300
            self.run.record(self.started, time.perf_counter(), ok, "" if ok else f"HTTP {self.status} {body[:80]!r}")
            self._send_next()
            return

    def connection_lost(self, exc) -> None:
        if self.in_flight:
            self.run.record(self.started, time.perf_counter(), False, f"connection lost: {exc}")
        self.run.closed()


async def _phase(
    host: str, port: int, phase: Phase, requests: list[bytes], concurrency: int, warmup_s: float, measure_s: float
) -> None:
    loop = asyncio.get_running_loop()
    run = _Run(phase, requests, time.perf_counter(), warmup_s, measure_s)
    run.open = concurrency
    for _ in range(concurrency):
        try:
            await loop.create_connection(lambda: _Connection(run), host, port)
        except OSError as exc:
            phase.errors += 1
            phase.error_samples.append(f"connect: {exc}")
            run.closed()
    # Requests still in flight at the end of the window finish or time out here.
    try:
        await asyncio.wait_for(run.done, warmup_s + measure_s + 10)
    except TimeoutError:
        phase.errors += run.open
        phase.error_samples.append(f"{run.open} request(s) got no response within 10 s")
    phase.measured_s = measure_s


def _die_with_parent() -> None:
    """Linux: receive SIGTERM when the bench process dies, so nothing outlives an interrupted run."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_load(
    host: str, port: int, schedule: list[tuple[str, str]], concurrency: int, warmup_s: float, measure_s: float
) -> list[Phase]:
    """Run each (name, path) of the schedule in turn; requests are built and signed before each phase's clock starts."""
    _die_with_parent()
    phases = []
    for name, path in schedule:
        requests = build_requests(path, int(MAX_RPS * (warmup_s + measure_s)), f"{host}:{port}")
        phase = Phase(name)
        cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        asyncio.run(_phase(host, port, phase, requests, concurrency, warmup_s, measure_s))
        phase.client_cpu_s = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_before
        phases.append(phase)
    return phases


def _load_process(sender, *args) -> None:
    """The load generator's process: Ctrl-C is the parent's to handle, results go back through the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sender.send(run_load(*args))
    sender.close()


def interleaved_schedule(rounds: int = ROUNDS) -> list[tuple[str, str]]:
    """floor, bare, webhook, then webhook, bare, floor, …: each endpoint sees early and late conditions alike."""
    order = list(ENDPOINTS.items())[::-1]
    schedule = []
    for number in range(rounds):
        schedule += order if number % 2 == 0 else order[::-1]
    return schedule


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, -(-len(ordered) * q // 100) - 1))
    return ordered[int(rank)]


def summarize(phases: list[Phase]) -> dict:
    """Per endpoint: requests/s over all its measured seconds, p50 and p99 of every latency, errors."""
    result = {}
    for name in ENDPOINTS:
        mine = [p for p in phases if p.name == name]
        latencies = [ms for p in mine for ms in p.latencies_ms]
        seconds = sum(p.measured_s for p in mine) or 1.0
        result[name] = {
            "rps": round(sum(p.completed for p in mine) / seconds, 1),
            "p50_ms": round(percentile(latencies, 50), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "errors": sum(p.errors for p in mine),
        }
    return result


# ------------------------------------------------------------------ processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(each) for each in fh.read().split()]
    except OSError:
        pass
    return found


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process in MB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reap(process: subprocess.Popen, block: bool = False) -> bool:
    """Reap a process we started with wait4, keeping its resource usage; True once it has exited.

    wait4's ru_maxrss is the larger of the process's own peak and that of its largest reaped child
    (gunicorn's web workers, RQ's work horses), so it holds even for children already gone."""
    if process.returncode is not None:
        return True
    pid, status, usage = os.wait4(process.pid, 0 if block else os.WNOHANG)
    if not pid:
        return False
    process.returncode = os.waitstatus_to_exitcode(status)
    process.peak_mb = usage.ru_maxrss / 1024
    return True


def _stop(process: subprocess.Popen, grace_s: float = 15.0) -> float:
    """SIGTERM a process we started, SIGKILL its group after the grace period; return its peak RSS in MB."""
    if not _reap(process):
        try:
            process.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace_s
        while not _reap(process):
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                _reap(process, block=True)
                break
            time.sleep(0.05)
    try:  # anything of the group still alive (orphaned grandchildren) goes too
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return getattr(process, "peak_mb", 0.0)


def _spawn(argv: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115  (the child process keeps writing to it after we return)
    try:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    finally:
        log.close()


class Server:
    """gunicorn serving create_app() with the bench endpoints on a loopback port."""

    def __init__(
        self,
        env: dict,
        log_path: Path,
        workers: int = GUNICORN_WORKERS,
        threads: int = GUNICORN_THREADS,
        app: str = "app:create_app()",
    ):
        self.env = dict(env, AFTERCARE_BENCH_ENDPOINTS="1")
        self.app = app
        self.log_path = log_path
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.peak_mb = 0.0

    def __enter__(self) -> Server:
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.threads),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--keep-alive",
            "5",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            self.app,
        ]
        self.process = _spawn(argv, self.env, self.log_path)
        self._wait_ready()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            if _reap(self.process):
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                    if answer.status == 200 and len(children(self.process.pid)) >= self.workers:
                        return
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not ready after {timeout_s:.0f} s ({last}); see {self.log_path}")

    def worker_peak_mb(self) -> float:
        """The largest VmHWM among the live web workers."""
        return max((peak_rss_mb(pid) for pid in children(self.process.pid)), default=0.0)

    def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.peak_mb = max(self.peak_mb, self.worker_peak_mb())
            self.peak_mb = max(self.peak_mb, _stop(self.process))


def run_endpoints(
    env: dict,
    log_path: Path,
    *,
    rounds: int = ROUNDS,
    warmup_s: float = WARMUP_S,
    measure_s: float = MEASURE_S,
    concurrency: int = CONCURRENCY,
    threads: int = GUNICORN_THREADS,
    app: str = "app:create_app()",
) -> tuple[dict, list[Phase], float]:
    """Serve the app under gunicorn and load its three endpoints; return (summary, phases, web worker peak MB)."""
    with Server(env, log_path, threads=threads, app=app) as server:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        load = context.Process(
            target=_load_process,
            daemon=True,
            args=(sender, "127.0.0.1", server.port, interleaved_schedule(rounds), concurrency, warmup_s, measure_s),
        )
        load.start()
        sender.close()
        try:
            phases = receiver.recv()
        except EOFError:
            raise RuntimeError(f"the load generator died (exit code {load.join(5) or load.exitcode})") from None
        finally:
            if load.is_alive():
                load.terminate()
            load.join(5)
        server.stop()
        return summarize(phases), phases, server.peak_mb


# --------------------------------------------------------------------- worker

WORKER_SETTLE_S = 2.0
"""Seconds the worker idles (suspended) after start-up before it is given the backlog."""


def run_worker(env: dict, log_path: Path, redis_url: str, seconds: float) -> dict:
    """Run worker.py over the jobs the load enqueued for up to `seconds`; its peak RSS and what it got through.

    The worker starts suspended and gets the backlog once it has settled, as a running worker would
    (a fork while its tick thread is still importing can leave a work horse stuck on the import lock).
    RQ forks a work horse per job; the peak counts the worker and every horse."""
    from redis import Redis
    from rq import Worker
    from rq.suspension import resume, suspend

    redis = Redis.from_url(redis_url)
    key = "rq:queue:inbound"
    queued = redis.llen(key)
    suspend(redis)
    worker = _spawn([sys.executable, "worker.py"], env, log_path)
    peak = 0.0
    try:
        deadline = time.monotonic() + 30
        while not any(w.get_state() == "suspended" for w in Worker.all(connection=redis)):
            if _reap(worker) or time.monotonic() > deadline:
                raise RuntimeError(f"worker.py did not start; see {log_path}")
            time.sleep(0.05)
        time.sleep(WORKER_SETTLE_S)
        resume(redis)
        started = time.monotonic()
        idle_since = None
        while time.monotonic() - started < seconds and not _reap(worker):
            horses = children(worker.pid)
            peak = max([peak, peak_rss_mb(worker.pid), *(peak_rss_mb(pid) for pid in horses)])
            if redis.llen(key) == 0 and not horses:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 0.5:
                    break
            else:
                idle_since = None
            time.sleep(0.02)
        elapsed = time.monotonic() - started
    finally:
        peak = max(peak, _stop(worker))
        remaining = redis.llen(key)
        resume(redis)
        redis.close()
    done = queued - remaining
    return {
        "peak_mb": peak,
        "queued": queued,
        "processed": done,
        "seconds": elapsed,
        "jobs_per_s": done / elapsed if elapsed else 0.0,
    }
