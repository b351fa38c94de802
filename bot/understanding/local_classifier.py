"""The classifier that needs no network: guards, a few thread rules, a small linear model.

The model is multinomial logistic regression over word, word-pair and
character n-gram features of the reply plus what the practice last asked
(an offer of times, a reminder, a check-in...). It is trained by
scripts/train_classifier.py from data/training/ and shipped as
bot/understanding/data/local_model.json; scoring is a dictionary walk in pure Python.
"""

from __future__ import annotations

import json
import math
import re
import time
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bot.understanding import guards, menu, redflags
from bot.understanding.decision import Decision
from bot.understanding.textnorm import emoji, fold, words

MODEL_PATH = resources.files("bot.understanding") / "data" / "local_model.json"
"""The shipped model; rebuild with `python scripts/train_classifier.py`."""

OPT_OUT_MODEL_MIN = 0.8
"""Confidence the model needs to call an opt-out that no guard matched (staff then confirm it)."""
URGENT_MODEL_MIN = 0.6
"""Confidence the model needs that a reply is a side effect at all before its own reading of urgency pages
anyone (a red flag pages whatever the model thinks); below it an urgent hunch is a routine side effect."""
THRESHOLDS = {
    "rebook_request": 0.45,
    "reschedule_or_cancel": 0.5,
    "defer": 0.5,
    "referral": 0.5,
    "opt_out": OPT_OUT_MODEL_MIN,
    "opt_in": 0.6,
    "help": 0.45,
    "ask_for_person": 0.45,
    "question": 0.4,
    "positive_feedback": 0.45,
    "negative_feedback": 0.35,
    "wrong_number": 0.6,
    "other": 0.35,
    "side_effect_concern": 0.0,
}
"""Calibrated probability each intent needs to be acted on without a person; the shipped model may carry
its own (measured when it was trained). A clinical reply is never held back: it always reaches staff."""

# ------------------------------------------------------------ the thread

_OUTBOUND_KINDS = [
    ("unsubscribed", r"unsubscribed|dado de baja|no longer receive|no recibiras"),
    (
        "keep_list",
        r"\bkeep (?:getting|receiving)\b|\bstay (?:subscribed|on (?:the|our) (?:list|texts))|\bstill want (?:to (?:get|receive)|our)"
        r"|\bseguir (?:recibiendo|en la lista)\b|\bsigues? queriendo recibir\b|\bcontinuar recibiendo\b",
    ),
    (
        "number_check",
        r"\b(?:still )?the (?:best|right|correct) number\b|\bstill your number\b|\b(?:sigue siendo|es) (?:el|tu) (?:mejor |numero correcto)",
    ),
    (
        "slots",
        r"\b1\)|\b1\.|reply with (?:a|the) number|responde con el numero|openings?:|which works|cual te queda|\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b.*\bor\b.*\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b",
    ),
    ("reminder_code", r"reply c\b|responde c\b|reply r\b"),
    (
        "offer",
        r"want (?:us|me) to (?:find|hold|book)|want it\?|(?:does|would) (?:that|this|it) work|works? for you\?|te (?:funciona|sirve|parece)\b|want to (?:grab|get on)|reply yes|what days work|ready for your|due for|openings|find you a (?:time|spot)|hold .* for you|te toca|quieres que te|agendar|refresh\?|time for"
        r"|\bdoes (?:\w+ ){1,4}(?:at )?\d{1,2}(?::\d\d)?\s?(?:am|pm)? work\b|\b(?:would you like|want) to add\b|\bquieres (?:agregar|anadir)\b"
        r"|\bte (?:reservo|agendo|apunto|aparto)\b|\bte agendamos\b",
    ),
    ("referral", r"refer|recomienda"),
    ("promo", r"\b\d+% off|\$\d+ off|special|sale|promo|descuento|reply book|deal"),
    ("winback", r"miss you|extranamos|been a while"),
    ("reminder", r"reminder|recordatorio|see you then|your appointment is|tu cita es"),
    ("feedback", r"how was your (?:experience|visit)|como fue tu experiencia|hear from you"),
    ("results", r"how are your results|results settl|como van tus resultados|loving your"),
    (
        "checkin",
        r"checking in|how are you feeling|how is your skin|como te sientes|como va tu piel|let us know how|swelling|any concerns"
        r"|\bhealing\b|\bhow(?: s| is| are) (?:the|your) (?:\w+ ){0,3}(?:area|skin|lips?|face|under ?eyes|eyes|cheeks|brows|jaw|chin|neck)\b"
        r"|\bis (?:totally )?normal\b|how are you (?:doing|holding up)|\bcomo (?:sigue|va|van|vas) (?:tu|la|el|tus|los|las|con)\b|\bcomo estas\b|\bes normal\b",
    ),
    ("aftercare", r"aftercare|avoid|no facials|stay upright|cuidados|skip"),
]
_OUTBOUND_RX = [(kind, re.compile(rx)) for kind, rx in _OUTBOUND_KINDS]


