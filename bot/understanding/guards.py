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

from bot.understanding import redflags
from bot.understanding.textnorm import edit_distance, fold
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
    family: str | None = None
    """The clinical family of a red flag ("vascular_occlusion"), from bot/understanding/data/redflags.toml."""

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


# A one-letter slip on a keyword sent alone still means it ("STOPP", "stpo", "unsubscrib"); these real
# words sit one edit away from a keyword and mean something else.
_KEYWORD_LOOKALIKES = frozenset(
    {"STEP", "SHOP", "SLOP", "STOOP", "STOPS", "SPOT", "POTS", "TOPS", "SOUP", "STAR", "CANCER", "CANDLE", "REVOKED"}
)
_TYPO_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "REVOKE", "OPTOUT")
"""Keywords long enough that one edit cannot turn another common word into them (END and QUIT are not)."""


def _keyword_typo(bare: str) -> str | None:
    if not bare.isalpha() or len(bare) < 4 or bare in _KEYWORD_LOOKALIKES:
        return None
    for keyword in _TYPO_KEYWORDS:
        limit = 2 if len(keyword) >= 9 else 1
        if edit_distance(bare, keyword, limit) <= limit:
            return keyword
    return None


_LAUGHING_EMOJI = re.compile("[\U0001f602\U0001f923\U0001f606\U0001f639]")
"""😂 🤣 😆 😹: "STOP 😂" is a laugh at a joke, not the keyword (the carrier matches the bare word only)."""


def _keyword(body: str) -> GuardResult | None:
    bare = _bare(body)
    if _LAUGHING_EMOJI.search(body or "") and (bare in OPT_OUT_KEYWORDS or bare in SPANISH_OPT_OUT_WORDS):
        return None
    if bare in OPT_OUT_KEYWORDS:
        return GuardResult("opt_out", "none", f"keyword:{bare.lower()}", bare)
    if bare in OPT_IN_KEYWORDS:
        return GuardResult("opt_in", "none", f"keyword:{bare.lower()}", bare)
    if bare in HELP_KEYWORDS:
        return GuardResult("help", "none", f"keyword:{bare.lower()}", bare)
    if bare in SPANISH_OPT_OUT_WORDS:
        return GuardResult("opt_out", "none", f"keyword_es:{bare.lower().replace(' ', '_')}")
    typo = _keyword_typo(bare)
    if typo is not None:
        # Not the carrier's keyword, so Twilio did not answer it: ours to confirm (keyword stays None).
        return GuardResult("opt_out", "none", f"keyword_typo:{typo.lower()}")
    return None


# ------------------------------------------------ texts that are not a reply

# iMessage and Android reactions quote the text they react to: 'Liked "See you Tuesday!"'.
_TAPBACK = re.compile(
    r"^\s*(?:liked|loved|laughed at|emphasized|emphasised|questioned|disliked|reacted \S+ to|le gusto|le encanto|"
    r'se rio de|enfatizo|pregunto|no le gusto|reacciono con \S+ a)\s*["\u201c\u201d\'].*["\u201c\u201d\']\s*$',
    re.S,
)
_AUTO_REPLY = re.compile(
    r"\b(?:i(?:m| am) driving|driving with do not disturb|do not disturb while driving|see your message when i get|"
    r"auto[ -]?reply|automatic reply|out of (?:the )?office|estoy manejando|estoy conduciendo|respuesta automatica|"
    r"fuera de la oficina)\b"
)
# Spam forwarded into the thread: prizes, links and someone else's "Reply STOP" footer.
_SPAM = re.compile(
    r"(?:https?://|www\.|bit\.ly|\bclick (?:here|the link|below)\b|\byou(?:ve| have)? (?:won|been selected)\b|"
    r"\bclaim (?:your|now)\b|\bverification code\b|\bfree msg\b|\bmsg ?& ?data rates\b|\breply stop to\b|"
    r"\btext stop to\b|\b(?:txt|text|reply|send|msg) stop (?:to|2)\b|\bresponde (?:stop|alto|baja) para\b|\bganaste\b|\bhaz clic\b|"
    # a hyphenated look-alike domain with no scheme: "usps-redeliv.co"
    r"(?<![@\w.-])[a-z0-9]+(?:-[a-z0-9]+)+\.(?:co|com|net|info|xyz|top|io|ly|us|site|online|link|app|cc)\b)"
)


