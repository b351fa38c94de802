"""A fake SMTP server for the tests and the fault drill: keeps every mail it accepts, and fails on command.

    with FakeSmtp() as smtp:                # SMTP_URL=smtp.url
        smtp.fail_for("ana@glow.test")      # her mails get 451 until smtp.fail_for() is called with nobody
        smtp.inject("drop", times=2)        # the next two mails meet a fault (FAULTS), whoever they are for
        ... smtp.mails                      # [{"to", "subject", "message_id"}, ...]

Faults, applied in order to the next `times` mails:

    refuse       answer 451 to DATA: nothing kept, the sender sees a temporary error
    drop         close the connection after DATA arrives: nothing kept, the sender sees it break
    after_store  keep the mail, then close the connection before answering: the sender cannot
                 tell it went (the case where a crash or an error after the hand-off sends twice)

A recipient told to fail gets 451 as a full mailbox or greylisting would answer.
"""

from __future__ import annotations

import email
import socketserver
import threading
from email import policy

FAULTS = ("refuse", "drop", "after_store")


class _Session(socketserver.StreamRequestHandler):
    timeout = 30

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        fake: FakeSmtp = self.server.fake  # type: ignore[attr-defined]
        recipients: list[str] = []
        self._say("220 fake-smtp ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode(errors="replace").strip()
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-fake-smtp")
                self._say("250 8BITMIME")
            elif verb == "RCPT":
                recipients.append(text.split(":", 1)[-1].strip().strip("<>").lower())
                self._say("250 ok")
            elif verb in ("HELO", "MAIL", "RSET", "NOOP"):
                if verb in ("MAIL", "RSET"):
                    recipients = []
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 end with .")
                raw = self._read_data()
                fault = fake.next_fault()
                if fault == "drop":
                    return
                if fault == "after_store":
                    fake.keep(raw)
                    return
                if fault == "refuse" or fake.fails(recipients):
                    fake.refused.append(list(recipients))
                    self._say("451 mailbox busy, try again later")
                else:
                    fake.keep(raw)
                    self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")

    def _read_data(self) -> bytes:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line or line in (b".\r\n", b".\n"):
                break
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeSmtp:
    """Serve on 127.0.0.1 in a thread; `url` is what SMTP_URL takes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing: set[str] = set()
        self._faults: list[list] = []  # [kind, times left]
        self.mails: list[dict] = []
        self.refused: list[list[str]] = []
        self._server = _Server(("127.0.0.1", 0), _Session)
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"smtp://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-smtp", daemon=True)

    def fail_for(self, *addresses: str) -> None:
        """From now on, refuse (451) every mail to these addresses; no address: refuse none."""
        with self._lock:
            self._failing = {a.lower() for a in addresses}

    def fails(self, recipients: list[str]) -> bool:
        with self._lock:
            return bool(self._failing & set(recipients))

    def inject(self, kind: str, times: int = 1) -> None:
        """Apply fault `kind` (one of FAULTS) to the next `times` mails."""
        if kind not in FAULTS:
            raise ValueError(f"SMTP faults are {', '.join(FAULTS)}, not {kind}")
        with self._lock:
            self._faults.append([kind, max(1, times)])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def next_fault(self) -> str | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault[1] -= 1
            if fault[1] <= 0:
                self._faults.pop(0)
            return fault[0]

    def keep(self, raw: bytes) -> None:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        with self._lock:
            self.mails.append(
                {"to": str(parsed["To"]), "subject": str(parsed["Subject"] or ""), "message_id": parsed["Message-ID"]}
            )

    def __enter__(self) -> FakeSmtp:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