def outbound_kind(last_outbound: str | None, pending: dict | None = None) -> str:
    """What the practice's last text asked for, as one word ("slots", "offer", "reminder", ...)."""
    if pending and pending.get("kind") == "slots" and pending.get("options"):
        return "slots"
    if not last_outbound:
        return "none"
    text = fold(last_outbound)
    for kind, rx in _OUTBOUND_RX:
        if rx.search(text):
            return kind
    return "other"


def _days_bucket(days) -> str:
    if days is None:
        return "unknown"
    if days <= 0:
        return "0"
    if days <= 3:
        return "1-3"
    if days <= 14:
        return "4-14"
    if days <= 60:
        return "15-60"
    return "60+"


def features(body: str, context: dict) -> list[str]:
    """Feature names for one reply in its thread (the model's input)."""
    folded = fold(body)
    toks = words(body)
    kind = outbound_kind(context.get("last_outbound"), context.get("pending"))
    feats = [f"w:{t}" for t in toks]
    feats += [f"b:{a}_{b}" for a, b in zip(toks, toks[1:])]
    padded = " " + " ".join(toks) + " "
    for n in (3, 4, 5):
        feats += [f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    marks = emoji(body)
    feats += [f"e:{m}" for m in marks]
    feats.append(f"lo:{kind}")
    size = "0" if not toks else "1" if len(toks) == 1 else "2-4" if len(toks) <= 4 else "5+"
    feats.append(f"len:{size}")
    feats.append(f"lo:{kind}|len:{size}")
    if len(toks) <= 4:
        feats += [f"lo:{kind}|w:{t}" for t in toks] + [f"lo:{kind}|e:{m}" for m in marks]
    if "?" in folded:
        feats.append("q:?")
    feats.append(f"fam:{guards.treatment_family(context.get('treatment'))}")
    feats.append(f"days:{_days_bucket(context.get('days_since_visit'))}")
    return feats


# ------------------------------------------------------------- the model


class LinearModel:
    """Softmax over summed feature weights; weights are {feature: [one per class]}.

    With `scale` "sqrt" (models trained by scikit-learn) each distinct feature counts 1/sqrt(n), n the
    number of features of the reply, as in training; the weights already carry the calibration temperature.
    Format 3 stores weights as whole multiples of `unit` (thousandths): a third smaller on disk than three
    decimals written out, and small integers are shared objects in memory. They are summed as integers and
    scaled once.
    """

    def __init__(
        self,
        classes: list[str],
        bias: list[float],
        weights: dict[str, list[float]] | dict[str, list[int]],
        scale: str | None = None,
        unit: float = 1.0,
    ):
        self.classes = classes
        self.unit = unit
        self.bias = bias
        self.weights = weights
        self.scale = scale
        self.thresholds: dict[str, float] = dict(THRESHOLDS)
        """Confidence each intent needs to be acted on (set from the model file)."""

    def probabilities(self, feats: list[str]) -> dict[str, float]:
        # The weight vectors of the reply's features summed column by column (zip and sum run in C): a
        # Python loop over every class of every feature cost more than the rest of the classifier.
        get = self.weights.get
        if self.scale == "sqrt":
            step = self.unit / math.sqrt(len(feats) or 1)
            vectors = [w for w in map(get, dict.fromkeys(feats)) if w is not None]
        else:
            step = self.unit
            vectors = [w for w in map(get, feats) if w is not None]
        if vectors:
            scores = [b + step * total for b, total in zip(self.bias, map(sum, zip(*vectors)))]
        else:
            scores = list(self.bias)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps)}


@lru_cache(maxsize=1)
def load_model(path: str | None = None) -> dict[str, LinearModel]:
    """The intent and urgency models, read once per process."""
    data = json.loads((Path(path) if path else MODEL_PATH).read_text(encoding="utf-8"))
    models = {
        name: LinearModel(m["classes"], m["bias"], m["weights"], m.get("scale"), m.get("weight_unit", 1.0))
        for name, m in data["models"].items()
    }
    models["intent"].thresholds = {**THRESHOLDS, **(data.get("thresholds") or {})}
    return models


# ------------------------------------------------------------ thread rules