def not_a_reply(body: str) -> str | None:
    """Why a text is not the patient writing to us (a tapback, an auto-reply, forwarded spam), or None."""
    if _TAPBACK.match(fold(body)):
        return "tapback"
    folded = fold(body)
    if _AUTO_REPLY.search(folded):
        return "auto_reply"
    if _SPAM.search(folded):
        return "forwarded_spam"
    return None


# ------------------------------------------------------- free-text opt-outs

_MSG = r"(?:texts?|texting|txts?|txting|messages?|messaging|msgs?|sms|promos?|promotions?|offers?|ads|marketing|spam|spamming|reminders? and promos)"
_NEED = r"(?:no need|dont need|do not need|no longer need|wont need|there is no need|theres no need)"
_POLITE = r"(?:please|pls|plz|thanks|thank you|thx|ty|now|already|it|asap|immediately|ok|okay)"
_OPT_OUT_PATTERNS = [
    # English
    # "stop the texts", never "stop the retinol" or "stop the bruising": after a determiner, a word for messages.
    rf"\bstop (?:(?:sending|send|texting|messaging|contacting|emailing|calling|bugging|bothering)(?: me)?|(?:all|these|those|the|your|ur|with the|with these|with your)(?: \w+)? {_MSG})\b",
    r"\bstop (?:texting|messaging|contacting|bugging|bothering|spamming|harassing)\b",
    r"\bstop (?:sending|send)\b",
    rf"\b(?:quit|cease|enough with the|enough) (?:texting|messaging|sending|{_MSG})\b",
    # the formal register: "kindly cease contacting me", "please discontinue messaging this number"
    rf"\b(?:cease|discontinue|refrain from|desist from) (?:all |any )?(?:further |future |more )?(?:contacting|texting|messaging|sending|contact|communication|communications|{_MSG})\b",
    r"\b(?:cesen|suspendan|suspender|cancelen) (?:el envio de |los |sus |todos los )?(?:mensajes|textos|sms|promociones)\b",
    r"\b(?:dont|do not|please dont|pls dont|never|stop to) (?:ever )?(?:text|message|msg|txt|contact|sms|send)(?:ing)? (?:me|this number|my number)\b",
    rf"\bno (?:more|further) {_MSG}\b",
    r"\b(?:take|remove|delete|drop|erase|scratch|get) me (?:off|out of|from)\b",
    r"\b(?:taking|removing|deleting|dropping|take|remove|delete|drop) (?:me|my (?:number|info|name|phone|contact)|this number)(?: \w+)? (?:off|out of|from) (?:your|the|this|ur|these|all)\b",
    r"\b(?:remove|delete|erase) (?:me|my (?:number|info|contact|phone))\b",
    # for someone else: "this is her husband, she passed away, please remove this number"
    r"\b(?:please |pls |kindly )?(?:remove|delete|erase) (?:this|her|his|their|my (?:wifes|husbands|moms|dads|daughters|sons)) (?:number|phone|contact)\b(?! from (?:the|my|this) (?:appointment|booking|reservation|form))",
    r"\btake my (?:number|info|name) off\b",
    # "unsubscribee me please", "unsubscibe me": a slip in the word, then "me"
    r"\bunsubscribe\b|\bunsub\b|\bun[subcrie]{6,11}d? me\b(?! from)|\bopt(?:ing)? (?:me )?out\b|\boptout\b|\bopt me out\b",
    r"\bleave me alone\b|\blose my number\b",
    # "stop stop stop", never "stop stop stop I just saw the trailer": a repeated stop that goes on to something else
    r"\bi said stop\b|\bstop stop\b(?! (?:stop )*(?:i just|i cant|im gonna|omg|oh my|wait|the|i forgot|i left|brb|hold on|hang on|nvm|this (?:movie|show|song|episode|trailer|video|game))\b)",
    r"\bhow (?:do|can|would) i (?:get|be|get myself) (?:off|removed from|taken off) (?:of )?(?:this|your|the|ur|these) (?:list|texts?|messages?|mailing list)\b",
    r"\bhow (?:do|can|would) i (?:stop|quit) (?:getting|receiving) (?:these|this|your|ur|the|all these|all of these)\b|\bcomo (?:le hago para |hago para )?(?:dejo|dejar) de recibir (?:estos|sus|tus|los|este)\b",
    rf"^(?:(?:please|pls|plz|ok|okay|just|seriously|omg|ugh|no|nope|yo) )*stop(?: {_POLITE})*$",
    rf"\b(?:i )?(?:dont|do not|no longer) (?:want|wish) (?:to (?:get|receive) )?(?:any|these|your|ur|the|more|any more|anymore)? ?(?:more )?{_MSG}\b",
    r"\bi dont want to (?:get|receive|hear from) (?:you|any|these|your|more)\b",
    r"\b(?:dont|do not) want (?:these|this|them|your texts|ur texts|any of this) ?(?:texts?|messages?)? (?:anymore|any more|no more)\b",
    # never "cancel my subscription" alone: a streaming service, or the practice's membership
    rf"\b(?:cancel|end) (?:my|the|these|your|all)? ?(?:subscription to (?:these|your|the|this) )?{_MSG}\b",
    r"\bnot interested,? (?:stop|remove|dont)\b",
    # "no need to text me anymore", "I moved, no need to text me", "no need for more texts"; never "no need to
    # text me back", "I don't need the numbing cream" or "no longer need the 3pm".
    rf"\b{_NEED} (?:for )?(?:any more |anymore |more |the |these |those |your |ur |any |all the |all these )?(?:(?!to |you )\w+ )?{_MSG}\b",
    rf"\b{_NEED} (?:to |for you to |for u to )?(?:keep |continue )(?:on )?(?:text|texting|messag\w*|contact\w*|send\w*|sms\w*)\b",
    rf"\b{_NEED} (?:to |for you to |for u to )?(?:text|message|msg|txt|contact|sms)(?:ing)?(?: me| this number| us)? (?:anymore|any more|again|no more|ever)\b",
    rf"\b{_NEED} (?:to |for you to |for u to )?(?:text|message|msg|txt|contact|sms)(?:ing)?(?: me| this number| us)?$",
    r"\b(?:remove|take) (?:me|my number|this number) (?:from|off) (?:your|the|this|ur) (?:list|system|texts?|contacts?|database)\b",
    r"\b(?:please )?(?:unenroll|unregister|deregister) me\b|\bopt out\b|\bi want out\b",
    r"\b(?:why|how come) (?:do |are )?(?:you|u|yall) (?:keep|still|always) (?:texting|messaging|sending)(?: \w+){0,6} stop\b",
    # Spanish (folded: no accents)
    r"\bno me (?:manden|mandes|mande|envien|envies|envie|escriban|escribas|escriba|contacten|contactes|textees|molesten|sigan mandando|sigan escribiendo)\b(?!.*\b(?:cita|citas)\b)",
    # "bueno, pues ya no me hables. adiós"
    r"\b(?:ya )?no me (?:hables|hablen|hable) (?:mas|nunca)\b|\bya no me (?:hables|hablen|hable)\b",
    r"\bya no (?:quiero|deseo|me interesa) (?:recibir|que me|mas|sus|tus|los|mensajes|textos)\b",
    r"\bno (?:quiero|deseo) (?:recibir|mas) ?(?:mas )?(?:mensajes|textos|promociones|sms)?\b",
    r"\b(?:dejen|deja|dejar) de (?:escribirme|mandarme|enviarme|contactarme|molestarme|textearme|mandar|enviar|escribir|molestar)\b",
    r"\b(?:borrenme|borrame|eliminenme|eliminame|quitenme|quitame|sacame|saquenme|sacarme|borrarme|quitarme)\b",
    r"\b(?:darme|dar|denme|dame|me doy) de baja\b|\bde baja (?:por favor|porfa|pls)\b",
    r"\bno mas (?:mensajes|textos|promociones|sms)\b|\bbasta de (?:mensajes|textos)\b",
    r"\b(?:dejenme|dejame) (?:en paz|tranquil[oa])\b",
    r"\bno me (?:vuelvas|vuelvan|vuelva) a (?:escribir|mandar|enviar|contactar|textear|molestar)\b",
    r"\b(?:sacame|saquenme|quitenme|quitame|borrenme|borrame) de (?:su|la|tu|sus) (?:lista|sistema|base)\b",
    r"\b(?:borren|eliminen|quiten|borra|elimina|quita|borrar|eliminar) (?:mi|el|este) (?:numero|telefono|contacto|celular)\b",
    r"\b(?:sacar|quitar|borrar|eliminar|dar de baja)(?:me)? de (?:esta|la|su|tu|sus|esa) (?:lista|base|sistema|lista de mensajes)\b",
    r"\bya no (?:necesito|ocupo|quiero) (?:los|sus|tus|mas|recibir)? ?(?:mensajes|textos|promociones|recordatorios)\b",
    r"\bno (?:necesito|ocupo) (?:mas )?(?:mensajes|textos)\b",
    r"\bno (?:me )?(?:manden|envien|escriban) mas\b",
    # Portuguese, French and Vietnamese, for patients who write in them (folded; "đ" drops out, "đừng" is "ung")
    r"\b(?:pare|parem|para) de (?:me )?(?:mandar|enviar|escrever)\b|\bnao (?:me )?(?:mande|mandem|envie|enviem) mais\b|\bdescadastr\w*|\bnao quero (?:mais )?receber\b",
    r"\barretez de (?:m envoyer|menvoyer|me contacter|mecrire|m ecrire)\b|\bne (?:m envoyez|menvoyez|me contactez|mecrivez) plus\b|\bdesabonn\w*|\bdesinscri\w*|\bje ne veux plus (?:recevoir|de messages)\b",
    r"\b(?:d|u)?ung nhan tin\b|\bdung (?:gui|nhan) (?:tin|tin nhan)\b|\bkhong (?:muon )?nhan tin nua\b|\bhuy dang ky\b|\bngung nhan tin\b",
]
_OPT_OUT = [re.compile(p) for p in _OPT_OUT_PATTERNS]


