"""A question: answered only from the practice's own facts, else by a person.

The facts are the practice's (`Practice.facts`: hours, parking, payment,
membership, consultations, cancellation policy, aftercare sheets, booking link),
its locations' addresses and its services' prices. A question is answered when
it asks about exactly one of those topics and says nothing clinical; the answer
quotes the fact as the practice wrote it. Anything else (how long swelling
lasts, whether a medicine is safe, a price for a treatment the menu does not
list) goes to the staff inbox, and the patient is told a person will reply.
A fact may be written per language ({"en": ..., "es": ...}) and per location
({"L-AUS": ..., "L-MIA": ...}, keyed by the location's external id), and a location's text per language
({"L-AUS": {"en": ..., "es": ...}}; a language it lacks there gets its English).
"""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot.messaging import segments
from bot.understanding.textnorm import fold
from handlers.turn import Turn
from store.models import Location, Patient, Practice, Service
from store.queries import last_visit

MAX_LISTED = 3
"""A price question naming more services than this is answered with their range."""
MAX_SEGMENTS = 2
"""An answer that would take more is left to a person."""

CLINICAL = re.compile(
    r"\b(swell\w*|bruis\w*|pain\w*|hurt\w*|sore|numb\w*|itch\w*|rash|bump\w*|lump\w*|normal|safe|pregnan\w*|"
    r"breastfeed\w*|nursing|medic\w*|antibiotic\w*|blood thinner\w*|aspirin|ibuprofen|tylenol|advil|alcohol|drink\w*|"
    r"workout|work out|exercis\w*|gym|makeup|make up|sun|sauna|fly|flight|lie down|sleep|hinchaz\w*|moreton\w*|dolor\w*|"
    r"duele|embaraz\w*|lactan\w*|medicament\w*|ejercicio|maquillaje)\b"
)
"""Words that make a question clinical: a person answers it."""

TOPICS = (
    (
        "hours",
        r"\b(hours|are you (?:guys )?open|you (?:guys )?open|open (?:on|today|tomorrow|late|until|till|at)|"
        r"what time (?:do|does|are) you|opening|do you close|you closed|closed on|horario\w*|abren|abierto\w*|"
        r"cierran|a que hora)\b",
    ),
    (
        "address",
        r"\b(address|where are you|where is|located|location|directions|direccion|donde estan|donde queda|"
        r"ubicacion|ubicados)\b",
    ),
    ("parking", r"\b(park|parking|garage|valet|estacionamiento|estacionar|aparcar)\b"),
    (
        "price",
        r"\b(how much|price|prices|pricing|cost|costs|charge|rate|cuanto cuesta|cuanto sale|cuanto es|precio\w*|"
        r"costo|cobran)\b",
    ),
    ("cancellation_policy", r"\b(cancellation|cancel policy|late fee|no.?show fee|cancelacion|politica)\b"),
    (
        "gift_cards",
        r"\b(gift ?cards?|gift certificates?|gift vouchers?|e-?gift|tarjetas? de regalo|certificados? de regalo|"
        r"vales? de regalo)\b",
    ),
    ("insurance", r"\b(insurance|insured|seguro|aseguranza|seguro medico)\b"),
    ("deposit", r"\b(deposit|deposits|down payment|deposito|anticipo|adelanto)\b"),
    ("refunds", r"\b(refund|refunds|money back|reembolso\w*|devolucion|devuelven)\b"),
    (
        "payment",
        r"\b(pay|payment|card|cards|credit|financing|finance|cherry|hsa|fsa|pago|pagar|tarjeta\w*|"
        r"financiamiento)\b",
    ),
    ("membership", r"\b(membership|member|members|club|membresia|miembro)\b"),
    ("consultations", r"\b(consult|consultation|consultations|consulta|consultas|valoracion)\b"),
    ("aftercare_sheets", r"\b(aftercare (?:sheet|instructions|info)|instructions|care sheet|instrucciones)\b"),
    ("booking_url", r"\b(book online|online booking|booking link|link to book|website|reservar en linea|pagina)\b"),
)
"""Topic -> how patients ask about it (folded text, English and Spanish). Each topic is answered only by
its own fact: "do you sell gift cards?" is about gift cards, never answered with the payment fact because
it says "card"."""

