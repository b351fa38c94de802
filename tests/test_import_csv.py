"""`aftercare import appointments FILE.csv`: good rows kept, bad rows reported by line number."""

from __future__ import annotations

import csv

from sqlmodel import select

from bot.cli import main
from bot.intake.csv_import import import_csv
from bot.intake.schema import CSV_FIELDS, CSV_OPTIONAL_FIELDS
from store.db import session_scope
from store.models import Appointment, Location, Service

GOOD = {
    "external_id": "A-1",
    "status": "completed",
    "start": "2026-11-20T15:00:00-06:00",
    "end": "2026-11-20T15:30:00-06:00",
    "service_code": "BOTOX-FOREHEAD",
    "service_name": "Botox forehead",
    "service_category": "neuromodulator",
    "provider_external_id": "P-7",
    "provider_name": "Dr. Lee",
    "location_external_id": "L-1",
    "location_timezone": "America/Chicago",
    "price": "450",
    "patient_external_id": "C-1",
    "patient_first_name": "Ana",
    "patient_last_name": "Ruiz",
    "patient_phone": "(512) 555-0143",
    "patient_email": "",
    "patient_birthday": "1990-04-02",
    "patient_language": "es",
    "consent_care_sms": "yes",
    "consent_marketing_sms": "no",
    "consent_source": "intake form",
    "consent_at": "2026-11-20T14:50:00-06:00",
    "referral_code": "",
}


def write(path, rows, fieldnames=CSV_FIELDS):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_bad_rows_are_reported_by_line_and_good_rows_kept(tmp_path, settings):
    rows = [
        GOOD,
        {**GOOD, "external_id": "A-2", "patient_phone": "12", "patient_external_id": "C-2"},
        {**GOOD, "external_id": "A-3", "patient_external_id": "C-3", "patient_phone": "+15125550177"},
        {**GOOD, "external_id": "A-4", "start": "yesterday", "patient_external_id": "C-4"},
    ]
    report = import_csv(write(tmp_path / "in.csv", rows), settings.database_url)
    assert report.imported == 2
    assert [(line, [e["field"] for e in errors]) for line, errors in report.errors] == [
        (3, ["patient.phone"]),
        (5, ["start"]),
    ]
    with session_scope(settings.database_url) as session:
        stored = sorted(a.external_id for a in session.exec(select(Appointment)))
    assert stored == ["A-1", "A-3"]


def test_cli_exit_code_and_messages(tmp_path, settings, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)  # keys the hash that recognises erased numbers
    path = write(tmp_path / "in.csv", [GOOD, {**GOOD, "external_id": "A-9", "status": "finished"}])
    assert main(["import", "appointments", str(path)]) == 1
    captured = capsys.readouterr()
    assert f"{path}:3: status: must be one of" in captured.err
    assert "imported 1 appointment(s); 1 row(s) refused" in captured.out
    assert main(["import", "appointments", str(write(tmp_path / "ok.csv", [GOOD]))]) == 0


def test_missing_columns_are_named(tmp_path, settings):
    path = tmp_path / "bad.csv"
    path.write_text("external_id,status\nA-1,completed\n")
    report = import_csv(path, settings.database_url)
    assert report.imported == 0
    assert {e["field"] for e in report.errors[0][1]} == {"start", "end", "service_code", "patient_phone"}


def test_quoted_multiline_cells_keep_line_numbers_right(tmp_path, settings):
    path = tmp_path / "multi.csv"
    write(path, [{**GOOD, "patient_last_name": "Ruiz\nGarcía"}, {**GOOD, "external_id": "A-2", "status": "??"}])
    report = import_csv(path, settings.database_url)
    assert report.imported == 1
    assert report.errors[0][0] == 4


def test_optional_columns_give_the_spanish_service_name_and_the_location_phone(tmp_path, settings):
    rows = [
        {
            **GOOD,
            "service_area": "forehead",
            "service_name_es": "Botox en la frente",
            "location_phone": "(305) 555-0100",
        },
        {**GOOD, "external_id": "A-2", "location_phone": "call the desk"},
    ]
    report = import_csv(write(tmp_path / "in.csv", rows, CSV_FIELDS + CSV_OPTIONAL_FIELDS), settings.database_url)
    assert report.imported == 1
    assert [(line, [e["field"] for e in errors]) for line, errors in report.errors] == [(3, ["location.phone"])]
    with session_scope(settings.database_url) as session:
        [service] = session.exec(select(Service)).all()
        [location] = session.exec(select(Location)).all()
    assert (service.name_es, service.area, location.phone) == ("Botox en la frente", "forehead", "+13055550100")
