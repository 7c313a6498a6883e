"""Loader registry and the all-or-nothing check/sync over every content file."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session
from werkzeug.utils import import_string

from lms.content.files import ContentError, ContentFileError
from lms.core import audit
from lms.core.clock import now_utc


class Problems(list):
    """Collected :class:`ContentError` rows; loaders append and keep going."""

    def add(self, path: str, line: int, message: str) -> None:
        self.append(ContentError(path, line, message))

    def extend_from(self, exc: ContentFileError) -> None:
        self.append(exc.error)


@dataclass
class SyncReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    archived: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, kind: str, n: int = 1) -> None:
        table = getattr(self, bucket)
        table[kind] = table.get(kind, 0) + n

    @property
    def changed(self) -> bool:
        return any((self.created, self.updated, self.archived, self.restored))

    def lines(self) -> list[str]:
        out = []
        for bucket in ("created", "updated", "archived", "restored"):
            for kind, n in sorted(getattr(self, bucket).items()):
                out.append(f"{bucket} {n} {kind}")
        return out or ["no changes"]


class Loader(Protocol):
    #: unique name, e.g. "reference", "tracks"
    name: str
    #: names of loaders whose collected items this one reads (they run first)
    depends_on: tuple[str, ...]

    def collect(self, root: Path, collected: dict[str, Any], problems: Problems) -> Any:
        """Read and validate this loader's files; report problems, write nothing."""

    def sync(self, session: Session, items: Any, collected: dict[str, Any], report: SyncReport) -> None:
        """Write the validated items to the database (flush only)."""


_LOADERS: dict[str, Loader] = {}
#: called as ``listener(session, collected)`` by every sync that is about to write (files valid), before any
#: loader writes: what the database holds is still the previous content (e.g. the revised passages' old text)
_SYNC_LISTENERS: list = []


def on_sync(listener) -> None:
    if listener not in _SYNC_LISTENERS:
        _SYNC_LISTENERS.append(listener)


def register_loader(loader: Loader | str, target: str | None = None) -> None:
    """Register ``loader``; or, as ``register_loader("quizzes", "lms.quizzes.loader:QuizzesLoader")``, the loader
    class named by ``target``, imported and made when a check or sync first needs it (a web worker never does)."""
    if isinstance(loader, str):
        _LOADERS[loader] = target  # type: ignore[assignment]
    else:
        _LOADERS[loader.name] = loader


def _loader(name: str) -> Loader:
    loader = _LOADERS[name]
    if isinstance(loader, str):
        loader = import_string(loader)()
        if loader.name != name:
            raise RuntimeError(f"content loader {loader!r} is named {loader.name!r}, registered as {name!r}")
        _LOADERS[name] = loader
    return loader


def registered_loaders() -> list[Loader]:
    """Loaders in dependency order (a loader after everything it depends on)."""
    ordered: list[Loader] = []
    seen: set[str] = set()

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in stack:
            raise RuntimeError(f"content loaders depend on each other in a cycle: {' -> '.join(stack + (name,))}")
        if name not in _LOADERS:
            raise RuntimeError(f"content loader {stack[-1]!r} depends on unknown loader {name!r}")
        for dep in _loader(name).depends_on:
            visit(dep, stack + (name,))
        seen.add(name)
        ordered.append(_loader(name))

    for name in sorted(_LOADERS):
        visit(name, ())
    return ordered


def _collect(root: Path) -> tuple[dict[str, Any], Problems]:
    problems = Problems()
    collected: dict[str, Any] = {}
    for loader in registered_loaders():
        collected[loader.name] = loader.collect(root, collected, problems)
    problems.sort(key=lambda e: (e.path, e.line, e.message))
    return collected, problems


def check(root: Path) -> Problems:
    """Every problem in the content files under ``root``; writes nothing."""
    return _collect(Path(root))[1]


def check_with_impact(session: Session, root: Path):
    """Problems, and the revision impact of the files against what the database holds."""
    from lms.content.impact import revision_impact

    collected, problems = _collect(Path(root))
    return problems, (None if problems else revision_impact(session, collected))


def sync(session: Session, root: Path, impact_out: list | None = None) -> tuple[Problems, SyncReport]:
    """Validate everything; when valid, write it all (flushed, the caller commits).

    ``impact_out``, when given, receives the revision impact computed before writing.
    """
    collected, problems = _collect(Path(root))
    report = SyncReport()
    if problems:
        return problems, report
    if impact_out is not None:
        from lms.content.impact import revision_impact

        impact_out.append(revision_impact(session, collected))
    for listener in _SYNC_LISTENERS:
        listener(session, collected)
    for loader in registered_loaders():
        loader.sync(session, collected[loader.name], collected, report)
    if report.changed:  # a publish: one row in the append-only audit log
        audit.record(session, kind="content_published", subject="content", actor_id=None,
                     data={"root": str(root), "changes": report.lines()}, now=now_utc())
    session.flush()
    return problems, report
