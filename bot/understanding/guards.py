"""Deterministic guards: the checks that must never wait for a model.

Run on every inbound text before anything else, in the webhook itself: carrier
keywords (COMPLIANCE.md), free-text opt-outs in English and Spanish, and the
clinical red flags table. Pure functions over the text, no I/O; a check takes
microseconds.

A bare "YES" is both a carrier opt-in keyword and the natural answer to "want
this slot?". `check("YES")` returns intent "opt_in" with keyword "YES"; the
caller decides from the thread: after an offer of times it is a rebook pick
(the classifier does this), after an opt-out it re-subscribes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.understanding.textnorm import FuzzyLexicon, fold
from bot.vocabulary import URGENCY_RANK  # noqa: F401  (guards.URGENCY_RANK: the order is bot.vocabulary's)

OPT_OUT_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
"""Carrier opt-out keywords (Twilio defaults, REVOKE and OPTOUT since 2025)."""
OPT_IN_KEYWORDS = ("START", "YES", "UNSTOP")
"""Carrier opt-in keywords."""
HELP_KEYWORDS = ("HELP", "INFO")
"""Carrier help keywords."""
SPANISH_OPT_OUT_WORDS = (
    "BAJA",
    "ALTO",
    "PARAR",
    "PARA",
    "DETENER",
    "CANCELAR",
    "DESUSCRIBIR",
    "NO MAS",
    "YA NO",
    "BASTA",
)
"""Whole-message Spanish opt-outs: not carrier keywords, but a revocation by any reasonable reading."""


@dataclass(frozen=True)
class GuardResult:
    intent: str | None
    urgency: str
    rule: str
    keyword: str | None = None

    @property
    def final(self) -> bool:
        """Carrier keywords, opt-outs and red flags are not for a model to overrule."""
        return self.keyword is not None or self.intent == "opt_out" or self.urgency in ("urgent", "emergency")


# ---------------------------------------------------------------- treatments

_FAMILY_WORDS = (
    (
        "neuromodulator",
        ("neuromodulator", "botox", "dysport", "xeomin", "jeuveau", "daxxify", "toxin", "tox", "letybo"),
    ),
    (
        "filler",
        (
            "filler",
            "relleno",
            "juvederm",
            "restylane",
            "voluma",
            "volbella",
            "sculptra",
            "radiesse",
            "rha",
            "kysse",
            "tear_trough",
            "lip_flip_filler",
        ),
    ),
    ("microneedling", ("microneedling", "micro_needling", "morpheus", "vivace", "potenza", "rf_microneedling")),
    ("peel", ("peel", "chemical", "vi_peel")),
    (
        "laser",
        (
            "laser",
            "ipl",
            "bbl",
            "photofacial",
            "halo",
            "fraxel",
            "co2",
            "resurfacing",
            "moxi",
            "clear_brilliant",
            "tattoo",
        ),
    ),
    ("prp", ("prp", "prf", "vampire")),
    ("body", ("body", "coolsculpting", "sculpsure", "emsculpt", "kybella", "body_contouring", "cellulite", "lipo")),
    ("facial", ("facial", "hydrafacial", "dermaplaning", "microdermabrasion", "diamondglow", "oxygen")),
)


def treatment_family(treatment: str | None) -> str:
    """Group a treatment or service category ("lip_filler", "botox", "ipl", "body_contouring") into a family.

    Returns one of "filler", "neuromodulator", "laser", "peel", "microneedling",
    "facial", "body", "prp", "other".
    """
    if not treatment:
        return "other"
    key = fold(treatment).strip().replace("-", "_").replace(" ", "_")
    parts = set(key.split("_"))
    for family, names in _FAMILY_WORDS:
        for name in names:
            if name == key or name in parts or ("_" in name and name in key):
                return family
    for family, names in _FAMILY_WORDS:
        if any(len(name) >= 4 and name in key for name in names):
            return family
    return "other"


# ------------------------------------------------------------------ keywords

_EDGE = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


def _bare(body: str) -> str:
    """The message as carriers compare it: trimmed of spaces, punctuation and emoji, upper case."""
    return re.sub(r"\s+", " ", _EDGE.sub("", fold(body))).upper()


def _keyword(body: str) -> GuardResult | None:
    bare = _bare(body)
    if bare in OPT_OUT_KEYWORDS:
        return GuardResult("opt_out", "none", f"keyword:{bare.lower()}", bare)
    if bare in OPT_IN_KEYWORDS:
        return GuardResult("opt_in", "none", f"keyword:{bare.lower()}", bare)
    if bare in HELP_KEYWORDS:
        return GuardResult("help", "none", f"keyword:{bare.lower()}", bare)
    if bare in SPANISH_OPT_OUT_WORDS:
        return GuardResult("opt_out", "none", f"keyword_es:{bare.lower().replace(' ', '_')}")
    return None


# ------------------------------------------------------- free-text opt-outs

_MSG = r"(?:texts?|texting|txts?|txting|messages?|messaging|msgs?|sms|promos?|promotions?|offers?|ads|marketing|spam|spamming|reminders? and promos)"
_POLITE = r"(?:please|pls|plz|thanks|thank you|thx|ty|now|already|it|asap|immediately|ok|okay)"
_OPT_OUT_PATTERNS = [
    # English
    rf"\bstop (?:(?:sending|send|texting|messaging|contacting|emailing|calling|bugging|bothering)(?: me)?|(?:all|these|those|the|your|ur|with the|with these|with your)(?: \w+)?) ?{_MSG}?",
    r"\bstop (?:texting|messaging|contacting|bugging|bothering|spamming|harassing)\b",
    r"\bstop (?:sending|send)\b",
    rf"\b(?:quit|cease|enough with the|enough) (?:texting|messaging|sending|{_MSG})\b",
    r"\b(?:dont|do not|please dont|pls dont|never|stop to) (?:ever )?(?:text|message|msg|txt|contact|sms|send)(?:ing)? me\b",
    rf"\bno (?:more|further) {_MSG}\b",
    r"\b(?:take|remove|delete|drop|erase|scratch|get) me (?:off|out of|from)\b",
    r"\b(?:remove|delete|erase) (?:me|my (?:number|info|contact|phone))\b",
    r"\btake my (?:number|info|name) off\b",
    r"\bunsubscribe\b|\bunsub\b|\bopt(?:ing)? (?:me )?out\b|\boptout\b|\bopt me out\b",
    r"\bleave me alone\b|\blose my number\b",
    r"\bi said stop\b|\bstop stop\b",
    rf"^(?:(?:please|pls|plz|ok|okay|just|seriously|omg|ugh|no|nope|yo) )*stop(?: {_POLITE})*$",
    rf"\b(?:i )?(?:dont|do not|no longer) (?:want|wish) (?:to (?:get|receive) )?(?:any|these|your|ur|the|more|any more|anymore)? ?(?:more )?{_MSG}\b",
    r"\bi dont want to (?:get|receive|hear from) (?:you|any|these|your|more)\b",
    r"\b(?:dont|do not) want (?:these|this|them|your texts|ur texts|any of this) ?(?:texts?|messages?)? (?:anymore|any more|no more)\b",
    rf"\b(?:cancel|end) (?:my|the|these|your|all)? ?(?:subscription|{_MSG})\b",
    r"\bnot interested,? (?:stop|remove|dont)\b",
    # Spanish (folded: no accents)
    r"\bno me (?:manden|mandes|mande|envien|envies|envie|escriban|escribas|escriba|contacten|contactes|textees|molesten|sigan mandando|sigan escribiendo)\b(?!.*\b(?:cita|citas)\b)",
    r"\bya no (?:quiero|deseo|me interesa) (?:recibir|que me|mas|sus|tus|los|mensajes|textos)\b",
    r"\bno (?:quiero|deseo) (?:recibir|mas) ?(?:mas )?(?:mensajes|textos|promociones|sms)?\b",
    r"\b(?:dejen|deja|dejar) de (?:escribirme|mandarme|enviarme|contactarme|molestarme|textearme|mandar|enviar|escribir|molestar)\b",
    r"\b(?:borrenme|borrame|eliminenme|eliminame|quitenme|quitame|sacame|saquenme|sacarme|borrarme|quitarme)\b",
    r"\b(?:darme|dar|denme|dame|me doy) de baja\b|\bde baja (?:por favor|porfa|pls)\b",
    r"\bno mas (?:mensajes|textos|promociones|sms)\b|\bbasta de (?:mensajes|textos)\b",
    r"\b(?:dejenme|dejame) (?:en paz|tranquil[oa])\b",
]
_OPT_OUT = [re.compile(p) for p in _OPT_OUT_PATTERNS]
# Phrases that share words with opt-outs but ask something else.
_NOT_OPT_OUT = re.compile(
    r"\bstop by\b|\bstop in\b|\bcant stop\b|\bwont stop\b|\bstop (?:the|my) (?:bleeding|swelling|itch|itching|peeling|pain|breakout)"
)


# "STOP. also my lip is swollen": the word on its own as the first sentence is a revocation by itself.
_STOP_SENTENCE = re.compile(
    r"^\W*(?:(?:please|pls|plz|ok|okay) )?(?:stop|stopall|unsubscribe|optout|revoke|alto|basta)(?: (?:please|pls|now|it))?"
    r"\s*(?:[.!;]+|,(?= *(?:and|also|btw|but|y|tambien)\b)|\n)"
)


def _free_text_opt_out(folded: str) -> bool:
    if _STOP_SENTENCE.search(folded):
        return True
    text = re.sub(r"[^a-z0-9 ]+", " ", folded)
    text = re.sub(r"\s+", " ", text).strip()
    for pattern in _OPT_OUT:
        match = pattern.search(text)
        if match and not _NOT_OPT_OUT.search(text[max(0, match.start() - 6) : match.end() + 8]):
            return True
    return False


# --------------------------------------------------------------- red flags

_LEXICON = [
    "breathe",
    "breathing",
    "breath",
    "swallow",
    "swallowing",
    "swallowed",
    "wheezy",
    "wheezing",
    "throat",
    "tightness",
    "tongue",
    "swelling",
    "swollen",
    "swelling",
    "hives",
    "lightheaded",
    "fainted",
    "fainting",
    "faint",
    "dizzy",
    "blurry",
    "blurred",
    "blurr",
    "vision",
    "double",
    "spots",
    "purple",
    "purplish",
    "mottled",
    "blanched",
    "blanching",
    "white",
    "whitish",
    "grayish",
    "greyish",
    "bluish",
    "dusky",
    "blotchy",
    "severe",
    "extreme",
    "excruciating",
    "unbearable",
    "intense",
    "horrible",
    "terrible",
    "throbbing",
    "painful",
    "worse",
    "worsening",
    "droop",
    "drooping",
    "droopy",
    "drooped",
    "eyelid",
    "eyelids",
    "eyebrow",
    "eyebrows",
    "crooked",
    "lopsided",
    "uneven",
    "smile",
    "speaking",
    "talking",
    "slurred",
    "slurring",
    "fever",
    "feverish",
    "chills",
    "streaks",
    "streak",
    "spreading",
    "bigger",
    "blister",
    "blisters",
    "blistering",
    "blistered",
    "burnt",
    "burned",
    "wound",
    "wounds",
    "oozing",
    "crusty",
    "yellow",
    "confused",
    "confusion",
    "disoriented",
    "headache",
    "stiff",
    "chest",
    "seizure",
    "passed",
    "borroso",
    "borrosa",
    "respirar",
    "tragar",
    "garganta",
    "cerrada",
    "cerrando",
    "apretada",
    "hinchada",
    "hinchado",
    "hinchazon",
    "lengua",
    "parpado",
    "sonrisa",
    "chueca",
    "torcida",
    "fiebre",
    "escalofrios",
    "desmaye",
    "desmayo",
    "ampollas",
    "ampolla",
    "quemadura",
    "quemaduras",
    "quemada",
    "quemado",
    "morado",
    "morada",
    "moretes",
    "blanca",
    "blanco",
    "palida",
    "palido",
    "grisaceo",
    "grisacea",
    "azulada",
    "azulado",
    "moteada",
    "moteado",
    "manchas",
    "muchisimo",
    "insoportable",
    "horrible",
    "dolor",
    "pecho",
    "confundida",
    "confundido",
    "cuello",
    "rigido",
    "infectado",
    "infectada",
    "supura",
]
# Real words one typo away from a lexicon word: never "corrected".
_PROTECTED = [
    "while",
    "write",
    "whole",
    "whine",
    "wrote",
    "white",
    "shots",
    "shoots",
    "spot",
    "sports",
    "sport",
    "stuff",
    "staff",
    "chess",
    "cheat",
    "cheap",
    "throw",
    "those",
    "tough",
    "tongs",
    "slurp",
    "sweet",
    "swell",
    "smell",
    "smells",
    "smiled",
    "smiles",
    "smiling",
    "dozen",
    "dizzier",
    "points",
    "paint",
    "pains",
    "faith",
    "fairly",
    "falling",
    "fainter",
    "worst",
    "words",
    "horses",
    "bitter",
    "biggest",
    "browse",
    "spring",
    "drops",
    "dress",
    "dressing",
    "seeing",
    "speak",
    "talked",
    "doubt",
    "feverfew",
    "purpose",
    "people",
    "poured",
    "blaster",
    "blusher",
    "burst",
    "burns",
    "burner",
    "burning",
    "chesty",
]
_LEX = FuzzyLexicon(_LEXICON, _PROTECTED)

_NEGATORS = {
    "no",
    "not",
    "without",
    "sin",
    "never",
    "nunca",
    "dont",
    "didnt",
    "isnt",
    "arent",
    "havent",
    "hasnt",
    "nope",
    "ni",
    "zero",
    "wasnt",
    "werent",
    "doesnt",
    "aren",
}
_NEGATION_SKIP = {"sure", "know", "idea", "better", "improving"}


def _negated(text: str, start: int) -> bool:
    before = text[:start].split()[-3:]
    for i, word in enumerate(before):
        if word in _NEGATORS:
            nxt = before[i + 1] if i + 1 < len(before) else ""
            if nxt not in _NEGATION_SKIP:
                return True
    return False


def _find(pattern: re.Pattern, text: str) -> bool:
    for match in pattern.finditer(text):
        if not _negated(text, match.start()):
            return True
    return False


def _rx(*parts: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in parts))


AIRWAY = _rx(
    r"\b(?:cant|cannot|can not|couldnt|hard to|harder to|hard time|trouble|difficulty|difficult|struggling|struggle|problems?|unable to|not able to|issues?|hurts to|painful to) (?:\w+ ){0,2}(?:breathe|breathing|breath|swallow|swallowing|swallowed)\b",
    r"\bshort(?:ness)? of breath\b|\bout of breath\b|\bwheezy\b|\bwheezing\b|\bwheeze\b|\bgasping\b",
    r"\bthroat (?:\w+ ){0,2}(?:tight|tighter|tightening|closing|close|closed|swelling|swollen|weird|funny|thick)\b",
    r"\b(?:tight|tightness|closing|swelling|swollen)(?: \w+){0,2} throat\b",
    r"\btongue (?:\w+ ){0,2}(?:swelling|swollen|swell|thick|numb)\b|\b(?:swelling|swollen) tongue\b",
    r"\b(?:no puedo|me cuesta|dificultad para|problemas para|trabajo) (?:\w+ ){0,1}(?:respirar|tragar)\b|\bme falta el aire\b|\bfalta de aire\b|\bme ahogo\b|\bahogando\b",
    r"\bgarganta (?:\w+ ){0,2}(?:cerrada|cerrando|cierra|apretada|hinchada|cerrado)\b|\bse me cierra la garganta\b|\blengua (?:\w+ ){0,1}hinchada\b",
)
HIVES = _rx(r"\bhives\b|\bwelts\b|\bronchas\b|\burticaria\b")
HIVES_PLUS = _rx(
    r"\b(?:swelling|swollen|swell|dizzy|lightheaded|faint|fainting|spreading|everywhere|all over|hinchada|hinchado|hinchazon|mareada|mareado|mareo)\b"
)
RAPID_SWELLING = _rx(
    r"\b(?:swelling|swollen|swells|hinchando|hinchazon)\b(?: \w+){0,4} (?:fast|quickly|rapidly|by the minute|every minute|spreading|rapido|muy rapido)\b",
    r"\b(?:face|lips?|tongue|eyes?) (?:is |are )?(?:\w+ )?(?:blowing up|ballooning)\b",
)
VISION = _rx(
    r"\b(?:blurry|blurred|blurr|blury|blurriness)\b",
    r"\b(?:vision|eyesight)\b",
    r"\b(?:cant|cannot|can not|couldnt|hard to|trouble) see(?:ing)? (?:out of|clearly|well|straight|anything|properly|right|very well)\b",
    r"\bseeing (?:\w+ ){0,2}(?:spots|flashes|stars|double)\b|\bspots in (?:my )?(?:\w+ )?eyes?\b",
    r"\b(?:eye|eyes) (?:\w+ ){0,2}(?:hurts?|aches?|aching|pain)\b|\beye pain\b",
    r"\b(?:lost|losing|loss of) (?:my )?(?:sight|vision)\b|\bblind\b|\bblack spots?\b|\bdark spot in my eye\b",
    # "no veo ningun cambio" is about results, not eyesight
    r"\b(?:borroso|borrosa|veo doble|veo manchas|perdi la vista|me duele el ojo|vista)\b",
    r"\bno veo\b(?! (?:ningun\w*|nada|el|la|los|las|mi|mis|resultados?|cambios?|diferencia\w*|mejoria|mucho|bien el resultado))",
)
DOUBLE_VISION = _rx(r"\bdouble vision\b|\bseeing double\b|\bveo doble\b|\bvision doble\b")
ISCHEMIC_COLOR = _rx(
    r"\b(?:white|whte|wite|whiteish|whitish|blanched|blanching|blanch|pale|dusky|grey|gray|grayish|greyish|blue|bluish|purple|purplish|purpl|purp|mottled|lacy|lace|lace like|net like)\b(?! ?heads?\b)",
    r"\b(?:blanca|blanco|blanquecin[oa]|palida|palido|gris|grisacea|grisaceo|azul|azulada|azulado|morada|morado|moteada|moteado|violeta)\b",
)
COLOUR_PLACE = _rx(
    r"\b(?:lips?|skin|area|spot|spots|patch|patches|chin|nose|cheeks?|face|site|injection|injected|tip|under|around|turned|turning|went|looks?|color|colour|mark|blotch|part|side)\b",
    r"\b(?:labio|labios|piel|zona|mancha|manchas|parte|nariz|mejilla|mejillas|pomulo|pomulos|barbilla|puso|pone|color|lado)\b",
)
WEAK_COLOR = _rx(r"\b(?:blotchy|dark|darker|black|oscura|oscuro|negra)\b")
BRUISE = _rx(r"\bbruis\w*|\bmorete\w*|\bmoreton\w*|\bhematoma\b")
SEVERE_PAIN = _rx(
    r"\b(?:severe|extreme|excruciating|unbearable|intense|horrible|terrible|awful|insane|crazy|sharp|bad|worse|worsening|increasing) (?:\w+ )?pain\b",
    r"\bpain (?:\w+ ){0,3}(?:severe|unbearable|worse|worsening|increasing|excruciating|intense|bad|getting worse)\b",
    r"\b(?:hurts?|hurting|aches?|aching) (?:\w+ ){0,1}(?:so bad|soo bad|bad|so much|like crazy|like hell|a lot|really bad|badly|more and more|worse)\b",
    r"\b(?:really|super|so|very) (?:\w+ )?(?:hurts?|painful)\b|\bthrobbing\b|\bmore painful\b|\bwors(?:e|ening) (?:and worse )?(?:today|now|by the hour)\b",
    r"\b(?:me duele|duele) (?:\w+ ){0,2}(?:muchisimo|mucho|horrible|demasiado|cada vez mas)\b|\bdolor (?:\w+ )?(?:fuerte|intenso|insoportable|horrible|terrible)\b|\bmucho dolor\b",
)
COLD_SKIN = _rx(
    r"\b(?:feels?|felt|is|went|turned|looks|area|skin|lip|lips|spot) (?:\w+ )?cold\b(?! (?:sore|compress|pack|brew|water|drink))",
    r"\bcold to (?:the )?touch\b",
    r"\b(?:se siente|siento|esta|sienta) (?:\w+ )?fri[oa]\b|\bfri[oa] al tacto\b",
)
SYSTEMIC = _rx(
    r"\bchest (?:\w+ ){0,2}(?:pain|pains|hurts|tight|tightness|pressure)\b|\bpain in (?:my )?chest\b",
    r"\b(?:fainted|fainting|passed out|pass out|blacked out|black out|lost consciousness|collapsed)\b",
    r"\b(?:confused|confusion|disoriented|cant think straight)\b|\bseizure\b",
    r"\b(?:worst headache|thunderclap)\b",
    r"\b(?:dolor de pecho|me duele el pecho|me desmaye|desmayo|desmaye|perdi el conocimiento|confundida|confundido|convulsion)\b",
)
HEADACHE_SEVERE = _rx(
    r"\b(?:severe|bad|terrible|horrible|intense|pounding|excruciating|worst) headache\b|\bdolor de cabeza (?:\w+ )?(?:fuerte|intenso|terrible)\b|\bheadache (?:\w+ ){0,2}(?:severe|unbearable)\b"
)
STIFF_NECK = _rx(
    r"\bstiff neck\b|\bneck (?:\w+ ){0,2}stiff\b|\bcant (?:move|bend) my neck\b|\bcuello rigido\b|\brigidez (?:de|en el) cuello\b"
)
TOXIN_SPREAD = _rx(
    r"\bdroop\w*",
    r"\b(?:eyelid|eye lid|lid|lids|eyelids|brow|eyebrow|eyebrows) (?:\w+ ){0,3}(?:dropped|falling|fallen|hanging|sagging|closing|lower|lowered)\b",
    r"\b(?:my |one |the |left |right )eye (?:is |keeps |feels like its |is kind of |is kinda )?(?:\w+ )?(?:closing|shutting|half closed|half shut)\b",
    r"\b(?:cant|hard to|trouble|difficult to|struggling to) (?:\w+ ){0,2}(?:keep|open) (?:\w+ ){0,2}eyes? open\b|\bhard to keep (?:it|my eye|my eyes) open\b",
    r"\bcrooked\b|\blopsided\b|\buneven smile\b|\bsmile (?:is |looks )?(?:\w+ )?(?:crooked|uneven|off|lopsided|weird)\b",
    r"\b(?:trouble|hard to|difficulty|cant|problems?) (?:\w+ ){0,1}(?:speaking|talking|speak|talk|chew|chewing)\b|\bslurr\w*",
    r"\bspock\b|\beyebrow (?:\w+ ){0,3}(?:way|much|a lot) (?:higher|lower)\b|\bone (?:eye)?brow (?:\w+ ){0,3}(?:higher|lower|up)\b",
    r"\bparpado (?:\w+ ){0,2}(?:caido|cayo|cae|caida|cayendo)\b|\b(?:cayo|caido|cae|cayendo) (?:\w+ ){0,3}parpado\b",
    r"\b(?:cayo|caido|cae|cayendo) (?:\w+ ){0,3}(?:ceja|cejas)\b|\b(?:ceja|cejas) (?:\w+ ){0,2}(?:caida|caidas|cayo|cae)\b|\bsonrisa (?:\w+ ){0,1}(?:chueca|torcida|desigual)\b|\bboca (?:\w+ ){0,1}(?:chueca|torcida|caida)\b",
    r"\b(?:no puedo|me cuesta) (?:hablar|cerrar el ojo|sonreir)\b",
)
INFECTION = _rx(
    r"\b(?:fever|feverish|chills|temperature of|fiebre|calentura|escalofrios)\b",
    r"\bpus\b|\bpussy\b|\bpus filled\b|\bpustule\w*|\boozing (?:\w+ )?(?:yellow|green|pus)\b|\byellow (?:\w+ )?(?:crust|crusty|crusts|discharge|ooze|stuff)\b|\bcrusty yellow\b|\bgreen (?:discharge|ooze|stuff)\b|\bsupura\w*\b|\binfect\w*",
    r"\bred streaks?\b|\bstreaks?\b|\bstreaking\b|\brayas rojas\b|\blineas rojas\b",
    r"\bcold sores?\b|\bfever blisters?\b|\bherpes\b|\bfuego labial\b|\bgrano de fiebre\b",
)
HOT = _rx(r"\b(?:hot|warm|caliente|calientes)\b")
SPREAD_SIGNS = _rx(
    r"\b(?:spreading|bigger|growing|expanding|hard|harder|swelling more|redder|worse|extendiendo|creciendo|mas grande|dura|duro)\b"
)
REDNESS = _rx(r"\b(?:red|redder|redness|rojo|roja|enrojecid[oa])\b")
WORSENING = _rx(
    r"\b(?:worse|worsening|getting worse|not better|not getting better|not improving|no mejora|peor|empeorando)\b"
)
PAIN = _rx(r"\b(?:pain|painful|hurts?|hurting|sore|aching|aches?|tender|dolor|duele)\b")
SKIN_INJURY = _rx(
    r"\b(?:blister|blisters|blistering|blistered|ampolla|ampollas|ampollado|ampollada)\b",
    r"\b(?:burnt|burned|burn|burns on|burn marks?|quemadura|quemaduras|quemada|quemado|quemo|me quemaron)\b(?! (?:a little|a bit|kinda|slightly|some|when|like a))",
    r"\bopen (?:\w+ )?(?:wounds?|sores?)\b|\braw and (?:bleeding|oozing)\b|\bskin (?:\w+ )?(?:came|coming|ripped|torn) off\b|\bherida\w* abierta\w*|\bllagas?\b",
    r"\boozing\b|\bweeping\b",
)
GREY_WHITE_SKIN = _rx(
    r"\b(?:grey|gray|grayish|greyish|white|whitish)\b(?! ?heads?\b)|\b(?:gris|grisacea|blanca|blanquecina)\b"
)
SKIN_SEVERE_PAIN = SEVERE_PAIN


def _flag(rule: str, urgency: str) -> GuardResult:
    return GuardResult("side_effect_concern", urgency, f"redflag:{rule}")


def _red_flag(text: str, family: str, days: int | None) -> GuardResult | None:
    """The most urgent red flag in the canonical text, or None."""
    if _find(AIRWAY, text):
        return _flag("airway", "emergency")
    if _find(SYSTEMIC, text) or (_find(HEADACHE_SEVERE, text) and _find(STIFF_NECK, text)):
        return _flag("systemic", "emergency")
    if _find(HIVES, text) and _find(HIVES_PLUS, text):
        return _flag("allergic_reaction", "emergency")
    if _find(RAPID_SWELLING, text):
        return _flag("rapid_swelling", "emergency")
    injectable_or_unknown = family in ("filler", "other")
    if _find(DOUBLE_VISION, text):
        return _flag("vision_change", "emergency" if injectable_or_unknown else "urgent")
    if _find(VISION, text):
        return _flag("vision_change", "emergency" if family in ("filler", "other", "prp") else "urgent")
    if family in ("filler", "other"):
        colour = _find(ISCHEMIC_COLOR, text) and _find(COLOUR_PLACE, text)
        weak = _find(WEAK_COLOR, text)
        pain = _find(SEVERE_PAIN, text)
        cold = _find(COLD_SKIN, text)
        bruise = _find(BRUISE, text)
        if family == "filler" and (
            cold or (colour and (not bruise or pain)) or (weak and pain) or (pain and not bruise)
        ):
            return _flag("vascular_occlusion", "emergency")
        # Treatment unknown: a discoloured, painful or cold area may still be a filler's occlusion.
        if family == "other" and (cold or (colour and pain)):
            return _flag("vascular_occlusion", "emergency")
    if _find(TOXIN_SPREAD, text):
        return _flag("toxin_spread", "urgent")
    if _find(INFECTION, text) or (_find(HOT, text) and _find(REDNESS, text) and _find(SPREAD_SIGNS, text)):
        return _flag("infection", "urgent")
    if days is not None and days >= 3 and _find(WORSENING, text) and (_find(PAIN, text) or _find(REDNESS, text)):
        return _flag("infection", "urgent")
    if _find(SKIN_INJURY, text):
        return _flag("skin_injury", "urgent")
    if family in ("laser", "peel", "microneedling") and (_find(GREY_WHITE_SKIN, text) or _find(SKIN_SEVERE_PAIN, text)):
        return _flag("skin_injury", "urgent")
    if _find(HIVES, text):
        return _flag("allergic_reaction", "urgent")
    return None


def canonical(body: str) -> str:
    """The text red flags are matched against: folded, words only, typos corrected to lexicon words."""
    return _LEX.canonical(body)


def flags_for_some_treatment(body: str, families=("filler", "laser")) -> bool:
    """Whether the text would be a red flag after one of these treatments (the webhook then looks the
    patient's treatment up); the text is canonicalised once."""
    text = canonical(body)
    return any(_red_flag(text, family, None) is not None for family in families)


def check(body: str, treatment: str | None = None, days_since_visit: int | None = None) -> GuardResult | None:
    """Apply keywords, free-text opt-outs and red flags; None when no guard fires."""
    keyword = _keyword(body)
    if keyword is not None:
        return keyword
    folded = fold(body)
    opt_out = _free_text_opt_out(folded)
    flag = _red_flag(canonical(body), treatment_family(treatment), days_since_visit)
    if opt_out and flag is not None:
        # The opt-out is honoured, and the red flag still pages staff.
        return GuardResult("opt_out", flag.urgency, "freetext_opt_out+" + flag.rule)
    if opt_out:
        return GuardResult("opt_out", "none", "freetext_opt_out")
    return flag
