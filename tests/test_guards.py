"""Guards: carrier keywords, free-text opt-outs and red flags, in English and Spanish."""

from __future__ import annotations

import pytest

from bot.understanding.guards import check, treatment_family


@pytest.mark.parametrize(
    "body, intent, keyword",
    [
        ("STOP", "opt_out", "STOP"),
        (" stop. ", "opt_out", "STOP"),
        ("Stop!!", "opt_out", "STOP"),
        ("STOP 🛑", "opt_out", "STOP"),
        ("stopall", "opt_out", "STOPALL"),
        ("Unsubscribe", "opt_out", "UNSUBSCRIBE"),
        ("cancel", "opt_out", "CANCEL"),
        ("END", "opt_out", "END"),
        ("quit", "opt_out", "QUIT"),
        ("Revoke", "opt_out", "REVOKE"),
        ("OPTOUT", "opt_out", "OPTOUT"),
        ("START", "opt_in", "START"),
        ("yes", "opt_in", "YES"),
        ("unstop", "opt_in", "UNSTOP"),
        ("HELP", "help", "HELP"),
        ("info?", "help", "INFO"),
    ],
)
def test_carrier_keywords_match_the_whole_message(body, intent, keyword):
    result = check(body)
    assert result.intent == intent and result.keyword == keyword and result.final


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "take me off your list",
        "leave me alone",
        "remove me",
        "Unsubscribe me pls",
        "stop sending me promos, I still want reminders",
        "no more messages please",
        "dont text me anymore",
        "I said stop",
        "no me manden más mensajes",
        "ya no quiero recibir mensajes",
        "dejen de escribirme",
        "Bórrenme de su lista",
        "quiero darme de baja",
        "BAJA",
        "alto",
        "wrong number, stop texting me",
    ],
)
def test_free_text_opt_outs(body):
    result = check(body)
    assert result is not None and result.intent == "opt_out" and result.final


@pytest.mark.parametrize(
    "body",
    [
        "I'll stop by Friday",
        "the swelling won't stop",
        "cancel my appointment",
        "can i stop by tomorrow to grab serum",
        "can't stop smiling!!",
        "how do I stop the bleeding?",
        "end of the month maybe?",
        "when can i start retinol again",
        "I quit smoking, ready to book",
        "info on the $50 deal?",
        "HELP my lip hurts a little",
    ],
)
def test_phrases_that_are_not_opt_outs(body):
    result = check(body, "botox", 3)
    assert result is None or result.intent != "opt_out"


def test_bare_yes_is_returned_as_the_opt_in_keyword_for_the_caller_to_read():
    result = check("Yes!")
    assert (result.intent, result.keyword, result.rule) == ("opt_in", "YES", "keyword:yes")


