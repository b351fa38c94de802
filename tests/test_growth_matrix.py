"""The upsell matrix: shipped defaults as the issue lists them, versions per practice, the manager's form."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from sqlmodel import select

from bot.errors import MatrixError
from bot.growth import matrix, offers
from bot.growth.matrix_form import from_form, to_form
from bot.touches import plans
from store.db import session_scope
from store.models import AuditEvent, GrowthConfig, Offer
from tests import factories
from tests.helpers import add_staff, csrf_token, sign_in

CATEGORIES = set(plans.CATEGORIES)


def _names(items) -> list[str]:
    return [item.name for item in items]


def test_shipped_defaults_pair_each_primary_service_as_the_benchmarks_say():
    table = matrix.defaults()
    botox, filler, hydra, laser = (table.entry(k) for k in ("botox", "filler", "hydrafacial", "laser_resurfacing"))
    assert _names(botox.add_ons) == ["Brow lift", "Lip flip"]
    assert _names(botox.retail) == ["SPF", "Peptide serum"]
    assert _names(botox.follow_up) == ["Skincare consult", "Filler evaluation"] and botox.window == (30, 60)
    assert _names(filler.add_ons) == ["Touch-up", "Microneedling"]
    assert _names(filler.retail) == ["Hyaluronic serum", "Arnica gel"]
    assert _names(filler.follow_up) == ["Botox refresh", "HydraFacial"]
    assert _names(hydra.add_ons) == ["LED therapy", "Booster"]
    assert _names(hydra.retail) == ["Home-care kit", "Vitamin C serum"]
    assert _names(hydra.follow_up) == ["Peel", "Laser"]
    assert _names(laser.add_ons) == ["Numbing upgrade", "Cryo cooling"]
    assert _names(laser.retail) == ["Recovery serum", "SPF 50"]
    assert _names(laser.follow_up) == ["Follow-up session", "Filler consult"]
    assert botox.add_ons[1].price == Decimal("150.00")
    assert table.version == 0


def test_every_demo_service_but_the_consultation_has_a_matrix_row():
    from bot.demo.seed import SERVICES

    table = matrix.defaults()
    for code, _name, _es, category, _minutes, _price, _area in SERVICES:
        service = type("S", (), {"code": code, "category": category})()
        assert (table.entry_for(service) is None) == (category == "consultation"), code


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["services"]["botox"].update(return_days=0), "return_days"),
        (lambda d: d["services"]["botox"]["follow_up"].update(window="60-30d"), "window"),
        (lambda d: d["services"]["botox"]["add_ons"].append({"name": ""}), "name"),
        (lambda d: d["services"]["botox"]["follow_up"]["items"].append({"name": "Peel"}), "code or category"),
        (lambda d: d["flags"].update(decline_rate=75), "fraction"),
        (lambda d: d.update(extra={}), "unknown table"),
    ],
)
def test_a_matrix_with_a_mistake_is_refused_saying_where(change, message):
    document = matrix.defaults().document
    change(document)
    with pytest.raises(MatrixError, match=message):
        matrix.check(document)


def test_each_save_is_a_new_version_and_old_ones_stay(db_url, settings):
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        first = matrix.defaults().document
        first["services"]["botox"]["add_ons"] = [{"name": "Lip flip", "price": 175}]
        assert matrix.save(session, practice.id, first, "cli").version == 1
        second = matrix.current(session, practice.id).document
        second["segments"]["vip_min_treatments"] = 5
        assert matrix.save(session, practice.id, second, "cli").version == 2
        with pytest.raises(MatrixError):
            matrix.save(session, practice.id, {"services": {}}, "cli")
        current = matrix.current(session, practice.id)
        assert current.version == 2 and current.setting("segments", "vip_min_treatments") == 5
        assert current.entry("botox").add_ons[0].price == Decimal("175.00")
        kept = session.exec(select(GrowthConfig).where(GrowthConfig.version == 1)).one()
        assert kept.document["segments"]["vip_min_treatments"] == 3
        audits = session.exec(select(AuditEvent).where(AuditEvent.action == "matrix_changed")).all()
        assert [a.detail["to_version"] for a in audits] == [1, 2]
        assert audits[1].detail["changed"] == [
            "segments: {'vip_min_treatments': 3, 'new_max_treatments': 1, 'lapsed_after_days': 180} -> "
            "{'vip_min_treatments': 5, 'new_max_treatments': 1, 'lapsed_after_days': 180}"
        ]


def test_the_form_reads_back_what_it_shows():
    table = matrix.defaults()
    form = to_form(table)
    assert form["botox.add_ons"] == "Brow lift | Lifting de cejas $100; Lip flip $150"
    assert (
        form["laser_resurfacing.follow_up"]
        == "Follow-up session | Sesión de seguimiento [laser_resurfacing] repeat; Filler consult | Consulta de relleno [filler]"
    )
    assert matrix.check(from_form(form, table, CATEGORIES)).entries == table.entries
    form["botox.follow_up"] = "Skincare consult"
    with pytest.raises(MatrixError, match="in brackets"):
        from_form(form, table, CATEGORIES)


@pytest.fixture
def spa(settings, db_url):
    """A practice with a manager and a front-desk member who both sign in."""
    with session_scope(db_url) as session:
        practice_id = factories.practice(session).id
    add_staff(db_url, practice_id, name="Mo Manager", role="manager", email="mo@glow.test")
    add_staff(db_url, practice_id, name="Fran Desk", role="front_desk", email="fran@glow.test")
    return practice_id


def test_a_manager_edits_the_matrix_in_the_web_app_as_a_new_audited_version(spa, db_url):
    client, _ = sign_in("mo@glow.test")
    page = client.get("/offers/matrix").get_data(as_text=True)
    assert "version 0" in page and "Brow lift | Lifting de cejas $100; Lip flip $150" in page
    form = to_form(matrix.defaults())
    form["botox.add_ons"] = "Lip flip | lip flip con Botox $175; Brow lift $100"
    response = client.post("/offers/matrix", data={"csrf_token": csrf_token(page), **form})
    assert response.status_code == 302
    assert "Saved as version 1" in client.get("/offers/matrix").get_data(as_text=True)
    bad = {**form, "botox.window": "sixty days"}
    token = csrf_token(client.get("/offers/matrix").get_data(as_text=True))
    client.post("/offers/matrix", data={"csrf_token": token, **bad})
    assert "Not saved" in client.get("/offers/matrix").get_data(as_text=True)
    with session_scope(db_url) as session:
        current = matrix.current(session, spa)
        assert current.version == 1
        assert [i.name for i in current.entry("botox").add_ons] == ["Lip flip", "Brow lift"]
        # the Spanish name is the manager's; without one (the brow lift now) Spanish texts use the English name
        assert [i.label("es") for i in current.entry("botox").add_ons] == ["lip flip con Botox", "Brow lift"]
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "matrix_changed")).one()
        assert audit.actor.startswith("staff:") and audit.detail["changed"] == ["services.botox: changed"]


def test_front_desk_sees_the_matrix_but_may_not_change_it(spa, db_url):
    client, _ = sign_in("fran@glow.test")
    page = client.get("/offers/matrix").get_data(as_text=True)
    assert "Managers edit the matrix" in page
    form = to_form(matrix.defaults())
    assert client.post("/offers/matrix", data={"csrf_token": csrf_token(page), **form}).status_code == 403
    with session_scope(db_url) as session:
        assert session.exec(select(GrowthConfig)).first() is None


def test_a_spanish_offer_names_its_item_in_spanish_from_the_version_it_came_from(db_url):
    """{offer} in a Spanish text is the item's Spanish name in the matrix version the offer was made from
    (an edit afterwards changes later offers only); English texts, and items without one, use the name."""
    with session_scope(db_url) as session:
        practice_id = factories.practice(session).id
        patient = factories.patient(session, practice_id, language="es")

        def offer(version: int, item: str) -> Offer:
            row = Offer(
                practice_id=practice_id,
                patient_id=patient.id,
                moment="pre_visit",
                primary="botox",
                kind="add_on",
                item=item,
                price=Decimal("100"),
                matrix_version=version,
                variant="a",
                status="planned",
                created_by="system",
            )
            session.add(row)
            session.flush()
            return row

        assert offers.label(session, offer(0, "Brow lift"), "es") == "lifting de cejas"
        assert offers.label(session, offer(0, "Brow lift"), "en") == "brow lift"
        assert offers.label(session, offer(0, "HydraFacial"), "es") == "HydraFacial"  # no Spanish name: the item's
        document = copy.deepcopy(matrix.default_document())
        document["services"]["botox"]["add_ons"][0]["es"] = "levantamiento de cejas"
        matrix.save(session, practice_id, document, "staff:1")
        assert offers.label(session, offer(1, "Brow lift"), "es") == "levantamiento de cejas"
        assert offers.label(session, offer(0, "Brow lift"), "es") == "lifting de cejas"
        assert offers.placeholders(offer(1, "Brow lift"), "es", "levantamiento de cejas") == {
            "offer": "levantamiento de cejas",
            "offer_for_price": " por $100",
        }
