"""The drill's audit: the database against the fakes' own logs and the patients' ledger.

Each figure names where it comes from. The invariants are the figures DESIGN.md and issue #11
promise are zero; `--strict` fails the run on any of them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from bench.drill_patients import STAFF_PHONES, Ledger
from store.models import Appointment, Escalation, Message, Patient, Touch

SAMPLES = 5
"""Examples kept in drill.json for each broken figure, for whoever fixes it."""
STUCK_AFTER = timedelta(minutes=1)
"""A touch still "queued" or "sending" this long after it was claimed counts as stuck (issue #11: a minute)."""
CONFIRMATION = re.compile(r"unsubscribed|dado de baja", re.IGNORECASE)
"""How an opt-out confirmation reads (bot/conversation/replies.toml)."""
FINAL = ("delivered", "undelivered", "failed")

INVARIANTS = (
    ("inbound lost", ("inbound", "lost")),
    ("inbound processed twice", ("inbound", "processed_twice")),
    ("webhook 5xx answers", ("inbound", "answered_5xx")),
    ("touches sent twice", ("touches", "sent_twice")),
    ("touches stuck", ("touches", "stuck")),
    ("texts after opt-out", ("opt_out", "texts_after")),
    ("sends attempted after opt-out", ("opt_out", "attempts_after")),
    ("status callbacks ignored", ("callbacks", "ignored")),
    ("texts stuck in the outbox", ("outbox", "stuck")),
    ("emergencies not paged", ("emergencies", "not_paged")),
    ("double bookings", ("bookings", "double_booked")),
    ("phone numbers in logs", ("logs", "phone_numbers")),
)
"""(label, path in the results) of every figure that must be zero."""


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_rfc2822(stamp: str | None) -> datetime | None:
    return datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z") if stamp else None


def audit(session: Session, ledger: Ledger, fake_messages: list[dict], mails: list[dict], logs: list[Path]) -> dict:
    """Every figure of the report, from the database, the fake Twilio's list, the mail log and the ledger."""
    now = datetime.now(UTC)
    results = {}
    inbound_rows = session.exec(select(Message).where(Message.direction == "in")).all()
    results["inbound"] = _inbound(ledger, inbound_rows)
    outbound_rows = session.exec(select(Message).where(Message.direction == "out")).all()
    touches = session.exec(select(Touch)).all()
    patients = {p.id: p for p in session.exec(select(Patient)).all()}
    results["touches"] = _touches(touches, patients, fake_messages, outbound_rows, now)
    results["opt_out"] = _opt_out(ledger, patients, fake_messages, outbound_rows)
    results["callbacks"] = _callbacks(fake_messages, outbound_rows)
    results["outbox"] = _outbox(outbound_rows, patients, now)
    results["emergencies"] = _emergencies(session, ledger, inbound_rows, fake_messages)
    results["bookings"] = _bookings(session, ledger)
    results["email"] = _email(mails)
    results["logs"] = _logs(logs, {p.phone for p in patients.values()} | set(STAFF_PHONES))
    results["invariants"] = {label: _get(results, path) for label, path in INVARIANTS}
    return results


def _get(results: dict, path: tuple[str, str]) -> int:
    return results[path[0]][path[1]]


def _inbound(ledger: Ledger, rows: list[Message]) -> dict:
    by_sid = Counter(row.twilio_sid for row in rows)
    processed = {row.twilio_sid for row in rows if row.processed_at is not None and row.decision}
    received = {post.sid for post in ledger.posts}
    answered_ok = {post.sid for post in ledger.posts if post.status == 200}
    return {
        "posts": len(ledger.posts),
        "retries": sum(1 for post in ledger.posts if not post.first),
        "received": len(received),
        "stored": sum(1 for sid in received if by_sid[sid]),
        "processed_once": sum(1 for sid in received if sid in processed and by_sid[sid] == 1),
        "processed_twice": sum(1 for sid in received if by_sid[sid] > 1),
        # Twilio retries a text it could not deliver to us; one it never got through counts as lost too.
        "lost": sum(1 for sid in received if sid not in processed),
        "lost_unanswered": sum(1 for sid in received if sid not in processed and sid not in answered_ok),
        "answered_5xx": sum(1 for post in ledger.posts if post.status is None or post.status >= 500),
        "samples_lost": [_post_sample(post, rows) for post in ledger.posts if post.first and post.sid not in processed][
            :SAMPLES
        ],
    }


def _post_sample(post, rows: list[Message]) -> dict:
    row = next((r for r in rows if r.twilio_sid == post.sid), None)
    return {
        "script": post.script,
        "body": post.body,
        "answered": post.status,
        "stored": row is not None,
        "processed_at": str(row.processed_at) if row else None,
        "decision": bool(row.decision) if row else None,
    }


def _touches(touches, patients, fake_messages, outbound_rows, now) -> dict:
    to_body = Counter((m["to"], m["body"]) for m in fake_messages)
    sent_once = sent_twice = stuck = 0
    skipped: Counter = Counter()
    samples: dict[str, list] = {"twice": [], "stuck": []}
    due = [t for t in touches if _aware(t.due_at) <= now]
    for touch in due:
        phone = patients[touch.patient_id].phone
        if touch.channel == "sms" and touch.body:
            copies = to_body[(phone, touch.body)]
            if copies == 1:
                sent_once += 1
            elif copies > 1:
                sent_twice += 1
                samples["twice"].append({"touch": touch.id, "copies": copies, "status": touch.status})
        elif touch.status == "sent":
            sent_once += 1  # email: counted from the mail log below
        if touch.status in ("queued", "sending") and (
            touch.claimed_at is None or now - _aware(touch.claimed_at) > STUCK_AFTER
        ):
            stuck += 1
            age = (now - _aware(touch.claimed_at)).total_seconds() if touch.claimed_at else None
            samples["stuck"].append({"touch": touch.id, "status": touch.status, "claimed_s_ago": age})
        if touch.status in ("skipped", "suppressed", "failed"):
            skipped[f"{touch.status}: {touch.reason or 'no reason'}"] += 1
    statuses = Counter(t.status for t in due)
    return {
        "planned": len(touches),
        "due": len(due),
        "sent_once": sent_once,
        "sent_twice": sent_twice,
        "stuck": stuck,
        "skipped": sum(skipped.values()),
        "skipped_no_reason": sum(n for k, n in skipped.items() if k.endswith("no reason")),
        "reasons": dict(skipped.most_common()),
        "statuses": dict(statuses),
        "samples_twice": samples["twice"][:SAMPLES],
        "samples_stuck": samples["stuck"][:SAMPLES],
    }


def _opt_out(ledger, patients, fake_messages, outbound_rows) -> dict:
    """Texts that reached an opted-out number after its opt-out (one confirmation allowed), from the
    fake's list; and sends the app attempted that only the carrier's block stopped."""
    confirmations = {row.twilio_sid for row in outbound_rows if row.kind == "confirmation"}
    by_phone = {p.phone: p for p in patients.values()}
    cut: dict[str, datetime] = dict(ledger.stops)
    for phone, patient in by_phone.items():
        if patient.opted_out_at is not None and phone not in cut:
            # Free-text opt-outs land in the worker; the fake stamps whole seconds, so allow one.
            cut[phone] = _aware(patient.opted_out_at) + timedelta(seconds=1)
    after = 0
    samples = []
    kinds = {row.twilio_sid: row.kind for row in outbound_rows}
    confirmed: set[str] = set()
    for message in fake_messages:
        phone = message["to"]
        created = _parse_rfc2822(message.get("date_created"))
        if phone not in cut or not created or created <= cut[phone]:
            continue
        if phone not in confirmed and (message["sid"] in confirmations or CONFIRMATION.search(message["body"])):
            confirmed.add(phone)  # the one confirmation the opt-out promises
            continue
        after += 1
        samples.append(
            {
                "kind": kinds.get(message["sid"]),
                "body": message["body"][:60],
                "seconds_after_opt_out": (created - cut[phone]).total_seconds(),
                "by": "STOP" if phone in ledger.stops else "words",
            }
        )
    attempts = 0
    for row in outbound_rows:
        # The carrier blocks a number from its STOP on: a 21610 means we tried after it, whenever the row was queued.
        if row.to_number in ledger.stops and row.kind != "confirmation" and row.error_code == 21610:
            attempts += 1
    return {
        "opted_out": len(cut),
        "keyword_stops": len(ledger.stops),
        "texts_after": after,
        "attempts_after": attempts,
        "samples_after": samples[:SAMPLES],
    }


def _outbox(outbound_rows, patients, now) -> dict:
    """Texts still waiting to be handed to Twilio long after they were written."""
    opted_out = {p.phone for p in patients.values() if p.opted_out_at is not None}
    stuck = [
        row
        for row in outbound_rows
        if row.status in ("pending", "transmitting") and now - _aware(row.created_at) > STUCK_AFTER
    ]
    return {
        "stuck": len(stuck),
        "by_kind": dict(Counter(f"{row.kind} {row.status}" for row in stuck)),
        "samples": [
            {
                "kind": row.kind,
                "status": row.status,
                "age_s": round((now - _aware(row.created_at)).total_seconds()),
                "to_opted_out": row.to_number in opted_out,
                "error_code": row.error_code,
                "body": row.body[:60],
            }
            for row in stuck[:SAMPLES]
        ],
    }


def _callbacks(fake_messages, outbound_rows) -> dict:
    """A final status the fake reached and posted back: applied when the row shows it, else ignored."""
    by_sid = {row.twilio_sid: row for row in outbound_rows if row.twilio_sid}
    applied = ignored = unknown = 0
    samples = []
    unknown_samples = []
    for message in fake_messages:
        if message["status"] not in FINAL:
            continue
        row = by_sid.get(message["sid"])
        if row is None:
            # Twilio has the text, the database never stored its SID: an ambiguous send left unresolved.
            unknown += 1
            unknown_samples.append({"to_staff": message["to"] in STAFF_PHONES, "body": message["body"][:60]})
        elif row.status == message["status"]:
            applied += 1
        else:
            ignored += 1
            samples.append(
                {
                    "twilio": message["status"],
                    "row": row.status if row else None,
                    "kind": row.kind if row else None,
                    "row_has_sid": row is not None,
                }
            )
    return {
        "final_statuses": applied + ignored,
        "applied": applied,
        "ignored": ignored,
        "texts_unknown_to_database": unknown,
        "samples_ignored": samples[:SAMPLES],
        "samples_unknown": unknown_samples[:SAMPLES],
    }


def _emergencies(session, ledger, inbound_rows, fake_messages) -> dict:
    posts = [p for p in ledger.posts if p.script == "emergency" and p.first]
    message_ids = {row.twilio_sid: row.id for row in inbound_rows}
    paged = not_paged = safety_replies = 0
    slowest = 0.0
    no_reply: list[dict] = []
    for post in posts:
        message_id = message_ids.get(post.sid)
        escalation = (
            session.exec(select(Escalation).where(Escalation.message_id == message_id)).first() if message_id else None
        )
        if escalation is not None and escalation.paged_at is not None:
            paged += 1
            slowest = max(slowest, (_aware(escalation.paged_at) - post.posted_at).total_seconds())
        else:
            not_paged += 1
        safety_replies += post.twiml_reply
        if not post.twiml_reply and len(no_reply) < SAMPLES:
            no_reply.append({"answered": post.status, "paged": bool(escalation and escalation.paged_at)})
    pages = sum(1 for m in fake_messages if m["to"] in STAFF_PHONES)
    return {
        "sent": len(posts),
        "paged": paged,
        "not_paged": not_paged,
        "slowest_page_s": round(slowest, 2),
        "safety_replies_in_twiml": safety_replies,
        "samples_without_safety_reply": no_reply,
        "page_texts": pages,
    }


def _bookings(session, ledger) -> dict:
    rows = session.exec(
        select(Appointment).where(col(Appointment.status).in_(("booked", "requested")), Appointment.source == "bot")
    ).all()
    slots = Counter((row.provider_id, _aware(row.start_at)) for row in rows)
    asked = len({p.phone for p in ledger.posts if p.script == "booking"})
    return {
        "patients_asking": asked,
        "booked_by_text": len(rows),
        "double_booked": sum(n - 1 for n in slots.values() if n > 1),
    }


def _email(mails: list[dict]) -> dict:
    ids = Counter(m["message_id"] for m in mails)
    pairs = Counter((m["to"], m["subject"]) for m in mails)
    return {
        "kept": len(mails),
        "same_message_id_twice": sum(n - 1 for n in ids.values() if n > 1),
        "same_recipient_and_subject_twice": sum(n - 1 for n in pairs.values() if n > 1),
    }


def _logs(paths: list[Path], phones: set[str]) -> dict:
    """Full phone numbers (E.164 or the bare ten digits) of the drill's patients and staff in any log."""
    national = {phone[2:]: phone for phone in phones if phone.startswith("+1")}
    pattern = re.compile(r"(?<!\d)(?:\+?1)?(\d{10})(?!\d)")
    found: Counter = Counter()
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for match in pattern.finditer(text):
            if match.group(1) in national:
                found[path.name] += 1
    return {"phone_numbers": sum(found.values()), "by_file": dict(found)}


def table(results: dict) -> list[str]:
    """The report's lines."""
    i, t, o = results["inbound"], results["touches"], results["opt_out"]
    c, e, b, m = results["callbacks"], results["emergencies"], results["bookings"], results["email"]
    rows = [
        ("inbound texts received", i["received"], f"{i['posts']} posts, {i['retries']} of them retries"),
        ("  processed once", i["processed_once"], ""),
        ("  processed twice", i["processed_twice"], "rows per MessageSid > 1"),
        ("  lost", i["lost"], f"{i['lost_unanswered']} of them never answered 200"),
        ("  webhook answered 5xx / no answer", i["answered_5xx"], ""),
        ("touches due", t["due"], f"{t['planned']} planned"),
        ("  sent once", t["sent_once"], "matched to the fake Twilio's list"),
        ("  sent twice", t["sent_twice"], ""),
        ("  stuck", t["stuck"], f"queued/sending > {int(STUCK_AFTER.total_seconds())} s after the claim"),
        ("  skipped with a reason", t["skipped"] - t["skipped_no_reason"], _top(t["reasons"])),
        ("  skipped without a reason", t["skipped_no_reason"], ""),
        ("texts after opt-out", o["texts_after"], f"{o['opted_out']} opted out ({o['keyword_stops']} by STOP)"),
        ("  sends attempted after STOP", o["attempts_after"], "refused 21610 by the carrier"),
        ("status callbacks applied", c["applied"], f"of {c['final_statuses']} final statuses"),
        ("  ignored", c["ignored"], "final at Twilio, another status in the database"),
        ("texts at Twilio without their SID", c["texts_unknown_to_database"], "sent, never linked to a row"),
        ("texts stuck in the outbox", results["outbox"]["stuck"], _top(results["outbox"]["by_kind"])),
        ("emergencies paged", e["paged"], f"of {e['sent']}; {e['safety_replies_in_twiml']} safety replies in TwiML"),
        ("  not paged", e["not_paged"], ""),
        ("  slowest page (s)", e["slowest_page_s"], "from the webhook post to paged_at"),
        ("double bookings", b["double_booked"], f"{b['booked_by_text']} booked by {b['patients_asking']} asking"),
        ("emails twice", m["same_recipient_and_subject_twice"], f"{m['kept']} kept by the SMTP server"),
        ("phone numbers found in logs", results["logs"]["phone_numbers"], _top(results["logs"]["by_file"])),
    ]
    return [f"  {label:<36}{value:>8}  {note}".rstrip() for label, value, note in rows]


def _top(counts: dict, n: int = 3) -> str:
    return ", ".join(f"{k} {v}" for k, v in list(counts.items())[:n])
