"""The staff dashboard: escalations first, patients and their transcripts, takeover, replies, numbers, mail."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

# The pages register their routes on `bp` when imported.
from web.dashboard import (  # noqa: E402, F401
    audit,
    context,
    control,
    corrections,
    drafts,
    escalations,
    inbox,
    numbers,
    offer_results,
    offers,
    operations,
    patients,
    privacy,
    report,
    retail,
    settings,
    settings_care,
    settings_oncall,
    settings_plans,
    settings_practice,
    settings_treatments,
    users,
    visits,
)
