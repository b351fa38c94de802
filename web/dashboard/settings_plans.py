"""Settings: plans and their texts. Pick a step, rewrite its text in English and Spanish, and read it
as a real patient of the practice would get it, with its segment count and encoding, before saving.

A saved text is checked as the plan loader checks a plan file (bot.touches.step_texts), kept in
`Practice.step_texts`, used by the sender from the next touch, and audited with before and after.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlmodel import col, select

from bot import runtime
from bot.clock import local_zone
from bot.errors import PlanError
from bot.messaging import segments
from bot.touches import composer, step_texts
from bot.touches.plans import LANGUAGES, PlanBook, Step, plans_for
from store.db import session_scope
from store.models import Appointment, Location, Patient, Practice, Provider, Service
from store.queries import last_visit
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice
from web.dashboard.settings_common import SECTIONS, audit_change

SAMPLE_PATIENTS = 40
"""How many of the practice's patients the preview offers to read a text as."""


def _step_or_404(book: PlanBook, ref: str) -> Step:
    plan, _, key = ref.partition(".")
    step = book.step(plan, key)
    if step is None:
        abort(404, description="No such step in the plans.")
    return step


def _rendered(db, practice: Practice, patient: Patient | None, template: str, language: str) -> dict:
    """A template filled in for this patient as the sender would (their last visit's service, provider
    and location), in `language`; with its segments, encoding and the characters that force UCS-2."""
    service = provider = location = appointment = None
    visit = last_visit(db, patient.id) if patient is not None else None
    if visit is not None:
        appointment, service = visit
        provider = db.get(Provider, appointment.provider_id) if appointment.provider_id else None
        location = db.get(Location, appointment.location_id) if appointment.location_id else None
    context = composer.context_for(
        practice, patient, service, provider, language, location, appointment, local_zone(location, practice)
    )
    try:
        done = composer.render(template, context)
    except (KeyError, ValueError, IndexError) as error:
        return {"error": f"cannot fill in: {error}"}
    return {
        "body": done.body,
        "segments": done.segments,
        "encoding": done.encoding,
        "chars": len(done.body),
        "offending": segments.offending(done.body),
    }


def _patients(db, practice_id: int, step: Step) -> list[Patient]:
    """Patients to read a step as: those seen for the step's category first, then the rest."""
    query = select(Patient).where(Patient.practice_id == practice_id).order_by(col(Patient.first_name))
    everyone = list(db.exec(query.limit(SAMPLE_PATIENTS)))
    seen = set(
        db.exec(
            select(Appointment.patient_id)
            .join(Service, col(Service.id) == Appointment.service_id)
            .where(Appointment.practice_id == practice_id, Service.category == step.plan)
        )
    )
    return sorted(everyone, key=lambda p: (p.id not in seen, p.first_name or ""))


def _page(ref: str | None, drafts: dict | None = None, errors: dict | None = None):
    book = plans_for(runtime.settings())
    ref = ref or next(f"{p.name}.{p.steps[0].key}" for p in book.plans.values() if p.steps)
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        step = _step_or_404(book, ref)
        own = (practice.step_texts or {}).get(step_texts.key_of(step), {})
        patients = _patients(db, practice.id, step)
        chosen = request.values.get("patient", type=int)
        patient = next((p for p in patients if p.id == chosen), patients[0] if patients else None)
        languages = []
        for language in LANGUAGES:
            text = (drafts or {}).get(language) or step_texts.template_for(practice, step, language)
            languages.append(
                {
                    "code": language,
                    "name": "English" if language == "en" else "Spanish",
                    "text": text,
                    "own": language in own,
                    "file_text": step.template(language),
                    "error": (errors or {}).get(language),
                    "rendered": _rendered(db, practice, patient, text, language),
                }
            )
        plans = [
            {"name": p.name, "label": p.label, "steps": [(f"{p.name}.{s.key}", s) for s in p.steps]}
            for p in book.plans.values()
        ]
        return render_template(
            "settings_plans.html",
            practice=practice,
            sections=SECTIONS,
            plans=plans,
            ref=ref,
            step=step,
            languages=languages,
            patients=patients,
            patient=patient,
            placeholders=composer.PLACEHOLDERS,
            drafting=drafts is not None,
        )


@bp.get("/settings/plans")
def plans_page():
    """The plans, one step open: its texts, and how they read for a real patient."""
    return _page(request.args.get("step"))


@bp.post("/settings/plans/<ref>")
def save_step_text(ref: str):
    """Preview a rewritten text without saving, save it (checked as a plan file is), or go back to the file's."""
    action = request.form.get("action", "preview")
    drafts = {language: request.form.get(f"text:{language}") or "" for language in LANGUAGES}
    if action == "preview":
        return _page(ref, drafts)
    book = plans_for(runtime.settings())
    step = _step_or_404(book, ref)
    now = current_time()
    errors: dict = {}
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        texts = dict(practice.step_texts or {})
        before = dict(texts.get(step_texts.key_of(step), {}))
        if action == "reset":
            texts.pop(step_texts.key_of(step), None)
        else:
            own = {}
            for language, text in drafts.items():
                try:
                    checked = step_texts.checked(step, language, text)
                except PlanError as error:
                    errors[language] = str(error)
                    continue
                if checked != " ".join(step.template(language).split()):
                    own[language] = checked  # the file's own text is not a rewrite
            if errors:
                db.rollback()
        if errors:
            return _page(ref, drafts, errors), 400
        if action != "reset":
            texts[step_texts.key_of(step)] = own
            texts = {key: value for key, value in texts.items() if value}
        practice.step_texts = texts
        db.add(practice)
        after = texts.get(step_texts.key_of(step), {})
        audit_change(db, practice.id, "step_text_changed", "practice", practice.id, {ref: before}, {ref: after}, now)
    flash(
        "Back to the plan file's text." if action == "reset" else "Saved: the next touch of this step uses it.", "info"
    )
    return redirect(url_for("dashboard.plans_page", step=ref, patient=request.form.get("patient") or None))
