"""The local classifier: thread rules, the shipped model, and the bars on the dev file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.understanding.evaluate import evaluate
from bot.understanding.local_classifier import MODEL_PATH, classify_local, outbound_kind

DEV = Path(__file__).resolve().parent / "data" / "inbound_dev.jsonl"
"""A copy of the product's labeled development replies (shared/data/inbound_dev.jsonl)."""
HOLDOUT = Path(__file__).resolve().parent.parent / "data" / "training" / "holdout.jsonl"
SLOTS = "It's been 3 months since your Botox! Openings: 1) Tue 10am 2) Wed 3pm 3) Fri 11:30am. Reply with a number."


def test_dev_file_bars():
    result = evaluate(DEV)
    assert result["opt_out_recall"] == 1
    assert result["opt_out_precision"] >= 0.97
    assert result["emergency_recall"] == 1
    assert result["urgent_recall"] >= 0.95
    assert result["accuracy"] >= 0.85


def test_holdout_bars():
    result = evaluate(HOLDOUT)
    assert result["opt_out_recall"] == 1 and result["emergency_recall"] == 1
    assert result["accuracy"] >= 0.8


@pytest.mark.parametrize(
    "body, outbound, intent",
    [
        ("2", SLOTS, "rebook_request"),
        ("option 3 pls", SLOTS, "rebook_request"),
        ("2", None, "other"),
        (
            "the second one",
            "Thanks, Ana! Someone from our team will text you back shortly with times that work.",
            "other",
        ),
        ("la segunda", None, "other"),
        ("YES", "Ready for your second CoolSculpting round? Reply YES and we'll send times.", "rebook_request"),
        (
            "YES",
            "You have been unsubscribed and will no longer receive messages. Reply START to resubscribe.",
            "opt_in",
        ),
        ("YES", None, "opt_in"),
        ("👍", "Your lip filler touch-up window is open! Want me to hold Thursday 4pm for you?", "rebook_request"),
        ("👍", "Your aftercare: avoid exfoliants and retinol for 48 hours.", "other"),
        (
            "sí",
            "Gabriela, no vemos una cita próxima a tu nombre. Nuestra recepción lo revisará y te escribirá.",
            "other",
        ),
        ("sounds good", "Ana, we don't see an upcoming visit on file for you. Our front desk will check.", "other"),
        (
            "C",
            "Reminder: your appointment is tomorrow at 2:00pm. Reply C to cancel or R to reschedule.",
            "reschedule_or_cancel",
        ),
        (
            "CANCEL",
            "Reminder: your appointment is tomorrow at 2:00pm. Reply C to cancel or R to reschedule.",
            "opt_out",
        ),
        (
            "oops didnt mean that. START",
            "You have been unsubscribed and will no longer receive messages. Reply START to resubscribe.",
            "opt_in",
        ),
    ],
)
def test_short_replies_read_against_the_last_text(body, outbound, intent):
    assert (
        classify_local(body, {"treatment": "botox", "days_since_visit": 90, "last_outbound": outbound}).intent == intent
    )


def test_slot_pick_entity_and_pending_slots():
    decision = classify_local("2", {"pending": {"kind": "slots", "options": ["Tue 3pm", "Wed 9am"]}})
    assert decision.intent == "rebook_request" and decision.entities["slot_choice"] == 2


def test_red_flag_decided_by_guard():
    decision = classify_local("my lip is white and cold", {"treatment": "lip_filler", "days_since_visit": 0})
    assert (decision.intent, decision.urgency, decision.path) == ("side_effect_concern", "emergency", "guard")


def test_spanish_and_entities():
    decision = classify_local(
        "quiero agendar botox el viernes en la tarde", {"treatment": "botox", "days_since_visit": 100}
    )
    assert decision.intent == "rebook_request"
    assert decision.entities["language"] == "es"
    assert "viernes" in decision.entities["date_preference"]


def test_shipped_model_is_small():
    # Speed is measured by `make bench` (key "classifier") and `aftercare eval`, not asserted here.
    assert MODEL_PATH.stat().st_size <= 5_000_000


def test_outbound_kind():
    assert outbound_kind(SLOTS) == "slots"
    assert outbound_kind(None) == "none"
    assert (
        outbound_kind("Reminder: your appointment is tomorrow at 2:00pm. Reply C to cancel or R to reschedule.")
        == "reminder_code"
    )


def test_only_a_red_flag_makes_an_emergency():
    swollen = classify_local(
        "my top lip is super swollen and kinda lumpy on one side, is that ok??",
        {"treatment": "lip_filler", "days_since_visit": 1},
    )
    assert swollen.intent == "side_effect_concern" and swollen.urgency != "emergency"
    white = classify_local("my lip went white and feels cold", {"treatment": "lip_filler", "days_since_visit": 1})
    assert white.urgency == "emergency" and white.guard_rule == "redflag:vascular_occlusion"


EVERYDAY = Path(__file__).resolve().parent.parent / "data" / "holdout" / "everyday.jsonl"


def test_everyday_texts_from_outside_a_clinic_page_almost_nobody():
    result = evaluate(EVERYDAY)
    pages = result["predicted"]["urgency"].get("urgent", 0) + result["predicted"]["urgency"].get("emergency", 0)
    assert pages <= 0.01 * result["n"]
    assert result["predicted"]["urgency"].get("emergency", 0) == 0
    assert result["opt_out_precision"] >= 0.8  # the few that ask to stop are caught, hardly any other


