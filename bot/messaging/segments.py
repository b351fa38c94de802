"""SMS text: GSM-7 normalisation and an honest segment count.

One character outside GSM-7 turns the whole text into UCS-2, which holds 70
characters a segment instead of 160 (67 instead of 153 once split), so a
curly quote pasted from a word processor can triple the price of a text.
Before sending we always replace look-alikes with their GSM-7 twins (nobody
sees the difference between a curly and a straight quote).

Spanish: é, ñ, ü, ¿, ¡ (and à è ì ò ù) are in the GSM-7 basic set, but the
lower-case á, í, ó, ú and the capitals Á, Í, Ó, Ú are not. `fit` is what the
sender uses: it keeps a text as written ("¿Cómo estás?", UCS-2), unless

- the practice chose GSM-only (`Practice.gsm_only`): accents are folded to
  the plain letter (the same choice Twilio's Smart Encoding makes) and any
  other character outside GSM-7 is folded or dropped, so the text is GSM-7;
- or keeping the accents would take the text past MAX_SEGMENTS while the
  folded text takes fewer segments: then that one text goes folded, since
  two segments is the most a text may cost.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""GSM 03.38 basic set: one septet each."""

GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
"""GSM 03.38 extension table: two septets each (escape + character)."""

LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    # Non-breaking and odd spaces look like spaces but force UCS-2 and cost twice.
    "\u00a0": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\u2007": " ",
    "\u200b": "",
    "\ufeff": "",
    "\u00ad": "",
    "\t": " ",
}
"""Characters outside GSM-7 that have a GSM-7 twin nobody would notice."""

ACCENT_FOLDS = {
    "á": "a",
    "í": "i",
    "ó": "o",
    "ú": "u",
    "Á": "A",
    "Í": "I",
    "Ó": "O",
    "Ú": "U",
    "â": "a",
    "ê": "e",
    "î": "i",
    "ô": "o",
    "û": "u",
    "ç": "c",
    "ë": "e",
    "ï": "i",
    "ã": "a",
    "õ": "o",
    "È": "E",
    "Ê": "E",
    "À": "A",
    "Ì": "I",
    "Ò": "O",
    "Ù": "U",
}
"""Accented letters outside GSM-7 (Spanish á í ó ú among them) and their plain letter."""

MAX_SEGMENTS = 2
"""The most a text may cost (COMPLIANCE.md: one segment when it can be, two at most)."""

GSM_ONLY, TOO_LONG = "gsm_only", "two_segments"
"""Why a text went with its accents folded: the practice's choice, or to stay within MAX_SEGMENTS."""

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)
_ACCENT_TABLE = str.maketrans(ACCENT_FOLDS)


@dataclass(frozen=True)
class SegmentCount:
    """How a text will travel: its encoding, segments, and length in that encoding's units."""

    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    """Septets for GSM-7, UTF-16 code units for UCS-2."""


def normalize(text: str, fold_accents: bool = True) -> str:
    """The text with look-alikes (and, by default, á í ó ú) replaced by GSM-7 characters."""
    text = (text or "").translate(_LOOKALIKE_TABLE)
    if fold_accents:
        text = text.translate(_ACCENT_TABLE)
    return text


def to_gsm7(text: str) -> str:
    """The text in GSM-7 only: look-alikes and accents folded, any other accented letter stripped of
    its mark ("ā" -> "a"), and what has no GSM-7 form (emoji, symbols) dropped."""
    text = normalize(text, fold_accents=True)
    if is_gsm7(text):
        return text
    out = []
    for c in text:
        if c in GSM7_BASIC or c in GSM7_EXTENSION:
            out.append(c)
            continue
        base = "".join(b for b in unicodedata.normalize("NFKD", c) if b in GSM7_BASIC or b in GSM7_EXTENSION)
        out.append(base)
    return re.sub(r" {2,}", " ", "".join(out)).strip()  # a dropped emoji leaves no double space


@dataclass(frozen=True)
class Fitted:
    """A text as the sender sends it."""

    body: str
    segments: int
    encoding: str
    folded: str | None = None
    """None when sent as written; GSM_ONLY or TOO_LONG when its accents were folded, and why."""


def fit(text: str, gsm_only: bool = False, max_segments: int = MAX_SEGMENTS) -> Fitted:
    """The text as it is sent: as written (look-alikes normalised), or folded to GSM-7 when the
    practice sends GSM-only or when its accents would take it past `max_segments` segments and
    folding saves some."""
    kept = normalize((text or "").strip(), fold_accents=False)
    if gsm_only:
        body = to_gsm7(kept)
        counted = count(body)
        return Fitted(body, counted.segments, counted.encoding, GSM_ONLY if body != kept else None)
    counted = count(kept)
    if counted.segments > max_segments:
        folded = normalize(kept, fold_accents=True)
        folded_count = count(folded)
        if folded_count.segments < counted.segments:
            return Fitted(folded, folded_count.segments, folded_count.encoding, TOO_LONG)
    return Fitted(kept, counted.segments, counted.encoding)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def count(text: str) -> SegmentCount:
    """Segments the text takes as it stands (no normalisation).

    A split text loses room to the concatenation header, and a part never ends
    in the middle of an escape pair or a surrogate pair, so a part can hold one
    unit less than its room.
    """
    if not text:
        return SegmentCount(0, "GSM-7", 0)
    if is_gsm7(text):
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "GSM-7"
    else:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    total = sum(costs)
    if total <= single:
        return SegmentCount(1, encoding, total)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return SegmentCount(segments, encoding, total)


def offending(text: str) -> list[str]:
    """The characters that keep a text out of GSM-7, in order of appearance, once each."""
    seen: list[str] = []
    for c in text:
        if c not in GSM7_BASIC and c not in GSM7_EXTENSION and c not in seen:
            seen.append(c)
    return seen
