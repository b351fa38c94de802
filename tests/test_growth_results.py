"""Attribution and A/B against a seeded dataset with known answers; ready this week, its one-click send
through the sending rules; the staff prompt on today's visits and from the API."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlmodel import select

from bot.growth import ab, attribution, matrix
from bot.growth.attribution import refresh, results
from bot.growth.ready import ready_this_week
from store.db import session_scope
from store.models import Appointment, AuditEvent, Location, Message, Offer, Patient, Practice, Touch
from tests import factories
from tests.helpers import API_TOKEN, csrf_token, dispatch_all, sent_to, sign_in

BOTOX = {"code": "BOTOX-FOREHEAD", "name": "Botox forehead", "category": "neuromodulator", "area": "forehead"}


def _offer(session, practice_id, patient_id, sent_at, **fields) -> Offer:
    row = Offer(
        practice_id=practice_id,
        patient_id=patient_id,
        matrix_version=0,
        sent_at=sent_at,
        created_at=sent_at,
        **{"status": "sent", **fields},
    )
    session.add(row)
    return row


@pytest.fixture
def dataset(settings, clock, db_url):
    """Known answers. Brow lift before a Botox visit: 20 sent (10 per variant), 4 said yes (1 in A, 3 in B;
    $100 each), 16 no. Botox refresh after filler: 10 sent to VIPs, 6 replied, 3 yes, 2 no, 2 of the yes
    booked a $300 Botox visit within the window, and one more booked after the window (not counted)."""
    now = clock.now()
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        botox = factories.service(session, practice.id, price=300.0, **BOTOX)
        ids = []
        for i in range(30):
            ids.append(factories.patient(session, practice.id, first_name=f"P{i}", phone=f"+1512555{1000 + i}").id)
        sent = now - timedelta(days=70)
        for i in range(20):
            yes = i in (0, 10, 11, 12)
            _offer(
                session,
                practice.id,
                ids[i],
                sent,
                moment="pre_visit",
                primary="botox",
                kind="add_on",
                item="Brow lift",
                price=Decimal("100.00"),
                variant="a" if i < 10 else "b",
                segment="new",
                replied_at=sent + timedelta(hours=1),
                accepted_at=sent + timedelta(hours=1) if yes else None,
                declined_at=None if yes else sent + timedelta(hours=1),
                booked_at=sent + timedelta(hours=1) if yes else None,
                revenue=Decimal("100.00") if yes else None,
                status="booked" if yes else "declined",
            )
        for n, i in enumerate(range(20, 30)):
            _offer(
                session,
                practice.id,
                ids[i],
                sent,
                moment="history",
                primary="filler",
                kind="follow_up",
                item="Botox refresh",
                item_code="category:neuromodulator",
                segment="vip",
                accepted_at=sent + timedelta(hours=2) if n < 3 else None,
                declined_at=sent + timedelta(hours=2) if n in (3, 4) else None,
                status="accepted" if n < 3 else "declined" if n in (3, 4) else "sent",
            )
            if n < 6:
                session.add(
                    Message(
                        practice_id=practice.id,
                        patient_id=ids[i],
                        direction="in",
                        kind="inbound",
                        from_number=f"+1512555{1000 + i}",
                        to_number="+15125550100",
                        body="tell me more",
                        created_at=sent + timedelta(hours=2),
                    )
                )
        for n, days in ((0, 10), (1, 40), (2, 90)):
            patient = session.get_one(Patient, ids[20 + n])
            factories.appointment(
                session,
                patient,
                botox,
                now + timedelta(days=3),
                status="booked",
                price=300.0,
                created_at=sent + timedelta(days=days),
            )
        return {"practice_id": practice.id}


def test_attribution_counts_match_the_seeded_answers(dataset, db_url, clock):
    with session_scope(db_url) as session:
        assert refresh(session, dataset["practice_id"], clock.now()) == 6  # 6 replied, of which 2 booked
        found = results(session, dataset["practice_id"], matrix.defaults())
    brow = found.by_pairing[("botox", "Brow lift")]
    assert (brow.sent, brow.replied, brow.accepted, brow.declined, brow.booked) == (20, 20, 4, 16, 4)
    assert brow.revenue == Decimal("400.00") and brow.acceptance == 0.2
    refresh_ = found.by_pairing[("filler", "Botox refresh")]
    assert (refresh_.sent, refresh_.replied, refresh_.accepted, refresh_.declined, refresh_.booked) == (10, 6, 3, 2, 2)
    assert refresh_.revenue == Decimal("600.00")
    assert found.by_moment["pre_visit"].accepted == 4 and found.by_moment["history"].booked == 2
    assert found.by_segment["vip"].sent == 10 and found.by_segment["new"].declined == 16
    assert found.total.revenue == Decimal("1000.00")
    # Brow lift: 16 of 20 answers were no (80% > 75%, 20 answers >= 20): flagged; Botox refresh has 5 answers.
    assert [pairing for pairing, _tally in found.flagged] == [("botox", "Brow lift")]


def test_the_ab_split_is_tested_with_a_two_proportion_z_test(dataset, db_url):
    with session_scope(db_url) as session:
        found = results(session, dataset["practice_id"], matrix.defaults())
    test = found.experiments["pre_visit"]
    assert (test.n_a, test.accepted_a, test.n_b, test.accepted_b) == (10, 1, 10, 3)
    assert test.z == pytest.approx(1.1180, abs=1e-4) and test.p_value == pytest.approx(0.2636, abs=1e-4)
    assert not test.significant and test.needed_per_arm == 62 and test.still_needed == 52
    assert "history" not in found.experiments  # one variant only


def test_a_large_enough_difference_is_significant():
    result = ab.two_proportion(200, 40, 200, 62)
    assert result.p_value == pytest.approx(0.0116, abs=1e-4) and result.significant and result.still_needed == 0
    assert ab.two_proportion(50, 10, 50, 10).still_needed is None


def test_the_split_is_deterministic_and_about_half():
    from bot.growth.offers import variant
    from bot.touches.plans import load

    book = load()
    arms = [variant(book, "pre_visit", 1, pid) for pid in range(1, 401)]
    assert arms == [variant(book, "pre_visit", 1, pid) for pid in range(1, 401)]
    share_b = sum(arm == ("b", "pre_visit_b") for arm in arms) / len(arms)
    assert 0.42 < share_b < 0.58
    assert variant(book, "history", 1, 7) == ("a", "history")  # no variant B: everyone gets A


def test_the_results_page_shows_the_funnel_flags_and_the_test(dataset, db_url):
    from tests.helpers import add_staff

    add_staff(db_url, dataset["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    client, _ = sign_in("mo@glow.test")
    page = client.get("/offers").get_data(as_text=True)
    assert 'data-pairing="botox/Brow lift"' in page
    assert "not significant yet: about 52 more per variant needed" in page
    assert '<div class="stat-value">$1000.00</div>' in page


def _funnel_rows(page: str, group: str) -> dict[str, list[str]]:
    """The cells (sent .. held back) of each row of one funnel table on a page, by the row's data-key."""
    table = re.search(rf'<table class="table funnel compact" data-group="{group}"[^>]*>(.*?)</table>', page, re.S)
    assert table is not None, f"no {group} table"
    return {
        key: re.findall(r"<td>(.*?)</td>", cells)[1:]
        for key, cells in re.findall(r'<tr data-key="([^"]*)">(.*?)</tr>', table.group(1), re.S)
    }


