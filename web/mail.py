"""The demo's local mail sink: what Aftercare would have emailed, listed and read in the browser.

Mounted only in demo mode (see app.DEMO_BLUEPRINTS).
"""

from __future__ import annotations

from datetime import datetime
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, render_template

from bot import runtime

bp = Blueprint("mail", __name__)


def _mail_dir() -> Path:
    return runtime.settings().data_dir / "mail"


@bp.get("/mail")
def index():
    """The local mail sink: what Aftercare would have emailed (demo and development)."""
    folder = _mail_dir()
    files = (
        sorted((p for p in folder.glob("*") if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
        if folder.is_dir()
        else []
    )
    items = []
    for path in files[:200]:
        head = _mail_headers(path)
        items.append(
            {
                "name": path.name,
                "subject": head.get("subject", path.name),
                "to": head.get("to", ""),
                "at": datetime.fromtimestamp(path.stat().st_mtime).astimezone(),
            }
        )
    return render_template("mail.html", items=items, folder=folder)


@bp.get("/mail/<name>")
def message(name: str):
    """One stored email, headers and text."""
    folder = _mail_dir().resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        abort(404, description="No such mail.")
    message = _read_mail(path)
    body = message.get_body(preferencelist=("plain", "html")) if message is not None else None
    text = body.get_content() if body is not None else path.read_text(errors="replace")
    return render_template("mail_message.html", name=name, text=text, headers=_mail_headers(path))


def _read_mail(path: Path):
    try:
        return BytesParser(policy=email_policy.default).parsebytes(path.read_bytes())
    except (OSError, ValueError):
        return None


def _mail_headers(path: Path) -> dict:
    message = _read_mail(path)
    if message is None:
        return {}
    return {key.lower(): str(value) for key, value in message.items()}