_AFFIRM = re.compile(
    r"^(?:y|yes|yess|yea|yeah|yep|yup|ya|sure|ok|okay|k|kk|okie|si|claro|va|dale|orale si|sounds good|perfect|perfecto|great|please|please do|absolutely|definitely|that works|works for me|book it|book me|do it|lets do it)(?: (?:please|pls|plz|porfa|por favor|thanks|thank you|thx|gracias|book me|sign me up|that works|works))*$"
)
_SLOT_PICK = re.compile(
    r"^(?:(?:option|opcion|number|numero|num|no|#|el|la|the)\s*)?#?([1-9])(?:st|nd|rd|th|ro|do)?(?:\s*(?:please|pls|plz|porfa|por favor|works|is good|thanks|thx|gracias|one|works for me|esta bien))*$"
)
_ORDINAL = re.compile(
    r"^(?:the |el |la )?(first|second|third|last|primero|primera|segundo|segunda|tercero|tercera|ultimo|ultima)(?: one| option| opcion)?(?: (?:please|pls|porfa))?$"
)
_ORDINALS = {
    "first": 1,
    "primero": 1,
    "primera": 1,
    "second": 2,
    "segundo": 2,
    "segunda": 2,
    "third": 3,
    "tercero": 3,
    "tercera": 3,
}
_ACK_ONLY = re.compile(
    r"^(?:ok|okay|k|kk|okie|thanks|thank you|thx|ty|got it|noted|cool|gracias|ok gracias|ok thanks|entendido|va|sale)$"
)


