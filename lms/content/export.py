"""``content export``: everything published, written in the file formats ``content sync`` reads.

Each domain that loads files also knows how to write them back: it registers an *exporter*, a function
``(session) -> {relative path: file text}`` covering its published (not archived) items.  The texts are
deterministic (same database state, same bytes), so export → sync into an empty database → export gives
identical files.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session

Exporter = Callable[[Session], dict[str, str]]
_EXPORTERS: dict[str, Exporter] = {}

#: the folders (under a content root) the loaders read; export --prune only ever removes files in them
CONTENT_FOLDERS = ("courses", "quizzes", "roleplays")


def register_exporter(name: str, exporter: Exporter) -> None:
    _EXPORTERS[name] = exporter


def export_texts(session: Session) -> dict[str, str]:
    """Every published item as {path relative to the content root: file text}, sorted by path."""
    texts: dict[str, str] = {}
    for name in sorted(_EXPORTERS):
        texts.update(_EXPORTERS[name](session))
    return dict(sorted(texts.items()))


def write_tree(texts: dict[str, str], root: Path) -> None:
    root = Path(root)
    for path, text in texts.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def content_files(root: Path) -> set[str]:
    """The content files (YAML and Markdown, READMEs and the pre-check's calibration set aside) under ``root``'s content
    folders."""
    root = Path(root)
    found = set()
    for folder in CONTENT_FOLDERS:
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix in (".md", ".yaml") and path.name != "README.md" and "calibration" not in path.parts:
                found.add(str(path.relative_to(root)))
    return found


def export(session: Session, root: Path, *, prune: bool = False) -> tuple[int, list[str]]:
    """Write every published item under ``root``; returns (files written, files present but not published).

    With ``prune`` the files not published are removed (a later sync would otherwise bring them back).
    """
    texts = export_texts(session)
    write_tree(texts, root)
    stale = sorted(content_files(root) - set(texts))
    if prune:
        for path in stale:
            (Path(root) / path).unlink()
    return len(texts), stale


# -- writing helpers the exporters share --------------------------------------------------------------
def _str_representer(dumper, value: str):
    # multi-line text as a literal block (the emitter falls back to quotes when a block cannot hold it)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


@cache
def _dumper() -> type:
    """Our YAML dumper, built on first use: a web worker that writes no content file never imports yaml."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        def increase_indent(self, flow=False, indentless=False):  # lists indented under their key, as the files write them
            return super().increase_indent(flow, False)

    _Dumper.add_representer(str, _str_representer)
    return _Dumper


def dump_yaml(data) -> str:
    """YAML as the content files write it: block style, Unicode kept, keys in the given order."""
    import yaml

    return yaml.dump(data, Dumper=_dumper(), allow_unicode=True, sort_keys=False, default_flow_style=False, width=120)


def markdown_file(front_matter: dict, body: str) -> str:
    """A Markdown file with YAML front matter (what ``read_front_matter`` splits)."""
    return "---\n" + dump_yaml(front_matter) + "---\n" + body


def citations(items) -> list[dict]:
    """Stored citations ({ref, quote, section_title, text_hash}) as the files state them ({ref, quote})."""
    return [{"ref": c["ref"], "quote": c["quote"]} for c in items or [] if c]


def house_rules(items) -> list[dict]:
    return [{"text": rule["text"], "sources": citations(rule.get("sources"))} for rule in items or []]
