"""`aftercare import appointments FILE.csv`: good rows kept, bad rows reported by line number."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.cli import main
from bot.intake import upsert as upsert_module
from bot.intake.csv_import import import_csv
from bot.intake.schema import CSV_FIELDS, CSV_OPTIONAL_FIELDS
from store.db import session_scope
from store.models import Appointment, Location, Patient, Provider, Service, Touch
from tests.helpers import CSV_ROW as GOOD
from tests.helpers import write_csv as write


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


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_the_encodings_practices_export_are_read(tmp_path, settings, encoding):
    """UTF-8 with or without a BOM, Excel's Windows-1252 ("CSV" on Windows), and UTF-16 with its BOM."""
    rows = [{**GOOD, "patient_first_name": "José", "patient_last_name": "Muñoz–Peña", "consent_source": "café ü"}]
    path = write(tmp_path / "plain.csv", rows)
    text = path.read_text(encoding="utf-8")
    if encoding.endswith("-bom"):
        raw = "\ufeff".encode(encoding[:-4]) + text.encode(encoding[:-4])
    else:
        raw = text.encode(encoding)
    path.write_bytes(raw)
    report = import_csv(path, settings.database_url)
    assert (report.imported, report.errors, report.refused) == (1, [], None)
    assert report.encoding == {"utf-16-le-bom": "utf-16", "utf-16-be-bom": "utf-16"}.get(encoding, encoding)
    with session_scope(settings.database_url) as session:
        [patient] = session.exec(select(Patient)).all()
    assert (patient.first_name, patient.last_name, patient.care_sms_source) == ("José", "Muñoz–Peña", "café ü")


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        ("external_id,status\nA-1,ok\n".encode("utf-16-le"), "UTF-16 without a byte-order mark"),
        (b"\xff\xfe" + "external_id".encode("utf-16-le") + b"\x00\xd8", "not valid UTF-16"),
        (b"\xef\xbb\xbfexternal_id,status\n\xe9\n", "not valid UTF-8 at byte"),
        (b"external_id,status\nA-\x81,ok\n", "neither UTF-8 nor Windows-1252 (byte 0x81"),
        (b'external_id,status\n"' + b"x" * 200_000 + b'"\n', "line 2: the CSV does not parse"),
    ],
)
def test_a_file_it_cannot_read_is_refused_whole_with_the_reason(tmp_path, settings, capsys, monkeypatch, raw, reason):
    good = write(tmp_path / "good.csv", [GOOD]).read_bytes()
    path = tmp_path / "bad.csv"
    # Good rows first: a file refused whole writes none of them.
    path.write_bytes(raw if not raw.startswith(b"external_id") else good + raw.split(b"\n", 1)[1])
    report = import_csv(path, settings.database_url)
    assert reason in (report.refused or ""), report
    assert (report.imported, report.ok) == (0, False)
    with session_scope(settings.database_url) as session:
        assert session.exec(select(Appointment)).all() == []
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    assert main(["import", "appointments", str(path)]) == 1
    assert f"{path}: refused, nothing was imported: " in capsys.readouterr().err


def test_a_missing_file_is_refused_with_the_reason(tmp_path, settings):
    report = import_csv(tmp_path / "nowhere.csv", settings.database_url)
    assert report.refused == "cannot read the file: No such file or directory"


def test_a_row_that_fails_while_it_is_written_leaves_nothing_of_itself(tmp_path, settings, monkeypatch):
    """The second row's appointment is flushed, then planning it fails: its patient, service, provider,
    location and appointment are all rolled back to its savepoint; the rows around it are stored whole."""
    real = upsert_module.plan_appointment

    def plan(session, appointment_id):
        if session.get(Appointment, appointment_id).external_id == "A-2":
            raise OperationalError("INSERT INTO touch ...", {}, Exception("disk I/O error"))
        return real(session, appointment_id)

    monkeypatch.setattr(upsert_module, "plan_appointment", plan)
    second = {
        **GOOD,
        "external_id": "A-2",
        "patient_external_id": "C-2",
        "patient_phone": "+15125550177",
        "service_code": "FILLER-LIPS",
        "service_category": "filler",
        "provider_external_id": "P-2",
        "location_external_id": "L-2",
    }
    third = {**GOOD, "external_id": "A-3", "patient_external_id": "C-3", "patient_phone": "+15125550178"}
    report = import_csv(write(tmp_path / "in.csv", [GOOD, second, third]), settings.database_url)
    assert report.imported == 2
    assert report.errors == [
        (3, [{"field": "(row)", "message": "could not be stored (OperationalError); import it again"}])
    ]
    with session_scope(settings.database_url) as session:
        assert sorted(a.external_id for a in session.exec(select(Appointment))) == ["A-1", "A-3"]
        assert sorted(p.external_id for p in session.exec(select(Patient))) == ["C-1", "C-3"]
        assert [s.code for s in session.exec(select(Service))] == ["BOTOX-FOREHEAD"]
        assert [p.external_id for p in session.exec(select(Provider))] == ["P-7"]
        assert [loc.external_id for loc in session.exec(select(Location))] == ["L-1"]
        planned = {t.appointment_id for t in session.exec(select(Touch))}
        assert len(planned) == 2  # both stored visits have their texts planned
