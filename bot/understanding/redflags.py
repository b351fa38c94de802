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

from bot.understanding.textnorm import FuzzyLexicon, emoji, fold, words

RULES_PATH = resources.files("bot.understanding") / "data" / "redflags.toml"
"""The reviewed lexicon and rules."""

_UNREAD_SCRIPT = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
"""Chinese, Japanese and Korean letters: the word matcher reads none of them, the translations some."""

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
    max_days: int | None = None
    """A rule for the first days only (a filler's occlusion); an unknown day count still applies."""

    def applies_to(self, treatment_family: str) -> bool:
        return "any" in self.treatments or treatment_family in self.treatments


@dataclass(frozen=True)
class Flag:
    rule: str
    family: str
    urgency: str


def _compile(patterns) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


SCANS_KEPT = 1024
"""Texts whose signs stay remembered per process: the webhook checks one text for several treatment
families and the worker checks it again before classifying; all of them read one scan."""


class _Scan:
    """What one text shows, whatever the treatment: whether it is a general question, and each sign group
    found in it (worked out when a rule first asks). Every family's and every day count's check shares it."""

    __slots__ = ("general", "text", "seen", "_found")

    def __init__(self, general: bool, text: str, found):
        self.general, self.text, self._found = general, text, found
        self.seen: dict[str, bool] = {}

    def has(self, group: str) -> bool:
        seen = self.seen.get(group)
        if seen is None:
            seen = self.seen[group] = self._found(group, self.text)
        return seen


class RedFlags:
    """The rules of one data file, compiled once."""

    def __init__(self, data: dict):
        self.lexicon = FuzzyLexicon(data["lexicon"]["words"], data["lexicon"]["protected"])
        self.negators = frozenset(data["negation"]["negators"])
        self.negation_skip = frozenset(data["negation"]["skip"])
        self.signs = {name: _compile(group["patterns"]) for name, group in data["signs"].items()}
        phrases = sorted(data.get("translations", {}).get("phrases", []), key=lambda pair: -len(pair[0]))
        self.translations = [tuple(pair) for pair in phrases]
        self.figures = _compile(data["figures"]["patterns"])
        self.question_openers = _compile(data["general_question"]["openers"])
        self.personal = _compile(data["general_question"]["personal"])
        self.hypothetical = _compile(data["general_question"]["hypothetical"])
        self.hearsay = _compile(data["general_question"]["hearsay"])
        not_now = data["not_now"]
        self.clause_split = re.compile(not_now["split"])
        self.resolved = _compile(not_now["resolved"])
        self.long_ago = _compile(not_now["long_ago"])
        self.elsewhere = _compile(not_now["elsewhere"])
        self.present = _compile(not_now["present"])
        self.others = _compile(not_now["others"])
        self.recent_past = _compile(not_now["recent_past"])
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
                max_days=r.get("max_days"),
            )
            for r in data["rule"]
        ]
        unknown = {g for r in self.rules for g in r.all + r.any + r.none} - set(self.signs)
        if unknown:
            raise ValueError(f"red-flag rules name unknown sign groups: {sorted(unknown)}")
        # Pure functions of the text, remembered: a text is canonicalised and scanned once, not per family.
        self._canonical = lru_cache(maxsize=SCANS_KEPT)(self._canonical_of)
        self._scan = lru_cache(maxsize=SCANS_KEPT)(self._scan_of)
        self._rules_for: dict[str, tuple[Rule, ...]] = {}

    def current(self, body: str) -> str:
        """The folded text of the clauses that tell of something happening now.

        Dropped: a clause that says a sign is over ("the droop never happened this time", "ya se me quitó"),
        and one that is long past or elsewhere ("last year at another place ...") with nothing in it about
        now. A friend's or a colleague's story ("my coworker fainted at the blood drive last week, she's fine
        now") is dropped whole unless something in it is about now.
        """
        folded = fold(body)
        over = bool(self.resolved.search(folded) or self.long_ago.search(folded) or self.elsewhere.search(folded))
        others = bool(self.others.search(folded))
        if not (over or others):
            return folded
        if (
            others
            and (over or self.recent_past.search(folded))
            and not self.present.search(self.recent_past.sub(" ", self.resolved.sub(" ", folded)))
        ):
            return ""
        kept = []
        for clause in self.clause_split.split(folded):
            if self.resolved.search(clause):
                continue
            if (self.long_ago.search(clause) or self.elsewhere.search(clause)) and not self.present.search(clause):
                continue
            kept.append(clause)
        return " , ".join(kept)

    def canonical(self, body: str) -> str:
        """Folded words of the clauses about now, typos corrected; laughing emoji become "lol"."""
        return self._canonical(body)

    def translated(self, body: str) -> str:
        """The text with its Chinese or Korean sign phrases put into the lexicon's words ([translations])."""
        if not _UNREAD_SCRIPT.search(body):
            return body
        for phrase, meaning in self.translations:
            if phrase in body:
                body = body.replace(phrase, meaning)
        return body

    def _canonical_of(self, body: str) -> str:
        text = " ".join(self.lexicon.lookup(w) for w in words(self.current(self.translated(body))))
        if set(emoji(body)) & _LAUGHTER:
            text += " lol"
        return text

    def _negated(self, text: str, start: int) -> bool:
        before = text[:start].split()[-3:]
        for i, word in enumerate(before):
            if word in self.negators:
                # "not sure ...", "no school today": the negator is about the next word, which may be the sign's own
                nxt = before[i + 1] if i + 1 < len(before) else (text[start:].split() or [""])[0]
                if nxt not in self.negation_skip:
                    return True
        return False

    def found(self, group: str, text: str) -> bool:
        """Whether a sign of the group is in the text and not negated."""
        return any(not self._negated(text, m.start()) for m in self.signs[group].finditer(text))

    def names_the_body(self, body: str) -> bool:
        """Whether the text names any body part or sign at all (the "bodily" group, negated or not)."""
        return self.signs["bodily"].search(self.canonical(body) or fold(body)) is not None

    def general_question(self, body: str, text: str) -> bool:
        """A question about risk that names no one: "can filler block a blood vessel?"."""
        if "?" not in body:
            return False
        # "my coworker said it can", "asking for a friend": where the question came from names no one.
        if self.question_openers.search(text) and not self.personal.search(self.hearsay.sub(" ", text)):
            return True
        # "what should I do if I ever notice blurry vision? just so I know": asked ahead, of nothing happening.
        return bool(self.hypothetical.search(text)) and not self.present.search(fold(body))

    def _scan_of(self, body: str, text: str) -> _Scan:
        return _Scan(self.general_question(body, text), self.figures.sub(" ", text), self.found)

    def check(self, body: str, treatment_family: str, days: int | None = None, text: str | None = None) -> Flag | None:
        """The first rule that holds for this text after this treatment family, or None."""
        scan = self._scan(body, self.canonical(body) if text is None else text)
        if scan.general:
            return None
        rules = self._rules_for.get(treatment_family)
        if rules is None:
            rules = self._rules_for[treatment_family] = tuple(r for r in self.rules if r.applies_to(treatment_family))
        has = scan.has
        for rule in rules:
            if rule.min_days is not None and (days is None or days < rule.min_days):
                continue
            if rule.max_days is not None and days is not None and days > rule.max_days:
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
