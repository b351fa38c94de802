"""Follow-up plans as data: the shipped defaults merged with a practice's own TOML file.

A plan is a list of steps for one service category, plus six special plans:
`everyone` (applied after every completed visit), `missed` (after a
cancellation or a no-show), `birthday` (once a year; its offsets count from
the start of the patient's birthday, so "0d" with `at` is the day itself) and
`upcoming` (before a booked visit; its offsets count back from the visit's
start, so "1d" with `at = "10:00"` is 10:00 the day before) and `deferred`
(the one check-back a patient asks for with "not now, maybe next month"; its
`nudge` step's offset is the wait when they name no time) and `referred`
(the thank-you to a patient whose referral code a new patient booked with,
counted from the booking) and `welcome` (that new patient's welcome and booking confirmation: the
`welcome` step on care consent, `welcome_gift` instead when they gave marketing consent).
A step:

    [[plans.neuromodulator.steps]]
    key = "checkin"            # unique within the plan
    offset = "1d"              # after the visit: "3h", "1d", "12d", "11w"
    at = "10:30"               # optional: local time of day for the send
    channel = "sms"            # sms | email (email falls back to the sms text)
    purpose = "care"           # see PURPOSES
    marketing = false          # optional; derived from purpose (and `offer`) when left out
    offer = false              # the text offers something (a reactivation with an offer is marketing)
    when = { area = ["lips"] } # optional: area / area_not match Service.area; vip = true / false;
                               # segment = ["vip", "lapsed"] (bot.growth.segments: vip, new, active, lapsed);
                               # category = ["filler"] (upcoming plan: the booked service's category)
    text.en = "Hi {first_name}, ..."
    text.es = "Hola {first_name}, ..."
    subject.en / email.en      # for channel = "email"

A practice file (AFTERCARE_PLANS_FILE) is merged over the defaults: a plan
there replaces the default's steps of the same key, adds new ones, and drops
one with `enabled = false`; `replace = true` on a plan discards the default
steps. Every mistake is refused at load with PlanError naming the file, the
step and the reason.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from bot.errors import PlanError
from bot.touches import composer
from bot.vocabulary import Segment

DEFAULT_FILE = resources.files("bot.touches") / "plans_default.toml"
"""The plans every practice starts with."""

CATEGORIES = (
    "neuromodulator",
    "filler",
    "facial",
    "peel",
    "microneedling",
    "laser_resurfacing",
    "ipl",
    "laser_hair_removal",
    "body_contouring",
    "prp",
)
"""Service categories the shipped defaults cover (a practice file may add more)."""

EVERYONE, MISSED, BIRTHDAY, UPCOMING, DEFERRED, REFERRED, OFFERS, WELCOME = (
    "everyone",
    "missed",
    "birthday",
    "upcoming",
    "deferred",
    "referred",
    "offers",
    "welcome",
)
"""The plan applied after every visit, the one after a cancellation or no-show, the yearly one,
the one before a booked visit, the check-back a patient asked for, the referral thank-you, and the
welcome of a new patient who booked with a referral code."""

NEWS = (REFERRED, WELCOME)
"""Plans that answer something the patient (or their friend) just did: they go as soon as they are due,
counted from the booking ("0h" allowed), and the frequency caps do not hold them back (consent, opt-out,
suppression and quiet hours still apply)."""

SPECIAL = (BIRTHDAY, UPCOMING, DEFERRED, REFERRED, OFFERS, WELCOME)
"""Plans whose touches hang off a visit without being that visit's follow-up."""

UPCOMING_MAX_OFFSET = timedelta(days=30)
"""How far ahead of a booked visit an upcoming step may go out."""

BIRTHDAY_MAX_OFFSET = timedelta(days=27)
"""A birthday step goes out within this long of the birthday (so the same year's birthday, whatever the month)."""

PURPOSES = ("care", "results", "rebook", "reactivation", "review", "upsell", "referral", "birthday")
"""What a step is for; decides consent and suppression."""

ALWAYS_MARKETING = frozenset({"upsell", "referral", "birthday"})
"""Purposes that are marketing whatever the plan says (they need marketing consent)."""