def test_a_model_opt_out_needs_staff_to_confirm_it():
    promo = {"treatment": "botox", "last_outbound": "This month only: 20% off!"}
    decision = classify_local("i am so over these texts", promo)
    assert (decision.intent, decision.path, decision.needs_confirmation) == ("opt_out", "local", True)
    guard = classify_local("STOP", {})
    assert guard.intent == "opt_out" and not guard.needs_confirmation


def test_the_threshold_is_recorded_and_low_confidence_is_held_for_review():
    decision = classify_local("hmm", {"treatment": "botox", "last_outbound": None})
    assert decision.path == "local" and decision.threshold is not None
    assert decision.needs_review == (decision.confidence < decision.threshold)
    assert decision.to_record()["threshold"] == decision.threshold


def test_tapbacks_and_asking_for_a_person():
    tapback = classify_local('Liked "How is your swelling today?"', {"treatment": "lip_filler"})
    assert (tapback.intent, tapback.urgency, tapback.path) == ("other", "none", "guard")
    person = classify_local("can i talk to a human", {"treatment": "botox"})
    assert person.intent == "ask_for_person"


def test_probabilities_are_calibrated_on_the_holdout():
    # Calibrated: on replies it was not trained on, the mean confidence is close to the accuracy.
    rows = [json.loads(line) for line in HOLDOUT.read_text().splitlines() if line.strip()]
    decisions = [classify_local(r["body"], r["context"]) for r in rows]
    model_made = [(d, r) for d, r in zip(decisions, rows) if d.path == "local"]
    confidence = sum(d.confidence for d, _ in model_made) / len(model_made)
    accuracy = sum(d.intent == r["intent"] for d, r in model_made) / len(model_made)
    assert abs(confidence - accuracy) <= 0.15, (confidence, accuracy)


@pytest.mark.parametrize(
    "body", ["don't stop sending me the deals lol I love them", "stop it you're making me blush", "omg stop 😂"]
)
def test_the_model_reads_no_opt_out_where_the_guards_see_none(body):
    promo = {"treatment": "botox", "last_outbound": "This month only: 20% off!"}
    assert classify_local(body, promo).intent != "opt_out"


def test_round_four_everyday_texts_get_no_opt_out_unless_they_ask_to_stop():
    result = evaluate(Path(__file__).resolve().parent.parent / "data" / "holdout" / "everyday_round4.jsonl")
    pages = result["predicted"]["urgency"].get("urgent", 0) + result["predicted"]["urgency"].get("emergency", 0)
    assert pages <= 0.01 * result["n"]
    assert result["opt_out_precision"] == 1 and result["opt_out_recall"] == 1


def test_round_five_everyday_texts_page_almost_nobody_and_no_emergency():
    result = evaluate(Path(__file__).resolve().parent.parent / "data" / "holdout" / "everyday_round5.jsonl")
    pages = result["predicted"]["urgency"].get("urgent", 0) + result["predicted"]["urgency"].get("emergency", 0)
    assert pages <= 0.01 * result["n"]
    assert result["predicted"]["urgency"].get("emergency", 0) == 0
    assert result["opt_out_precision"] == 1 and result["opt_out_recall"] == 1


@pytest.mark.parametrize(
    "body, context, intent",
    [
        # a complaint about a sales pitch or a worn-off result, EN and ES
        (
            "the laser itself was fine but the hard sell at checkout felt awful",
            {"treatment": "ipl"},
            "negative_feedback",
        ),
        ("pagué mucho y el efecto ya se me quitó", {"treatment": "botox", "days_since_visit": 70}, "negative_feedback"),
        # questions about instructions, doses and comparisons, EN and ES
        ("which cream goes on first at night, the thick one or the serum?", {"treatment": "microneedling"}, "question"),
        ("¿qué diferencia hay entre xeomin y botox?", {}, "question"),
        # a missed appointment asking for a new time is a reschedule, EN and ES
        (
            "totally blanked on my appointment today, can we find another time",
            {"treatment": "hydrafacial"},
            "reschedule_or_cancel",
        ),
        ("se me pasó la cita de hoy 😭 ¿me cambian el horario?", {"treatment": "botox"}, "reschedule_or_cancel"),
    ],
)
def test_round_four_model_families(body, context, intent):
    decision = classify_local(body, context)
    assert decision.intent == intent, decision
    assert decision.urgency in ("none", "routine")


@pytest.mark.parametrize(
    "body, context, intent",
    [
        # asking for a person in a formal register, EN and ES
        ("Might someone from the clinic phone me back today, please?", {"treatment": "botox"}, "ask_for_person"),
        ("¿Me puede llamar alguien de la clínica, por favor?", {"treatment": "botox"}, "ask_for_person"),
        # when the result shows is a question, EN and ES
        (
            "how long until i see the full result from the botox",
            {"treatment": "botox", "days_since_visit": 4},
            "question",
        ),
        ("¿en cuántos días se ve el resultado final?", {"treatment": "botox", "days_since_visit": 4}, "question"),
        # a skin product at home is not a treatment's side effect
        ("my new night cream has my skin glowing", {}, "other"),
        ("la crema nueva me dejó la piel bien suave", {}, "other"),
    ],
)
def test_round_five_model_families(body, context, intent):
    decision = classify_local(body, context)
    assert decision.intent == intent, decision
    assert decision.urgency in ("none", "routine")
