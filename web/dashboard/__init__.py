"""The staff dashboard: escalations first, patients and their transcripts, takeover, replies, numbers, mail."""

from flask import Blueprint

from web.auth import render_error

bp = Blueprint("dashboard", __name__)
for _code in (400, 403, 404):
    bp.register_error_handler(_code, render_error)

# The pages register their routes on `bp` when imported.
from web.dashboard import context, inbox, mail, numbers, patients, visits  # noqa: E402, F401
