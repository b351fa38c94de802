"""The LLM path against a local fake OpenAI server, driven by the real `openai` client."""

from __future__ import annotations

import json
import socket
import time
from importlib import resources

import pytest

from bot.settings import Settings
from bot.understanding import classifier
from bot.understanding.classifier import (
    INTENTS,
    URGENCIES,
    Decision,
    SchemaViolation,
    build_messages,
    classify,
    load_prompt,
    redact,
    validate,
)
from fakes.openai_server import FakeOpenAI, answer, delay, raw, status


def _answer(intent="rebook_request", urgency="none", confidence=0.92, **entities):
    ents = {
        "date_preference": None,
        "time_preference": None,
        "slot_choice": None,
        "friend_first_name": None,
        "language": "en",
    }
    ents.update(entities)
    return {"intent": intent, "urgency": urgency, "confidence": confidence, "rationale": "test", "entities": ents}


@pytest.fixture(scope="module")
def fake():
    """One fake OpenAI server for the module; reset before each test."""
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def llm(fake):
    """Settings pointing the real openai client at the fake, with a short timeout."""
    fake.reset()
    return Settings(openai_api_key="test-key", openai_base_url=fake.base_url, llm_timeout_s=0.5)


SLOTS = {
    "treatment": "botox",
    "days_since_visit": 92,
    "last_outbound": "It's been 3 months since your Botox! Openings: 1) Tue 10am 2) Wed 3pm. Reply with a number.",
    "history": [],
    "pending": {"kind": "slots", "options": ["Tue 10am", "Wed 3pm"]},
    "language": "en",
}


def test_valid_structured_answer_is_used(fake, llm):
    fake.queue(answer(_answer(slot_choice=2)))
    decision = classify("the wednesday one works", SLOTS, llm)
    assert decision.path == "llm"
    assert decision.intent == "rebook_request"
    assert decision.entities["slot_choice"] == 2
    assert decision.prompt_version == "classify_v3"
    assert decision.fallback_reason is None
    sent = fake.requests[0]["json"]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    json.dumps(decision.to_record())


@pytest.mark.parametrize(
    "script, reason",
    [
        (raw("{not json at all"), "llm_malformed_json"),
        (
            answer({"intent": "booking", "urgency": "none", "confidence": 0.9, "rationale": "x", "entities": {}}),
            "llm_schema",
        ),
        (answer({**_answer(), "confidence": 7}), "llm_schema"),
        (answer({**_answer(), "extra": 1}), "llm_schema"),
    ],
)
def test_bad_answers_fall_back_to_local(fake, llm, script, reason):
    fake.queue(script)
    decision = classify("2", SLOTS, llm)
    assert decision.path == "local"
    assert decision.fallback_reason == reason
    assert decision.intent == "rebook_request"


@pytest.mark.parametrize("code", [500, 429])
def test_repeated_server_errors_fall_back_after_two_attempts(fake, llm, code):
    fake.queue(status(code, times=2))
    decision = classify("can i come in friday for botox?", SLOTS, llm)
    assert decision.path == "local"
    assert decision.fallback_reason == f"llm_http_{code}"
    assert len(fake.requests) == 2


def test_one_server_error_is_retried(fake, llm):
    fake.queue(status(503), answer(_answer(intent="question")))
    decision = classify("are you open sundays?", {}, llm)
    assert decision.path == "llm" and decision.intent == "question"
    assert len(fake.requests) == 2


def test_slow_llm_times_out_and_falls_back(fake, llm):
    fake.queue(delay(2.0, answer(_answer())), delay(2.0, answer(_answer())))
    started = time.monotonic()
    decision = classify("STOP texting me about deals pls", {}, llm)  # opt-out: decided before the LLM
    assert decision.intent == "opt_out"
    decision = classify("maybe next month", SLOTS, llm)
    assert decision.path == "local"
    assert decision.fallback_reason == "llm_timeout"
    assert time.monotonic() - started < 10


def test_a_prompt_that_cannot_be_read_falls_back_to_local(fake, llm, monkeypatch):
    monkeypatch.setattr(classifier, "PROMPT_VERSION", "classify_v999")
    decision = classify("can i come in friday for botox?", SLOTS, llm)
    assert decision.path == "local"
    assert decision.fallback_reason == "prompt_unavailable"
    assert decision.intent == "rebook_request"
    assert fake.requests == []


