"""The words Aftercare stores and compares: intents, urgencies, statuses, kinds and roles, each ordering written once.

Every enum is a StrEnum, so a member is the very string the database, the JSON API and the
templates hold (`Urgency.URGENT == "urgent"`). This module imports nothing from the project:
store/ may use it too.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    """What an inbound text asks for (shared/data/README.md); one handler each."""

    SIDE_EFFECT_CONCERN = "side_effect_concern"
    REBOOK_REQUEST = "rebook_request"
    RESCHEDULE_OR_CANCEL = "reschedule_or_cancel"
    DEFER = "defer"
    REFERRAL = "referral"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    QUESTION = "question"
    POSITIVE_FEEDBACK = "positive_feedback"
    NEGATIVE_FEEDBACK = "negative_feedback"
    WRONG_NUMBER = "wrong_number"
    OTHER = "other"
    ASK_FOR_PERSON = "ask_for_person"


class Urgency(StrEnum):
    """How soon a human must look at a text; members are declared lowest first, and that is the order."""

    NONE = "none"
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        """0 for none up to 3 for emergency."""
        return _URGENCY_ORDER.index(self)

    @classmethod
    def of(cls, value: str | None) -> Urgency:
        """The urgency a stored or answered string names; anything unknown counts as none."""
        try:
            return cls(value) if value is not None else cls.NONE
        except ValueError:
            return cls.NONE

    @classmethod
    def highest(cls, *values: str | None) -> Urgency:
        """The most urgent of some urgencies (the model may raise a guard's urgency, never lower it)."""
        return max((cls.of(v) for v in values), key=lambda u: u.rank, default=cls.NONE)

    def outranks(self, other: str | None) -> bool:
        """Whether this urgency is strictly higher than `other`."""
        return self.rank > Urgency.of(other).rank


_URGENCY_ORDER = tuple(Urgency)

URGENCY_RANK = {urgency.value: rank for rank, urgency in enumerate(_URGENCY_ORDER)}
"""Urgency -> its rank (0 for none): for code that compares stored strings."""

PAGING_URGENCIES = frozenset({Urgency.URGENT, Urgency.EMERGENCY})
"""Urgencies that page on-call staff now (and get a safety reply); routine items wait in the inbox."""

ESCALATION_URGENCIES = (Urgency.ROUTINE, Urgency.URGENT, Urgency.EMERGENCY)
"""Urgencies an escalation can have, lowest first."""


def is_paging(urgency: str | None) -> bool:
    """Whether an urgency pages staff now."""
    return urgency in PAGING_URGENCIES


class TouchStatus(StrEnum):
    """Where a planned touch is: scheduled -> queued -> sending -> sent, or one of the final outcomes."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    SUPPRESSED = "suppressed"
    SKIPPED = "skipped"
    FAILED = "failed"


PENDING_TOUCH_STATUSES = frozenset({TouchStatus.SCHEDULED, TouchStatus.QUEUED})
"""Touches not yet handed to a sender: the ones an opt-out, a booking or a flagged number cancels."""


class Direction(StrEnum):
    """Which way a text went."""

    IN = "in"
    OUT = "out"


class MessageKind(StrEnum):
    """What an outbound (or inbound) text is."""

    INBOUND = "inbound"
    TOUCH = "touch"
    REPLY = "reply"
    PAGE = "page"
    CONFIRMATION = "confirmation"
    STAFF = "staff"


class EscalationStatus(StrEnum):
    """Where an escalation stands: open until someone takes it, then acknowledged, then resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AppointmentStatus(StrEnum):
    """An appointment's state, from the practice system or (requested, declined) from a booking by text."""

    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    REQUESTED = "requested"
    DECLINED = "declined"
    MOVED = "moved"  # a booked visit whose move (a requested visit that `replaces` it) the front desk confirmed


class Role(StrEnum):
    """A staff member's job; each grants one Access level (web/permissions.py says what each level may do)."""

    INJECTOR = "injector"
    NURSE = "nurse"
    FRONT_DESK = "front_desk"
    MANAGER = "manager"
    ADMIN = "admin"


class Access(StrEnum):
    """What a role lets someone do in the dashboard, lowest first: the columns of the permission table."""

    FRONT_DESK = "front_desk"
    CLINICIAN = "clinician"
    MANAGER = "manager"
    ADMIN = "admin"


class Autonomy(StrEnum):
    """How freely the bot answers an intent, chosen per practice (Practice.autonomy); AUTO when unset."""

    AUTO = "auto"  # the reply goes at once
    DRAFT = "draft"  # the reply waits in the inbox for staff to approve, edit or discard
    OFF = "off"  # no reply: the text goes to the staff inbox


CONTROLLED_INTENTS = tuple(i for i in Intent if i not in (Intent.OPT_OUT, Intent.OPT_IN, Intent.HELP))
"""The intents a practice may draft or switch off; opt-out, opt-in and help answer as carrier rules say."""


class OfferMoment(StrEnum):
    """When an offer is made (bot.growth): each is a step of the `offers` plan with its own rule."""

    AT_BOOKING = "at_booking"  # a booking by text: one add-on before it is confirmed
    PRE_VISIT = "pre_visit"  # 24-48 h before a booked visit: one add-on for it
    VISIT_SUMMARY = "visit_summary"  # with the thank-you after the visit: the complementary next step
    AFTER_RESULTS = "after_results"  # praise for a results check-in: the treatment's next step
    HISTORY = "history"  # 15-30 days after a visit: the complementary treatment not yet had
    REBOOKING = "rebooking"  # a repeat booking of the same treatment: its package or membership
    REFERRAL = "referral"  # the patient's referral booked: a VIP invitation
    GOAL_CHANGE = "goal_change"  # the patient says their goal changed: the matching offer
    REACTIVATION_VIP = "reactivation_vip"  # a VIP past their expected return: a premium offer
    REACTIVATION_NEW = "reactivation_new"  # a one-visit patient past their expected return: a first-return offer
    STAFF_PICK = "staff_pick"  # sent from "Ready this week" by a staff member


class OfferStatus(StrEnum):
    """Where an offer stands, in order; declined is the other end of replied."""

    PLANNED = "planned"
    SENT = "sent"
    REPLIED = "replied"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    BOOKED = "booked"
    HELD = "held"  # its touch was skipped or suppressed: never reached the patient


class Segment(StrEnum):
    """Patient segments (bot.growth.segments), computed from visits; a patient may be in more than one."""

    VIP = "vip"
    NEW = "new"
    ACTIVE = "active"
    LAPSED = "lapsed"


class OnCallDuty(StrEnum):
    """What a line of the on-call roster makes someone: paged first, or paged for emergencies and re-pages."""

    ON_CALL = "on_call"
    BACKUP = "backup"


class KeywordConfirmer(StrEnum):
    """Who answers the carrier keywords STOP, START and HELP: Twilio's default handling, or Aftercare."""

    TWILIO = "twilio"
    AFTERCARE = "aftercare"