@pytest.mark.parametrize(
    "body, treatment, days, urgency, rule",
    [
        ("my lip went white and feels cold", "lip_filler", 0, "emergency", "redflag:vascular_occlusion"),
        ("skin by my nose is dusky and grey", "cheek_filler", 1, "emergency", "redflag:vascular_occlusion"),
        ("lip is turning purpel and hurts soo bad", "lip_filler", 1, "emergency", "redflag:vascular_occlusion"),
        ("tengo el labio blanco y me duele muchísimo", "lip_filler", 0, "emergency", "redflag:vascular_occlusion"),
        ("my vison is blurry since the filler", "undereye_filler", 0, "emergency", "redflag:vision_change"),
        ("veo borroso de un ojo", "filler", 0, "emergency", "redflag:vision_change"),
        ("cant breath well and my throat feels tight", "botox", 0, "emergency", "redflag:airway"),
        ("hard to swalow since this morning", "botox", 1, "emergency", "redflag:airway"),
        ("me cuesta respirar", "neuromodulator", 0, "emergency", "redflag:airway"),
        ("hives all over and feeling dizzy", "hydrafacial", 0, "emergency", "redflag:allergic_reaction"),
        ("having chest pain", None, 2, "emergency", "redflag:systemic"),
        ("i fainted after i got home", "coolsculpting", 0, "emergency", "redflag:systemic"),
        ("severe headache and a stiff neck", "botox", 2, "emergency", "redflag:systemic"),
        ("my eyelid is droopy", "botox", 7, "urgent", "redflag:toxin_spread"),
        ("smile is crooked since dysport", "dysport", 9, "urgent", "redflag:toxin_spread"),
        ("Se me cayó un poco el párpado derecho", "botox", 6, "urgent", "redflag:toxin_spread"),
        ("seeing double since the botox", "botox", 5, "urgent", "redflag:vision_change"),
        ("fever and pus at the injection site", "lip_filler", 4, "urgent", "redflag:infection"),
        ("red streaks going up my neck", "microneedling", 3, "urgent", "redflag:infection"),
        ("its red, hot and getting bigger", "cheek_filler", 5, "urgent", "redflag:infection"),
        ("blisters on my shins from the laser", "laser_hair_removal", 1, "urgent", "redflag:skin_injury"),
        ("me salieron ampollas en la axila", "laser_hair_removal", 1, "urgent", "redflag:skin_injury"),
        ("a couple spots look burnt", "ipl", 1, "urgent", "redflag:skin_injury"),
        ("i feel like my eye is closing a little on the right side??", "botox", 4, "urgent", "redflag:toxin_spread"),
        (
            "tengo el labio morado y me duele mucho",
            None,
            1,
            "emergency",
            "redflag:vascular_occlusion",
        ),  # treatment unknown
        ("tengo el labio morado y me duele mucho", "relleno de labios", 1, "emergency", "redflag:vascular_occlusion"),
    ],
)
def test_red_flags(body, treatment, days, urgency, rule):
    result = check(body, treatment, days)
    assert result is not None, body
    assert (result.intent, result.urgency, result.rule) == ("side_effect_concern", urgency, rule)
    assert result.final


@pytest.mark.parametrize(
    "body, treatment",
    [
        ("slight bruising and some swelling", "lip_filler"),
        ("a little tender", "cheek_filler"),
        ("small bumps where you injected", "botox"),
        ("mild headache today", "botox"),
        ("skin feels tight and sunburnt-ish", "microneedling"),
        ("la piel me arde un poquito", "microneedling"),
        ("no fever, no pus, just a little red", "microneedling"),
        ("small purple bruise near the injection", "lip_filler"),
        ("can i wear white tonight?", "lip_filler"),
        ("a few whiteheads popped up", "hydrafacial"),
        ("can i use a cold compress?", "lip_filler"),
        ("theres a lump i can feel but cant see, doesnt hurt", "lip_filler"),
        ("it burns a little", "chemical_peel"),
        ("no veo ningun cambio, la verdad no me gusto", "botox"),
        ("no veo la diferencia todavia", "lip_filler"),
        ("my eyes are closing, im so tired lol", "botox"),
        ("when will the swelling stop?", "lip_filler"),
        ("small purple bruise on my arm", None),
    ],
)
def test_expected_mild_effects_are_not_red_flags(body, treatment):
    assert check(body, treatment, 1) is None


def test_opt_out_with_a_red_flag_keeps_the_urgency():
    result = check("stop texting me. my lip is white and cold", "lip_filler", 0)
    assert result.intent == "opt_out" and result.urgency == "emergency"


@pytest.mark.parametrize(
    "treatment, family",
    [
        ("lip_filler", "filler"),
        ("undereye_filler", "filler"),
        ("botox", "neuromodulator"),
        ("dysport", "neuromodulator"),
        ("neuromodulator", "neuromodulator"),
        ("microneedling", "microneedling"),
        ("laser_hair_removal", "laser"),
        ("ipl", "laser"),
        ("laser_resurfacing", "laser"),
        ("chemical_peel", "peel"),
        ("peel", "peel"),
        ("hydrafacial", "facial"),
        ("facial", "facial"),
        ("coolsculpting", "body"),
        ("body_contouring", "body"),
        ("kybella", "body"),
        ("prp", "prp"),
        (None, "other"),
        ("massage", "other"),
    ],
)
def test_treatment_family(treatment, family):
    assert treatment_family(treatment) == family


