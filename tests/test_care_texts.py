"""Replies that carry care: a routine side effect gets the practice's aftercare text for that treatment and
sign, an urgent one a call-back window. Signed webhook, the worker's queues, Redis, the database and the
fake Twilio; the matching and the texts' length are checked on their own too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import runtime
from bot.conversation import care_texts
from bot.conversation.open_hours import duration_words
from bot.errors import ConfigError
from bot.messaging import segments
from bot.touches import composer
from store.db import session_scope
from store.models import Appointment, Escalation, Message, Patient, Practice, Service
from tests import factories
from tests.helpers import PATIENT, sent_to, text_in

LINE = "(512) 555-0199"
"""The practice's number in texts (factories' practice has no emergency line of its own)."""


@pytest.fixture(autouse=True)
def recent_visit(spa, db_url, clock):
    """Ana's visit was two days ago: aftercare texts apply within care_texts.RECENT_DAYS of a visit."""
    with session_scope(db_url) as session:
        for visit in session.exec(select(Appointment)):
            visit.start_at = clock.now() - timedelta(days=2)


def _visit(db_url, session_category: str, language: str = "en") -> None:
    """Make Ana's last visit (the spa fixture's lip filler) one of `session_category`, texted in `language`."""
    with session_scope(db_url) as session:
        for service in session.exec(select(Service)):
            service.category = session_category
        for patient in session.exec(select(Patient)):
            patient.language = language


def _inbox(db_url) -> list[tuple[str, str, str | None]]:
    with session_scope(db_url) as session:
        return [(e.urgency, e.reason, e.note) for e in session.exec(select(Escalation).order_by(Escalation.id))]


@pytest.mark.parametrize(
    "category, language, text, expected",
    [
        (
            "filler",
            "en",
            "I have some bruising on my lip, is that ok?",
            "Thanks for telling us, Ana. Some bruising after filler can happen and usually fades within 1-2 weeks. "
            "A cold compress, 10 minutes at a time, helps. Call (512) 555-0199 if it spreads fast, becomes very "
            "painful, or the skin looks white, grey or dusky.",
        ),
        (
            "filler",
            "es",
            "tengo los labios muy hinchados",
            "Ana, la hinchazón baja en 1-2 semanas. Usa frío y duerme con la cabeza alta. "
            "Si empeora, llama al (512) 555-0199.",
        ),
        (
            "neuromodulator",
            "en",
            "I have a slight headache, is that normal?",
            "Thanks for telling us, Ana. A mild headache can happen in the first day or two after toxin injections "
            "and usually passes. Rest and drink water. Call (512) 555-0199 if it is severe or you notice a droopy "
            "eyelid or trouble swallowing; call 911 for trouble breathing.",
        ),
        (
            "peel",
            "es",
            "mi piel se está pelando, ¿es normal?",
            "Ana, pelarse es parte de sanar. No arranques la piel; hidrata y usa SPF. "
            "Si ves ampollas o pus, llama al (512) 555-0199.",
        ),
        (
            "filler",
            "en",
            "there's a small lump in my lip",
            "Thanks for telling us, Ana. Small lumps or firm spots can be felt after filler while it settles, "
            "usually for 1-2 weeks. Don't massage unless your provider told you to. Call (512) 555-0199 if a lump "
            "is painful, red and warm, or the skin over it looks white or dusky.",
        ),
        (
            "laser_resurfacing",
            "en",
            "my face is still red from the laser",
            "Thanks for telling us, Ana. Redness where you were treated is expected and usually settles within a "
            "few days. Keep the skin cool, use a gentle moisturizer and SPF, avoid sun and heat. Call (512) 555-0199 "
            "if you see blisters, pus, or redness that spreads or gets worse.",
        ),
    ],
)
def test_a_routine_side_effect_gets_the_aftercare_text_for_its_treatment_and_sign(
    settings, twilio, clock, spa, care_signed, db_url, category, language, text, expected
):
    _visit(db_url, category, language)
    text_in(text)
    assert sent_to(twilio, PATIENT) == [expected]
    [(urgency, reason, note)] = _inbox(db_url)
    assert urgency == "routine"  # staff still read it; nobody is paged
    assert note is not None and note.startswith("Aftercare text sent: ")
    assert note.endswith("; signed off by Dr. Olivia Lee, MD, 2026-11-23.")
    with session_scope(db_url) as session:
        reply = session.exec(select(Message).where(Message.direction == "out")).one()
        assert reply.reply_kind == "aftercare" and reply.segments <= 2