_LATER = re.compile(
    r"^(?:maybe |prob |probably |ok |hmm |eh )?(?:later|not (?:now|rn|right now|yet|today|this month)|pause|luego|despues|mas tarde"
    r"|ahorita no|ahora no|todavia no|aun no|next month|el (?:proximo|otro) mes|luego (?:te|le|les) (?:digo|aviso|escribo)"
    r"|luego lo (?:hago|veo)|another time|some other time|otro dia|en otro momento)(?: (?:thanks|thx|ty|gracias|lol|pls|porfa))*$"
)
_MONTHS = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|sept?|oct|nov|dec"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)"
)
_LATER_OFFER = re.compile(
    rf"^(?:(?:im|i m|kinda|so|super|too|muy|bien|ando|estoy) )*(?:busy|swamped|slammed|ocupad[oa]|a full)(?: (?:rn|right now|now|this week|this month"
    rf"|ahorita|ahora|esta semana|este mes|lol|sorry|perdon))*$"
    rf"|^(?:maybe |quizas |tal vez |probably |prob )?(?:in|en|around|after|por|para|despues de) (?:early |late |mid |principios de |finales de |mediados de )?{_MONTHS}$"
    r"|^(?:after|despues de) (?:the holidays|new year|las fiestas|navidad|ano nuevo|my trip|mi viaje)$"
)
_CANT_COME = re.compile(
    r"^(?:(?:sorry|perdon|lo siento|ugh|oh no) )?(?:i )?(?:cant|can t|can not|cannot|wont be able to|won t be able to|wont make it|no puedo|no voy a poder"
    r"|no podre|no alcanzo a|ya no puedo)(?: (?:make it|go|come|ir|llegar|asistir|ir manana|ir mañana|tomorrow|manana))*(?: \w+){0,2}$"
)
_REVIEW_ASK = re.compile(
    r"\b(?:leave|write|post|drop|dejar\w*|dejes|escrib\w*|deja\w*)\b[^.?!]{0,30}\b(?:review|resena|opinion)\b|g\.page|\byelp\b"
)
_WILL_REVIEW = re.compile(
    r"^(?:done|all done|did it|just did|just did it|posted|left (?:one|it|you one|a review)|will do|on it|sure thing|of course"
    r"|happy to|absolutely|con gusto|listo|lista|hecho|ya|ya (?:esta|quedo|la deje|lo hice|la hice|la puse)|claro que si)"
    r"(?: (?:thanks|thx|ty|gracias|already|now|lol|ya|you guys|girl))*$"
)
_NOT_NAME = re.compile(
    r"^(?:(?:this is|im|i m|i am|its|it s) )?not (\w+)$|^(?:no soy|no es|this isnt|this isn t|isnt) (\w+)$"
)
_STAR_EMOJI = frozenset({"\u2b50", "\U0001f31f", "\u2728", "\u2764", "\U0001f970", "\U0001f60a"})
"""Stars and hearts sent alone to a review request: the review given."""
_GREETED = re.compile(r"^\W*(?:hi|hey|hello|hola|buenas|bonjour|ola|dear|buenos dias)\W+(\w+)")
_DECLINE = re.compile(
    r"^(?:no|nah|nope|no thanks|no thank you|no thx|no ty|nah im good|no im good|im good|no gracias|no grax|paso|mejor no|ya no)(?: (?:thanks|thx|ty|gracias|lol))*$"
)
_GLAD = re.compile(
    r"^(?:good|great|fine|all good|doing good|doing great|doing well|feeling good|feeling great|amazing|perfect|love it"
    r"|bien|muy bien|todo bien|super bien|genial|perfecto|perfecta|excelente|divina|divino|encantada|encantado)"
    r"(?: (?:thanks|thank you|thx|ty|gracias|so far|hasta ahora))*$"
)
_A_SIGN = (
    r"(?:itch\w*|red|redness|swollen|swelling|sore|tender|bruis\w*|bumpy|bumps|peel\w*|dry|flak\w*|tight|burn\w*|sting\w*"
    r"|puffy|lumpy|lumps?|numb|scab\w*|crust\w*|me pica|pica|comezon|picazon|roj[oa]|rojiz[oa]|hinchad[oa]|inflamad[oa]"
    r"|adolorid[oa]|me duele|duele|moretones?|morad[oa]|reseca|ardor|arde|bolitas?|costras?|entumid[oa]|dormid[oa])"
)
_BUT_A_SIGN = re.compile(
    r"\b(?:but|pero|just|only|except|aside from|a (?:little|bit|lil|tad)|bit|lil|kinda|kind of|slightly|somewhat|still|algo"
    rf"|un poco|poquito|un poquito|medio|todavia|aun|nomas|solo) (?:\w+ ){{0,2}}{_A_SIGN}\b"
    rf"|\b{_A_SIGN} (?:\w+ )?(?:still|todavia|aun)\b"
    rf"|^(?:\w+ )?{_A_SIGN} (?:but|pero|y|and) (?:\w+ )?(?:fine|good|ok|okay|bien|happy|contenta|contento)\b"
)
"""A glad answer with a sign in it ("good but itchy", "bien pero me pica"): the sign outranks the thanks."""
_NAME_DENIED = re.compile(
    r"\b(?:[Nn]o (?:me llamo|soy)|[Mm]i nombre no es|[Mm]y name (?:isn'?t|is not)|[Tt]his (?:isn'?t|is not)|I'?m not|I am not)"
    r" [A-ZÁÉÍÓÚÑ][a-záéíóúñ]+\b"
)
_WRONG_CUE = re.compile(
    r"\b(?:se equivoca\w*|equivocad[oa]s?|numero equivocado|wrong (?:number|person|contact)|nunca (?:he|e) ido"
    r"|never been (?:to|in)|no conozco|don ?t know (?:you|any|this)|revisen|check your (?:records|list|data)|sus datos)\b"
)
_MOVE_VISIT = re.compile(
    r"\b(?:cambiar|mover|pasar|recorrer|reagendar|reprogramar|cambiarme|moverme|pasarme)\w* (?:\w+ ){0,2}"
    r"(?:la cita|mi cita|la del|la de las|para (?:el|la|otro|otra|la otra|el otro|la proxima|el proximo|manana|mas tarde))\b"
    r"|\bme la (?:pueden|puedes|podrian|podras|podrias) (?:cambiar|mover|pasar|recorrer)\b"
    r"|\b(?:move|push|change|switch|bump) (?:my |the |our )?(?:appt|appointment|visit|booking|tuesday|wednesday|thursday|friday"
    r"|monday|saturday|one)\b(?: \w+){0,3} (?:to|til|until|back)\b"
)
_OTHERWISE_FINE = re.compile(
    r"\b(?:otherwise|other than that|aside from that|besides that|apart from that)\b|\ball good otherwise\b"
    r"|\b(?:nada mas|nomas|nada grave)\b|\btodo bien\b|\bbut (?:im |i m )?(?:fine|good|ok|okay)\b|\bpero bien\b"
)
_MILD_SIGN = rf"\b(?:{_A_SIGN}|flush\w*|headache|dolor de cabeza|moreton\w*|hinchad\w*|adolorid\w*|inflamad\w*)\b"
_MILD_SIGN_RX = re.compile(_MILD_SIGN)
_MILD_SIGN_DENIED = re.compile(rf"\b(?:no|not|sin|zero|ni|nada|without|never|ningun\w*) (?:\w+ )?{_MILD_SIGN}")
"""A mild sign, and one denied ("nada de moretones"), for "a little flushed, otherwise fine"."""
_SIGN_GONE = re.compile(
    r"\b(?:gone|went away|go away|going down|better now|is over|ya no|se (?:me )?(?:quito|fue|paso)|ya paso|normal)\b"
)
_NEGATOR = re.compile(r"\b(?:no|not|nor|nothing|never|zero|isnt|arent|wasnt|dont|nada|ni|sin|tampoco|nunca)\b")
_GLAD_EMOJI = {
    "👍",
    "❤",
    "❤️",
    "🥰",
    "😍",
    "😊",
    "🙏",
    "💕",
    "✨",
    "👌",
    "🙌",
    "💖",
    "💗",
    "☺",
    "😁",
    "😀",
    "🤩",
    "💯",
    "🔥",
    "👏",
}


