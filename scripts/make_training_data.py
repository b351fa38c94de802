"""Write data/training/generated.jsonl: labeled patient replies built from templates.

Templates with slots (treatment, day, time, body area, symptom, friend) are
expanded and roughened the way people text (lower case, dropped apostrophes,
typos, emoji, "pls"). The output is committed so the model can be rebuilt and
audited; rerun with the same seed to get the same file.

    python scripts/make_training_data.py [--n-per-intent 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TREATMENTS = {
    "botox": ("Botox", "neuromodulator"),
    "dysport": ("Dysport", "neuromodulator"),
    "xeomin": ("Xeomin", "neuromodulator"),
    "lip_filler": ("lip filler", "filler"),
    "cheek_filler": ("cheek filler", "filler"),
    "undereye_filler": ("under-eye filler", "filler"),
    "chin_filler": ("chin filler", "filler"),
    "microneedling": ("microneedling", "microneedling"),
    "chemical_peel": ("peel", "peel"),
    "laser_hair_removal": ("laser hair removal", "laser"),
    "laser_resurfacing": ("laser resurfacing", "laser"),
    "ipl": ("IPL", "laser"),
    "hydrafacial": ("HydraFacial", "facial"),
    "coolsculpting": ("CoolSculpting", "body"),
    "kybella": ("Kybella", "body"),
    "prp": ("PRP", "prp"),
}
DAYS_EN = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
]
DAYS_ES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado"]
TIMES = ["9am", "10am", "10:30", "11", "noon", "1pm", "2pm", "3", "3:30pm", "4pm", "5", "5:30", "6pm"]
PARTS_EN = ["morning", "afternoon", "evening", "lunch time", "after work", "before noon", "after 3", "after 5"]
PARTS_ES = ["en la mañana", "en la tarde", "después de las 5", "temprano", "a mediodía"]
WHEN_EN = [
    "next week",
    "next month",
    "after the holidays",
    "in january",
    "in the spring",
    "after my vacation",
    "in a couple weeks",
    "end of the month",
    "after payday",
    "in a few weeks",
    "after my trip",
    "later this year",
    "in march",
    "after the new year",
]
WHEN_ES = [
    "la próxima semana",
    "el próximo mes",
    "después de las fiestas",
    "en enero",
    "en unas semanas",
    "a fin de mes",
    "después de mi viaje",
    "cuando me paguen",
    "más adelante",
    "en primavera",
]
FRIENDS_EN = [
    "my sister",
    "my mom",
    "my best friend",
    "my coworker",
    "my husband",
    "my boyfriend",
    "my roommate",
    "my cousin",
    "my neighbor",
    "my daughter",
    "a friend",
    "my aunt",
    "my bff",
    "my girlfriend",
    "my wife",
    "my mother in law",
]
FRIENDS_ES = [
    "mi hermana",
    "mi mamá",
    "mi amiga",
    "mi prima",
    "mi esposo",
    "mi vecina",
    "mi hija",
    "una amiga",
    "mi compañera de trabajo",
    "mi tía",
]
EMOJI_POS = ["😍", "🥰", "❤️", "✨", "🙌", "😊", "💕", "🙏", "👏", "💯"]
EMOJI_NEG = ["😩", "😕", "😤", "🙄", "😞", "😬"]
EMOJI_WORRY = ["😰", "😟", "😬", "🥺", "😳", "😭"]


def phone(rng):
    return f"555-{rng.randint(100, 999):03d}{rng.randint(0, 9)}"


# ----------------------------------------------------------------- outbound


def outbound(kind, rng, t, lang):
    name = TREATMENTS[t][0]
    slot_a, slot_b, slot_c = rng.sample(["Tue 10am", "Wed 3pm", "Thu 4:30pm", "Fri 11:30am", "Sat 9am", "Mon 1pm"], 3)
    en = {
        "slots": [
            f"It's been about 3 months since your last {name}! Want to get on the schedule? Openings: 1) {slot_a} 2) {slot_b} 3) {slot_c}. Reply with a number.",
            f"Time for your {name} refresh? We have {slot_a} or {slot_b} open this week.",
            f"Hi! You're due for {name}. I can hold {slot_a} or {slot_b}. Which works?",
        ],
        "offer": [
            f"Hi! You're due for {name} session {rng.randint(2, 5)}. Want us to find you a time?",
            f"Ready for your next {name}? We have openings next week.",
            f"Ready for your second {name} round? Reply YES and we'll send times.",
            f"Your {name} touch-up window is open! Want me to hold {slot_a} for you?",
            f"Your next {name} session is due. What days work best for you?",
        ],
        "promo": [
            "Flash sale this weekend: $100 off any filler syringe. Reply BOOK to reserve. Reply STOP to opt out.",
            "Spring special: 20% off laser packages through the 30th. Reply to book! Reply STOP to opt out.",
            f"This month only: $50 off {name}! Reply BOOK to grab a spot. Reply STOP to opt out.",
        ],
        "winback": [
            "We miss you! It's been a while since your last visit. Book a refresh consult this month and get 15% off. Reply STOP to opt out."
        ],
        "reminder": [
            f"Reminder: your appointment is tomorrow at {rng.choice(['2:00pm', '10:00am', '4:30pm'])}. Reply C to cancel or R to reschedule.",
            f"Reminder: your {name} appointment is {rng.choice(['Friday at 10am', 'Monday at 11am', 'Thursday at 3pm'])}. See you then!",
            "Reminder: your follow-up is Thu at 11am. See you then!",
        ],
        "checkin": [
            f"Hi! Checking in after your {name}. Any swelling, bruising, or concerns?",
            f"Hi! Checking in the day after your {name}. How are you feeling?",
            f"Hi! How is your skin healing after {name}?",
            f"Hi! Just checking in after your {name} today. Some swelling and tenderness are normal. Reply here with any questions.",
        ],
        "results": [
            f"Hi! It's been 2 weeks since your {name}. How are your results? Reply here with any questions.",
            f"Hi! It's been about a week since your {name}. How are your results settling in?",
        ],
        "feedback": ["Thanks for visiting us today! How was your experience? We'd love to hear from you."],
        "referral": ["Love your results? Refer a friend and you both get $25 off! Reply with their name and number."],
        "unsubscribed": ["You have been unsubscribed and will no longer receive messages. Reply START to resubscribe."],
        "aftercare": [
            "Your aftercare: avoid exfoliants and retinol for 48 hours. Reply with any questions.",
            "Reminder: no facials or massages for 2 weeks after Botox.",
            "Thanks for coming in today! Reminder: stay upright for 4 hours and skip strenuous exercise for 24 hours.",
        ],
    }
    es = {
        "slots": [
            f"¡Hola! Ya pasaron 3 meses desde tu {name}. Tenemos citas: 1) martes 10am 2) miércoles 3pm. Responde con el número."
        ],
        "offer": [f"¡Hola! Ya te toca tu {name}. ¿Quieres que te busquemos un horario?"],
        "promo": ["¡Promoción del mes! 20% de descuento en Botox. Responde STOP para darte de baja."],
        "winback": [
            "¡Te extrañamos! Hace tiempo que no nos visitas. Agenda este mes y recibe 15% de descuento. Responde STOP para darte de baja."
        ],
        "reminder": ["Recordatorio: tu cita es el jueves a las 3pm. Responde C para cancelar o R para reprogramar."],
        "checkin": [
            f"¡Hola! ¿Cómo te sientes después de tu {name}?",
            "¡Hola! ¿Cómo va tu piel después del tratamiento?",
        ],
        "results": [f"¡Hola! Ya pasaron 2 semanas desde tu {name}. ¿Cómo van tus resultados?"],
        "feedback": ["¡Gracias por visitarnos! ¿Cómo fue tu experiencia?"],
        "referral": ["¿Te encantan tus resultados? Recomienda a una amiga y ambas reciben $25 de descuento."],
        "unsubscribed": ["Te has dado de baja y no recibirás más mensajes. Responde START para volver a suscribirte."],
        "aftercare": ["Cuidados: evita el sol y el retinol por 48 horas. Responde con cualquier pregunta."],
    }
    if kind is None:
        return None
    table = es if lang == "es" else en
    return rng.choice(table.get(kind) or en[kind])


# -------------------------------------------------------------- roughening


def typo(word, rng):
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.4:
        return word[:i] + word[i + 1 :]
    if op < 0.7:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i] + word[i:]


SLANG = [
    (r"\byou\b", "u"),
    (r"\byour\b", "ur"),
    (r"\bplease\b", "pls"),
    (r"\bthanks\b", "thx"),
    (r"\bokay\b", "ok"),
    (r"\btomorrow\b", "tmrw"),
    (r"\bbecause\b", "bc"),
    (r"\bappointment\b", "appt"),
    (r"\breally\b", "rly"),
    (r"\bpor favor\b", "porfa"),
]


def roughen(text, rng, lang):
    r = rng.random()
    if r < 0.45:
        text = text.lower()
    elif r < 0.5:
        text = text.upper()
    if rng.random() < 0.5:
        text = text.replace("'", "")
    if rng.random() < 0.35:
        for pat, rep in SLANG:
            if rng.random() < 0.6:
                text = re.sub(pat, rep, text, flags=re.I)
    if lang == "es" and rng.random() < 0.5:
        text = text.translate(str.maketrans("áéíóúÁÉÍÓÚ¿¡", "aeiouAEIOU  ")).strip()
    if rng.random() < 0.25:
        words = text.split(" ")
        j = rng.randrange(len(words))
        words[j] = typo(words[j], rng)
        text = " ".join(words)
    if rng.random() < 0.3:
        text = text.rstrip(".!?")
    return re.sub(r"\s+", " ", text).strip()


def pick(rng, options):
    item = rng.choice(options)
    return item(rng) if callable(item) else item


def fill(template, rng, t, lang):
    name = TREATMENTS[t][0]
    slots = {
        "T": name if rng.random() < 0.8 else name.lower(),
        "DAY": rng.choice(DAYS_ES if lang == "es" else DAYS_EN),
        "TIME": rng.choice(TIMES),
        "PART": rng.choice(PARTS_ES if lang == "es" else PARTS_EN),
        "WHEN": rng.choice(WHEN_ES if lang == "es" else WHEN_EN),
        "FRIEND": rng.choice(FRIENDS_ES if lang == "es" else FRIENDS_EN),
        "PHONE": phone(rng),
        "POS": rng.choice(EMOJI_POS),
        "NEG": rng.choice(EMOJI_NEG),
        "WORRY": rng.choice(EMOJI_WORRY),
        "N": str(rng.randint(1, 3)),
        "AREA": rng.choice(
            AREAS.get(TREATMENTS[t][1], ["face"]) if lang == "en" else AREAS_ES.get(TREATMENTS[t][1], ["cara"])
        ),
    }
    out = template
    for key, value in slots.items():
        out = out.replace("{" + key + "}", value)
    return out


AREAS = {
    "filler": ["lip", "lips", "upper lip", "cheek", "chin", "under my eye", "nose", "the injection site"],
    "neuromodulator": ["forehead", "eyebrow", "between my eyes", "crows feet", "jaw", "neck"],
    "laser": ["legs", "underarms", "bikini area", "face", "chest", "arm", "upper lip", "back"],
    "peel": ["face", "chin", "forehead", "around my mouth", "nose"],
    "microneedling": ["face", "cheeks", "forehead", "scars", "neck"],
    "facial": ["face", "cheeks", "chin", "t zone"],
    "body": ["stomach", "belly", "flanks", "chin", "thighs", "under my chin"],
    "prp": ["scalp", "face", "under my eyes"],
}
AREAS_ES = {
    "filler": ["labio", "labios", "mejilla", "barbilla", "nariz"],
    "neuromodulator": ["frente", "ceja", "entrecejo"],
    "laser": ["piernas", "axilas", "cara", "bikini"],
    "peel": ["cara", "barbilla", "frente"],
    "microneedling": ["cara", "mejillas"],
    "facial": ["cara"],
    "body": ["abdomen", "panza", "papada"],
    "prp": ["cuero cabelludo", "cara"],
}

# ------------------------------------------------------------- templates
# Each entry: (templates, outbound kinds to pair with, treatment families allowed or None)

T = {}
T["rebook_request"] = [
    (
        [
            "can i book {T} {DAY}?",
            "do you have anything {DAY} {PART}?",
            "id like to schedule my next {T}",
            "due for my {T}, can i get in {WHEN}?",
            "any openings {DAY} for {T}?",
            "i want to book another {T} session",
            "can you fit me in {DAY} at {TIME}?",
            "book me for {T} please",
            "looking to get {T} again before my wedding, when can i come in",
            "hi! can i get {T} this week? any day works",
            "put me down for my next {T} whenever you have an opening {PART}",
            "is {DAY} at {TIME} available?",
            "need to book a touch up",
            "ready to book my next session!",
            "do you have time {DAY} or {DAY}?",
            "im ready for round {N}, whats open?",
            "can i come in {DAY} for a touch up?",
            "i need a refresh, what do you have {WHEN}?",
            "want to schedule {T} for me, {PART}s are best",
            "time for more {T} lol when can u see me",
            "can i get on the schedule for {T}",
            "I'd like an appointment {DAY} {PART} if possible",
            "whats the soonest i can get in for {T}?",
            "hi, id like to come back for another treatment",
            "is there a spot {DAY}? I'll take it",
        ],
        ["offer", "slots", "promo", "winback", None, "results"],
        None,
    ),
    (
        [
            "{N}",
            "option {N}",
            "#{N}",
            "{N} please",
            "{N} pls",
            "number {N}",
            "{N} works",
            "i'll take {N}",
            "{N} works for me!",
            "the {TIME} works",
            "{DAY} {TIME} please",
            "{DAY} works",
            "{DAY} at {TIME} is perfect",
            "the first one",
            "the second one pls",
            "the last one",
            "lets do {DAY}",
            "{DAY} {TIME} 👍",
            "the {TIME} one",
            "{DAY} is good",
            "yes {DAY} please",
        ],
        ["slots"],
        None,
    ),
    (
        [
            "yes",
            "Yes!",
            "yes please",
            "yes pls",
            "yep",
            "yeah sure",
            "sure",
            "sounds good, book me",
            "ok book me",
            "yes book me!!",
            "👍",
            "ok",
            "yes! {DAY} {PART} if possible",
            "yes sign me up. {PART}s are best",
            "yes please, which days are open",
            "absolutely",
            "please do",
            "yes hold it for me",
            "that works",
            "perfect, hold it",
        ],
        ["offer"],
        None,
    ),
    (
        [
            "yes book me!!",
            "yes I want that deal",
            "im in! book me",
            "sign me up",
            "id love to come in, what times do you have?",
            "ok lets do it, what's open {DAY}?",
        ],
        ["promo", "winback"],
        None,
    ),
]
T["rebook_request_es"] = [
    (
        [
            "quiero agendar otra cita de {T}",
            "¿tienen algo el {DAY}?",
            "me gustaría agendar {T} {WHEN}",
            "¿puedo ir el {DAY} {PART}?",
            "quiero sacar cita para {T}",
            "¿tienen espacio esta semana?",
            "ya me toca mi {T}, ¿cuándo tienen?",
            "agéndame por favor {PART}",
            "quiero otra sesión, ¿qué días tienen?",
            "¿hay lugar el {DAY} a las {TIME}?",
        ],
        ["offer", "promo", "winback", None],
        None,
    ),
    (
        [
            "{N}",
            "el {N}",
            "{N} porfa",
            "{N} por favor",
            "la opción {N}",
            "sí, el {DAY}",
            "sí, el {DAY} a las {TIME}",
            "el {DAY} está bien",
            "el primero",
            "el segundo",
        ],
        ["slots"],
        None,
    ),
    (["sí", "si", "sí por favor", "si porfa", "claro", "sí, agéndame", "va", "órale sí", "👍"], ["offer"], None),
]
T["reschedule_or_cancel"] = [
    (
        [
            "C",
            "c",
            "R",
            "r",
            "need to reschedule",
            "can i move my appt to {DAY}?",
            "something came up, i wont be able to make tomorrows appt",
            "cancel my appointment please",
            "I need to cancel my appointment",
            "can we push it to {DAY}?",
            "can i come at {TIME} instead?",
            "running late, can we move it to {TIME}",
            "kid is sick, wont make it {DAY}, so sorry",
            "cant make it today {NEG} can we do sometime {WHEN}",
            "need to cancel, sorry",
            "please cancel my {DAY} appt",
            "will need to reschedule, im sick",
            "can i change my appointment to {DAY} {PART}?",
            "im booked for the 22nd but need to move it to the 29th",
            "can i push my {TIME} to later?",
            "i have to cancel tomorrow, work conflict",
            "need to move my appointment",
            "is it possible to reschedule to {WHEN}?",
            "wont be able to make it, can we reschedule",
            "cancel tomorrow pls",
        ],
        ["reminder", None, "offer"],
        None,
    ),
]
T["reschedule_or_cancel_es"] = [
    (
        [
            "necesito cambiar mi cita del {DAY}",
            "no puedo ir mañana a mi cita, una disculpa",
            "¿puedo cambiar mi cita para el {DAY}?",
            "cancela mi cita por favor",
            "quiero cancelar mi cita",
            "tengo que reprogramar mi cita",
            "¿se puede mover mi cita a las {TIME}?",
            "C",
            "R",
            "no voy a poder llegar el {DAY}",
        ],
        ["reminder", None],
        None,
    ),
]
T["defer"] = [
    (
        [
            "not right now thanks",
            "maybe {WHEN}?",
            "not yet",
            "{WHEN} maybe?",
            "need to look at my calendar, will get back to u",
            "i'll contact you when im ready",
            "not this time, maybe {WHEN}",
            "pass for now",
            "cant afford it this month, maybe {WHEN}",
            "out of town till the 15th, will text when im back",
            "not yet, still have movement left lol",
            "i'll let you know",
            "busy month, try me {WHEN}",
            "ill think about it",
            "maybe later",
            "hold off for now, ill text {WHEN}",
            "not at the moment",
            "no thanks, not right now",
            "ask me again {WHEN}",
            "still healing from surgery, will book {WHEN}",
            "give me a few weeks",
            "I'll get back to you {WHEN}",
            "waiting for payday, {WHEN}",
            "not now, ill call when im ready",
            "can you remind me {WHEN}?",
        ],
        ["offer", "slots", "promo", "winback"],
        None,
    ),
]
T["defer_es"] = [
    (
        [
            "ahora no, tal vez {WHEN}",
            "todavía no, gracias 🙏",
            "más adelante",
            "luego les aviso",
            "ahorita no puedo, {WHEN}",
            "déjame ver mi agenda y te aviso",
            "este mes no, quizás {WHEN}",
            "yo les escribo cuando esté lista",
            "ahorita no, gracias",
            "recuérdame {WHEN}",
        ],
        ["offer", "slots", "promo", "winback"],
        None,
    ),
]
T["referral"] = [
    (
        [
            "{FRIEND} wants to get {T} too, can i give her this number?",
            "do you guys do referral credits?",
            "how does the refer a friend thing work?",
            "{FRIEND} wants to come in, her number is {PHONE}",
            "can {FRIEND} come with me next time?",
            "sent {FRIEND} your way, she's gonna call",
            "{FRIEND} saw my results and wants the same thing",
            "{FRIEND} wants to try {T}, does she need a consult?",
            "can i refer {FRIEND}? {PHONE}",
            "{FRIEND} is interested, can you text her? {PHONE}",
            "do i get credit if {FRIEND} books?",
            "{FRIEND} wants to book, can she get the new client deal?",
            "I told {FRIEND} about you, she'll be reaching out",
            "how do i send my referral code to {FRIEND}?",
            "my friend wants her lips done too lol",
            "can {FRIEND} and i book together?",
            "obsessed!! {FRIEND} wants to come in too, can she get the discount?",
        ],
        ["referral", None, "results", "checkin"],
        None,
    ),
]
T["referral_es"] = [
    (
        [
            "{FRIEND} quiere hacerse {T}, le paso su número: {PHONE}",
            "¿tienen programa de referidos?",
            "{FRIEND} quiere venir conmigo la próxima vez",
            "le di su número a {FRIEND}",
            "¿cómo funciona lo de recomendar a una amiga?",
            "{FRIEND} también quiere {T}, ¿le pueden escribir? {PHONE}",
        ],
        ["referral", None],
        None,
    ),
]
T["opt_out"] = [
    (
        [
            "STOP",
            "Stop",
            "stop.",
            "STOP 🛑",
            "Stop!!",
            "UNSUBSCRIBE",
            "CANCEL",
            "END",
            "QUIT",
            "REVOKE",
            "OPTOUT",
            "STOPALL",
            "stopall",
            "please stop texting me",
            "stop texting me",
            "take me off your list",
            "remove me from these texts",
            "leave me alone",
            "no more messages please",
            "dont text me anymore",
            "I said stop",
            "unsubscribe me",
            "stop sending me promos",
            "not who you think, stop texting me",
            "remove me",
            "opt me out",
            "i dont want these texts",
            "quit texting me",
            "please remove my number",
            "no more texts thx",
            "stop sending me these",
            "stop messaging me please",
            "not interested, remove me",
            "take me off this list",
            "dont contact me again",
            "stop pls",
            "please stop",
            "lose my number",
            "Stop sending me promos. I still want my appointment reminders",
            "i moved away, please stop texting",
            "enough with the texts, unsubscribe",
            "I no longer want to receive these messages",
            "dont text me",
            "remove me from the list",
        ],
        ["promo", "winback", "reminder", "offer", None, "slots"],
        None,
    ),
]
T["opt_out_es"] = [
    (
        [
            "BAJA",
            "ALTO",
            "no me manden más mensajes",
            "ya no quiero recibir mensajes",
            "dejen de escribirme",
            "dejen de mandarme promociones porfa",
            "bórrenme de su lista",
            "quiero darme de baja",
            "no más mensajes",
            "ya no me escriban",
            "no me envíen más promociones",
            "déjenme en paz",
            "sáquenme de la lista",
            "no quiero más mensajes, gracias",
            "ya no quiero recibir promociones",
            "baja por favor",
        ],
        ["promo", "winback", None],
        None,
    ),
]
T["opt_in"] = [
    (
        [
            "START",
            "start",
            "UNSTOP",
            "unstop",
            "YES",
            "yes",
            "sorry that was a mistake. START",
            "resubscribe me please",
            "can you add me back to the texts?",
            "text me again pls, i want the deals",
            "i unsubscribed by accident, add me back",
            "sign me back up for texts",
            "i want to get your messages again",
            "START please",
            "opt me back in",
            "please resume the texts",
            "put me back on the list",
            "i changed my mind, keep texting me",
            "resubscribe",
            "subscribe me again",
            "i want the specials again, add me back",
        ],
        ["unsubscribed", None],
        None,
    ),
]
T["opt_in_es"] = [
    (
        [
            "START, quiero recibir sus mensajes otra vez",
            "quiero volver a recibir mensajes",
            "agréguenme otra vez",
            "sí quiero recibir mensajes otra vez",
            "vuelvan a mandarme promociones",
            "START por favor",
            "me di de baja sin querer, agréguenme",
        ],
        ["unsubscribed", None],
        None,
    ),
]
T["help"] = [
    (
        [
            "HELP",
            "help",
            "INFO",
            "info",
            "who is this?",
            "who is this",
            "which number should i call to talk to someone",
            "whats the clinic phone number? i wanna call",
            "who's texting me?",
            "what is this?",
            "calling goes straight to voicemail, how do i reach you",
            "is this the med spa?",
            "what is this number",
        ],
        [None, "promo", "winback", "reminder", "offer"],
        None,
    ),
]
T["help_es"] = [
    (
        [
            "¿quién es?",
            "quién habla?",
            "ayuda",
            "¿a qué número llamo?",
            "¿qué es esto?",
        ],
        [None, "promo", "reminder"],
        None,
    ),
]
T["question"] = [
    (
        [
            "how much is {T}?",
            "whats the price for one syringe of lip filler?",
            "are you open sundays?",
            "what time do you open?",
            "do you have parking?",
            "can i drink wine before my {T}?",
            "when can i put makeup on after {T}?",
            "when can i start retinol again?",
            "can i work out tomorrow?",
            "how many sessions will i need?",
            "do you sell the sunscreen you used?",
            "can i stop by tomorrow to grab more serum? what time do you open",
            "info on the $50 off deal? does it work with add ons",
            "do i keep using the aquaphor or switch?",
            "can i go to hot yoga tomorrow?",
            "how long does {T} last?",
            "do you take carecredit?",
            "can i get a facial while i have {T}?",
            "whats your address?",
            "do you accept hsa cards?",
            "can i shower tonight?",
            "how long should i wait to exercise?",
            "can i fly after {T}?",
            "is there a cancellation fee?",
            "do you do payment plans?",
            "can i use my regular moisturizer?",
            "when will i see results?",
            "how much is the package of {N}?",
            "do you have gift cards?",
            "should i avoid the sun after {T}?",
            "can i wash my face tonight?",
            "when can i get a massage?",
            "can i dye my hair before my appt?",
        ],
        [None, "aftercare", "promo", "results", "checkin"],
        None,
    ),
]
T["question_es"] = [
    (
        [
            "¿cuánto cuesta el {T}?",
            "¿tienen estacionamiento?",
            "¿a qué hora abren?",
            "¿abren los domingos?",
            "¿puedo hacer ejercicio mañana?",
            "¿cuándo puedo usar maquillaje?",
            "¿cuánto dura el {T}?",
            "¿aceptan tarjeta?",
            "¿cuál es la dirección?",
            "¿puedo tomar alcohol antes de mi cita?",
            "¿cuántas sesiones necesito?",
            "¿puedo lavarme la cara hoy?",
        ],
        [None, "aftercare", "promo"],
        None,
    ),
]
T["positive_feedback"] = [
    (
        [
            "love my lips!! {POS}",
            "the {T} was the best, skin is glowing {POS}",
            "you guys are amazing",
            "thanks so much, i look well rested",
            "all good over here, zero problems!",
            "my skin has never been this smooth, so worth it",
            "keep staring at myself in the mirror lol thank u!!",
            "results are amazing {POS}",
            "so happy with my results",
            "my clothes already fit better!! thrilled",
            "everyone says i look younger lol thank you",
            "obsessed with my {T} {POS}",
            "it was a great experience, thanks!",
            "{AREA} looks perfect",
            "feeling great, thank you for checking in!",
            "loved it, [name] was so sweet",
            "10/10 would recommend",
            "amazing service as always",
            "no complaints! looks natural",
            "all good here, healing nicely",
            "the {T} got rid of my sunspots, you guys are the best",
            "so glad i did it {POS}",
            "doing great, thanks!",
        ],
        ["feedback", "results", "checkin", None],
        None,
    ),
]
T["positive_feedback_es"] = [
    (
        [
            "me encantó el resultado {POS}",
            "quedé muy contenta con el resultado",
            "todo muy bien, gracias",
            "excelente servicio {POS}",
            "me veo increíble, gracias",
            "estoy feliz con mis resultados",
            "todo bien, sin molestias",
            "me encantaron mis labios {POS}",
        ],
        ["feedback", "results", "checkin", None],
        None,
    ),
]
T["negative_feedback"] = [
    (
        [
            "had to wait like half an hour past my appt time, not cool",
            "the receptionist was rude to me",
            "honestly disappointed. paid a lot and i cant see a difference",
            "felt super rushed and nobody explained anything",
            "done 3 sessions and seeing nothing. pretty annoyed",
            "honestly not impressed",
            "i got charged twice for one visit, please refund",
            "my forehead moves like nothing was done, didnt work",
            "not happy with my results {NEG}",
            "waste of money",
            "the {T} didnt do anything",
            "staff was unprofessional",
            "overpriced for what i got",
            "i was really disappointed with my {T}",
            "nobody called me back, frustrating",
            "the room was dirty",
            "worst experience, wont be back",
            "i asked for natural and it looks overdone",
            "still have hair after {N} sessions, not worth it",
            "you overcharged me",
            "my {AREA} looks uneven and im not happy",
            "meh, expected more",
            "not worth the price honestly",
        ],
        ["feedback", "results", None, "checkin"],
        None,
    ),
]
T["negative_feedback_es"] = [
    (
        [
            "no me gustó nada el servicio, muy caro",
            "estoy decepcionada, no veo resultados",
            "me hicieron esperar mucho",
            "la recepcionista fue grosera",
            "no sirvió para nada",
            "me cobraron doble",
        ],
        ["feedback", "results", None],
        None,
    ),
]
T["wrong_number"] = [
    (
        [
            "wrong number",
            "you have the wrong number",
            "I think you have the wrong person",
            "who? wrong #",
            "new number, whoever youre looking for doesnt have this phone",
            "this isnt her phone anymore",
            "I dont have an appointment with you, wrong person",
            "wrong number pal",
            "never been to a med spa, wrong number",
            "i dont get fillers, wrong number",
            "this is not {FRIEND}'s number anymore",
            "not me, wrong person",
            "i think you meant someone else",
            "whoever this is for, its not me",
            "got this number last month, not the person you want",
        ],
        ["promo", "winback", "reminder", "offer", None],
        None,
    ),
]
T["wrong_number_es"] = [
    (
        [
            "número equivocado",
            "se equivocaron de número",
            "no soy esa persona",
            "este ya no es su número",
            "creo que tienen el número equivocado",
        ],
        ["promo", "winback", "reminder", None],
        None,
    ),
]
T["other"] = [
    (
        [
            "ok",
            "k",
            "Thanks",
            "thank you",
            "👍",
            "got it",
            "ok thanks",
            "ok gracias 👍",
            "noted",
            "cool",
            "sounds good",
            "will do",
            "asdfghjkl",
            "lol",
            "I'm driving. I'll read your message later. (auto reply)",
            "see you then",
            "ok see u thursday",
            "👌",
            "🙏",
            "thx",
            "okie",
            "ok will do",
            "haha ok",
            "got it, thanks!",
            "?",
            "hmm",
            "sorry wrong chat",
        ],
        ["aftercare", "reminder", None, "results"],
        None,
    ),
    (["{N}", "2", "1", "3"], [None, "aftercare", "results"], None),
]
T["other_es"] = [
    (
        ["ok gracias", "gracias", "va", "👍", "entendido", "perfecto gracias", "sale", "nos vemos"],
        ["aftercare", "reminder", None],
        None,
    )
]

SYMPTOM_ROUTINE = {
    "filler": [
        "{AREA} is a little swollen, normal?",
        "slight bruise on my {AREA}, anything i should do?",
        "tiny lump in my {AREA} i can feel, doesnt hurt. normal?",
        "my {AREA} is tender when i touch it",
        "swelling wont go down lol my lips are massive, normal?",
        "ok to take advil for the swelling?",
        "one side looks more swollen than the other",
        "small bumps where the needle went in",
        "lips feel lumpy, will that go away?",
        "bruising on my {AREA}, how long does it last?",
        "still swollen on day {N}, is that ok?",
        "a little sore and bruised, normal?",
    ],
    "neuromodulator": [
        "slight headache since this morning, normal after {T}?",
        "little bruise near my eyebrow, normal?",
        "forehead feels a bit heavy, strange",
        "little bumps at the injection spots havent gone away yet",
        "small red spots at the injection sites",
        "mild headache today, can i take tylenol?",
        "my {AREA} feels a bit tight",
        "bit of a bruise between my eyes",
    ],
    "laser": [
        "red bumps where you did the laser, like goosebumps",
        "skin is red and a little itchy, normal?",
        "the brown spots look darker now after {T}?? is it working",
        "face is red and swollen day {N}, is the itch normal",
        "area feels like a mild sunburn",
        "little red and warm tonight, expected?",
        "hairs are falling out, is that normal?",
        "some peeling on my {AREA}",
    ],
    "peel": [
        "peeling a ton around my nose 😅 and its a bit itchy",
        "skin feels tight and dry",
        "my face is flaking a lot, normal?",
        "a little red and stings when i wash",
        "face is peeling in patches, is that ok",
        "skin looks darker in spots before peeling?",
    ],
    "microneedling": [
        "face feels tight and kinda sunburned today, expected?",
        "a few tiny bleeding spots still, how do i stop that?",
        "face is red like a sunburn, normal?",
        "little scabs on my forehead",
        "skin burns a little when i put moisturizer on",
        "some small breakouts after microneedling",
    ],
    "facial": [
        "got a few zits after the {T}, is my skin purging?",
        "face is pretty red tonight, should i worry?",
        "few little pimples after the facial",
        "skin feels dry and tight",
    ],
    "body": [
        "{AREA} feels achy and sore since this morning, is that expected?",
        "area is still numb and tingly, is that ok?",
        "{AREA} is SO swollen i look like a bullfrog lol is this normal",
        "bruising on my {AREA}, normal?",
        "hard lump under my chin, is that normal?",
    ],
    "prp": [
        "scalp is sore and a bit tender after the PRP",
        "some bruising under my eyes",
        "head feels tender, normal?",
    ],
}
SYMPTOM_ROUTINE_ES = [
    "tengo un moretón pequeño en la {AREA}, ¿es normal?",
    "mis labios siguen hinchados, ¿en cuántos días baja?",
    "tengo la frente pelándose bastante, ¿así debe ser?",
    "siento la piel un poco caliente y roja, ¿es normal?",
    "me duele un poco la {AREA}",
    "tengo bolitas pequeñas donde me inyectaron",
    "me salieron granitos después del facial",
    "tengo un poco de dolor de cabeza, ¿es normal?",
]
SYMPTOM_URGENT = {
    "neuromodulator": [
        "my right eyelid is droopy since the {T}",
        "my mouth droops on one side when i smile",
        "my eyebrow is way higher than the other, spock brow",
        "my eye lid feels droopy and heavy",
        "my smile looks crooked",
        "seeing double since the {T}",
        "cant close my eye all the way",
    ],
    "filler": [
        "injection spot is hot and red and hard, keeps getting bigger",
        "lip is red and hot, theres a pus bump and i feel feverish",
        "i have a fever and my {AREA} is really red",
        "there's pus coming out of the injection site",
    ],
    "laser": [
        "i have blisters on my {AREA} from the laser",
        "got blisters that are oozing",
        "a couple spots look burnt",
        "it looks like a burn on my {AREA}",
        "cold sore came out after laser and it's spreading",
    ],
    "peel": [
        "i have blisters on my face after the peel",
        "there's an open wound on my chin",
        "my skin looks burned, like raw",
    ],
    "microneedling": [
        "more red every day, warm and there are yellow crusts",
        "i think its infected, theres pus",
        "i have a fever since the treatment",
    ],
    "body": [
        "the area is hot and red and spreading",
        "i have red streaks going up from the area",
        "running a fever since yesterday",
    ],
}
SYMPTOM_URGENT_ES = [
    "tengo el párpado caído desde el botox",
    "tengo ampollas en la {AREA} por el láser",
    "tengo fiebre y pus en la zona",
    "tengo la sonrisa chueca",
    "la zona está roja, caliente y cada vez más grande",
    "tengo una quemadura en la {AREA}",
]
SYMPTOM_EMERGENCY = {
    "filler": [
        "my {AREA} has a white spot and it really hurts",
        "skin near my {AREA} is purple and lace looking, hurting more",
        "skin under my lip went white and feels cold",
        "my lip is turning gray purple and hurts so much",
        "the pain is worse today and there is a gray patch near my nose",
        "my {AREA} looks dusky and blue",
        "my vision is blurry since the filler",
        "seeing spots in my eye and it aches",
        "cant see out of my left eye",
        "the area is mottled and cold",
        "my {AREA} looks kind of grey and dark around where she injected",
        "the skin by my {AREA} is blotchy and purplish and throbbing",
        "pain in my {AREA} keeps getting worse and tylenol isn't touching it",
        "advil does nothing, the pain is only getting worse",
        "it's going dusky near the injection site",
        "one spot looks darker and it burns so bad",
    ],
    "any": [
        "throat feels tight, swallowing is hard",
        "hives on my chest and face swelling, kinda wheezing",
        "cant breathe well, lips swelling up",
        "hives all over my arms and my lips swelling, throat feels off",
        "having chest pain since the treatment",
        "i fainted after i got home",
        "i have a terrible headache and a stiff neck",
        "hard time swallowing, is that part of it?",
        "tongue feels swollen and thick",
        "my lips are puffing up and i feel lightheaded",
        "face is swelling and i'm super dizzy",
        "itchy all over and my lips are getting huge",
        "water keeps going down the wrong way since my {T}",
        "i keep choking when i drink since the injections",
        "my voice is hoarse and it's hard to get food down",
        "both my eyelids are drooping and swallowing feels weird",
    ],
}
SYMPTOM_EMERGENCY_ES = [
    "el labio se me puso blanco y me duele mucho",
    "veo borroso de un ojo desde el relleno",
    "no puedo respirar bien",
    "me cuesta tragar y siento la garganta cerrada",
    "me salieron ronchas y se me hincha la cara",
    "me duele el pecho",
    "se me hinchan los labios y estoy mareada",
    "me ahogo con el agua desde el botox",
    "la piel del labio se ve gris y me duele cada vez más",
    "el ibuprofeno no me hace nada y el dolor sigue aumentando",
]


def side_effects(rng, n):
    rows = []
    for _ in range(n):
        t = rng.choice(list(TREATMENTS))
        fam = TREATMENTS[t][1]
        lang = "es" if rng.random() < 0.2 else "en"
        r = rng.random()
        if r < 0.55:
            urgency = "routine"
            pool = SYMPTOM_ROUTINE_ES if lang == "es" else SYMPTOM_ROUTINE[fam]
        elif r < 0.78:
            urgency = "urgent"
            if fam not in SYMPTOM_URGENT:
                t = rng.choice(["botox", "lip_filler", "laser_hair_removal", "microneedling"])
                fam = TREATMENTS[t][1]
            pool = SYMPTOM_URGENT_ES if lang == "es" else SYMPTOM_URGENT[fam]
        else:
            urgency = "emergency"
            if lang == "es":
                pool = SYMPTOM_EMERGENCY_ES
                t = rng.choice(["lip_filler", "cheek_filler"])
            elif fam == "filler" and rng.random() < 0.6:
                pool = SYMPTOM_EMERGENCY["filler"]
            else:
                pool = SYMPTOM_EMERGENCY["any"]
        body = fill(rng.choice(pool), rng, t, lang)
        if rng.random() < 0.2:
            body += " " + fill("{WORRY}", rng, t, lang)
        if rng.random() < 0.15 and lang == "en":
            body = rng.choice(["hi, ", "hey ", "quick question, ", "sorry to bother you but ", "so "]) + body
        kind = rng.choice(["checkin", None, None, "results", "aftercare"])
        days = rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 7, 10, 14])
        rows.append(make_row(rng, body, "side_effect_concern", urgency, lang, t, days, kind))
    return rows


# ---------------------------------------------------------------- families the first templates missed
# Paraphrase families written for issue 12: asking for a person, polite and indirect opt-outs, texts that
# contain "stop" and are not opt-outs, complaints about cost, results and staff, referrals phrased as a
# relative wanting to book, reschedules phrased as moving a time, and everyday chatter that is not for us.
T["ask_for_person"] = [
    (
        [
            "is this a bot?",
            "am i talking to a robot",
            "is this automated or a real person",
            "is this an actual human",
            "are you a real person?",
            "can i talk to a human please",
            "i want to speak to a real person",
            "can someone call me? i'd rather talk",
            "please have someone call me",
            "id like to talk to someone at the office",
            "can a nurse call me back?",
            "can i speak with {FRIEND}'s injector? i mean my provider",
            "real person please",
            "human please",
            "i dont want to text a machine, can someone call",
            "could the front desk give me a call",
            "can i talk to the doctor directly",
            "is anyone there? like a person?",
            "i need to talk to someone not a bot",
            "how do i reach a real person",
            "give me a call when you can",
            "can i talk to the manager",
            "is this AI?",
            "can someone from the clinic text me personally",
            "i'd prefer to talk on the phone with someone",
        ],
        [None, "promo", "winback", "reminder", "offer", "checkin", "aftercare", "results"],
        None,
    ),
]
T["ask_for_person_es"] = [
    (
        [
            "¿es un robot?",
            "¿eres una persona real?",
            "¿puedo hablar con alguien?",
            "quiero hablar con una persona por favor",
            "¿me pueden llamar?",
            "que alguien me llame porfa",
            "prefiero hablar con la doctora",
            "¿esto es automático?",
            "necesito hablar con alguien de la clínica",
            "llámenme por favor",
            "quiero hablar con un humano",
            "¿me comunican con recepción?",
        ],
        [None, "promo", "reminder", "checkin"],
        None,
    ),
]
T["opt_out"] += [
    (
        [
            "please take me off your list",
            "i moved away, no need for these texts anymore",
            "i moved out of state so please stop the reminders",
            "kindly remove my number",
            "not a patient anymore, please remove me",
            "no longer interested, remove me please",
            "i dont need these messages anymore",
            "can you stop texting this number",
            "i'd like to stop receiving texts",
            "i'd like to unsubscribe please",
            "please don't text me again",
            "i asked before, stop",
            "why do i keep getting these? stop",
            "enough with the texts. stop",
            "stopp",
            "stpo",
            "unsubscibe",
            "cancle",
            "remove",
            "please stop, i go somewhere else now",
        ],
        [None, "promo", "winback", "offer", "reminder"],
        None,
    ),
]
T["opt_out_es"] += [
    (
        [
            "me mudé, ya no necesito los mensajes",
            "por favor quítenme de su lista",
            "ya no quiero recibir textos",
            "no me escriban más por favor",
            "ya no soy paciente, borren mi número",
            "dejen de mandar promociones",
            "no quiero más mensajes, gracias",
            "por favor ya no me manden nada",
        ],
        [None, "promo", "winback", "offer"],
        None,
    ),
]
T["other"] += [
    (
        [
            'Liked "{OUT}"',
            'Loved "{OUT}"',
            'Emphasized "{OUT}"',
            'Laughed at "{OUT}"',
            'Le gustó "{OUT}"',
            "I'm driving with Do Not Disturb on. I'll see your message when I get where I'm going.",
            "Auto reply: I'm away from my phone, will get back to you",
            "Out of office until Monday",
            "You have won a $500 Walmart gift card! Click here: bit.ly/xyz. Reply STOP to end",
            "FREE MSG: your package is waiting, confirm at www.track-parcel.co",
            "i'll stop by later to grab my receipt",
            "ok i'll stop in on friday",
            "lol stop it",
            "haha stop 😂",
            "stop it you're too sweet",
            "can't stop looking at my skin",
            "will stop at the front desk",
            "we're stopping at the pharmacy first",
            "whoops wrong person",
            "sorry that was meant for my husband",
            "running late, be there in 10",
            "on my way!",
            "happy holidays to you all",
            "my phone is dying, text later",
            "ugh this traffic",
            "lol ok",
            "haha ok",
        ],
        [None, "aftercare", "reminder", "checkin", "promo", "results"],
        None,
    ),
]
T["other_es"] += [
    (
        [
            "voy en camino",
            "llego en 10 minutos",
            "paso mañana por mi recibo",
            "jajaja ok",
            "estoy manejando, te contesto luego",
            "perdón, era para mi esposo",
            "felices fiestas",
            "ya voy",
        ],
        [None, "aftercare", "reminder"],
        None,
    ),
]
T["positive_feedback"] += [
    (
        [
            "can't stop smiling at my results",
            "i can't stop staring at my lips {POS}",
            "dont stop sending the specials haha i love them",
            "my skin healed so nicely, it's glowing",
            "all healed and it looks amazing",
            "the redness is gone and my skin looks better than ever",
            "so glad i did it, no regrets",
            "{FRIEND} said i look 10 years younger lol",
            "you guys never disappoint",
            "everyone at work noticed, thank you!",
        ],
        [None, "results", "feedback", "checkin"],
        None,
    ),
]
T["positive_feedback_es"] += [
    (
        ["no dejo de sonreír con mis labios", "mi piel ya sanó y se ve increíble", "quedé feliz, gracias"],
        [None, "results"],
        None,
    )
]
T["negative_feedback"] += [
    (
        [
            "i paid a lot and i can't see any difference",
            "i almost fainted when i saw the bill",
            "that was way too expensive for what i got",
            "honestly the results didn't last, waste of money",
            "i was charged twice and nobody called me back",
            "the girl at the front desk was so rude to me",
            "i felt rushed and ignored by the provider",
            "the injector made me feel stupid for asking questions",
            "i waited 45 minutes past my appointment time",
            "i don't see any change and it's been 3 weeks",
            "still have lines, i'm disappointed",
            "the price was not what i was quoted",
            "my lips look exactly the same as before, not happy",
            "i'm dying over this bill lol, it's more than quoted",
        ],
        [None, "feedback", "results"],
        None,
    ),
]
T["negative_feedback_es"] += [
    (
        [
            "pagué mucho y no veo ningún cambio",
            "la recepcionista fue muy grosera",
            "me sentí ignorada en mi cita",
            "está carísimo para el resultado",
            "casi me desmayo con la cuenta",
        ],
        [None, "feedback", "results"],
        None,
    )
]
T["question"] += [
    (
        [
            "can {T} make you faint?",
            "is it common to get a headache after {T}?",
            "what are the risks of {T}?",
            "can filler block a blood vessel? just wondering",
            "i'm a bit confused about the aftercare, can i wear makeup tomorrow?",
            "confused on the instructions, when can i wash my face?",
            "how long does swelling usually last after {T}?",
            "does {T} hurt?",
            "what happens if i lie down after botox?",
            "can you get an allergic reaction to numbing cream?",
        ],
        [None, "aftercare", "checkin", "promo"],
        None,
    ),
]
T["question_es"] += [
    (
        [
            "¿el botox puede causar desmayos?",
            "estoy confundida con las instrucciones, ¿puedo lavarme la cara?",
            "¿qué riesgos tiene el relleno?",
        ],
        [None, "aftercare"],
        None,
    )
]
T["referral"] += [
    (
        [
            "my sister wants to book with you too",
            "my mom wants to come in for {T}, how does she book",
            "my coworker keeps asking where i go, can she get an appointment",
            "my husband wants to try {T}",
            "a friend of mine wants to book, can i send her your number",
            "my daughter wants lip filler, can she come with me",
        ],
        [None, "referral", "results", "feedback"],
        None,
    ),
]
T["referral_es"] += [
    (
        [
            "mi hermana quiere una cita también",
            "mi mamá quiere venir a ponerse {T}",
            "una amiga quiere agendar, le paso su número?",
        ],
        [None, "referral"],
        None,
    )
]
T["reschedule_or_cancel"] += [
    (
        [
            "can we push my appointment to next week",
            "need to move my {TIME} to later in the day",
            "something came up, can i switch to {DAY}",
            "can i move my appt from {DAY} to {DAY}",
            "i have to bump my appointment, sorry",
            "please move me to a different day",
            "can we do {DAY} instead of {DAY}",
        ],
        [None, "reminder"],
        None,
    ),
]
T["reschedule_or_cancel_es"] += [
    (
        ["¿puedo cambiar mi cita al {DAY}?", "necesito mover mi cita", "se me complicó, ¿la pasamos para otro día?"],
        [None, "reminder"],
        None,
    )
]


def make_row(rng, body, intent, urgency, lang, t, days, kind):
    return {
        "context": {"treatment": t, "days_since_visit": days, "last_outbound": outbound(kind, rng, t, lang)},
        "body": roughen(body, rng, lang) if len(body) > 3 else body,
        "intent": intent,
        "urgency": urgency,
        "lang": lang,
    }


def generate(n_per_intent: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    intents = [
        "rebook_request",
        "reschedule_or_cancel",
        "defer",
        "referral",
        "opt_out",
        "opt_in",
        "help",
        "ask_for_person",
        "question",
        "positive_feedback",
        "negative_feedback",
        "wrong_number",
        "other",
    ]
    for intent in intents:
        for _ in range(n_per_intent):
            lang = "es" if rng.random() < 0.2 else "en"
            groups = T.get(f"{intent}_es") if lang == "es" else T[intent]
            templates, kinds, _ = rng.choice(groups)
            t = rng.choice(list(TREATMENTS))
            body = fill(rng.choice(templates), rng, t, lang)
            kind = rng.choice(kinds)
            if "{OUT}" in body:
                body = body.replace("{OUT}", outbound(kind if kind else "checkin", rng, t, lang) or "See you soon!")
            if intent in ("positive_feedback",) and rng.random() < 0.2:
                body += " " + rng.choice(EMOJI_POS)
            days = (
                rng.choice([0, 1, 2, 5, 14, 30, 60, 90, 120, 200, 365])
                if kind not in ("checkin",)
                else rng.choice([0, 1, 2, 3])
            )
            urgency = "routine" if intent == "negative_feedback" else "none"
            rows.append(make_row(rng, body, intent, urgency, lang, t, days, kind))
    rows += side_effects(rng, int(n_per_intent * 2.2))
    rng.shuffle(rows)
    seen, unique = set(), []
    for row in rows:
        key = (row["body"].lower(), row["context"]["last_outbound"] is None, row["intent"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    for i, row in enumerate(unique):
        row["id"] = f"g{i + 1:05d}"
    return unique


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-intent", type=int, default=230)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "data" / "training" / "generated.jsonl"))
    args = parser.parse_args(argv)
    rows = generate(args.n_per_intent, args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(
                json.dumps(
                    {"id": row["id"], **{k: row[k] for k in ("context", "body", "intent", "urgency", "lang")}},
                    ensure_ascii=False,
                )
                + "\n"
            )
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
