"""GET /healthz names the part that is down."""

from __future__ import annotations


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": "ok", "redis": "ok"}


def test_redis_down_is_named(settings, tmp_path):
    from app import create_app

    broken = create_app(settings.with_(redis_url="redis://127.0.0.1:1/0"))
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["db"] == "ok" and response.json["redis"].startswith("error")


def test_database_down_is_named(settings):
    from app import create_app

    broken = create_app(settings.with_(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"] == "ok" and response.json["db"].startswith("error")