REBOOK_PURPOSES = ("rebook", "reactivation")
"""Purposes a new booking makes pointless."""

CHANNELS = ("sms", "email")
LANGUAGES = ("en", "es")
"""Languages the shipped texts are written in; a practice plan needs `en` at least."""

STEP_FIELDS = {
    "key",
    "offset",
    "at",
    "channel",
    "purpose",
    "marketing",
    "offer",
    "when",
    "text",
    "subject",
    "email",
    "enabled",
}
PLAN_FIELDS = {"label", "steps", "replace", "replaces_everyone"}
WHEN_FIELDS = {"area", "area_not", "vip", "category", "segment"}
SEGMENTS = tuple(Segment)
"""Segments a step may name in `when.segment` (bot.growth.segments computes them)."""

MAX_OFFSET = timedelta(days=730)
_OFFSET = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def area_key(area: str | None) -> str | None:
    """An area as plans name it: lower case, words joined by underscores ("Under eyes" -> under_eyes)."""
    if not area:
        return None
    return re.sub(r"[^a-z0-9]+", "_", area.strip().lower()).strip("_") or None


@dataclass(frozen=True)
class Step:
    plan: str
    key: str
    offset: timedelta
    offset_text: str
    purpose: str
    marketing: bool
    channel: str = "sms"
    at: time | None = None
    offer: bool = False
    area: tuple[str, ...] | None = None
    area_not: tuple[str, ...] | None = None
    vip: bool | None = None
    category: tuple[str, ...] | None = None
    segment: tuple[str, ...] | None = None
    text: dict = field(default_factory=dict)
    subject: dict = field(default_factory=dict)
    email: dict = field(default_factory=dict)

    def applies_to(
        self, area: str | None, vip: bool = False, category: str | None = None, segments: frozenset = frozenset()
    ) -> bool:
        """Whether the step's conditions hold for a service's area and category and a patient's VIP flag
        and segments."""
        if self.vip is not None and bool(vip) != self.vip:
            return False
        if self.segment is not None and not set(self.segment) & segments:
            return False
        if self.category is not None and category not in self.category:
            return False
        key = area_key(area)
        if self.area is not None and key not in self.area:
            return False
        return not (self.area_not is not None and key in self.area_not)

    def template(self, language: str, part: str = "text") -> str:
        """The template for a language (falls back to English, which loading requires of every part a step has)."""
        texts = getattr(self, part)
        return texts.get(language) or texts["en"]


@dataclass(frozen=True)
class Plan:
    name: str
    label: str
    steps: tuple[Step, ...]
    replaces_everyone: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanBook:
    """Every plan a practice uses, and the files they came from."""

    plans: dict
    files: tuple[str, ...]

    def steps_after_visit(
        self, category: str, area: str | None = None, vip: bool = False, segments: frozenset = frozenset()
    ) -> list[tuple[Plan, Step]]:
        """The steps a completed visit of this category plans: its own plan's and the everyone plan's."""
        chosen: list[tuple[Plan, Step]] = []
        plan = self.plans.get(category)
        skip: set[str] = set()
        if plan is not None:
            chosen += [(plan, s) for s in plan.steps if s.applies_to(area, vip, None, segments)]
            skip = set(plan.replaces_everyone)
        everyone = self.plans.get(EVERYONE)
        if everyone is not None:
            chosen += [
                (everyone, s) for s in everyone.steps if s.key not in skip and s.applies_to(area, vip, None, segments)
            ]
        return chosen

    @property
    def uses_segments(self) -> bool:
        """Whether any step names a segment (only then does planning look segments up)."""
        return any(step.segment is not None for plan in self.plans.values() for step in plan.steps)

    def steps_after_missed(self) -> list[tuple[Plan, Step]]:
        plan = self.plans.get(MISSED)
        return [(plan, s) for s in plan.steps] if plan else []

    def steps_before_visit(self, category: str, area: str | None = None, vip: bool = False) -> list[tuple[Plan, Step]]:
        """The upcoming plan's steps for a booked visit of this category."""
        plan = self.plans.get(UPCOMING)
        return [(plan, s) for s in plan.steps if s.applies_to(area, vip, category)] if plan else []

    def steps_on_birthday(self, vip: bool = False) -> list[tuple[Plan, Step]]:
        """The birthday plan's steps for a patient (VIP or not)."""
        plan = self.plans.get(BIRTHDAY)
        return [(plan, s) for s in plan.steps if s.applies_to(None, vip)] if plan else []

    def step(self, plan: str, key: str) -> Step | None:
        found = self.plans.get(plan)
        return next((s for s in found.steps if s.key == key), None) if found else None


