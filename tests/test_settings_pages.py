"""The settings pages on the demo practice: practice and locations, facts per location with their preview,
the on-call roster, plan texts with their rendering, and who answers carrier keywords. Each checks as
the CLI checks, refuses a bad value without changing anything, and audits who changed what."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot import runtime
from bot.demo.seed import MANAGER_EMAIL
from bot.staff import paging
from bot.touches import step_texts
from bot.touches.plans import plans_for
from store.db import session_scope
from store.models import AuditEvent, Escalation, Location, OnCallShift, Patient, Practice, StaffUser
from tests.helpers import add_staff, csrf_token, sent_to, sign_in, text_in

AUSTIN_PATIENT = "+15125550143"  # Ana Ruiz, seen in Austin


def _post(client, page: str, path: str, **form):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **form})


def _events(db_url, action):
    with session_scope(db_url) as db:
        return [(e.actor, e.detail) for e in db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()]


def _location(db_url, external_id) -> Location:
    with session_scope(db_url) as db:
        return db.exec(select(Location).where(Location.external_id == external_id)).one()


def _manager_id(db_url) -> int:
    with session_scope(db_url) as db:
        return db.exec(select(StaffUser).where(StaffUser.email == MANAGER_EMAIL)).one().id


def test_a_location_line_is_checked_as_the_cli_checks_it_and_audited(manager, db_url):
    client, _ = manager
    miami = _location(db_url, "L-MIA")
    page = "/settings/practice"
    form = {
        "name": miami.name,
        "phone": "(305) 555-0100",
        "emergency_line": "305 555 0177",
        "review_url": "https://g.page/r/glow-miami/review",
        "timezone": "America/New_York",
        "address": "1200 Brickell Ave, Suite 500, Miami, FL 33131",
        "hours": "Mon-Sat 10am-6pm",
    }
    for field, bad, reason in (
        ("emergency_line", "call us", "emergency line:"),
        ("review_url", "g.page/x", "review link: expected a URL starting with https://"),
        ("timezone", "Miami", "time zone: &#39;Miami&#39; is not a time zone"),
    ):
        answer = _post(client, page, f"/settings/locations/{miami.id}", **{**form, field: bad})
        assert answer.status_code == 302
        assert reason in client.get(page).get_data(as_text=True)
    assert _location(db_url, "L-MIA").emergency_line == "+13055550199"  # the refused saves changed nothing

    _post(client, page, f"/settings/locations/{miami.id}", **form)
    saved = _location(db_url, "L-MIA")
    assert (saved.emergency_line, saved.review_url) == ("+13055550177", "https://g.page/r/glow-miami/review")
    with session_scope(db_url) as db:
        hours = db.exec(select(Practice)).one().facts["hours"]
    assert hours["L-MIA"] == "Mon-Sat 10am-6pm" and hours["en"].startswith("Tue-Fri")  # the practice's hours kept
    [(actor, detail)] = _events(db_url, "location_changed")
    assert actor == f"staff:{_manager_id(db_url)}"
    assert detail["before"]["emergency_line"] == "+13055550199" and detail["after"]["emergency_line"] == "+13055550177"
    assert detail["before"]["hours"] == "" and detail["after"]["hours"] == "Mon-Sat 10am-6pm"


def test_the_practice_lines_and_keyword_choice_are_saved_and_audited(manager, db_url):
    client, _ = manager
    page = client.get("/settings/practice").get_data(as_text=True)
    assert "Austin - South Congress" in page and "Miami - Brickell" in page
    form = {
        "name": "Glow Aesthetics Med Spa",
        "phone": "(512) 555-0100",
        "emergency_line": "(512) 555-0188",
        "website": "",
        "review_url": "https://g.page/glow/review",
        "timezone": "America/Chicago",
        "keyword_confirmations": "twilio",
    }
    _post(client, "/settings/practice", "/settings/practice", **{**form, "keyword_confirmations": "carrier"})
    assert "keyword answers: expected one of twilio, aftercare" in client.get("/settings/practice").get_data(
        as_text=True
    )
    _post(client, "/settings/practice", "/settings/practice", **form)
    with session_scope(db_url) as db:
        practice = db.exec(select(Practice)).one()
        assert (practice.emergency_line, practice.keyword_confirmations) == ("+15125550188", "twilio")
    [(_actor, detail)] = _events(db_url, "settings_changed")
    # The demo practice sends its own confirmations (its fake Twilio answers no keywords).
    assert detail["before"]["keyword_confirmations"] == "aftercare"
    assert detail["after"]["keyword_confirmations"] == "twilio"


@pytest.mark.parametrize(("choice", "confirmed"), [("aftercare", True), ("twilio", False)])
def test_the_keyword_choice_decides_who_confirms_stop(demo_practice, settings, twilio, db_url, choice, confirmed):
    with session_scope(db_url) as db:
        db.exec(select(Practice)).one().keyword_confirmations = choice
    text_in("STOP", from_=AUSTIN_PATIENT)
    confirmations = [body for body in sent_to(twilio, AUSTIN_PATIENT) if "START" in body]
    assert bool(confirmations) is confirmed
    with session_scope(db_url) as db:
        assert db.exec(select(Patient).where(Patient.phone == AUSTIN_PATIENT)).one().opted_out_at is not None


def test_facts_per_location_are_edited_and_previewed_as_the_bot_answers(manager, demo_practice, twilio, db_url):
    client, _ = manager
    page = client.get("/settings").get_data(as_text=True)
    assert "Valet at the Brickell Ave entrance" in page  # a fact per location is on the page now
    # Its preview, as the bot would send it to a real patient, greeting included.
    assert re.search(
        r"Hi \w+! Parking: Free garage parking behind the building .* Anything else, just reply here", page
    )
    with session_scope(db_url) as db:
        facts = db.exec(select(Practice)).one().facts
    form = {}
    for name, value in facts.items():
        texts = value if isinstance(value, dict) else {"en": value}
        for key, text in texts.items():
            form[f"fact:{name}:{key}"] = text
    form["fact:parking:L-AUS"] = "Street parking on Congress Ave, two hours free."
    form["quiet_hours"] = "9-20"
    _post(client, "/settings", "/settings", **form)
    page = client.get("/settings").get_data(as_text=True)
    assert "Parking: Street parking on Congress Ave, two hours free." in page
    text_in("where do I park?", from_=AUSTIN_PATIENT)
    assert "Street parking on Congress Ave, two hours free." in sent_to(twilio, AUSTIN_PATIENT)[-1]
    [(_actor, detail)] = _events(db_url, "settings_changed")
    assert detail["before"]["facts"]["parking"]["L-MIA"] == detail["after"]["facts"]["parking"]["L-MIA"]


def test_a_fact_written_for_a_location_gets_its_own_spanish_text(manager, demo_practice, twilio, db_url):
    client, _ = manager
    with session_scope(db_url) as db:
        facts = db.exec(select(Practice)).one().facts
    form = {}
    for name, value in facts.items():
        texts = value if isinstance(value, dict) else {"en": value}
        for key, text in texts.items():
            if isinstance(text, str):
                form[f"fact:{name}:{key}"] = text
    english = "Street parking on Congress Ave, two hours free."
    spanish = "Estacionamiento en la calle Congress Ave, dos horas gratis."
    form.update({"fact:parking:L-AUS": english, "fact:parking:L-AUS:es": spanish, "quiet_hours": "9-20"})
    _post(client, "/settings", "/settings", **form)
    with session_scope(db_url) as db:
        parking = db.exec(select(Practice)).one().facts["parking"]
    assert parking["L-AUS"] == {"en": english, "es": spanish}
    assert parking["L-MIA"] == facts["parking"]["L-MIA"]  # Miami's text kept as it was
    page = client.get("/settings").get_data(as_text=True)
    assert f">{spanish}</textarea>" in page and f">{english}</textarea>" in page  # both boxes hold their text
    assert "Spanish at Austin - South Congress" in page and f"Estacionamiento: {spanish}" in page
    text_in("hay estacionamiento?", from_=AUSTIN_PATIENT)  # Ana Ruiz texts in Spanish
    assert f"Estacionamiento: {spanish}" in sent_to(twilio, AUSTIN_PATIENT)[-1]
    with session_scope(db_url) as db:
        db.exec(select(Patient).where(Patient.phone == AUSTIN_PATIENT)).one().language = "en"
    text_in("where do I park?", from_=AUSTIN_PATIENT)
    assert f"Parking: {english}" in sent_to(twilio, AUSTIN_PATIENT)[-1]
    # Emptied again, the Spanish box leaves one text for every language there.
    form["fact:parking:L-AUS:es"] = ""
    _post(client, "/settings", "/settings", **form)
    with session_scope(db_url) as db:
        assert db.exec(select(Practice)).one().facts["parking"]["L-AUS"] == english


def test_the_roster_page_adds_a_line_that_decides_the_next_page_and_audits_it(manager, demo_practice, db_url):
    client, _ = manager
    austin = _location(db_url, "L-AUS")
    with session_scope(db_url) as db:
        hannah = db.exec(select(StaffUser).where(StaffUser.name == "Hannah Kim, RN")).one().id
    with session_scope(db_url) as db:
        before = len(db.exec(select(OnCallShift)).all())
    page = client.get("/settings/on-call").get_data(as_text=True)
    assert "urgent → Sofia Reyes, NP" in page  # the demo's roster leaves Monday to the standing on-call flag
    bad = {"staff_id": hannah, "duty": "on_call", "location_id": austin.id, "start": "18:00", "end": "08:00"}
    _post(client, "/settings/on-call", "/settings/on-call", weekday=["0"], **bad)
    assert "end: must be after start" in client.get("/settings/on-call").get_data(as_text=True)
    good = {**bad, "start": "08:00", "end": "20:00"}
    _post(client, "/settings/on-call", "/settings/on-call", weekday=["0", "1", "2", "3", "4"], **good)
    with session_scope(db_url) as db:
        assert len(db.exec(select(OnCallShift)).all()) == before + 5
        escalation = Escalation(practice_id=demo_practice["practice_id"], urgency="urgent", reason="x")
        # The clock reads Monday 10:00 in Austin: Hannah has it now.
        assert [p.name for p in paging.recipients(db, escalation, 1, location=db.get(Location, austin.id))] == [
            "Hannah Kim, RN"
        ]
    page = client.get("/settings/on-call").get_data(as_text=True)
    assert "Austin - South Congress</strong>: urgent → Hannah Kim, RN" in page
    [(_actor, detail)] = _events(db_url, "on_call_changed")
    assert [line["weekday"] for line in detail["after"]["added"]] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


def test_a_step_text_is_previewed_for_a_real_patient_then_saved_and_sent(manager, demo_practice, db_url):
    client, _ = manager
    ref = "neuromodulator.checkin"
    page = client.get(f"/settings/plans?step={ref}").get_data(as_text=True)
    assert "GSM-7" in page and "segment" in page
    with session_scope(db_url) as db:
        ana = db.exec(select(Patient).where(Patient.phone == AUSTIN_PATIENT)).one()
    english = "Hi {first_name}, {sender} here at {practice}. How are you feeling after your {treatment}? ✨"
    spanish = "Hola {first_name}, soy {sender} de {practice}. ¿Cómo te sientes después de tu {treatment}?"
    answer = _post(
        client,
        "/settings/plans",
        f"/settings/plans/{ref}",
        action="preview",
        patient=ana.id,
        **{"text:en": english, "text:es": spanish},
    )
    preview = answer.get_data(as_text=True)
    assert "Hi Ana, Carla here at Glow Aesthetics" in preview
    assert "UCS-2" in preview and "not GSM-7: ✨" in preview  # the sparkle costs the whole text its encoding
    assert "Hola Ana, soy Carla" in preview  # Spanish read as the same patient
    with session_scope(db_url) as db:
        assert db.exec(select(Practice)).one().step_texts == {}  # a preview saves nothing

    bad = _post(
        client,
        "/settings/plans",
        f"/settings/plans/{ref}",
        action="save",
        **{"text:en": "Hi {first_nme}!", "text:es": spanish},
    )
    assert bad.status_code == 400 and "unknown placeholder(s) {first_nme}" in bad.get_data(as_text=True)
    english = english.replace(" ✨", "")
    _post(
        client,
        "/settings/plans",
        f"/settings/plans/{ref}",
        action="save",
        **{"text:en": english, "text:es": spanish},
    )
    with session_scope(db_url) as db:
        practice = db.exec(select(Practice)).one()
        assert practice.step_texts == {ref: {"en": english, "es": spanish}}
        step = plans_for(runtime.settings()).step("neuromodulator", "checkin")
        assert step_texts.template_for(practice, step, "en") == english
    [(_actor, detail)] = _events(db_url, "step_text_changed")
    assert detail == {"before": {ref: {}}, "after": {ref: {"en": english, "es": spanish}}}


def test_front_desk_may_not_open_the_settings_pages(demo_practice, db_url):
    add_staff(db_url, demo_practice["practice_id"], email="desk@glow.test", role="front_desk")
    client, _ = sign_in("desk@glow.test")
    for path in ("/settings/practice", "/settings/on-call", "/settings/plans"):
        assert client.get(path).status_code == 403


def test_the_gsm_only_choice_is_saved_audited_and_shown_in_the_plan_preview(manager, demo_practice, db_url):
    client, _ = manager
    ref = "neuromodulator.checkin"
    with session_scope(db_url) as db:
        ana = db.exec(select(Patient).where(Patient.phone == AUSTIN_PATIENT)).one()
    spanish = "Hola {first_name}, ¿cómo te sientes después de tu {treatment}?"
    preview = {"action": "preview", "patient": ana.id, "text:en": "Hi {first_name}!", "text:es": spanish}

    def spanish_preview() -> str:
        page = _post(client, "/settings/plans", f"/settings/plans/{ref}", **preview).get_data(as_text=True)
        return re.search(r'data-lang="es">(.*?)</p>', page, re.S).group(1)

    kept = spanish_preview()  # by default the accents stay and the text is UCS-2
    assert "¿cómo te sientes después" in kept and ">UCS-2<" in kept and "accents folded" not in kept

    page = client.get("/settings/practice").get_data(as_text=True)
    assert 'name="encoding" value="accents" checked' in page
    form = {"name": "Glow Aesthetics Med Spa", "timezone": "America/Chicago", "encoding": "gsm_only"}
    _post(client, "/settings/practice", "/settings/practice", **{**form, "encoding": "ascii"})
    assert "texts: expected one of accents, gsm_only" in client.get("/settings/practice").get_data(as_text=True)
    _post(client, "/settings/practice", "/settings/practice", **form)
    with session_scope(db_url) as db:
        assert db.exec(select(Practice)).one().gsm_only is True
    [(actor, detail)] = _events(db_url, "settings_changed")
    assert actor == f"staff:{_manager_id(db_url)}"
    assert (detail["before"]["gsm_only"], detail["after"]["gsm_only"]) == (False, True)

    folded = spanish_preview()  # the same text as a GSM-only practice sends it
    assert "¿como te sientes después" in folded and ">GSM-7<" in folded  # é is GSM-7: kept
    assert "accents folded: the practice sends GSM-7 only" in folded
