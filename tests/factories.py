"""Rows tests need, with believable defaults (override any field by keyword)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select
from werkzeug.security import generate_password_hash

from bot.conversation import care_signoff
from store.models import Appointment, Location, Patient, Practice, Provider, Service, StaffUser

AUSTIN_NUMBER = "+15125550100"
"""The demo practice's Austin SMS number (tests text it)."""


def practice(session: Session, **fields) -> Practice:
    row = Practice(
        **{
            "name": "Glow Test Spa",
            "slug": "glow-test",
            "timezone": "America/Chicago",
            "phone": "+15125550199",
            **fields,
        }
    )
    session.add(row)
    session.flush()
    session.add(
        Location(
            practice_id=row.id,
            external_id="L-1",
            name="Austin",
            timezone="America/Chicago",
            sms_number=AUSTIN_NUMBER,
            state="TX",
        )
    )
    session.flush()
    return row


def patient(session: Session, practice_id: int, **fields) -> Patient:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    row = Patient(
        **{
            "practice_id": practice_id,
            "phone": "+15125550143",
            "first_name": "Ana",
            "last_name": "Ruiz",
            "language": "en",
            "care_sms": True,
            "care_sms_source": "intake form",
            "care_sms_at": now,
            "marketing_sms": True,
            "marketing_sms_source": "intake form",
            "marketing_sms_at": now,
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def service(session: Session, practice_id: int, **fields) -> Service:
    row = Service(
        **{
            "practice_id": practice_id,
            "code": "LIP-FILLER",
            "name": "Lip filler",
            "category": "filler",
            "area": "lips",
            "duration_min": 45,
            "price": 750.0,
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def provider(session: Session, practice_id: int, **fields) -> Provider:
    row = Provider(
        **{
            "practice_id": practice_id,
            "external_id": "P-1",
            "name": "Maya Chen, NP",
            "working_hours": {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def appointment(session: Session, patient_row: Patient, service_row: Service, start: datetime, **fields) -> Appointment:
    row = Appointment(
        **{
            "practice_id": patient_row.practice_id,
            "patient_id": patient_row.id,
            "service_id": service_row.id,
            "status": "completed",
            "start_at": start,
            "end_at": start + timedelta(minutes=service_row.duration_min),
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


STAFF_PASSWORD = "a-long-test-password"
"""The password every staff member made by `staff` signs in with."""


def staff(session: Session, practice_id: int, role: str = "nurse", **fields) -> StaffUser:
    """A staff member who can sign in (email <role>@<practice id>.test) with STAFF_PASSWORD."""
    row = StaffUser(
        **{
            "practice_id": practice_id,
            "name": f"{role.replace('_', ' ').title()} {practice_id}",
            "role": role,
            "email": f"{role}@{practice_id}.test",
            # A cheap hash: tests sign in often, and the strength of the hash is not what they test.
            "password_hash": generate_password_hash(STAFF_PASSWORD, method="pbkdf2:sha256:1000"),
            **fields,
        }
    )
    session.add(row)
    session.flush()
    return row


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page of the app hands this client's session."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def sign_in(client, email: str, password: str = STAFF_PASSWORD) -> str:
    """Sign this client in through the login form; returns the session's CSRF token for later forms."""
    answer = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return csrf_token(client, "/")


def sign_off_care_texts(session: Session, practice_id: int, at: datetime, care_texts_file=None) -> StaffUser:
    """The practice's medical director (made the first time), who signs off its current aftercare texts at `at`."""
    row = session.get(Practice, practice_id)
    assert row is not None
    query = select(StaffUser).where(StaffUser.practice_id == practice_id, col(StaffUser.medical_director))
    director = session.exec(query).first() or staff(
        session,
        practice_id,
        "injector",
        name="Dr. Olivia Lee, MD",
        email=f"director@{practice_id}.test",
        medical_director=True,
    )
    care_signoff.sign(session, care_texts_file, row, director, at)
    return director
