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


def test_fit_keeps_accents_unless_gsm_only_or_past_two_segments():
    text = "Hola Ana, ¿cómo estás? Tu próxima cita “es mañana” 😊"
    kept = segments.fit(text)
    assert kept.body == 'Hola Ana, ¿cómo estás? Tu próxima cita "es mañana" 😊'  # look-alikes only
    assert (kept.encoding, kept.segments, kept.folded) == ("UCS-2", 1, None)
    gsm = segments.fit(text, gsm_only=True)
    assert gsm.body == 'Hola Ana, ¿como estas? Tu proxima cita "es mañana"'  # ñ ¿ are GSM-7; the emoji has no twin
    assert (gsm.encoding, gsm.segments, gsm.folded) == ("GSM-7", 1, segments.GSM_ONLY)
    assert segments.to_gsm7("Ça coûte 5 ¥, naïve ā") == "Ça coute 5 ¥, naive a"  # Ç and ¥ are GSM-7
    # 140 characters with accents are three UCS-2 segments: the sender folds them into one GSM-7 segment.
    long = "á" * 140
    assert segments.count(long).segments == 3
    assert segments.fit(long) == segments.Fitted("a" * 140, 1, "GSM-7", segments.TOO_LONG)
    assert segments.fit("á" * 134) == segments.Fitted("á" * 134, 2, "UCS-2", None)  # two segments: kept
    # An emoji cannot be folded: a text that stays UCS-2 either way keeps its accents.
    assert segments.fit("😊" + "á" * 140).folded is None
