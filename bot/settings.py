"""Settings read once from the environment, refused at start-up when malformed.

Every variable is named in the README's settings table. A secret may also come
from a file: `NAME_FILE=/run/secrets/name` is read when `NAME` is unset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from bot.errors import ConfigError


def default_data_dir() -> Path:
    """`./var` of the working directory: where the SQLite file, embedded Redis and mail sink go
    unless AFTERCARE_DATA_DIR says otherwise (never inside the installed package)."""
    return Path.cwd() / "var"


SECRETS = {
    "SECRET_KEY": "secret_key",
    "AFTERCARE_API_TOKEN": "aftercare_api_token",
    "TWILIO_AUTH_TOKEN": "twilio_auth_token",
    "APPOINTMENTS_WEBHOOK_SECRET": "appointments_webhook_secret",
}
"""Variables with no default: the web app and the worker refuse to start without each (variable: field)."""

DEMO_SECRETS = {
    "TWILIO_AUTH_TOKEN": "dev-twilio-token",
    "APPOINTMENTS_WEBHOOK_SECRET": "dev-appointments-secret",
    "AFTERCARE_API_TOKEN": "dev-api-token",
}
"""What `make demo` uses when these are unset (it prints them); public, so refused outside the demo."""


def _raw(env: dict, name: str) -> str | None:
    value = env.get(name)
    if value is None and env.get(name + "_FILE"):
        try:
            value = Path(env[name + "_FILE"]).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {env[name + '_FILE']}: {exc.strerror}") from exc
    if value is not None and value.strip() == "":
        return None
    return value


def _str(env, name, default=None):
    value = _raw(env, name)
    return default if value is None else value.strip()


def _int(env, name, default, minimum=None, maximum=None):
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum or maximum is not None and number > maximum:
        raise ConfigError(f"{name}: {number} is outside {minimum}..{maximum}")
    return number


def _float(env, name, default, minimum=0.0):
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name}: {number} is below {minimum}")
    return number


def _bool(env, name, default):
    value = _raw(env, name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def _url(env, name, default=None, schemes=("http", "https")):
    value = _str(env, name, default)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise ConfigError(
            f"{name}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}, got {value!r}"
        )
    return value.rstrip("/") if parsed.scheme in ("http", "https") else value


def _choice(env, name, default, choices):
    value = _str(env, name, default)
    if value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Typed settings; build with `Settings.from_env()` or pass fields in tests."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    port: int = 8000
    public_base_url: str | None = None
    proxy_hops: int = 0
    """Proxies in front of the app whose X-Forwarded-For and X-Forwarded-Proto are trusted (0: none)."""
    twilio_account_sid: str = "AC" + "0" * 32
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_api_base_url: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_from_number: str | None = None
    twilio_confirms_opt_out: bool = True
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 4.0
    appointments_webhook_secret: str | None = field(default=None, repr=False)
    aftercare_api_token: str | None = field(default=None, repr=False)
    smtp_url: str | None = None
    mail_from: str = "aftercare@localhost"
    plans_file: Path | None = None
    default_country: str = "US"
    sender_mps: float = 1.0
    pacing: bool = True
    secret_key: str | None = field(default=None, repr=False)
    erasure_key: str | None = field(default=None, repr=False)
    """Keys the hash that keeps an erased number suppressed; SECRET_KEY when unset (then set this to the old
    SECRET_KEY before rotating it, or erased numbers stop being recognised)."""
    demo: bool = False
    repage_minutes: int = 10
    booking_mode: str = "request"
    """"request": a time picked by text is a request the front desk confirms; "direct": it is booked at once."""
    offer_valid_hours: int = 48
    """How long times offered by text can be picked."""
    send_lease_s: int = 60
    """A send batch whose worker stopped renewing its lease this long ago is re-driven."""
    complaint_hold_days: int = 30
    """How long after a complaint no marketing text goes to the patient."""
    callback_open_minutes: int = 15
    """The call-back an urgent reply promises while the visited location is open."""
    callback_closed_minutes: int = 60
    """The call-back an urgent reply promises after hours."""
    handover_nudge_minutes: int = 10
    """Minutes a patient's ask for a person may wait unanswered, while open, before staff are texted."""
    care_texts_file: Path | None = None
    """The practice's aftercare texts for routine side effects (overrides bot/conversation/care_texts.toml)."""
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict | None = None) -> Settings:
        """Read and validate every setting; raise ConfigError naming the variable."""
        env = dict(os.environ if environ is None else environ)
        plans = _str(env, "AFTERCARE_PLANS_FILE")
        if plans and not Path(plans).is_file():
            raise ConfigError(f"AFTERCARE_PLANS_FILE: no file at {plans}")
        care_texts = _str(env, "AFTERCARE_CARE_TEXTS_FILE")
        if care_texts and not Path(care_texts).is_file():
            raise ConfigError(f"AFTERCARE_CARE_TEXTS_FILE: no file at {care_texts}")
        database_url = _str(env, "DATABASE_URL")
        if database_url and not database_url.startswith(("postgresql", "sqlite")):
            raise ConfigError(
                f"DATABASE_URL: expected a postgresql:// or sqlite:// URL, got {database_url.split(':')[0]}://…"
            )
        if database_url and database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        return cls(
            database_url=database_url,
            redis_url=_url(env, "REDIS_URL", schemes=("redis", "rediss", "unix")),
            data_dir=Path(_str(env, "AFTERCARE_DATA_DIR") or default_data_dir()),
            port=_int(env, "PORT", 8000, 1, 65535),
            public_base_url=_url(env, "PUBLIC_BASE_URL"),
            proxy_hops=_int(env, "AFTERCARE_PROXY_HOPS", 0, 0, 5),
            twilio_account_sid=_str(env, "TWILIO_ACCOUNT_SID", cls.twilio_account_sid),
            twilio_auth_token=_str(env, "TWILIO_AUTH_TOKEN"),
            twilio_api_base_url=_url(env, "TWILIO_API_BASE_URL"),
            twilio_messaging_service_sid=_str(env, "TWILIO_MESSAGING_SERVICE_SID"),
            twilio_from_number=_str(env, "TWILIO_FROM_NUMBER"),
            twilio_confirms_opt_out=_bool(env, "TWILIO_CONFIRMS_OPT_OUT", True),
            openai_api_key=_str(env, "OPENAI_API_KEY"),
            openai_base_url=_url(env, "OPENAI_BASE_URL"),
            openai_model=_str(env, "OPENAI_MODEL", cls.openai_model),
            llm_timeout_s=_float(env, "OPENAI_TIMEOUT_S", cls.llm_timeout_s, minimum=0.1),
            appointments_webhook_secret=_str(env, "APPOINTMENTS_WEBHOOK_SECRET"),
            aftercare_api_token=_str(env, "AFTERCARE_API_TOKEN"),
            smtp_url=_url(env, "SMTP_URL", schemes=("smtp", "smtps")),
            mail_from=_str(env, "MAIL_FROM", cls.mail_from),
            plans_file=Path(plans) if plans else None,
            default_country=_str(env, "AFTERCARE_DEFAULT_COUNTRY", "US").upper(),
            sender_mps=_float(env, "AFTERCARE_SENDER_MPS", cls.sender_mps, minimum=0.01),
            pacing=_bool(env, "AFTERCARE_PACING", True),
            secret_key=_str(env, "SECRET_KEY"),
            erasure_key=_str(env, "AFTERCARE_ERASURE_KEY"),
            demo=_bool(env, "AFTERCARE_DEMO", False),
            repage_minutes=_int(env, "AFTERCARE_REPAGE_MINUTES", cls.repage_minutes, 1, 240),
            booking_mode=_choice(env, "AFTERCARE_BOOKING_MODE", cls.booking_mode, ("request", "direct")),
            offer_valid_hours=_int(env, "AFTERCARE_OFFER_VALID_HOURS", cls.offer_valid_hours, 1, 24 * 14),
            send_lease_s=_int(env, "AFTERCARE_SEND_LEASE_S", cls.send_lease_s, 5, 3600),
            complaint_hold_days=_int(env, "AFTERCARE_COMPLAINT_HOLD_DAYS", cls.complaint_hold_days, 0, 365),
            callback_open_minutes=_int(env, "AFTERCARE_CALLBACK_OPEN_MINUTES", cls.callback_open_minutes, 1, 24 * 60),
            callback_closed_minutes=_int(
                env, "AFTERCARE_CALLBACK_CLOSED_MINUTES", cls.callback_closed_minutes, 1, 24 * 60
            ),
            handover_nudge_minutes=_int(
                env, "AFTERCARE_HANDOVER_NUDGE_MINUTES", cls.handover_nudge_minutes, 1, 24 * 60
            ),
            care_texts_file=Path(care_texts) if care_texts else None,
        )

    def require_secrets(self) -> None:
        """Refuse to serve without every secret, or with a demo value outside the demo; names each variable."""
        missing = [name for name, attr in SECRETS.items() if not getattr(self, attr)]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)}: not set; {'it has' if len(missing) == 1 else 'they have'} no default"
                " (set a long random value, or NAME_FILE with its path)"
            )
        public = [
            name for name, value in DEMO_SECRETS.items() if not self.demo and getattr(self, SECRETS[name]) == value
        ]
        if public:
            raise ConfigError(f"{', '.join(public)}: the demo's public value is refused outside `make demo`")

    @property
    def email_enabled(self) -> bool:
        """Email goes out through SMTP_URL; the demo's local mail sink stands in only in demo mode."""
        return bool(self.smtp_url) or self.demo

    def with_(self, **changes) -> Settings:
        """A copy with some fields changed (tests use this)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.data_dir / 'aftercare.db'}"

    @property
    def repage_after(self) -> timedelta:
        """How long a page may go unacknowledged before the backup and managers are paged."""
        return timedelta(minutes=self.repage_minutes)

    @property
    def complaint_hold(self) -> timedelta:
        """How long after a complaint marketing is held back."""
        return timedelta(days=self.complaint_hold_days)

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)
