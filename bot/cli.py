"""The `aftercare` command: database, imports, practice and staff set-up, classifier evaluation, plan previews."""

from __future__ import annotations

import argparse
import json
import os
import sys

from sqlmodel import select

from bot import runtime
from bot.consent.privacy import erase_patient, export_patient
from bot.errors import ConfigError
from bot.intake.csv_import import import_csv
from bot.metrics.corrections import export_jsonl
from bot.staff.admin import add_commands
from bot.touches.preview import main_preview, main_simulate
from bot.understanding.evaluate import main as evaluate_main
from store.db import session_scope, upgrade
from store.models import AuditEvent, Practice


def _db_upgrade(args) -> int:
    upgrade(runtime.db_url())
    print(f"database at {_safe_url(runtime.db_url())} is up to date")
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':')[0]}:***@{host}" if ":" in credentials else url
    return url


def _import_appointments(args) -> int:
    report = import_csv(args.file, runtime.db_url())
    if report.refused:
        print(f"{args.file}: refused, nothing was imported: {report.refused}", file=sys.stderr)
        return 1
    for line, errors in report.errors:
        for error in errors:
            print(f"{args.file}:{line}: {error['field']}: {error['message']}", file=sys.stderr)
    bad = len(report.errors)
    print(f"imported {report.imported} appointment(s); {bad} row(s) refused")
    return 0 if report.ok else 1


def _eval(args) -> int:
    return evaluate_main(args.rest)


def _preview(args) -> int:
    return main_preview(args.rest)


def _simulate(args) -> int:
    return main_simulate(args.rest)


def _patient_export(args) -> int:
    with session_scope(runtime.db_url()) as session:
        data = export_patient(session, args.patient)
    if data is None:
        print(f"no patient with id {args.patient}", file=sys.stderr)
        return 1
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def _patient_erase(args) -> int:
    if not args.yes:
        print("erasing cannot be undone: add --yes to confirm", file=sys.stderr)
        return 2
    with session_scope(runtime.db_url()) as session:
        erased = erase_patient(session, args.patient)
    if not erased:
        print(f"no patient with id {args.patient}", file=sys.stderr)
        return 1
    print(f"patient {args.patient} erased; the number and its opt-out are kept so it is never texted again")
    return 0


def _export_corrections(args) -> int:
    with session_scope(runtime.db_url()) as session:
        practices = session.exec(select(Practice)).all()
        chosen = [p for p in practices if args.practice in (None, p.slug)]
        if not chosen:
            print(f"no practice with slug {args.practice!r}", file=sys.stderr)
            return 1
        if len(chosen) > 1:
            print("several practices: name one with --practice SLUG", file=sys.stderr)
            return 2
        text = export_jsonl(session, chosen[0].id)
        session.add(
            AuditEvent(
                practice_id=chosen[0].id,
                actor="cli",
                action="corrections_exported",
                detail={"format": "jsonl", "rows": text.count("\n")},
                created_at=runtime.clock().now(),
            )
        )
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {text.count(chr(10))} correction(s) to {args.output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aftercare", description="Aftercare: SMS follow-up for med spas.")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(func=_db_upgrade)

    imports = commands.add_parser("import", help="import data from a practice system")
    import_commands = imports.add_subparsers(dest="import_command", required=True)
    appointments = import_commands.add_parser("appointments", help="upsert appointments from a CSV file")
    appointments.add_argument("file")
    appointments.set_defaults(func=_import_appointments)

    patient = commands.add_parser("patient", help="a patient's data: export or erase on request")
    patient_commands = patient.add_subparsers(dest="patient_command", required=True)
    export = patient_commands.add_parser("export", help="print everything held about a patient as JSON")
    export.add_argument("--patient", type=int, required=True, metavar="ID")
    export.set_defaults(func=_patient_export)
    erase = patient_commands.add_parser("erase", help="delete a patient's data, keeping only the opt-out record")
    erase.add_argument("--patient", type=int, required=True, metavar="ID")
    erase.add_argument("--yes", action="store_true", help="confirm; erasing cannot be undone")
    erase.set_defaults(func=_patient_erase)

    exports = commands.add_parser("export", help="export data for other tools")
    export_commands = exports.add_subparsers(dest="export_command", required=True)
    corrections = export_commands.add_parser(
        "corrections", help="decisions marked wrong, as the labeled JSONL `aftercare eval` reads"
    )
    corrections.add_argument("--practice", metavar="SLUG", help="the practice (needed when there are several)")
    corrections.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    corrections.set_defaults(func=_export_corrections)

    add_commands(commands)

    for name, func, text in (
        ("eval", _eval, "score the classifier on a labeled JSONL file (see `aftercare eval -h`)"),
        ("preview", _preview, "print every touch a patient's plan would send or skip"),
        ("simulate", _simulate, "run every plan forward on a virtual clock and print what would happen"),
    ):
        sub = commands.add_parser(name, help=text, add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER)
        sub.set_defaults(func=func)
    return parser


PASSTHROUGH = {"eval": _eval, "preview": _preview, "simulate": _simulate}
"""Commands with their own argument parsers: everything after the name is theirs (--help included)."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASSTHROUGH:
        args = argparse.Namespace(func=PASSTHROUGH[argv[0]], rest=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    try:
        runtime.configure()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except BrokenPipeError:  # `aftercare simulate | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
