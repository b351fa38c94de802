"""Robustness of the safety calls under the ways patients actually type.

Takes labeled files, and for every emergency and every opt-out line makes variants that keep the meaning:
a typo in one long word (a letter dropped, doubled or swapped), all accents dropped, all upper case, a
relative writing for the patient, a time word added, the text run on after a greeting. A variant that loses
what its original was called (an emergency read as less, an opt-out that no longer opts out) is listed.
With --negatives it checks the other way: lines that are neither an opt-out nor a page (everyday texts, praise,
questions) must stay so when typed with the same slips. Every variant is drawn from a seeded generator, so a
run is repeatable.

    python scripts/perturb_eval.py data/holdout/round8.jsonl [more files] [--seed 1] [--show 40]
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata

from bot.settings import Settings
from bot.understanding.classifier import classify

PREFIXES_EN = ["hi its her husband, ", "this is my moms phone, ", "hey so ", "sorry to bother u but ", "ok um "]
PREFIXES_ES = ["hola soy su esposo, ", "buenas, le escribo por mi mamá, ", "oye ", "perdón la molestia pero ", "hola "]
SUFFIXES_EN = [" since last night", " for like 2 hours now", " !!", " pls help", " what do i do"]
SUFFIXES_ES = [" desde anoche", " desde hace 2 horas", " !!", " ayuda porfa", " que hago"]


def _typo(text: str, rng: random.Random) -> str:
    tokens = text.split(" ")
    long_ones = [i for i, t in enumerate(tokens) if sum(c.isalpha() for c in t) >= 6]
    if not long_ones:
        return text
    i = rng.choice(long_ones)
    word = tokens[i]
    letters = [j for j, c in enumerate(word) if c.isalpha()][1:]  # keep the first letter
    if not letters:
        return text
    j = rng.choice(letters)
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        word = word[:j] + word[j + 1 :]
    elif kind == "double":
        word = word[:j] + word[j] + word[j:]
    elif j + 1 < len(word) and word[j + 1].isalpha():
        word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    tokens[i] = word
    return " ".join(tokens)


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def variants(row: dict, rng: random.Random) -> list[tuple[str, str]]:
    body = row["body"]
    spanish = row.get("lang") == "es"
    out = [("typo", _typo(body, rng)), ("typo2", _typo(_typo(body, rng), rng)), ("upper", body.upper())]
    if _unaccented(body) != body:
        out.append(("unaccented", _unaccented(body)))
    if row["intent"] != "opt_out":
        prefix = rng.choice(PREFIXES_ES if spanish else PREFIXES_EN)
        out.append(("relative", prefix + body[0].lower() + body[1:]))
        out.append(("time", body.rstrip(" .!?") + rng.choice(SUFFIXES_ES if spanish else SUFFIXES_EN)))
    return [(kind, text) for kind, text in out if text != body]


def _alarm(decision) -> bool:
    return decision.intent == "opt_out" or decision.urgency in ("urgent", "emergency")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=40, help="how many lost variants to list")
    parser.add_argument("--negatives", action="store_true", help="check that no page or opt-out appears instead")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings = Settings()
    tried = lost = 0
    by_kind: dict[str, list[int]] = {}
    shown = []
    for path in args.files:
        with open(path, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        for row in rows:
            emergency = row.get("urgency") == "emergency"
            quiet = row["intent"] != "opt_out" and row.get("urgency") in ("none", "routine")
            if not (quiet if args.negatives else (emergency or row["intent"] == "opt_out")):
                continue
            ctx = dict(row.get("context") or {})
            base = classify(row["body"], ctx, settings)
            if args.negatives:
                if _alarm(base):
                    continue
            elif (emergency and base.urgency != "emergency") or (not emergency and base.intent != "opt_out"):
                continue  # already missed as written: eval --mistakes lists it
            for kind, text in variants(row, rng):
                got = classify(text, dict(ctx), settings)
                if args.negatives:
                    ok = not _alarm(got)
                else:
                    ok = got.urgency == "emergency" if emergency else got.intent == "opt_out"
                counts = by_kind.setdefault(kind, [0, 0])
                counts[0] += 1
                tried += 1
                if not ok:
                    counts[1] += 1
                    lost += 1
                    if len(shown) < args.show:
                        shown.append(f"  {row['id']:<9} {kind:<10} -> {got.intent}/{got.urgency}  {text}")
    print(f"variants {tried}  kept {tried - lost}  lost {lost}  ({lost / tried if tried else 0:.1%})")
    for kind, (n, bad) in sorted(by_kind.items()):
        print(f"  {kind:<10} {n:>5} tried  {bad:>4} lost")
    if shown:
        print("lost:")
        print("\n".join(shown))


if __name__ == "__main__":
    main()