# Phrases that share words with opt-outs but ask something else.
_NOT_OPT_OUT = re.compile(
    r"\bstop by\b|\bstop in\b|\bstop at\b|\bstop over\b|\bcant stop\b|\bcouldnt stop\b|\bwont stop\b|\bdont stop\b|\bnever stop\b"
    r"|\bstop (?:the|my) (?:bleeding|swelling|itch|itching|peeling|pain|breakout)|\bdoes (?:it|the \w+) (?:ever )?stop\b"
    r"|\bno paro de\b|\bno dejen de\b|\bstop (?:it|being|that) (?:youre|ur|you are|lol|haha|so)\b"
)
# Opting out of something else, or stopping someone sending other things: "I need to opt out of the gym
# contract", "stop sending me tiktoks I have work lol".
_SOMETHING_ELSE = re.compile(
    r"\bopt(?:ing)? out of (?:the|my|a|an|our|that|his|her) (?!(?:\w+ )?(?:texts?|txts?|messages?|msgs?|sms|list|program|promos?|marketing|reminders?|all|these|this|everything|alerts?)\b)\w+"
    r"|\b(?:quit|stop) (?:texting|messaging)(?: me)? (?:and|&|n) (?:come|get|go|call|pick|open|look|answer|help|focus|drive|pay)\b"
    r"|\b(?:dont|do not|please dont|pls dont|plz dont) (?:text|message|msg|call|txt) (?:me )?(?:during|while|until|till|right now|today|tonight|this (?:morning|afternoon|evening|week))\b"
    r"|\b(?:stop|quit) sending (?:me |us )?(?:\w+ ){0,2}(?:tiktoks?|memes?|videos?|vids?|pics?|pictures?|photos?|reels?|gifs?|links?|songs?|spoilers?|selfies?|voice notes?|voice memos?|emails? about|chain (?:letters?|messages?|texts?)|forwards?|venmo|cashapp|cash app|zelle|paypal|articles?|recipes?|screenshots?|prayers?|politics)\b"
    # a time or place, not a revocation: "no more texting during class, text me after 3"
    r"|\b(?:no more|stop|quit|dont|do not) (?:texting|messaging|text|message|phones?)(?: me)? (?:during|while|in class|at work|at school|at the table|until|till|(?:before|after) (?:\d|noon|midnight|work|school|class|dinner|lunch|bedtime))\b"
    # for tonight only: "no more texts tonight, phone at 2%"
    r"|\bno more (?:texts?|texting|messages?|msgs?) (?:tonight|today|for now|for tonight|rn|right now|until)\b"
    # unsubscribing from something else, or from a life: "don't unsubscribe from my life"
    r"|\b(?:dont|do not|never|cant|cannot) unsubscribe\b|\bunsubscrib\w* (?:me |itself |myself |yourself |themselves |himself |herself )?from (?!(?:(?:the|your|ur|these|this|all|all of|all your|all the|ya|yall) )?(?:\w+ )?(?:texts?|txts?|messages?|msgs?|list|lists|sms|promos?|promotions?|marketing|reminders?|alerts?|program|offers?|emails?|spa|clinic|practice|office|services?|company|business|account|number)\b|(?:this|these|you|u|it|everything|all|yall)\b)\w+"
    # Spanish: "deja de mandarme tiktoks"
    r"|\b(?:deja|dejen|dejes) de (?:mandarme|enviarme|pasarme|mandar|enviar) (?:\w+ ){0,1}(?:tiktoks?|memes?|videos?|fotos?|reels?|audios?|cadenas|stickers?|links?|enlaces|chistes)\b"
    r"|\b(?:ya )?no me (?:mandes|manden|envies|envien|pases|pasen) (?:mas )?(?:\w+ ){0,1}(?:tiktoks?|memes?|videos?|fotos?|reels?|audios?|cadenas|stickers?|links?|enlaces|chistes)\b"
    # off a list that is not ours: "remove me from the carpool spreadsheet"
    r"|\b(?:remove|take|drop|delete) me (?:off|from|out of) (?:the|my|our|this|that|your|ur|these|those|his|her|their) (?:\w+ )?(?:spreadsheet|sheet|roster|rotation|schedule|carpool|team|league|invite|invitation|guest list|registry|sign ?up sheet|email chain|newsletter|book club|club|tournament|raffle|pool|potluck|lineup|fantasy league|office pool|earth|planet|world|universe|will|family|life|project|class|wedding|party)\b"
    # a group chat someone keeps adding them to, or a life: "unsubscribe de la vida"
    r"|\b(?:adding|added|add|adds) me (?:to|into) (?:\w+ ){0,3}(?:group ?chats?|gcs?|groups?|chats)\b(?:(?: \w+){0,3} (?:remove|take) me\b(?! (?:from|off|out)))?"
    r"|\bunsubscrib\w* (?:de|from) (?:la |mi |this |my )?(?:vida|existencia|life|planeta|mundo|world|planet)\b"
    # asking whether someone else unsubscribed them: "did you unsubscribe me from the HOA emails?"
    r"|\b(?:did|have|has) (?:you|u|he|she|they|someone|somebody|anyone) (?:\w+ )?unsubscrib\w*\b"
    # "leave me alone, I'm finishing the last chapter": leave me be for now
    r"|\bleave me alone (?:\w+ ){0,2}(?:im|i am|i m) (?:in|finishing|reading|watching|busy|working|napping|sleeping|eating|studying|trying|on)\b"
)
# "omg stop 😂": a laugh, not a revocation, when nothing else in the text is about messages.
_LAUGH = re.compile(
    r"\b(?:lol|lmao|lmfao|haha\w*|jaja\w*|hehe\w*|jk|rofl|hilarious|so funny|im dead|im crying)\b|[\U0001f602\U0001f923\U0001f606\U0001f605\U0001f62d\U0001f480\U0001f60d\U0001f970\u2764]"
)
_ABOUT_MESSAGES = re.compile(rf"{_MSG}|\bnumber\b|\blist\b|\bme\b")


