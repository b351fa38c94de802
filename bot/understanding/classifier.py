"""Decide what a patient's reply means: guards, then the LLM, else the local classifier.

Order of authority (DESIGN.md, "Classify"): a guard's opt-out, carrier keyword
or red flag is final; the LLM may raise a red flag's urgency, never lower it;
with no LLM configured, or the LLM down, slow or off-schema, the local
classifier decides and the decision says why.

Only the reply, the treatment category, days since the visit and the recent
thread text go to the LLM, with phone numbers, emails and the patient's names
scrubbed (see `redact`). Callers put the patient's names in
`context["redact"]`; they are used for scrubbing and never sent.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from importlib import resources
from typing import Any

from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.errors import LLMError
from bot.understanding import guards
from bot.understanding.decision import INTENTS, URGENCIES, Decision
from bot.understanding.local_classifier import classify_local
from bot.understanding.redaction import redact
from bot.vocabulary import Direction, Intent, Urgency

PROMPT_VERSION = "classify_v3"
"""The prompt file (prompts/<version>.txt, package data of the `prompts` package) the LLM path uses."""
LLM_BUDGET_S = 10.0
"""Wall-clock ceiling for the whole LLM path, retries included."""
HISTORY_LIMIT = 6
"""Messages of the thread sent for context, newest last."""


# ----------------------------------------------------------------- prompt


@lru_cache(maxsize=8)
def load_prompt(version: str = PROMPT_VERSION) -> str:
    """The system prompt text of prompts/<version>.txt; raise _Fallback when it cannot be read."""
    try:
        return (resources.files("prompts") / f"{version}.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Fallback("prompt_unavailable") from exc


def build_messages(body: str, context: dict, version: str = PROMPT_VERSION) -> list[dict]:
    """The chat messages for one reply: only what the minimum-necessary rule allows."""
    names = tuple(context.get("redact") or ())
    history = [
        {
            "direction": Direction.IN if m.get("direction") == Direction.IN else Direction.OUT,
            "text": redact(m.get("body"), names),
        }
        for m in (context.get("history") or [])[-HISTORY_LIMIT:]
    ]
    pending = context.get("pending")
    payload = {
        "reply": redact(body, names),
        "treatment_category": guards.treatment_family(context.get("treatment")),
        "days_since_visit": context.get("days_since_visit"),
        "last_outbound": redact(context.get("last_outbound"), names) or None,
        "recent_thread": history,
        "offered_slots": list(pending.get("options") or [])
        if isinstance(pending, dict) and pending.get("kind") == "slots"
        else [],
        "language_hint": context.get("language"),
    }
    return [
        {"role": "system", "content": load_prompt(version)},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
    ]


_NULLABLE_STR = {"type": ["string", "null"]}
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["intent", "also_intents", "urgency", "confidence", "rationale", "entities"],
    "properties": {
        "intent": {"type": "string", "enum": list(INTENTS)},
        "also_intents": {"type": "array", "items": {"type": "string", "enum": list(INTENTS)}},
        "urgency": {"type": "string", "enum": list(URGENCIES)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "rationale": {"type": "string"},
        "entities": {
            "type": "object",
            "additionalProperties": False,
            "required": ["date_preference", "time_preference", "slot_choice", "friend_first_name", "language"],
            "properties": {
                "date_preference": _NULLABLE_STR,
                "time_preference": _NULLABLE_STR,
                "slot_choice": {"type": ["integer", "null"]},
                "friend_first_name": _NULLABLE_STR,
                "language": {"type": ["string", "null"], "enum": ["en", "es", None]},
            },
        },
    },
}
"""The structured-output schema the LLM must answer in (strict)."""


class SchemaViolation(LLMError):
    """The LLM answered JSON that breaks RESPONSE_SCHEMA."""


def validate(answer) -> dict:
    """Check an LLM answer against RESPONSE_SCHEMA by hand; raise SchemaViolation naming the field."""
    if not isinstance(answer, dict):
        raise SchemaViolation("answer is not an object")
    props = RESPONSE_SCHEMA["properties"]
    # Answers from before classify_v2 have no also_intents: read as none.
    answer = {"also_intents": [], **answer}
    missing = set(RESPONSE_SCHEMA["required"]) - set(answer)
    extra = set(answer) - set(props)
    if missing or extra:
        raise SchemaViolation(f"missing {sorted(missing)} extra {sorted(extra)}")
    if answer["intent"] not in INTENTS:
        raise SchemaViolation(f"intent {answer['intent']!r}")
    also = answer["also_intents"]
    if not isinstance(also, list) or any(i not in INTENTS for i in also):
        raise SchemaViolation(f"also_intents {also!r}")
    if answer["urgency"] not in URGENCIES:
        raise SchemaViolation(f"urgency {answer['urgency']!r}")
    conf = answer["confidence"]
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0 <= conf <= 1:
        raise SchemaViolation(f"confidence {conf!r}")
    if not isinstance(answer["rationale"], str):
        raise SchemaViolation("rationale")
    ents = answer["entities"]
    eprops = props["entities"]["properties"]
    if not isinstance(ents, dict) or set(ents) - set(eprops):
        raise SchemaViolation("entities")
    for key in ("date_preference", "time_preference", "friend_first_name"):
        if ents.get(key) is not None and not isinstance(ents[key], str):
            raise SchemaViolation(f"entities.{key}")
    slot = ents.get("slot_choice")
    if slot is not None and (isinstance(slot, bool) or not isinstance(slot, int)):
        raise SchemaViolation("entities.slot_choice")
    if ents.get("language") not in ("en", "es", None):
        raise SchemaViolation("entities.language")
    return answer


# -------------------------------------------------------------------- LLM


class _Fallback(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _call_llm(messages: list[dict], settings) -> dict:
    """One structured chat call (two attempts at most, inside LLM_BUDGET_S); raise _Fallback with the reason."""
    # why: only with an LLM configured; importing the client costs ~0.9 s and its memory in every worker
    import openai
    from openai import OpenAI

    client = OpenAI(
        api_key=settings.openai_api_key or "unused",
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_s,
        max_retries=0,
    )
    deadline = time.monotonic() + LLM_BUDGET_S

    def retryable(exc: BaseException) -> bool:
        # Another attempt only if it can finish before the deadline.
        if time.monotonic() + settings.llm_timeout_s + 0.5 > deadline:
            return False
        if isinstance(exc, openai.APIStatusError):
            return exc.status_code == 429 or exc.status_code >= 500
        return isinstance(exc, openai.APIConnectionError)

    try:
        response = _create_with_retries(client, messages, settings, retryable)
    except openai.APITimeoutError as exc:
        raise _Fallback("llm_timeout") from exc
    except openai.APIStatusError as exc:
        raise _Fallback(f"llm_http_{exc.status_code}") from exc
    except openai.APIConnectionError as exc:
        raise _Fallback("llm_connection") from exc
    except (openai.OpenAIError, RetryError) as exc:
        raise _Fallback("llm_error") from exc
    finally:
        client.close()
    return _parse(response)


def _create_with_retries(client, messages, settings, retryable):
    for attempt in Retrying(
        stop=stop_after_attempt(2),
        wait=wait_exponential(multiplier=0.2, max=0.5),
        retry=retry_if_exception(retryable),
        reraise=True,
    ):
        with attempt:
            return client.chat.completions.create(
                model=settings.openai_model,
                messages=messages,
                temperature=0,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "reply_decision", "strict": True, "schema": RESPONSE_SCHEMA},
                },
            )


def _parse(response) -> dict:
    """The validated answer inside a chat completion; raise _Fallback saying what was wrong."""
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError) as exc:
        raise _Fallback("llm_malformed_response") from exc
    if not content:
        raise _Fallback("llm_empty")
    try:
        answer = json.loads(content)
    except (TypeError, ValueError) as exc:
        raise _Fallback("llm_malformed_json") from exc
    try:
        return validate(answer)
    except SchemaViolation as exc:
        raise _Fallback("llm_schema") from exc


def _from_llm(answer: dict, guard, started: float) -> Decision:
    intent, urgency = answer["intent"], answer["urgency"]
    if intent in (Intent.SIDE_EFFECT_CONCERN, Intent.NEGATIVE_FEEDBACK) and urgency == Urgency.NONE:
        urgency = Urgency.ROUTINE
    rule = None
    if guard is not None and guard.intent is not None and guard.keyword != "YES":
        # A red flag's intent stands; the model can only raise its urgency.
        rule = guard.rule
        intent = guard.intent
        urgency = Urgency.highest(urgency, guard.urgency)
    entities = {k: v for k, v in answer["entities"].items() if v is not None}
    also = list(dict.fromkeys(i for i in answer.get("also_intents") or [] if i != intent))
    guard_opt_out = guard is not None and guard.intent == "opt_out"
    if intent != "opt_out" and "opt_out" in also and urgency not in ("urgent", "emergency"):
        # An opt-out anywhere in the message decides it (the prompt's convention); staff confirm it below.
        also = [intent, *(i for i in also if i != "opt_out")]
        intent = "opt_out"
    elif intent not in ("opt_out", Intent.SIDE_EFFECT_CONCERN) and Intent.SIDE_EFFECT_CONCERN in also:
        # A symptom outranks a booking wish, a question or a complaint: staff see the clinical part first, and
        # the rest stays on the decision.
        also = [intent, *(i for i in also if i != Intent.SIDE_EFFECT_CONCERN)]
        intent = Intent.SIDE_EFFECT_CONCERN
        urgency = Urgency.highest(urgency, Urgency.ROUTINE)
    if also:
        entities["also_intents"] = also
    decision = Decision(
        intent=intent,
        urgency=urgency,
        entities=entities,
        confidence=float(answer["confidence"]),
        rationale=answer["rationale"][:500],
        path="llm",
        prompt_version=PROMPT_VERSION,
        guard_rule=rule,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    # The model alone never opts anyone out; staff confirm it (handlers/review.py).
    decision.needs_confirmation = intent == "opt_out" and not guard_opt_out
    return decision


# --------------------------------------------------------------- classify


def classify(body: str, context: dict, settings) -> Decision:
    """Decide a reply's intent, urgency and entities; never raises for an LLM failure."""
    started = time.perf_counter()
    context = context or {}
    guard = guards.check(body, context.get("treatment"), context.get("days_since_visit"))
    red_flag = guard is not None and guard.rule.startswith("redflag:")
    if guard is not None and guard.final and not red_flag and guard.keyword != "YES":
        # Opt-outs and carrier keywords are decided here; nothing to ask a model.
        decision = classify_local(body, context, guard)
        decision.latency_ms = (time.perf_counter() - started) * 1000
        return decision

    reason = "llm_not_configured"
    if settings is not None and settings.llm_configured:
        try:
            answer = _call_llm(build_messages(body, context, PROMPT_VERSION), settings)
            return _from_llm(answer, guard, started)
        except _Fallback as exc:
            reason = exc.reason
        except Exception as exc:
            # Whatever else breaks on the LLM path (a bug, an odd client error), the reply is still
            # understood: the local classifier decides and the decision names what failed.
            reason = f"llm_failed:{type(exc).__name__}"
    decision = classify_local(body, context, guard)
    decision.fallback_reason = reason
    decision.latency_ms = (time.perf_counter() - started) * 1000
    return decision
