"""Aftercare texts for routine side effects: which sign a text reports, and the practice's approved text for it.

The texts are data: care_texts.toml, overridden by AFTERCARE_CARE_TEXTS_FILE, then by the practice's own
wording from its settings page (`Practice.care_texts`, keyed as `key_of` says). Each text is checked the same
way wherever it comes from (`checked`): it says when to call, and fits two segments. Which of them the
medical director signed off is bot.conversation.care_signoff's business. Matching is deterministic: keyword families per sign in English and Spanish, on the
folded text, with one typo allowed in longer words; the first sign that matches (in file order) wins, and
its text for the visit's treatment category, else its default, else the general text.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bot.errors import ConfigError
from bot.messaging import segments
from bot.touches import composer
from bot.understanding.textnorm import edit_distance, fold, words

CARE_TEXTS_FILE = resources.files("bot.conversation") / "care_texts.toml"
"""The shipped aftercare texts (the default of every practice, sent once its medical director signs them off)."""

LANGUAGES = ("en", "es")
"""Every text is written in both."""

FUZZY_MIN = 6
"""Keywords (or stems) at least this long also match a word one typo away that starts with the same two
letters ("brusing", "sweling"); shorter ones only as written ("swell" is one typo from "smell")."""

GENERAL = "general"
"""The text for a sign not matched, or a sign without a text for the treatment."""

RECENT_DAYS = 14
"""How long after a visit its aftercare texts apply: they describe the usual first two weeks ("expected for
a few days", "settles over 1-2 weeks"); a sign reported later gets the generic reply and a clinician's read."""

PLACEHOLDERS = frozenset(composer.PLACEHOLDERS) - {"visit_time"}
"""What a care text may fill in (a reply has no visit of its own to give a time of)."""

NUMBERS = ("{emergency_line}", "{practice_phone}")
"""A care text names one of these: the number to call."""

CALL_WORDS = {"en": ("call",), "es": ("llam",)}
"""...and tells the patient to call it, in its own language ("Call", "llama", "llámanos"), on the folded text."""


@dataclass(frozen=True)
class Sign:
    """One family of words ("bruis*", "moretón") and its texts per treatment category ("default" for the rest)."""

    name: str
    words: tuple[str, ...]
    texts: dict[str, dict[str, str]]


@dataclass(frozen=True)
class CareTexts:
    """A practice's aftercare texts: per sign and treatment category, and the general one."""

    signs: tuple[Sign, ...]
    general: dict[str, str]

    def entries(self) -> dict[str, dict[str, str]]:
        """Every text by its key ("bruising.filler", ..., "general"), in file order."""
        found = {key_of(sign.name, variant): dict(text) for sign in self.signs for variant, text in sign.texts.items()}
        found[GENERAL] = dict(self.general)
        return found

    def with_own(self, own: dict) -> CareTexts:
        """These texts with the practice's own wording (key -> {language: text}) put in; unknown keys are
        left out (a sign the file no longer has), a language not rewritten keeps the file's text."""
        signs = tuple(
            replace(
                sign,
                texts={
                    variant: {**text, **(own.get(key_of(sign.name, variant)) or {})}
                    for variant, text in sign.texts.items()
                },
            )
            for sign in self.signs
        )
        return CareTexts(signs, {**self.general, **(own.get(GENERAL) or {})})


@dataclass(frozen=True)
class CareText:
    """The text chosen for one report: which sign and which category's text it is, and the template."""

    sign: str
    variant: str
    templates: dict[str, str]

    @property
    def key(self) -> str:
        return key_of(self.sign, self.variant)


def key_of(sign: str, variant: str) -> str:
    """Where a text is kept: "sign.variant", or "general" for the general text."""
    return GENERAL if variant == GENERAL else f"{sign}.{variant}"


def digest(entries: dict[str, dict[str, str]]) -> str:
    """The SHA-256 of exactly these texts (canonical JSON: keys sorted, accents kept), as a sign-off keeps it."""
    canonical = json.dumps(entries, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checked(where: str, language: str, text: str) -> str:
    """One care text, its spaces tidied; ConfigError naming `where` and the reason when it cannot be sent:
    empty, a placeholder that does not exist, no number to call ({emergency_line} or {practice_phone}) or
    no word telling the patient to call it, or more than two segments with long names filled in, accents
    folded (GSM-7) or kept (UCS-2), so it fits in whichever encoding it is sent."""
    where = f"{where} ({language})"
    if language not in LANGUAGES:
        raise ConfigError(f"{where}: unsupported language (expected {', '.join(LANGUAGES)})")
    template = " ".join((text or "").split())
    if not template:
        raise ConfigError(f"{where}: the text must not be empty")
    try:
        composer.checked_fields(template, PLACEHOLDERS)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    if not any(number in template for number in NUMBERS):
        raise ConfigError(f"{where}: must say which number to call, with {' or '.join(NUMBERS)}")
    if not any(word in fold(template) for word in CALL_WORDS[language]):
        said = " or ".join(f'"{word}..."' for word in CALL_WORDS[language])
        raise ConfigError(f"{where}: must tell the patient when to call ({said})")
    body = template.format_map(composer.SAMPLE_LONG)
    for fold_accents in (True, False):
        counted = segments.count(segments.normalize(body, fold_accents=fold_accents))
        if counted.segments > composer.MAX_SEGMENTS:
            raise ConfigError(
                f"{where}: {counted.segments} segments ({counted.encoding}, {len(body)} characters) with long "
                f"names filled in; the limit is {composer.MAX_SEGMENTS}"
            )
    return template


def parse(data: dict, source: str) -> CareTexts:
    """The texts in a TOML document; ConfigError naming `source` and the entry when one is incomplete."""
    signs = []
    for name, entry in (data.get("signs") or {}).items():
        keywords = entry.get("words")
        if not isinstance(keywords, list) or not keywords or not all(isinstance(w, str) and w for w in keywords):
            raise ConfigError(f"{source}: signs.{name}.words must be a list of words")
        texts = {
            variant: _check(text, f"{source}: signs.{name}.{variant}")
            for variant, text in entry.items()
            if variant != "words"
        }
        signs.append(Sign(name, tuple(fold(w).strip() for w in keywords), texts))
    general = _check(data.get("general") or {}, f"{source}: general")
    return CareTexts(tuple(signs), general)


def _check(text, where: str) -> dict[str, str]:
    if not isinstance(text, dict) or any(not isinstance(text.get(lang), str) or not text[lang] for lang in LANGUAGES):
        raise ConfigError(f"{where}: needs an 'en' and an 'es' text")
    return {language: checked(where, language, text[language]) for language in LANGUAGES}


def merge(base: dict, override: dict) -> dict:
    """`override`'s signs and general text replace `base`'s (a sign's texts merge per category)."""
    merged = {**base, "signs": {name: dict(entry) for name, entry in (base.get("signs") or {}).items()}}
    if "general" in override:
        merged["general"] = override["general"]
    for name, entry in (override.get("signs") or {}).items():
        merged["signs"][name] = {**merged["signs"].get(name, {}), **entry}
    return merged


@lru_cache(maxsize=8)
def _documents(path: str | None) -> tuple[dict, dict]:
    """(shipped defaults, the override file or {}), read once per path."""
    with CARE_TEXTS_FILE.open("rb") as handle:
        shipped = tomllib.load(handle)
    if not path:
        return shipped, {}
    try:
        with Path(path).open("rb") as handle:
            return shipped, tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"AFTERCARE_CARE_TEXTS_FILE: {error}") from error


def care_texts(path: Path | None = None, practice_slug: str | None = None) -> CareTexts:
    """The texts for a practice: the shipped ones, then the override file's, then its [practices.<slug>] table."""
    shipped, override = _documents(str(path) if path else None)
    data = merge(shipped, {k: v for k, v in override.items() if k != "practices"})
    per_practice = (override.get("practices") or {}).get(practice_slug or "")
    if per_practice:
        data = merge(data, per_practice)
    return parse(data, str(path) if path else "care_texts.toml")


def sign_of(texts: CareTexts, body: str) -> str | None:
    """The first sign (in file order) whose words the text uses, else None."""
    folded = fold(body)
    tokens = words(body)
    for sign in texts.signs:
        if any(_matches(keyword, folded, tokens) for keyword in sign.words):
            return sign.name
    return None


def _matches(keyword: str, folded: str, tokens: list[str]) -> bool:
    stem = keyword.endswith("*")
    keyword = keyword.rstrip("*")
    if " " in keyword:  # a phrase: as written, on word boundaries
        return re.search(rf"\b{re.escape(keyword)}" + ("" if stem else r"\b"), folded) is not None
    for token in tokens:
        if stem:
            if token.startswith(keyword):
                return True
            if _one_typo(token[: len(keyword)], keyword):
                return True
        elif token == keyword or _one_typo(token, keyword):
            return True
    return False


def _one_typo(token: str, keyword: str) -> bool:
    return len(keyword) >= FUZZY_MIN and token[:2] == keyword[:2] and edit_distance(token, keyword, 1) <= 1


def choose(texts: CareTexts, body: str, category: str | None) -> CareText:
    """The text for this report after a visit of `category`: the sign's own for it, its default, or general."""
    name = sign_of(texts, body)
    sign = next((s for s in texts.signs if s.name == name), None)
    if sign is not None:
        for variant in (category, "default"):
            if variant and variant in sign.texts:
                return CareText(sign.name, variant, sign.texts[variant])
    return CareText(name or GENERAL, GENERAL, texts.general)
