"""Clinical red flags: rules read from data (bot/understanding/data/redflags.toml), one per clinical family.

A rule holds when its sign groups are found in the canonical text (folded, words
only, typos corrected to the lexicon) and none is negated just before it ("no
swelling"). Before any rule is tried, figures of speech ("I almost passed out
when I saw the bill") are blanked out, and a general question about risk that
names nobody ("can Botox make you faint?") flags nothing: a red flag is a sign
happening now to a person, the patient or someone they text for.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bot.understanding.textnorm import FuzzyLexicon, emoji, words

RULES_PATH = resources.files("bot.understanding") / "data" / "redflags.toml"
"""The reviewed lexicon and rules."""

_LAUGHTER = {"😂", "🤣", "😆", "😅", "💀"}
"""Emoji that read as "lol": "I'm dying 😂" is a figure of speech."""


@dataclass(frozen=True)
class Rule:
    name: str
    family: str
    urgency: str
    treatments: tuple[str, ...]
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    min_days: int | None = None

    def applies_to(self, treatment_family: str) -> bool:
        return "any" in self.treatments or treatment_family in self.treatments


@dataclass(frozen=True)
class Flag:
    rule: str
    family: str
    urgency: str


def _compile(patterns) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


class RedFlags:
    """The rules of one data file, compiled once."""

    def __init__(self, data: dict):
        self.lexicon = FuzzyLexicon(data["lexicon"]["words"], data["lexicon"]["protected"])
        self.negators = frozenset(data["negation"]["negators"])
        self.negation_skip = frozenset(data["negation"]["skip"])
        self.signs = {name: _compile(group["patterns"]) for name, group in data["signs"].items()}
        self.figures = _compile(data["figures"]["patterns"])
        self.question_openers = _compile(data["general_question"]["openers"])
        self.personal = _compile(data["general_question"]["personal"])
        self.rules = [
            Rule(
                name=r["name"],
                family=r["family"],
                urgency=r["urgency"],
                treatments=tuple(r["treatments"]),
                all=tuple(r.get("all", ())),
                any=tuple(r.get("any", ())),
                none=tuple(r.get("none", ())),
                min_days=r.get("min_days"),
            )
            for r in data["rule"]
        ]
        unknown = {g for r in self.rules for g in r.all + r.any + r.none} - set(self.signs)
        if unknown:
            raise ValueError(f"red-flag rules name unknown sign groups: {sorted(unknown)}")

    def canonical(self, body: str) -> str:
        """Folded words, typos corrected; laughing emoji become "lol"."""
        text = " ".join(self.lexicon.lookup(w) for w in words(body))
        if set(emoji(body)) & _LAUGHTER:
            text += " lol"
        return text

    def _negated(self, text: str, start: int) -> bool:
        before = text[:start].split()[-3:]
        for i, word in enumerate(before):
            if word in self.negators:
                nxt = before[i + 1] if i + 1 < len(before) else ""
                if nxt not in self.negation_skip:
                    return True
        return False

    def found(self, group: str, text: str) -> bool:
        """Whether a sign of the group is in the text and not negated."""
        return any(not self._negated(text, m.start()) for m in self.signs[group].finditer(text))

    def general_question(self, body: str, text: str) -> bool:
        """A question about risk that names no one: "can filler block a blood vessel?"."""
        return "?" in body and bool(self.question_openers.search(text)) and not self.personal.search(text)

    def check(self, body: str, treatment_family: str, days: int | None = None, text: str | None = None) -> Flag | None:
        """The first rule that holds for this text after this treatment family, or None."""
        text = self.canonical(body) if text is None else text
        if self.general_question(body, text):
            return None
        text = self.figures.sub(" ", text)
        seen: dict[str, bool] = {}

        def has(group: str) -> bool:
            if group not in seen:
                seen[group] = self.found(group, text)
            return seen[group]

        for rule in self.rules:
            if not rule.applies_to(treatment_family):
                continue
            if rule.min_days is not None and (days is None or days < rule.min_days):
                continue
            holds = all(has(g) for g in rule.all) and (not rule.any or any(has(g) for g in rule.any))
            if holds and not any(has(g) for g in rule.none):
                return Flag(rule.name, rule.family, rule.urgency)
        return None


def load(path=RULES_PATH) -> RedFlags:
    """Read and compile a red-flag data file (a path, or package data as importlib.resources gives it)."""
    return RedFlags(
        tomllib.loads(
            Path(path).read_text(encoding="utf-8") if isinstance(path, str) else path.read_text(encoding="utf-8")
        )
    )


@lru_cache(maxsize=1)
def shipped() -> RedFlags:
    """The shipped rules, compiled once per process."""
    return load()
