"""Flask app factory; `gunicorn 'app:create_app()'` serves it."""

from __future__ import annotations

import importlib
import logging
import os
from urllib.parse import urlparse

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import runtime
from bot.settings import Settings
from web import auth

BLUEPRINTS = (
    "web.health",
    "web.sms",
    "web.api",
    "web.auth",
    "web.dashboard",
)
"""Modules that each expose `bp`, registered in this order."""

DEMO_BLUEPRINTS = {"simulator": "web.simulator", "mail": "web.mail"}
"""Demo-only surfaces: every patient's texts and every mail. Mounted only by `demo_surfaces_on`."""

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Hosts a fake Twilio may run on; anything else means real texts."""

MAX_CONTENT_LENGTH = 1024 * 1024
"""Bytes a request body may have; a larger one is refused before it is read (Twilio's forms are a few KB)."""


def demo_surfaces_on(settings: Settings) -> bool:
    """True in demo mode with the Twilio API a fake on this machine: only then are the demo's tools mounted."""
    base = settings.twilio_api_base_url
    return settings.demo and bool(base) and urlparse(base).hostname in LOCAL_HOSTS


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app for these settings (read from the environment when not given)."""
    settings = runtime.configure(settings, runtime.clock())
    settings.require_secrets()  # a production start without its secrets stops here, naming each
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["AFTERCARE"] = settings
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines carry phone numbers in URLs
    if settings.proxy_hops:
        # Behind a proxy the peer is the proxy: without this every client shares one address and the
        # sign-in throttle. Only trusted hops are read, so a client cannot name its own address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    auth.init_app(app)
    names = list(BLUEPRINTS)
    app.config["DEMO_SURFACES"] = list(DEMO_BLUEPRINTS) if demo_surfaces_on(settings) else []
    names += [DEMO_BLUEPRINTS[name] for name in app.config["DEMO_SURFACES"]]
    if os.environ.get("AFTERCARE_BENCH_ENDPOINTS") == "1" and demo_surfaces_on(settings):  # `make bench` only
        names.append("web.bench_endpoints")
    for name in names:
        blueprint = importlib.import_module(name).bp
        app.register_blueprint(blueprint)
        if name in ("web.sms", "web.api", "web.bench_endpoints"):
            auth.csrf.exempt(blueprint)  # signed by Twilio, by HMAC or by bearer token: no browser session
    return app
