"""Settings: plans and their texts. Pick a step, rewrite its text in English and Spanish, and read it
as a real patient of the practice would get it, with its segment count and encoding, before saving.

A saved text is checked as the plan loader checks a plan file (bot.touches.step_texts), kept in
`Practice.step_texts`, used by the sender from the next touch, and audited with before and after.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from sqlmodel import col, select

from bot import runtime
from bot.clock import local_zone, to_utc
from bot.errors import PlanError
from bot.growth import matrix
from bot.growth.segments import standings as segment_standings
from bot.messaging import segments
from bot.touches import composer, planner, step_texts, step_timing
from bot.touches.plans import BIRTHDAY, EVERYONE, LANGUAGES, MISSED, SEGMENTS, UPCOMING, PlanBook, Step, plans_for
from bot.vocabulary import AppointmentStatus, TouchStatus
from store.db import session_scope
from store.models import Appointment, Location, Patient, Practice, Provider, Service, Touch
from store.queries import last_visit
from web.dashboard import bp
from web.dashboard.context import current_time, practice_rows, staff_practice
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
    and location), in `language`, under the practice's GSM-only choice; with its segments, encoding, the
    characters that force UCS-2, and whether (and why) its accents were folded."""
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
        done = composer.render(template, context, gsm_only=practice.gsm_only)
    except (KeyError, ValueError, IndexError) as error:
        return {"error": f"cannot fill in: {error}"}
    return {
        "body": done.body,
        "segments": done.segments,
        "encoding": done.encoding,
        "chars": len(done.body),
        "offending": segments.offending(done.body),
        "folded": FOLDED.get(done.folded or ""),
    }


FOLDED = {
    segments.GSM_ONLY: "accents folded: the practice sends GSM-7 only",
    segments.TOO_LONG: "accents folded: with them it would take more than two segments",
}
"""What the preview says when a text goes with its accents folded."""


def _patients(db, practice_id: int, step: Step) -> list[Patient]:
    """Patients to read a step as (those Aftercare texts): those seen for the step's category first, then the rest."""
    query = (
        select(Patient)
        .where(practice_rows(Patient.practice_id), col(Patient.care_sms).is_(True))
        .order_by(col(Patient.first_name))
    )
    everyone = list(db.exec(query.limit(SAMPLE_PATIENTS)))
    seen = set(
        db.exec(
            select(Appointment.patient_id)
            .join(Service, col(Service.id) == Appointment.service_id)
            .where(Appointment.practice_id == practice_id, Service.category == step.plan)
        )
    )
    return sorted(everyone, key=lambda p: (p.id not in seen, p.first_name or ""))


def _when(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a, %b %-d at %-I:%M %p")


def _timing_preview(db, practice: Practice, patient: Patient | None, step: Step) -> str:
    """When this step would go for this patient, by the step as given (saved or only previewed)."""
    if patient is None:
        return "No patient to read it as."
    now = current_time()
    name = patient.first_name or "This patient"
    if step.plan == MISSED:
        return f"{step_timing.describe(step)}: counted from a cancellation or no-show when it happens."
    if step.plan == BIRTHDAY:
        if patient.birthday is None:
            return f"{name} has no birthday on file: no birthday text."
        if not step.applies_to(None, patient.vip):
            return f"{name} would not get this step ({step_timing.describe(step)})."
        zone = practice.timezone
        today = now.astimezone(ZoneInfo(zone)).date()
        day = planner.next_birthday(patient.birthday, today)
        due = planner.due_time(to_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))), step, zone)
        return f"For {name}, whose next birthday is {day.strftime('%b %-d')}: {_when(due, zone)}."
    if step.plan == UPCOMING:
        ahead = db.exec(
            select(Appointment, Service)
            .join(Service, col(Service.id) == Appointment.service_id)
            .where(
                Appointment.patient_id == patient.id,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.start_at > now,
            )
            .order_by(col(Appointment.start_at))
        ).first()
        if ahead is None:
            return f"{name} has no booked visit ahead: counted back from the next one booked."
        appointment, service = ahead
        location = db.get(Location, appointment.location_id) if appointment.location_id else None
        zone = local_zone(location, practice)
        if not step.applies_to(service.area, patient.vip, service.category):
            return f"{name}'s {service.name} visit would not get this step ({step_timing.describe(step)})."
        due = planner.before_time(appointment.start_at, step, zone)
        return f"Before {name}'s {service.name} visit of {_when(appointment.start_at, zone)}: {_when(due, zone)}."
    query = (
        select(Appointment, Service)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(Appointment.patient_id == patient.id, Appointment.status == AppointmentStatus.COMPLETED)
        .order_by(col(Appointment.start_at).desc())
    )
    if step.plan != EVERYONE:
        query = query.where(Service.category == step.plan)  # the latest visit this plan follows
    visit = db.exec(query).first()
    if visit is None:
        return f"{name} has no completed {step.plan.replace('_', ' ')} visit to count from."
    appointment, service = visit
    location = db.get(Location, appointment.location_id) if appointment.location_id else None
    zone = local_zone(location, practice)
    in_segments: frozenset[str] = frozenset()
    if step.segment is not None:
        standing = segment_standings(db, practice.id, matrix.current(db, practice.id), now, {patient.id}).get(
            patient.id
        )
        in_segments = standing.segments if standing else frozenset()
    if not step.applies_to(service.area, patient.vip, None, in_segments):
        return f"{name}'s {service.name} visit would not get this step ({step_timing.describe(step)})."
    due = planner.due_time(to_utc(appointment.end_at), step, zone)
    when = "already past" if due <= now else f"in {(due - now).days} days"
    return f"After {name}'s {service.name} visit of {_when(appointment.start_at, zone)}: {_when(due, zone)} ({when})."


