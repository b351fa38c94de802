"""Phone numbers as Twilio checks them, and masked for logs."""

from __future__ import annotations

import functools
import re

import phonenumbers

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def mask(number: str | None) -> str:
    digits = "".join(c for c in str(number or "") if c.isdigit())
    return "…" + digits[-4:] if digits else "-"


def filter_number(value: str) -> str:
    # An unencoded "+" in a form or query string arrives as a space (curl users forget).
    if value.startswith(" ") and value.strip()[:1].isdigit():
        return "+" + value.strip()
    return value.strip()


@functools.lru_cache(maxsize=4096)
def is_phone(number: str) -> bool:
    if not E164.match(number):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
    except phonenumbers.NumberParseException:
        return ""
