"""The production gunicorn settings: an access log that never holds a phone number."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import API_TOKEN, HMAC_SECRET, TWILIO_TOKEN

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_access_log_leaves_the_phone_number_out_of_a_lookup(tmp_path, db_url, _redis_server_url):
    port = _free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": _redis_server_url,
        "AFTERCARE_DATA_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "test-secret-key-for-gunicorn",
        "AFTERCARE_API_TOKEN": API_TOKEN,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "APPOINTMENTS_WEBHOOK_SECRET": HMAC_SECRET,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:web.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        str(log),
        "app:create_app()",
    ]
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{port}/api/patients",
                    params={"phone": "+15125550143"},
                    headers={"Authorization": f"Bearer {API_TOKEN}"},
                    timeout=30,  # a loaded machine takes seconds to import the app in a fresh worker
                )
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert answer.status_code < 500  # the test is about what the access log keeps, below
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()
    written = log.read_text()
    assert "GET /api/patients HTTP/1.1" in written
    assert "5125550143" not in written and "phone=" not in written
