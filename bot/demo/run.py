"""`make demo`: the whole system on one machine, seeded, with a fake Twilio and a patient simulator.

    python -m bot.demo

Starts, all bound to 127.0.0.1: the embedded Redis, the fake Twilio (PORT+10 when
free), the web app under gunicorn on PORT and one RQ worker. PORT, PUBLIC_BASE_URL,
TWILIO_AUTH_TOKEN, APPOINTMENTS_WEBHOOK_SECRET and AFTERCARE_API_TOKEN are honoured
when set, so an outside client can sign requests; the values in use are printed.
Ctrl-C or SIGTERM stops every child.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlmodel import col, select

from bot import runtime
from bot.demo.seed import ADMIN_EMAIL, DEMO_PASSWORD, DIRECTOR_EMAIL, MANAGER_EMAIL, MIAMI_DESK_EMAIL, seed_demo
from bot.errors import ConfigError
from bot.queue import redis_url, reset_connections
from bot.settings import DEMO_SECRETS, Settings, default_data_dir
from bot.vocabulary import KeywordConfirmer
from store.db import dispose_all, session_scope, upgrade
from store.models import Practice

HOST = "127.0.0.1"
"""The demo never listens on anything but loopback."""

HEALTH_TIMEOUT_S = 90
"""How long to wait for /healthz to answer 200 before giving up."""

STOP_TIMEOUT_S = 10
"""How long each child gets to exit after SIGTERM before it is killed."""

DEFAULT_FROM_NUMBER = "+15125550100"
"""The Austin location's number: the sender when nothing more specific is configured."""


class _Stop(Exception):
    """SIGTERM or SIGINT arrived."""


_stopping: list[int] = []


def _on_signal(signum, _frame):
    # make forwards the signal too: only the first one stops; a second must not interrupt the stopping.
    if _stopping:
        return
    _stopping.append(signum)
    raise _Stop(signal.Signals(signum).name)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: connections of a stopped demo lingering in TIME_WAIT do not block the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _die_with_parent():
    # Children must not outlive a demo that was killed with SIGKILL: ask Linux to send them SIGTERM.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _secret_key(data_dir: Path) -> str:
    """A per-installation session key, kept so sign-ins survive a restart."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Demo:
    """The demo's children and how to start and stop them."""

    def __init__(self, settings: Settings, env: dict):
        self.settings = settings
        self.env = env
        self.children: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        process = subprocess.Popen(
            args,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self.children.append((name, process))
        return process

    def dead_child(self) -> str | None:
        for name, process in self.children:
            if process.poll() is not None:
                return f"{name} exited with code {process.returncode}"
        return None

    def stop(self) -> None:
        """SIGTERM to each child (newest first), then SIGKILL to any still running."""
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for name, process in reversed(self.children):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"demo: {name} did not stop in {STOP_TIMEOUT_S}s; killing it", file=sys.stderr)
                process.kill()
                process.wait()


def _settings_and_env(environ: dict) -> tuple[Settings, dict, list[str]]:
    """Settings for the demo, the environment its children get, and which values were defaulted."""
    env = dict(environ)
    defaulted: list[str] = []
    data_dir = Path(env.get("AFTERCARE_DATA_DIR") or default_data_dir()).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env["AFTERCARE_DATA_DIR"] = str(data_dir)
    port = env.get("PORT") or "8000"
    env["PORT"] = port
    if not env.get("PUBLIC_BASE_URL"):
        env["PUBLIC_BASE_URL"] = f"http://{HOST}:{port}"
        defaulted.append("PUBLIC_BASE_URL")
    env["AFTERCARE_DEMO"] = "1"  # the only place demo values, the mail sink and the simulator are allowed
    for name, value in DEMO_SECRETS.items():
        if not env.get(name):
            env[name] = value
            defaulted.append(name)
    if not env.get("TWILIO_MESSAGING_SERVICE_SID"):
        env.setdefault("TWILIO_FROM_NUMBER", DEFAULT_FROM_NUMBER)
    env.setdefault("SECRET_KEY", _secret_key(data_dir))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return Settings.from_env(env), env, defaulted


def _practice_confirms_keywords(database_url: str, settings: Settings) -> bool:
    """Whether the demo practice confirms STOP/START itself (Settings, else TWILIO_CONFIRMS_OPT_OUT).
    Then its Twilio account does not block opted-out numbers, as with Advanced Opt-Out's management
    turned off, and the fake Twilio is started that way, so the simulator shows the practice's own
    confirmation; Aftercare's send gate is what keeps every other text from an opted-out patient."""
    with session_scope(database_url) as session:
        chosen = session.exec(select(Practice.keyword_confirmations).order_by(col(Practice.id))).first()
    if chosen:
        return chosen == KeywordConfirmer.AFTERCARE
    return not settings.twilio_confirms_opt_out