_REFERRAL_ASK = re.compile(r"\brefer|\breferral|\bfriend\b|\bamig[oa]s?\b|\bshare the love\b|\brecomienda")
_DETAILS_ASK = re.compile(r"\bwant (?:more )?(?:details|info)\b|\bquieres (?:mas )?(?:info|informacion|detalles)\b")
_LEADS_WITH_YES = re.compile(
    r"^(?:y|yes+|yeah|yea|yep|yup|sure|ok|okay|si|claro|dale|please|absolutely|definitely)\b(?: \w+){0,4}$"
)
_NOT_NOW = re.compile(r"\b(?:not|no|later|luego|despues|but|pero|maybe|quizas)\b")
_TRIAGE_ASK = re.compile(r"\b(?:any|algun[oa]?|alguna|tienes|have you had|do you have)\b([^?.!]*)\?")
_TRIAGE_SIGNS = re.compile(
    r"\b(?:pain|color|colour|cold|coldness|white|pale|dusky|grey|gray|blanch\w*|vision|see|swallow\w*|breath\w*|fever|blister\w*"
    r"|spread\w*|droop\w*|purple|blue|dark|mottled|dolor|frio|fria|blanc\w*|palid\w*|morad\w*|gris|oscur\w*|azul\w*"
    r"|vista|tragar|respirar|fiebre|ampollas?)\b"
)
_DENIES = re.compile(r"\b(?:nope|nah|none|nothing|all good|fine|ninguna?|todo bien|negative)\b")
_HEDGED_YES = re.compile(
    r"^(?:(?:y|yes|yeah|yea|yep|si|a (?:bit|little|lil)|kinda|kind of|some|un poco|poquito|un poquito|algo|maybe|i think so|creo que si)"
    r"(?: |$)){1,3}$"
)

_HEDGE_WORD = re.compile(
    r"(?:y|yes|yeah|yea|yep|si|a|bit|little|lil|kinda|kind|of|sort|sorta|some|un|poco|poquito|algo|maybe|i|think|so|creo|que|it|its|is|looks|bien|medio|like|more|mas|ahi|there)"
)
"""Words that only hedge or confirm ("kinda", "a little", "yes", "un poco"), around the sign a reply names."""


def _triage_answer(plain: str, context: dict) -> str | None:
    """The urgency of answering a check-in's "any trouble swallowing?" with "a bit yes" or "kinda grey?"."""
    asked = _TRIAGE_ASK.search(fold(context.get("last_outbound") or ""))
    if asked is None or not plain or len(plain.split()) > 6 or _NEGATOR.search(plain) or _DENIES.search(plain):
        return None
    clause = asked.group(1).strip()
    if not _TRIAGE_SIGNS.search(clause):
        return None
    treatment, days = context.get("treatment"), context.get("days_since_visit")
    if _HEDGED_YES.match(plain):
        said = guards.check(clause, treatment, days)
        if said is not None and said.intent == "side_effect_concern":
            return said.urgency
        return "urgent"  # "yes" to "any pain, colour change or coldness?": which one is for a clinician to ask
    named = [w for w in plain.split() if not _HEDGE_WORD.fullmatch(w)]
    asked_words = _plain(clause).split()
    if named and all(w in asked_words for w in named):
        # "kinda grey?" to "any grey or dusky skin?": the signs it names, read with the rest of the question
        kept = " ".join(w for w in asked_words if w in named or not _TRIAGE_SIGNS.fullmatch(w))
        said = guards.check(kept, treatment, days)
        if said is not None and said.intent == "side_effect_concern":
            return said.urgency
        return "urgent"
    if guards.check(clause, treatment, days) is not None or guards.check(plain, treatment, days) is not None:
        return None  # the question alone holds the sign, or the reply alone does and is read as it stands
    said = guards.check(f"{clause} {plain}", treatment, days)
    if said is not None and said.intent == "side_effect_concern":
        return said.urgency
    return None


_ASKED_PART = re.compile(
    r"\b(?:lips?|labios?|cheeks?|mejillas?|pomulos?|nose|nariz|chin|barbilla|menton|jaw|jawline|mandibula|forehead|frente"
    r"|temples?|sienes?|under ?eyes|ojeras|tear troughs?|nasolabial|skin|piel|face|cara|area|zona)\b"
)


def _sign_at_asked_part(plain: str, last: str, context: dict, guard) -> str | None:
    """The urgency of "muy hinchado y morado" answering "¿cómo sigue tu labio?": the reply's signs, read at the
    part of the body the check-in named, when the reply alone names no part and no rule held for it (`guard`)."""
    part = _ASKED_PART.search(last)
    if guard is not None or part is None or not plain or len(plain.split()) > 8 or _ASKED_PART.search(plain):
        return None
    said = guards.check(f"{part.group(0)} {plain}", context.get("treatment"), context.get("days_since_visit"))
    if said is not None and said.intent == "side_effect_concern":
        return said.urgency
    return None


def _plain(body: str) -> str:
    return " ".join(words(body))


