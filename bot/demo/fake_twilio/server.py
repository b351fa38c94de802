"""FakeTwilio itself: state, lifecycle, the WSGI entry that routes each URL to its resource, and `main`."""

from __future__ import annotations

import argparse
import itertools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from gunicorn.app.base import BaseApplication
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from bot.demo.fake_twilio.callbacks import StatusCallbacks
from bot.demo.fake_twilio.errors import TwilioError, json_response
from bot.demo.fake_twilio.faults import Fault, FaultInjection
from bot.demo.fake_twilio.inbound import InboundTexts
from bot.demo.fake_twilio.messages import DEFAULT_SERVICE_NUMBER, MessagesResource
from bot.demo.fake_twilio.phones import mask

log = logging.getLogger("fakes.twilio")


class _QuietHandler(WSGIRequestHandler):
    # werkzeug's access log would print query strings, phone numbers included.
    def log_request(self, code="-", size="-"):
        pass


class FakeTwilio(MessagesResource, StatusCallbacks, FaultInjection, InboundTexts):
    """An in-memory Twilio Messages API served over real HTTP on 127.0.0.1.

    Arguments:
        account_sid, auth_token: the credentials requests must carry (basic
            auth) and that webhooks are signed with.
        inbound_url: where `/_fake/inbound` posts the patient's messages.
        callbacks: post status callbacks to each message's StatusCallback.
        callback_delay: seconds between one delivery status and the next.
        landlines: numbers that answer 21614 (not a mobile) on create.
        unreachable: {number: error code} for numbers whose messages end
            undelivered (30003, 30005, 30006, 30007 ...).
        service_number: the sender a messaging service uses.
        log_requests: log one line per request, numbers masked.
        now: returns the current aware UTC time (tests backdate messages with it).
    """

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "dev-twilio-token",
        inbound_url: str | None = None,
        callbacks: bool = True,
        callback_delay: float = 0.01,
        landlines: set[str] | None = None,
        unreachable: dict[str, int] | None = None,
        service_number: str = DEFAULT_SERVICE_NUMBER,
        log_requests: bool = False,
        now=None,
        blocks_opted_out: bool = True,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.inbound_url = inbound_url
        self.callbacks = callbacks
        self.callback_delay = callback_delay
        self.landlines = set(landlines or ())
        self.unreachable = dict(unreachable or {})
        self.service_number = service_number
        self.log_requests = log_requests
        # Twilio's own opt-out handling: after STOP, creates to the number fail with 21610. An account
        # that handles opt-outs itself (Advanced Opt-Out's management turned off) is not blocked: the
        # practice's software confirms the keyword and must stop sending on its own.
        self.blocks_opted_out = blocks_opted_out
        self.now = now or (lambda: datetime.now(UTC))
        self.validator = RequestValidator(auth_token)
        self.base_url: str | None = None

        self._lock = threading.Lock()
        self._by_sid: dict[str, dict] = {}
        self._order: list[str] = []
        self._callback_urls: dict[str, str] = {}
        self._opted_out: set[str] = set()
        self._faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        """(method, path, status) of every request answered, oldest first."""
        self._creates = 0

        self._stopping = threading.Event()
        self._timer_cond = threading.Condition()
        self._timers: list[tuple[float, int, str, str]] = []
        self._timer_seq = itertools.count()
        self._timer_thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._server: BaseWSGIServer | None = None
        self._server_thread: threading.Thread | None = None

        self._urls = Map(
            [
                Rule("/2010-04-01/Accounts/<account>/Messages.json", endpoint="messages", methods=["GET", "POST"]),
                Rule("/2010-04-01/Accounts/<account>/Messages/<sid>.json", endpoint="message", methods=["GET"]),
                Rule("/_fake/faults", endpoint="faults", methods=["POST"]),
                Rule("/_fake/messages", endpoint="all_messages", methods=["GET"]),
                Rule("/_fake/reset", endpoint="reset", methods=["POST"]),
                Rule("/_fake/inbound", endpoint="inbound", methods=["POST"]),
            ],
            strict_slashes=False,
        )

    # ---------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (http://127.0.0.1:PORT)."""
        self._start_workers()
        server = self._server = make_server(host, port, self, threaded=True, request_handler=_QuietHandler)
        self.base_url = f"http://{host}:{server.server_port}"
        # A short poll interval lets stop() return at once (tests start many fakes).
        self._server_thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self._server_thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and drop pending callbacks."""
        self._stopping.set()
        with self._timer_cond:
            self._timer_cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._server_thread is not None:
                self._server_thread.join(5)
            self._server = None
        if self._timer_thread is not None:
            self._timer_thread.join(5)
            self._timer_thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    def __enter__(self) -> FakeTwilio:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start_workers(self) -> None:
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fake-twilio-callback")
        self._timer_thread = threading.Thread(target=self._run_timers, name="fake-twilio-timers", daemon=True)
        self._timer_thread.start()

    # ------------------------------------------------------------ test helpers

    @property
    def messages(self) -> list[dict]:
        """Every outbound message, oldest first (copies of the API resources)."""
        with self._lock:
            return [dict(self._by_sid[sid]) for sid in self._order if self._by_sid[sid]["direction"] != "inbound"]

    @property
    def inbound(self) -> list[dict]:
        """Every inbound message played through `/_fake/inbound`, oldest first."""
        with self._lock:
            return [dict(self._by_sid[sid]) for sid in self._order if self._by_sid[sid]["direction"] == "inbound"]

    def get(self, sid: str) -> dict | None:
        with self._lock:
            message = self._by_sid.get(sid)
            return dict(message) if message else None

    def create_requests(self) -> int:
        """How many create requests arrived, failed and unanswered ones included."""
        with self._lock:
            return self._creates

    def reset(self) -> None:
        """Forget messages, requests, faults, opt-outs and pending callbacks."""
        with self._lock:
            self._by_sid.clear()
            self._order.clear()
            self._callback_urls.clear()
            self._opted_out.clear()
            self._faults.clear()
            self.requests.clear()
            self._creates = 0
        with self._timer_cond:
            self._timers.clear()

    def opt_out(self, number: str) -> None:
        """The number sent STOP: creates to it now fail with 21610."""
        with self._lock:
            self._opted_out.add(number)

    def opt_in(self, number: str) -> None:
        with self._lock:
            self._opted_out.discard(number)

    # ------------------------------------------------------------------- WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self._urls.bind_to_environ(environ).match()
            response = getattr(self, "_on_" + endpoint)(request, **args)
        except TwilioError as error:
            response = error.response()
        except NotFound:
            response = TwilioError(404, 20404, f"The requested resource {request.path} was not found").response()
        except HTTPException as error:
            response = TwilioError(error.code, 20001, error.description or error.name).response()
        with self._lock:
            self.requests.append((request.method, request.path, response.status_code))
        if self.log_requests:
            log.info("%s %s %s%s", request.method, request.path, response.status_code, self._log_details(request))
        return response(environ, start_response)

    @staticmethod
    def _log_details(request: Request) -> str:
        fields = {**request.args, **(request.form if request.method == "POST" else {})}
        shown = [
            f"{k}={mask(v) if k in ('To', 'From') else v}"
            for k, v in fields.items()
            if k in ("To", "From", "DateSent", "DateSent>", "DateSent<")
        ]
        return (" " + " ".join(shown)) if shown else ""

    def _on_all_messages(self, request: Request) -> Response:
        return json_response(self.messages)

    def _on_reset(self, request: Request) -> Response:
        self.reset()
        return json_response({"reset": True})


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.demo.fake_twilio", description="A local fake of Twilio's Messages API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default="dev-twilio-token")
    parser.add_argument("--inbound-url", default=None, help="the app's inbound SMS webhook")
    parser.add_argument("--callback-delay", type=float, default=0.5, help="seconds between delivery statuses")
    parser.add_argument("--no-callbacks", action="store_true", help="do not post status callbacks")
    parser.add_argument(
        "--landline", action="append", default=[], metavar="NUMBER", help="answer 21614 for this number"
    )
    parser.add_argument(
        "--unreachable",
        action="append",
        default=[],
        metavar="NUMBER[:CODE]",
        help="end messages to NUMBER undelivered (default 30003)",
    )
    parser.add_argument(
        "--account-handles-opt-outs",
        action="store_true",
        help="do not block numbers that texted STOP (the account confirms keywords and stops sending itself)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--server",
        choices=("gunicorn", "werkzeug"),
        default="gunicorn",
        help="gunicorn keeps connections alive (faster); werkzeug runs in one thread",
    )
    args = parser.parse_args(argv)
    unreachable = {}
    for item in args.unreachable:
        number, _, code = item.partition(":")
        unreachable[number] = int(code or 30003)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s fake-twilio %(message)s")
    fake = FakeTwilio(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        inbound_url=args.inbound_url,
        callbacks=not args.no_callbacks,
        callback_delay=args.callback_delay,
        landlines=set(args.landline),
        unreachable=unreachable,
        log_requests=not args.quiet,
        blocks_opted_out=not args.account_handles_opt_outs,
    )
    if args.server == "werkzeug":
        base_url = fake.start(args.host, args.port)
        log.info("serving Twilio's Messages API at %s (account %s)", base_url, args.account_sid)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
        return
    _serve_with_gunicorn(fake, args.host, args.port)


def _serve_with_gunicorn(fake: FakeTwilio, host: str, port: int) -> None:
    """Serve from one gunicorn process with threads: unlike werkzeug's server it keeps connections
    alive, so a sender is not slowed by a new connection per text (the state stays in one process)."""

    class FakeServer(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": 16,
                "keepalive": 30,
                "accesslog": None,
                "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            fake._start_workers()  # callback threads live in the serving process
            log.info("serving Twilio's Messages API at http://%s:%s", host, port)
            return fake

    FakeServer().run()


if __name__ == "__main__":
    main()
