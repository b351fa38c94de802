"""Aftercare's exceptions, in one flat module."""


class AftercareError(Exception):
    """Base of every error Aftercare raises on purpose."""


class ConfigError(AftercareError):
    """A setting is missing or malformed; raised at start-up with the variable's name."""


class TransportError(AftercareError):
    """Sending failed. `permanent` says whether a retry could help."""

    def __init__(self, message: str, permanent: bool = False, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.status = status


class MailNotConfigured(TransportError):
    """No SMTP_URL outside the demo: the mail was not sent, and no retry can send it."""

    def __init__(self):
        super().__init__("not sent: SMTP_URL is not set", permanent=True)


class AmbiguousSendError(TransportError):
    """The request may or may not have reached Twilio (5xx, read timeout)."""


class LLMError(AftercareError):
    """The LLM could not give a usable answer (down, slow, malformed, off-schema)."""


class ValidationError(AftercareError):
    """Input was refused; `errors` lists {field, message} pairs."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class PlanError(AftercareError):
    """A plan file has a mistake; the message names the file, step and reason."""


class MatrixError(AftercareError):
    """An upsell matrix (bot.growth.matrix) with a mistake; the message names where and why."""
