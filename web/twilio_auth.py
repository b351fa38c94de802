"""Twilio request signatures, checked against the URL Twilio signed."""

from __future__ import annotations

import hmac
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
    validator = _validator(runtime.settings().twilio_auth_token)
    url = signed_url()
    # The signature of the URL as Twilio was given it, first: the SDK's `validate` always computes two
    # (the URL with and without its port), and is asked only when this one does not match.
    if hmac.compare_digest(validator.compute_signature(url, params).encode(), signature.encode()):
        return True
    return validator.validate(url, params, signature)