@pytest.mark.parametrize(
    "body", ["stop. also my lip is really swollen", "STOP!! and remove my number", "Unsubscribe. thanks"]
)
def test_stop_as_its_own_first_sentence_is_an_opt_out(body):
    assert check(body, "lip_filler", 2).intent == "opt_out"


# ------------------------------------------------ red flags by clinical family (bot/understanding/data/redflags.toml)


@pytest.mark.parametrize(
    "body, treatment",
    [
        # systemic allergic reaction, told through the body, whatever the treatment
        ("my tongue feels thick and my lips are puffing up, kinda lightheaded", "microneedling"),
        ("lips swelling and I'm getting hives on my arms, feel dizzy", "lip_filler"),
        ("se me hinchan los labios y estoy mareada", "hydrafacial"),
        # neuromodulator spread
        ("water keeps going down the wrong way since the botox", "botox"),
        ("i keep choking when i drink since the tox", "botox"),
        ("me ahogo con el agua desde el botox", "botox"),
        ("both my eyelids are drooping since yesterday", "botox"),
        # vascular occlusion after filler, without "white" or "blanching"
        ("the spot under my nose is going kind of grey", "lip_filler"),
        ("my cheek looks dusky and blotchy where she injected", "cheek_filler"),
        ("pain in my lip keeps getting worse and advil isnt doing anything", "lip_filler"),
        ("mi piel se ve moteada y morada cerca del relleno", "cheek_filler"),
        ("the tip of my nose is dark and it burns so bad", "nose_filler"),
        # someone they text for
        ("my daughter's lip is turning white after her filler", "lip_filler"),
        # vision
        ("everything is blurry out of my left eye", "tear_trough_filler"),
        ("veo borroso de un ojo", "cheek_filler"),
    ],
)
def test_emergencies_described_through_the_body(body, treatment):
    result = check(body, treatment, 1)
    assert result is not None and result.urgency == "emergency", result
    assert result.family is not None and result.rule.startswith("redflag:")


@pytest.mark.parametrize(
    "body, treatment",
    [
        ("I almost passed out when I saw the bill lol", "botox"),
        ("I'm a little confused about the aftercare instructions, can I wash my face tonight?", "hydrafacial"),
        ("can Botox make you faint?", "botox"),
        ("is it possible for filler to block a blood vessel?", None),
        ("¿el botox puede causar desmayos?", "botox"),
        ("casi me desmayo cuando vi la cuenta jaja", "lip_filler"),
        ("I literally can't breathe I'm laughing so hard", "botox"),
        ("that news was hard to swallow", "botox"),
        ("my vision board is coming together", "lip_filler"),
        ("dying to come back for more lol", "lip_filler"),
        ("I burned the toast again", "laser_hair_removal"),
        ("no swelling, no pain, no bruising", "lip_filler"),
        ("sin hinchazon ni dolor", "lip_filler"),
    ],
)
def test_figures_of_speech_and_general_questions_are_not_red_flags(body, treatment):
    result = check(body, treatment, 1)
    assert result is None or result.urgency not in ("urgent", "emergency"), result


def test_every_red_flag_rule_names_its_family_and_treatments():
    from bot.understanding.redflags import shipped

    rules = shipped().rules
    assert rules and all(r.family and r.treatments and r.urgency in ("urgent", "emergency") for r in rules)
    families = {r.family for r in rules}
    assert {"vascular_occlusion", "systemic_allergic_reaction", "neuromodulator_spread", "vision_change"} <= families


def test_red_flag_typos_are_corrected():
    assert check("my lip is turnning whte and it hurrts so bad", "lip_filler").urgency == "emergency"


# ------------------------------------------------------------------ opt-outs, complete and precise


@pytest.mark.parametrize("body", ["STOPP", "stpo", "Sotp", "unsubscrib", "cancle", "OPTOUTT"])
def test_a_misspelled_keyword_alone_opts_out(body):
    result = check(body)
    assert result.intent == "opt_out" and result.final and result.rule.startswith("keyword_typo:")
    assert result.keyword is None  # the carrier did not see a keyword, so ours is the confirmation


