"""What the settings pages share: the audit record of a change (who, when, before, after) and their menu."""

from __future__ import annotations

from datetime import datetime

from flask import g
from sqlmodel import Session

from store.models import AuditEvent

SECTIONS = (
    ("dashboard.settings_page", "Quiet hours and facts"),
    ("dashboard.practice_settings", "Practice and locations"),
    ("dashboard.on_call", "On-call roster"),
    ("dashboard.plans_page", "Plans and texts"),
    ("dashboard.treatments_page", "Treatments and costs"),
    ("dashboard.care_texts_page", "Aftercare texts"),
)
"""The settings pages, in the order their menu lists them (endpoint, title)."""


def audit_change(
    db: Session,
    practice_id: int,
    action: str,
    subject_type: str,
    subject_id: int | None,
    before: dict,
    after: dict,
    now: datetime,
) -> bool:
    """Write who changed what, when, with the values before and after; nothing when nothing changed."""
    if before == after:
        return False
    db.add(
        AuditEvent(
            practice_id=practice_id,
            actor=f"staff:{g.staff.id}",
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail={"before": before, "after": after},
            created_at=now,
        )
    )
    return True
