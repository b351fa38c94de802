"""Flask app factory; `gunicorn 'app:create_app()'` serves it."""

from __future__ import annotations

import importlib
import logging
import os

from flask import Flask

from bot import runtime
from bot.settings import Settings

BLUEPRINTS = (
    "web.health",
    "web.sms",
    "web.api",
    "web.auth",
    "web.dashboard",
    "web.simulator",
)
"""Modules that each expose `bp`, registered in this order."""


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app for these settings (read from the environment when not given)."""
    settings = runtime.configure(settings, runtime.clock())
    settings.require_secrets()  # a production start without its secrets stops here, naming each
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["AFTERCARE"] = settings
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines carry phone numbers in URLs
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    if os.environ.get("AFTERCARE_BENCH_ENDPOINTS") == "1":  # `make bench` only: never in production
        app.register_blueprint(importlib.import_module("web.bench_endpoints").bp)
    return app