OUTRANKS = {
    "gift_cards": ("payment",),
    "insurance": ("payment",),
    "deposit": ("payment", "cancellation_policy"),
    "refunds": ("payment", "cancellation_policy"),
}
"""A topic whose words hold another topic's ("gift card" holds "card"): when it matches, the other one does not."""

LEAD = {
    "hours": {"en": "Our hours: {fact}", "es": "Nuestro horario: {fact}"},
    "address": {"en": "We're at {fact}", "es": "Estamos en {fact}"},
    "parking": {"en": "Parking: {fact}", "es": "Estacionamiento: {fact}"},
    "price": {"en": "{fact}", "es": "{fact}"},
    "cancellation_policy": {"en": "Our cancellation policy: {fact}", "es": "Nuestra política de cancelación: {fact}"},
    "payment": {"en": "Payment: {fact}", "es": "Formas de pago: {fact}"},
    "membership": {"en": "{fact}", "es": "{fact}"},
    "consultations": {"en": "{fact}", "es": "{fact}"},
    "aftercare_sheets": {"en": "Our aftercare sheets: {fact}", "es": "Nuestras hojas de cuidados: {fact}"},
    "booking_url": {"en": "Book online: {fact}", "es": "Reserva en línea: {fact}"},
    "gift_cards": {"en": "Gift cards: {fact}", "es": "Tarjetas de regalo: {fact}"},
    "insurance": {"en": "{fact}", "es": "{fact}"},
    "deposit": {"en": "{fact}", "es": "{fact}"},
    "refunds": {"en": "{fact}", "es": "{fact}"},
}
TAIL = {"en": " Anything else, just reply here.", "es": " Si necesitas algo más, responde aquí."}


def handle(turn: Turn) -> None:
    answer = answer_from_facts(turn, turn.patient) if turn.patient is not None else None
    if answer is None:
        # Told a person will reply even when an earlier item is still open (it holds this text too).
        turn.to_staff("question")
        turn.tell_a_person_replies("question")
        return
    topic, text = answer
    if turn.reply("answer", answer=text) is None:
        turn.to_staff("question")  # staff have the conversation: they answer
        return
    turn.actions.append(f"answered:{topic}")


def names_a_topic(turn: Turn) -> bool:
    """Whether the text asks about one of the practice's fact topics other than a price (hours, address...)."""
    text = fold(turn.message.body or "")
    return any(re.search(pattern, text) for name, pattern in TOPICS if name != "price")


def answer_from_facts(turn: Turn, patient: Patient) -> tuple[str, str] | None:
    """(topic, answer) when the practice's own facts answer the question, else None."""
    text = fold(turn.message.body or "")
    if CLINICAL.search(text):
        return None
    topics = [name for name, pattern in TOPICS if re.search(pattern, text)]
    outranked = {other for name in topics for other in OUTRANKS.get(name, ())}
    topics = [name for name in topics if name not in outranked]
    if "price" in topics and len(topics) > 1:
        topics.remove("price")  # "how much is the membership": that fact says what it costs
    if len(topics) != 1:
        return None
    topic = topics[0]
    language = turn.language()
    session = turn.session
    practice = session.get(Practice, patient.practice_id)
    facts = practice.facts if practice is not None else None
    visit = last_visit(session, patient.id)
    location = session.get(Location, visit[0].location_id) if visit and visit[0].location_id else None
    if topic == "price":
        fact = _prices(session, patient.practice_id, text, language)
    elif topic == "address":
        fact = (location.address if location is not None else None) or fact_text(facts, "address", language, location)
    else:
        fact = fact_text(facts, topic, language, location)
    body = answer_text(topic, fact, language)
    return (topic, body) if body is not None else None


