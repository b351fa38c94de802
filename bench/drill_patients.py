"""The drill's patients: appointments through the signed API, scripted replies through the signed webhook.

Each patient gets one completed visit, backdated so that its first touch falls due at a moment
spread over the drill's first minutes (the worker's real clock is the fast clock: the visit is in
the past, the tick runs every 2 s), and one script:

    quiet       says nothing
    question    asks an ordinary question
    stop        texts STOP at a random moment (before, while or after its touch is in flight)
    opt_out     asks in words to stop ("please stop texting me")
    emergency   "my lip is turning white and it hurts"
    booking     "can I come in Thursday?", then "1" once the offer arrives
    burst       three texts within a second
    retry       one text, then Twilio's retries of it: the same MessageSid again, then 3x at once

Every text posted is written to the ledger with its MessageSid, what the webhook answered and when.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from twilio.request_validator import RequestValidator

PRACTICE_NUMBER = "+15125550100"
"""The practice's texting number (its location's sms_number)."""
ON_CALL_PHONE = "+15125559001"
BACKUP_PHONE = "+15125559002"
STAFF_PHONES = (ON_CALL_PHONE, BACKUP_PHONE)

SCRIPTS = (
    ("quiet", 24),
    ("question", 10),
    ("stop", 12),
    ("opt_out", 6),
    ("emergency", 8),
    ("booking", 14),
    ("burst", 14),
    ("retry", 12),
)
"""Script name and its weight in the mix."""

EMERGENCY = "my lip is turning white and it hurts"
QUESTIONS = ("What time do you close on Fridays?", "Is parking free at your office?", "Thank you so much!")
BURST = ("hi", "quick question about my aftercare", "can I work out tonight?")
CATEGORIES = ("neuromodulator", "filler", "facial", "peel", "microneedling", "laser_hair_removal")

OFFER_WAIT_S = 25.0
"""How long a booking patient waits for the offer before answering "1" anyway."""


def phone_of(index: int) -> str:
    return f"+1512555{2000 + index:04d}"


@dataclass
class Patient:
    index: int
    phone: str
    script: str
    start_s: float
    due_s: float
    email: str | None = None


@dataclass
class Post:
    """One webhook request the drill made."""

    sid: str
    phone: str
    body: str
    script: str
    posted_at: datetime
    status: int | None
    first: bool = True
    seconds: float = 0.0
    twiml_reply: bool = False


@dataclass
class Ledger:
    """Everything the patients did, for the audit."""

    posts: list[Post] = field(default_factory=list)
    stops: dict[str, datetime] = field(default_factory=dict)
    """phone → when the webhook answered its STOP (the opt-out is committed by then)."""
    appointments_failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, post: Post) -> None:
        with self.lock:
            self.posts.append(post)


def cast(n: int, seed: int, active_s: float) -> list[Patient]:
    """N patients with scripts, touch due times and script start times, all from the seed."""
    rng = random.Random(seed)
    names, weights = zip(*SCRIPTS, strict=True)
    patients = []
    for i in range(n):
        script = rng.choices(names, weights)[0]
        patients.append(
            Patient(
                index=i,
                phone=phone_of(i),
                script=script,
                start_s=rng.uniform(2, active_s),
                due_s=rng.uniform(-20, active_s * 0.6),
                email=f"pat{i}@drill.example" if rng.random() < 0.2 else None,
            )
        )
    return patients


def appointment_payload(patient: Patient, now: datetime) -> dict:
    """A completed visit whose "thanks" text (3 hours after it) falls due `patient.due_s` seconds from now.

    A second touch could not fall due in the drill's minutes: two touches to one patient keep a
    12-hour gap (bot/touches/caps.py), so STOP "mid-sequence" lands before, during or after the first."""
    end = now + timedelta(seconds=patient.due_s) - timedelta(hours=3)
    start = end - timedelta(minutes=30)
    # "My lip is turning white" is a red flag after filler in the lips (a vascular occlusion), so the
    # patients whose script is that emergency had lip filler; the others any treatment.
    category = "filler" if patient.script == "emergency" else CATEGORIES[patient.index % len(CATEGORIES)]
    return {
        "external_id": f"DRILL-{patient.index}",
        "status": "completed",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "service": {
            "code": category.upper(),
            "name": category.replace("_", " ").title(),
            "category": category,
            "area": "lips" if category == "filler" else None,
        },
        "provider": {"external_id": "P-1", "name": "Dr. Lee"},
        "location": {"external_id": "L-1", "timezone": "America/Chicago"},
        "price": 300.0,
        "patient": {
            "external_id": f"C-{patient.index}",
            "first_name": f"Pat{patient.index}",
            "last_name": "Drill",
            "phone": patient.phone,
            "email": patient.email,
            "birthday": None,
            "language": "en",
            "consent": {"care_sms": True, "marketing_sms": patient.index % 2 == 0, "source": "drill", "at": None},
        },
        "referral_code": None,
    }


def post_appointments(base_url: str, secret: str, patients: list[Patient], ledger: Ledger) -> None:
    """POST every visit to /api/appointments, HMAC-signed, from a few threads."""
    now = datetime.now(UTC)

    def one(patient: Patient) -> None:
        body = json.dumps(appointment_payload(patient, now)).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        for _attempt in range(5):  # the database may be under chaos already
            try:
                answer = requests.post(
                    base_url + "/api/appointments",
                    data=body,
                    headers={"Content-Type": "application/json", "X-Aftercare-Signature": signature},
                    timeout=15,
                )
                if answer.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        with ledger.lock:
            ledger.appointments_failed += 1

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, patients))


class Inbox:
    """What each number has received so far, from the fake Twilio's own list, refreshed in one thread."""

    def __init__(self, fake):
        self.fake = fake
        self.lock = threading.Lock()
        self.count: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-inbox", daemon=True)

    def start(self) -> Inbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            counts: dict[str, int] = {}
            for message in self.fake.messages:
                counts[message["to"]] = counts.get(message["to"], 0) + 1
            with self.lock:
                self.count = counts

    def received(self, phone: str) -> int:
        with self.lock:
            return self.count.get(phone, 0)


