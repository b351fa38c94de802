"""Aftercare texts for routine side effects: which sign a text reports, and the practice's approved text for it.

The texts are data (care_texts.toml, overridden by AFTERCARE_CARE_TEXTS_FILE) that the practice's medical
director signs off. Matching is deterministic: keyword families per sign in English and Spanish, on the
folded text, with one typo allowed in longer words; the first sign that matches (in file order) wins, and
its text for the visit's treatment category, else its default, else the general text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bot.errors import ConfigError
from bot.understanding.textnorm import edit_distance, fold, words

CARE_TEXTS_FILE = resources.files("bot.conversation") / "care_texts.toml"
"""The shipped aftercare texts (unsigned: each practice's medical director signs off their own file)."""

LANGUAGES = ("en", "es")
"""Every text is written in both."""

FUZZY_MIN = 6
"""Keywords (or stems) at least this long also match a word one typo away that starts with the same two
letters ("brusing", "sweling"); shorter ones only as written ("swell" is one typo from "smell")."""

GENERAL = "general"
"""The text for a sign not matched, or a sign without a text for the treatment."""


@dataclass(frozen=True)
class Sign:
    """One family of words ("bruis*", "moretón") and its texts per treatment category ("default" for the rest)."""

    name: str
    words: tuple[str, ...]
    texts: dict[str, dict[str, str]]


@dataclass(frozen=True)
class CareTexts:
    """A practice's aftercare texts and who signed them off."""

    signs: tuple[Sign, ...]
    general: dict[str, str]
    signed_off_by: str
    reviewed: str

    @property
    def signed_off(self) -> bool:
        return bool(self.signed_off_by.strip() and self.reviewed.strip())


@dataclass(frozen=True)
class CareText:
    """The text chosen for one report: which sign and which category's text it is, and the template."""

    sign: str
    variant: str
    templates: dict[str, str]


def parse(data: dict, source: str) -> CareTexts:
    """The texts in a TOML document; ConfigError naming `source` and the entry when one is incomplete."""
    signs = []
    for name, entry in (data.get("signs") or {}).items():
        keywords = entry.get("words")
        if not isinstance(keywords, list) or not keywords or not all(isinstance(w, str) and w for w in keywords):
            raise ConfigError(f"{source}: signs.{name}.words must be a list of words")
        texts = {key: value for key, value in entry.items() if key != "words"}
        for variant, text in texts.items():
            _check(text, f"{source}: signs.{name}.{variant}")
        signs.append(Sign(name, tuple(fold(w).strip() for w in keywords), texts))
    general = data.get("general") or {}
    _check(general, f"{source}: general")
    return CareTexts(tuple(signs), general, str(data.get("signed_off_by") or ""), str(data.get("reviewed") or ""))


def _check(text, where: str) -> None:
    if not isinstance(text, dict) or any(not isinstance(text.get(lang), str) or not text[lang] for lang in LANGUAGES):
        raise ConfigError(f"{where}: needs an 'en' and an 'es' text")


def merge(base: dict, override: dict) -> dict:
    """`override`'s signs, general text and sign-off replace `base`'s (a sign's texts merge per category)."""
    merged = {**base, "signs": {name: dict(entry) for name, entry in (base.get("signs") or {}).items()}}
    for key in ("signed_off_by", "reviewed", "general"):
        if key in override:
            merged[key] = override[key]
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
