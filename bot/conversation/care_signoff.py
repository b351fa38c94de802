"""The medical director's sign-off of a practice's aftercare texts, and which texts may therefore go.

A practice's texts are the care texts file's (bot.conversation.care_texts) with its own wording put in
(`Practice.care_texts`). A staff member marked as the practice's medical director
(`StaffUser.medical_director`) signs off the whole current set: the row keeps who, when, the exact texts
and their SHA-256. A text is signed while it reads exactly as in the latest sign-off; editing it (or a new
release changing a shipped text) leaves it unsigned until the director signs again. Only a signed text
is sent to a patient (handlers/side_effect.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from bot.conversation.care_texts import CareTexts, care_texts, digest
from store.models import CareTextSignoff, Practice, StaffUser


class SignoffRefused(Exception):
    """Who asked may not sign off these texts; nothing was written."""


@dataclass(frozen=True)
class Review:
    """A practice's texts and where each stands: the latest sign-off, its signer, and the keys it covers."""

    texts: CareTexts
    signoff: CareTextSignoff | None
    signer: str | None
    signed: frozenset[str]

    def is_signed(self, key: str) -> bool:
        return key in self.signed

    @property
    def waiting(self) -> list[str]:
        """The keys of the texts that await sign-off, in file order."""
        return [key for key in self.texts.entries() if key not in self.signed]


def practice_texts(path: Path | None, practice: Practice) -> CareTexts:
    """The practice's texts: the file's (ConfigError when it cannot be read), with its own wording put in."""
    return care_texts(path, practice.slug).with_own(practice.care_texts or {})


def latest(session: Session, practice_id: int) -> CareTextSignoff | None:
    """The practice's latest sign-off, or None."""
    query = (
        select(CareTextSignoff)
        .where(CareTextSignoff.practice_id == practice_id)
        .order_by(col(CareTextSignoff.signed_at).desc(), col(CareTextSignoff.id).desc())
    )
    return session.exec(query).first()


def signed_keys(entries: dict[str, dict[str, str]], signoff: CareTextSignoff | None) -> frozenset[str]:
    """The texts that read, in every language, exactly as the sign-off keeps them (none when its texts no
    longer match the hash it was signed with)."""
    if signoff is None or digest(signoff.texts or {}) != signoff.digest:
        return frozenset()
    kept = signoff.texts or {}
    return frozenset(key for key, text in entries.items() if kept.get(key) == text)


def review(session: Session, path: Path | None, practice: Practice) -> Review:
    """Where each of the practice's texts stands (ConfigError when the texts file cannot be read)."""
    texts = practice_texts(path, practice)
    signoff = latest(session, practice.id)
    signer = session.get(StaffUser, signoff.staff_user_id) if signoff is not None else None
    return Review(texts, signoff, signer.name if signer else None, signed_keys(texts.entries(), signoff))


def sign(session: Session, path: Path | None, practice: Practice, staff: StaffUser, now: datetime) -> CareTextSignoff:
    """Sign off the practice's current texts as `staff`: an active medical director of this practice."""
    if staff.practice_id != practice.id or not staff.medical_director or not staff.active:
        raise SignoffRefused("only the practice's medical director may sign off its aftercare texts")
    entries = practice_texts(path, practice).entries()
    row = CareTextSignoff(
        practice_id=practice.id, staff_user_id=staff.id, signed_at=now, digest=digest(entries), texts=entries
    )
    session.add(row)
    session.flush()
    return row
