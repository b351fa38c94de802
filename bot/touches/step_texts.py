"""A practice's own wording of a plan step: edited on the dashboard's Plans page, used by the sender.

The plan files (bot/touches/plans_default.toml, AFTERCARE_PLANS_FILE) say what a step is and when it
goes; a practice may rewrite a step's SMS text per language without a file (`Practice.step_texts`,
keyed "plan.step"). A rewritten text is checked as the plan loader checks a file's: known
placeholders only, and at most two segments with long names filled in.
"""

from __future__ import annotations

from bot.errors import PlanError
from bot.touches import composer
from bot.touches.plans import LANGUAGES, Step


def key_of(step: Step) -> str:
    """Where a step's own wording is kept in `Practice.step_texts`."""
    return f"{step.plan}.{step.key}"


def template_for(practice, step: Step, language: str) -> str:
    """The SMS template a touch of this step uses: the practice's wording, else the plan file's."""
    own = ((getattr(practice, "step_texts", None) or {}).get(key_of(step)) or {}).get(language)
    return own or step.template(language)


def checked(step: Step, language: str, text: str) -> str:
    """A new text for a step, checked; PlanError saying why when it cannot be used."""
    where = f"{step.plan}.{step.key} ({language})"
    if language not in LANGUAGES:
        raise PlanError(f"{where}: unsupported language (expected {', '.join(LANGUAGES)})")
    template = " ".join((text or "").split())
    if not template:
        raise PlanError(f"{where}: the text must not be empty")
    try:
        names = composer.checked_fields(template)
    except ValueError as exc:
        raise PlanError(f"{where}: {exc}") from None
    if "visit_time" in names and step.plan != "upcoming":
        raise PlanError(f"{where}: {{visit_time}} is only known in the upcoming plan")
    longest = composer.render(template, composer.SAMPLE_LONG)
    if longest.segments > composer.MAX_SEGMENTS:
        raise PlanError(
            f"{where}: {longest.segments} segments ({longest.encoding}) with long names filled in; "
            f"the limit is {composer.MAX_SEGMENTS}"
        )
    return template
