"""A pytest plugin: a test fails when anything it logged carries a full phone number.

Logs must mask phone numbers (bot.messaging.phones.mask keeps the last four digits). Every record
at INFO and above, from every logger, is formatted with its arguments, its exception and stack
text, and searched for a number of ten or more digits however it is punctuated.
"""

from __future__ import annotations

import logging
import re

import pytest

FULL_NUMBER = re.compile(r"(?<![\w.])\+?1?[\s.(-]*\d{3}[\s.)-]*\d{3}[\s.-]*\d{4}(?![\w])")
"""A North American number, E.164 or punctuated, as a patient's or a practice's phone is written."""

_SAFE = re.compile(r"^\+?1?5550{3,}\d*$|^\d{10,}$")


def _numbers(text: str) -> list[str]:
    found = []
    for match in FULL_NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if len(digits) in (10, 11):
            found.append(match.group())
    return found


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.leaks: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot format is not ours to judge
            return
        for number in _numbers(text):
            self.leaks.append(f"{record.name}:{record.levelname}: …{number}… in {text[:300]!r}")


@pytest.fixture(autouse=True)
def _no_phone_numbers_in_logs():
    """Fails the test if any log record it produced holds a full phone number."""
    collector = _Collector()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collector)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)
    if collector.leaks:
        pytest.fail("full phone numbers in logs:\n" + "\n".join(collector.leaks[:5]), pytrace=False)