def answer_text(topic: str, fact: str | None, language: str) -> str | None:
    """How the bot quotes a fact on this topic (before its greeting); None when it would not fit two segments
    (then a person answers). The Settings page previews facts with it."""
    if not fact or not fact.strip() or topic not in LEAD:
        return None
    fact = fact.strip()
    if fact[-1] not in ".!?":
        fact += "."
    language = language if language in TAIL else "en"
    body = LEAD[topic][language].format(fact=fact) + TAIL[language]
    greeting = "¡Hola Maximiliana! " if language == "es" else "Hi Maximiliana! "  # the longest a reply's greeting gets
    if segments.fit(greeting + body).segments > MAX_SEGMENTS:  # as sent: folded when accents would not fit
        return None
    return body


def fact_text(facts: dict | None, key: str, language: str, location: Location | None) -> str | None:
    """A practice fact as text: per location when keyed by location, per language when keyed by language."""
    value = (facts or {}).get(key)
    if isinstance(value, dict) and location is not None and location.external_id in value:
        own = value[location.external_id]  # the location's text, or its texts per language
        if isinstance(own, dict):
            own = own.get(language) or own.get("en")
        if isinstance(own, str) and own.strip():
            return own
    if isinstance(value, dict):
        value = value.get(language) or value.get("en")
    return value if isinstance(value, str) and value.strip() else None


def _price_range(named: list[Service], text: str, language: str) -> str:
    """ "Botox: $280 to $550 depending on the area": the word the services share, their lowest and highest price."""
    label = _shared_name(named, text)
    low, high = min(s.price or 0 for s in named), max(s.price or 0 for s in named)
    if low == high:
        return f"{label}: ${low:,.0f}."
    if language == "es":
        return f"{label}: de ${low:,.0f} a ${high:,.0f} según la zona."
    return f"{label}: ${low:,.0f} to ${high:,.0f} depending on the area."


def _shared_name(named: list[Service], text: str) -> str:
    """The asked-about word as the menu spells it ("Botox"), else the words the services' names start with."""
    asked = set(re.findall(r"[a-z0-9]+", text))
    for word in re.findall(r"[A-Za-z0-9']+", named[0].name):
        if fold(word) in asked and all(fold(word) in fold(s.name).split() for s in named):
            return word
    first = named[0].name.split()
    shared = [w for i, w in enumerate(first) if all(s.name.split()[i : i + 1] == [w] for s in named)]
    return " ".join(shared) or named[0].name


def _prices(session, practice_id: int, text: str, language: str) -> str | None:
    """ "Prices: Lip filler: $750." for the services the question names, from the menu: each by name up to
    MAX_LISTED, else the range ("Botox: $280 to $550 depending on the area")."""
    services = session.exec(
        select(Service).where(Service.practice_id == practice_id, col(Service.price).is_not(None))
    ).all()
    named = []
    for service in services:
        names = {fold(service.name)} | ({fold(service.name_es)} if service.name_es else set())
        if any(re.search(rf"\b{re.escape(name)}\b", text) for name in names):
            named.append(service)
    if not named:  # "how much is botox": every service whose name holds the word asked about
        words = set(re.findall(r"[a-z0-9]+", text)) - {
            "how",
            "much",
            "is",
            "a",
            "the",
            "for",
            "cuanto",
            "cuesta",
            "el",
            "la",
            "de",
            "price",
            "cost",
            "precio",
            "and",
            "y",
            "what",
            "es",
        }
        named = [s for s in services if words & set(re.findall(r"[a-z0-9]+", fold(s.name))) - {"for", "with", "of"}]
    if not named:
        return None
    if len(named) > MAX_LISTED:
        return _price_range(named, text, language)
    lines = []
    for service in sorted(named, key=lambda s: s.price):
        name = service.name_es if language == "es" and service.name_es else service.name
        amount = f"${service.price:,.0f}"
        lines.append(f"{name}: {amount}")
    intro = "Precios: " if language == "es" else "Prices: "
    return intro + "; ".join(lines) + "."
