"""The tables. Times are aware UTC everywhere; local time is computed where shown or checked.

Primary keys are typed `int`: a row's id is None only until its INSERT, and code uses ids of rows it
read or flushed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Column, Index, Numeric, Table, UniqueConstraint, false, inspect
from sqlmodel import Field, SQLModel

from bot.clock import DEFAULT_TIMEZONE
from bot.vocabulary import AppointmentStatus, EscalationStatus, MessageKind, OnCallDuty, Role, TouchStatus
from store.money import Money


def table_of(model: type[SQLModel]) -> Table:
    """A model's Core table, for bulk statements (SQLModel sets `__table__`, but its types don't declare it)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def utcnow() -> datetime:
    """Now, aware, in UTC: the default of every created/updated column."""
    return datetime.now(UTC)


class Practice(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str
    slug: str = Field(unique=True)
    timezone: str = DEFAULT_TIMEZONE
    phone: str | None = None
    emergency_line: str | None = None
    website: str | None = None
    review_url: str | None = None
    quiet_start_hour: int = 9
    quiet_end_hour: int = 20
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    paused_at: datetime | None = None
    """The kill switch: while set, no touch and no bot reply leaves (safety replies and paging still do)."""
    paused_by: int | None = None
    """The staff member who turned the kill switch on."""
    autonomy: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    """Intent -> "auto", "draft" or "off": how freely the bot answers each intent (unset: auto)."""
    keyword_confirmations: str | None = None
    """Who answers STOP, START and HELP: "twilio" or "aftercare" (unset: TWILIO_CONFIRMS_OPT_OUT decides)."""
    step_texts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    """"plan.step" -> {language: text}: a step's text as the practice rewrote it (unset: the plan file's)."""
    step_timing: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    """"plan.step" -> {"offset", "at", "when"}: a step's timing and conditions as the practice changed them
    (bot.touches.step_timing; unset: the plan file's)."""
    care_texts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    """"sign.variant" (or "general") -> {language: text}: an aftercare text as the practice rewrote it (unset:
    the care texts file's)."""
    gsm_only: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    """Texts go in GSM-7 only: accents (á í ó ú) and other characters outside GSM-7 are folded before
    sending, for the cheaper segments; unset, texts keep their accents (UCS-2)."""
    created_at: datetime = Field(default_factory=utcnow)


class Location(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "external_id"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    external_id: str | None = None
    name: str
    timezone: str = DEFAULT_TIMEZONE
    sms_number: str | None = Field(default=None, index=True)
    phone: str | None = None  # the number patients call here; texts fall back on the practice's
    address: str | None = None
    state: str | None = None
    # This location's own lines; unset, texts give the practice's.
    emergency_line: str | None = None
    review_url: str | None = None


class Provider(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "external_id"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    external_id: str | None = None
    name: str
    title: str | None = None
    # {"mon": ["09:00", "17:00"], ...}; a missing day means not working.
    working_hours: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    name: str
    role: str = Role.FRONT_DESK  # a bot.vocabulary.Role
    phone: str | None = None
    email: str | None = None
    on_call: bool = False
    backup: bool = False
    active: bool = True
    password_hash: str | None = None
    alert_by: str | None = None  # "sms" or "email": how a manager gets complaint alerts (unset: text, else email)
    location_ids: list | None = Field(default=None, sa_column=Column(JSON))
    """The locations of the practice this staff member is limited to (store.scope); unset or empty: every one."""
    medical_director: bool = False
    """Signs off the practice's aftercare texts (set by an admin on the Users page; any role may hold it)."""


class CareTextSignoff(SQLModel, table=True):
    """The medical director's sign-off of a practice's aftercare texts: who, when, the exact texts signed
    ("sign.variant" -> {language: text}) and the SHA-256 of them. The latest one decides which texts may go."""

    __tablename__ = "care_text_signoff"
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    staff_user_id: int = Field(foreign_key="staff_user.id")
    signed_at: datetime
    digest: str  # sha256 hex of the canonical JSON of `texts`
    texts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OnCallShift(SQLModel, table=True):
    """One line of the on-call roster: who is on call (or backup) on a weekday, between two local times,
    at one location (none: every location)."""

    __tablename__ = "on_call_shift"
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    staff_user_id: int = Field(foreign_key="staff_user.id")
    duty: str = OnCallDuty.ON_CALL  # a bot.vocabulary.OnCallDuty
    weekday: int  # 0 Monday .. 6 Sunday, in the location's time zone
    start: str  # "HH:MM"
    end: str  # "HH:MM", after start; "24:00" is midnight at the end of the day


class Service(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "code"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    code: str
    name: str
    name_es: str | None = None  # the name Spanish texts use; they fall back on `name`
    category: str
    duration_min: int = 30
    buffer_min: int = 10
    price: Decimal | None = Field(default=None, sa_column=Column(Money()))
    area: str | None = None
    product_cost: Decimal | None = Field(default=None, sa_column=Column(Money()))
    """What one visit of it uses in product (toxin units, syringes, peel solution), exact cents."""
    supply_cost: Decimal | None = Field(default=None, sa_column=Column(Money()))
    """What one visit of it uses in supplies (needles, cannulas, gauze, numbing cream), exact cents."""


class Patient(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("practice_id", "phone"),
        UniqueConstraint("practice_id", "external_id"),
    )
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    external_id: str | None = None
    phone: str = Field(index=True)
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    language: str = "en"
    birthday: date | None = None
    state: str | None = None
    care_sms: bool = False
    care_sms_source: str | None = None
    care_sms_at: datetime | None = None
    marketing_sms: bool = False
    marketing_sms_source: str | None = None
    marketing_sms_at: datetime | None = None
    opted_out_at: datetime | None = None
    opt_out_source: str | None = None
    flagged_at: datetime | None = None
    flag_reason: str | None = None
    undelivered_count: int = 0
    vip: bool = False
    referral_code: str | None = Field(default=None, unique=True)
    referred_by_id: int | None = Field(default=None, foreign_key="patient.id")
    created_at: datetime = Field(default_factory=utcnow)


class Appointment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "external_id"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    external_id: str | None = None
    patient_id: int = Field(foreign_key="patient.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")
    status: str = AppointmentStatus.BOOKED  # a bot.vocabulary.AppointmentStatus
    start_at: datetime = Field(index=True)
    end_at: datetime
    price: Decimal | None = Field(default=None, sa_column=Column(Money()))
    referral_code: str | None = None
    source: str = "api"  # api | csv | bot | staff | seed
    # A visit requested by text to move this booked one there; confirming it frees the old one.
    replaces_id: int | None = Field(default=None, foreign_key="appointment.id")
    add_ons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    """Add-ons a patient said yes to by text ({"item", "price", "offer_id"}); the front desk sees them."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Touch(SQLModel, table=True):
    """One planned step of a plan for one patient; the database is the truth, RQ only executes."""

    __table_args__ = (Index("ix_touch_status_due", "status", "due_at"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", index=True)
    plan: str
    step: str
    purpose: str
    channel: str = "sms"
    marketing: bool = False
    due_at: datetime
    status: str = TouchStatus.SCHEDULED  # a bot.vocabulary.TouchStatus
    reason: str | None = None
    deferrals: int = 0
    job_id: str | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    message_id: int | None = None
    body: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One text in or out, with the decision that handled it."""

    # The outbox sweep looks for the few rows still "pending" or "transmitting" every tick.
    __table_args__ = (Index("ix_message_status_created", "status", "created_at"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int | None = Field(default=None, foreign_key="practice.id", index=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    direction: str  # a bot.vocabulary.Direction
    kind: str = MessageKind.REPLY  # a bot.vocabulary.MessageKind
    from_number: str
    to_number: str
    body: str
    twilio_sid: str | None = Field(default=None, unique=True)
    idempotency_key: str | None = Field(default=None, unique=True)
    status: str | None = None
    error_code: int | None = None
    segments: int | None = None
    encoding: str | None = None
    touch_id: int | None = None
    reply_kind: str | None = None
    """Which reply (replies.toml) a reply row is: "how often was this reply sent" asks this column."""
    escalation_id: int | None = Field(default=None, index=True)
    """The escalation a page is about (no foreign key: escalation already points at its message)."""
    decision: dict | None = Field(default=None, sa_column=Column(JSON))
    claimed_at: datetime | None = None
    """An inbound text: when a worker took it; a claim older than the processing bound has expired."""
    processed_at: datetime | None = None
    """An inbound text: when its decision was stored (it is never handled again)."""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    status_at: datetime | None = None


class ConversationState(SQLModel, table=True):
    __tablename__ = "conversation_state"
    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    # What the bot last asked, e.g. {"kind": "slots", "options": [...], "asked_at": "..."}
    pending: dict | None = Field(default=None, sa_column=Column(JSON))
    takeover_staff_id: int | None = Field(default=None, foreign_key="staff_user.id")
    takeover_until: datetime | None = None
    wrong_number: bool = False
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class Escalation(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    practice_id: int | None = Field(default=None, foreign_key="practice.id", index=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    urgency: str  # a bot.vocabulary.Urgency, routine or above
    reason: str
    status: str = Field(default=EscalationStatus.OPEN, index=True)  # a bot.vocabulary.EscalationStatus
    assigned_staff_id: int | None = Field(default=None, foreign_key="staff_user.id")
    paged_at: datetime | None = None
    repaged_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = None
    resolved_at: datetime | None = None
    note: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Referral(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    referrer_id: int = Field(foreign_key="patient.id", index=True)
    code: str = Field(index=True)
    friend_first_name: str | None = None
    referred_patient_id: int | None = Field(default=None, foreign_key="patient.id")
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    status: str = "issued"  # issued | booked | rewarded
    created_at: datetime = Field(default_factory=utcnow)
    booked_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int = Field(default=None, primary_key=True)
    practice_id: int | None = Field(default=None, index=True)
    actor: str  # "system", "staff:<id>", "api", "cli"
    action: str
    subject_type: str | None = None
    subject_id: int | None = None
    detail: dict | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class EarlyStatus(SQLModel, table=True):
    """A delivery callback for a SID not stored yet (it raced the send's own write); applied when it lands."""

    __tablename__ = "early_status"
    sid: str = Field(primary_key=True)
    status: str
    error_code: int | None = None
    received_at: datetime = Field(default_factory=utcnow)


class GrowthConfig(SQLModel, table=True):
    """One version of a practice's upsell matrix and growth settings (bot.growth.matrix); each edit adds a row."""

    __tablename__ = "growth_config"
    __table_args__ = (UniqueConstraint("practice_id", "version"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    version: int
    document: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = "system"  # "staff:<id>", "cli", "system"
    created_at: datetime = Field(default_factory=utcnow)


class Offer(SQLModel, table=True):
    """One offer made to one patient at one moment, and what came of it (bot.growth)."""

    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    touch_id: int | None = Field(default=None, foreign_key="touch.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    """The visit the offer hangs off (the booked visit for a pre-visit add-on, the last one otherwise)."""
    moment: str  # a bot.vocabulary.OfferMoment
    primary: str
    """The upsell matrix entry it came from ("botox")."""
    kind: str  # add_on | retail | follow_up | package | vip | return
    item: str
    """What is offered, as the matrix names it ("Lip flip")."""
    item_code: str | None = None
    """The offered item's service code, or "category:<name>", when it is a service (a booking of it counts as booked)."""
    price: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 2)))
    matrix_version: int
    variant: str = "a"
    segment: str | None = None
    status: str = "planned"  # a bot.vocabulary.OfferStatus
    sent_at: datetime | None = None
    replied_at: datetime | None = None
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    booked_at: datetime | None = None
    booked_appointment_id: int | None = None
    revenue: Decimal | None = Field(default=None, sa_column=Column(Numeric(10, 2)))
    created_by: str = "system"
    created_at: datetime = Field(default_factory=utcnow)


class RetailSale(SQLModel, table=True):
    """A retail product sold to a patient at the desk (SPF, a serum), recorded by staff; against the offer it
    answers, when there is one, whose revenue it becomes (bot.growth.retail)."""

    __tablename__ = "retail_sale"
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id", index=True)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    item: str
    amount: Decimal = Field(sa_column=Column(Money(), nullable=False))
    sold_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)


class Correction(SQLModel, table=True):
    """A manager's verdict that the bot read an inbound text wrongly, with the right intent and urgency."""

    __table_args__ = (UniqueConstraint("message_id"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    message_id: int = Field(foreign_key="message.id")
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    original_intent: str | None = None
    original_urgency: str | None = None
    intent: str  # a bot.vocabulary.Intent: what the text really asked
    urgency: str  # a bot.vocabulary.Urgency
    note: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ReportClaim(SQLModel, table=True):
    """One practice's monthly report for one month: the row whose INSERT lets exactly one worker mail it."""

    __tablename__ = "report_claim"
    __table_args__ = (UniqueConstraint("practice_id", "month"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    month: str  # "2026-11": the month the report covers
    claimed_at: datetime = Field(default_factory=utcnow)
    status: str = "claimed"  # claimed | sent | not_sent | failed
    detail: str | None = None
    """Whom it went to, or why it did not go (e.g. no SMTP_URL)."""


class ReportRecipient(SQLModel, table=True):
    """One manager's copy of one month's report: the row whose INSERT lets exactly one worker mail it to them,
    so a retry after a partial failure mails only those still without it."""

    __tablename__ = "report_recipient"
    __table_args__ = (UniqueConstraint("practice_id", "month", "staff_user_id"),)
    id: int = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    month: str  # "2026-11"
    staff_user_id: int = Field(foreign_key="staff_user.id")
    email: str
    """The address it went to (or was tried at)."""
    claimed_at: datetime = Field(default_factory=utcnow)
    status: str = "claimed"  # claimed | sent | not_sent | failed
    detail: str | None = None