@pytest.mark.parametrize("body", ["step", "shop", "stop by", "top", "and", "quiet", "spot"])
def test_words_near_a_keyword_do_not_opt_out(body):
    result = check(body)
    assert result is None or result.intent != "opt_out"


@pytest.mark.parametrize(
    "body",
    [
        "please remove me from your list",
        "I moved to Denver, no need to text me anymore",
        "why do you keep texting me?? stop",
        "I'd like to opt out",
        "me mudé de ciudad, ya no necesito los mensajes",
        "sáquenme de su lista por favor",
        "no me manden mas",
    ],
)
def test_polite_and_indirect_opt_outs(body):
    assert check(body).intent == "opt_out"


@pytest.mark.parametrize(
    "body",
    [
        "I'll stop by tomorrow to pick up my sunscreen",
        "can't stop smiling at my new lips!!",
        "omg stop 😂",
        "stop texting me while I'm at work lol jk",
        "don't stop sending me the deals lol",
        "no paro de sonreir",
        'Liked "Reply STOP to opt out of reminders"',
        'Loved "Checking in after your visit. Any swelling or bruising?"',
        "I'm driving with Do Not Disturb on. I'll see your message when I get where I'm going.",
        "Congratulations! You won a $1000 gift card, click here. Reply STOP to unsubscribe",
        "does the bleeding ever stop?",
    ],
)
def test_false_opt_outs_never_unsubscribe(body):
    result = check(body, "lip_filler", 1)
    assert result is None or result.intent != "opt_out", result


def test_a_tapback_quoting_our_check_in_raises_no_red_flag():
    result = check('Liked "Any trouble breathing or swallowing? Call us"', "botox", 1)
    assert result.intent == "other" and result.urgency == "none" and result.rule == "not_a_reply:tapback"


def test_an_auto_reply_with_a_red_flag_keeps_the_red_flag():
    result = check("auto reply: my lip is white and cold, call me", "lip_filler", 0)
    assert result.urgency == "emergency"


def test_an_opt_out_that_is_also_clinical_does_both():
    result = check("stop texting me, my lip is turning white", "lip_filler", 0)
    assert result.intent == "opt_out" and result.urgency == "emergency"


# ------------------------------------------------------------------ asking for a person


@pytest.mark.parametrize(
    "body",
    [
        "is this a bot?",
        "can I talk to a real person please",
        "have someone call me please",
        "am I texting with a human or a computer",
        "¿es un robot?",
        "quiero hablar con una persona",
        "que alguien me llame por favor",
    ],
)
def test_asking_for_a_person(body):
    result = check(body)
    assert result.intent == "ask_for_person" and not result.final


@pytest.mark.parametrize("body", ["HELP", "who is this?", "is it real?", "is this real botox?"])
def test_help_and_lookalikes_are_not_asking_for_a_person(body):
    result = check(body)
    assert result is None or result.intent != "ask_for_person"


def test_a_red_flag_outranks_asking_for_a_person():
    assert check("can someone call me, I can't breathe", "botox").urgency == "emergency"


# ------------------------------------------------ round 4 families (pinned paraphrases, not holdout lines)


@pytest.mark.parametrize(
    "body, treatment",
    [
        # systemic allergic reaction: a lip that "blew up" with light-headedness; someone else short of air
        ("my mouth blew up after the cream and I'm lightheaded", "laser_hair_removal"),
        ("a mi mamá se le hinchó la cara y se le falta el aire", "hydrafacial"),
        ("eyes swelling shut and my breathing feels shallow", "microneedling"),
        # toxin spread told through what sets the choking off
        ("every sip of water makes me choke since the tox", "botox"),
        ("tomar agua me hace toser y me ahogo con todo", "botox"),
        # occlusion: pain rising through painkillers, a net-like pattern even when called a bruise
        ("the nose spot is dark and the pain keeps climbing even after advil", "nose_filler"),
        ("there's a lacy purple pattern on my cheek, maybe a bruise?", "cheek_filler"),
        ("la mancha se ve como una red morada, ¿es un moretón?", "cheek_filler"),
        ("el labio está oscuro y el dolor sigue subiendo", "lip_filler"),
    ],
)
def test_round_four_emergencies_described_through_the_body(body, treatment):
    result = check(body, treatment, 1)
    assert result is not None and result.urgency == "emergency", result


