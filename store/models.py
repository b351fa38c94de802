"""The tables. Times are aware UTC everywhere; local time is computed where shown or checked."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.clock import utcnow


class Practice(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    slug: str = Field(unique=True)
    timezone: str = "America/Chicago"
    phone: Optional[str] = None
    emergency_line: Optional[str] = None
    website: Optional[str] = None
    review_url: Optional[str] = None
    quiet_start_hour: int = 9
    quiet_end_hour: int = 20
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Location(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "external_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    external_id: Optional[str] = None
    name: str
    timezone: str = "America/Chicago"
    sms_number: Optional[str] = Field(default=None, index=True)
    phone: Optional[str] = None  # the number patients call here; texts fall back on the practice's
    address: Optional[str] = None
    state: Optional[str] = None


class Provider(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "external_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    location_id: Optional[int] = Field(default=None, foreign_key="location.id")
    external_id: Optional[str] = None
    name: str
    title: Optional[str] = None
    # {"mon": ["09:00", "17:00"], ...}; a missing day means not working.
    working_hours: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    name: str
    role: str = "front_desk"  # injector | nurse | front_desk | manager
    phone: Optional[str] = None
    email: Optional[str] = None
    on_call: bool = False
    backup: bool = False
    active: bool = True
    password_hash: Optional[str] = None


class Service(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    code: str
    name: str
    name_es: Optional[str] = None  # the name Spanish texts use; they fall back on `name`
    category: str
    duration_min: int = 30
    buffer_min: int = 10
    price: Optional[float] = None
    area: Optional[str] = None


class Patient(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("practice_id", "phone"),
        UniqueConstraint("practice_id", "external_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    external_id: Optional[str] = None
    phone: str = Field(index=True)
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    email: Optional[str] = None
    language: str = "en"
    birthday: Optional[date] = None
    state: Optional[str] = None
    care_sms: bool = False
    care_sms_source: Optional[str] = None
    care_sms_at: Optional[datetime] = None
    marketing_sms: bool = False
    marketing_sms_source: Optional[str] = None
    marketing_sms_at: Optional[datetime] = None
    opted_out_at: Optional[datetime] = None
    opt_out_source: Optional[str] = None
    flagged_at: Optional[datetime] = None
    flag_reason: Optional[str] = None
    undelivered_count: int = 0
    vip: bool = False
    referral_code: Optional[str] = Field(default=None, unique=True)
    referred_by_id: Optional[int] = Field(default=None, foreign_key="patient.id")
    created_at: datetime = Field(default_factory=utcnow)


class Appointment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "external_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    external_id: Optional[str] = None
    patient_id: int = Field(foreign_key="patient.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    provider_id: Optional[int] = Field(default=None, foreign_key="provider.id")
    location_id: Optional[int] = Field(default=None, foreign_key="location.id")
    status: str = "booked"  # booked | completed | cancelled | no_show | requested (by text) | declined (a request)
    start_at: datetime = Field(index=True)
    end_at: datetime
    price: Optional[float] = None
    referral_code: Optional[str] = None
    source: str = "api"  # api | csv | bot | staff | seed
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Touch(SQLModel, table=True):
    """One planned step of a plan for one patient; the database is the truth, RQ only executes."""

    __table_args__ = (Index("ix_touch_status_due", "status", "due_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    appointment_id: Optional[int] = Field(default=None, foreign_key="appointment.id", index=True)
    plan: str
    step: str
    purpose: str
    channel: str = "sms"
    marketing: bool = False
    due_at: datetime
    status: str = "scheduled"  # scheduled | queued | sending | sent | suppressed | skipped | failed
    reason: Optional[str] = None
    deferrals: int = 0
    job_id: Optional[str] = None
    claimed_at: Optional[datetime] = None
    sent_at: Optional[datetime] = None
    message_id: Optional[int] = None
    body: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One text in or out, with the decision that handled it."""

    # The outbox sweep looks for the few rows still "pending" or "transmitting" every tick.
    __table_args__ = (Index("ix_message_status_created", "status", "created_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: Optional[int] = Field(default=None, foreign_key="practice.id", index=True)
    patient_id: Optional[int] = Field(default=None, foreign_key="patient.id", index=True)
    staff_user_id: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    direction: str  # in | out
    kind: str = "reply"  # inbound | touch | reply | alert | confirmation | staff
    from_number: str
    to_number: str
    body: str
    twilio_sid: Optional[str] = Field(default=None, unique=True)
    idempotency_key: Optional[str] = Field(default=None, unique=True)
    status: Optional[str] = None
    error_code: Optional[int] = None
    segments: Optional[int] = None
    encoding: Optional[str] = None
    touch_id: Optional[int] = None
    decision: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    processed_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: Optional[datetime] = None
    status_at: Optional[datetime] = None


class ConversationState(SQLModel, table=True):
    __tablename__ = "conversation_state"
    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    # What the bot last asked, e.g. {"kind": "slots", "options": [...], "asked_at": "..."}
    pending: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    takeover_staff_id: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    takeover_until: Optional[datetime] = None
    wrong_number: bool = False
    last_inbound_at: Optional[datetime] = None
    last_outbound_at: Optional[datetime] = None
    updated_at: datetime = Field(default_factory=utcnow)


class Escalation(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: Optional[int] = Field(default=None, foreign_key="practice.id", index=True)
    patient_id: Optional[int] = Field(default=None, foreign_key="patient.id", index=True)
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    urgency: str  # routine | urgent | emergency
    reason: str
    status: str = Field(default="open", index=True)  # open | acknowledged | resolved
    assigned_staff_id: Optional[int] = Field(default=None, foreign_key="staff_user.id")
    paged_at: Optional[datetime] = None
    repaged_at: Optional[datetime] = None
    acknowledged_at: Optional[datetime] = None
    acknowledged_by: Optional[int] = None
    resolved_at: Optional[datetime] = None
    note: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)


class Referral(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    referrer_id: int = Field(foreign_key="patient.id", index=True)
    code: str = Field(index=True)
    friend_first_name: Optional[str] = None
    referred_patient_id: Optional[int] = Field(default=None, foreign_key="patient.id")
    appointment_id: Optional[int] = Field(default=None, foreign_key="appointment.id")
    status: str = "issued"  # issued | booked | rewarded
    created_at: datetime = Field(default_factory=utcnow)
    booked_at: Optional[datetime] = None


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: Optional[int] = Field(default=None, index=True)
    actor: str  # "system", "staff:<id>", "api", "cli"
    action: str
    subject_type: Optional[str] = None
    subject_id: Optional[int] = None
    detail: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True)
