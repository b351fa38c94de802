"""A small SMTP server for the drill: keeps every mail it accepts and fails on command.

There is no fake SMTP server in fakes/, and the mail sink of bot/messaging/mailer.py cannot fail,
so the drill points SMTP_URL here. Faults apply to the next `times` mails:

    refuse     answer 451 to DATA: nothing kept, the sender sees a temporary error
    drop       close the connection after DATA arrives: nothing kept, the sender sees it break
    after_store  keep the mail, then close the connection before answering: the sender cannot
               tell it went (the case where a crash or an error after the hand-off sends twice)
"""

from __future__ import annotations

import email
import socketserver
import threading
from email import policy

FAULTS = ("refuse", "drop", "after_store")


class MailLog:
    """What the server kept (Message-ID, To, Subject) and the faults still to apply."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mails: list[dict] = []
        self.faults: list[list] = []  # [kind, times left]

    def inject(self, kind: str, times: int = 1) -> None:
        if kind not in FAULTS:
            raise ValueError(f"SMTP faults are {', '.join(FAULTS)}, not {kind}")
        with self.lock:
            self.faults.append([kind, max(1, times)])

    def next_fault(self) -> str | None:
        with self.lock:
            if not self.faults:
                return None
            fault = self.faults[0]
            fault[1] -= 1
            if fault[1] <= 0:
                self.faults.pop(0)
            return fault[0]

    def keep(self, raw: bytes) -> None:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        with self.lock:
            self.mails.append(
                {"message_id": parsed["Message-ID"], "to": parsed["To"], "subject": str(parsed["Subject"] or "")}
            )


class _Session(socketserver.StreamRequestHandler):
    timeout = 30

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        log: MailLog = self.server.mail_log
        self._say("220 drill-smtp ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-drill-smtp")
                self._say("250 8BITMIME")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 end with .")
                raw = self._read_data()
                fault = log.next_fault()
                if fault == "refuse":
                    self._say("451 try again later")
                elif fault == "drop":
                    return
                elif fault == "after_store":
                    log.keep(raw)
                    return
                else:
                    log.keep(raw)
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


class DrillSmtp:
    """Serve on 127.0.0.1 in a thread; `url` is what SMTP_URL takes."""

    def __init__(self):
        self.log = MailLog()
        self._server = _Server(("127.0.0.1", 0), _Session)
        self._server.mail_log = self.log
        self.url = f"smtp://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="drill-smtp", daemon=True)

    def __enter__(self) -> DrillSmtp:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
