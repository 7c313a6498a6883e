"""Reading query parameters and JSON bodies (every problem reported at once, per field), and keyset paging.

Paging: lists are ordered by id; ``next_cursor`` is opaque (base64url of the last id seen and a
fingerprint of the filters).  A row inserted while a client pages gets a higher id, so it shows
up at the end: never twice, and never pushing another row out of sight.  A cursor is only valid
with the filters it was issued for.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date, datetime, timezone

from flask import request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lms.api.errors import ApiError, validation_error

#: the largest id an id column holds (PostgreSQL ``integer``): a bigger number is refused here, never sent to the driver
MAX_ID = 2 ** 31 - 1

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
PAGING = ("cursor", "limit")


class _Fields:
    """Collects problems field by field; :meth:`done` raises them together."""

    def __init__(self):
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def done(self) -> None:
        if self.errors:
            raise validation_error(self.errors)


class Query(_Fields):
    """The request's query string; parameters other than ``allowed`` (and paging) are refused."""

    def __init__(self, *allowed: str, paged: bool = True):
        super().__init__()
        self.args = request.args
        known = set(allowed) | (set(PAGING) if paged else set())
        for name in self.args:
            if name not in known:
                self.fail(name, _("Parámetro desconocido. Los admitidos son: %(names)s.", names=", ".join(sorted(known)) or "—"))
            elif len(self.args.getlist(name)) > 1:
                self.fail(name, _("Parámetro repetido."))
        self.paged = paged

    def string(self, name: str, max_length: int = 200) -> str | None:
        value = self.args.get(name)
        if value is None:
            return None
        value = value.strip()
        if not value or len(value) > max_length:
            self.fail(name, _("Debe ser un texto de 1 a %(n)d caracteres.", n=max_length))
            return None
        return value

    def integer(self, name: str, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
        raw = self.args.get(name)
        if raw is None:
            return None
        value = _integral(raw.strip()) if len(raw) <= 40 else None
        if value is None or value < minimum or value > maximum:
            self.fail(name, _("Debe ser un número entero entre %(min)d y %(max)s.", min=minimum, max=maximum))
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        raw = self.args.get(name)
        if raw is None:
            return None
        if raw not in ("true", "false"):
            self.fail(name, _("Debe ser «true» o «false»."))
            return None
        return raw == "true"

    def choice(self, name: str, choices) -> str | None:
        raw = self.args.get(name)
        if raw is not None and raw not in choices:
            self.fail(name, _("Valor no admitido; usa uno de: %(choices)s.", choices=", ".join(choices)))
            return None
        return raw

    def moment(self, name: str) -> datetime | None:
        """An ISO 8601 date-time with its offset, or a date (its midnight UTC)."""
        raw = self.args.get(name)
        if raw is None:
            return None
        try:
            if len(raw) == 10:
                day = date.fromisoformat(raw)
                return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:
            self.fail(name, _("Debe ser una fecha (2026-01-31) o una fecha y hora con zona (2026-01-31T09:00:00Z)."))
            return None
        return value.astimezone(timezone.utc)

    # paging -------------------------------------------------------------------
    def _fingerprint(self) -> str:
        filters = sorted((k, v) for k, v in self.args.items(multi=True) if k not in PAGING)
        return hashlib.sha256(json.dumps([request.endpoint, filters]).encode()).hexdigest()[:16]

    def limit(self) -> int:
        return self.integer("limit", 1, MAX_LIMIT) or DEFAULT_LIMIT

    def after(self) -> int:
        raw = self.args.get("cursor")
        if raw is None:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            after, fingerprint = int(data["after"]), data["q"]
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            self.fail("cursor", _("Cursor no válido: usa el «next_cursor» de la respuesta anterior tal cual."))
            return 0
        if fingerprint != self._fingerprint():
            self.fail("cursor", _("Este cursor se emitió para otros filtros: repite los mismos parámetros de la primera página."))
            return 0
        return after

    def cursor_after(self, last_id: int) -> str:
        raw = json.dumps({"after": last_id, "q": self._fingerprint()}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def page(session: Session, query: Query, stmt, *, rows: bool = False) -> tuple[list, str | None]:
    """One page of ``stmt`` (a select() with its filters, unordered) after the cursor, by the id of its first
    entity; and the next cursor.

    ``rows``: the select has several entities (``session.execute``); otherwise ``session.scalars``.
    The query's problems are raised first, so call this after reading every filter.
    """
    limit, after = query.limit(), query.after()
    query.done()
    id_column = stmt.column_descriptions[0]["entity"].id
    stmt = stmt.where(id_column > after).order_by(id_column).limit(limit + 1)
    found = list(session.execute(stmt).all() if rows else session.scalars(stmt))
    more = len(found) > limit
    found = found[:limit]
    if not more:
        return found, None
    last = found[-1]
    last_id = getattr(last[0] if rows else last, "id")
    return found, query.cursor_after(last_id)


def _integral(raw: str) -> int | None:
    """An integer written as such or with a zero fraction ("18", "18.0"), as JSON Schema's ``integer`` reads it."""
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _json_id(value) -> int | None:
    """An id from a JSON body: a positive integer up to :data:`MAX_ID`; ``18.0`` is the integer 18 (JSON Schema)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        return None
    return value


class Body(_Fields):
    """The request's JSON object; fields other than ``allowed`` are refused."""

    def __init__(self, *allowed: str, required: tuple[str, ...] = ()):
        super().__init__()
        data = request.get_json(silent=True) if request.is_json else None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_json", _("El cuerpo debe ser un objeto JSON con «Content-Type: application/json»."))
        self.data = data
        for name in data:
            if name not in allowed:
                self.fail(name, _("Campo desconocido. Los admitidos son: %(names)s.", names=", ".join(allowed)))
        for name in required:
            if data.get(name) is None:
                self.fail(name, _("Campo obligatorio."))

    def not_null(self, *names: str) -> None:
        """These fields may be left out but not sent as null (the description types them without null)."""
        for name in names:
            if name in self.data and self.data[name] is None:
                self.fail(name, _("No puede ser null: omite el campo para no cambiarlo."))

    def has(self, name: str) -> bool:
        return name in self.data and name not in self.errors

    def string(self, name: str, max_length: int = 200) -> str | None:
        value = self.data.get(name)
        if value is None or name in self.errors:
            return None
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_length:
            self.fail(name, _("Debe ser un texto de 1 a %(n)d caracteres.", n=max_length))
            return None
        return value.strip()

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is not None and not isinstance(value, bool) and name not in self.errors:
            self.fail(name, _("Debe ser true o false."))
            return None
        return value

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None or name in self.errors:
            return None
        number = _json_id(value)
        if number is None:
            self.fail(name, _("Debe ser un identificador (entero positivo)."))
            return None
        return number

    def integers(self, name: str, max_items: int = 100) -> list[int] | None:
        value = self.data.get(name)
        if value is None or name in self.errors:
            return None
        numbers = [_json_id(v) for v in value] if isinstance(value, list) and len(value) <= max_items else [None]
        if None in numbers:
            self.fail(name, _("Debe ser una lista de identificadores (enteros positivos, %(n)d como mucho).", n=max_items))
            return None
        return list(dict.fromkeys(numbers))

    def choice(self, name: str, choices) -> str | None:
        value = self.data.get(name)
        if value is not None and value not in choices and name not in self.errors:
            self.fail(name, _("Valor no admitido; usa uno de: %(choices)s.", choices=", ".join(choices)))
            return None
        return value

    def day(self, name: str) -> date | None:
        value = self.data.get(name)
        if value is None or name in self.errors:
            return None
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, _("Debe ser una fecha AAAA-MM-DD, por ejemplo 2026-12-01."))
            return None
