"""Rendering touches: values filled in the text's language, GSM-7 kept where possible."""
from __future__ import annotations

from bot import composer
from store.models import Patient, Practice, Service


def test_spanish_text_gets_spanish_fallbacks_and_booking_hint():
    practice = Practice(name="Glow", slug="glow", phone="(512) 555-0100")
    patient = Patient(practice_id=1, phone="+15125550143", first_name="Ana", language="es")
    context = composer.context_for(practice, patient, None, None, "es")
    assert context["booking_hint"] == "responde aqui o llama al (512) 555-0100"
    assert (context["treatment"], context["provider"]) == ("tu tratamiento", "tu especialista")
    english = composer.context_for(practice, patient, Service(practice_id=1, code="B", name="Botox", category="neuromodulator"))
    assert english["booking_hint"] == "reply here or call (512) 555-0100" and english["treatment"] == "Botox"


def test_render_folds_to_gsm7_and_counts_segments():
    rendered = composer.render("Hola {first_name}, ¿cómo estás? Una reseña “rápida”…", {"first_name": "Ana"})
    assert rendered.body == 'Hola Ana, ¿como estas? Una reseña "rapida"...'
    assert (rendered.segments, rendered.encoding) == (1, "GSM-7")


def test_complication_texts_point_at_the_emergency_line():
    practice = Practice(name="Glow", slug="glow", phone="(512) 555-0100", emergency_line="(512) 555-0199")
    patient = Patient(practice_id=1, phone="+15125550143", first_name="Ana")
    assert composer.context_for(practice, patient)["emergency_line"] == "(512) 555-0199"
    practice.emergency_line = None
    assert composer.context_for(practice, patient)["emergency_line"] == "(512) 555-0100"
