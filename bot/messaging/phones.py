"""Phone numbers: parse to E.164, and mask for logs."""

from __future__ import annotations

import phonenumbers

from bot.errors import ValidationError


def normalize(raw: str | None, country: str = "US") -> str:
    """E.164 form of a number, or ValidationError saying why it is not one."""
    if raw is None or not str(raw).strip():
        raise ValidationError([{"field": "phone", "message": "is required"}])
    try:
        parsed = phonenumbers.parse(str(raw).strip(), country)
    except phonenumbers.NumberParseException:
        raise ValidationError([{"field": "phone", "message": f"{mask(str(raw))} is not a phone number"}]) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError([{"field": "phone", "message": f"{mask(str(raw))} is not a valid number"}])
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str | None) -> str:
    """A number with all but its last four digits hidden, for logs."""
    if not number:
        return "<none>"
    digits = [c for c in str(number) if c.isdigit()]
    return "…" + "".join(digits[-4:]) if len(digits) > 4 else "…"


def area_code(number: str) -> str | None:
    """The NANP area code of a +1 number (used to guess a state for quiet hours)."""
    if number.startswith("+1") and len(number) == 12:
        return number[2:5]
    return None
