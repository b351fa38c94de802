"""A practice's own timing of a plan step: its offset, local time of day and conditions, edited on the
dashboard's Plans page and used by the planner for every touch it plans after the change.

Kept in `Practice.step_timing`, keyed "plan.step" like the step texts, as the plan file writes them:
{"offset": "85d", "at": "10:30", "when": {"vip": true, "area": ["lips"]}}. A change is checked by the plan
loader's own code (`plans.build_step` over the step as the file has it, with the new offset, time and
conditions), so the web refuses exactly what a plan file would, with the same reason.

Only the plans the planner times from a visit or a birthday can be edited here: each category's plan,
`everyone`, `missed`, `upcoming` and `birthday`. The others are timed by what they answer (the day a patient
named, a booking, an offer's moment) and keep the plan file's timing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from bot.errors import PlanError
from bot.touches.plans import (
    BIRTHDAY,
    DEFERRED,
    NEWS,
    OFFERS,
    UPCOMING,
    PlanBook,
    Step,
    build_step,
)

log = logging.getLogger("aftercare.plans")

SOURCE = "the Plans page"
"""Where a refused timing came from, as the plan loader's messages name a file."""
NOT_EDITABLE = frozenset({DEFERRED, OFFERS, *NEWS})
"""Plans timed by what they answer, not from a visit: their timing stays the plan file's."""
LIST_CONDITIONS = ("area", "area_not", "category")
"""Conditions written as lists of names ("lips, cheeks" on the page)."""


def editable(step: Step) -> bool:
    """Whether the Plans page may change this step's timing and conditions."""
    return step.plan not in NOT_EDITABLE


def raw_of(step: Step) -> dict:
    """A step as a plan file's table would write it (what `build_step` reads)."""
    raw: dict = {
        "key": step.key,
        "offset": step.offset_text,
        "channel": step.channel,
        "purpose": step.purpose,
        "marketing": step.marketing,
        "offer": step.offer,
        "when": when_of(step),
        "text": dict(step.text),
    }
    if step.at is not None:
        raw["at"] = step.at.strftime("%H:%M")
    if step.subject:
        raw["subject"] = dict(step.subject)
    if step.email:
        raw["email"] = dict(step.email)
    return raw


def when_of(step: Step) -> dict:
    """A step's conditions as a plan file writes them."""
    when: dict = {}
    if step.vip is not None:
        when["vip"] = step.vip
    for name in (*LIST_CONDITIONS, "segment"):
        values = getattr(step, name)
        if values is not None:
            when[name] = list(values)
    return when


def timing_of(step: Step) -> dict:
    """What `Practice.step_timing` keeps of a step: offset, time of day and conditions."""
    return {"offset": step.offset_text, "at": step.at.strftime("%H:%M") if step.at else None, "when": when_of(step)}


def checked(step: Step, timing: dict) -> Step:
    """The step with a new offset, time of day and conditions, checked as a plan file is; PlanError saying why.

    `step` is the plan file's step: its purpose, channel, consent and texts stay as the file has them."""
    if not editable(step):
        raise PlanError(
            f"{SOURCE}: plan {step.plan}, step {step.key}: its timing follows what it answers; "
            "change it in the plan file"
        )
    unknown = set(timing) - {"offset", "at", "when"}
    if unknown:
        raise PlanError(f"{SOURCE}: plan {step.plan}, step {step.key}: unknown field(s) {', '.join(sorted(unknown))}")
    raw = raw_of(step)
    raw["offset"] = timing.get("offset")
    raw.pop("at", None)
    if timing.get("at"):
        raw["at"] = timing["at"]
    raw["when"] = timing.get("when") or {}
    return build_step(SOURCE, step.plan, raw, require_all_languages=False)


def from_form(form, step: Step) -> dict:
    """The timing a Plans page form describes: offset, time of day ("" for none) and conditions
    (VIP any/yes/no, areas and categories as comma-separated names, segments ticked)."""
    when: dict = {}
    vip = (form.get("vip") or "").strip()
    if vip in ("yes", "no"):
        when["vip"] = vip == "yes"
    elif vip:
        when["vip"] = vip  # refused by the loader with its reason
    for name in LIST_CONDITIONS:
        values = [part.strip() for part in (form.get(name) or "").split(",") if part.strip()]
        if values:
            when[name] = values
    segments = [value for value in form.getlist("segment") if value]
    if segments:
        when["segment"] = segments
    return {"offset": (form.get("offset") or "").strip(), "at": (form.get("at") or "").strip() or None, "when": when}


_cache: dict[tuple[int, str], tuple[PlanBook, PlanBook]] = {}


def for_practice(book: PlanBook, practice) -> PlanBook:
    """The plans as this practice times them: the book with the practice's own offsets, times and
    conditions (`Practice.step_timing`) over the file's. A saved timing that the plan file no longer
    allows (the file changed since) is logged and the file's step is used."""
    timings = (getattr(practice, "step_timing", None) or {}) if practice is not None else {}
    if not timings:
        return book
    key = (id(book), json.dumps(timings, sort_keys=True))
    cached = _cache.get(key)
    if cached is not None and cached[0] is book:
        return cached[1]
    plans = dict(book.plans)
    for ref, timing in timings.items():
        plan_name, _, step_key = ref.partition(".")
        plan = plans.get(plan_name)
        step = book.step(plan_name, step_key)
        if plan is None or step is None:
            continue
        try:
            own = checked(step, timing)
        except PlanError as error:
            log.warning("practice %s: the Plans page's timing of %s no longer loads: %s", practice.id, ref, error)
            continue
        steps = tuple(sorted((own if s.key == step_key else s for s in plan.steps), key=lambda s: s.offset))
        plans[plan_name] = replace(plan, steps=steps)
    found = PlanBook(plans=plans, files=book.files)
    if len(_cache) > 64:
        _cache.clear()
    _cache[key] = (book, found)
    return found


def describe(step: Step) -> str:
    """A step's timing and conditions in plain words ("85 days after the visit, at 10:30 local; VIPs only")."""
    amount, unit = int(step.offset_text.strip()[:-1]), step.offset_text.strip()[-1]
    words = {"h": "hour", "d": "day", "w": "week"}[unit]
    span = f"{amount} {words}{'s' if amount != 1 else ''}"
    anchor = {
        UPCOMING: "before the visit",
        BIRTHDAY: "after the start of the birthday",
    }.get(step.plan, "after a cancellation or no-show" if step.plan == "missed" else "after the visit")
    text = f"{span} {anchor}" + (f", at {step.at.strftime('%H:%M')} local" if step.at else "")
    conditions = []
    if step.vip is not None:
        conditions.append("VIPs only" if step.vip else "not for VIPs")
    if step.area is not None:
        conditions.append("only " + ", ".join(a.replace("_", " ") for a in step.area))
    if step.area_not is not None:
        conditions.append("not " + ", ".join(a.replace("_", " ") for a in step.area_not))
    if step.category is not None:
        conditions.append("only before " + ", ".join(c.replace("_", " ") for c in step.category))
    if step.segment is not None:
        conditions.append("segments: " + ", ".join(step.segment))
    return text + ("; " + "; ".join(conditions) if conditions else "")