def test_a_sign_without_its_own_text_gets_the_general_text_with_the_call_line(
    settings, twilio, clock, spa, care_signed, db_url
):
    text_in("I feel a bit weird after my treatment")
    [reply] = sent_to(twilio, PATIENT)
    assert reply == (
        "Thanks for telling us, Ana. Mild effects can happen in the first days after a treatment. A clinician "
        "will read your message. Call (512) 555-0199 if it gets worse or you are worried; call 911 for trouble "
        "breathing."
    )


def test_the_practices_own_file_replaces_the_shipped_texts_once_signed_off(
    settings, twilio, clock, spa, db_url, tmp_path
):
    override = tmp_path / "care.toml"
    override.write_text(
        """
[practices.glow-test.signs.bruising.filler]
en = "{first_name}, bruising after filler fades in about a week; arnica gel helps. Call {emergency_line} if it spreads."
es = "{first_name}, el moretón se va en una semana. Llama al {emergency_line} si crece."
""",
        encoding="utf-8",
    )
    runtime.configure(runtime.settings().with_(care_texts_file=override), clock)
    with session_scope(db_url) as session:
        factories.sign_off_care_texts(session, spa["practice_id"], clock.now(), care_texts_file=override)
    text_in("a bit of brusing on my lip")  # a typo still finds the sign
    assert sent_to(twilio, PATIENT) == [
        "Ana, bruising after filler fades in about a week; arnica gel helps. Call (512) 555-0199 if it spreads."
    ]
    [(_, _, note)] = _inbox(db_url)
    assert note == "Aftercare text sent: bruising (filler); signed off by Dr. Olivia Lee, MD, 2026-11-23."


def test_an_unreadable_practice_file_still_answers_with_the_generic_reply(
    settings, twilio, clock, spa, db_url, tmp_path
):
    broken = tmp_path / "care.toml"
    broken.write_text("[signs.bruising\n", encoding="utf-8")
    runtime.configure(runtime.settings().with_(care_texts_file=broken), clock)
    text_in("I have some bruising on my lip")
    assert sent_to(twilio, PATIENT) == [
        "Thanks for letting us know, Ana. Someone from our clinical team will read your message and get back to "
        "you as soon as possible. If anything gets worse, call (512) 555-0199."
    ]


# ------------------------------------------------------------------ urgent: the call-back window


@pytest.mark.parametrize(
    "language, hours_later, expected",
    [
        ("en", 0, "a clinician will call you within 15 minutes"),  # Monday 10:00 in Austin: Maya works
        ("en", 10, "a clinician will call you within 1 hour"),  # 20:00: after hours
        ("es", 0, "te llamará en menos de 15 minutos"),
        ("es", 10, "te llamará en menos de 1 hora"),
    ],
)
def test_an_urgent_reply_gives_the_call_back_window_of_open_hours_or_after_hours(
    settings, twilio, clock, spa, db_url, language, hours_later, expected
):
    _visit(db_url, "neuromodulator", language)
    clock.advance(hours=hours_later)
    text_in("my eyelid is drooping since the botox")
    [reply] = sent_to(twilio, PATIENT)
    assert expected in reply and "911" in reply
    assert [urgency for urgency, _, _ in _inbox(db_url)] == ["urgent"]


