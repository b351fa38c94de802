"""Settings a manager changes without a terminal: quiet hours and the facts the bot may quote, per language
and per location, each with a preview of the answer the bot would give.

The values go through the same checks as `aftercare practice set` (bot.staff.admin), and each change
is written to the audit log with what it was before and after.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlmodel import Session, col, select

from bot import runtime
from bot.conversation.replies import compose
from bot.messaging import segments
from bot.staff.admin import AdminError, practice_set
from handlers.question import LEAD, answer_text, fact_text
from store.db import session_scope
from store.models import Location, Patient, Practice
from web.dashboard import bp
from web.dashboard.context import current_time, practice_rows, staff_practice
from web.dashboard.settings_common import SECTIONS, audit_change

LANGUAGES = ("en", "es")
"""The languages a fact can be written in here (a plain text answers in every language)."""


def editable(value, places: set[str]) -> bool:
    """A fact this page can edit: a text, or texts per language and per location (by external id), a
    location's own being a text or texts per language."""
    return isinstance(value, str) or (
        isinstance(value, dict)
        and set(value) <= set(LANGUAGES) | places
        and all(
            isinstance(text, str)
            or (
                key in places
                and isinstance(text, dict)
                and set(text) <= set(LANGUAGES)
                and all(isinstance(t, str) for t in text.values())
            )
            for key, text in value.items()
        )
    )


def _texts_of(value) -> dict[str, str]:
    """A fact as the form's boxes: "en", "es", and per location "L-AUS" (its English) and "L-AUS:es"."""
    if isinstance(value, str):
        return {"en": value}
    boxes: dict[str, str] = {}
    for key, text in value.items():
        if isinstance(text, dict):
            for language, own in text.items():
                boxes[key if language == "en" else f"{key}:{language}"] = own
        else:
            boxes[key] = text
    return boxes


def _facts_from(form, current: dict, places: list[str]) -> dict:
    """The facts the form describes: per fact an English and a Spanish text and one per location
    (only English: one text for all)."""
    known = set(places)
    facts = {key: value for key, value in current.items() if not editable(value, known)}
    fields = [(name, f"fact:{name}") for name, value in current.items() if editable(value, known)]
    new_name = (form.get("new_name") or "").strip()
    if new_name:
        fields.append((new_name, "new-fact"))
    boxes = [*LANGUAGES, *places, *(f"{place}:{language}" for place in places for language in LANGUAGES[1:])]
    for name, field in fields:
        if field != "new-fact" and not any(f"{field}:{key}" in form for key in boxes):
            facts[name] = current[name]  # not on the form that was sent: left as it was
            continue
        typed = {key: " ".join((form.get(f"{field}:{key}") or "").split()) for key in boxes}
        texts: dict = {key: typed[key] for key in LANGUAGES if typed[key]}
        for place in places:
            own = {"en": typed[place], **{language: typed[f"{place}:{language}"] for language in LANGUAGES[1:]}}
            own = {language: text for language, text in own.items() if text}
            if set(own) == {"en"}:
                texts[place] = own["en"]  # one text for every language there
            elif own:
                texts[place] = own
        if set(texts) == {"en"}:
            facts[name] = texts["en"]
        elif texts:
            facts[name] = texts
    return facts


def _sample_patients(db: Session, practice_id: int) -> dict[str, Patient]:
    """A patient of the practice per language, to show the answer with a real greeting."""
    found: dict[str, Patient] = {}
    for language in LANGUAGES:
        patient = db.exec(
            select(Patient)
            .where(
                practice_rows(Patient.practice_id),
                Patient.language == language,
                col(Patient.first_name).is_not(None),
            )
            .order_by(col(Patient.id))
        ).first()
        if patient is not None:
            found[language] = patient
    return found


def previews(db: Session, practice: Practice, locations: list[Location]) -> dict[str, list[dict]]:
    """Per fact the bot answers questions with: the reply it would send, in each language and at each
    location with its own text, with its segment count; or why it would hand the question to a person."""
    facts = practice.facts or {}
    samples = _sample_patients(db, practice.id)
    found: dict[str, list[dict]] = {}
    for name, value in facts.items():
        if name not in LEAD or name in ("address", "price"):
            continue  # addresses come from the location, prices from the menu
        lines = []
        for language in LANGUAGES:
            for place in [None, *[loc for loc in locations if isinstance(value, dict) and loc.external_id in value]]:
                if place is not None:
                    text = fact_text(facts, name, language, place)  # as the bot reads it
                elif isinstance(value, dict):
                    text = value.get(language) or value.get("en")
                else:
                    text = value
                if place is None and not text:
                    continue
                body = answer_text(name, text, language)
                label = ("English" if language == "en" else "Spanish") + (f" at {place.name}" if place else "")
                if body is None:
                    lines.append({"label": label, "error": "too long for two texts: a person will answer"})
                    continue
                patient = samples.get(language)
                reply = compose(db, patient, "answer", answer=body) if patient else body
                counted = segments.fit(reply, gsm_only=practice.gsm_only)  # as the sender sends it
                lines.append(
                    {"label": label, "reply": counted.body, "segments": counted.segments, "encoding": counted.encoding}
                )
        found[name] = lines
    return found


def _locations(db: Session, practice_id: int) -> list[Location]:
    return list(
        db.exec(
            select(Location)
            .where(Location.practice_id == practice_id, col(Location.external_id).is_not(None))
            .order_by(col(Location.id))
        )
    )


@bp.get("/settings")
def settings_page():
    """Quiet hours and the practice's facts in English and Spanish, and per location, with previews."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        locations = _locations(db, practice.id)
        places = {loc.external_id for loc in locations if loc.external_id}
        facts = practice.facts or {}
        rows = [(name, _texts_of(value)) for name, value in facts.items() if editable(value, places)]
        fixed = sorted(name for name, value in facts.items() if not editable(value, places))
        return render_template(
            "settings.html",
            practice=practice,
            rows=rows,
            fixed=fixed,
            locations=locations,
            previews=previews(db, practice, locations),
            sections=SECTIONS,
        )


@bp.post("/settings")
def save_settings():
    """Check and save quiet hours and facts (a bad value is refused with its reason and changes nothing)."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        places = [loc.external_id for loc in _locations(db, practice.id) if loc.external_id]
        before = {
            "quiet_hours": [practice.quiet_start_hour, practice.quiet_end_hour],
            "facts": dict(practice.facts or {}),
        }
        try:
            practice_set(
                db,
                practice.slug,
                quiet_hours=(request.form.get("quiet_hours") or "").strip() or None,
                facts_data=_facts_from(request.form, before["facts"], places),
            )
        except AdminError as error:
            db.rollback()
            flash(str(error), "error")
            return redirect(url_for("dashboard.settings_page"))
        after = {"quiet_hours": [practice.quiet_start_hour, practice.quiet_end_hour], "facts": dict(practice.facts)}
        audit_change(db, practice.id, "settings_changed", "practice", practice.id, before, after, now)
    flash("Saved: the bot uses these from its next text.", "info")
    return redirect(url_for("dashboard.settings_page"))