# "STOP. also my lip is swollen": the word on its own as the first sentence is a revocation by itself.
_STOP_SENTENCE = re.compile(
    r"^\W*(?:(?:please|pls|plz|ok|okay) )?(?:stop|stopall|unsubscribe|optout|revoke|alto|basta)(?: (?:please|pls|now|it))?"
    r"\s*(?:[.!;]+|,(?= *(?:and|also|btw|but|y|tambien)\b)|\n)"
)


# "Stop. Is that Taylor Swift?? send pics", "stop!! you got the job?? CONGRATS": amazement, not a revocation.
_AMAZED = re.compile(
    r"\b(?:no way|congrats\w*|congratulations|you did not|you didnt|you got (?:the|a|an|in|engaged|married|promoted)|"
    r"is that (?:\w+ ){1,3}(?:at|in|on|with)|send (?:me )?(?:pics|photos|a pic|a photo|proof)|tell me (?:more|everything)|"
    r"no manches|no mames|felicidades|(?:that|this|your) (?:pun|joke|dad joke)s?)\b"
)


# "why do you keep texting me?? stop": an annoyed text that ends in a bare "stop" after its own sentence.
_TRAILING_STOP = re.compile(r"[?!.,]\s*(?:just |please |pls |so |now )?stop(?: it| now| please| pls)?\W*$")
# "Wrong number. Pls remove", "remove please": a bare remove ending the text (or standing alone) asks off the list.
_BARE_REMOVE = re.compile(
    r"(?:^|[?!.,])\s*(?:please |pls |plz |just )?remove(?: me| my number| this number| us)?(?: please| pls| plz| thanks| thx| asap)?\W*$"
)


