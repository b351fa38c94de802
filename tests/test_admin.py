"""Setting up a practice from the command line: details, facts, staff; bad values change nothing."""

from __future__ import annotations

import io
import json

import pytest
from sqlmodel import select
from werkzeug.security import check_password_hash

from bot.cli import main
from store.db import session_scope
from store.models import Practice, StaffUser


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """Run `aftercare ...` against the test database; returns (exit code, parsed stdout or text, stderr)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)

    def run(*argv, stdin: str | None = None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        try:
            return code, json.loads(out), err
        except json.JSONDecodeError:
            return code, out, err

    return run


def _practice(db_url) -> Practice:
    with session_scope(db_url) as session:
        return session.exec(select(Practice)).one()


def test_show_before_set_up_says_how_to_start_and_writes_nothing(cli, settings):
    code, _out, err = cli("practice", "show")
    assert code == 2 and "aftercare practice set --name" in err
    with session_scope(settings.database_url) as session:
        assert session.exec(select(Practice)).all() == []


def test_a_practice_is_set_up_with_its_details_and_facts(cli, settings, tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text(
        json.dumps(
            {
                "hours": {"en": "Tue-Sat 9-6", "es": "martes a sabado de 9 a 18 h"},
                "parking": "Free lot behind the building.",
            }
        ),
        encoding="utf-8",
    )
    code, shown, _ = cli(
        "practice",
        "set",
        "--name",
        "Glow Med Spa",
        "--phone",
        "(512) 555-0100",
        "--emergency-line",
        "512-555-0199",
        "--timezone",
        "America/New_York",
        "--review-url",
        "https://g.page/glow/review",
        "--sender-name",
        "Maya",
        "--quiet-hours",
        "8-20",
        "--facts",
        str(facts),
    )
    assert code == 0
    assert (shown["name"], shown["phone"], shown["emergency_line"], shown["timezone"]) == (
        "Glow Med Spa",
        "+15125550100",
        "+15125550199",
        "America/New_York",
    )
    assert shown["facts"]["sender_name"] == "Maya" and shown["facts"]["parking"] == "Free lot behind the building."
    assert shown["quiet_hours"] == [8, 20]
    assert cli("practice", "show")[1] == shown


@pytest.mark.parametrize(
    "argv, message",
    [
        (("--phone", "555"), "--phone:"),
        (("--timezone", "Mars/Olympus"), "--timezone: 'Mars/Olympus' is not a time zone"),
        (("--review-url", "g.page/glow"), "--review-url: expected a URL"),
        (("--quiet-hours", "20-9"), "--quiet-hours: expected 0 <= START < END <= 24"),
        (("--name", "New name", "--emergency-line", "12"), "--emergency-line:"),
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(cli, settings, argv, message):
    assert cli("practice", "set", "--name", "Glow Med Spa")[0] == 0
    before = _practice(settings.database_url).model_dump()
    code, _out, err = cli("practice", "set", *argv)
    assert code == 2 and message in err and "nothing was changed" in err
    assert _practice(settings.database_url).model_dump() == before


def test_a_facts_file_that_is_not_facts_is_refused(cli, settings, tmp_path):
    broken = tmp_path / "facts.json"
    broken.write_text('{"hours": "9-5",', encoding="utf-8")
    code, _out, err = cli("practice", "set", "--facts", str(broken))
    assert code == 2 and "is not valid JSON (line 1" in err
    broken.write_text('{"hours": 9}', encoding="utf-8")
    code, _out, err = cli("practice", "set", "--facts", str(broken))
    assert code == 2 and "hours: a fact is text" in err


def test_staff_are_added_paged_and_can_sign_in(cli, settings):
    code, nina, _ = cli(
        "staff",
        "add",
        "--name",
        "Nina Park, RN",
        "--role",
        "nurse",
        "--phone",
        "(512) 555-0111",
        "--email",
        "nina@glow.example",
        "--on-call",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert code == 0 and nina["on_call"] and nina["can_sign_in"] and nina["phone"] == "…0111"
    with session_scope(settings.database_url) as session:
        stored = session.get(StaffUser, nina["id"])
        assert stored.phone == "+15125550111" and check_password_hash(stored.password_hash, "a-long-password")
    code, changed, _ = cli("staff", "set", str(nina["id"]), "--no-on-call", "--backup")
    assert code == 0 and (changed["on_call"], changed["backup"]) == (False, True)
    assert [p["name"] for p in cli("staff", "list")[1]] == ["Nina Park, RN"]


@pytest.mark.parametrize(
    "argv, stdin, message",
    [
        (("--name", "Ivy", "--role", "injector", "--on-call"), None, "need a mobile number to be paged"),
        (("--name", "Ivy", "--role", "injector", "--phone", "12345"), None, "--phone:"),
        (("--name", "Ivy", "--role", "injector", "--email", "ivy"), None, "--email: 'ivy' is not an email address"),
        (("--name", "Ivy", "--role", "injector", "--password-stdin"), "short\n", "at least 10 characters"),
    ],
)
def test_bad_staff_are_refused(cli, settings, argv, stdin, message):
    code, _out, err = cli("staff", "add", *argv, stdin=stdin)
    assert code == 2 and message in err
    with session_scope(settings.database_url) as session:
        assert session.exec(select(StaffUser)).all() == []


def test_the_gsm_only_choice_is_set_and_cleared_from_the_cli(cli, settings):
    assert cli("practice", "set", "--name", "Glow Med Spa")[0] == 0
    assert _practice(settings.database_url).gsm_only is False  # accents kept unless the practice chooses
    code, out, _err = cli("practice", "set", "--gsm-only")
    assert code == 0 and out["gsm_only"] is True
    assert _practice(settings.database_url).gsm_only is True
    assert cli("practice", "set", "--keep-accents")[0] == 0
    assert _practice(settings.database_url).gsm_only is False
    with pytest.raises(SystemExit):  # one or the other
        cli("practice", "set", "--gsm-only", "--keep-accents")