@pytest.mark.parametrize(
    "body, treatment",
    [
        ("I'm confused, the sheet says no retinol but the nurse said it's fine?", "chemical_peel"),
        ("the dosing schedule is so confusing, do I go up this week?", "semaglutide"),
        ("estoy confundida con las indicaciones de la crema", "microneedling"),
        ("can tox make you pass out? my sister said it can", "botox"),
        ("I'm gonna pass out if I don't eat something soon", None),
        ("I'll pass out early tonight, long day", None),
        ("me voy a desmayar de sueño jaja", None),
        ("passed out from boredom in that lecture", None),
        ("I'm on antibiotics for an ear infection so no drinks for me", None),
        ("burned my finger on the stove, it's fine", None),
        ("the kids got hives from the new laundry soap", None),
        ("me picaron los zancudos y tengo ronchas", None),
        ("the fever finally broke", None),
    ],
)
def test_round_four_words_that_sound_clinical_page_no_one(body, treatment):
    result = check(body, treatment, 2 if treatment else None)
    assert result is None or result.urgency not in ("urgent", "emergency"), result


@pytest.mark.parametrize(
    "body, treatment",
    [
        ("the pain is getting worse not better, day 6", "lip_filler"),
    ],
)
def test_worsening_pain_late_after_filler_is_urgent_not_emergency(body, treatment):
    result = check(body, treatment, 6)
    assert result is not None and result.urgency == "urgent", result


@pytest.mark.parametrize(
    "body",
    [
        "how can I get off your list?",
        "how do i get removed from these texts",
        "no me vuelvan a mandar mensajes",
        "porfa no me vuelvas a escribir",
    ],
)
def test_round_four_opt_out_phrases(body):
    result = check(body)
    assert result is not None and result.intent == "opt_out" and result.final


@pytest.mark.parametrize(
    "body",
    [
        "how do I get off the waitlist for saturday?",
        "no me vuelvas a cobrar eso porfa",
    ],
)
def test_round_four_opt_out_lookalikes(body):
    result = check(body)
    assert result is None or result.intent != "opt_out", result


@pytest.mark.parametrize("body", ["I fainted at the blood drive lol", "me desmayé al donar sangre jaja"])
def test_fainting_while_giving_blood_is_not_a_red_flag(body):
    result = check(body)
    assert result is None or result.urgency not in ("urgent", "emergency"), result


def test_fainting_after_a_treatment_still_is():
    result = check("I fainted after the drip and still feel off", "iv_therapy", 0)
    assert result is not None and result.urgency == "emergency"


@pytest.mark.parametrize(
    "body, treatment, days",
    [
        # a tongue told by its size, with an itchy throat
        ("my tongue feels fat and my throat is itchy since the filler", "lip_filler", 0),
        ("siento la lengua muy gorda desde la inyección", "lip_filler", 0),
        # choking on water said of someone else
        ("mi hija se atraganta cuando bebe agua desde el botox", "botox", 5),
        ("mi mamá se ahoga con el agua desde que se puso botox en el cuello", "botox", 6),
        # a dark spot floating in the vision after filler
        ("there's a black blob floating in my vision since the tear trough filler", "undereye_filler", 0),
        ("tengo una mancha oscura en la vista desde el relleno", "undereye_filler", 0),
    ],
)
def test_round_five_emergencies_told_through_the_body(body, treatment, days):
    result = check(body, treatment, days)
    assert result is not None and result.urgency == "emergency", result


@pytest.mark.parametrize(
    "body",
    [
        "Kindly cease texting this number.",
        "please discontinue all messages to me",
        "les pido que cesen los mensajes a este número",
        "suspendan el envío de mensajes por favor",
    ],
)
def test_round_five_formal_opt_outs(body):
    result = check(body)
    assert result is not None and result.intent == "opt_out" and result.final