def test_the_shipped_prompt_is_package_data():
    text = (resources.files("prompts") / f"{classifier.PROMPT_VERSION}.txt").read_text(encoding="utf-8")
    assert load_prompt() == text and "intent" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_red_flag_is_emergency_with_llm_down():
    down = Settings(openai_api_key="k", openai_base_url=f"http://127.0.0.1:{_free_port()}/v1", llm_timeout_s=0.5)
    decision = classify("my lip turned white and feels cold", {"treatment": "lip_filler", "days_since_visit": 0}, down)
    assert decision.intent == "side_effect_concern"
    assert decision.urgency == "emergency"
    assert decision.fallback_reason == "llm_connection"
    assert decision.guard_rule == "redflag:vascular_occlusion"


def test_model_cannot_lower_a_guard_emergency(fake, llm):
    fake.queue(answer(_answer(intent="question", urgency="routine")))
    decision = classify(
        "vision is blurry since my filler this morning", {"treatment": "cheek_filler", "days_since_visit": 0}, llm
    )
    assert decision.path == "llm"
    assert decision.intent == "side_effect_concern"
    assert decision.urgency == "emergency"


def test_model_can_raise_a_guard_urgency(fake, llm):
    fake.queue(answer(_answer(intent="side_effect_concern", urgency="emergency")))
    decision = classify("my eyelid is drooping", {"treatment": "botox", "days_since_visit": 6}, llm)
    assert decision.urgency == "emergency"


def test_opt_out_keyword_never_reaches_the_llm(fake, llm):
    decision = classify("STOP", SLOTS, llm)
    assert decision.intent == "opt_out" and decision.path == "guard"
    assert fake.requests == []


def test_patient_name_phone_and_email_never_reach_the_llm(fake, llm):
    fake.queue(answer(_answer(intent="referral")))
    context = {
        "treatment": "lip_filler",
        "days_since_visit": 20,
        "language": "en",
        "last_outbound": "Hi Ana! Love your results? Refer a friend and you both get $25 off!",
        "history": [
            {"direction": "out", "body": "Hi Ana Ruiz, thanks for visiting. Call us at (512) 555-0100."},
            {"direction": "in", "body": "thanks! this is Ana, my cell is +1 512 555 0143, email ana.ruiz@example.com"},
        ],
        "redact": ["Ana", "Ruiz"],
        "patient_name": "Ana Ruiz",
        "phone": "+15125550143",
        "birthday": "1990-04-02",
    }
    classify("my friend wants her lips done, her number is 512-555-0138", context, llm)
    sent = json.dumps(fake.requests[0]["json"])
    for secret in ("Ana", "Ruiz", "555-0143", "555 0143", "5550143", "555-0138", "0100", "ana.ruiz", "1990-04-02"):
        assert secret not in sent
    assert "[phone]" in sent and "[email]" in sent and "[name]" in sent


def test_no_llm_configured_uses_local():
    decision = classify("can i get botox next week?", {"treatment": "botox", "days_since_visit": 90}, Settings())
    assert decision.path == "local"
    assert decision.fallback_reason == "llm_not_configured"
    assert decision.intent == "rebook_request"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call me at 512-555-0143", "call me at [phone]"),
        ("my number is +1 (512) 555 0143 ok", "my number is [phone] ok"),
        ("email me: ana@example.com", "email me: [email]"),
        ("paid $1,400 at 3:00pm on 11/24", "paid $1,400 at 3:00pm on 11/24"),
        ("Hi Maria! your visit", "Hi [name]! your visit"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_build_messages_carry_only_allowed_fields():
    messages = build_messages(
        "hello", {"treatment": "lip_filler", "days_since_visit": 3, "patient_name": "Zed", "phone": "+15125550199"}
    )
    payload = json.loads(messages[1]["content"])
    assert set(payload) == {
        "reply",
        "treatment_category",
        "days_since_visit",
        "last_outbound",
        "recent_thread",
        "offered_slots",
        "language_hint",
    }
    assert payload["treatment_category"] == "filler"


def test_validate_rejects_wrong_types():
    assert validate(_answer())["intent"] in INTENTS
    with pytest.raises(SchemaViolation):
        validate({**_answer(), "urgency": "high"})
    with pytest.raises(SchemaViolation):
        validate({**_answer(), "entities": {"slot_choice": "two"}})
    assert set(URGENCIES) == {"none", "routine", "urgent", "emergency"}
    assert isinstance(Decision("other", "none", {}, 0.5, "", "local").to_record(), dict)


def test_the_current_prompt_asks_for_every_intent_and_older_versions_stay_loadable():
    current = classifier.load_prompt()
    for intent in INTENTS:
        assert f"- {intent}:" in current, intent
    assert "also_intents" in current and "not happening now" in current
    # Decisions stored with an older version name it; its text stays readable.
    assert "also_intents" in classifier.load_prompt("classify_v2")
