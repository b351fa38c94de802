"""Twilio-shaped error answers and JSON responses."""

from __future__ import annotations

import json
from dataclasses import dataclass

from werkzeug.wrappers import Response


class TwilioError(Exception):
    """A Twilio-shaped error answer."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return json_response(
            {
                "code": self.code,
                "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status,
            },
            self.status,
        )


def json_response(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


@dataclass
class Fault:
    """One injected failure, applied to the next create (or list) request(s)."""

    status: int | None = None
    after_store: bool = False
    delay: float = 0.0
    times: int = 1
    on: str = "create"
