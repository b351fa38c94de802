"""Retail sold at the desk, recorded by the front desk on the patient's page, against a seeded set of retail
offers with known answers: the sales become their offers' revenue in exact cents, the attribution (Growth
and Numbers) counts them, a yes by text alone is no revenue, and a mistake records nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from bot.growth import matrix, retail
from bot.growth.attribution import refresh, results
from store.db import session_scope
from store.models import AuditEvent, Offer, RetailSale
from tests import factories
from tests.helpers import add_staff, csrf_token, sign_in, text_in


def _offer(session, practice_id, patient_id, sent_at, item, price, **fields) -> int:
    row = Offer(
        practice_id=practice_id,
        patient_id=patient_id,
        moment="visit_summary",
        primary="botox",
        kind="retail",
        item=item,
        price=Decimal(price),
        matrix_version=0,
        segment="active",
        sent_at=sent_at,
        created_at=sent_at,
        **{"status": "sent", **fields},
    )
    session.add(row)
    session.flush()
    return row.id


@pytest.fixture
def desk(settings, clock, db_url):
    """Ana said yes to SPF ($38) ten days ago and was offered peptide serum ($65) the same day; Bea was offered
    SPF 90 days ago (past the 60-day window); Cal is another practice's patient. Fran works the front desk."""
    now = clock.now()
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        ana = factories.patient(session, practice.id)
        bea = factories.patient(session, practice.id, first_name="Bea", phone="+15125550188")
        other = factories.practice(session, name="Other Spa", slug="other", phone="+15125550111")
        cal = factories.patient(session, other.id, first_name="Cal", phone="+15125550177")
        sent = now - timedelta(days=10)
        ids = {
            "practice_id": practice.id,
            "ana": ana.id,
            "bea": bea.id,
            "cal": cal.id,
            "spf": _offer(
                session,
                practice.id,
                ana.id,
                sent,
                "SPF",
                "38",
                status="accepted",
                accepted_at=sent + timedelta(hours=1),
            ),
            "serum": _offer(session, practice.id, ana.id, sent, "Peptide serum", "65"),
            "old_spf": _offer(session, practice.id, bea.id, now - timedelta(days=90), "SPF", "38"),
            "cal_spf": _offer(session, other.id, cal.id, sent, "SPF", "38"),
        }
    add_staff(db_url, ids["practice_id"], email="fran@glow.test")
    return ids


def _desk(patient_id: int):
    """Fran signed in, with the CSRF token of the patient's page."""
    client, _ = sign_in("fran@glow.test")
    return client, csrf_token(client.get(f"/patients/{patient_id}").get_data(as_text=True))


def _sell(client, token, patient_id, **form):
    return client.post(f"/patients/{patient_id}/retail-sales", data={"csrf_token": token, **form})


def test_sales_at_the_desk_are_the_revenue_of_the_offers_they_answer(desk, db_url, clock):
    client, token = sign_in("fran@glow.test")
    page = client.get(f"/patients/{desk['ana']}").get_data(as_text=True)
    token = csrf_token(page)
    assert 'id="record-sale"' in page and '<option value="SPF">' in page
    assert _sell(client, token, desk["ana"], item="SPF", amount="38.00").status_code == 302  # matched by item
    _sell(client, token, desk["ana"], item="spf", amount="$12.50")  # a second tube, same offer
    _sell(client, token, desk["ana"], item="Peptide serum", amount="64.99", offer_id=str(desk["serum"]))
    _sell(client, token, desk["bea"], item="SPF", amount="38")  # her offer is 90 days old: counts for none
    with session_scope(db_url) as session:
        sales = session.exec(select(RetailSale).order_by(RetailSale.id)).all()
        assert [(s.patient_id, s.item, s.amount, s.offer_id) for s in sales] == [
            (desk["ana"], "SPF", Decimal("38.00"), desk["spf"]),
            (desk["ana"], "spf", Decimal("12.50"), desk["spf"]),
            (desk["ana"], "Peptide serum", Decimal("64.99"), desk["serum"]),
            (desk["bea"], "SPF", Decimal("38.00"), None),
        ]
        spf, serum, old = (session.get_one(Offer, desk[k]) for k in ("spf", "serum", "old_spf"))
        assert (spf.status, spf.revenue) == ("booked", Decimal("50.50"))
        assert (serum.status, serum.revenue, serum.accepted_at is not None) == ("booked", Decimal("64.99"), True)
        assert (old.status, old.revenue) == ("sent", None)
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "retail_sale_recorded")).all()) == 4
        refresh(session, desk["practice_id"], clock.now())
        found = results(session, desk["practice_id"], matrix.defaults())
    pairing = found.by_pairing[("botox", "SPF")]
    assert (pairing.sent, pairing.accepted, pairing.booked, pairing.revenue) == (2, 1, 1, Decimal("50.50"))
    serum_row = found.by_pairing[("botox", "Peptide serum")]
    assert (serum_row.accepted, serum_row.booked, serum_row.revenue) == (1, 1, Decimal("64.99"))
    assert found.total.revenue == Decimal("115.49")  # 38.00 + 12.50 + 64.99, exact
    page = client.get(f"/patients/{desk['ana']}").get_data(as_text=True)
    assert "Peptide serum · $64.99" in page and "SPF · $38.00" in page


@pytest.mark.parametrize(
    "form, reason",
    [
        ({"item": "SPF", "amount": "abc"}, "is not a price"),
        ({"item": "SPF", "amount": "12.345"}, "at most two decimals"),
        ({"item": "SPF", "amount": "0"}, "more than $0"),
        ({"item": "SPF", "amount": "20000"}, "at most $10,000.00"),
        ({"item": "  ", "amount": "38"}, "name what was sold"),
        ({"item": "SPF", "amount": "38", "offer_id": "cal_spf"}, "not a retail offer made to this patient"),
    ],
)
def test_a_mistake_is_refused_with_the_reason_and_records_nothing(desk, db_url, form, reason):
    client, token = _desk(desk["ana"])
    if form.get("offer_id") == "cal_spf":
        form = {**form, "offer_id": str(desk["cal_spf"])}
    response = _sell(client, token, desk["ana"], **form)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert reason in page.replace("&#39;", "'")
    with session_scope(db_url) as session:
        assert session.exec(select(RetailSale)).all() == []
        assert session.get_one(Offer, desk["spf"]).revenue is None


def test_another_practices_patient_is_not_found(desk, db_url):
    client, token = _desk(desk["ana"])
    assert _sell(client, token, desk["cal"], item="SPF", amount="38").status_code == 404
    with session_scope(db_url) as session:
        assert session.exec(select(RetailSale)).all() == []


def test_a_yes_by_text_to_a_retail_offer_is_accepted_but_no_revenue_until_it_is_sold(
    desk, db_url, clock, twilio, settings
):
    with session_scope(db_url) as session:
        serum = session.get_one(Offer, desk["serum"])
        serum.sent_at = serum.created_at = clock.now() - timedelta(hours=2)
    text_in("yes")
    with session_scope(db_url) as session:
        serum = session.get_one(Offer, desk["serum"])
        assert serum.accepted_at is not None and serum.revenue is None
        patient = session.get_one(factories.Patient, desk["ana"])
        retail.record(session, patient, "Peptide serum", Decimal("65.00"), clock.now())
    with session_scope(db_url) as session:
        assert session.get_one(Offer, desk["serum"]).revenue == Decimal("65.00")
