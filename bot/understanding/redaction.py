"""Minimum necessary: phone numbers, emails and names scrubbed from text bound for the LLM."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w$])\+?\(?\d(?:[\s().-]*\d){6,14}(?!\w)")
_GREETING = re.compile(r"^(\s*(?i:hi|hey|hello|hola|buenas|buenos dias|dear)\s+)([A-Z][\w'-]+)(?=[\s!,.])")


def redact(text: str | None, names=()) -> str:
    """Scrub phone numbers, emails and the given names from text bound for the LLM."""
    if not text:
        return ""
    out = _EMAIL.sub("[email]", text)
    out = _PHONE.sub(lambda m: "[phone]" if sum(ch.isdigit() for ch in m.group()) >= 7 else m.group(), out)
    for name in names or ():
        if name and len(name.strip()) >= 2:
            out = re.sub(rf"(?i)\b{re.escape(name.strip())}\b", "[name]", out)
    out = _GREETING.sub(lambda m: m.group(1) + "[name]", out)
    return out