def _thread_rule(body: str, context: dict, kind: str, guard) -> tuple[str, str, dict] | None:
    """(intent, rationale, entities) for short replies that only make sense against the last text."""
    plain = _plain(body)
    only_emoji = not plain and bool(emoji(body))
    scored = menu.rating(body, context.get("last_outbound"))
    if scored is not None:
        return scored, "a score for the visit the last text asked to rate", {}
    picked = menu.choice(body, context.get("last_outbound"))
    if picked is not None:
        # "2" after "Reply 1 to book this week, 2 for a reminder next month" is a deferral, whatever it looks like
        intent, key = picked
        extra = {"slot_choice": int(key)} if intent == "rebook_request" and key.isdigit() and kind == "slots" else {}
        return intent, f"picks option {key.upper()} of the last text", extra
    last = fold(context.get("last_outbound") or "")
    if kind == "keep_list":
        # "Want to keep getting our offers? Reply YES to stay subscribed" -> "no thanks": off the list
        if _DECLINE.match(plain) or plain in ("no more", "no mas", "ya no quiero", "nope no more"):
            return "opt_out", "declines to keep getting our texts", {}
        if _AFFIRM.match(plain) or (guard is not None and guard.keyword == "YES"):
            return "other", "stays on the list", {}
    if kind == "number_check":
        if _DECLINE.match(plain) or plain in ("wrong number", "nope wrong number"):
            return "wrong_number", "says this is not that person's number", {}
        if _AFFIRM.match(plain) or (guard is not None and guard.keyword == "YES"):
            return "other", "confirms the number", {}
    affirms = bool(_AFFIRM.match(plain) or (_LEADS_WITH_YES.match(plain) and not _NOT_NOW.search(plain)))
    if guard is not None and guard.keyword == "YES":
        affirms = True
    greeted, not_name = _GREETED.match(last), _NOT_NAME.match(plain)
    if greeted and not_name and greeted.group(1) in not_name.groups():
        # "not stacy" to "Hi Stacy! ...": the text reached someone else
        return "wrong_number", "says they are not the person the text greets", {}
    if _REVIEW_ASK.search(last) and kind not in ("slots", "checkin", "offer"):
        stars = only_emoji and set(emoji(body)) <= _STAR_EMOJI
        if _WILL_REVIEW.match(plain) or stars:  # a bare "ok" only acknowledges it
            return "positive_feedback", "agrees to leave the review asked for", {}
    if kind in ("reminder", "reminder_code") and _CANT_COME.match(plain):
        return "reschedule_or_cancel", "cannot come to the visit the reminder is about", {}
    if kind in ("offer", "promo", "winback", "slots", "other") and _LATER_OFFER.match(plain):
        return "defer", "not now: busy, or a month ahead", {}
    if _REFERRAL_ASK.search(last) and kind not in ("slots", "checkin", "results", "feedback", "aftercare"):
        if affirms:
            return "referral", "takes up the referral offer", {}
        if _DECLINE.match(plain):
            return "other", "declines the referral offer", {}
    if _DETAILS_ASK.search(last) and affirms:
        return "question", "asks for the details offered", {}
    if kind in ("checkin", "results", "aftercare", "other", "none"):
        urgency = _triage_answer(plain, context)
        if urgency is not None:
            return "side_effect_concern", "answers the check-in's question about a warning sign", {"urgency": urgency}
        urgency = _sign_at_asked_part(plain, last, context, guard)
        if urgency is not None:
            return (
                "side_effect_concern",
                "names a warning sign at the part the check-in asked about",
                {"urgency": urgency},
            )
    if guard is not None and guard.keyword == "YES":
        if kind in ("slots", "offer", "promo", "winback"):
            return "rebook_request", "YES answers an offer of times, not a re-subscribe", {}
        return None
    pick = _SLOT_PICK.match(plain)
    ordinal = _ORDINAL.match(plain)
    if pick or ordinal:
        if kind == "slots":
            if pick:
                n = int(pick.group(1))
            else:
                n = _ORDINALS.get(ordinal.group(1), -1) if ordinal else -1
            return "rebook_request", "picks one of the offered times", {"slot_choice": n}
        if kind in ("offer",) and ordinal:
            return "rebook_request", "picks an offered time", {}
        if kind in ("none", "other", "aftercare", "results", "checkin", "feedback") and (pick or ordinal):
            # "the second one" with nothing on offer is a pick gone astray, never a complaint
            return "other", "a bare number with no times offered", {}
    if plain in ("c", "r") and kind in ("reminder_code", "reminder"):
        return "reschedule_or_cancel", "the reminder's cancel/reschedule code", {}
    if kind in ("slots", "offer") and (
        _AFFIRM.match(plain) or (only_emoji and set(emoji(body)) & {"👍", "👌", "🙌", "✅", "🙏"})
    ):
        return "rebook_request", "accepts the offered time", {}
    if _LATER.match(plain):
        return "defer", "not now", {}
    if _DECLINE.match(plain):
        # "no thanks" to times or a booking offer puts the booking off; to a review or a club it only declines
        if kind in ("slots", "offer", "promo", "winback"):
            return "defer", "declines the booking offer for now", {}
        return "other", "declines", {}
    if (
        kind in ("checkin", "results", "feedback", "aftercare")
        and len(plain.split()) <= 10
        and _BUT_A_SIGN.search(plain)
        and not _SIGN_GONE.search(plain)
        and not _NEGATOR.search(plain)
    ):
        return "side_effect_concern", "answers the check-in with a sign", {}
    if kind in ("checkin", "results", "feedback") and (
        _GLAD.match(plain)
        or (only_emoji and {m for m in emoji(body) if not "\U0001f3fb" <= m <= "\U0001f3ff"} <= _GLAD_EMOJI)
    ):
        return "positive_feedback", "a glad answer to how they are doing", {}
    # A yes to a text that asked nothing ("our front desk will check and text you back") only acknowledges it:
    # never a booking wish.
    if kind in ("reminder", "reminder_code", "aftercare", "checkin", "none", "other") and (
        _ACK_ONLY.match(plain) or _AFFIRM.match(plain) or only_emoji and set(emoji(body)) & {"👍", "👌", "🙏", "✅"}
    ):
        return "other", "acknowledgement", {}
    return None


