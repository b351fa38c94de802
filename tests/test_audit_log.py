"""The audit log page: a manager reads who viewed, exported, erased or changed what, filtered by action,
staff member and date, a page at a time, and only their own practice's entries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.cli import main
from bot.consent.privacy import erase_patient, export_patient
from bot.staff.api_tokens import practice_token
from store.db import session_scope
from store.models import AuditEvent
from tests import factories
from tests.helpers import API_TOKEN
from web.dashboard.audit import PAGE_SIZE


@pytest.fixture
def clinic(settings):
    """Practice A (Ana, a manager, an admin, the front desk) and practice B (Zed), each with its staff."""
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db)
        ana = factories.patient(db, practice.id)
        manager = factories.staff(db, practice.id, "manager", name="Mo Manager")
        admin = factories.staff(db, practice.id, "admin", name="Ada Admin")
        desk = factories.staff(db, practice.id, "front_desk")
        other = factories.practice(db, slug="elsewhere", name="Elsewhere Spa")
        zed = factories.patient(db, other.id, first_name="Zed", last_name="Zulu", phone="+13055550100")
        stranger = factories.staff(db, other.id, "manager", name="Stan Stranger")
        db.add(
            AuditEvent(
                practice_id=other.id,
                actor=f"staff:{stranger.id}",
                action="transcript_viewed",
                subject_type="patient",
                subject_id=zed.id,
            )
        )
        db.add(AuditEvent(practice_id=None, actor="system", action="unrouted_text_seen"))
        return {
            "practice_id": practice.id,
            "slug": practice.slug,
            "ana": ana.id,
            "zed": zed.id,
            "manager": manager.id,
            "manager_email": manager.email,
            "admin_email": admin.email,
            "desk_email": desk.email,
            "stranger": stranger.id,
        }


@pytest.fixture
def manager(app, clinic):
    client = app.test_client()
    return client, factories.sign_in(client, clinic["manager_email"])


def _rows(page: str) -> list[str]:
    """The audit table's rows as plain text, newest first."""
    rows = re.findall(r'<tr class="audit-entry">(.*?)</tr>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_transcript_views_exports_and_erasures_are_all_in_the_log(app, manager, settings, clinic, clock):
    client, _ = manager
    assert client.get(f"/patients/{clinic['ana']}").status_code == 200  # a transcript read in the dashboard
    clock.advance(minutes=1)
    api = app.test_client().get(
        f"/api/patients/{clinic['ana']}/timeline",
        headers={"Authorization": f"Bearer {practice_token(API_TOKEN, clinic['slug'])}"},
    )
    assert api.status_code == 200  # and through the read API
    clock.advance(minutes=1)
    with session_scope(settings.database_url) as db:  # what `aftercare patient export` / `erase` run
        assert export_patient(db, clinic["ana"]) is not None
    clock.advance(minutes=1)
    with session_scope(settings.database_url) as db:
        assert erase_patient(db, clinic["ana"])
    rows = _rows(client.get("/audit").get_data(as_text=True))
    erased = f"patient #{clinic['ana']} (no name held)"  # the erasure took the name with it
    expected = [
        f"command line patient erased {erased}",
        f"command line patient exported {erased}",
        f"practice system (API) transcript viewed {erased}",
        f"Mo Manager transcript viewed {erased}",
    ]
    assert [row.split(" ", 4)[-1] for row in rows[:4]] == expected  # after "Nov 23, 10:03 AM"


def test_an_entry_names_who_when_and_which_patient(manager, clinic):
    client, _ = manager
    client.get(f"/patients/{clinic['ana']}")
    page = client.get("/audit").get_data(as_text=True)
    [row] = [r for r in _rows(page) if "transcript viewed" in r]
    assert "Mo Manager" in row and "Ana Ruiz" in row and "10:00" in row  # 16:00 UTC is 10:00 in Chicago
    assert f'href="/patients/{clinic["ana"]}"' in page


def test_changes_show_what_was_before_and_after(manager):
    client, token = manager
    client.post("/settings", data={"csrf_token": token, "quiet_hours": "10-19"})
    [row] = [r for r in _rows(client.get("/audit").get_data(as_text=True)) if "settings changed" in r]
    assert "quiet hours: 9, 20" in row and "quiet hours: 10, 19" in row


def test_the_log_never_shows_another_practice_and_only_admins_see_unrouted_entries(app, manager, clinic):
    client, _ = manager
    client.get(f"/patients/{clinic['ana']}")
    page = client.get("/audit").get_data(as_text=True)
    assert "Zed" not in page and "Stan Stranger" not in page and "unrouted" not in page
    admin = app.test_client()
    factories.sign_in(admin, clinic["admin_email"])
    page = admin.get("/audit").get_data(as_text=True)
    assert "unrouted text seen" in page and "Zed" not in page
    # Filtering by the other practice's staff member is refused, not a way to read their entries.
    answer = client.get(f"/audit?staff={clinic['stranger']}")
    assert answer.status_code == 400 and "not a staff member of this practice" in answer.get_data(as_text=True)


def test_filters_by_action_staff_member_and_date(manager, settings, clinic, clock):
    client, _ = manager
    client.get(f"/patients/{clinic['ana']}")  # Monday 23 November
    clock.advance(days=2)
    factories.sign_in(client, clinic["manager_email"])  # the Monday session has long expired
    client.get(f"/patients/{clinic['ana']}")  # Wednesday 25 November
    with session_scope(settings.database_url) as db:
        export_patient(db, clinic["ana"])
    assert len(_rows(client.get("/audit").get_data(as_text=True))) == 5  # two sign-ins, two views, an export
    assert len(_rows(client.get("/audit?action=transcript_viewed").get_data(as_text=True))) == 2
    assert len(_rows(client.get("/audit?action=patient_exported").get_data(as_text=True))) == 1
    mine = _rows(client.get(f"/audit?staff={clinic['manager']}").get_data(as_text=True))
    assert len(mine) == 4 and all("Mo Manager" in row for row in mine)
    wednesday = _rows(client.get("/audit?from=2026-11-25&to=2026-11-25").get_data(as_text=True))
    assert len(wednesday) == 3 and sum("signed in" in row for row in wednesday) == 1
    monday = _rows(client.get("/audit?to=2026-11-24&action=transcript_viewed").get_data(as_text=True))
    assert len(monday) == 1


@pytest.mark.parametrize(
    "query, reason",
    [
        ("from=yesterday", "from: expected a date like 2026-11-23"),
        ("from=2026-11-25&to=2026-11-01", "to: comes before from"),
        ("staff=abc", "staff: not a staff member of this practice"),
        ("page=0", "page: expected a page number"),
    ],
)
def test_a_bad_filter_is_refused_with_the_reason(manager, query, reason):
    client, _ = manager
    answer = client.get(f"/audit?{query}")
    assert answer.status_code == 400 and reason in answer.get_data(as_text=True)
    assert _rows(answer.get_data(as_text=True)) == []


def test_the_log_pages_newest_first_and_keeps_the_filters(manager, settings, clinic, clock):
    client, _ = manager
    with session_scope(settings.database_url) as db:
        for n in range(2 * PAGE_SIZE + 20):
            db.add(
                AuditEvent(
                    practice_id=clinic["practice_id"],
                    actor=f"staff:{clinic['manager']}",
                    action="transcript_viewed",
                    subject_type="patient",
                    subject_id=clinic["ana"],
                    detail={"n": n},
                    created_at=clock.now() - timedelta(minutes=n),
                )
            )
    first = client.get("/audit?action=transcript_viewed").get_data(as_text=True)
    rows = _rows(first)
    assert len(rows) == PAGE_SIZE and "n: 0" in rows[0] and f"n: {PAGE_SIZE - 1}" in rows[-1]
    assert "/audit?action=transcript_viewed&amp;page=2" in first
    third = client.get("/audit?action=transcript_viewed&page=3").get_data(as_text=True)
    assert len(_rows(third)) == 20 and "Older" not in third and "page=2" in third
    assert "120 entries" in first


def test_the_front_desk_and_clinicians_cannot_read_the_log(app, clinic):
    desk = app.test_client()
    factories.sign_in(desk, clinic["desk_email"])
    assert desk.get("/audit").status_code == 403
    assert "Audit</a>" not in desk.get("/").get_data(as_text=True)


def test_report_and_corrections_downloads_are_audited_as_exports(manager, settings, clinic, monkeypatch, capsys):
    client, _ = manager
    for path in ("/report.csv", "/report.pdf", "/corrections.jsonl"):
        assert client.get(path).status_code == 200, path
    rows = _rows(client.get(f"/audit?staff={clinic['manager']}").get_data(as_text=True))
    exports = [row for row in rows if "exported" in row]
    assert len(exports) == 3 and all("Mo Manager" in row for row in exports)
    assert sum("report exported" in row for row in exports) == 2 and "format: pdf" in " ".join(exports)
    assert any("corrections exported" in row for row in exports)
    # The command line's export of the same corrections is in the log too.
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    assert main(["export", "corrections", "--practice", "glow-test"]) == 0
    with session_scope(settings.database_url) as db:
        [event] = db.exec(
            select(AuditEvent).where(AuditEvent.action == "corrections_exported", AuditEvent.actor == "cli")
        ).all()
        assert event.practice_id == clinic["practice_id"]
