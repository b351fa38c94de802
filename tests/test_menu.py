"""Short replies read against the menu in the practice's last text (bot.understanding.menu)."""

from __future__ import annotations

import pytest

from bot.understanding.local_classifier import classify_local
from bot.understanding.menu import choice, options

LATER = "Hi Lauren, ready for your next Dysport? Reply 1 to book this week, 2 for a reminder next month."
LATER_ES = "Hola Tania, responde 1 para agendar esta semana, 2 para la próxima o 3 para recordarte el próximo mes."
LIKING = "How are you liking the results? Reply 1 if you love them, 2 if you'd like to come in for a touch-up."
TEAM = "Reply 1 to rebook, 2 to talk to our team, or HELP for help."
TEAM_ES = "Responde 1 para agendar, 2 para hablar con alguien o 3 para pausar los recordatorios."
VIP = "Want first dibs on VIP offers by text? Reply YES to join. Msg & data rates may apply."
VIP_ES = "¿Quieres recibir ofertas VIP por mensaje? Responde SÍ para suscribirte."
CONFIRM = "Reminder: your HydraFacial is tomorrow at 2:30pm. Reply C to confirm or R to reschedule."
CONFIRM_ES = "Recordatorio: su sesión de láser es mañana a las 9am. Responda 1 para confirmar o 2 para cambiarla."
AFTER = "We have openings Tue 10:30am (1), Wed 3:00pm (2) or Fri 11:00am (3). Reply 1, 2 or 3 to book."
LETTERS = "Hi Omar, time for PRP session 2. Reply A for Mon 2pm or B for Tue 11am."
CLUB = "Your referral means a lot! As a thank-you you're invited to our VIP club. Reply YES to join."


@pytest.mark.parametrize(
    "body, outbound, intent",
    [
        ("2", LATER, "defer"),
        ("1", LATER, "rebook_request"),
        ("3", LATER_ES, "defer"),
        ("2 porfa", LATER_ES, "rebook_request"),
        ("1", LIKING, "positive_feedback"),
        ("the second one", LIKING, "rebook_request"),
        ("2", TEAM, "ask_for_person"),
        ("2", TEAM_ES, "ask_for_person"),
        ("3", TEAM_ES, "defer"),
        ("yes", VIP, "opt_in"),
        ("Sí", VIP_ES, "opt_in"),
        ("C", CONFIRM, "other"),
        ("R", CONFIRM, "reschedule_or_cancel"),
        ("1", CONFIRM_ES, "other"),
        ("2", CONFIRM_ES, "reschedule_or_cancel"),
        ("2 please", AFTER, "rebook_request"),
        ("B", LETTERS, "rebook_request"),
    ],
)
def test_a_pick_means_what_its_option_says(body, outbound, intent):
    decision = classify_local(body, {"treatment": "botox", "days_since_visit": 90, "last_outbound": outbound})
    assert decision.intent == intent, decision.rationale


def test_times_written_before_their_numbers_belong_to_them():
    offered = options(AFTER)
    assert offered["1"].endswith("tue 10:30am") and offered["2"] == "wed 3:00pm" and offered["3"] == "fri 11:00am"


@pytest.mark.parametrize(
    "outbound",
    [
        "Hi Sofia, how are you feeling after your lip flip? Results settle in 1-2 weeks.",
        "It's been about 3 months since your Botox, and 20% off ends on 5/31. Book at glow.co/b",
        "Tu cita es el 2 de mayo a las 3pm.",
        None,
    ],
)
def test_numbers_that_are_not_choices_offer_nothing(outbound):
    assert options(outbound) == {}
    assert choice("2", outbound) is None


def test_joining_a_club_is_not_subscribing_to_texts():
    # "Reply YES to join" only subscribes when what is joined comes by text
    assert choice("yes", CLUB) is None
    assert classify_local("yes", {"treatment": "botox", "last_outbound": CLUB}).intent != "opt_in"


