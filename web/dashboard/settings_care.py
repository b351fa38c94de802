"""Settings: aftercare texts. Each text for a routine side effect (per sign and treatment, English and
Spanish) as the practice words it, whether its medical director signed that wording off, by whom and
when; managers and admins rewrite a text, the medical director signs off the whole set.

A saved text is checked as the care texts file is (bot.conversation.care_texts.checked: it names the
number to call and says to call it, and fits two segments either way it is encoded), kept in
`Practice.care_texts`, and is unsigned, so not sent, until the director signs again. Every change and
every sign-off is audited.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import Session, select

from bot import runtime
from bot.conversation import care_signoff
from bot.conversation.care_texts import GENERAL, LANGUAGES, PLACEHOLDERS, care_texts, checked, digest
from bot.errors import ConfigError
from bot.messaging import segments
from bot.touches import composer
from store.db import session_scope
from store.models import StaffUser
from web.dashboard import bp
from web.dashboard.context import current_time, staff_practice
from web.dashboard.settings_common import SECTIONS, audit_change

LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def _label(key: str) -> str:
    """ "bruising.filler" -> "bruising · after filler"; "general" -> the text for any other report."""
    if key == GENERAL:
        return "general · any other routine report"
    sign, _, variant = key.partition(".")
    after = "any other treatment" if variant == "default" else variant.replace("_", " ")
    return f"{sign.replace('_', ' ')} · after {after}"


def _fits(text: str) -> dict:
    """Segments with long names filled in: accents folded (GSM-7) and kept (UCS-2)."""
    try:
        body = text.format_map(composer.SAMPLE_LONG)
    except (KeyError, ValueError, IndexError):
        return {"error": "placeholders cannot be filled in"}
    folded = segments.count(segments.normalize(body))
    kept = segments.count(segments.normalize(body, fold_accents=False))
    return {"folded": folded.segments, "kept": kept.segments, "kept_encoding": kept.encoding}


def _page(drafts: dict | None = None, errors: dict | None = None):
    """The page; `drafts` and `errors` ({key: {language: ...}}) keep a refused edit on screen."""
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        path = runtime.settings().care_texts_file
        try:
            review = care_signoff.review(db, path, practice)
            file_texts = care_texts(path, practice.slug).entries()
        except ConfigError as error:
            abort(500, description=f"The aftercare texts file cannot be read: {error}")
        own = practice.care_texts or {}
        rows = []
        for key, text in review.texts.entries().items():
            languages = []
            for language in LANGUAGES:
                shown = ((drafts or {}).get(key) or {}).get(language, text[language])
                languages.append(
                    {
                        "code": language,
                        "name": LANGUAGE_NAMES[language],
                        "text": shown,
                        "own": language in (own.get(key) or {}),
                        "error": ((errors or {}).get(key) or {}).get(language),
                        "fits": _fits(shown),
                    }
                )
            rows.append(
                {
                    "key": key,
                    "anchor": key.replace(".", "-"),
                    "label": _label(key),
                    "signed": review.is_signed(key),
                    "own": bool(own.get(key)),
                    "file_text": file_texts.get(key),
                    "languages": languages,
                }
            )
        director = g.staff.medical_director and g.staff.active
        return render_template(
            "settings_care.html",
            practice=practice,
            sections=SECTIONS,
            rows=rows,
            signoff=review.signoff,
            signer=review.signer,
            waiting=len(review.waiting),
            total=len(rows),
            current_digest=digest(review.texts.entries()),
            director=director,
            directors=_directors(db, practice.id),
            placeholders={name: composer.PLACEHOLDERS[name] for name in sorted(PLACEHOLDERS)},
        )


def _directors(db: Session, practice_id: int) -> list[str]:
    people = db.exec(
        select(StaffUser).where(
            StaffUser.practice_id == practice_id,
            StaffUser.medical_director == True,  # noqa: E712
            StaffUser.active == True,  # noqa: E712
        )
    )
    return [person.name for person in people]


@bp.get("/settings/care-texts")
def care_texts_page():
    """Every aftercare text, signed or awaiting sign-off."""
    return _page()


@bp.post("/settings/care-texts")
def save_care_text():
    """Save a rewritten text (checked as the care texts file is), or go back to the file's text."""
    key = request.form.get("key") or ""
    action = request.form.get("action", "save")
    drafts = {language: request.form.get(f"text:{language}") or "" for language in LANGUAGES}
    now = current_time()
    errors: dict = {}
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        path = runtime.settings().care_texts_file
        try:
            file_texts = care_texts(path, practice.slug).entries()
        except ConfigError as error:
            abort(500, description=f"The aftercare texts file cannot be read: {error}")
        if key not in file_texts:
            abort(404, description="No such aftercare text.")
        own_texts = dict(practice.care_texts or {})
        before = {**file_texts[key], **(own_texts.get(key) or {})}
        if action == "reset":
            own_texts.pop(key, None)
        else:
            own = {}
            for language, text in drafts.items():
                try:
                    tidy = checked(key, language, text)
                except ConfigError as error:
                    errors[language] = str(error)
                    continue
                if tidy != file_texts[key][language]:
                    own[language] = tidy  # the file's own text is not a rewrite
            if errors:
                db.rollback()
                return _page({key: drafts}, {key: errors}), 400
            own_texts[key] = own
            own_texts = {name: value for name, value in own_texts.items() if value}
        practice.care_texts = own_texts
        db.add(practice)
        after = {**file_texts[key], **(own_texts.get(key) or {})}
        changed = audit_change(
            db, practice.id, "care_text_changed", "practice", practice.id, {key: before}, {key: after}, now
        )
    if not changed:
        flash("Nothing changed.", "info")
    elif action == "reset":
        flash("Back to the file's text; it goes to patients only if the medical director signed it off.", "info")
    else:
        flash(
            "Saved. This text awaits the medical director's sign-off: until then patients get the generic reply.",
            "info",
        )
    return redirect(url_for("dashboard.care_texts_page", _anchor=key.replace(".", "-")))


@bp.post("/settings/care-texts/sign")
def sign_care_texts():
    """The medical director signs off every text as it reads now (refused when it changed since they read it)."""
    now = current_time()
    with session_scope(runtime.db_url()) as db:
        practice = staff_practice(db)
        staff = db.get(StaffUser, g.staff.id)
        path = runtime.settings().care_texts_file
        previous = care_signoff.latest(db, practice.id)
        try:
            current = digest(care_signoff.practice_texts(path, practice).entries())
            if request.form.get("digest") != current:
                flash("The texts changed since this page was opened: read them again, then sign off.", "error")
                return redirect(url_for("dashboard.care_texts_page"))
            if staff is None:
                abort(403)
            row = care_signoff.sign(db, path, practice, staff, now)
        except care_signoff.SignoffRefused as error:
            abort(403, description=str(error))
        except ConfigError as error:
            abort(500, description=f"The aftercare texts file cannot be read: {error}")
        audit_change(
            db,
            practice.id,
            "care_texts_signed_off",
            "care_text_signoff",
            row.id,
            {"digest": previous.digest if previous else None},
            {"digest": row.digest, "texts": len(row.texts), "by": staff.name},
            now,
        )
        count = len(row.texts)
    flash(f"Signed off: {count} aftercare texts go to patients as they read now.", "info")
    return redirect(url_for("dashboard.care_texts_page"))
