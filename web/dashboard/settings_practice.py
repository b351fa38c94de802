"""Settings: the practice's own lines and each location's (phone, emergency line, address, review link,
hours, time zone), who answers the carrier keywords STOP, START and HELP, and whether texts keep their
accents (UCS-2) or go GSM-7 only.

Values go through the CLI's checks (bot.staff.admin); a refused value changes nothing and says why,
and each change is audited with what it was before and after.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlmodel import col, select

from bot import runtime
from bot.staff.admin import AdminError, location_set, practice_set
from bot.vocabulary import KeywordConfirmer
from store.db import session_scope
from store.models import Location, Practice
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice
from web.dashboard.settings_common import SECTIONS, audit_change

PRACTICE_FIELDS = ("name", "phone", "emergency_line", "website", "review_url", "timezone")
LOCATION_FIELDS = ("name", "phone", "emergency_line", "address", "review_url", "timezone")
ENCODINGS = {"accents": False, "gsm_only": True}
"""The form's choice of how texts are written -> Practice.gsm_only."""


def _practice_values(practice: Practice) -> dict:
    return {key: getattr(practice, key) for key in PRACTICE_FIELDS} | {
        "keyword_confirmations": practice.keyword_confirmations,
        "gsm_only": practice.gsm_only,
    }


def _location_values(location: Location, facts: dict) -> dict:
    return {key: getattr(location, key) for key in LOCATION_FIELDS} | {"hours": location_hours(facts, location)}


def location_hours(facts: dict, location: Location) -> str:
    """The hours fact written for this location ("" when it uses the practice's)."""
    hours = facts.get("hours")
    if isinstance(hours, dict) and location.external_id:
        own = hours.get(location.external_id)
        return own if isinstance(own, str) else ""
    return ""


def _with_hours(facts: dict, location: Location, text: str) -> dict:
    """The facts with this location's hours set (or removed, for an empty text); the other hours kept."""
    if not location.external_id:
        raise AdminError("hours: this location has no external id to key its hours by")
    hours = facts.get("hours")
    merged = dict(hours) if isinstance(hours, dict) else ({"en": hours} if isinstance(hours, str) else {})
    if text:
        merged[location.external_id] = text
    else:
        merged.pop(location.external_id, None)
    updated = dict(facts)
    if merged:
        updated["hours"] = merged
    else:
        updated.pop("hours", None)
    return updated


@bp.get("/settings/practice")
def practice_settings():
    """The practice's lines, each location's, and who answers carrier keywords."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        locations = db.exec(
            select(Location).where(Location.practice_id == practice.id).order_by(col(Location.id))
        ).all()
        facts = practice.facts or {}
        return render_template(
            "settings_practice.html",
            practice=practice,
            locations=[(loc, location_hours(facts, loc)) for loc in locations],
            sections=SECTIONS,
            confirmers=tuple(KeywordConfirmer),
            env_default=KeywordConfirmer.TWILIO
            if runtime.settings().twilio_confirms_opt_out
            else KeywordConfirmer.AFTERCARE,
        )


@bp.post("/settings/practice")
def save_practice_settings():
    """Check and save the practice's lines, the keyword choice and the GSM-only choice."""
    now = current_time()
    form = request.form
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        before = _practice_values(practice)
        confirmer = (form.get("keyword_confirmations") or "").strip() or None
        # Not sent (an older form): the choice stays as it is.
        encoding = (form.get("encoding") or "").strip() or ("gsm_only" if practice.gsm_only else "accents")
        try:
            if encoding not in ENCODINGS:
                raise AdminError(f"texts: expected one of {', '.join(ENCODINGS)}, got {encoding!r}")
            if confirmer is not None and confirmer not in tuple(KeywordConfirmer):
                raise AdminError(f"keyword answers: expected one of {', '.join(KeywordConfirmer)}, got {confirmer!r}")
            # Unset lines stay unset; the CLI's checks refuse a bad number, URL or zone by name.
            values = {key: (form.get(key) or "").strip() or None for key in PRACTICE_FIELDS}
            practice_set(db, practice.slug, **values)
        except AdminError as error:
            db.rollback()
            flash(f"{error}; nothing was changed", "error")
            return redirect(url_for("dashboard.practice_settings"))
        practice.keyword_confirmations = confirmer
        practice.gsm_only = ENCODINGS[encoding]
        db.add(practice)
        audit_change(
            db, practice.id, "settings_changed", "practice", practice.id, before, _practice_values(practice), now
        )
    flash("Saved: texts use these from the next one.", "info")
    return redirect(url_for("dashboard.practice_settings"))


@bp.post("/settings/locations/<int:location_id>")
def save_location(location_id: int):
    """Check and save one location's lines, hours and time zone."""
    now = current_time()
    form = request.form
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        location = db.get(Location, location_id)
        if location is None or location.practice_id != practice.id:
            flash("No such location at this practice.", "error")
            return redirect(url_for("dashboard.practice_settings"))
        facts = dict(practice.facts or {})
        before = _location_values(location, facts)
        try:
            location_set(db, practice.id, location_id, **{key: form.get(key) or "" for key in LOCATION_FIELDS})
            hours = " ".join((form.get("hours") or "").split())
            if hours != before["hours"]:
                practice_set(db, practice.slug, facts_data=_with_hours(facts, location, hours))
        except AdminError as error:
            db.rollback()
            flash(f"{error}; nothing was changed", "error")
            return redirect(url_for("dashboard.practice_settings") + f"#location-{location_id}")
        after = _location_values(location, practice.facts or {})
        audit_change(db, practice.id, "location_changed", "location", location.id, before, after, now)
    flash(f"Saved {location.name}: texts about visits there use these from the next one.", "info")
    return redirect(url_for("dashboard.practice_settings") + f"#location-{location_id}")
