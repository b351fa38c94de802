"""What a reply was understood to mean, and why: the one decision type every path returns."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from bot.vocabulary import Intent, Urgency

INTENTS: tuple[Intent, ...] = tuple(intent for intent in Intent if intent is not Intent.ASK_FOR_PERSON)
"""Every intent the classifier answers (shared/data/README.md); ask_for_person joins once it is routed."""
URGENCIES: tuple[Urgency, ...] = tuple(Urgency)
"""Urgency levels, lowest first."""


@dataclass
class Decision:
    intent: str
    urgency: str
    entities: dict
    confidence: float
    rationale: str
    path: str
    prompt_version: str | None = None
    fallback_reason: str | None = None
    guard_rule: str | None = None
    latency_ms: float = 0.0

    def to_record(self) -> dict:
        """A JSON-serialisable copy, stored with the message so managers can see why."""
        record = asdict(self)
        record["confidence"] = round(float(self.confidence), 4)
        record["latency_ms"] = round(float(self.latency_ms), 3)
        record["entities"] = json.loads(json.dumps(self.entities, default=str))
        return record
