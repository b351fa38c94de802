"""Rendering touches: values filled in the text's language, GSM-7 kept where possible."""

from __future__ import annotations

from bot.touches import composer
from store.models import Location, Patient, Practice, Service


def test_spanish_text_gets_spanish_fallbacks_and_booking_hint():
    practice = Practice(name="Glow", slug="glow", phone="(512) 555-0100")
    patient = Patient(practice_id=1, phone="+15125550143", first_name="Ana", language="es")
    context = composer.context_for(practice, patient, None, None, "es")
    assert context["booking_hint"] == "responde aquí o llama al (512) 555-0100"
    assert (context["treatment"], context["provider"]) == ("tu tratamiento", "tu especialista")
    english = composer.context_for(
        practice, patient, Service(practice_id=1, code="B", name="Botox", category="neuromodulator")
    )
    assert english["booking_hint"] == "reply here or call (512) 555-0100" and english["treatment"] == "Botox"


def test_render_keeps_accents_unless_gsm_only_and_counts_segments():
    template = "Hola {first_name}, ¿cómo estás? Una reseña “rápida”…"
    rendered = composer.render(template, {"first_name": "Ana"})
    assert rendered.body == 'Hola Ana, ¿cómo estás? Una reseña "rápida"...'  # look-alikes always become GSM-7
    assert (rendered.segments, rendered.encoding, rendered.folded) == (1, "UCS-2", None)
    gsm = composer.render(template, {"first_name": "Ana"}, gsm_only=True)
    assert gsm.body == 'Hola Ana, ¿como estas? Una reseña "rapida"...'
    assert (gsm.segments, gsm.encoding, gsm.folded) == (1, "GSM-7", "gsm_only")


def test_complication_texts_point_at_the_emergency_line():
    practice = Practice(name="Glow", slug="glow", phone="(512) 555-0100", emergency_line="(512) 555-0199")
    patient = Patient(practice_id=1, phone="+15125550143", first_name="Ana")
    assert composer.context_for(practice, patient)["emergency_line"] == "(512) 555-0199"
    practice.emergency_line = None
    assert composer.context_for(practice, patient)["emergency_line"] == "(512) 555-0100"


def test_spanish_text_names_the_service_in_spanish_and_falls_back_on_its_name():
    practice = Practice(name="Glow", slug="glow", phone="(512) 555-0100")
    patient = Patient(practice_id=1, phone="+15125550143", first_name="Ana", language="es")
    lips = Service(
        practice_id=1,
        code="FILLER-LIPS",
        name="Lip filler",
        name_es="relleno de labios",
        category="filler",
        area="lips",
    )
    assert composer.context_for(practice, patient, lips, None, "es")["treatment"] == "relleno de labios"
    assert composer.context_for(practice, patient, lips, None, "en")["treatment"] == "Lip filler"
    lips.name_es = None
    assert composer.context_for(practice, patient, lips, None, "es")["treatment"] == "Lip filler"


def test_spanish_text_names_the_area_in_spanish_with_its_article():
    practice = Practice(name="Glow", slug="glow")
    patient = Patient(practice_id=1, phone="+15125550143", first_name="Ana", language="es")
    filler = Service(practice_id=1, code="F", name="Under-eye filler", category="filler", area="under_eyes")
    assert composer.context_for(practice, patient, filler, None, "es")["area"] == "las ojeras"
    assert composer.context_for(practice, patient, filler, None, "en")["area"] == "under-eyes"
    rendered = composer.render(
        "El relleno en {area} suele suavizarse.",
        composer.context_for(
            practice,
            patient,
            Service(practice_id=1, code="C", name="Chin filler", category="filler", area="chin"),
            None,
            "es",
        ),
    )
    assert rendered.body == "El relleno en el mentón suele suavizarse." and rendered.encoding == "UCS-2"
    odd = Service(practice_id=1, code="N", name="Neck filler", category="filler", area="neck")
    assert composer.context_for(practice, patient, odd, None, "es")["area"] == "la zona"


def test_the_visits_location_phone_is_the_number_to_call():
    practice = Practice(name="Glow", slug="glow", phone="(512) 555-0100", emergency_line="(512) 555-0199")
    patient = Patient(practice_id=1, phone="+13055550143", first_name="Ana")
    miami = Location(practice_id=1, name="Miami", timezone="America/New_York", phone="(305) 555-0100")
    context = composer.context_for(practice, patient, None, None, "es", miami)
    assert context["practice_phone"] == "(305) 555-0100"
    assert context["booking_hint"] == "responde aquí o llama al (305) 555-0100"
    assert context["emergency_line"] == "(512) 555-0199"  # one on-call line for the whole practice
    practice.emergency_line = None
    assert composer.context_for(practice, patient, None, None, "en", miami)["emergency_line"] == "(305) 555-0100"
    miami.phone = None
    assert composer.context_for(practice, patient, None, None, "en", miami)["practice_phone"] == "(512) 555-0100"
