"""Text normalisation shared by the guards and the local classifier.

Patients type fast on phones: accents dropped or added, letters doubled
("sooo"), curly quotes, emoji, typos. Everything that matches words folds the
text the same way first, so a rule written once for "hinchazón" also catches
"hinchazon" and "HINCHAZON".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "..."}
    # letters that carry no separate accent, so NFKD keeps them: Vietnamese "đau" is "dau", Polish "ł" is "l"
    | {"\u0111": "d", "\u0110": "D", "\u0142": "l", "\u0141": "L", "\u00f8": "o", "\u00d8": "O", "\u00df": "ss"}
)
_REPEATS = re.compile(r"(.)\1{2,}")
_APOSTROPHE = re.compile(r"(?<=[a-z])'(?=[a-z])")
_WORD = re.compile(r"[a-z0-9]+")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b00-\u2bff]")


@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    text = text.translate(_QUOTES)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = stripped.lower()
    lowered = _REPEATS.sub(r"\1\1", lowered)
    return _APOSTROPHE.sub("", lowered)


def fold(text: str) -> str:
    """Lower case, accents removed, curly quotes straightened, "sooo" -> "soo", "don't" -> "dont"."""
    # One reply is folded a dozen times by the guards and the model's features: folded once, then remembered.
    return _fold(text or "")


def words(text: str) -> list[str]:
    """The folded text's words (letters and digits only)."""
    return _WORD.findall(fold(text))


def emoji(text: str) -> list[str]:
    """Emoji characters in the raw text, in order."""
    return _EMOJI.findall(text or "")


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            best = min(best, cur[j])
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _deletions(word: str, depth: int) -> set[str]:
    """The word and every string made from it by deleting up to `depth` letters."""
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class FuzzyLexicon:
    """Maps a typed word to the lexicon word it most likely meant.

    Short words must match exactly: at four letters one typo turns "blue" into
    "glue". Longer words allow one edit (two from nine letters) and must keep
    their first letter, which people rarely get wrong. Words in
    `protected` are real words that sit one edit away from a lexicon word
    ("while" / "white") and are never corrected.
    """

    def __init__(self, lexicon, protected=()):
        self.lexicon = frozenset(lexicon)
        self.protected = frozenset(protected)
        # Symmetric-delete index: every lexicon word under each string one (two, for words of seven letters
        # and more) deletions away. A typed word finds its candidates through its own deletions, so a lookup
        # costs a few dozen dictionary probes however large the lexicon grows.
        # Tuples, not sets: most variants lead to one word, and a tuple of one takes a fifth of a set's memory in
        # every web and worker process.
        self._index: dict[str, tuple[str, ...]] = {}
        for word in sorted(self.lexicon):
            if len(word) < 5:
                continue
            for variant in _deletions(word, 2 if len(word) >= 7 else 1):
                self._index[variant] = self._index.get(variant, ()) + (word,)
        self.lookup = lru_cache(maxsize=20000)(self._lookup)

    def _lookup(self, token: str) -> str:
        if token in self.lexicon or token in self.protected or len(token) < 5 or token.isdigit():
            return token
        limit = 2 if len(token) >= 9 else 1
        candidates: set[str] = set()
        for variant in _deletions(token, limit):
            candidates.update(self._index.get(variant, ()))
        best, best_d, tied = token, limit + 1, False
        for word in sorted(candidates):
            if word[0] != token[0]:
                continue
            d = edit_distance(token, word, limit)
            if d < best_d:
                best, best_d, tied = word, d, False
            elif d == best_d and word != best:
                tied = True
        # Two lexicon words equally near ("screaming": "streaking" or "speaking"): no way to tell which was meant.
        return token if tied else best

    def canonical(self, text: str) -> str:
        """The folded text with each word replaced by its lexicon spelling, joined by single spaces."""
        return " ".join(self.lookup(w) for w in words(text))
