"""GSM-7 normalisation and honest segment counts."""

from __future__ import annotations

from bot.messaging import segments


def test_curly_quotes_dashes_and_ellipsis_become_gsm7():
    text = "It\u2019s \u201cfine\u201d \u2014 really\u2026\u00a0ok"
    normalized = segments.normalize(text)
    assert normalized == 'It\'s "fine" - really... ok'
    assert segments.is_gsm7(normalized)


def test_gsm7_single_and_split_segments():
    assert segments.count("a" * 160) == segments.SegmentCount(1, "GSM-7", 160)
    assert segments.count("a" * 161).segments == 2
    assert segments.count("a" * 306).segments == 2
    assert segments.count("a" * 307).segments == 3


def test_extension_characters_cost_two_septets():
    assert segments.count("€" * 80).segments == 1
    assert segments.count("€" * 81).segments == 2


def test_one_emoji_turns_the_text_into_ucs2():
    assert segments.count("a" * 69 + "😊").encoding == "UCS-2"
    assert segments.count("a" * 68 + "😊") == segments.SegmentCount(1, "UCS-2", 70)
    assert segments.count("a" * 70 + "😊").segments == 2


def test_spanish_acute_vowels_are_folded_unless_asked_to_keep_them():
    text = "Hola Ana, ¿cómo estás? Mañana está bien. ¡Gracias!"
    assert segments.offending(text) == ["ó", "á"]
    folded = segments.normalize(text)
    assert folded == "Hola Ana, ¿como estas? Mañana esta bien. ¡Gracias!"
    assert segments.count(folded).encoding == "GSM-7"  # ñ ¿ ¡ are GSM-7
    kept = segments.normalize(text, fold_accents=False)
    assert segments.count(kept).encoding == "UCS-2"


def test_ucs2_split_at_67():
    assert segments.count("á" * 70).segments == 1
    assert segments.count("á" * 71).segments == 2
    assert segments.count("á" * 134).segments == 2
    assert segments.count("á" * 135).segments == 3
