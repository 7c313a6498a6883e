"""Walking a folder of content files: read each, check its fields, report problems, yield the good ones."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from lms.content.files import ContentFileError, Located, read_front_matter, read_yaml
from lms.content.registry import Problems
from lms.content.schema import Field, validate_mapping


def yaml_files(root: Path, pattern: str, fields: list[Field], problems: Problems) -> Iterator[tuple[Path, str, Located]]:
    """(path, display path, mapping) for every YAML file matching ``pattern`` whose fields are valid."""
    for path in sorted(root.glob(pattern)):
        display = str(path.relative_to(root))
        try:
            data = read_yaml(path, display)
        except ContentFileError as exc:
            problems.extend_from(exc)
            continue
        errors = validate_mapping(data, fields, display)
        if errors:
            problems.extend(errors)
            continue
        yield path, display, data


def markdown_files(root: Path, pattern: str, fields: list[Field], problems: Problems,
                   skip: tuple[str, ...] = ("README.md",)) -> Iterator[tuple[Path, str, Located, str, int]]:
    """(path, display path, front matter, body, body's first line) for every valid Markdown file."""
    for path in sorted(root.glob(pattern)):
        if path.name in skip:
            continue
        display = str(path.relative_to(root))
        try:
            meta, body, body_line = read_front_matter(path, display)
        except ContentFileError as exc:
            problems.extend_from(exc)
            continue
        errors = validate_mapping(meta, fields, display)
        if errors:
            problems.extend(errors)
            continue
        yield path, display, meta, body, body_line
