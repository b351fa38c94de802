"""What a reply was understood to mean, and why: the one decision type every path returns."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from bot.vocabulary import Intent, Urgency

INTENTS: tuple[Intent, ...] = tuple(Intent)
"""Every intent the classifier answers (shared/data/README.md, plus ask_for_person)."""
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
    threshold: float | None = None
    """The confidence this intent needs to be acted on automatically (None when a guard decided)."""
    needs_review: bool = False
    """Confidence below `threshold`: staff get it with the best guess, the patient at most a holding reply."""
    needs_confirmation: bool = False
    """An opt-out that only a model saw (no guard matched): staff confirm it, nothing is sent, nobody is opted
    out until they do. The intent stays "opt_out" so the inbox shows what it looks like."""

    def to_record(self) -> dict:
        """A JSON-serialisable copy, stored with the message so managers can see why."""
        record = asdict(self)
        record["confidence"] = round(float(self.confidence), 4)
        record["latency_ms"] = round(float(self.latency_ms), 3)
        record["entities"] = json.loads(json.dumps(self.entities, default=str))
        return record