def _pending(db, practice_id: int, step: Step) -> int:
    """Touches of this step planned and not yet sent (what saving a new timing re-plans)."""
    return len(
        db.exec(
            select(Touch.id).where(
                Touch.practice_id == practice_id,
                Touch.plan == step.plan,
                Touch.step == step.key,
                Touch.status == TouchStatus.SCHEDULED,
            )
        ).all()
    )


def _page(
    ref: str | None,
    drafts: dict | None = None,
    errors: dict | None = None,
    timing_draft: dict | None = None,
    timing_error: str | None = None,
):
    file_book = plans_for(runtime.settings())
    ref = ref or next(f"{p.name}.{p.steps[0].key}" for p in file_book.plans.values() if p.steps)
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        book = step_timing.for_practice(file_book, practice)
        step = _step_or_404(book, ref)
        file_step = _step_or_404(file_book, ref)
        shown = step
        if timing_draft is not None and timing_error is None:
            shown = step_timing.checked(file_step, timing_draft)
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
        current = step_timing.timing_of(shown) if timing_draft is None or timing_error is None else timing_draft
        when = current.get("when") or {}
        timing = {
            "editable": step_timing.editable(step),
            "offset": current.get("offset") or "",
            "at": current.get("at") or "",
            "vip": {True: "yes", False: "no"}.get(when.get("vip"), "") if isinstance(when.get("vip"), bool) else "",
            "area": ", ".join(when.get("area") or []),
            "area_not": ", ".join(when.get("area_not") or []),
            "category": ", ".join(when.get("category") or []),
            "segment": list(when.get("segment") or []),
            "segments": SEGMENTS,
            "own": ref in (practice.step_timing or {}),
            "file": step_timing.describe(file_step),
            "described": step_timing.describe(shown),
            "preview": _timing_preview(db, practice, patient, shown),
            "previewing": timing_draft is not None and timing_error is None,
            "error": timing_error,
            "pending": _pending(db, practice.id, step),
        }
        return render_template(
            "settings_plans.html",
            timing=timing,
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


@bp.post("/settings/plans/<ref>/timing")
def save_step_timing(ref: str):
    """Preview a step's new offset, time of day and conditions without saving, save them (checked as a plan
    file is) and re-plan its touches not yet sent, or go back to the plan file's timing."""
    action = request.form.get("action", "preview")
    file_step = _step_or_404(plans_for(runtime.settings()), ref)
    draft = step_timing.from_form(request.form, file_step)
    try:
        new_step = file_step if action == "reset" else step_timing.checked(file_step, draft)
    except PlanError as error:
        return _page(ref, timing_draft=draft, timing_error=str(error)), 400
    if action == "preview":
        return _page(ref, timing_draft=draft)
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        timings = dict(practice.step_timing or {})
        before = timings.get(ref) or step_timing.timing_of(file_step)
        if action == "reset" or step_timing.timing_of(new_step) == step_timing.timing_of(file_step):
            timings.pop(ref, None)  # the file's own timing is not a change
        else:
            timings[ref] = step_timing.timing_of(new_step)
        practice.step_timing = timings
        db.add(practice)
        after = timings.get(ref) or step_timing.timing_of(file_step)
        if before == after:
            flash("Nothing to change.", "info")
            return redirect(url_for("dashboard.plans_page", step=ref, patient=request.form.get("patient") or None))
        counts = planner.replan_step(db, practice.id, new_step, now)
        audit_change(
            db,
            practice.id,
            "step_timing_changed",
            "practice",
            practice.id,
            {ref: before},
            {ref: after, "replanned": counts},
            now,
        )
    flash(
        f"Saved: {step_timing.describe(new_step)}. Touches planned from now on follow it; of those planned and not "
        f"sent yet, {counts['moved']} moved, {counts['stopped']} no longer go, {counts['unchanged']} kept their time.",
        "info",
    )
    return redirect(url_for("dashboard.plans_page", step=ref, patient=request.form.get("patient") or None))
