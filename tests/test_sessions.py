"""Staff sessions: sign-in throttling, expiry, sign-out everywhere, cookie flags and safe redirects."""

from __future__ import annotations

import pytest

from store.db import session_scope
from tests import factories
from web import sessions


@pytest.fixture
def nurse(settings):
    """A nurse of the one practice, who signs in with factories.STAFF_PASSWORD."""
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db)
        return factories.staff(db, practice.id, "nurse").email


def _login(client, email, password):
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": factories.csrf_token(client)}
    )


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/%09/evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/%5Cevil"],
)
def test_next_only_redirects_inside_the_app(client, nurse, target):
    answer = client.post(
        "/login",
        data={
            "email": nurse,
            "password": factories.STAFF_PASSWORD,
            "next": target,
            "csrf_token": factories.csrf_token(client),
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_next_inside_the_app_is_kept(client, nurse):
    answer = client.get("/patients?q=ana")
    assert answer.headers["Location"] == "/login?next=/patients?q%3Dana"
    factories.sign_in(client, nurse)
    assert client.get("/login?next=/patients?q=ana").headers["Location"] == "/patients?q=ana"


def test_the_eleventh_wrong_password_in_a_minute_is_throttled(client, nurse):
    for _ in range(10):
        assert _login(client, nurse, "wrong-password").status_code == 401
    assert _login(client, nurse, factories.STAFF_PASSWORD).status_code == 429  # even the right one, this minute


def test_the_throttle_counts_per_address_across_accounts(client, nurse):
    for n in range(30):
        assert _login(client, f"guess{n}@example.com", "wrong-password").status_code == 401
    assert _login(client, nurse, factories.STAFF_PASSWORD).status_code == 429


def test_right_passwords_do_not_count_towards_the_throttle(app, nurse):
    for _ in range(12):
        assert _login(app.test_client(), nurse, factories.STAFF_PASSWORD).status_code == 302


def test_a_cookie_copied_before_logout_is_rejected_after_it(app, nurse):
    signed_in = app.test_client()
    token = factories.sign_in(signed_in, nurse)
    thief = app.test_client()
    thief.set_cookie("session", signed_in.get_cookie("session").value)
    assert thief.get("/").status_code == 200
    signed_in.post("/logout", data={"csrf_token": token})
    assert thief.get("/").headers["Location"].startswith("/login")


def test_logout_ends_the_sessions_on_every_device(app, nurse):
    phone, desk = app.test_client(), app.test_client()
    factories.sign_in(phone, nurse)
    token = factories.sign_in(desk, nurse)
    desk.post("/logout", data={"csrf_token": token})
    assert phone.get("/").headers["Location"].startswith("/login")


def test_a_password_change_ends_every_other_session(app, nurse):
    phone, desk = app.test_client(), app.test_client()
    factories.sign_in(phone, nurse)
    token = factories.sign_in(desk, nurse)
    new = "another-long-password"
    answer = desk.post(
        "/account/password",
        data={"current": factories.STAFF_PASSWORD, "new": new, "again": new, "csrf_token": token},
    )
    assert answer.status_code == 302
    assert desk.get("/").status_code == 200
    assert phone.get("/").headers["Location"].startswith("/login")
    assert _login(app.test_client(), nurse, new).status_code == 302


def test_an_idle_session_expires(client, nurse, clock):
    factories.sign_in(client, nurse)
    clock.advance(minutes=sessions.IDLE_MINUTES - 1)
    assert client.get("/").status_code == 200
    clock.advance(minutes=sessions.IDLE_MINUTES + 1)
    assert client.get("/").headers["Location"].startswith("/login")


def test_a_busy_session_still_ends_after_its_absolute_lifetime(client, nurse, clock):
    factories.sign_in(client, nurse)
    for _ in range(sessions.ABSOLUTE_HOURS * 3):
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/").headers["Location"].startswith("/login")


@pytest.mark.parametrize("base, secure", [("https://sms.example.com", True), ("http://127.0.0.1:8000", False)])
def test_the_session_cookie_is_httponly_lax_and_secure_under_https(settings, nurse, base, secure):
    from app import create_app

    client = create_app(settings.with_(public_base_url=base)).test_client()
    answer = _login(client, nurse, factories.STAFF_PASSWORD)
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure


def _login_from(client, address, email, password):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": factories.csrf_token(client)},
        headers={"X-Forwarded-For": address},
    )


def test_behind_a_trusted_proxy_the_throttle_counts_each_client_address(settings, nurse):
    from app import create_app

    client = create_app(settings.with_(proxy_hops=1)).test_client()
    for n in range(30):
        assert _login_from(client, "203.0.113.7", f"guess{n}@example.com", "wrong").status_code == 401
    assert _login_from(client, "203.0.113.7", nurse, factories.STAFF_PASSWORD).status_code == 429
    # Another client behind the same proxy is not held by the first one's guesses.
    assert _login_from(client, "198.51.100.4", nurse, factories.STAFF_PASSWORD).status_code == 302


def test_without_a_trusted_proxy_a_forwarded_address_does_not_escape_the_throttle(client, nurse):
    for n in range(30):
        assert _login_from(client, f"203.0.113.{n}", f"guess{n}@example.com", "wrong").status_code == 401
    assert _login_from(client, "198.51.100.4", nurse, factories.STAFF_PASSWORD).status_code == 429
