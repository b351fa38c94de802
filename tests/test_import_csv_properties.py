"""The CSV importer under generated files, on SQLite and on PostgreSQL: never a traceback, never a partial
row, every refusal with a line and a reason, in every encoding it reads."""

from __future__ import annotations

import csv
import io
from itertools import count

from hypothesis import HealthCheck, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.intake.csv_import import import_csv
from bot.intake.schema import CSV_FIELDS
from store.db import session_scope
from store.models import Appointment, Patient, Service
from tests.helpers import CSV_ROW

FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Generated files per property and database (each file holds up to four rows)."""

ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")
"""The encodings the importer reads ("utf-16" writes its byte-order mark)."""

FUZZED = tuple(f for f in CSV_FIELDS if f not in {"external_id", "service_code", "patient_external_id"})
"""Cells given generated values; each row's own ids stay unique, so what it wrote can be found."""

_files = count(1)


def _cell(encoding: str):
    alphabet = st.characters(codec="cp1252" if encoding == "cp1252" else "utf-8")
    awkward = st.sampled_from(["", " ", "NaN", "inf", "0001-01-01", "America", "+1512555\x000143", "1e309", "-1"])
    return awkward | st.text(alphabet=alphabet, max_size=30)


@st.composite
def csv_files(draw):
    """A CSV export: an encoding, and rows that are good ones with some cells replaced."""
    encoding = draw(st.sampled_from(ENCODINGS))
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        changes = draw(st.dictionaries(st.sampled_from(FUZZED), _cell(encoding), max_size=4))
        rows.append({**CSV_ROW, **changes})
    return encoding, rows


def _write(tmp_path, encoding: str, rows: list[dict]) -> tuple:
    """The file, and the rows as they were written with their ids (unique to this file)."""
    n = next(_files)
    for i, row in enumerate(rows):
        row.update(
            external_id=f"A-{n}-{i}", patient_external_id=f"C-{n}-{i}", service_code=f"S-{n}-{i}", price=row["price"]
        )
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / f"export-{n}.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    # Lines as the importer's reader counts them: a bare "\r" in a cell ends a line too, as "\n" and "\r\n" do.
    return path, len(io.StringIO(buffer.getvalue(), newline="").readlines()) + 1


def _stored(db_url: str, ids: list[str], column) -> set[str]:
    with session_scope(db_url) as session:
        return set(session.exec(select(column).where(col(column).in_(ids))).all()) if ids else set()


def _assert_reasons(report, lines: int) -> None:
    for line, errors in report.errors:
        assert 1 <= line <= lines, (line, errors)
        assert errors and all(str(e["field"]).strip() and str(e["message"]).strip() for e in errors), errors


@FUZZ
@given(file=csv_files())
@example(file=("utf-8", [{**CSV_ROW, "status": "\r", "start": "\r"}, dict(CSV_ROW)]))  # a bare CR in a cell ends a line
def test_generated_exports_are_stored_whole_or_refused_by_line(tmp_path, settings, file):
    encoding, rows = file
    path, lines = _write(tmp_path, encoding, rows)
    report = import_csv(path, settings.database_url)
    assert report.refused is None, report.refused  # every one of these encodings is read
    _assert_reasons(report, lines)
    assert report.imported + len(report.errors) == len(rows)
    event(f"{encoding}: {'some rows refused' if report.errors else 'every row stored'}")
    refused_lines = {line for line, _ in report.errors}
    line_of = _line_of_each_row(path.read_bytes().decode(report.encoding))
    kept = [row for row, line in zip(rows, line_of, strict=True) if line not in refused_lines]
    dropped = [row for row, line in zip(rows, line_of, strict=True) if line in refused_lines]
    db = settings.database_url
    # A stored row is whole: its appointment, its patient and its service; a refused one left nothing.
    assert _stored(db, [r["external_id"] for r in kept], Appointment.external_id) == {r["external_id"] for r in kept}
    assert _stored(db, [r["service_code"] for r in kept], Service.code) == {r["service_code"] for r in kept}
    assert _stored(db, [r["external_id"] for r in dropped], Appointment.external_id) == set()
    assert _stored(db, [r["patient_external_id"] for r in dropped], Patient.external_id) == set()
    assert _stored(db, [r["service_code"] for r in dropped], Service.code) == set()
    with session_scope(db) as session:
        for row in kept:
            appointment = session.exec(select(Appointment).where(Appointment.external_id == row["external_id"])).one()
            assert session.get(Patient, appointment.patient_id) is not None


def _line_of_each_row(text: str) -> list[int]:
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    lines, line = [], reader.line_num
    for _row in reader:
        lines.append(line + 1)
        line = reader.line_num
    return lines


@FUZZ
@given(
    raw=st.binary(max_size=400)
    | st.builds(
        lambda head, tail: head + tail,
        st.just(b"external_id,status,start,end,service_code,patient_phone\n"),
        st.binary(max_size=300),
    )
)
def test_any_bytes_are_imported_refused_whole_or_refused_by_line(tmp_path, settings, raw):
    path = tmp_path / f"bytes-{next(_files)}.csv"
    path.write_bytes(raw)
    with session_scope(settings.database_url) as session:
        before = len(session.exec(select(Appointment.id)).all())
    report = import_csv(path, settings.database_url)
    event("refused whole" if report.refused is not None else "read, rows reported")
    if report.refused is not None:
        assert report.refused.strip() and report.imported == 0
        with session_scope(settings.database_url) as session:
            assert len(session.exec(select(Appointment.id)).all()) == before
        return
    _assert_reasons(report, raw.count(b"\n") + raw.count(b"\r") + 2)
