"""Without SMTP_URL outside the demo no email is sent, and the dashboard tells staff so."""

from __future__ import annotations

import pytest

from store.db import session_scope
from tests import factories

NOTICE = "Email is off: SMTP_URL is not set"


@pytest.mark.parametrize(
    "changes, shown",
    [({}, True), ({"smtp_url": "smtp://mail.example.com"}, False), ({"demo": True}, False)],
    ids=["no-smtp", "smtp", "demo-mail-sink"],
)
def test_staff_are_told_when_email_is_off(settings, changes, shown):
    from app import create_app

    with session_scope(settings.database_url) as db:
        nurse = factories.staff(db, factories.practice(db).id).email
    client = create_app(settings.with_(**changes)).test_client()
    factories.sign_in(client, nurse)
    assert (NOTICE in client.get("/").get_data(as_text=True)) is shown
