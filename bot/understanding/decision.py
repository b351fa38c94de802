"""What a reply was understood to mean, and why: the one decision type every path returns."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

INTENTS = (
    "side_effect_concern",
    "rebook_request",
    "reschedule_or_cancel",
    "defer",
    "referral",
    "opt_out",
    "opt_in",
    "help",
    "question",
    "positive_feedback",
    "negative_feedback",
    "wrong_number",
    "other",
)
"""Every intent a reply can have (shared/data/README.md)."""
URGENCIES = ("none", "routine", "urgent", "emergency")
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
