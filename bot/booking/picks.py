"""Reading a patient's answer to offered times or to a question, from the words they sent.

The classifier says what a reply is about; these say which offered time it names ("2", "the second",
"la segunda", "the 3pm", "thursday's"), whether it says yes or turns everything down, and whether a
visit is to be cancelled or moved. English and Spanish, accents optional.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.booking.open_times import DAY_WORDS, Preferences
from bot.clock import MONTHS, to_local, to_utc
from bot.understanding.textnorm import fold

_ORDINALS = {
    "first": 1,
    "1st": 1,
    "primero": 1,
    "primera": 1,
    "second": 2,
    "2nd": 2,
    "segundo": 2,
    "segunda": 2,
    "third": 3,
    "3rd": 3,
    "tercero": 3,
    "tercera": 3,
    "tercer": 3,
}
_LAST = ("last", "ultimo", "ultima")
_NUMBER = re.compile(
    r"^\W*(?:(?:option|opcion|number|numero|num|no|el|la|the)\s*)?#?\s*([1-9])\b(?!\s*(?::|am|pm|h\b))"
)
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d\d))?\s?(am|pm|a\.m\.|p\.m\.)?(?!\d)")
_YES = re.compile(
    r"^(?:y|yes|yess|yea|yeah|yep|yup|ya|sure|ok|okay|si|claro|dale|confirm|confirmo|correct|correcto|"
    r"please|por favor|yes please|si por favor|do it|please do|yes cancel|si cancela|si cancelar|cancel it|"
    r"cancelala|sounds good|perfect|perfecto|that works|works for me)(?: (?:please|pls|porfa|por favor|thanks|"
    r"thank you|gracias|cancel it|cancelala))*$"
)
_NONE = re.compile(
    r"\b(none|neither|nothing|no one|ninguno|ninguna|ningun|no me (?:sirve|sirven|queda|quedan)|"
    r"dont work|doesnt work|do not work|wont work|cant do any|cant make any|not those|otro dia|otra hora)\b"
)
_MONTH = {
    **{name[:3]: n for n, name in enumerate(MONTHS["en"], 1)},
    **{name: n for names in MONTHS.values() for n, name in enumerate(names, 1)},
    "sept": 9,
}
_MONTH_DAY = re.compile(r"\b([a-z]+) (\d{1,2})(?:st|nd|rd|th)?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)? (?:de |of )?([a-z]+)\b")
_SOME = r"(?:something|anything|any|a|one|ones|time|times|slot|slots|algo|alguno|alguna|uno|una|hora|horario|horarios)"
_LATER = re.compile(
    rf"\b(?:{_SOME} (?:a (?:bit|little) |un poco )?(?:later|mas tarde)|later (?:in the day|time|times|slot|slots|"
    r"one|ones|appointment)|(?:un )?poco mas tarde|mas tarde en el dia)\b"
)
_EARLIER = re.compile(
    rf"\b(?:{_SOME} (?:a (?:bit|little) |un poco )?(?:earlier|mas temprano)|earlier (?:in the day|time|times|slot|"
    r"slots|one|ones|appointment)|(?:un )?poco mas temprano|mas temprano en el dia)\b"
)
_NO = re.compile(r"^(?:no|nope|nah|no thanks|no gracias|never ?mind|keep it|dejala|mejor no)$")
_CANCEL = re.compile(r"\b(cancel|cancell?ing|cancell?ed|cancelar|cancela|cancelo|cancelen|anular)\b")
_MOVE = re.compile(
    r"\b(reschedul\w*|move|change|push|switch|another (?:day|time)|different (?:day|time)|later|earlier|"
    r"cambiar|cambio|mover|muev\w*|reprogram\w*|otro dia|otra hora|otra fecha)\b"
)


def plain(body: str) -> str:
    """The folded words of a text, single-spaced: "¡Sí, por favor!" -> "si por favor"."""
    return " ".join(re.findall(r"[a-z0-9:#]+", fold(body)))


def says_yes(body: str) -> bool:
    """A bare yes, in English or Spanish."""
    return bool(_YES.match(plain(body)))


def says_no(body: str) -> bool:
    """A bare no."""
    return bool(_NO.match(plain(body)))


def turns_all_down(body: str) -> bool:
    """ "None of those work", "ninguno me sirve": every offered time is declined."""
    text = plain(body)
    return bool(_NONE.search(text)) or bool(_NO.match(text))


def later_or_earlier(body: str) -> str | None:
    """ "later" for "something later in the day?" / "¿algo más tarde?", "earlier" for the other way round:
    times relative to the ones offered. A bare "later" ("maybe later") is not one."""
    text = plain(body)
    if _LATER.search(text):
        return "later"
    if _EARLIER.search(text):
        return "earlier"
    return None


def cancel_or_move(body: str) -> str | None:
    """ "cancel" when the text asks to cancel a visit, "move" when it asks to move it, else None."""
    text = plain(body)
    if text in ("c",):  # the reminder's one-letter codes
        return "cancel"
    if text in ("r",):
        return "move"
    if _MOVE.search(text):
        return "move"
    if _CANCEL.search(text) or re.search(
        r"\b(cant|cannot|can not) (make|come|go)\b|\bno (puedo|podre) (ir|llegar)\b", text
    ):
        return "cancel"
    return None


def pick(body: str, options: list[dict], tz: str, slot_choice: int | None = None) -> int | None:
    """Which offered time (1-based) the text names, or None when it names none or several.

    By number ("2", "#2", "option 2"), by ordinal ("the second", "la segunda", "the last one"), by time of
    day ("the 3pm", "las 15:30", "3:30"), by weekday ("thursday", "el jueves") or by date ("the dec 1 one",
    "el 1 de diciembre"); a time and a day together narrow each other."""
    count = len(options)
    if isinstance(slot_choice, int) and 1 <= slot_choice <= count:
        return slot_choice
    text = plain(body)
    number = _NUMBER.match(text)
    if number and 1 <= int(number.group(1)) <= count and len(text.split()) <= 4 and not _dates(text):
        return int(number.group(1))
    for word in text.split():
        if word in _ORDINALS and _ORDINALS[word] <= count:
            return _ORDINALS[word]
        if word in _LAST and count:
            return count
    candidates = named_times(body, options, tz)
    if candidates is not None and len(candidates) == 1:
        return candidates.pop()
    return None


def named_times(body: str, options: list[dict], tz: str) -> set[int] | None:
    """The offered times (1-based) whose weekday, date and time of day the text names, all of them; None when it
    names none of these."""
    text = plain(body)
    count = len(options)
    starts = [to_local(to_utc(datetime.fromisoformat(o["start"])), tz) for o in options]
    candidates = set(range(1, count + 1))
    named = False
    # "thursday's" folds to "thursdays"
    days = {DAY_WORDS.get(w, DAY_WORDS.get(w[:-1])) for w in text.split() if w in DAY_WORDS or w[:-1] in DAY_WORDS}
    if days:
        named = True
        candidates &= {n for n, start in enumerate(starts, 1) if start.weekday() in days}
    dates = _dates(text)
    if dates:  # "the dec 1 one", "el 1 de diciembre"
        named = True
        candidates &= {n for n, start in enumerate(starts, 1) if (start.month, start.day) in dates}
    clock = _clock(text)
    if clock is not None:
        named = True
        hour, minute, meridiem = clock
        candidates &= {n for n, start in enumerate(starts, 1) if _same_time(start, hour, minute, meridiem)}
    if named and starts:
        # "thursday afternoon" does not pick Thursday's 9:00: a part of the day named must match too.
        part = Preferences.parse(None, None, starts[0].date(), body=body)
        if part.hours or part.after or part.before:
            only = Preferences(weekdays=set(), hours=part.hours, after=part.after, before=part.before)
            candidates &= {n for n, start in enumerate(starts, 1) if only.accepts(start)}
    return candidates if named else None


def names_a_clock_time(body: str) -> bool:
    """Whether the text names a time of day ("the 10", "las 10:00", "3pm")."""
    return _clock(plain(body)) is not None


def _dates(text: str) -> set[tuple[int, int]]:
    """The (month, day) pairs a text names: "dec 1", "december 1st", "1 de diciembre"."""
    found = set()
    pairs = [(m.group(1), m.group(2)) for m in _MONTH_DAY.finditer(text)]
    pairs += [(m.group(2), m.group(1)) for m in _DAY_MONTH.finditer(text)]
    for month_word, day in pairs:
        month = _MONTH.get(month_word)
        if month and 1 <= int(day) <= 31:
            found.add((month, int(day)))
    return found


_AT_HOUR = ("las ", "at ")
"""Words that make the bare number after them a time of day ("la de las 10", "at 10")."""


def _clock(text: str) -> tuple[int, int | None, str | None] | None:
    for match in _CLOCK.finditer(text):
        hour, minute, meridiem = int(match.group(1)), match.group(2), match.group(3)
        if meridiem is None and minute is None and not text[: match.start()].endswith(_AT_HOUR):
            continue  # a bare number is a pick by number, not a time; "las 10", "at 10" are times
        if hour > 23:
            continue
        return hour, int(minute) if minute else None, (meridiem or "")[:1] or None
    return None


def _same_time(start: datetime, hour: int, minute: int | None, meridiem: str | None) -> bool:
    if minute is not None and start.minute != minute:
        return False
    if meridiem == "p":
        return start.hour == hour % 12 + 12
    if meridiem == "a":
        return start.hour == hour % 12
    return start.hour == hour or (hour < 12 and start.hour == hour + 12)
