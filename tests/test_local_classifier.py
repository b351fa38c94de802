"""The local classifier: thread rules, the shipped model, and the bars on the dev file."""

from __future__ import annotations

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
    assert MODEL_PATH.stat().st_size <= 5 * 1024 * 1024


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
