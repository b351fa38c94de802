"""A local fake of OpenAI's chat-completions endpoint, for tests and the demo.

The real `openai` client talks to it through `base_url`:

    POST /v1/chat/completions      answers with the next scripted reply

Replies are scripted in order (`queue`); when the script runs out the
`default` reply is used. Every request is recorded (`requests`) so a test can
check exactly what left the process. Scripted replies:

    answer({...})          a chat completion whose message content is that JSON
    raw("not json")        a chat completion with that text as content
    status(500, times=2)   an HTTP error with OpenAI's error body
    delay(3.0, answer(..)) wait, then send the wrapped reply

Control endpoints for use outside Python: POST /_fake/queue (JSON list of
replies as `answer`/`raw`/`status`/`delay` build them), GET /_fake/requests,
POST /_fake/reset.

    python -m fakes.openai_server --port 8011
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer(content: dict) -> dict:
    """A successful completion whose content is `content` as JSON."""
    return {"kind": "raw", "content": json.dumps(content)}


def raw(text: str) -> dict:
    """A successful completion with arbitrary content text (malformed JSON, prose...)."""
    return {"kind": "raw", "content": text}


def status(code: int, times: int = 1) -> list[dict]:
    """`times` HTTP errors with the given status code."""
    return [{"kind": "status", "status": code}] * times


def delay(seconds: float, then: dict | None = None) -> dict:
    """Wait `seconds` before sending `then` (default: the default reply)."""
    return {"kind": "delay", "seconds": seconds, "then": then}


DEFAULT_ANSWER = {
    "intent": "other",
    "urgency": "none",
    "confidence": 0.5,
    "rationale": "default fake answer",
    "entities": {
        "date_preference": None,
        "time_preference": None,
        "slot_choice": None,
        "friend_first_name": None,
        "language": None,
    },
}


class FakeOpenAI:
    """The fake server; `start()` it, point `OPENAI_BASE_URL` at `base_url`, `stop()` it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.script: list[dict] = []
        self.requests: list[dict] = []
        self.default = answer(DEFAULT_ANSWER)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def queue(self, *replies) -> None:
        """Append replies (or lists of replies, as `status` returns) to the script."""
        with self._lock:
            for reply in replies:
                self.script.extend(reply if isinstance(reply, list) else [reply])

    def reset(self) -> None:
        with self._lock:
            self.script.clear()
            self.requests.clear()
            self.default = answer(DEFAULT_ANSWER)

    def _next(self) -> dict:
        with self._lock:
            return self.script.pop(0) if self.script else self.default

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, code: int, payload) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout); nothing to tell it

            def do_GET(self):
                if self.path == "/_fake/requests":
                    with fake._lock:
                        self._send(200, list(fake.requests))
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = None
                if self.path == "/_fake/queue":
                    fake.queue(*(payload or []))
                    return self._send(200, {"queued": len(payload or [])})
                if self.path == "/_fake/reset":
                    fake.reset()
                    return self._send(200, {"reset": True})
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": payload})
                self._reply(fake._next(), payload or {})

            def _reply(self, reply: dict, request: dict) -> None:
                if reply["kind"] == "delay":
                    time.sleep(reply["seconds"])
                    return self._reply(reply.get("then") or fake.default, request)
                if reply["kind"] == "status":
                    code = reply["status"]
                    kind = "rate_limit_exceeded" if code == 429 else "server_error"
                    return self._send(code, {"error": {"message": f"fake {code}", "type": kind, "code": kind}})
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-fake{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": request.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "logprobs": None,
                                "message": {"role": "assistant", "content": reply["content"], "refusal": None},
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # a client hanging up mid-reply is expected in timeout tests

        self._server = Server((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Fake OpenAI chat-completions server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    args = parser.parse_args(argv)
    fake = FakeOpenAI(args.host, args.port).start()
    print(f"fake OpenAI at {fake.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
