"""The one vocabulary: the words match what is stored, and each ordering says what the code relies on."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.conversation.replies import replies
from bot.understanding.decision import INTENTS, URGENCIES
from bot.vocabulary import (
    PAGING_URGENCIES,
    PENDING_TOUCH_STATUSES,
    URGENCY_RANK,
    Intent,
    MessageKind,
    TouchStatus,
    Urgency,
    is_paging,
)

ROOT = Path(__file__).resolve().parent.parent


def test_members_are_the_strings_the_database_holds():
    assert Urgency.URGENT == "urgent" and f"{MessageKind.PAGE}" == "page"
    assert {"urgent": 1}[Urgency.URGENT] == 1


def test_urgencies_rank_from_none_to_emergency():
    assert [u.rank for u in Urgency] == [0, 1, 2, 3]
    assert URGENCIES == ("none", "routine", "urgent", "emergency")
    assert URGENCY_RANK == {"none": 0, "routine": 1, "urgent": 2, "emergency": 3}
    assert Urgency.EMERGENCY.outranks("urgent") and not Urgency.URGENT.outranks("urgent")
    assert Urgency.ROUTINE.outranks(None) and Urgency.ROUTINE.outranks("nonsense")


def test_the_highest_urgency_wins_and_unknown_counts_as_none():
    assert Urgency.highest("routine", "emergency", "urgent") is Urgency.EMERGENCY
    assert Urgency.highest("none", None, "bogus") is Urgency.NONE
    assert Urgency.highest() is Urgency.NONE


def test_urgent_and_emergency_page_and_nothing_else_does():
    assert {"urgent", "emergency"} == PAGING_URGENCIES
    assert [u for u in Urgency if is_paging(u)] == [Urgency.URGENT, Urgency.EMERGENCY]
    assert not is_paging(None) and not is_paging("routine")


def test_every_paging_urgency_has_a_safety_reply_of_its_name():
    # handlers.side_effect answers an urgent or emergency escalation with the reply named after it
    assert all(u in replies() for u in PAGING_URGENCIES)


def test_pending_touches_are_the_ones_not_yet_handed_to_a_sender():
    assert {TouchStatus.SCHEDULED, TouchStatus.QUEUED} == PENDING_TOUCH_STATUSES


def test_the_classifier_answers_every_intent():
    assert set(INTENTS) == set(Intent)
    assert len(INTENTS) == 14


def test_vocabulary_imports_nothing_from_the_project():
    tree = ast.parse((ROOT / "bot" / "vocabulary.py").read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= {"__future__", "enum"}
