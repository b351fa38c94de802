"""Setting a practice up from the command line: its details and facts, and the staff who sign in and get paged.

    aftercare practice show
    aftercare practice set --name "Glow Med Spa" --phone "(512) 555-0100" --emergency-line "(512) 555-0199" \
        --timezone America/Chicago --review-url https://g.page/glow/review --sender-name Maya --facts facts.json
    aftercare staff list
    aftercare staff add --name "Nina Park, RN" --role nurse --phone "(512) 555-0111" --email nina@glow.example \
        --on-call --password-stdin < password.txt
    aftercare staff set 3 --no-on-call --backup
    aftercare staff set 5 --locations Miami        (sees only Miami's patients; --all-locations lifts it)

A deployment serves one practice unless `--practice SLUG` names another. Every
value is checked before anything is written: a bad phone number, time zone,
URL, role or facts file is refused with its name and changes nothing.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select
from werkzeug.security import generate_password_hash

from bot import runtime
from bot.errors import ValidationError
from bot.messaging import phones
from bot.staff.api_tokens import practice_token
from bot.vocabulary import Role
from store.db import session_scope
from store.models import Location, OnCallShift, Practice, Service, StaffUser

ROLES = tuple(Role)
"""Staff roles, as `aftercare staff` accepts them."""
MIN_PASSWORD = 10
"""Characters a staff password needs at least."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class AdminError(Exception):
    """A value that cannot be used; nothing was written."""


def _practice(session: Session, slug: str | None, create: bool = False) -> Practice:
    """The practice named by slug, else the only one (made on first set-up when `create`)."""
    query = select(Practice).order_by(col(Practice.id))
    if slug:
        query = query.where(Practice.slug == slug)
    practice = session.exec(query).first()
    if practice is None and not slug and create:
        practice = Practice(name="My Med Spa", slug="my-med-spa")
        session.add(practice)
        session.flush()
    if practice is None:
        raise AdminError(
            f"no practice with slug {slug!r}"
            if slug
            else "no practice yet: start with `aftercare practice set --name ...`"
        )
    return practice


def _phone(value: str, name: str) -> str:
    try:
        return phones.normalize(value, runtime.settings().default_country)
    except ValidationError as error:
        raise AdminError(f"{name}: {error.errors[0]['message']}") from None


