"""Reading a short reply against the menu in the practice's last text.

"Reply 1 to book this week, 2 for a reminder next month" makes "2" a deferral, "Reply 1 if you love it, 2 if
you'd like a touch-up" makes "1" praise, and "Reply YES to get VIP offers by text" makes "yes" a subscription.
`options` finds the choices a text offers (digits, letters and words such as YES or BOOK, each with what it
stands for) and `meaning` says which intent choosing one of them is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.understanding.textnorm import fold, words

_REPLY_VERB = (
    r"(?:reply|respond|text(?: back)?|send|press|pick|choose|type|responde|responda|contesta|contesten|envia|manda|"
    r"escribe|marca|elige|escoge)"
)
_LINK = r"(?:(?:to|for|if|and|para|si|y|por|o)\b|=|:|-)"

# A digit standing alone as a choice: "1)", "(2)", "reply 3 for", not "3pm", "10:30", "4/8", "$50" or "20%".
_DIGIT = re.compile(r"(?<![\w:/$#.,-])(\(?)([1-9])(\)|\.(?!\d)|:(?!\d)|\s*=|\s*-(?!\d))?(?![\w:/%$]|-\d)")
# A word key after a reply verb: "reply YES to join", "responde SI para agendar", "reply C to confirm".
_WORD_KEY = re.compile(rf"\b{_REPLY_VERB}\s+(?:with\s+|con\s+)?[\"']?([a-z]{{1,8}})[\"']?\s+{_LINK}\s+([^.!?;]*)")
_BARE_KEY = re.compile(rf"\b{_REPLY_VERB}\s+[\"']?(yes|si|y|1)[\"']?\s*(?=[.!?;]|$)")
_ALSO_KEY = re.compile(rf"(?:,|\bor\b|\bo\b)\s+[\"']?([a-z])[\"']?\s+{_LINK}\s+([^,.!?;]*)")
_SENTENCE_END = re.compile(r"[.!?;\n]")
_TRAILING_JOIN = re.compile(r"(?:[\s,]+(?:or|o|and|y))?[\s,]*$")
_NOT_KEYS = {"o", "y", "to", "me", "us", "back", "here", "with", "now", "the", "your", "any", "this", "aqui", "con"}


@lru_cache(maxsize=1024)
def options(last_outbound: str | None) -> dict[str, str]:
    """{key: what choosing it means, as the practice wrote it} for the choices a text offers; {} if none."""
    text = fold(last_outbound or "")
    if not text:
        return {}
    found: dict[str, str] = {}
    for match in _WORD_KEY.finditer(text):
        key, what = match.group(1), match.group(2)
        if key not in _NOT_KEYS and key not in found:
            found[key] = _first_part(what)
        tail = text[match.end(1) :]
        for also in _ALSO_KEY.finditer(_SENTENCE_END.split(tail, 1)[0]):
            if also.group(1) not in _NOT_KEYS and also.group(1) not in found:
                found[also.group(1)] = _first_part(also.group(2))
    found.update(_numbered(text))
    for bare in _BARE_KEY.finditer(text):
        key = bare.group(1)
        if not found.get(key):
            # "Want your referral link? Reply YES": the key stands for the question before it
            found[key] = " ".join(_SENTENCE_END.split(text[: bare.start()])[-3:]).strip()
    return found


_SPLIT = re.compile(r",|\bor\b|\bo\b")


def _first_part(what: str) -> str:
    """ "confirm or call us to reschedule" -> "confirm": a word key stands for what follows it, up to the next."""
    return _SPLIT.split(what)[0].strip()


def _numbered(text: str) -> dict[str, str]:
    """The longest run 1, 2, 3... of standalone digits, each with the words that go with it."""
    hits = list(_DIGIT.finditer(text))
    best: list[re.Match] = []
    for start, hit in enumerate(hits):
        if hit.group(2) != "1":
            continue
        run = [hit]
        for later in hits[start + 1 :]:
            if int(later.group(2)) == len(run) + 1:
                run.append(later)
        if len(run) > len(best):
            best = run
    single = len(best) == 1 and re.search(rf"{_REPLY_VERB}\s+$", text[: best[0].start()])
    if len(best) < 2 and not single:
        return {}
    if all(hit.group(1) and hit.group(3) for hit in best):
        # "Tue 10am (1), Wed 4pm (2) or Sat 11am (3)": each number closes its option
        found, begin = {}, _sentence_start(text, best[0].start())
        for i, hit in enumerate(best):
            found[str(i + 1)] = _TRAILING_JOIN.sub(
                "", re.sub(r"^[\s,]*(?:or|o|and|y)?\s*", "", text[begin : hit.start()])
            )
            begin = hit.end()
        return found
    found = {}
    for i, hit in enumerate(best):
        end = best[i + 1].start() if i + 1 < len(best) else len(text)
        what = text[hit.end() : end]
        if i + 1 == len(best):
            what = _first_part(_SENTENCE_END.split(what, 1)[0])
        what = re.sub(rf"^\s*(?:{_LINK}|or\b)?\s*", "", what)
        found[str(i + 1)] = _TRAILING_JOIN.sub("", what).strip(" ,")
    if len(best) > 1 and not any(found[str(i)] for i in range(1, len(best))):
        # "reply 1, 2 or 3 to book": the numbers share the words after the last one
        return {key: found[str(len(best))] or "a time" for key in found}
    return found


def _sentence_start(text: str, at: int) -> int:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, at)]
    return ends[-1] if ends else 0


_DAY_OR_TIME = re.compile(
    r"\b(?:mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday)\b|\b(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|today|tomorrow|hoy|manana)\b|\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b|\b\d{1,2}:\d\d\b|\ba time\b"
)
_MEANINGS = [
    ("help", r"^(?:help|ayuda|info)$|\bfor help\b"),
    (
        "opt_out",
        r"^(?:to )?stop$|^stop (?:getting|receiving)|\bsalir\b|\bsair\b|nao receber|\bstop (?:all )?(?:texts|messages|msgs)|unsubscribe|opt(?:ing)? ?out|no more (?:texts|messages)|darte de baja|dejar de recibir|no recibir",
    ),
    (
        "negative_feedback",
        r"\bnot (?:happy|loving|thrilled|great)|unhappy|disappoint|no (?:me )?(?:gusta|encanta)|no estas? content|not what",
    ),
    (
        "reschedule_or_cancel",
        r"\breschedul|\bcancel|\bmove\b|\bchange (?:it|the|your)|reprogram|cambiar|cancelar|mover",
    ),
    ("other", r"\bconfirm"),
    (
        "defer",
        r"\bremind|\bcheck (?:back|in)|\blater\b|next month|not now|not yet|\bpause|\bsnooze|hold off|\bwait|recordar|mas adelante|\bdespues|proximo mes|\bluego|pausar|en otro momento",
    ),
    (
        "positive_feedback",
        r"\ball (?:is )?(?:well|good|fine)\b|\btodo (?:bien|esta bien|va bien)\b|\bdoing (?:well|great|good)\b",
    ),
    ("side_effect_concern", r"\bconcerns?\b|\bproblems?\b|\bissues?\b|\bmolestias?\b|\bsymptoms?\b|\bsintomas?\b"),
    ("question", r"\bquestion|\bmore info|\binfo\b|\bdetails|\bprice|\bpricing|\bpregunta|informacion|\bprecio"),
    (
        "ask_for_person",
        r"\bcall\b|\btalk\b|\bspeak|someone|\bperson\b|\bhuman|\bnurse|\bllamad|\bllamar|\bhablar|\balguien|\bpersona\b|enfermer",
    ),
    ("referral", r"\brefer|\bfriend|\binvite|\bamig|\breferid|\bcodigo\b"),
    ("opt_in", r"resubscri|volver a suscrib"),
    ("positive_feedback", r"\blove|\bhappy\b|\bgreat\b|\bamazing|\bencant|\bfeliz|content[oa]s?\b|\bperfect"),
    (
        "rebook_request",
        r"(?:\b|re)book|\btimes?\b|\bslot|\bhorario|\bapartar|\bschedul|\bappointment|\btouch ?-?up|\brefresh|\bcome in|\bclaim|\bgrab|\bspot\b|\bagend|\bcita|\breserv|\bretoque|\bsemana\b|\bweek\b|\bproxima\b",
    ),
]
_MEANING_RX = [(intent, re.compile(rx)) for intent, rx in _MEANINGS]


_JOIN = re.compile(r"\b(?:join|sign up|subscribe|suscrib\w*|unirte|inscrib\w*)\b")
_BY_TEXT = re.compile(
    r"\b(?:by text|texts|text (?:list|club|alerts?|offers?)|texting list|sms|por mensaje|mensajes de texto|por sms|lista de (?:mensajes|texto))\b"
)


def meaning(what: str, last_outbound: str = "") -> str | None:
    """The intent of choosing an option that stands for `what` ("book this week", "a reminder next month")."""
    if _JOIN.search(what) and _BY_TEXT.search(fold(last_outbound)):
        return "opt_in"  # "VIP offers by text? Reply YES to join": a subscription, not a booking
    for intent, rx in _MEANING_RX:
        if rx.search(what):
            if intent == "defer" and _DAY_OR_TIME.search(what):
                return "rebook_request"  # "remind me Tue 3pm" is still a time
            return intent
    if _DAY_OR_TIME.search(what):
        return "rebook_request"
    return None


_FILLER = {
    "please",
    "pls",
    "plz",
    "porfa",
    "por",
    "favor",
    "thanks",
    "thank",
    "you",
    "thx",
    "ty",
    "gracias",
    "one",
    "option",
    "opcion",
    "number",
    "numero",
    "num",
    "no",
    "el",
    "la",
    "the",
    "works",
    "is",
    "good",
    "ok",
    "esta",
    "bien",
}
_YES = {"yes", "y", "yess", "yeah", "yea", "yep", "yup", "ya", "sure", "si", "claro", "dale", "ok", "okay", "k"}
_ORDINAL_KEYS = {
    "first": "1",
    "primero": "1",
    "primera": "1",
    "1st": "1",
    "second": "2",
    "segundo": "2",
    "segunda": "2",
    "2nd": "2",
    "third": "3",
    "tercero": "3",
    "tercera": "3",
    "3rd": "3",
}


_RATE = re.compile(
    r"\b(?:rate|rating|scale|how would you rate|califica\w*|calificacion|puntua\w*|del 1 al|de 1 a|stars?|estrellas)\b|\u2b50"
)
_SCALE = re.compile(r"\b[01] ?(?:\([^)]{1,20}\) ?)?(?:-|to|a|al|\u2013) ?(5|10)\b")
_SCORE = re.compile(r"^\W*(\d{1,2})(?: ?/ ?(?:5|10))?(?:\W|$)")
_SCORE_WORDS = {
    w: n
    for n, names in enumerate(
        (
            (),
            ("one", "uno", "una"),
            ("two", "dos"),
            ("three", "tres"),
            ("four", "cuatro"),
            ("five", "cinco"),
            ("six", "seis"),
            ("seven", "siete"),
            ("eight", "ocho"),
            ("nine", "nueve"),
            ("ten", "diez"),
        )
    )
    for w in names
}


def rating(body: str, last_outbound: str | None) -> str | None:
    """Praise or a complaint for a score given to "Rate your visit 1-5": 4 or 5 (of 5) is praise, 1 or 2 a
    complaint, a 3 is neither; "10" to a scale of 5 is praise too."""
    text = fold(last_outbound or "")
    scale = _SCALE.search(text)
    score = _SCORE.match(fold(body))
    said = words(body)
    given = int(score.group(1)) if score else _SCORE_WORDS.get(said[0]) if said else None
    # only a bare score ("5", "4/5 thanks", "10 stars", "five"): "5 but my lip is still swollen" is read whole
    if scale is None or given is None or not _RATE.search(text) or len(said) > 3:
        return None
    top = int(scale.group(1))
    if given >= top * 0.8:
        return "positive_feedback"
    if given <= top * 0.4:
        return "negative_feedback"
    return None


def choice(body: str, last_outbound: str | None) -> tuple[str, str] | None:
    """(intent, key) when a short reply only picks one of the options the last text offered, else None."""
    offered = options(last_outbound)
    if not offered:
        return None
    said = [w for w in words(body) if w not in _FILLER] or [w for w in words(body) if w in _YES]
    if len(said) != 1:
        return None
    word = said[0]
    keys = [_ORDINAL_KEYS.get(word, word)] + (["yes", "si", "y"] if word in _YES else [])
    for key in keys:
        if key in offered:
            intent = meaning(offered[key], last_outbound or "")
            return (intent, key) if intent else None
    return None
