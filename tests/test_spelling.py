"""Typos put right before the guards read a text: every word the rules name is a correction target, and the
real words one typo away from one are left alone (bot/understanding/data/spelling.toml, built by
scripts/build_spelling.py)."""

from __future__ import annotations

import importlib.util
import random
import tomllib
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.understanding import guards, redflags
from bot.understanding.classifier import classify
from bot.understanding.textnorm import FuzzyLexicon, edit_distance

ROOT = Path(__file__).resolve().parent.parent
CHECK_IN = "Hi! Checking in after your visit. How are you feeling?"


def decide(body: str, treatment: str = "lip_filler", days: int = 1):
    return classify(body, {"treatment": treatment, "days_since_visit": days, "last_outbound": CHECK_IN}, Settings())


def _builder():
    spec = importlib.util.spec_from_file_location("build_spelling", ROOT / "scripts" / "build_spelling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _brute_force(lexicon: FuzzyLexicon, token: str) -> str:
    """The lookup as a scan over every lexicon word, for comparison with the index."""
    if token in lexicon.lexicon or token in lexicon.protected or len(token) < 5 or token.isdigit():
        return token
    limit = 2 if len(token) >= 9 else 1
    near = {w: edit_distance(token, w, limit) for w in lexicon.lexicon if len(w) >= 5 and w[0] == token[0]}
    best = min(near.values(), default=limit + 1)
    if best > limit:
        return token
    closest = [w for w, d in near.items() if d == best]
    return closest[0] if len(closest) == 1 else token


def test_the_deletion_index_finds_what_a_scan_of_the_whole_lexicon_finds():
    lexicon = redflags.shipped().lexicon
    rng = random.Random(7)
    words = sorted(w for w in lexicon.lexicon if len(w) >= 5)
    tokens = []
    for word in rng.sample(words, 300):
        i = rng.randrange(1, len(word))
        tokens += [word[:i] + word[i + 1 :], word[:i] + "x" + word[i:], word[:i] + word[i] + word[i:]]
        if i + 1 < len(word):
            tokens.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
        tokens.append(word[:i] + "qz" + word[i + 1 :])  # two edits: corrected only from nine letters
    for token in tokens:
        assert lexicon.lookup(token) == _brute_force(lexicon, token), token


def test_every_word_the_rules_name_is_a_correction_target():
    # The shipped file must be rebuilt when a rule gains a word: this fails until it is.
    spelling = tomllib.loads((ROOT / "bot" / "understanding" / "data" / "spelling.toml").read_text(encoding="utf-8"))
    rules = tomllib.loads((ROOT / "bot" / "understanding" / "data" / "redflags.toml").read_text(encoding="utf-8"))
    named, _ = _builder().rule_words()
    missing = named - set(spelling["words"]) - set(rules["lexicon"]["words"])
    assert not missing, f"run scripts/build_spelling.py: {sorted(missing)[:20]}"


@pytest.mark.parametrize(
    "real, near",
    [("horse", "hoarse"), ("remote", "remove"), ("while", "white"), ("burry", "blurry"), ("cheap", "cheek")],
)
def test_a_real_word_one_typo_from_a_rule_word_is_left_alone(real, near):
    lexicon = redflags.shipped().lexicon
    assert near in lexicon.lexicon and edit_distance(real, near, 2) <= 2
    assert lexicon.lookup(real) == real


@pytest.mark.parametrize(
    "body",
    [
        "my throat is clossing up and i feel dizzy",  # closing
        "se me está hinchando la lengua y me siento mareadda",  # mareada
        "both my eyelids r dropoing and i keep choking on water",  # drooping
        "advil isnt touhcing the pain in my lip and its getting worse",  # touching
        "me cuesa tragar hasta el agua desde ayer",  # cuesta
    ],
)
def test_a_typo_does_not_hide_an_emergency(body):
    decision = decide(body, treatment="botox" if "eyelid" in body or "tragar" in body else "lip_filler")
    assert (decision.intent, decision.urgency) == ("side_effect_concern", "emergency"), decision.rationale


@pytest.mark.parametrize(
    "body",
    [
        "stop textiing me",
        "unsbuscribe me pls",
        "No gracias. Eliminen mi numeor.",
        "ya no quiero reicbir nada de ustedes",
        "I would appreciate it if you would cease cntacting me by text.",
    ],
)
def test_a_typo_does_not_hide_an_opt_out(body):
    guard = guards.check(body)
    assert guard is not None and guard.intent == "opt_out", body


@pytest.mark.parametrize(
    "body",
    [
        "stop textingg and come eat, your food is getting cold",
        "stop texting me duuring the movie 😂",
        "I nearyl fainted when I saw the price of eggs",
        "I'm choking on my coffee readding this",
        "can't swalolw these huge vitamins lol",
    ],
)
def test_a_typo_does_not_hide_what_makes_a_text_no_alarm(body):
    decision = decide(body, treatment=None, days=None)
    assert decision.intent != "opt_out" and decision.urgency not in ("urgent", "emergency"), decision.rationale


def test_the_typo_free_reading_of_a_correct_text_is_unchanged():
    body = "My lip is swollen and a little bruised, is that normal?"
    assert redflags.shipped().canonical(body) == "my lip is swollen and a little bruised is that normal"
