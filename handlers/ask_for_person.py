"""Wanting a person ("can I talk to someone?", "is this a bot?"): staff take the conversation over at once.

The staff inbox gets the conversation, the bot stays quiet for PERSON_TAKEOVER
(the dashboard's takeover state, released earlier by staff), and the patient
is told when a person will reply: closed now, the time it opens again ("after
9:00 AM tomorrow", from the `open_hours` fact or the location's providers'
hours); else the practice's hours when it has them, else a plain promise.
Not carrier HELP, which handlers/help.py answers.
"""

from __future__ import annotations

from datetime import timedelta

from bot.conversation import open_hours
from handlers.question import fact_text
from handlers.turn import Turn
from store.models import Location, Practice
from store.queries import last_visit

PERSON_TAKEOVER = timedelta(hours=8)
"""How long the bot stays quiet after a patient asked for a person, unless staff release it earlier."""


def handle(turn: Turn) -> None:
    turn.to_staff("ask_for_person")
    if turn.patient is None:
        return
    practice = turn.session.get(Practice, turn.patient.practice_id)
    hours = fact_text(practice.facts if practice else None, "hours", turn.language(), None)
    visit = last_visit(turn.session, turn.patient.id)
    location = turn.session.get(Location, visit[0].location_id) if visit and visit[0].location_id else None
    reopens = None
    if not open_hours.is_open(turn.session, practice, location, turn.now):
        reopens = open_hours.next_open(turn.session, practice, location, turn.now)
    # The reply goes first: during a takeover only safety replies leave.
    if reopens is not None:
        turn.reply("ask_for_person_closed", reopens=open_hours.when_words(reopens, turn.now, turn.language()))
    elif hours:
        turn.reply("ask_for_person_hours", hours=hours)
    else:
        turn.reply("ask_for_person")
    state = turn.patient_state()
    state.takeover_until = turn.now + PERSON_TAKEOVER
    state.updated_at = turn.now
    turn.actions.append("takeover")
