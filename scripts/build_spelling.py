"""Write bot/understanding/data/spelling.toml: the words a typo is corrected to, and the real words never touched.

The guards match words: a red flag's signs (bot/understanding/data/redflags.toml) and the free-text opt-outs
(bot/understanding/guards.py). A patient who types "clossing", "mareadda" or "textiing" means a word a rule
names, so every whole word the rules name becomes a correction target. A real word one typo away from such a
word ("horse" beside "hoarse", "remote" beside "remove") is a word someone meant, so it is protected.

What counts as a real word comes from word frequency lists (the `wordfreq` package, English, Spanish,
Portuguese, French and Filipino), a development tool only: the generated file is shipped and read at run time
with no new dependency. Run it after changing a rule:

    pip install wordfreq && python scripts/build_spelling.py
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.understanding import guards
from bot.understanding.textnorm import edit_distance

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "bot" / "understanding" / "data" / "redflags.toml"
OUT = ROOT / "bot" / "understanding" / "data" / "spelling.toml"

LANGUAGES = ("en", "es", "pt", "fr", "fil")
STEM_LANGUAGES = ("en", "es")
"""The languages whose words a stem of five letters or more stands for ("swell\\w*": swelled, swelling...)."""
PROTECT_ZIPF = 2.0
"""A real word this common, one typo from a target, is protected (about once in ten million words)."""
REAL_WORDS_PER_LANGUAGE = 150_000


_SUFFIXED = re.compile(r"(?<![\\a-z])([a-z]+)\(\?:([a-z|]+)\)(\??)")
"""A word with a group of endings: "throb(?:bing|s)?" names throb, throbbing and throbs."""
_STEM = re.compile(r"(?<![\\a-z])([a-z]{5,})\\w[*+]")
"""A stem: "bruis\\w*" names every word that starts so (bruise, bruised, bruising)."""


def _pattern_words(pattern: str) -> tuple[set[str], set[str]]:
    """The whole words a pattern names, and its stems."""
    found = {base + end for base, ends, _ in _SUFFIXED.findall(pattern) for end in ends.split("|")}
    found |= {base for base, _, optional in _SUFFIXED.findall(pattern) if optional}
    # Escapes (\b, \s...) become spaces and a stem's \w* a mark; a literal word is a run of letters that is
    # not part of a stem, an alternation or a character class ("morad[oa]" names no "morad").
    cleaned = re.sub(r"\\w[*+]", "~", pattern)
    cleaned = re.sub(r"\\[a-zA-Z]", " ", cleaned)
    found |= set(re.findall(r"(?<![a-z\])~])([a-z]{5,})(?![a-z~\[(])", cleaned))
    return {w for w in found if len(w) >= 5}, set(_STEM.findall(pattern))


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def rule_words() -> tuple[set[str], set[str]]:
    data = tomllib.loads(RULES.read_text(encoding="utf-8"))
    # Every pattern in the rules file (signs, figures of speech, general questions, what is over or elsewhere,
    # negators): a typo must not hide an exception any more than a sign.
    patterns = [
        text for key, value in data.items() if key not in ("lexicon", "translations") for text in _strings(value)
    ]
    patterns += guards.spelled_patterns()
    found: set[str] = set()
    stems: set[str] = set()
    for pattern in patterns:
        words, its_stems = _pattern_words(pattern)
        found |= words
        stems |= its_stems
    return found, stems


def _real_words(lang: str) -> list[str]:
    """A language's words of five letters and more, at least PROTECT_ZIPF common, plain letters only."""
    import wordfreq  # a development tool: the tests read this script's rule words without it

    kept = []
    for word in wordfreq.top_n_list(lang, REAL_WORDS_PER_LANGUAGE):
        if wordfreq.zipf_frequency(word, lang) < PROTECT_ZIPF:
            break  # the list is in frequency order
        if len(word) >= 5 and word.isascii() and word.isalpha():
            kept.append(word)
    return kept


def build() -> tuple[list[str], list[str]]:
    data = tomllib.loads(RULES.read_text(encoding="utf-8"))
    reviewed = set(data["lexicon"]["words"])
    words, stems = rule_words()
    targets = words | reviewed
    real = {lang: _real_words(lang) for lang in LANGUAGES}
    for lang in STEM_LANGUAGES:
        targets |= {w for w in real[lang] if any(w.startswith(stem) for stem in stems if w[:5] == stem[:5])}
    by_first: dict[str, list[str]] = {}
    for word in targets:
        by_first.setdefault(word[0], []).append(word)
    protected: set[str] = set()
    for lang_words in real.values():
        for word in lang_words:
            if word in targets:
                continue
            limit = 2 if len(word) >= 9 else 1
            if any(
                abs(len(t) - len(word)) <= limit and edit_distance(word, t, limit) <= limit
                for t in by_first.get(word[0], ())
            ):
                protected.add(word)
    return sorted(targets - reviewed), sorted(protected)


def main() -> None:
    words, protected = build()

    def listing(items: list[str]) -> str:
        lines, line = [], "  "
        for item in items:
            piece = f'"{item}", '
            if len(line) + len(piece) > 110:
                lines.append(line.rstrip())
                line = "  "
            line += piece
        lines.append(line.rstrip())
        return "\n".join(lines)

    OUT.write_text(
        "# Generated by scripts/build_spelling.py from the rules' own words: do not edit by hand.\n"
        "# words: what a typo is corrected to, besides redflags.toml's reviewed [lexicon];\n"
        "# protected: real words (English, Spanish, Portuguese, French, Filipino) one typo from one of those.\n"
        f"words = [\n{listing(words)}\n]\n\nprotected = [\n{listing(protected)}\n]\n",
        encoding="utf-8",
    )
    print(f"{OUT.relative_to(ROOT)}: {len(words)} words, {len(protected)} protected")


if __name__ == "__main__":
    main()
