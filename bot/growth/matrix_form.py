"""The upsell matrix as the web form shows it: one line of text per list ("Brow lift $100; Lip flip $150",
an item's Spanish name after a bar: "Brow lift | lifting de cejas $100"), read back into a matrix document,
so the manager edits words, not TOML."""

from __future__ import annotations

import copy
import re

from bot.errors import MatrixError
from bot.growth.matrix import SETTINGS, Item, Matrix

_ITEM = re.compile(
    r"^(?P<name>[^$\[\]|]+?)\s*(?:\|\s*(?P<es>[^$\[\]|]+?)\s*)?(?:\$(?P<price>-?\d+(?:\.\d{1,2})?))?\s*(?:\[(?P<match>[A-Za-z0-9_-]+)\])?\s*(?P<repeat>repeat)?$"
)
"""One item: a name, an optional "| Spanish name", an optional $price, an optional [code or category], and `repeat` for a follow-up that is
meant for patients who have had it."""

LISTS = ("add_ons", "retail", "follow_up")
SCALARS = [(table, key) for table, keys in SETTINGS.items() for key, kind in keys.items() if kind is not dict]
"""The settings the form edits as numbers."""


def item_text(item: Item) -> str:
    """An item as one phrase of the form."""
    text = item.name + (f" | {item.es}" if item.es else "")
    if item.price is not None:
        text += f" ${item.price.normalize():f}" if item.price == item.price.to_integral() else f" ${item.price}"
    if item.code or item.category:
        text += f" [{item.code or item.category}]"
    return text + (" repeat" if item.repeat else "")


def to_form(matrix: Matrix) -> dict[str, str]:
    """The form's fields for a matrix: `<service>.<list>`, `<service>.window`, `<service>.package`, `<table>.<key>`."""
    fields: dict[str, str] = {}
    for entry in matrix.entries:
        fields[f"{entry.key}.add_ons"] = "; ".join(item_text(i) for i in entry.add_ons)
        fields[f"{entry.key}.retail"] = "; ".join(item_text(i) for i in entry.retail)
        fields[f"{entry.key}.follow_up"] = "; ".join(item_text(i) for i in entry.follow_up)
        fields[f"{entry.key}.window"] = f"{entry.window[0]}-{entry.window[1]}d"
        fields[f"{entry.key}.package"] = item_text(entry.package) if entry.package else ""
        fields[f"{entry.key}.return_days"] = str(entry.return_days)
    for table, key in SCALARS:
        fields[f"{table}.{key}"] = str(matrix.settings[table][key])
    return fields


def _parse_item(where: str, text: str, follow_up: bool, categories: set[str]) -> dict:
    match = _ITEM.match(text.strip())
    if not match:
        raise MatrixError(f'{where}: cannot read {text.strip()!r} (write it like "Lip flip $150")')
    item: dict = {"name": match.group("name").strip()}
    if match.group("es"):
        item["es"] = match.group("es").strip()
    if match.group("price") is not None:
        item["price"] = float(match.group("price"))
    named = match.group("match")
    if named:
        item["category" if named in categories else "code"] = named
    elif follow_up:
        raise MatrixError(
            f"{where}: {item['name']!r} needs the service it means in brackets, e.g. [filler] or [CONSULT]"
        )
    if match.group("repeat"):
        item["repeat"] = True
    return item


def from_form(form, base: Matrix, categories: set[str]) -> dict:
    """A new matrix document: `base` with the form's values; MatrixError naming the field that cannot be read."""
    document = copy.deepcopy(base.document)
    for table, key in SCALARS:
        name = f"{table}.{key}"
        raw = (form.get(name) or "").strip()
        if not raw:
            continue
        try:
            document[table][key] = float(raw) if SETTINGS[table][key] is float else int(raw)
        except ValueError:
            raise MatrixError(f"{name}: {raw!r} is not a number") from None
    for entry in base.entries:
        service = document["services"][entry.key]
        for name in LISTS:
            field = f"{entry.key}.{name}"
            if field not in form:
                continue
            parts = [p for p in (form.get(field) or "").split(";") if p.strip()]
            items = [_parse_item(field, p, name == "follow_up", categories) for p in parts]
            if name == "follow_up":
                service["follow_up"]["items"] = items
            else:
                service[name] = items
        if f"{entry.key}.window" in form:
            service["follow_up"]["window"] = (form.get(f"{entry.key}.window") or "").strip()
        if f"{entry.key}.package" in form:
            package = (form.get(f"{entry.key}.package") or "").strip()
            if package:
                service["package"] = _parse_item(f"{entry.key}.package", package, False, categories)
            else:
                service.pop("package", None)
        if f"{entry.key}.return_days" in form:
            raw = (form.get(f"{entry.key}.return_days") or "").strip()
            try:
                service["return_days"] = int(raw)
            except ValueError:
                raise MatrixError(f"{entry.key}.return_days: {raw!r} is not a whole number of days") from None
    return document