def spelled_patterns() -> list[str]:
    """The patterns whose words a typo is corrected to (scripts/build_spelling.py reads them): the opt-outs and
    the phrases that only look like one."""
    return [
        *_OPT_OUT_PATTERNS,
        *(p.pattern for p in (_NOT_OPT_OUT, _SOMETHING_ELSE, _LAUGH, _STOP_SENTENCE, _TRAILING_STOP, _AMAZED)),
    ]


def says_not_an_opt_out(body: str) -> bool:
    """Whether the text uses opt-out words in a way that is not one ("don't stop sending the deals", "stop by",
    "can't stop smiling", "stop sending me memes", a joke): a model that reads an opt-out into it is overruled."""
    folded = redflags.shipped().spelled(fold(body))
    text = re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", folded)).strip()
    return bool(_NOT_OPT_OUT.search(text) or _SOMETHING_ELSE.search(text) or _LAUGH.search(folded)) and not (
        _free_text_opt_out(folded)
    )


def _free_text_opt_out(folded: str) -> bool:
    if re.search(r"\b(?:jk|j k|just kidding|kidding|jaja jk|es broma)\b", folded):
        return False
    if _LAUGH.search(folded) and not re.search(
        r"\b(?:stop|quit|remove|unsubscribe) (?:texting|messaging|sending|contacting)|\bremove me\b",
        folded,
    ):
        return False
    if _LAUGH.search(folded) and re.search(
        r"\b(?:during|while|in the middle of|at night|so late|so early)\b|\bat \d", folded
    ):
        # "stop texting me during the movie 😂": a joke about when, not a revocation.
        return False
    if (_STOP_SENTENCE.search(folded) or _TRAILING_STOP.search(folded) or _BARE_REMOVE.search(folded)) and not (
        _AMAZED.search(folded)
    ):
        return True
    text = re.sub(r"[^a-z0-9 ]+", " ", folded)
    text = re.sub(r"\s+", " ", text).strip()
    # "stop sending me memes", "no more texting during class": those words ask for nothing; another phrase
    # in the same text still can ("stop texting me at work. don't message this number again").
    elsewhere = [m.span() for m in _SOMETHING_ELSE.finditer(text)]
    for pattern in _OPT_OUT:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in elsewhere):
                continue
            if not _NOT_OPT_OUT.search(text[max(0, match.start() - 6) : match.end() + 8]):
                return True
    return False


