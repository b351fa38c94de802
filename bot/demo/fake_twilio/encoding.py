"""SMS segments: how many parts a body takes and in which encoding, as a carrier counts them."""

from __future__ import annotations

# The GSM 03.38 basic set costs one septet, its extension table two (escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def count_segments(body: str) -> tuple[int, str]:
    """How many SMS segments a body takes, and its encoding ("GSM-7" or "UCS-2").

    One character outside GSM-7 turns the whole message into UCS-2. Split
    messages lose room to the concatenation header (153 septets or 67 UTF-16
    units a part), and a part never ends in the middle of an escape pair or a
    surrogate pair, so a part can hold one less than its room.
    """
    if not body:
        return 0, "GSM-7"
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        costs = [2 if c in GSM7_EXTENSION else 1 for c in body]
        single, part, encoding = 160, 153, "GSM-7"
    else:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in body]
        single, part, encoding = 70, 67, "UCS-2"
    if sum(costs) <= single:
        return 1, encoding
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments, encoding