_ES_MARKERS = {
    "que",
    "de",
    "la",
    "el",
    "mi",
    "me",
    "por",
    "favor",
    "gracias",
    "si",
    "tengo",
    "quiero",
    "puedo",
    "cita",
    "los",
    "las",
    "una",
    "es",
    "porfa",
    "hola",
    "no",
    "mas",
    "muy",
    "para",
    "esta",
    "pero",
    "ya",
}
_EN_MARKERS = {
    "the",
    "my",
    "i",
    "is",
    "you",
    "can",
    "and",
    "it",
    "to",
    "a",
    "me",
    "please",
    "pls",
    "thanks",
    "yes",
    "im",
    "have",
    "of",
    "for",
    "this",
    "no",
}


def detect_language(body: str) -> str:
    toks = words(body)
    es = sum(t in _ES_MARKERS for t in toks) + 2 * bool(re.search(r"[ñ¿¡áéíóú]", body or "", re.I))
    en = sum(t in _EN_MARKERS for t in toks)
    return "es" if es > en else "en"


_DAY = re.compile(
    r"\b(mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday|lunes|martes|miercoles|jueves|viernes|sabado|domingo|today|tomorrow|tmrw|manana|hoy|next week|this week|weekend|la proxima semana)\b"
)
_TIME = re.compile(
    r"\b(\d{1,2}(?::\d\d)?\s?(?:am|pm)|\d{1,2}:\d\d|noon|morning|mornings|afternoon|afternoons|evening|evenings|after work|lunch|en la manana|en la tarde|temprano)\b"
)


def entities(body: str, context: dict) -> dict:
    """Preferences a handler can act on: days, times, slot picks, language."""
    folded = fold(body)
    found: dict = {"language": context.get("language") or detect_language(body)}
    days = _DAY.findall(folded)
    times = _TIME.findall(folded)
    if days:
        found["date_preference"] = " ".join(dict.fromkeys(days))
    if times:
        found["time_preference"] = " ".join(dict.fromkeys(times))
    return found


# --------------------------------------------------------------- classify


_UNCHECKED = object()

_ASKS_BACK_IN = (
    r"\bresubscribe\b|\bre subscribe\b|\b(?:add|put|sign) me back\b|\bstart (?:sending|texting) (?:me )?(?:again|back)\b"
    r"|\b(?:volver a|vuelvan a|pueden volver a) (?:agregar|anadir|suscribir|mandar|enviar)me\b|\bme (?:pueden |podrian )?volver a (?:agregar|anadir|suscribir)\b"
    r"|\bagreg(?:uen|ame|enme)(?:me)? de nuevo\b"
)
"""Asking to be texted again ("add me back", "me pueden volver a agregar a los mensajes?"): an opt-in, whatever
the model reads into "ya no me llegan sus recordatorios"."""


