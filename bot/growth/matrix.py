"""The upsell matrix as practice data: per primary service its add-ons, retail pairings, follow-up service
with its window and package, plus the segment, reactivation and flag settings; versioned per practice.

The shipped defaults are `matrix_default.toml`. A practice's matrix lives in `growth_config`, one row per
version: every edit (web app or CLI) adds a version and never changes an old one, and every offer records
the version it came from, so results can be compared across changes.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.errors import MatrixError
from store.models import AuditEvent, GrowthConfig, Service

DEFAULT_FILE = resources.files("bot.growth") / "matrix_default.toml"
"""The matrix every practice starts with (version 0 until its first edit)."""

TOP_FIELDS = {"segments", "reactivation", "referral", "goals", "flags", "services"}
SERVICE_FIELDS = {"label", "categories", "codes", "return_days", "add_ons", "retail", "package", "follow_up"}
ITEM_FIELDS = {"name", "es", "price", "code", "category", "repeat"}
SETTINGS: dict[str, dict[str, type]] = {
    "segments": {"vip_min_treatments": int, "new_max_treatments": int, "lapsed_after_days": int},
    "reactivation": {"vip_offer": dict, "new_offer": dict},
    "referral": {"offer": dict},
    "flags": {"decline_rate": float, "min_sample": int},
}
"""Each settings table, its keys and their types."""

_WINDOW = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*d\s*$")


@dataclass(frozen=True)
class Item:
    """One thing the matrix offers: an add-on, a retail product, a follow-up service or a package."""

    name: str
    price: Decimal | None = None
    code: str | None = None
    category: str | None = None
    repeat: bool = False
    es: str | None = None
    """Its name in Spanish texts ("lifting de cejas"); without one they use `name`."""

    def label(self, language: str) -> str:
        """The item's name in a text written in `language`: its Spanish name when it has one, else `name`."""
        return self.es if language == "es" and self.es else self.name

    def matches(self, service: Service) -> bool:
        """Whether a service is this item (by code or category)."""
        return (self.code is not None and service.code == self.code) or (
            self.category is not None and service.category == self.category
        )


@dataclass(frozen=True)
class Entry:
    """A primary service's row of the matrix."""

    key: str
    label: str
    categories: tuple[str, ...]
    codes: tuple[str, ...]
    return_days: int
    add_ons: tuple[Item, ...]
    retail: tuple[Item, ...]
    follow_up: tuple[Item, ...]
    window: tuple[int, int]
    package: Item | None

    def covers(self, service: Service) -> bool:
        return service.code in self.codes or service.category in self.categories


