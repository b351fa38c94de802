"""Email to patients (long-form results education) and staff: SMTP when SMTP_URL is set; in the demo only,
else a local mail sink. Outside the demo an unset SMTP_URL sends nothing and says so (MailNotConfigured).

The sink stores each mail as an .eml file under <data_dir>/mail, so the demo
can show what would have been sent.
"""

from __future__ import annotations

import itertools
import smtplib
import ssl
import threading
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlparse

from bot.errors import MailNotConfigured, TransportError

SMTP_TIMEOUT_S = 10.0
"""Seconds to connect to and talk with the SMTP server."""

_counter = itertools.count()
_lock = threading.Lock()


Attachment = tuple[str, str, bytes]
"""(file name, MIME type such as "application/pdf", content)."""


def build(
    settings, to: str, subject: str, body: str, message_id: str | None = None, attachments: Sequence[Attachment] = ()
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="aftercare.local")
    message.set_content(body)
    for name, mime, content in attachments:
        maintype, subtype = mime.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def send(
    settings, to: str, subject: str, body: str, message_id: str | None = None, attachments: Sequence[Attachment] = ()
) -> str:
    """Send one mail; returns where it went ("smtp:<host>" or the sink file's path).

    `message_id` (e.g. derived from the touch) makes every attempt at one mail carry one Message-ID.

    Raises TransportError (permanent when the server refused the recipient, or MailNotConfigured: no
    SMTP_URL outside the demo, where a sink file would only pretend the mail went).
    """
    message = build(settings, to, subject, body, message_id, attachments)
    if settings.smtp_url:
        return _send_smtp(settings.smtp_url, message)
    if not settings.demo:
        raise MailNotConfigured()
    return str(_store(Path(settings.data_dir) / "mail", message))


def _store(folder: Path, message: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with _lock:
        name = (
            f"{time.strftime('%Y%m%d-%H%M%S')}-{next(_counter):06d}-{abs(hash(message['Message-ID'])) % 10**8:08d}.eml"
        )
    path = folder / name
    path.write_bytes(bytes(message))
    return path


def _send_smtp(url: str, message: EmailMessage) -> str:
    parsed = urlparse(url)
    host, secure = parsed.hostname or "localhost", parsed.scheme == "smtps"
    port = parsed.port or (465 if secure else 25)
    client: smtplib.SMTP
    try:
        if secure:
            client = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S)
        with client:
            if not secure and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
            if parsed.username:
                client.login(unquote(parsed.username), unquote(parsed.password or ""))
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise TransportError(f"mail server refused the recipient: {exc}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransportError(f"mail not sent: {type(exc).__name__}: {exc}", permanent=False) from exc
    return f"smtp:{host}"
