"""Plans load from the shipped defaults and a practice file; every mistake is refused with file, step and reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.errors import PlanError
from bot.touches import composer, plans


def write(tmp_path, body: str):
    path = tmp_path / "plans.toml"
    path.write_text(textwrap.dedent(body))
    return path


def test_defaults_cover_every_category_in_both_languages_within_two_segments():
    book = plans.load()
    for category in (*plans.CATEGORIES, plans.EVERYONE, plans.MISSED):
        assert category in book.plans and book.plans[category].steps
    for plan in book.plans.values():
        for step in plan.steps:
            for language in ("en", "es"):
                rendered = composer.render(step.template(language), composer.SAMPLE_LONG)
                assert rendered.segments <= 2, (plan.name, step.key, language)
                # English is GSM-7; Spanish keeps its accents (UCS-2) when they fit, else goes folded
                assert rendered.encoding == "GSM-7" or (language == "es" and not rendered.folded), (
                    plan.name,
                    step.key,
                    language,
                )


def test_filler_rebook_depends_on_the_area():
    book = plans.load()
    lips = {s.key: s for _p, s in book.steps_after_visit("filler", "Lips")}
    cheeks = {s.key: s for _p, s in book.steps_after_visit("filler", "cheeks")}
    unknown = {s.key: s for _p, s in book.steps_after_visit("filler", None)}
    assert "rebook_soft" in lips and "rebook_structural" not in lips
    assert lips["rebook_soft"].offset.days in range(150, 181)
    assert "rebook_structural" in cheeks and cheeks["rebook_structural"].offset.days in range(300, 336)
    assert "rebook" in unknown and "rebook_soft" not in unknown


def test_marketing_is_derived_from_purpose():
    book = plans.load()
    assert book.step(plans.EVERYONE, "referral").marketing is True
    assert book.step(plans.EVERYONE, "winback_16w").marketing is True  # reactivation with an offer
    assert book.step(plans.EVERYONE, "winback_12w").marketing is False
    assert book.step("neuromodulator", "checkin").marketing is False


def test_practice_file_overrides_and_adds_steps(tmp_path):
    path = write(
        tmp_path,
        """
        [[plans.neuromodulator.steps]]
        key = "rebook"
        offset = "85d"
        purpose = "rebook"
        text.en = "Hi {first_name}, time for your next {treatment}? {booking_hint}."

        [[plans.neuromodulator.steps]]
        key = "reactivation"
        enabled = false
        """,
    )
    book = plans.load(path)
    steps = {s.key: s for s in book.plans["neuromodulator"].steps}
    assert steps["rebook"].offset.days == 85 and "reactivation" not in steps
    assert steps["rebook"].template("es").startswith("Hi {first_name}")  # falls back to English
    assert "checkin" in steps


_STOP = "Happy birthday {first_name}! From {practice}. Reply STOP to opt out."


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"purpose": "spam"}, "unknown purpose 'spam'"),
        ({"offset": "tomorrow"}, "bad offset"),
        ({"offset": "-7d"}, "bad offset"),
        ({"text": "Hi {first_nam}!"}, "unknown placeholder(s) {first_nam}"),
        ({"text": "Hi {first_name}! " + "Lots of words here. " * 16}, "segments"),
        ({"purpose": "upsell"}, "must say how to opt out"),
        # birthday steps count from the birthday and belong in its plan
        (
            {"plan": "birthday", "offset": "0d", "purpose": "upsell", "text": _STOP},
            'steps of the birthday plan have purpose "birthday"',
        ),
        ({"plan": "everyone", "purpose": "birthday", "text": _STOP}, "a birthday step belongs in the birthday plan"),
        ({"plan": "birthday", "offset": "40d", "purpose": "birthday", "text": _STOP}, "within 27 days of the birthday"),
        (
            {
                "plan": "birthday",
                "offset": "0d",
                "purpose": "birthday",
                "text": _STOP,
                "extra": 'when = { area = ["lips"] }',
            },
            "only when.vip applies",
        ),
        (
            {
                "plan": "birthday",
                "offset": "0d",
                "purpose": "birthday",
                "text": _STOP,
                "extra": 'when = { vip = "yes" }',
            },
            "when.vip must be true or false",
        ),
        ({"plan": "everyone", "offset": "0d"}, "must be after the visit"),
        # upcoming steps count back from a booked visit, and only they know its time
        ({"text": "See you {visit_time}."}, "{visit_time} is only known before a booked visit"),
        ({"plan": "upcoming", "offset": "45d"}, "between 1 hour and 30 days before the visit"),
        ({"offset": "-2d"}, "steps before a booked visit go in the upcoming plan"),
        ({"extra": 'when = { category = ["filler"] }'}, "when.category is for the upcoming plan"),
        # a name without letters or digits has no key, and would match every service without an area
        ({"extra": 'when = { area = ["lips", "-"] }'}, "when.area has a name without letters or digits"),
    ],
)
def test_plan_mistakes_are_refused_naming_file_step_and_reason(tmp_path, changes, reason):
    values = {
        "plan": "neuromodulator",
        "offset": "5d",
        "purpose": "care",
        "extra": "",
        "text": "Hi {first_name}, it's {sender} at {practice}.",
    }
    values.update(changes)
    path = write(
        tmp_path,
        f"""
        [[plans.{values["plan"]}.steps]]
        key = "extra"
        offset = "{values["offset"]}"
        purpose = "{values["purpose"]}"
        {values["extra"]}
        text.en = "{values["text"]}"
        """,
    )
    with pytest.raises(PlanError) as caught:
        plans.load(path)
    message = str(caught.value)
    assert str(path) in message and f"plan {values['plan']}, step extra" in message and reason in message


def test_upsell_cannot_be_declared_non_marketing(tmp_path):
    path = write(
        tmp_path,
        """
        [[plans.filler.steps]]
        key = "upsell_lips"
        offset = "30d"
        purpose = "upsell"
        marketing = false
        text.en = "Hi {first_name}! Reply STOP to opt out."
        """,
    )
    with pytest.raises(PlanError, match="step upsell_lips: a upsell step is marketing"):
        plans.load(path)


def test_bad_toml_and_unknown_fields_are_refused(tmp_path):
    with pytest.raises(PlanError, match="not valid TOML"):
        plans.load(write(tmp_path, "[plans.filler\n"))
    with pytest.raises(PlanError, match="step x: unknown field"):
        plans.load(
            write(
                tmp_path,
                """
            [[plans.filler.steps]]
            key = "x"
            offest = "1d"
            purpose = "care"
            text.en = "Hi"
            """,
            )
        )


def test_the_readme_example_plan_file_loads(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("### Editing plans", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    path = tmp_path / "plans.toml"
    path.write_text(example, encoding="utf-8")
    book = plans.load(path)
    assert book.step("neuromodulator", "rebook").offset_text == "85d"
    assert book.step("filler", "rebook_structural") is None
    assert book.step("birthday", "birthday").at.isoformat() == "09:00:00"