# ------------------------------------------------------------ ask for a person

_PERSON = r"(?:(?:a |an |the |some |one of the )?(?:real |actual |live |human )?(?:person|human|human being|someone|somebody|anyone|anybody|staff|nurse|doctor|dr|provider|injector|manager|receptionist|front desk|people)|(?:dr|doctor|nurse) \w+)"
_ASK_FOR_PERSON = re.compile(
    "|".join(
        [
            rf"\b(?:talk|speak|chat) (?:to|with) {_PERSON}\b",
            r"\b(?:have|get|can|could|need|want) (?:someone|somebody|a person|a human|a nurse|the doctor|staff|anyone) (?:to )?(?:call|phone|text|contact|reach out to) me\b",
            r"\b(?:is|are) (?:this|these|u|you) (?:\w+ )?(?:a |an )?(?:bot|robot|automated|automatic|machine|computer|ai|real person|human|actual person|person)\b|\bare (?:you|u) real\b",
            r"\bam i (?:talking|texting|chatting|speaking) (?:to|with) (?:a |an )?(?:bot|robot|machine|computer|ai|human|real person|person)\b",
            r"\b(?:real|actual|live) (?:person|human) (?:please|pls|plz)\b|^(?:human|person|agent|representative|operator|real person)(?: please| pls)?$",
            r"\b(?:call me|give me a call)(?: (?:back|please|pls|asap|when you can))*$",
            # Spanish
            r"\bhablar con (?:una |alguna |un |la |el |alguien|algun )?(?:persona|humano|alguien|doctora?|enfermera|encargad[oa]|gerente|recepcion|staff|personal)\b",
            r"\b(?:es|eres) (?:un |una )?(?:robot|bot|maquina|computadora|automatico|contestadora|persona real|humano)\b",
            r"\b(?:que )?(?:alguien|una persona) me (?:llame|marque|hable|conteste)\b|\bllamenme\b|\bmarquenme\b",
            # Portuguese, French
            r"\bfalar com (?:alguem|uma pessoa|um humano|a doutora|o doutor|o medico|a enfermeira|a atendente)\b|\bparler (?:a|avec) (?:quelqu un|quelquun|une personne|un humain|le docteur|l infirmiere)\b",
            # Tagalog and Vietnamese (folded): "tawagan niyo na lang ako", "goi dien cho em duoc khong"
            r"\btawagan (?:\w+ ){0,3}ako\b|\bpwede (?:po )?(?:bang )?(?:makausap|kausapin)\b|\bgoi (?:dien )?(?:lai )?cho (?:em|toi|minh|chi|anh)\b|\bnoi chuyen voi (?:nguoi|nhan vien|bac si)\b",
        ]
    )
)