@dataclass(frozen=True)
class Matrix:
    """One version of a practice's matrix, checked."""

    version: int
    entries: tuple[Entry, ...]
    settings: dict
    document: dict

    def entry_for(self, service: Service | None) -> Entry | None:
        """The matrix row of a service: one naming its code first, else one naming its category."""
        if service is None:
            return None
        by_code = next((e for e in self.entries if service.code in e.codes), None)
        return by_code or next((e for e in self.entries if service.category in e.categories), None)

    def retail_names(self) -> list[str]:
        """Every retail product the matrix pairs with a service, once each, in the matrix's order."""
        return list(dict.fromkeys(item.name for entry in self.entries for item in entry.retail))

    def entry(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    def setting(self, table: str, key: str):
        return self.settings[table][key]

    def offer_item(self, table: str, key: str) -> Item:
        return _item(f"{table}.{key}", self.settings[table][key])

    def items(self) -> list[Item]:
        """Every item this version can offer: each service's add-ons, retail, follow-ups and package, the
        reactivation and referral offers and the goals' items."""
        found = [
            item
            for entry in self.entries
            for item in (*entry.add_ons, *entry.retail, *entry.follow_up, *([entry.package] if entry.package else []))
        ]
        found += [
            self.offer_item(table, key)
            for table, keys in SETTINGS.items()
            for key, kind in keys.items()
            if kind is dict
        ]
        return found + list(self.settings["goals"].values())

    def label(self, name: str, language: str) -> str:
        """The name an offer of item `name` reads as in `language` (its Spanish name when it has one)."""
        item = next((i for i in self.items() if i.name == name), None)
        return item.label(language) if item is not None else name


def _price(where: str, value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MatrixError(f"{where}: price must be a number")
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise MatrixError(f"{where}: price {value!r} is not a number") from None


def _item(where: str, raw) -> Item:
    if not isinstance(raw, dict):
        raise MatrixError(f'{where}: must be a table like {{ name = "Lip flip", price = 150 }}')
    unknown = set(raw) - ITEM_FIELDS
    if unknown:
        raise MatrixError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise MatrixError(f"{where}: needs a name of 1 to 80 characters")
    spanish = raw.get("es")
    if spanish is not None and (not isinstance(spanish, str) or not spanish.strip() or len(spanish) > 80):
        raise MatrixError(f"{where}: es (its Spanish name) must be 1 to 80 characters")
    for text in ("code", "category"):
        if raw.get(text) is not None and not isinstance(raw[text], str):
            raise MatrixError(f"{where}: {text} must be text")
    return Item(
        name=name.strip(),
        price=_price(where, raw.get("price")),
        code=raw.get("code"),
        category=raw.get("category"),
        repeat=bool(raw.get("repeat", False)),
        es=spanish.strip() if spanish else None,
    )


def _items(where: str, raw, need_match: bool = False) -> tuple[Item, ...]:
    if not isinstance(raw, list):
        raise MatrixError(f"{where}: must be a list of items")
    items = tuple(_item(f"{where}[{i}]", value) for i, value in enumerate(raw))
    for i, item in enumerate(items):
        if need_match and item.code is None and item.category is None:
            raise MatrixError(f"{where}[{i}] ({item.name}): a follow-up names its service by code or category")
    return items


def window(text) -> tuple[int, int]:
    """ "30-60d" as (30, 60); MatrixError otherwise."""
    match = _WINDOW.match(str(text)) if isinstance(text, str) else None
    if not match or not 0 < int(match.group(1)) <= int(match.group(2)) <= 730:
        raise MatrixError(f'window {text!r} must be days like "30-60d" (first day 1 or more, at most 730)')
    return int(match.group(1)), int(match.group(2))


def check(document: dict, version: int = 0) -> Matrix:
    """The matrix a document describes; MatrixError naming the first mistake."""
    if not isinstance(document, dict):
        raise MatrixError("the matrix must be a table")
    unknown = set(document) - TOP_FIELDS
    if unknown:
        raise MatrixError(f"unknown table(s) {', '.join(sorted(unknown))}")
    settings: dict = {}
    goals = document.get("goals", {})
    if not isinstance(goals, dict):
        raise MatrixError("[goals] must be a table of goal = { name = ..., price = ... }")
    for goal, value in goals.items():
        if not re.fullmatch(r"[a-z_]+", goal):
            raise MatrixError(f"goals.{goal}: a goal is a lower-case word")
        _item(f"goals.{goal}", value)
    for table, fields in SETTINGS.items():
        raw = document.get(table)
        if not isinstance(raw, dict):
            raise MatrixError(f"[{table}] is missing")
        extra = set(raw) - set(fields)
        if extra:
            raise MatrixError(f"[{table}]: unknown key(s) {', '.join(sorted(extra))}")
        settings[table] = {}
        for key, kind in fields.items():
            value = raw.get(key)
            if kind is dict:
                _item(f"{table}.{key}", value)
            elif kind is int and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 3650):
                raise MatrixError(f"{table}.{key} must be a whole number from 1 to 3650")
            elif kind is float and (isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1):
                raise MatrixError(f"{table}.{key} must be a fraction between 0 and 1 (0.75 is 75%)")
            settings[table][key] = value
    services = document.get("services")
    if not isinstance(services, dict) or not services:
        raise MatrixError("[services.<name>] tables are missing")
    entries = []
    for key, raw in services.items():
        where = f"services.{key}"
        if not re.fullmatch(r"[a-z0-9_]+", key):
            raise MatrixError(f"{where}: the key must be lower-case letters, digits and _")
        if not isinstance(raw, dict):
            raise MatrixError(f"{where}: must be a table")
        extra = set(raw) - SERVICE_FIELDS
        if extra:
            raise MatrixError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
        categories, codes = raw.get("categories", []), raw.get("codes", [])
        if not all(isinstance(v, str) for v in [*categories, *codes]) or not (categories or codes):
            raise MatrixError(f"{where}: name the services it covers with categories = [...] or codes = [...]")
        return_days = raw.get("return_days")
        if isinstance(return_days, bool) or not isinstance(return_days, int) or not 0 < return_days <= 730:
            raise MatrixError(f"{where}: return_days must be a whole number of days from 1 to 730")
        follow = raw.get("follow_up")
        if not isinstance(follow, dict) or set(follow) - {"window", "items"}:
            raise MatrixError(f'{where}.follow_up: must be a table with window = "30-60d" and items = [...]')
        try:
            days = window(follow.get("window"))
        except MatrixError as exc:
            raise MatrixError(f"{where}.follow_up: {exc}") from None
        label = raw.get("label") or key.replace("_", " ")
        if not isinstance(label, str):
            raise MatrixError(f"{where}: label must be text")
        entries.append(
            Entry(
                key=key,
                label=label,
                categories=tuple(categories),
                codes=tuple(codes),
                return_days=return_days,
                add_ons=_items(f"{where}.add_ons", raw.get("add_ons", [])),
                retail=_items(f"{where}.retail", raw.get("retail", [])),
                follow_up=_items(f"{where}.follow_up.items", follow.get("items", []), need_match=True),
                window=days,
                package=_item(f"{where}.package", raw["package"]) if raw.get("package") is not None else None,
            )
        )
    settings["goals"] = {goal: _item(f"goals.{goal}", value) for goal, value in goals.items()}
    return Matrix(version=version, entries=tuple(entries), settings=settings, document=document)


@lru_cache(maxsize=1)
def default_document() -> dict:
    """The shipped defaults as a plain dict (a fresh copy is made by `defaults`)."""
    with DEFAULT_FILE.open("rb") as handle:
        return tomllib.load(handle)


def defaults() -> Matrix:
    """The shipped matrix, version 0."""
    return check(copy.deepcopy(default_document()), 0)


def current(session: Session, practice_id: int) -> Matrix:
    """The practice's newest matrix version (the shipped defaults as version 0 before its first edit)."""
    row = session.exec(
        select(GrowthConfig)
        .where(GrowthConfig.practice_id == practice_id)
        .order_by(col(GrowthConfig.version).desc())
        .limit(1)
    ).first()
    if row is None:
        return defaults()
    return check(row.document, row.version)


def at_version(session: Session, practice_id: int, version: int | None) -> Matrix:
    """The version an offer was made from (the shipped defaults for version 0, or when it is gone)."""
    row = session.exec(
        select(GrowthConfig).where(GrowthConfig.practice_id == practice_id, GrowthConfig.version == (version or 0))
    ).first()
    return check(row.document, row.version) if row is not None else defaults()


def versions(session: Session, practice_id: int) -> list[GrowthConfig]:
    """Every stored version, newest first."""
    return list(
        session.exec(
            select(GrowthConfig)
            .where(GrowthConfig.practice_id == practice_id)
            .order_by(col(GrowthConfig.version).desc())
        )
    )


def save(session: Session, practice_id: int, document: dict, actor: str) -> Matrix:
    """Store a new version after checking it (MatrixError changes nothing); audited with before and after."""
    before = current(session, practice_id)
    checked = check(document, before.version + 1)
    latest = session.exec(select(func.max(GrowthConfig.version)).where(GrowthConfig.practice_id == practice_id)).one()
    version = (latest or 0) + 1
    session.add(GrowthConfig(practice_id=practice_id, version=version, document=document, created_by=actor))
    session.add(
        AuditEvent(
            practice_id=practice_id,
            actor=actor,
            action="matrix_changed",
            subject_type="growth_config",
            subject_id=version,
            detail={"from_version": before.version, "to_version": version, "changed": changes(before, checked)},
        )
    )
    session.flush()
    return check(document, version)


def changes(before: Matrix, after: Matrix) -> list[str]:
    """What differs between two versions, one line per changed table or service."""
    lines = []
    old, new = before.document, after.document
    for table in [*sorted(SETTINGS), "goals"]:
        if old.get(table) != new.get(table):
            lines.append(f"{table}: {old.get(table)} -> {new.get(table)}")
    for key in sorted(set(old.get("services", {})) | set(new.get("services", {}))):
        a, b = old.get("services", {}).get(key), new.get("services", {}).get(key)
        if a != b:
            lines.append(f"services.{key}: " + ("added" if a is None else "removed" if b is None else "changed"))
    return lines
