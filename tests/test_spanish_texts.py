"""Spanish written correctly: every reply and plan text keeps its accents when it fits two segments with
them (UCS-2), and none costs more than two segments as the sender sends it, with the demo practice's
longest names, lines and times filled in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.booking import picks
from bot.conversation.replies import replies
from bot.messaging import segments
from bot.touches import composer
from bot.touches.plans import plans_for
from store.db import session_scope
from store.models import Message, Practice
from tests import factories
from tests.helpers import PATIENT, longest_placeholders, text_in

LONG_PARTS = frozenset({"options", "policy", "answer", "hours", "offer"})
"""Placeholders that can be long by themselves: three offered times, a policy or a fact the practice
wrote, an offer's item. A reply with one cannot always fit 134 UCS-2 characters, so at its longest it
goes folded (GSM-7, 306 characters) rather than in three segments; every other reply keeps its accents."""

UNACCENTED = re.compile(
    r"\b(proxima|proximo|atencion|clinica|clinico|aqui|mas|dia|dias|numero|recepcion|codigo|despues|"
    r"linea|politica|cancelacion|leera|respondera|escribira|recibiras|Escribenos|escribenos|tambien|sesion)\b"
)
"""Words the texts used to carry without their accents."""


def test_every_reply_fits_two_segments_as_sent_and_keeps_its_accents(demo_practice, db_url):
    with session_scope(db_url) as session:
        values = {
            language: longest_placeholders(session, demo_practice["practice_id"], language) for language in ("en", "es")
        }
    assert not values["es"]["treatment"].isascii()  # "depilación láser de piernas completas": UCS-2 by itself
    folded = []
    for kind, texts in sorted(replies().items()):
        for language, template in texts.items():
            sent = composer.render(template, values[language])
            assert sent.segments <= segments.MAX_SEGMENTS, (kind, language, sent)
            gsm = composer.render(template, values[language], gsm_only=True)
            assert gsm.encoding == "GSM-7" and gsm.segments <= sent.segments, (kind, language, gsm)
            if sent.folded:
                assert composer.fields(template) & LONG_PARTS, (kind, language, sent.body)
                folded.append(kind)
            if language == "es":
                assert not UNACCENTED.search(template), (kind, template)
    assert "slots" in folded  # the long ones do exist: the test is not vacuous


def test_spanish_replies_that_ask_for_a_yes_write_si_with_its_accent():
    asking = [t["es"] for t in replies().values() if re.search(r"\bresponde s[ií]\b", t["es"], re.I)]
    assert asking and all("SÍ" in text for text in asking)


def test_plan_texts_never_exceed_two_segments(settings):
    """COMPLIANCE.md: one segment for check-ins and reminders when possible, two at most; with long names
    filled in, as the sender sends them (accents kept when they fit, else folded)."""
    book = plans_for(settings)
    rows = []
    for plan in book.plans.values():
        for step in plan.steps:
            if step.channel != "sms":
                continue
            for language in ("en", "es"):
                template = step.template(language)
                kept = segments.count(segments.normalize(template.format_map(composer.SAMPLE_LONG), fold_accents=False))
                sent = composer.render(template, composer.SAMPLE_LONG)
                assert sent.segments <= segments.MAX_SEGMENTS, (plan.name, step.key, language, sent)
                if language == "es":
                    assert not UNACCENTED.search(template), (step.key, template)
                rows.append(
                    (f"{plan.name}.{step.key}", language, kept.segments, kept.encoding, sent.segments, sent.encoding)
                )
    assert {language for _ref, language, *_ in rows} == {"en", "es"}


FOLDED_AT_LONGEST = frozenset(
    [
        "birthday.birthday",
        "birthday.birthday_vip",
        "body_contouring.checkin",
        "body_contouring.progress",
        "deferred.nudge",
        "everyone.referral",
        "everyone.review",
        "everyone.thanks",
        "everyone.vip_first_pick",
        "everyone.winback_12w",
        "everyone.winback_16w",
        "facial.care_tips",
        "facial.next_session",
        "facial.results",
        "filler.checkin",
        "filler.rebook",
        "filler.rebook_soft",
        "filler.rebook_structural",
        "filler.results",
        "ipl.care_tips",
        "ipl.next_session",
        "ipl.results",
        "laser_hair_removal.care_tips",
        "laser_hair_removal.next_session",
        "laser_resurfacing.care_tips",
        "laser_resurfacing.next_session",
        "laser_resurfacing.recovery",
        "microneedling.care_tips",
        "microneedling.next_session",
        "microneedling.results",
        "missed.sorry_missed",
        "neuromodulator.checkin",
        "neuromodulator.reactivation",
        "neuromodulator.rebook",
        "offers.after_results",
        "offers.at_booking",
        "offers.goal_change",
        "offers.history",
        "offers.pre_visit",
        "offers.pre_visit_b",
        "offers.reactivation_new",
        "offers.reactivation_vip",
        "offers.rebooking",
        "offers.referral",
        "offers.staff_pick",
        "offers.visit_summary",
        "peel.care_tips",
        "peel.next_session",
        "peel.results",
        "prp.care_tips",
        "prp.next_session",
        "upcoming.prep_injectable",
        "upcoming.prep_laser",
        "upcoming.reminder",
        "welcome.welcome",
        "welcome.welcome_gift",
    ]
)
"""Spanish SMS plan steps whose placeholders alone, at the demo's longest values, leave too little of the
134 UCS-2 characters for their words: "Hola Christina, soy Carla de Glow Aesthetics Med Spa." takes 53, the
treatment "depilación láser de piernas completas" 37, "responde aquí o llama al (512) 555-0100" 39, the
offer 55 and "Responde STOP para darte de baja." 33. They go folded at that length (GSM-7, two segments)."""


def test_spanish_plan_texts_keep_their_accents_with_the_longest_values(demo_practice, db_url, settings):
    """Every Spanish SMS plan text that can fit two UCS-2 segments with the demo practice's longest values is
    sent as written; a new or edited text that would go folded fails here by name."""
    with session_scope(db_url) as session:
        values = longest_placeholders(session, demo_practice["practice_id"], "es")
    folded, kept = [], []
    for plan in plans_for(settings).plans.values():
        for step in plan.steps:
            if step.channel != "sms":
                continue
            ref = f"{plan.name}.{step.key}"
            sent = composer.render(step.template("es"), values)
            assert sent.segments <= segments.MAX_SEGMENTS, (ref, sent)
            if sent.folded:
                assert sent.folded == segments.TOO_LONG and sent.encoding == "GSM-7", (ref, sent)
                folded.append(ref)
            else:
                assert sent.encoding == "UCS-2" and not segments.is_gsm7(sent.body), (ref, sent.body)
                kept.append(ref)
    newly_folded = sorted(set(folded) - FOLDED_AT_LONGEST)
    assert len(folded) <= len(FOLDED_AT_LONGEST) and not newly_folded, (
        f"{len(folded)} Spanish plan texts go folded at the longest values, at most {len(FOLDED_AT_LONGEST)} may; "
        f"now folded too: {newly_folded}"
    )
    assert "referred.thanks" in kept and len(kept) + len(folded) == 57, (kept, len(folded))


@pytest.mark.parametrize("yes", ["si", "sí", "SI", "SÍ", "¡Sí!", "Sí, por favor"])
def test_a_yes_is_read_with_or_without_its_accent(yes):
    assert picks.says_yes(yes)


def _spanish_patient(db_url, clock, gsm_only: bool = False) -> int:
    with session_scope(db_url) as session:
        practice = factories.practice(session, name="Glow Aesthetics", gsm_only=gsm_only)
        patient = factories.patient(session, practice.id, language="es")
        factories.appointment(
            session, patient, factories.service(session, practice.id), clock.now() - timedelta(days=20)
        )
        return practice.id


def test_a_spanish_reply_keeps_its_accents_unless_the_practice_sends_gsm_only(settings, twilio, clock, db_url):
    practice_id = _spanish_patient(db_url, clock)
    text_in("mi hermana quiere venir, ¿tienen un código de referido?")
    [sent] = [m for m in twilio.messages if m["to"] == PATIENT]
    assert "el código GA-ANA" in sent["body"] and "en su próxima visita" in sent["body"], sent["body"]
    assert sent["num_segments"] == "2"  # UCS-2, as the fake Twilio counts it: 67 characters a part
    with session_scope(db_url) as session:
        row = session.exec(select(Message).where(Message.twilio_sid == sent["sid"])).one()
        assert (row.body, row.encoding, row.segments) == (sent["body"], "UCS-2", 2)
        session.get_one(Practice, practice_id).gsm_only = True

    text_in("¿me das mi código para recomendar a una amiga?")
    again = [m for m in twilio.messages if m["to"] == PATIENT][-1]
    assert "el codigo GA-ANA" in again["body"] and "en su proxima visita" in again["body"], again["body"]
    assert again["body"] == segments.to_gsm7(sent["body"])  # the same text, folded
    assert segments.is_gsm7(again["body"]) and again["num_segments"] == "1"  # 160 characters in GSM-7
    with session_scope(db_url) as session:
        row = session.exec(select(Message).where(Message.twilio_sid == again["sid"])).one()
        assert (row.encoding, row.segments) == ("GSM-7", 1)