def parse_offset(text, plan: str | None = None) -> timedelta:
    """ "3h", "1d", "12d", "11w" as a timedelta; ValueError saying why otherwise.

    Visit steps come after the visit; birthday steps count from the start of the birthday ("0d" is
    allowed); upcoming steps count back from the start of a booked visit.
    """
    if not isinstance(text, str):
        raise ValueError(f'offset must be a string like "1d", got {text!r}')
    if text.strip().startswith("-") or "before" in text:
        raise ValueError(
            f"offset {text!r}: write it without a sign; steps before a booked visit go in "
            f"the {UPCOMING} plan, whose offsets count back from the visit"
        )
    match = _OFFSET.match(text)
    if not match:
        raise ValueError(f'offset {text!r} is not a number of hours, days or weeks ("4h", "1d", "11w")')
    delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if plan == UPCOMING:
        if delta <= timedelta(0) or delta > UPCOMING_MAX_OFFSET:
            raise ValueError(
                f"offset {text!r}: an upcoming step goes out between 1 hour and "
                f"{UPCOMING_MAX_OFFSET.days} days before the visit"
            )
        return delta
    if plan in NEWS:
        if delta > timedelta(days=1):
            raise ValueError(f"offset {text!r}: a {plan} step goes out within a day of the booking")
        return delta
    if plan == BIRTHDAY:
        if delta > BIRTHDAY_MAX_OFFSET:
            raise ValueError(
                f"offset {text!r}: a birthday step must go out within {BIRTHDAY_MAX_OFFSET.days} days of the birthday"
            )
        return delta
    if delta <= timedelta(0) or delta > MAX_OFFSET:
        raise ValueError(f"offset {text!r} must be after the visit and within {MAX_OFFSET.days} days")
    return delta


def _where(source: str, plan: str, key: str | None = None) -> str:
    return f"{source}: plan {plan}" + (f", step {key}" if key else "")


