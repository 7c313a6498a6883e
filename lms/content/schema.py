"""Checking the fields of a mapping read from a content file."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from lms.content.files import ContentError, Located

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class Field:
    name: str
    kind: type | tuple[type, ...]
    required: bool = True
    #: extra check: returns an error message or None
    check: Callable[[Any], str | None] | None = None
    description: str = field(default="")


def check_id(value: Any) -> str | None:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        return f"invalid id {value!r}: use lowercase letters, digits and single hyphens"
    return None


def non_negative_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"must be a whole number of days >= 0, got {value!r}"
    return None


def positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return f"must be a whole number > 0, got {value!r}"
    return None


def non_empty_text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be non-empty text"
    return None


_KIND_NAMES = {str: "text", int: "a number", list: "a list", dict: "a mapping", bool: "true/false"}


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)


def validate_mapping(data: Any, fields: list[Field], path: str, line: int = 1, what: str = "") -> list[ContentError]:
    """Return every problem: not a mapping, unknown fields, missing fields, wrong kinds."""
    prefix = f"{what}: " if what else ""
    if not isinstance(data, dict):
        return [ContentError(path, line, f"{prefix}expected a mapping of fields")]
    located = data if isinstance(data, Located) else None
    line_of = (lambda k: located.line_of(k)) if located is not None else (lambda k: line)
    base_line = located.line if located is not None else line
    known = {f.name for f in fields}
    errors: list[ContentError] = []
    for key in data:
        if key not in known:
            errors.append(ContentError(path, line_of(key), f"{prefix}unknown field {key!r} (expected one of: {', '.join(sorted(known))})"))
    for f in fields:
        if f.name not in data or data[f.name] is None:
            if f.required:
                errors.append(ContentError(path, base_line, f"{prefix}missing field {f.name!r}"))
            continue
        value = data[f.name]
        kinds = f.kind if isinstance(f.kind, tuple) else (f.kind,)
        if isinstance(value, bool) and bool not in kinds:
            errors.append(ContentError(path, line_of(f.name), f"{prefix}{f.name!r} must be {_kind_name(f.kind)}"))
            continue
        if not isinstance(value, kinds):
            errors.append(ContentError(path, line_of(f.name), f"{prefix}{f.name!r} must be {_kind_name(f.kind)}"))
            continue
        if f.check:
            message = f.check(value)
            if message:
                errors.append(ContentError(path, line_of(f.name), f"{prefix}{f.name!r} {message}"))
    return errors


def item_line(container: Any, index: int, default: int) -> int:
    lines = getattr(container, "item_lines", None)
    if lines and index < len(lines):
        return lines[index]
    return default
