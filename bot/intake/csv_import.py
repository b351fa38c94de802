"""`aftercare import appointments FILE.csv`: the webhook's fields, flattened; bad rows reported by line.

The file is read whole before anything is written: one in an encoding it cannot tell, or whose CSV does
not parse, is refused with the reason and changes nothing. Then each row is written inside its own
SAVEPOINT, so a row is stored completely (patient, service, appointment, its planned texts) or not at
all, and a bad row is reported with its line and the import carries on.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.errors import ValidationError
from bot.intake.schema import validate
from bot.intake.upsert import upsert
from store.db import session_scope

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("external_id", "status", "start", "end", "service_code", "patient_phone")
"""Columns a file must have in its header; the others may be left out."""

MAX_FILE_BYTES = 50 * 1024 * 1024
"""A CSV larger than this is not an appointment export (about 200,000 rows)."""

ROWS_PER_COMMIT = 50
"""Rows written in one transaction (each in its own savepoint): short enough that the web process and the
worker, which share a SQLite file, never wait long for the lock."""

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"


class UnreadableFile(Exception):
    """The whole file was refused; the message says why."""


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, list[dict]]] = field(default_factory=list)
    refused: str | None = None
    """Why the whole file was refused (nothing was written), or None."""
    encoding: str | None = None
    """The encoding the file was read in."""

    @property
    def ok(self) -> bool:
        return not self.errors and self.refused is None


def decode(raw: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in: UTF-16 with a byte-order mark, UTF-8 with or without
    one, else Excel's Windows-1252. Raises UnreadableFile with the reason when it is none of these."""
    if not raw.strip():
        raise UnreadableFile("the file is empty")
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("this is an Excel workbook, not a CSV file: save it as 'CSV UTF-8' and import that")
    if raw.startswith(_UTF16_BOMS):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"it starts as UTF-16 but is not valid UTF-16 at byte {error.start}") from None
    if raw.startswith(_UTF8_BOM):
        try:
            return raw[len(_UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"it starts as UTF-8 but is not valid UTF-8 at byte {error.start}") from None
    head = raw[:200]
    if head.count(0) * 3 > len(head):
        # ASCII as UTF-16 is every other byte NUL; without the mark the byte order is a guess.
        raise UnreadableFile("it looks like UTF-16 without a byte-order mark: save it as 'CSV UTF-8'")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"it is neither UTF-8 nor Windows-1252 (byte 0x{raw[error.start]:02x} at offset {error.start}):"
            " save it as 'CSV UTF-8'"
        ) from None


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and each row with the line it starts on; UnreadableFile when the CSV does not parse."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        header = list(reader.fieldnames or [])
        line = reader.line_num
        for row in reader:
            rows.append((line + 1, row))
            line = reader.line_num
    except csv.Error as error:
        raise UnreadableFile(f"line {reader.line_num}: the CSV does not parse ({error})") from None
    return header, rows


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


def _write_row(session: Session, row: dict, source: str) -> list[dict] | None:
    """Validate and store one row inside a savepoint; its errors, or None when it was stored whole."""
    if None in row:
        return [{"field": "(row)", "message": "has more cells than the header"}]
    try:
        item = validate(row_to_payload(row))
    except ValidationError as exc:
        return exc.errors
    try:
        with session.begin_nested():
            upsert(session, item, source=source)
    except ValidationError as exc:  # what only the stored rows can tell, such as a number erased on request
        return exc.errors
    except SQLAlchemyError as exc:  # e.g. another writer stored the same appointment at the same moment
        log.warning("csv row not stored: %s", type(exc).__name__)  # bound values hidden: they are PHI
        return [{"field": "(row)", "message": f"could not be stored ({type(exc).__name__}); import it again"}]
    return None


def import_csv(path, db_url: str, source: str = "csv") -> ImportReport:
    """Import a CSV file: good rows are kept, bad rows reported by line number, an unreadable file refused whole."""
    report = ImportReport()
    try:
        file = Path(path)
        if file.stat().st_size > MAX_FILE_BYTES:
            raise UnreadableFile(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        text, report.encoding = decode(file.read_bytes())
        header, rows = read_rows(text)
    except OSError as error:
        report.refused = f"cannot read the file: {error.strerror or error}"
        return report
    except UnreadableFile as error:
        report.refused = str(error)
        return report
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        report.errors.append((1, [{"field": name, "message": "column is missing from the header"} for name in missing]))
        return report
    for start in range(0, len(rows), ROWS_PER_COMMIT):
        with session_scope(db_url) as session:
            for line, row in rows[start : start + ROWS_PER_COMMIT]:
                errors = _write_row(session, row, source)
                if errors:
                    report.errors.append((line, errors))
                else:
                    report.imported += 1
    return report