def _build_step(source: str, plan: str, raw: dict, require_all_languages: bool) -> Step:
    key = raw.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9_]+", key or ""):
        raise PlanError(f"{_where(source, plan)}: a step needs a key of lower-case letters, digits and _ (got {key!r})")
    where = _where(source, plan, key)
    unknown = set(raw) - STEP_FIELDS
    if unknown:
        raise PlanError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    purpose = raw.get("purpose")
    if purpose not in PURPOSES:
        raise PlanError(f"{where}: unknown purpose {purpose!r} (expected one of {', '.join(PURPOSES)})")
    if (plan == BIRTHDAY) != (purpose == "birthday"):
        raise PlanError(
            f"{where}: "
            + (
                f'steps of the {BIRTHDAY} plan have purpose "birthday"'
                if plan == BIRTHDAY
                else f"a birthday step belongs in the {BIRTHDAY} plan (its offsets count from the birthday)"
            )
        )
    try:
        offset = parse_offset(raw.get("offset"), plan)
    except ValueError as exc:
        raise PlanError(f"{where}: bad offset: {exc}") from None
    at = None
    if raw.get("at") is not None:
        match = _AT.match(str(raw["at"]))
        if not match:
            raise PlanError(f"{where}: bad time of day {raw['at']!r} (expected HH:MM)")
        at = time(int(match.group(1)), int(match.group(2)))
    channel = raw.get("channel", "sms")
    if channel not in CHANNELS:
        raise PlanError(f"{where}: unknown channel {channel!r} (expected sms or email)")
    offer = bool(raw.get("offer", False))
    derived = purpose in ALWAYS_MARKETING or (purpose == "reactivation" and offer)
    marketing = raw.get("marketing", derived)
    if not isinstance(marketing, bool):
        raise PlanError(f"{where}: marketing must be true or false")
    if derived and not marketing:
        raise PlanError(
            f"{where}: a {purpose} step{' with an offer' if offer else ''} is marketing; "
            "it cannot be marked marketing = false"
        )
    when = raw.get("when") or {}
    if not isinstance(when, dict) or set(when) - WHEN_FIELDS:
        raise PlanError(
            f"{where}: unknown condition(s) in when: {', '.join(sorted(set(when) - WHEN_FIELDS)) if isinstance(when, dict) else when!r}"
        )
    conditions: dict[str, tuple[str, ...]] = {}
    vip = when.get("vip")
    if vip is not None and not isinstance(vip, bool):
        raise PlanError(f"{where}: when.vip must be true or false")
    if plan == BIRTHDAY and set(when) - {"vip"}:
        raise PlanError(f"{where}: a birthday step has no treated area; only when.vip applies")
    if "category" in when and plan != UPCOMING:
        raise PlanError(f"{where}: when.category is for the {UPCOMING} plan (a category's own plan already has one)")
    segment = when.get("segment")
    if segment is not None:
        segment = [segment] if isinstance(segment, str) else segment
        if not isinstance(segment, list) or not segment or not all(v in SEGMENTS for v in segment):
            raise PlanError(f"{where}: when.segment must be a list of {', '.join(SEGMENTS)}")
    for name in ("area", "area_not", "category"):
        if name in when:
            values = when[name]
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise PlanError(
                    f"{where}: when.{name} must be a list of {'categories' if name == 'category' else 'areas'}"
                )
            keys = tuple(filter(None, (area_key(v) for v in values)))
            if len(keys) != len(values):  # an empty key would match every service without an area
                raise PlanError(f"{where}: when.{name} has a name without letters or digits")
            conditions[name] = keys

    texts = _templates(where, raw, "text", require=True, require_all=require_all_languages)
    if plan not in (UPCOMING, OFFERS, WELCOME) and any("visit_time" in composer.fields(t) for t in texts.values()):
        raise PlanError(
            f"{where}: {{visit_time}} is only known before a booked visit (the {UPCOMING} and {WELCOME} plans)"
        )
    if plan != OFFERS and any("offer" in composer.fields(t) for t in texts.values()):
        raise PlanError(f"{where}: {{offer}} is only known to the {OFFERS} plan's steps (bot.growth chooses it)")
    subject = email = {}
    if channel == "email":
        subject = _templates(where, raw, "subject", require=True, require_all=require_all_languages)
        email = _templates(where, raw, "email", require=True, require_all=require_all_languages)
    elif raw.get("subject") or raw.get("email"):
        raise PlanError(f"{where}: subject/email given but channel is sms")

    for language, template in texts.items():
        rendered = composer.render(template, composer.SAMPLE_LONG)
        if rendered.segments > composer.MAX_SEGMENTS:
            raise PlanError(
                f"{where}: text.{language} takes {rendered.segments} segments ({rendered.encoding}) "
                f"with long names filled in; the limit is {composer.MAX_SEGMENTS}"
            )
        if marketing and "STOP" not in template:
            raise PlanError(f'{where}: text.{language} is marketing and must say how to opt out ("Reply STOP ...")')
    return Step(
        plan=plan,
        key=key,
        offset=offset,
        offset_text=raw["offset"],
        purpose=purpose,
        marketing=marketing,
        channel=channel,
        at=at,
        offer=offer,
        area=conditions.get("area"),
        area_not=conditions.get("area_not"),
        vip=vip,
        category=conditions.get("category"),
        segment=tuple(segment) if segment else None,
        text=texts,
        subject=subject,
        email=email,
    )


def build_step(source: str, plan: str, raw: dict, require_all_languages: bool) -> Step:
    """One step from its plan-file table, with every check the loader makes; PlanError naming source and step.
    The Plans page checks a practice's timing of a step with it (bot.touches.step_timing)."""
    return _build_step(source, plan, raw, require_all_languages)


