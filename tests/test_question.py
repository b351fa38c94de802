"""Questions: answered from the practice's own facts, menu and addresses; anything else goes to a person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from store.db import session_scope
from store.models import Escalation, Location, Patient, Practice
from tests import factories
from tests.helpers import PATIENT, sent_to, text_in

FACTS = {
    "hours": {
        "en": "Tue-Fri 9am-7pm, Sat 9am-4pm; closed Sun and Mon",
        "es": "martes a viernes de 9 a 19 h, sabado de 9 a 16 h; domingo y lunes cerrado",
    },
    "parking": {"L-1": "Free garage parking behind the building (level 2)."},
    "payment": "All major cards, HSA/FSA cards for eligible treatments, Cherry financing on $300+.",
    "membership": "Glow Club: $99/month, one HydraFacial or peel each month and 10% off injectables.",
}


@pytest.fixture
def ana(settings, clock, db_url):
    with session_scope(db_url) as session:
        practice = factories.practice(session, facts=FACTS)
        location = session.exec(select(Location)).one()
        location.address = "1600 S Congress Ave, Suite 210, Austin, TX 78704"
        patient = factories.patient(session, practice.id)
        lips = factories.service(session, practice.id)
        factories.service(
            session,
            practice.id,
            code="BOTOX-F",
            name="Botox for forehead lines",
            category="neuromodulator",
            area="forehead",
            price=300.0,
        )
        factories.service(
            session,
            practice.id,
            code="BOTOX-C",
            name="Botox for crow's feet",
            category="neuromodulator",
            area="crows_feet",
            price=280.0,
        )
        factories.appointment(session, patient, lips, clock.now() - timedelta(days=20), location_id=location.id)
        return patient.id


def _inbox(db_url):
    with session_scope(db_url) as session:
        return session.exec(select(Escalation.reason)).all()


@pytest.mark.parametrize(
    "question, answer",
    [
        (
            "what are your hours on saturday?",
            "Hi Ana! Our hours: Tue-Fri 9am-7pm, Sat 9am-4pm; closed Sun and Mon. Anything else, just reply here.",
        ),
        (
            "where are you located?",
            "Hi Ana! We're at 1600 S Congress Ave, Suite 210, Austin, TX 78704. Anything else, just reply here.",
        ),
        (
            "is there parking?",
            "Hi Ana! Parking: Free garage parking behind the building (level 2). Anything else, just reply here.",
        ),
        ("how much is lip filler?", "Hi Ana! Prices: Lip filler: $750. Anything else, just reply here."),
        (
            "how much is botox?",
            "Hi Ana! Prices: Botox for crow's feet: $280; Botox for forehead lines: $300. "
            "Anything else, just reply here.",
        ),
        (
            "how much is the membership?",
            "Hi Ana! Glow Club: $99/month, one HydraFacial or peel each month and 10% off "
            "injectables. Anything else, just reply here.",
        ),
    ],
)
def test_questions_the_facts_answer_are_answered(settings, twilio, clock, ana, db_url, question, answer):
    text_in(question)
    assert sent_to(twilio, PATIENT) == [answer]
    assert _inbox(db_url) == []  # nobody needs to pick it up


def test_spanish_questions_get_the_spanish_fact(settings, twilio, clock, ana, db_url):
    with session_scope(db_url) as session:
        session.get(Patient, ana).language = "es"
    text_in("a que hora abren el sabado?")
    assert sent_to(twilio, PATIENT) == [
        # 141 characters: with its accents (UCS-2) it would take three segments, so it goes folded (GSM-7, one).
        "¡Hola Ana! Nuestro horario: martes a viernes de 9 a 19 h, sabado de 9 a 16 h; "
        "domingo y lunes cerrado. Si necesitas algo mas, responde aqui."
    ]


@pytest.mark.parametrize(
    "question",
    [
        "can I work out after my botox?",  # clinical: a person answers
        "do you do consultations?",  # no such fact
        "how much is a chemical peel?",  # not on the menu
        "can I open my mouth wide after filler?",  # "open" is not about opening hours
        "do you sell gift cards?",  # "card" is in the payment fact, but this asks about gift cards
        "do you take insurance?",  # the payment fact says nothing about insurance
        "do you need a deposit?",  # nor about deposits
    ],
)
def test_anything_else_goes_to_a_person(settings, twilio, clock, ana, db_url, question):
    text_in(question)
    assert sent_to(twilio, PATIENT) == [
        "Thanks for your question, Ana! Someone from our team will text you back shortly."
    ]
    assert _inbox(db_url) == ["needs_reply:question"]


def test_a_price_question_in_spanish_gets_the_menu_price(settings, twilio, clock, ana, db_url):
    with session_scope(db_url) as session:
        session.get(Patient, ana).language = "es"
    text_in("¿cuánto cuesta el botox?")
    assert sent_to(twilio, PATIENT) == [
        "¡Hola Ana! Precios: Botox for crow's feet: $280; Botox for forehead lines: $300. "
        "Si necesitas algo más, responde aquí."
    ]
    assert _inbox(db_url) == []


def test_a_topic_with_its_own_fact_is_answered_by_that_fact(settings, twilio, clock, ana, db_url):
    with session_scope(db_url) as session:
        practice = session.get(Practice, session.get(Patient, ana).practice_id)
        practice.facts = {**FACTS, "gift_cards": "Yes! Any amount, at the front desk or on our website."}
    text_in("Do you sell gift cards?")
    assert sent_to(twilio, PATIENT) == [
        "Hi Ana! Gift cards: Yes! Any amount, at the front desk or on our website. Anything else, just reply here."
    ]


@pytest.mark.parametrize(
    "language, question, answer",
    [
        (
            "en",
            "How much is Botox?",
            "Hi Ana! Botox: $280 to $550 depending on the area. Anything else, just reply here.",
        ),
        (
            "es",
            "¿Cuánto cuesta el botox?",
            "¡Hola Ana! Botox: de $280 a $550 según la zona. Si necesitas algo más, responde aquí.",
        ),
    ],
)
def test_a_price_question_naming_more_than_three_services_gets_their_range(
    settings, twilio, clock, ana, db_url, language, question, answer
):
    with session_scope(db_url) as session:
        patient = session.get(Patient, ana)
        patient.language = language
        for code, name, price in (
            ("BOTOX-G", "Botox for frown lines", 280.0),
            ("BOTOX-J", "Botox jaw slimming", 550.0),
        ):
            factories.service(
                session, patient.practice_id, code=code, name=name, category="neuromodulator", price=price
            )
    text_in(question)
    assert sent_to(twilio, PATIENT) == [answer]
    assert _inbox(db_url) == []


@pytest.mark.parametrize(
    "language, told",
    [
        ("en", "Thanks for your question, Ana! Someone from our team will text you back shortly."),
        ("es", "¡Gracias por tu pregunta, Ana! Alguien de nuestro equipo te responderá pronto."),
    ],
)
def test_a_question_while_an_inbox_item_is_open_is_still_told_a_person_will_reply(
    settings, twilio, clock, ana, db_url, language, told
):
    with session_scope(db_url) as session:
        session.get(Patient, ana).language = language
    with session_scope(db_url) as session:  # an earlier text still waits for staff
        patient = session.get(Patient, ana)
        session.add(
            Escalation(
                practice_id=patient.practice_id, patient_id=ana, urgency="routine", reason="needs_reply:rebook_request"
            )
        )
    text_in("do you do consultations?")
    assert sent_to(twilio, PATIENT) == [told]
    assert _inbox(db_url) == ["needs_reply:rebook_request"]  # the open item holds this question too


@pytest.mark.parametrize(
    "language, told, noted",
    [
        (
            "en",
            "Thanks for your question, Ana! Someone from our team will text you back shortly.",
            "Got it, Ana. We've added this to your messages for our team; someone will get back to you.",
        ),
        (
            "es",
            "¡Gracias por tu pregunta, Ana! Alguien de nuestro equipo te responderá pronto.",
            "Entendido, Ana. Sumamos esto a tus mensajes para el equipo; alguien te responderá.",
        ),
    ],
)
def test_a_second_question_for_staff_is_told_it_was_added_and_a_third_gets_no_repeat(
    settings, twilio, clock, ana, db_url, language, told, noted
):
    with session_scope(db_url) as session:
        session.get(Patient, ana).language = language
    text_in("do you take insurance?")
    text_in("can I drink wine tonight?")
    text_in("do you do consultations?")
    assert sent_to(twilio, PATIENT) == [told, noted]  # then nothing: both already say a person will reply
    assert _inbox(db_url) == ["needs_reply:question"]  # one item holds all three