def classify_local(body: str, context: dict, guard=_UNCHECKED):
    """Decide a reply's intent and urgency without any network call; `guard` is guards.check's answer
    when the caller already has it."""
    started = time.perf_counter()
    context = context or {}
    if guard is _UNCHECKED:
        guard = guards.check(body, context.get("treatment"), context.get("days_since_visit"))
    ents = entities(body, context)
    kind = outbound_kind(context.get("last_outbound"), context.get("pending"))

    def done(intent, urgency, confidence, rationale, path="local", extra=None):
        if extra:
            ents.update(extra)
        return Decision(
            intent=intent,
            urgency=urgency,
            entities=ents,
            confidence=round(confidence, 4),
            rationale=rationale,
            path=path,
            guard_rule=guard.rule if guard else None,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    if guard is not None and guard.rule.startswith(("not_a_reply:", "ask_for_person")):
        return done(guard.intent, "none", 1.0, f"guard {guard.rule}", path="guard")
    if guard is not None and guard.final and guard.keyword != "YES":
        return done(
            guard.intent,
            guard.urgency if guard.intent in ("side_effect_concern", "opt_out") else "none",
            1.0,
            f"guard {guard.rule}",
            path="guard",
        )
    rule = _thread_rule(body, context, kind, guard)
    if rule is not None:
        intent, why, extra = rule
        urgency = extra.pop("urgency", None) or {"side_effect_concern": "routine", "negative_feedback": "routine"}.get(
            intent, "none"
        )
        return done(intent, urgency, 0.9, why, extra=extra)
    if guard is not None and guard.keyword == "YES":
        return done("opt_in", "none", 0.9, "carrier keyword YES with no offer to answer", path="guard")

    folded = fold(body)
    if _NAME_DENIED.search(body or "") and _WRONG_CUE.search(folded):
        # "Yo no me llamo Ruth, se equivocaron", "no soy Beatriz y nunca he ido a su clínica"
        return done("wrong_number", "none", 0.9, "says they are not the person texted, and never came")
    models = load_model()
    feats = features(body, context)
    probs = models["intent"].probabilities(feats)
    ranked = sorted(probs, key=probs.__getitem__, reverse=True)
    intent = ranked[0]
    thresholds = models["intent"].thresholds
    if intent == "opt_out" and (probs[intent] < thresholds["opt_out"] or guards.says_not_an_opt_out(body)):
        # The guards catch opt-outs; a model that is not sure, or that the guards contradict, reads the next
        # best meaning.
        intent = ranked[1]
    confidence = probs[intent]
    if (
        guard is None
        and _MOVE_VISIT.search(folded)
        and (
            intent in ("rebook_request", "question", "other")
            or (intent == "side_effect_concern" and not redflags.shipped().names_the_body(body))
        )
    ):
        # "me la pueden mover para la otra semana?", "can I push my appt to friday": an existing visit moved
        intent, confidence = "reschedule_or_cancel", max(confidence, 0.6)
    if (
        intent in ("positive_feedback", "other")
        and context.get("treatment") not in (None, "", "none")
        and len(folded.split()) <= 25
        and _MILD_SIGN_RX.search(folded)
        and _OTHERWISE_FINE.search(folded)
        and not _SIGN_GONE.search(folded)
        and not _MILD_SIGN_DENIED.search(folded)
    ):
        # "just a little flushed, otherwise fine", "un poquito de dolor de cabeza nada más, todo bien": the sign
        # reaches staff as routine, whatever the thanks around it
        intent, confidence = "side_effect_concern", max(confidence, 0.6)
    if re.search(r"\b(?:START|UNSTOP)\b", body or "") or re.search(_ASKS_BACK_IN, fold(body)):
        intent, confidence = "opt_in", max(confidence, 0.9)
    urgency = "none"
    if intent == "side_effect_concern":
        uprobs = models["urgency"].probabilities(feats)
        urgency = max(uprobs, key=uprobs.__getitem__)
        if urgency == "emergency" and (guard is None or guard.urgency != "emergency"):
            # "Call 911 now" and paging the backup are for the red flags (bot.understanding.guards); a statistical hunch
            # gets a clinician's call back (urgent), which is what it got right on every labelled set.
            urgency = "urgent"
        if urgency == "urgent" and (guard is None or guard.urgency != "urgent") and confidence < URGENT_MODEL_MIN:
            # "ya no me duele nada": a reply the model barely reads as a symptom wakes no clinician.
            urgency = "routine"
        if (
            urgency == "urgent"
            and guard is None
            and (not redflags.shipped().names_the_body(body) or redflags.shipped().blames_everyday_cause(body))
        ):
            # "is there an earlier slot tomorrow? I have a flight": no body part and no sign named, no page;
            # nor for "my face is swollen from the wisdom teeth", a sign put down to everyday life.
            urgency = "routine"
        if guard is not None and guards.URGENCY_RANK[guard.urgency] > guards.URGENCY_RANK[urgency]:
            urgency = guard.urgency
    elif intent == "negative_feedback":
        urgency = "routine"
    decision = done(intent, urgency, confidence, f"model: {intent} ({confidence:.2f}), last text: {kind}")
    decision.threshold = thresholds.get(intent, 0.5)
    # The model alone never opts anyone out: staff confirm it first.
    decision.needs_confirmation = intent == "opt_out"
    decision.needs_review = urgency not in ("urgent", "emergency") and confidence < decision.threshold
    return decision
