"""The one object every handler works on: the inbound text, who sent it, the decision, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from bot.conversation.autonomy import autonomy_for
from bot.conversation.escalations import open_escalation
from bot.conversation.replies import compose, may_reply
from bot.messaging import outbox
from bot.settings import Settings
from bot.understanding.decision import Decision
from bot.vocabulary import Autonomy, Direction, EscalationStatus, KeywordConfirmer, MessageKind, Urgency, is_paging
from store.models import (
    Appointment,
    ConversationState,
    Escalation,
    Message,
    Patient,
    Practice,
)
from store.queries import practice_for_number

NOTED = "noted"
"""The reply to a text for staff sent after its holding reply: "we've added this to your messages"."""
OPT_OUT_REPLIES = ("opt_out", "opt_out_cancel")
"""The replies that confirm an opt-out."""


@dataclass
class Turn:
    """One inbound text being handled; handlers append to `actions` what they did."""

    session: Session
    message: Message
    patient: Patient | None
    decision: Decision
    now: datetime
    settings: Settings
    actions: list[str] = field(default_factory=list)
    outbound: list[int] = field(default_factory=list)
    """Rows queued in this turn, delivered after the commit."""
    pages: list[int] = field(default_factory=list)
    """Escalations to page after the commit."""
    alerts: list[int] = field(default_factory=list)
    """Complaints whose managers are alerted after the commit."""
    handler: str | None = None
    """Which handler ran ("side_effect.handle"), stored with the decision."""
    worked_out: dict[str, object] = field(default_factory=dict)
    """Answers about this turn worked out once: routing asks them, and the handler it picks reads them again."""

    # ------------------------------------------------------------ escalation

    def escalate(self, urgency: str, reason: str) -> Escalation:
        """Open (or raise) this message's escalation; urgent and emergency ones are paged after the commit."""
        escalation = open_escalation(self.session, self.message.id, self.patient, urgency, reason)
        self.actions.append(f"escalation:{escalation.urgency}")
        if is_paging(escalation.urgency) and escalation.id not in self.pages:
            self.pages.append(escalation.id)
        return escalation

    def to_staff(self, why: str) -> bool:
        """Put the conversation in the staff inbox as a routine item (one open item per patient, or per
        number not on file: an "unrouted" item of the practice the number texted)."""
        if self.patient is None:
            open_item = self.session.exec(
                select(Escalation.id)
                .join(Message, col(Message.id) == Escalation.message_id)
                .where(
                    col(Escalation.patient_id).is_(None),
                    Message.from_number == self.message.from_number,
                    Escalation.status != EscalationStatus.RESOLVED,
                )
            ).first()
        else:
            open_item = self.session.exec(
                select(Escalation.id).where(
                    Escalation.patient_id == self.patient.id, Escalation.status != EscalationStatus.RESOLVED
                )
            ).first()
        if open_item is not None:
            return False
        reason = f"needs_reply:{why}" if self.patient is not None else f"unrouted:{why}"
        escalation = open_escalation(self.session, self.message.id, self.patient, Urgency.ROUTINE, reason)
        if self.patient is None:
            escalation.practice_id = self.practice_id()
            self.session.add(escalation)
        self.actions.append("staff_inbox")
        return True

    def practice_id(self) -> int | None:
        """The practice texted: the patient's, or the one owning the number texted."""
        if self.patient is not None:
            return self.patient.practice_id
        return practice_for_number(self.session, self.message.to_number)

    def twilio_confirms_keywords(self) -> bool:
        """Whether Twilio answered STOP, START and HELP itself: the practice's choice (Settings page),
        else TWILIO_CONFIRMS_OPT_OUT."""
        practice_id = self.practice_id()
        practice = self.session.get(Practice, practice_id) if practice_id is not None else None
        chosen = practice.keyword_confirmations if practice is not None else None
        if chosen:
            return chosen == KeywordConfirmer.TWILIO
        return self.settings.twilio_confirms_opt_out

    def confirmed_opt_out_before(self) -> bool:
        """Whether this number already got an opt-out confirmation (since its opt-out, for a patient)."""
        query = select(Message.id).where(
            Message.to_number == self.message.from_number,
            Message.direction == Direction.OUT,
            Message.kind == MessageKind.REPLY,
            col(Message.reply_kind).in_(OPT_OUT_REPLIES),
        )
        if self.patient is not None:
            if self.patient.opted_out_at is None:
                return False
            query = query.where(Message.patient_id == self.patient.id, Message.created_at >= self.patient.opted_out_at)
        return self.session.exec(query).first() is not None

    def state(self) -> ConversationState | None:
        if self.patient is None:
            return None
        found = self.session.get(ConversationState, self.patient.id)
        if found is None:
            found = ConversationState(patient_id=self.patient.id)
            self.session.add(found)
        return found

    def known_patient(self) -> Patient:
        """The patient, in a handler that already returned when there is none."""
        if self.patient is None:
            raise LookupError(f"message {self.message.id} has no patient")
        return self.patient

    def patient_state(self) -> ConversationState:
        """The patient's conversation state, in a handler that already returned when there is no patient."""
        state = self.state()
        if state is None:
            raise LookupError(f"message {self.message.id} has no patient")
        return state

    # ----------------------------------------------------------------- reply

    def language(self) -> str:
        """The language the patient is texted in."""
        return self.patient.language if self.patient is not None and self.patient.language in ("en", "es") else "en"

    def tell_a_person_replies(self, kind: str) -> Message | None:
        """The `kind` holding reply ("someone will text you back"); when it already went within the repeat
        window, "noted" (this text was added for staff), so a second text for staff is not met with silence."""
        return self.reply(kind) or self.reply(NOTED)

    def reply_with(
        self, kind: str, templates: dict[str, str], appointment: Appointment | None = None, **values: str
    ) -> Message | None:
        """The `kind` reply written from `templates` ({language: text}) instead of replies.toml's (the
        practice's aftercare texts, a booking reply carrying an offer); otherwise as `reply`."""
        return self._reply(kind, appointment, templates, values)

    def goes_at_once(self, kind: str) -> bool:
        """Whether the `kind` reply would go without waiting for staff (the practice's autonomy is AUTO)."""
        return autonomy_for(self.session, self.practice_id(), self.decision.intent, kind) == Autonomy.AUTO

    def reply(self, kind: str, appointment: Appointment | None = None, **values: str) -> Message | None:
        """Queue the `kind` reply to the sender, in the patient's language; None when it must not go.

        `values` fill a reply's own placeholders ({options}, {when}, {code}, {reward}, {answer}) beside the
        plans' ones; an `appointment` gives {slot} and {with_provider}; `may_reply` says who may get what.
        """
        return self._reply(kind, appointment, None, values)

    def _reply(
        self, kind: str, appointment: Appointment | None, templates: dict[str, str] | None, values: dict[str, str]
    ) -> Message | None:
        patient = self.patient
        if not may_reply(self.session, patient, kind, self.now):
            return None
        practice_id = self.practice_id()
        autonomy = autonomy_for(self.session, practice_id, self.decision.intent, kind)
        if autonomy == Autonomy.OFF:
            self.actions.append(f"off:{kind}")
            self.to_staff(f"bot_off:{self.decision.intent}")
            return None
        body = compose(
            self.session, patient, kind, appointment=appointment, practice_id=practice_id, templates=templates, **values
        )
        row = outbox.queue_text(
            self.session,
            key=f"reply-{self.message.id}-{kind}",
            to=self.message.from_number,
            from_=self.message.to_number,
            body=body,
            kind=MessageKind.REPLY,
            reply_kind=kind,
            practice_id=practice_id,
            patient_id=patient.id if patient is not None else None,
            now=self.now,
            status=outbox.DRAFT if autonomy == Autonomy.DRAFT else outbox.PENDING,
        )
        if row is not None and autonomy == Autonomy.DRAFT:
            self.actions.append(f"draft:{kind}")  # waits in the inbox for staff to approve
        elif row is not None:
            self.outbound.append(row.id)
            self.actions.append(f"reply:{kind}")
            state = self.state()
            if state is not None:
                state.last_outbound_at = self.now
        return row