def test_numbers_shows_acceptance_by_pairing_moment_and_segment_for_the_period_and_location(dataset, db_url):
    """The same seeded answers on the Numbers page: the offers were made 70 days ago, so the last 90 days hold
    them all and the last 30 none; at the Round Rock location only the five patients seen there count."""
    from tests.helpers import add_staff

    with session_scope(db_url) as session:
        round_rock = Location(practice_id=dataset["practice_id"], name="Round Rock", timezone="America/Chicago")
        session.add(round_rock)
        session.flush()
        botox = session.exec(select(factories.Service)).first()
        offers = session.exec(select(Offer).where(Offer.item == "Brow lift").order_by(Offer.id)).all()
        for offer in offers[:5]:  # patients 0-4: the first of them said yes
            patient = session.get_one(Patient, offer.patient_id)
            factories.appointment(session, patient, botox, offer.created_at, location_id=round_rock.id)
        location_id = round_rock.id
    add_staff(db_url, dataset["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    client, _ = sign_in("mo@glow.test")
    page = client.get("/numbers?days=90").get_data(as_text=True)
    #                       sent  replied accepted declined booked revenue acceptance held
    assert _funnel_rows(page, "Pairing") == {
        "botox/Brow lift": ["20", "20", "4", "16", "4", "$400.00", "20%", "0"],
        "filler/Botox refresh": ["10", "6", "3", "2", "2", "$600.00", "30%", "0"],
    }
    assert _funnel_rows(page, "Moment") == {
        "history": ["10", "6", "3", "2", "2", "$600.00", "30%", "0"],
        "pre_visit": ["20", "20", "4", "16", "4", "$400.00", "20%", "0"],
    }
    assert _funnel_rows(page, "Segment") == {
        "new": ["20", "20", "4", "16", "4", "$400.00", "20%", "0"],
        "vip": ["10", "6", "3", "2", "2", "$600.00", "30%", "0"],
    }
    assert 'data-pairing="botox/Brow lift"' in page and "declined 16 of 20 (80%)" in page  # over 75 %
    assert 'data-figure="offer_acceptance"' in page and "7 of 30 offers sent; 6 booked, $1,000.00" in page
    assert f'title="{escape(attribution.DEFINITIONS["offer_acceptance"])}"' in page
    assert "cdn" not in page.lower() and "<script src=" not in page

    recent = client.get("/numbers?days=30").get_data(as_text=True)
    assert _funnel_rows(recent, "Pairing") == {} and "No offers in this period." in recent
    assert 'data-pairing="botox/Brow lift"' not in recent

    there = client.get(f"/numbers?days=90&location={location_id}").get_data(as_text=True)
    assert _funnel_rows(there, "Pairing") == {"botox/Brow lift": ["5", "5", "1", "4", "1", "$100.00", "20%", "0"]}
    assert 'data-pairing="botox/Brow lift"' not in there  # 5 answers: under the 20 the flag needs


# ------------------------------------------------------------------ ready this week and prompts


@pytest.fixture
def spa(settings, clock, db_url):
    """Vera (VIP, Botox 35 days ago: inside its 30-60 day follow-up window), Nina (Botox 20 days ago, new),
    Omar (no marketing consent), and Dana the manager."""
    now = clock.now()
    with session_scope(db_url) as session:
        practice = factories.practice(session, facts={"sender_name": "Maya"})
        botox = factories.service(session, practice.id, price=300.0, **BOTOX)
        people = {}
        for name, phone, consent in (
            ("Vera", "+15125550171", True),
            ("Nina", "+15125550172", True),
            ("Omar", "+15125550173", False),
        ):
            people[name] = factories.patient(session, practice.id, first_name=name, phone=phone, marketing_sms=consent)
        for days in (35, 130, 230):
            factories.appointment(session, people["Vera"], botox, now - timedelta(days=days), location_id=1)
        factories.appointment(session, people["Nina"], botox, now - timedelta(days=20), location_id=1)
        factories.appointment(session, people["Omar"], botox, now - timedelta(days=35), location_id=1)
        today = factories.appointment(
            session, people["Vera"], botox, now + timedelta(hours=3), status="booked", location_id=1
        )
        ids = {"practice_id": practice.id, "today": today.id, **{k: p.id for k, p in people.items()}}
    from tests.helpers import add_staff

    add_staff(db_url, ids["practice_id"], name="Fran Desk", role="front_desk", email="fran@glow.test")
    return ids


def test_ready_this_week_ranks_who_is_likely_to_say_yes(spa, db_url, clock):
    with session_scope(db_url) as session:
        ranked = ready_this_week(session, spa["practice_id"], matrix.defaults(), clock.now())
        got = [(c.patient.first_name, c.choice.item.name, c.score) for c in ranked]
    # Vera: in the window (1.0) + VIP (0.4); Nina: results window (0.5) + new (0.1); Omar has no consent.
    assert got == [("Vera", "Skincare consult", 1.4), ("Nina", "Skincare consult", 0.6)]


def test_one_click_send_goes_through_the_sending_rules(spa, db_url, clock, twilio, settings):
    client, _ = sign_in("fran@glow.test")
    page = client.get("/offers/ready").get_data(as_text=True)
    assert f'data-patient="{spa["Vera"]}"' in page and f'data-patient="{spa["Omar"]}"' not in page
    assert client.post(f"/offers/ready/{spa['Vera']}/send", data={"csrf_token": csrf_token(page)}).status_code == 302
    dispatch_all(settings)
    assert "We thought of you: skincare consult" in sent_to(twilio, "+15125550171")[-1]
    with session_scope(db_url) as session:
        offer = session.exec(select(Offer)).one()
        assert (offer.moment, offer.created_by) == ("staff_pick", f"staff:{_fran(session)}")
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "offer_sent_by_staff")).one()
        session.get_one(Practice, spa["practice_id"]).paused_at = clock.now()
    # Offered now: Vera leaves the list; Nina's send waits while the kill switch is on.
    page = client.get("/offers/ready").get_data(as_text=True)
    assert f'data-patient="{spa["Vera"]}"' not in page
    client.post(f"/offers/ready/{spa['Nina']}/send", data={"csrf_token": csrf_token(page)})
    dispatch_all(settings)
    assert sent_to(twilio, "+15125550172") == []
    with session_scope(db_url) as session:
        held = session.exec(select(Touch).where(Touch.patient_id == spa["Nina"])).one()
        assert held.status == "scheduled" and held.reason.startswith("bot_paused")