def _url(value: str, name: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise AdminError(f"{name}: expected a URL starting with https://, got {value!r}")
    return value


def checked_facts(loaded: dict, name: str) -> dict:
    """Facts as the bot reads them: each a text, or an object of language or location to text."""
    bad = [
        key
        for key, value in loaded.items()
        if not str(key).strip()
        or not isinstance(value, (str, dict))
        or (
            isinstance(value, dict)
            and not all(
                isinstance(text, str) or (isinstance(text, dict) and all(isinstance(t, str) for t in text.values()))
                for text in value.values()
            )
        )
    ]
    if bad:
        raise AdminError(
            f"{name}: {', '.join(sorted(map(str, bad)))}: a fact is text, or an object of language or location to "
            "text (a location's may be an object of language to text)"
        )
    return dict(loaded)


def practice_view(practice: Practice) -> dict:
    return {
        "id": practice.id,
        "slug": practice.slug,
        "name": practice.name,
        "timezone": practice.timezone,
        "phone": practice.phone,
        "emergency_line": practice.emergency_line,
        "website": practice.website,
        "review_url": practice.review_url,
        "quiet_hours": [practice.quiet_start_hour, practice.quiet_end_hour],
        "gsm_only": practice.gsm_only,
        "facts": practice.facts or {},
    }


def practice_set(session: Session, slug: str | None = None, **values) -> Practice:
    """Check every given value, then write them all."""
    practice = _practice(session, slug, create=True)
    changes: dict = {}
    if values.get("name") is not None:
        if not values["name"].strip():
            raise AdminError("--name: must not be empty")
        changes["name"] = values["name"].strip()
    for key in ("phone", "emergency_line"):
        if values.get(key) is not None:
            changes[key] = _phone(values[key], "--" + key.replace("_", "-"))
    for key in ("website", "review_url"):
        if values.get(key) is not None:
            changes[key] = _url(values[key], "--" + key.replace("_", "-"))
    if values.get("timezone") is not None:
        changes["timezone"] = _timezone(values["timezone"], "--timezone")
    if values.get("quiet_hours") is not None:
        try:
            start, end = (int(part) for part in values["quiet_hours"].split("-"))
        except ValueError:
            raise AdminError("--quiet-hours: expected START-END hours, e.g. 9-20") from None
        if not 0 <= start < end <= 24:
            raise AdminError("--quiet-hours: expected 0 <= START < END <= 24")
        changes["quiet_start_hour"], changes["quiet_end_hour"] = start, end
    facts = dict(practice.facts or {})
    if values.get("facts") is not None:
        path = Path(values["facts"])
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise AdminError(f"--facts: cannot read {path}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise AdminError(f"--facts: {path} is not valid JSON (line {error.lineno}: {error.msg})") from None
        if not isinstance(loaded, dict):
            raise AdminError(f"--facts: {path} must hold a JSON object of fact name to text")
        facts.update(checked_facts(loaded, "--facts"))
    if values.get("facts_data") is not None:
        facts = checked_facts(values["facts_data"], "facts")
    if values.get("sender_name") is not None:
        facts["sender_name"] = values["sender_name"].strip()
    if values.get("gsm_only") is not None:
        changes["gsm_only"] = bool(values["gsm_only"])
    for key, value in changes.items():
        setattr(practice, key, value)
    practice.facts = facts
    session.add(practice)
    session.flush()
    return practice


def location_set(session: Session, practice_id: int, location_id: int, **values) -> Location:
    """Check every given value of one location, then write them all ("" clears a line: the practice's is used)."""
    location = session.get(Location, location_id)
    if location is None or location.practice_id != practice_id:
        raise AdminError(f"no location with id {location_id} at this practice")
    changes: dict = {}
    if values.get("name") is not None:
        if not values["name"].strip():
            raise AdminError("name: must not be empty")
        changes["name"] = values["name"].strip()
    for key in ("phone", "emergency_line"):
        if values.get(key) is not None:
            changes[key] = _phone(values[key], key.replace("_", " ")) if values[key].strip() else None
    if values.get("review_url") is not None:
        changes["review_url"] = (
            _url(values["review_url"].strip(), "review link") if values["review_url"].strip() else None
        )
    if values.get("address") is not None:
        changes["address"] = " ".join(values["address"].split()) or None
    if values.get("timezone") is not None:
        changes["timezone"] = _timezone(values["timezone"].strip(), "time zone")
    for key, value in changes.items():
        setattr(location, key, value)
    session.add(location)
    session.flush()
    return location


MAX_COST = Decimal("99999.99")
"""The most a treatment's product or supply cost may be (per visit)."""


def money(value: str, name: str) -> Decimal | None:
    """An amount typed by staff ("120", "$1,204.50") as exact cents; "" is None (not recorded)."""
    text = (value or "").strip().replace("$", "").replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AdminError(f"{name}: {value.strip()!r} is not an amount like 120.50") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_COST or amount != amount.quantize(Decimal("0.01")):
        raise AdminError(f"{name}: expected an amount from 0.00 to {MAX_COST:,} with at most two decimals")
    return amount.quantize(Decimal("0.01"))


def service_costs_set(session: Session, practice_id: int, costs: dict[int, tuple[str, str]]) -> list[Service]:
    """Check every service's product and supply cost per visit ({service id: (product, supplies)}, "" for not
    recorded), then write them all; AdminError naming the treatment and nothing written on a bad one."""
    changes = []
    for service_id, (product, supplies) in costs.items():
        service = session.get(Service, service_id)
        if service is None or service.practice_id != practice_id:
            raise AdminError(f"no treatment with id {service_id} at this practice")
        changes.append(
            (
                service,
                money(product, f"{service.name}: product cost"),
                money(supplies, f"{service.name}: supply cost"),
            )
        )
    for service, product_cost, supply_cost in changes:
        service.product_cost, service.supply_cost = product_cost, supply_cost
        session.add(service)
    session.flush()
    return [service for service, _p, _s in changes]


def _timezone(value: str, name: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise AdminError(f"{name}: {value!r} is not a time zone (e.g. America/Chicago)") from None
    return value


def staff_view(person: StaffUser) -> dict:
    return {
        "id": person.id,
        "name": person.name,
        "role": person.role,
        "phone": phones.mask(person.phone),
        "email": person.email,
        "on_call": person.on_call,
        "backup": person.backup,
        "active": person.active,
        "medical_director": person.medical_director,
        "can_sign_in": bool(person.password_hash),
        "locations": person.location_ids or "all",
    }


def checked_locations(session: Session, practice_id: int, wanted: list[str | int] | None) -> list[int] | None:
    """The location ids a staff member is limited to, from ids or names of the practice's locations;
    None or empty: every location (no limit). A value that names no location of the practice is refused."""
    if not wanted:
        return None
    places = list(session.exec(select(Location).where(Location.practice_id == practice_id)))
    chosen: set[int] = set()
    for value in wanted:
        text = str(value).strip()
        found = [p for p in places if str(p.id) == text or p.name.lower() == text.lower()]
        if not found:
            names = ", ".join(f"{p.id} ({p.name})" for p in places) or "none"
            raise AdminError(f"locations: {text!r} is not a location of this practice (they are: {names})")
        chosen.add(found[0].id)
    return sorted(chosen)


def _password(text: str | None) -> str | None:
    if text is None:
        return None
    password = text.rstrip("\n")
    if len(password) < MIN_PASSWORD:
        raise AdminError(f"password: at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)


def staff_add(
    session: Session,
    slug: str | None,
    name: str,
    role: str,
    phone: str | None = None,
    email: str | None = None,
    on_call: bool = False,
    backup: bool = False,
    password: str | None = None,
    locations: list[str | int] | None = None,
) -> StaffUser:
    practice = _practice(session, slug, create=True)
    if not name or not name.strip():
        raise AdminError("--name: must not be empty")
    if _CONTROL.search(name):
        raise AdminError("--name: must not hold control characters")
    if role not in ROLES:
        raise AdminError(f"--role: expected one of {', '.join(ROLES)}, got {role!r}")
    number = _phone(phone, "--phone") if phone else None
    email = _email(session, email, None) if email else None
    if (on_call or backup) and number is None:
        raise AdminError("--phone: staff on call or backup need a mobile number to be paged")
    person = StaffUser(
        practice_id=practice.id,
        name=name.strip(),
        role=role,
        phone=number,
        email=email,
        on_call=on_call,
        backup=backup,
        password_hash=_password(password),
        location_ids=checked_locations(session, practice.id, locations),
    )
    session.add(person)
    session.flush()
    return person


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(session: Session, value: str, person: StaffUser | None) -> str:
    """An email address as sign-in compares it (lower case), checked and not another staff member's."""
    email = value.strip().lower()
    if _CONTROL.search(email) or not _EMAIL.match(email):
        raise AdminError(f"--email: {value.strip()!r} is not an email address")
    taken = session.exec(select(StaffUser).where(func.lower(StaffUser.email) == email)).first()
    if taken is not None and (person is None or taken.id != person.id):
        raise AdminError(f"--email: {email} already belongs to a staff member")
    return email


def staff_set(session: Session, staff_id: int, **values) -> StaffUser:
    """Check and write the given values; a phone or email of "" clears it (None leaves it as it is)."""
    person = session.get(StaffUser, staff_id)
    if person is None:
        raise AdminError(f"no staff member with id {staff_id}")
    role = values.get("role") if values.get("role") is not None else person.role
    active = values.get("active") if values.get("active") is not None else person.active
    removes_an_admin = person.active and person.role == Role.ADMIN and not (active and role == Role.ADMIN)
    if removes_an_admin and not _other_admins(session, person):
        raise AdminError(f"{person.name} is the practice's last admin: make someone else admin first")
    if values.get("phone") is not None:
        person.phone = _phone(values["phone"], "--phone") if values["phone"].strip() else None
        if person.phone is None and _roster_lines(session, person):
            raise AdminError(
                f"--phone: {person.name} is on the on-call roster; take them off it before removing their mobile"
            )
    if values.get("email") is not None:
        person.email = _email(session, values["email"], person) if values["email"].strip() else None
        if person.email is None and person.password_hash:
            raise AdminError(f"--email: {person.name} signs in with it; an account that signs in needs one")
    if values.get("role") is not None:
        if values["role"] not in ROLES:
            raise AdminError(f"--role: expected one of {', '.join(ROLES)}, got {values['role']!r}")
        person.role = values["role"]
    for key in ("on_call", "backup", "active", "medical_director"):
        if values.get(key) is not None:
            setattr(person, key, values[key])
    if (person.on_call or person.backup) and not person.phone:
        raise AdminError("--phone: staff on call or backup need a mobile number to be paged")
    if values.get("password") is not None:
        person.password_hash = _password(values["password"])
    if values.get("locations") is not None:  # [] lifts the limit
        person.location_ids = checked_locations(session, person.practice_id, values["locations"])
    session.add(person)
    session.flush()
    return person


def _roster_lines(session: Session, person: StaffUser) -> list[OnCallShift]:
    """The on-call roster lines that page this staff member."""
    return list(session.exec(select(OnCallShift).where(OnCallShift.staff_user_id == person.id)))


def _other_admins(session: Session, person: StaffUser) -> list[StaffUser]:
    """The practice's other active admins (a practice always keeps one: it is who manages users)."""
    query = select(StaffUser).where(
        StaffUser.practice_id == person.practice_id,
        StaffUser.id != person.id,
        StaffUser.role == Role.ADMIN,
        StaffUser.active == True,  # noqa: E712
    )
    return list(session.exec(query))


# ------------------------------------------------------------------- CLI


LOCATIONS_HELP = "limit to these locations, by id or name, comma-separated (e.g. Miami); unset: every location"


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_commands(commands) -> None:
    """The `practice` and `staff` subcommands of `aftercare`."""
    practice = commands.add_parser("practice", help="the practice's details and facts")
    practice.add_argument("--practice", metavar="SLUG", help="which practice (default: the only one)")
    practice_commands = practice.add_subparsers(dest="practice_command", required=True)
    practice_commands.add_parser("show", help="print the practice's details as JSON").set_defaults(func=_practice_show)
    setter = practice_commands.add_parser("set", help="change the practice's details")
    for flag in ("--name", "--phone", "--emergency-line", "--website", "--review-url", "--timezone", "--sender-name"):
        setter.add_argument(flag)
    setter.add_argument("--quiet-hours", metavar="START-END", help="allowed sending hours, e.g. 9-20")
    encoding = setter.add_mutually_exclusive_group()
    encoding.add_argument(
        "--gsm-only",
        dest="gsm_only",
        action="store_true",
        default=None,
        help="send GSM-7 only: fold accents (á -> a) and other characters outside GSM-7",
    )
    encoding.add_argument(
        "--keep-accents", dest="gsm_only", action="store_false", help="keep accents as written (UCS-2 when needed)"
    )
    setter.add_argument("--facts", metavar="FILE.json", help="facts the bot may quote (hours, parking, payment, ...)")
    setter.set_defaults(func=_practice_set)
    practice_commands.add_parser(
        "api-token", help="print the practice's read-API token (derived from AFTERCARE_API_TOKEN)"
    ).set_defaults(func=_practice_api_token)

    staff = commands.add_parser("staff", help="staff who sign in and get paged")
    staff.add_argument("--practice", metavar="SLUG", help="which practice (default: the only one)")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    staff_commands.add_parser("list", help="print the staff as JSON").set_defaults(func=_staff_list)
    add = staff_commands.add_parser("add", help="add a staff member")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--phone", help="mobile number, for pages")
    add.add_argument("--email", help="sign-in and email pages")
    add.add_argument("--on-call", action="store_true")
    add.add_argument("--backup", action="store_true")
    add.add_argument("--password-stdin", action="store_true", help="read a dashboard password from standard input")
    add.add_argument("--locations", type=_names, help=LOCATIONS_HELP)
    add.set_defaults(func=_staff_add)
    change = staff_commands.add_parser("set", help="change a staff member")
    change.add_argument("id", type=int)
    change.add_argument("--phone", help='mobile number, for pages ("" removes it)')
    change.add_argument("--email", help='sign-in and email pages ("" removes it)')
    change.add_argument("--role", choices=ROLES)
    for flag in ("on-call", "backup", "active"):
        change.add_argument(f"--{flag}", dest=flag.replace("-", "_"), action="store_true", default=None)
        change.add_argument(f"--no-{flag}", dest=flag.replace("-", "_"), action="store_false")
    change.add_argument("--password-stdin", action="store_true")
    limit = change.add_mutually_exclusive_group()
    limit.add_argument("--locations", type=_names, help=LOCATIONS_HELP)
    limit.add_argument(
        "--all-locations", dest="locations", action="store_const", const=[], help="lift a location limit"
    )
    change.set_defaults(func=_staff_set)


def _run(fn) -> int:
    try:
        with session_scope(runtime.db_url()) as session:
            fn(session)
    except AdminError as error:
        print(f"error: {error}; nothing was changed", file=sys.stderr)
        return 2
    return 0


def _practice_show(args) -> int:
    return _run(lambda session: print(json.dumps(practice_view(_practice(session, args.practice)), indent=2)))


def _practice_api_token(args) -> int:
    master = runtime.settings().aftercare_api_token
    if not master:
        print("AFTERCARE_API_TOKEN is not set: a practice's token is derived from it", file=sys.stderr)
        return 2
    return _run(lambda session: print(practice_token(master, _practice(session, args.practice).slug)))


def _practice_set(args) -> int:
    values = {
        key: getattr(args, key)
        for key in (
            "name",
            "phone",
            "emergency_line",
            "website",
            "review_url",
            "timezone",
            "sender_name",
            "quiet_hours",
            "gsm_only",
            "facts",
        )
    }
    return _run(
        lambda session: print(json.dumps(practice_view(practice_set(session, args.practice, **values)), indent=2))
    )


def _staff_list(args) -> int:
    def show(session):
        practice = _practice(session, args.practice)
        people = session.exec(select(StaffUser).where(StaffUser.practice_id == practice.id).order_by(StaffUser.id))
        print(json.dumps([staff_view(p) for p in people], indent=2))

    return _run(show)


def _staff_add(args) -> int:
    password = sys.stdin.read() if args.password_stdin else None
    return _run(
        lambda session: print(
            json.dumps(
                staff_view(
                    staff_add(
                        session,
                        args.practice,
                        args.name,
                        args.role,
                        args.phone,
                        args.email,
                        args.on_call,
                        args.backup,
                        password,
                        args.locations,
                    )
                ),
                indent=2,
            )
        )
    )


def _staff_set(args) -> int:
    password = sys.stdin.read() if args.password_stdin else None
    return _run(
        lambda session: print(
            json.dumps(
                staff_view(
                    staff_set(
                        session,
                        args.id,
                        phone=args.phone,
                        email=args.email,
                        role=args.role,
                        on_call=args.on_call,
                        backup=args.backup,
                        active=args.active,
                        password=password,
                        locations=args.locations,
                    )
                ),
                indent=2,
            )
        )
    )