def test_the_call_back_windows_come_from_settings_and_the_practices_open_hours(settings, twilio, clock, spa, db_url):
    with session_scope(db_url) as session:
        practice = session.exec(select(Practice)).one()
        # Open on Mondays from 08:00 at L-1 only; the providers' hours no longer decide.
        practice.facts = {"open_hours": {"L-1": {"mon": ["08:00", "09:30"]}}}
    runtime.configure(runtime.settings().with_(callback_open_minutes=10, callback_closed_minutes=90), clock)
    _visit(db_url, "neuromodulator")
    text_in("my eyelid is drooping since the botox")
    assert "a clinician will call you within 90 minutes" in sent_to(twilio, PATIENT)[-1]  # 10:00: closed
    clock.advance(days=7, hours=-1, minutes=-30)  # next Monday 08:30: open
    with session_scope(db_url) as session:
        for escalation in session.exec(select(Escalation)):
            escalation.status = "resolved"
    text_in("my eyelid is drooping again since the botox")
    assert "a clinician will call you within 10 minutes" in sent_to(twilio, PATIENT)[-1]


@pytest.mark.parametrize(
    "minutes, en, es",
    [
        (15, "15 minutes", "15 minutos"),
        (60, "1 hour", "1 hora"),
        (120, "2 hours", "2 horas"),
        (90, "90 minutes", "90 minutos"),
    ],
)
def test_windows_read_as_people_say_them(minutes, en, es):
    assert (duration_words(minutes, "en"), duration_words(minutes, "es")) == (en, es)


# ------------------------------------------------------------------ the texts and the matching


def _every_text():
    texts = care_texts.care_texts()
    for sign in texts.signs:
        for variant, text in sign.texts.items():
            yield f"{sign.name}.{variant}", text
    yield "general", texts.general


@pytest.mark.parametrize("name, text", list(_every_text()), ids=[name for name, _ in _every_text()])
def test_every_aftercare_text_fits_two_segments_with_its_accents_kept_and_says_when_to_call(name, text):
    for language in ("en", "es"):
        assert composer.fields(text[language]) <= set(composer.PLACEHOLDERS), (name, language)
        body = text[language].format_map(composer.SAMPLE_LONG)
        kept = segments.count(segments.normalize(body, fold_accents=False))
        assert kept.segments <= 2, (name, language, kept)  # Spanish with its accents is UCS-2: 134 characters
        assert segments.count(segments.normalize(body)).segments <= 2
        assert "{emergency_line}" in text[language], (name, language)  # always says when to call
        assert care_texts.checked(name, language, text[language]) == text[language]  # as the settings page checks


@pytest.mark.parametrize(
    "body, category, sign, variant",
    [
        ("I have some bruising on my lip", "filler", "bruising", "filler"),
        ("brusing near my eye", "neuromodulator", "bruising", "default"),  # a typo
        ("my lips are sooo swolen", "filler", "swelling", "filler"),
        ("sweling under my eyes", "filler", "swelling", "filler"),
        ("tengo un moretón", "filler", "bruising", "filler"),
        ("TENGO UN MORETON", "filler", "bruising", "filler"),
        ("tengo los labios inchados", "filler", "swelling", "filler"),
        ("me duele la cabeza desde ayer", "neuromodulator", "headache", "neuromodulator"),
        ("got a hedache", "neuromodulator", "headache", "neuromodulator"),
        ("headache after my filler", "filler", "headache", "general"),  # no text for that treatment: general
        ("there's a small lump", "filler", "lumps", "filler"),
        ("tengo bolitas en el labio", "filler", "lumps", "filler"),
        ("little bumps where the needle went in", "neuromodulator", "lumps", "neuromodulator"),
        ("my skin is peeling", "peel", "peeling", "default"),
        ("se me está pelando la cara", "laser_resurfacing", "peeling", "default"),
        ("my face is red after the peel", "peel", "redness", "default"),
        ("tengo la cara roja", "ipl", "redness", "default"),
        ("it's so itchy", "laser_hair_removal", "itching", "default"),
        ("me pica mucho", "laser_hair_removal", "itching", "default"),
        ("my skin feels tight and dry", "microneedling", "tightness", "default"),
        ("still a bit tender", "filler", "tenderness", "default"),
        ("bruised and swollen", "filler", "bruising", "filler"),  # two signs: the first written wins
        ("it smells weird", "filler", "general", "general"),  # "smells" is not "swells"
        ("the light hurts my eyes", "filler", "general", "general"),  # "light" is not "tight"
        ("feeling a bit off", "filler", "general", "general"),  # "feeling" is not "peeling"
    ],
)
def test_the_sign_is_found_the_same_way_every_time(body, category, sign, variant):
    chosen = care_texts.choose(care_texts.care_texts(), body, category)
    assert (chosen.sign, chosen.variant) == (sign, variant)