def test_a_reply_that_says_more_than_a_key_is_read_as_a_whole():
    assert choice("2 but my lip is still swollen", LATER) is None
    decision = classify_local(
        "2 but my lip is white and cold", {"treatment": "lip_filler", "days_since_visit": 0, "last_outbound": LATER}
    )
    assert decision.intent == "side_effect_concern" and decision.urgency == "emergency"


def test_a_carrier_keyword_outranks_the_menu():
    menu = "Reply 1 to book, 2 to cancel your appointment."
    assert classify_local("CANCEL", {"treatment": "botox", "last_outbound": menu}).intent == "opt_out"
    assert classify_local("2", {"treatment": "botox", "last_outbound": menu}).intent == "reschedule_or_cancel"


RATE = "Thanks for visiting Glow! How would you rate your visit, 1-5?"
RATE_ES = "¡Gracias por tu visita! ¿Cómo calificarías tu experiencia del 1 al 10?"
REFER = "So glad you love your lips! Want a $50 referral link to share with friends? Reply YES"
SLOTS = "Your Botox refresh is due. We have Tue 3pm or Thu 11am open. Want one?"
REVIEW = "Would you mind leaving us a quick Google review? glow.co/review"
CHECKIN = "Hi Ana, checking in after yesterday's microneedling. How is your skin feeling?"
CHECKIN_ES = "Hola Ana, ¿cómo te sientes después del peeling de ayer?"


@pytest.mark.parametrize(
    "body, outbound, intent",
    [
        ("5", RATE, "positive_feedback"),
        ("4/5 thanks", RATE, "positive_feedback"),
        ("1", RATE, "negative_feedback"),
        ("10", RATE_ES, "positive_feedback"),
        ("2", RATE_ES, "negative_feedback"),
    ],
)
def test_a_score_to_a_rating_question_is_praise_or_a_complaint(body, outbound, intent):
    decision = classify_local(body, {"treatment": "hydrafacial", "days_since_visit": 1, "last_outbound": outbound})
    assert decision.intent == intent, decision.rationale
    assert decision.urgency == ("routine" if intent == "negative_feedback" else "none")


def test_a_middling_score_or_a_score_with_a_story_is_not_read_as_a_rating():
    from bot.understanding.menu import rating

    assert rating("3", RATE) is None
    assert rating("6", RATE_ES) is None
    assert rating("5 but my cheek is still swollen and hot", RATE) is None
    assert rating("5", "Reply 1 to book, 2 for next month") is None


def test_a_bare_yes_key_stands_for_the_question_before_it():
    assert "referral" in options(REFER)["yes"]
    decision = classify_local("yes!", {"treatment": "lip_filler", "days_since_visit": 14, "last_outbound": REFER})
    assert decision.intent == "referral", decision.rationale


@pytest.mark.parametrize(
    "body, outbound, intent",
    [
        ("later", SLOTS, "defer"),
        ("not right now thanks", SLOTS, "defer"),
        ("luego te digo", SLOTS, "defer"),
        ("no thanks", SLOTS, "defer"),
        ("no gracias", SLOTS, "defer"),
        ("no thanks", REVIEW, "other"),
        ("todo bien 🙏", CHECKIN_ES, "positive_feedback"),
        ("great so far", CHECKIN, "positive_feedback"),
        ("👍🏽", CHECKIN, "positive_feedback"),
    ],
)
def test_short_answers_to_offers_and_check_ins(body, outbound, intent):
    decision = classify_local(body, {"treatment": "botox", "days_since_visit": 1, "last_outbound": outbound})
    assert decision.intent == intent, decision.rationale


def test_a_short_answer_with_a_symptom_is_not_a_glad_answer():
    decision = classify_local(
        "good but itchy", {"treatment": "chemical_peel", "days_since_visit": 1, "last_outbound": CHECKIN}
    )
    assert decision.intent == "side_effect_concern", decision.rationale