def _fran(session) -> int:
    from store.models import StaffUser

    return session.exec(select(StaffUser.id).where(StaffUser.email == "fran@glow.test")).one()


def test_the_staff_prompt_is_on_todays_visits_and_in_the_api(spa, db_url, client):
    fran, _ = sign_in("fran@glow.test")
    page = fran.get("/offers/today").get_data(as_text=True)
    assert f'data-appointment="{spa["today"]}"' in page and "Suggested mention: <strong>Brow lift</strong>" in page
    assert "Retail gaps: SPF, Peptide serum" in page
    answer = client.get(f"/api/appointments/{spa['today']}/prompt", headers={"Authorization": f"Bearer {API_TOKEN}"})
    body = answer.get_json()
    assert body["suggested_mention"] == {"item": "Brow lift", "kind": "add_on", "price": "100.00"}
    assert body["segments"] == ["vip"] and body["treatments"] == 3 and body["retail_gaps"] == ["SPF", "Peptide serum"]
    assert client.get(f"/api/appointments/{spa['today']}/prompt").status_code == 401
    assert (
        client.get("/api/appointments/999/prompt", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 404
    )


def test_the_visit_shows_what_was_said_yes_to(spa, db_url):
    with session_scope(db_url) as session:
        visit = session.get_one(Appointment, spa["today"])
        visit.add_ons = [{"item": "Lip flip", "price": "150.00", "offer_id": 1}]
    fran, _ = sign_in("fran@glow.test")
    page = fran.get("/offers/today").get_data(as_text=True)
    assert "Add-ons said yes to: <strong>Lip flip</strong>" in page