def main(argv: list[str] | None = None) -> int:
    """Run the demo until interrupted; 0 after a clean stop, 1 when it could not start or a part died."""
    argparse.ArgumentParser(prog="python -m bot.demo", description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        settings, env, defaulted = _settings_and_env(dict(os.environ))
    except ConfigError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    if not _port_free(settings.port):
        print(f"demo: port {settings.port} on {HOST} is in use; set PORT to another one", file=sys.stderr)
        return 1
    runtime.configure(settings)

    database_url = settings.effective_database_url
    print(f"demo: database {database_url.split('@')[-1]}", flush=True)
    upgrade(database_url)
    seeded = seed_demo(database_url)
    print("demo: seeded the demo practice" if seeded["created"] else "demo: demo practice already seeded", flush=True)
    own_keywords = _practice_confirms_keywords(database_url, settings)
    dispose_all()
    env["REDIS_URL"] = redis_url(settings)

    fake_port = settings.port + 10 if settings.port + 10 <= 65535 and _port_free(settings.port + 10) else _free_port()
    fake_url = f"http://{HOST}:{fake_port}"
    env["TWILIO_API_BASE_URL"] = fake_url
    base_url = f"http://{HOST}:{settings.port}"

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    demo = Demo(settings, env)
    code = 0
    try:
        demo.spawn(
            "fake Twilio",
            [
                sys.executable,
                "-m",
                "bot.demo.fake_twilio",
                "--host",
                HOST,
                "--port",
                str(fake_port),
                "--account-sid",
                settings.twilio_account_sid,
                "--auth-token",
                env["TWILIO_AUTH_TOKEN"],
                "--inbound-url",
                env["PUBLIC_BASE_URL"] + "/sms/inbound",
                *(["--account-handles-opt-outs"] if own_keywords else []),
            ],
            env,
        )
        demo.spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:web.gunicorn_conf",
                "--bind",
                f"{HOST}:{settings.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                "app:create_app()",
            ],
            env,
        )
        demo.spawn("worker", [sys.executable, "-m", "worker"], env)
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not _healthy(base_url + "/healthz"):
            problem = demo.dead_child()
            if problem or time.monotonic() > deadline:
                print(
                    f"demo: could not start: {problem or f'/healthz not ready after {HEALTH_TIMEOUT_S}s'}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.25)
        _banner(base_url, fake_url, env, defaulted, DEMO_PASSWORD, settings)
        while True:
            problem = demo.dead_child()
            if problem:
                print(f"demo: {problem}; stopping the rest", file=sys.stderr)
                code = 1
                break
            time.sleep(0.5)
    except _Stop as stop:
        print(f"\ndemo: {stop} received, stopping", flush=True)
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        demo.stop()
        reset_connections()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("demo: stopped", flush=True)
    return code


def _banner(base_url, fake_url, env, defaulted, password, settings) -> None:
    lines = [
        "",
        "Aftercare demo is running (Ctrl-C stops everything)",
        "",
        f"  Dashboard          {base_url}/",
        f"    sign in as       {MANAGER_EMAIL}  /  {password}   (manager)",
        f"                     {ADMIN_EMAIL}  /  {password}   (admin: Users, erasure, unrouted texts)",
        f"                     {MIAMI_DESK_EMAIL}  /  {password}   (front desk, Miami only)",
        f"                     {DIRECTOR_EMAIL}  /  {password}   (medical director: signs off aftercare texts)",
        f"  Patient simulator  {base_url}/simulator/",
        f"  Fake Twilio API    {fake_url}   (Messages resource under /2010-04-01/Accounts/{settings.twilio_account_sid}/)",
        f"  Health             {base_url}/healthz",
        f"  Mail sink          {settings.data_dir / 'mail'}",
        "",
        "  Secrets in use (set them in the environment to choose your own)",
        *(
            f"    {name:<28} {env[name]}{'   (default)' if name in defaulted else ''}"
            for name in ("PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "APPOINTMENTS_WEBHOOK_SECRET", "AFTERCARE_API_TOKEN")
        ),
        f"    REDIS_URL                    {env['REDIS_URL']}",
        "",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