@pytest.mark.parametrize(
    "body, outbound",
    [
        ("bien pero me pica", CHECKIN_ES),
        ("lil puffy still", "How are the under-eyes, Priya? Some puffiness is normal"),
        ("todo bien pero algo hinchada", CHECKIN_ES),
    ],
)
def test_a_glad_answer_with_a_sign_goes_to_staff_as_routine(body, outbound):
    decision = classify_local(body, {"treatment": "filler", "days_since_visit": 2, "last_outbound": outbound})
    assert (decision.intent, decision.urgency) == ("side_effect_concern", "routine"), decision.rationale


def test_a_sign_that_is_denied_or_over_is_not_a_concern_rule():
    for body in ("good, not even sore", "a little red yesterday but gone now"):
        decision = classify_local(body, {"treatment": "chemical_peel", "days_since_visit": 2, "last_outbound": CHECKIN})
        assert decision.rationale != "answers the check-in with a sign"


KEEP = "Would you like to keep getting our monthly specials? Reply NO to stop."
KEEP_ES = "¿Te gustaría seguir recibiendo nuestras promociones por mensaje?"
STILL_ES = "¿Sigues queriendo recibir nuestras promociones? Responde SÍ para seguir en la lista."
NUMBER = "Hi, this is Glow Med Spa updating our records. Is this still the best number to reach Brianna?"
SHARE = "Share the love! Refer a friend and you both get $50 off. Want your personal link?"
REFER_YES = "Love your lips? Give a friend $50 off their first filler and get $50 yourself! Reply YES for your link."
REFER_ES = "¡Gana $50 por cada amiga que refieras! Responde SÍ para tu enlace."
DETAILS = "New! VI Peel now available. Want details?"
SWALLOW = "Checking in after your Botox for neck bands. Any trouble swallowing?"
SWALLOW_ES = "¿Cómo sigues después del Botox en el cuello? ¿Alguna dificultad para tragar?"
COLOUR = "Checking in after cheek filler. Any pain, color change or coldness near the area? Text us right away."
ONE_TIME = "Does Thursday at 4pm work for your Botox touch-up?"
ONE_TIME_ES = "Hola Vale, ¿te reservo el sábado a las 12 para tu retoque?"


def _read(body, outbound, treatment="botox", days=90):
    return classify_local(body, {"last_outbound": outbound, "treatment": treatment, "days_since_visit": days})


@pytest.mark.parametrize(
    "body, outbound, intent",
    [
        ("no", KEEP, "opt_out"),
        ("no thanks", KEEP, "opt_out"),
        ("no gracias", KEEP_ES, "opt_out"),
        ("no", STILL_ES, "opt_out"),
        ("yes", KEEP, "other"),
        ("no", NUMBER, "wrong_number"),
        ("yes", NUMBER, "other"),
        ("YES", REFER_YES, "referral"),
        ("sure send it", SHARE, "referral"),
        ("Si!!", REFER_ES, "referral"),
        ("nah", REFER_YES, "other"),
        ("no im good", SHARE, "other"),
        ("yes", DETAILS, "question"),
        ("yes please", ONE_TIME, "rebook_request"),
        ("sí 👍", ONE_TIME_ES, "rebook_request"),
    ],
)
def test_yes_and_no_mean_what_the_last_text_asked(body, outbound, intent):
    assert _read(body, outbound).intent == intent


def test_no_to_keep_getting_texts_is_an_opt_out_the_handler_honours():
    decision = _read("no", KEEP)
    assert decision.intent == "opt_out" and not decision.needs_confirmation


@pytest.mark.parametrize(
    "body, outbound, treatment",
    [
        ("a bit yes", SWALLOW, "botox"),
        ("sí un poco", SWALLOW_ES, "botox"),
        ("kinda grey?", COLOUR, "cheek filler"),
    ],
)
def test_yes_to_a_check_ins_warning_sign_question_escalates(body, outbound, treatment):
    decision = _read(body, outbound, treatment, 1)
    assert decision.intent == "side_effect_concern" and decision.urgency == "emergency"


DUSKY = "Checking in after your lip filler! Any grey or dusky skin near the area?"
DUSKY_ES = "¿Cómo sigues después del relleno? ¿Alguna zona pálida o morada cerca de donde te inyectamos?"