@pytest.mark.parametrize(
    "body, treatment",
    [
        # a question about risk asked ahead of a plan names nobody
        ("can tirzepatide make you faint? asking because im starting it soon", "semaglutide"),
        ("does filler cause fainting? asking since i am booking next month", "lip_filler"),
        # lips out of line after lip filler are the result, not toxin spread
        ("my lips look lopsided, the left is bigger, not happy", "lip_filler"),
        ("tengo los labios lopsided, uno más grande que el otro", "lip_filler"),
        # choking with laughter, hives from a food an antihistamine cleared
        ("ya no me mandes videos que me ahogo de risa", None),
        ("my son broke out in hives from peanuts, the benadryl worked", None),
        ("a mi niña le salieron ronchas por las fresas, ya se le quitaron", None),
    ],
)
def test_round_five_words_that_sound_clinical_page_no_one(body, treatment):
    result = check(body, treatment, 2 if treatment else None)
    assert result is None or result.urgency not in ("urgent", "emergency"), result


@pytest.mark.parametrize("body", ["my smile went lopsided since the botox", "my lips look crooked since the lip flip"])
def test_lopsided_lips_after_a_neuromodulator_are_still_urgent(body):
    result = check(body, "botox", 5)
    assert result is not None and result.urgency == "urgent", result


@pytest.mark.parametrize(
    "body", ["Wrong number. Pls remove", "remove please", "remove me", "Quién es? No los conozco. remove"]
)
def test_a_bare_remove_ending_the_text_opts_out(body):
    result = check(body)
    assert result is not None and result.intent == "opt_out" and result.final


@pytest.mark.parametrize(
    "body", ["how do I remove the tape?", "I need to remove my makeup first", "can I remove the bandage tonight?"]
)
def test_removing_something_from_the_skin_is_not_an_opt_out(body):
    result = check(body)
    assert result is None or result.intent != "opt_out"


@pytest.mark.parametrize(
    "body",
    [
        "part of my vision is missing on the left",
        "there's a blank spot in my vision since the filler",
        "me falta un pedazo de la vista del ojo derecho",
    ],
)
def test_a_piece_of_the_field_gone_after_filler_is_an_emergency(body):
    result = check(body, "filler", 0)
    assert result is not None and result.urgency == "emergency"


def test_a_blind_spot_when_driving_is_not():
    result = check("my car has a huge blind spot when driving, so scary", "filler", 0)
    assert result is None or result.urgency != "emergency"


@pytest.mark.parametrize(
    "body",
    [
        "the pain along my jaw is getting worse, it looks kinda dark",
        "el dolor va a peor y se ve oscuro donde me pusieron",
    ],
)
def test_dark_skin_with_rising_pain_after_filler_is_an_occlusion(body):
    result = check(body, "filler", 1)
    assert result is not None and result.urgency == "emergency"


@pytest.mark.parametrize("body", ["arde muchísimo", "me quema demasiado la cara", "it burns like fire"])
def test_burning_that_is_severe_after_a_peel_pages(body):
    result = check(body, "chemical peel", 1)
    assert result is not None and result.urgency == "urgent"


def test_mild_stinging_after_a_peel_does_not():
    assert check("quema un poco, normal supongo", "chemical peel", 1) is None


@pytest.mark.parametrize("body", ["me cuesta respira bien desde el relleno", "a mi mamá le cuesta respirarrr"])
def test_breathing_hard_in_spanish_with_the_verb_cut_short_or_stretched(body):
    result = check(body, "filler", 0)
    assert result is not None and result.urgency == "emergency"


def test_swallowing_a_story_is_no_sign():
    assert check("no puedo tragarme esa excusa de mi jefe", "filler", 0) is None


@pytest.mark.parametrize("body", ["Unsubscribee me please", "unsubcribe me pls", "unsubscibe me"])
def test_a_slip_in_unsubscribe_before_me_still_opts_out(body):
    result = check(body)
    assert result is not None and result.intent == "opt_out"


@pytest.mark.parametrize(
    "body", ["unsuspecting me walked right into it lol", "you unsubscribed me from the gym emails?"]
)
def test_words_like_unsubscribe_do_not(body):
    result = check(body)
    assert result is None or result.intent != "opt_out"