class Patients:
    """Runs every patient's script on its schedule from a small pool of threads."""

    def __init__(self, fake, base_url: str, auth_token: str, ledger: Ledger, seed: int):
        self.fake = fake
        self.url = base_url + "/sms/inbound"
        self.validator = RequestValidator(auth_token)
        self.ledger = ledger
        self.rng = random.Random(seed + 1)
        self.inbox = Inbox(fake)
        self._heap: list = []
        self._seq = 0
        self._cond = threading.Condition()
        self._local = threading.local()

    # ------------------------------------------------------------ posting

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _form(self, sid: str, phone: str, body: str) -> dict:
        # The fields Twilio posts (and the fake's /_fake/inbound posts); the signature covers them all.
        form = {
            "ToCountry": "US",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "FromCountry": "US",
            "To": PRACTICE_NUMBER,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.fake.account_sid,
            "From": phone,
            "ApiVersion": "2010-04-01",
        }
        if body.strip().upper() == "STOP":
            form["OptOutType"] = "STOP"
        return form

    def post(self, phone: str, body: str, script: str, sid: str | None = None) -> Post:
        """Post one text as Twilio would (a retry when `sid` is given) and record it."""
        first = sid is None
        sid = sid or "SM" + uuid.uuid4().hex
        form = self._form(sid, phone, body)
        if first and body.strip().upper() == "STOP":
            self.fake.opt_out(phone)  # the carrier blocks the number at once, as Twilio does
        signature = self.validator.compute_signature(self.url, form)
        started = time.monotonic()
        posted_at = datetime.now(UTC)
        try:
            answer = self._session().post(self.url, data=form, headers={"X-Twilio-Signature": signature}, timeout=15)
            status, replied = answer.status_code, "<Message" in answer.text
        except requests.RequestException:
            status, replied = None, False
        record = Post(sid, phone, body, script, posted_at, status, first, time.monotonic() - started, replied)
        self.ledger.add(record)
        if first and body.strip().upper() == "STOP" and status == 200:
            with self.ledger.lock:
                self.ledger.stops.setdefault(phone, datetime.now(UTC))
        return record

    # ------------------------------------------------------------ scheduling

    def at(self, delay_s: float, action, *args) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic() + delay_s, self._seq, action, args))
            self._cond.notify()

    def run(self, patients: list[Patient], threads: int = 6) -> None:
        """Play every script; returns when every scheduled text has been posted."""
        self.inbox.start()
        for patient in patients:
            self.at(patient.start_s, self._begin, patient)
        try:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="drill-patient") as pool:
                pending = set()
                while True:
                    with self._cond:
                        if not self._heap and not pending:
                            break
                        if not self._heap:
                            self._cond.wait(0.2)
                        else:
                            due, _seq, action, args = self._heap[0]
                            wait = due - time.monotonic()
                            if wait > 0:
                                self._cond.wait(min(wait, 0.2))
                            else:
                                heapq.heappop(self._heap)
                                pending.add(pool.submit(action, *args))
                    pending = {f for f in pending if not f.done()}
        finally:
            self.inbox.stop()

    def _begin(self, patient: Patient) -> None:
        script = patient.script
        if script == "question":
            self.post(patient.phone, self.rng.choice(QUESTIONS), script)
        elif script == "stop":
            self.post(patient.phone, "STOP", script)
        elif script == "opt_out":
            self.post(patient.phone, "please stop texting me", script)
        elif script == "emergency":
            self.post(patient.phone, EMERGENCY, script)
        elif script == "booking":
            before = self.inbox.received(patient.phone)
            self.post(patient.phone, "can I come in Thursday?", script)
            self.at(1.0, self._choose, patient, before, time.monotonic() + OFFER_WAIT_S)
        elif script == "burst":
            for i, body in enumerate(BURST):
                self.at(i * 0.4, self.post, patient.phone, body, script)
        elif script == "retry":
            first = self.post(patient.phone, self.rng.choice(QUESTIONS), script)
            self.post(patient.phone, first.body, script, sid=first.sid)
            for _ in range(3):
                self.at(0.5, self.post, patient.phone, first.body, script, first.sid)

    def _choose(self, patient: Patient, before: int, deadline: float) -> None:
        # The offer is the first text after the ask (a touch landing first also counts: the patient
        # answers what they see, as people do).
        if self.inbox.received(patient.phone) <= before and time.monotonic() < deadline:
            self.at(1.0, self._choose, patient, before, deadline)
            return
        self.post(patient.phone, "1", patient.script)