@pytest.mark.parametrize(
    "body, outbound, expected",
    [
        ("kinda grey?", DUSKY, "emergency"),
        ("a little dusky yes", DUSKY, "emergency"),
        ("pain", COLOUR, "urgent"),
        ("medio morada", DUSKY_ES, "emergency"),
    ],
)
def test_a_reply_naming_a_sign_the_check_in_asked_about_pages_as_that_sign(body, outbound, expected):
    decision = _read(body, outbound, "lip filler", 1)
    assert decision.intent == "side_effect_concern" and decision.urgency == expected


@pytest.mark.parametrize("body", ["nope", "no pain", "none of that"])
def test_denying_the_signs_a_check_in_asked_about_pages_no_one(body):
    assert _read(body, DUSKY, "lip filler", 1).urgency in ("none", "routine")


def test_yes_to_a_list_of_warning_signs_pages_a_clinician():
    decision = _read("yes", COLOUR, "cheek filler", 1)
    assert decision.intent == "side_effect_concern" and decision.urgency == "urgent"


@pytest.mark.parametrize("body", ["no", "nope all good", "no nada", "none at all"])
def test_no_to_a_warning_sign_question_pages_no_one(body):
    decision = _read(body, SWALLOW, "botox", 1)
    assert decision.urgency in ("none", "routine")


REVIEW = "Thanks for coming in, Dana! Would you leave us a quick review? https://g.page/r/example/review"
REVIEW_ES = "Hola Lu, ¿nos dejarías una reseña? https://g.page/r/example/review"
GREETED = "Hi Jenna! Your laser package has 2 sessions left. Want to book one?"
REMIND = "Reminder: your HydraFacial is tomorrow at 3pm. Reply C to confirm."
REMIND_ES = "Recordatorio: tu cita de botox es el jueves a las 11am."
PACKAGE = "Hi Lee, your microneedling package expires in 30 days. Want to schedule?"
RATE_WORDS = "Please rate your visit 1 (poor) to 5 (excellent)."
LIP_ES = "Hola Caro, ¿cómo sigue tu labio después del relleno? Un poco de hinchazón es normal."
CHEEK = "Hi Ana, how are your cheeks feeling after yesterday's filler?"


@pytest.mark.parametrize(
    "body, outbound, intent",
    [
        ("done!", REVIEW, "positive_feedback"),
        ("just did it 😊", REVIEW, "positive_feedback"),
        ("⭐⭐⭐⭐⭐", REVIEW, "positive_feedback"),
        ("listo", REVIEW_ES, "positive_feedback"),
        ("ok", REVIEW, "other"),
        ("no thanks", REVIEW, "other"),
        ("not jenna", GREETED, "wrong_number"),
        ("this is not jenna", GREETED, "wrong_number"),
        ("not now", GREETED, "defer"),
        ("can't make it sorry", REMIND, "reschedule_or_cancel"),
        ("no voy a poder ir", REMIND_ES, "reschedule_or_cancel"),
        ("swamped this month", PACKAGE, "defer"),
        ("in january", PACKAGE, "defer"),
        ("después de las fiestas", PACKAGE, "defer"),
        ("five", RATE_WORDS, "positive_feedback"),
        ("dos", RATE_WORDS, "negative_feedback"),
    ],
)
def test_short_replies_to_a_review_a_greeting_a_reminder_an_offer_and_a_scale(body, outbound, intent):
    assert _read(body, outbound).intent == intent


@pytest.mark.parametrize(
    "body, outbound, expected",
    [
        ("muy hinchado y morado 😰", LIP_ES, "emergency"),
        ("kinda purple and cold", CHEEK, "emergency"),
        ("a bit swollen", CHEEK, "routine"),
        ("hinchada pero bien", LIP_ES, "routine"),
        ("sore but fine", CHEEK, "routine"),
    ],
)
def test_signs_in_a_short_reply_are_read_at_the_part_the_check_in_named(body, outbound, expected):
    decision = _read(body, outbound, "lip filler", 1)
    assert decision.intent == "side_effect_concern" and decision.urgency == expected