def _templates(where: str, raw: dict, part: str, require: bool, require_all: bool) -> dict:
    value = raw.get(part)
    if value is None:
        if require:
            raise PlanError(f"{where}: missing {part}.en")
        return {}
    if not isinstance(value, dict):
        raise PlanError(f'{where}: {part} must be a table of language = template (e.g. {part}.en = "...")')
    needed = LANGUAGES if require_all else ("en",)
    for language in needed:
        if not value.get(language):
            raise PlanError(f"{where}: missing {part}.{language}")
    for language, template in value.items():
        if language not in LANGUAGES:
            raise PlanError(f"{where}: {part}.{language}: unsupported language (expected {', '.join(LANGUAGES)})")
        if not isinstance(template, str) or not template.strip():
            raise PlanError(f"{where}: {part}.{language} must be non-empty text")
        try:
            composer.checked_fields(template)
        except ValueError as exc:
            raise PlanError(f"{where}: {part}.{language}: {exc}") from None
    return dict(value)


def _read(path: Path | Traversable) -> dict:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"plans"}
    if unknown:
        raise PlanError(f"{path}: unknown top-level table(s) {', '.join(sorted(unknown))} (expected [plans.<name>])")
    plans = data.get("plans", {})
    if not isinstance(plans, dict):
        raise PlanError(f"{path}: plans must be tables like [plans.filler]")
    return plans


def _build_plan(source: str, name: str, raw: dict, base: Plan | None, require_all: bool) -> Plan:
    if not isinstance(raw, dict):
        raise PlanError(f"{_where(source, name)}: must be a table")
    unknown = set(raw) - PLAN_FIELDS
    if unknown:
        raise PlanError(f"{_where(source, name)}: unknown field(s) {', '.join(sorted(unknown))}")
    steps: dict[str, Step] = {} if (base is None or raw.get("replace")) else {s.key: s for s in base.steps}
    seen = set()
    for raw_step in raw.get("steps", []):
        if not isinstance(raw_step, dict):
            raise PlanError(f"{_where(source, name)}: steps must be [[plans.{name}.steps]] tables")
        key = raw_step.get("key")
        if key in seen:
            raise PlanError(f"{_where(source, name, key)}: the key is used twice in this plan")
        seen.add(key)
        if raw_step.get("enabled", True) is False:
            if key not in steps:
                raise PlanError(f"{_where(source, name, key)}: cannot disable a step that does not exist")
            del steps[key]
            continue
        step = _build_step(source, name, raw_step, require_all)
        steps[step.key] = step
    replaces = raw.get("replaces_everyone", list(base.replaces_everyone) if base else [])
    if not isinstance(replaces, list) or not all(isinstance(r, str) for r in replaces):
        raise PlanError(f"{_where(source, name)}: replaces_everyone must be a list of step keys")
    ordered = tuple(sorted(steps.values(), key=lambda s: s.offset))
    return Plan(
        name=name,
        label=raw.get("label") or (base.label if base else name.replace("_", " ")),
        steps=ordered,
        replaces_everyone=tuple(replaces),
    )


def load(practice_file: Path | str | None = None, default_file: Path | Traversable = DEFAULT_FILE) -> PlanBook:
    """The defaults, with a practice's file merged over them; PlanError on any mistake."""
    plans: dict[str, Plan] = {}
    files = [str(default_file)]
    for name, raw in _read(default_file).items():
        plans[name] = _build_plan(str(default_file), name, raw, None, require_all=True)
    if practice_file:
        path = Path(practice_file)
        files.append(str(path))
        for name, raw in _read(path).items():
            plans[name] = _build_plan(str(path), name, raw, plans.get(name), require_all=False)
    everyone = plans.get(EVERYONE)
    everyone_keys = {s.key for s in everyone.steps} if everyone else set()
    for plan in plans.values():
        for key in plan.replaces_everyone:
            if key not in everyone_keys:
                raise PlanError(
                    f"{files[-1]}: plan {plan.name}: replaces_everyone names {key!r}, "
                    f"which is not a step of the {EVERYONE} plan"
                )
    return PlanBook(plans=plans, files=tuple(files))


@lru_cache(maxsize=8)
def _cached(path: str | None, mtime: float | None) -> PlanBook:
    return load(path)


def plans_for(settings) -> PlanBook:
    """The plans for these settings, read once per file version."""
    path = settings.plans_file
    mtime = Path(path).stat().st_mtime if path else None
    return _cached(str(path) if path else None, mtime)