def test_a_text_missing_a_language_is_refused_with_where_it_is(tmp_path):
    bad = tmp_path / "care.toml"
    bad.write_text('[signs.bruising.filler]\nen = "Call {emergency_line}."\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"signs\.bruising\.filler: needs an 'en' and an 'es' text"):
        care_texts.care_texts(bad)


def test_shipped_texts_nobody_signed_off_are_not_sent(settings, twilio, clock, spa, db_url):
    text_in("I have some bruising on my lip")
    assert sent_to(twilio, PATIENT) == [
        "Thanks for letting us know, Ana. Someone from our clinical team will read your message and get back to "
        "you as soon as possible. If anything gets worse, call (512) 555-0199."
    ]
    [(urgency, reason, note)] = _inbox(db_url)
    assert urgency == "routine"
    assert note == "Aftercare text bruising (filler) awaits sign-off; generic reply sent."


@pytest.mark.parametrize(
    "text, reason",
    [
        ("Thanks, {first_name}. Bruising fades in a week.", "must say which number to call"),
        ("Thanks, {first_name}. If it spreads, {emergency_line}.", "must tell the patient when to call"),
        ("Call {emergency_line} or {doctor}.", "unknown placeholder(s) {doctor}"),
        ("Call {emergency_line}. " + "Bruising fades with time and rest. " * 10, "segments"),
        ("   ", "must not be empty"),
    ],
)
def test_a_care_text_that_does_not_say_when_to_call_or_is_too_long_is_refused(text, reason):
    with pytest.raises(ConfigError, match=re.escape(reason)):
        care_texts.checked("bruising.filler", "en", text)


def test_a_spanish_text_says_llama_and_fits_with_its_accents_kept():
    fits = "{first_name}, el moretón se va en una semana. Llama al {emergency_line} si crece."
    assert care_texts.checked("bruising.filler", "es", fits) == fits
    with pytest.raises(ConfigError, match="llam"):
        care_texts.checked("bruising.filler", "es", "{first_name}, el moretón se va. Call {emergency_line}.")
    # 130 characters fold into one GSM-7 segment but are three UCS-2 ones with the accents kept.
    long = "{first_name}, " + "la hinchazón bajará pronto, " * 5 + "llámanos al {emergency_line}."
    with pytest.raises(ConfigError, match="UCS-2"):
        care_texts.checked("swelling.filler", "es", long)


@pytest.mark.parametrize(
    "days, aftercare", [(2, True), (care_texts.RECENT_DAYS, True), (care_texts.RECENT_DAYS + 1, False), (70, False)]
)
def test_aftercare_texts_apply_in_the_weeks_after_a_visit_only(
    settings, twilio, clock, spa, care_signed, db_url, days, aftercare
):
    """'Expected for a few days' is untrue ten weeks later: then the patient gets the generic reply (a
    clinician will read it, call if it gets worse) and the inbox item says why."""
    _visit(db_url, "body_contouring")
    with session_scope(db_url) as session:
        for visit in session.exec(select(Appointment)):
            visit.start_at = clock.now() - timedelta(days=days)
    text_in("I'm still a little sore, is that normal?")
    [reply] = sent_to(twilio, PATIENT)
    assert reply.startswith("Thanks for telling us, Ana. Some tenderness") == aftercare, reply
    if not aftercare:
        assert reply.startswith("Thanks for letting us know, Ana. Someone from our clinical team will read"), reply
        [(urgency, _, note)] = _inbox(db_url)
        assert (
            urgency == "routine"
            and note == f"No aftercare text: the last visit was {days} days ago; generic reply sent."
        )
