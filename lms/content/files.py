"""Reading YAML and Markdown front matter while keeping line numbers."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml


@dataclass(frozen=True)
class ContentError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Located(dict):
    """A mapping read from YAML that remembers the line of each key (1-based)."""

    line: int = 1
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    line: int = 1
    item_lines: list


def _construct_mapping(loader, node: yaml.MappingNode, deep: bool = False):
    import yaml

    loader.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader, node: yaml.SequenceNode, deep: bool = False):
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


@cache
def _safe_loader() -> type:
    """Our YAML loader, built on first use: a web worker that reads no content file never imports yaml."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    # Dates stay strings: content never needs YAML's implicit timestamps.
    _Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _Loader


def __getattr__(name: str):
    if name == "_Loader":  # lms.content.files._Loader, as before it was built lazily
        return _safe_loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ContentFileError(Exception):
    def __init__(self, error: ContentError):
        super().__init__(str(error))
        self.error = error


def parse_yaml(text: str, path: str, line_offset: int = 0) -> Any:
    import yaml

    _Loader = _safe_loader()
    try:
        return yaml.load(text, Loader=_Loader)  # nosec B506  # _Loader derives from yaml.SafeLoader (asserted in tests/test_static_checks.py)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        problem = exc.problem or str(exc)
        context = exc.context_mark
        if context is not None and mark is not None and context.line != mark.line and exc.context:
            started = context.line + 1 + line_offset
            problem += f" (in the {exc.context.removeprefix('while parsing a ').removeprefix('while scanning a ')} started at line {started})"
        raise ContentFileError(ContentError(path, line, f"YAML error: {problem}")) from None
    except yaml.YAMLError as exc:
        raise ContentFileError(ContentError(path, 1 + line_offset, f"YAML error: {exc}")) from None


def _shift_lines(value: Any, offset: int) -> None:
    if isinstance(value, Located):
        value.line += offset
        value.key_lines = {k: v + offset for k, v in value.key_lines.items()}
        for v in value.values():
            _shift_lines(v, offset)
    elif isinstance(value, LocatedList):
        value.line += offset
        value.item_lines = [n + offset for n in value.item_lines]
        for v in value:
            _shift_lines(v, offset)


def read_yaml(path: Path, display: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentFileError(ContentError(display, 1, "the file is not UTF-8 text")) from None
    return parse_yaml(text, display)


def read_front_matter(path: Path, display: str) -> tuple[Located, str, int]:
    """Split a Markdown file into (front matter, body, line where the body starts)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentFileError(ContentError(display, 1, "the file is not UTF-8 text")) from None
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentFileError(ContentError(display, 1, "missing front matter: the file must start with a '---' line"))
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            break
    else:
        raise ContentFileError(ContentError(display, 1, "front matter is not closed by a '---' line"))
    meta = parse_yaml("".join(lines[1:index]), display, line_offset=1)
    if meta is None:
        meta = Located()
        meta.key_lines = {}
    if not isinstance(meta, Located):
        raise ContentFileError(ContentError(display, 2, "front matter must be a mapping of fields"))
    _shift_lines(meta, 1)
    body = "".join(lines[index + 1:])
    return meta, body, index + 2


def plain(value: Any) -> Any:
    """Located YAML structures as plain dicts and lists (for JSON storage)."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