_CALL_IF = re.compile(
    r"\b(?:if|when|once|whenever|after|in case) (?:\w+ ){1,10}call me\b(?! (?:please|pls|now|asap|back))"
)


def asks_for_person(folded: str) -> bool:
    """Wanting to talk to a human, or asking whether a machine is answering ("is this a bot?")."""
    text = re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", folded)).strip()
    # "if you see a small orange hamster, call me": a call on a condition asks for no one now
    return bool(_ASK_FOR_PERSON.search(text)) and not _CALL_IF.search(text)


def canonical(body: str) -> str:
    """The text red flags are matched against: folded, words only, typos corrected to lexicon words."""
    return redflags.shipped().canonical(body)


def _red_flag(text: str, body: str, family: str, days: int | None) -> GuardResult | None:
    flag = redflags.shipped().check(body, family, days, text=text)
    if flag is None:
        return None
    return GuardResult("side_effect_concern", flag.urgency, f"redflag:{flag.rule}", family=flag.family)


def flags_for_some_treatment(body: str, families=("filler", "laser")) -> bool:
    """Whether the text would be a red flag after one of these treatments (the webhook then looks the
    patient's treatment up); the text is canonicalised once."""
    text = canonical(body)
    return any(_red_flag(text, body, family, None) is not None for family in families)


def check(body: str, treatment: str | None = None, days_since_visit: int | None = None) -> GuardResult | None:
    """Apply keywords, free-text opt-outs and red flags; None when no guard fires."""
    keyword = _keyword(body)
    if keyword is not None:
        return keyword
    family = treatment_family(treatment)
    why = not_a_reply(body)
    if why == "tapback":
        # It quotes our own text back: no opt-out, no red flag from words we wrote.
        return GuardResult("other", "none", f"not_a_reply:{why}")
    if why is not None:
        flag = _red_flag(canonical(body), body, family, days_since_visit)
        return flag or GuardResult("other", "none", f"not_a_reply:{why}")
    folded = fold(body)
    # "stop textiing me", "eliminen mi núero", "stop textingg and come eat": read with each mistyped word put
    # right, so a typo neither hides an opt-out nor the words that say it is none.
    opt_out = _free_text_opt_out(redflags.shipped().spelled(folded))
    flag = _red_flag(canonical(body), body, family, days_since_visit)
    if opt_out and flag is not None:
        # The opt-out is honoured, and the red flag still pages staff.
        return GuardResult("opt_out", flag.urgency, "freetext_opt_out+" + flag.rule)
    if opt_out:
        return GuardResult("opt_out", "none", "freetext_opt_out")
    if flag is None and asks_for_person(folded):
        return GuardResult("ask_for_person", "none", "ask_for_person")
    return flag
