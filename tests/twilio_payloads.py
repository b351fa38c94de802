"""Stored Twilio webhook bodies, replayed with a valid signature (as Twilio sends them)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from twilio.request_validator import RequestValidator

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str, **changes) -> dict:
    """A stored form body as a dict, with some fields changed."""
    params = dict(parse_qsl((PAYLOADS / f"{name}.form").read_text().strip(), keep_blank_values=True))
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def post_signed(client, path: str, params: dict, token: str, base: str = "http://aftercare.test", signature=None):
    """POST a form to the app signed for `base + path`, as Twilio would."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(base + path, params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, data=urlencode(params), headers=headers, content_type="application/x-www-form-urlencoded")
