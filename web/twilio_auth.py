"""Twilio request signatures, checked against the URL Twilio signed."""

from __future__ import annotations

from functools import lru_cache

from flask import request
from twilio.request_validator import RequestValidator

from bot import runtime


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def signed_url() -> str:
    """The URL Twilio signed: behind a TLS proxy that is PUBLIC_BASE_URL, not what Flask sees."""
    base = runtime.settings().public_base_url
    if not base:
        return request.url
    query = request.query_string.decode()
    return base + request.path + (f"?{query}" if query else "")


def valid_twilio_request(params: dict) -> bool:
    """True when X-Twilio-Signature matches these form parameters."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    return _validator(runtime.settings().twilio_auth_token).validate(signed_url(), params, signature)
