"""`aftercare import appointments FILE.csv`: the webhook's fields, flattened; bad rows reported by line."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field

from bot.errors import ValidationError
from bot.intake.schema import validate
from bot.intake.upsert import upsert
from store.db import session_scope

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, list[dict]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def row_to_payload(row: dict) -> dict:
    """A flattened CSV row as the JSON webhook's nested shape."""

    def get(key):
        value = row.get(key)
        return value.strip() if isinstance(value, str) else value

    consent_keys = ("consent_care_sms", "consent_marketing_sms", "consent_source", "consent_at")
    return {
        "external_id": get("external_id"),
        "status": get("status"),
        "start": get("start"),
        "end": get("end"),
        "service": {
            "code": get("service_code"),
            "name": get("service_name"),
            "category": get("service_category"),
            **({"area": get("service_area")} if get("service_area") else {}),
            **({"name_es": get("service_name_es")} if get("service_name_es") else {}),
        },
        "provider": (
            {"external_id": get("provider_external_id"), "name": get("provider_name")}
            if get("provider_external_id") or get("provider_name")
            else None
        ),
        "location": (
            {
                "external_id": get("location_external_id"),
                "timezone": get("location_timezone"),
                **({"phone": get("location_phone")} if get("location_phone") else {}),
            }
            if get("location_external_id") or get("location_timezone")
            else None
        ),
        "price": get("price"),
        "patient": {
            "external_id": get("patient_external_id"),
            "first_name": get("patient_first_name"),
            "last_name": get("patient_last_name"),
            "phone": get("patient_phone"),
            "email": get("patient_email"),
            "birthday": get("patient_birthday"),
            "language": get("patient_language") or "en",
            "consent": (
                {
                    "care_sms": get("consent_care_sms"),
                    "marketing_sms": get("consent_marketing_sms"),
                    "source": get("consent_source"),
                    "at": get("consent_at"),
                }
                if any(get(k) for k in consent_keys)
                else None
            ),
        },
        "referral_code": get("referral_code") or None,
    }


def import_csv(path, db_url: str, source: str = "csv") -> ImportReport:
    """Import a CSV file row by row: good rows are kept, bad rows reported by line number."""
    report = ImportReport()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [
            name
            for name in ("external_id", "status", "start", "end", "service_code", "patient_phone")
            if name not in (reader.fieldnames or [])
        ]
        if missing:
            report.errors.append(
                (1, [{"field": name, "message": "column is missing from the header"} for name in missing])
            )
            return report
        line = reader.line_num
        for row in reader:
            start_line, line = line + 1, reader.line_num
            if None in row:
                report.errors.append((start_line, [{"field": "(row)", "message": "has more cells than the header"}]))
                continue
            try:
                item = validate(row_to_payload(row))
                with session_scope(db_url) as session:
                    upsert(session, item, source=source)
                report.imported += 1
            except ValidationError as exc:
                report.errors.append((start_line, exc.errors))
    return report
