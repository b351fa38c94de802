"""Settings a manager changes without a terminal: quiet hours and the facts the bot may quote, per language.

The values go through the same checks as `aftercare practice set` (bot.staff.admin), and each change
is written to the audit log with what it was before and after.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from bot import runtime
from bot.staff.admin import AdminError, practice_set
from store.db import session_scope
from store.models import AuditEvent
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice

LANGUAGES = ("en", "es")
"""The languages a fact can be written in here (a plain text answers in every language)."""


def editable(value) -> bool:
    """A fact this page can edit: a text, or texts per language (facts per location stay with the CLI)."""
    return isinstance(value, str) or (isinstance(value, dict) and set(value) <= set(LANGUAGES))


def _facts_from(form, current: dict) -> dict:
    """The facts the form describes: per fact an English and a Spanish text (only English: one text for all)."""
    facts = {key: value for key, value in current.items() if not editable(value)}
    fields = [(name, f"fact:{name}") for name, value in current.items() if editable(value)]
    new_name = (form.get("new_name") or "").strip()
    if new_name:
        fields.append((new_name, "new-fact"))
    for name, field in fields:
        texts = {lang: " ".join((form.get(f"{field}:{lang}") or "").split()) for lang in LANGUAGES}
        if texts["es"]:
            facts[name] = {lang: text for lang, text in texts.items() if text}
        elif texts["en"]:
            facts[name] = texts["en"]
    return facts


@bp.get("/settings")
def settings_page():
    """Quiet hours and the practice's facts in English and Spanish."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        facts = practice.facts or {}
        rows = [
            (name, value if isinstance(value, dict) else {"en": value})
            for name, value in facts.items()
            if editable(value)
        ]
        fixed = sorted(name for name, value in facts.items() if not editable(value))
        return render_template("settings.html", practice=practice, rows=rows, fixed=fixed)


@bp.post("/settings")
def save_settings():
    """Check and save quiet hours and facts (a bad value is refused with its reason and changes nothing)."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        before = {
            "quiet_hours": [practice.quiet_start_hour, practice.quiet_end_hour],
            "facts": dict(practice.facts or {}),
        }
        try:
            practice_set(
                db,
                practice.slug,
                quiet_hours=(request.form.get("quiet_hours") or "").strip() or None,
                facts_data=_facts_from(request.form, before["facts"]),
            )
        except AdminError as error:
            db.rollback()
            flash(str(error), "error")
            return redirect(url_for("dashboard.settings_page"))
        after = {"quiet_hours": [practice.quiet_start_hour, practice.quiet_end_hour], "facts": dict(practice.facts)}
        if after != before:
            db.add(
                AuditEvent(
                    practice_id=practice.id,
                    actor=f"staff:{g.staff.id}",
                    action="settings_changed",
                    subject_type="practice",
                    subject_id=practice.id,
                    detail={"before": before, "after": after},
                    created_at=now,
                )
            )
    flash("Saved: the bot uses these from its next text.", "info")
    return redirect(url_for("dashboard.settings_page"))
