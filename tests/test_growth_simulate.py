"""`aftercare simulate --days 365` over the demo data: per moment and offer, who would receive it and who is
held back, with reasons; nothing is kept."""

from __future__ import annotations

import io
import re

import pytest
from sqlmodel import select

from bot.touches.preview import main_simulate
from store.db import session_scope
from store.models import Offer, Touch


@pytest.mark.slow  # seeds the demo practice (on PostgreSQL, a minute or more on a busy machine)
@pytest.mark.timeout(300)
def test_a_year_of_the_demo_reports_each_moment_with_its_held_back_reasons(demo_practice, db_url, settings):
    with session_scope(db_url) as session:
        touches_before = len(session.exec(select(Touch.id)).all())
    out = io.StringIO()
    assert main_simulate(["--days", "365"], out=out) == 0
    text = out.getvalue()
    report = text[text.index("== Offers") :]
    moments = dict(re.findall(r"^(\w+): (\d+) would receive", report, re.MULTILINE))
    assert set(moments) >= {"pre_visit", "history", "rebooking", "reactivation_vip", "reactivation_new"}
    assert int(moments["pre_visit"]) > 0 and int(moments["history"]) > 0 and int(moments["reactivation_vip"]) > 0
    assert "no_marketing_consent" in report
    assert re.search(r"Brow lift \(add_on, variant [ab]\): \d+ would receive", report)
    assert "Since you're coming in" in text or "pair their visit with" in text
    with session_scope(db_url) as session:
        assert session.exec(select(Offer)).first() is None
        assert len(session.exec(select(Touch.id)).all()) == touches_before
