"""Files against the site: ``content sync`` never silently overwrites an item edited in the site.

A publish in the site records the file it changed (:class:`ContentSiteEdit`).  Before a sync, every such file is
compared with the site's current version of it (as ``content export`` would write it): equal files agree; a
different (or missing) file is a conflict, reported with both versions.  ``prefer="files"`` syncs the files and
forgets the site edits; ``prefer="site"`` syncs the files with the site's version of each conflicting file put in
their place (the conflict stays recorded until the files agree, e.g. after ``content export``).
"""
from __future__ import annotations

import difflib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.content.export import CONTENT_FOLDERS, export_texts
from lms.content.models import ContentSiteEdit
from lms.content.registry import Problems, SyncReport, sync


@dataclass
class Conflict:
    path: str
    kind: str
    slug: str
    files_text: str | None  # None: not in the files
    site_text: str | None  # None: removed in the site
    at: datetime
    actor_id: int | None

    def diff(self) -> list[str]:
        return list(difflib.unified_diff(
            (self.files_text or "").splitlines(), (self.site_text or "").splitlines(),
            fromfile=f"files/{self.path}", tofile=f"site/{self.path}", lineterm=""))


def record_site_edit(session: Session, *, path: str, kind: str, slug: str, text: str, actor_id: int | None,
                     now: datetime) -> None:
    row = session.scalar(select(ContentSiteEdit).where(ContentSiteEdit.path == path))
    if row is None:
        row = ContentSiteEdit(path=path)
        session.add(row)
    row.kind, row.slug, row.text, row.actor_id, row.at = kind, slug, text, actor_id, now
    session.flush()


def site_edits(session: Session) -> list[ContentSiteEdit]:
    return list(session.scalars(select(ContentSiteEdit).order_by(ContentSiteEdit.path)))


def _read(root: Path, path: str) -> str | None:
    try:
        return (root / path).read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def find_conflicts(session: Session, root: Path, site_texts: dict[str, str] | None = None) -> tuple[list[Conflict], list[str]]:
    """(conflicts, paths whose files already agree with the site)."""
    root = Path(root)
    edits = site_edits(session)
    if not edits:
        return [], []
    site_texts = export_texts(session) if site_texts is None else site_texts
    conflicts, agreeing = [], []
    for edit in edits:
        files_text, site_text = _read(root, edit.path), site_texts.get(edit.path)
        if files_text == site_text:
            agreeing.append(edit.path)
        else:
            conflicts.append(Conflict(edit.path, edit.kind, edit.slug, files_text, site_text, edit.at, edit.actor_id))
    return conflicts, agreeing


def _forget(session: Session, paths) -> None:
    paths = list(paths)
    if paths:
        session.execute(delete(ContentSiteEdit).where(ContentSiteEdit.path.in_(paths)))


def sync_files(session: Session, root: Path, *, prefer: str | None = None,
               impact_out: list | None = None) -> tuple[Problems, SyncReport, list[Conflict]]:
    """Sync ``root`` unless it would overwrite a site edit; with ``prefer`` ('files' or 'site'), resolve.

    Returns (problems, report, conflicts). Conflicts without ``prefer``: nothing is written.
    """
    root = Path(root)
    site_texts = export_texts(session)
    conflicts, agreeing = find_conflicts(session, root, site_texts)
    if conflicts and prefer is None:
        return Problems(), SyncReport(), conflicts
    if not conflicts or prefer == "files":
        problems, report = sync(session, root, impact_out=impact_out)
        if not problems:
            _forget(session, agreeing + [c.path for c in conflicts])
        return problems, report, conflicts
    if prefer != "site":
        raise ValueError(f"prefer must be 'files' or 'site', not {prefer!r}")
    with tempfile.TemporaryDirectory(prefix="lms-sync-") as tmp:
        tree = Path(tmp)
        for folder in CONTENT_FOLDERS:
            if (root / folder).is_dir():
                shutil.copytree(root / folder, tree / folder)
        for conflict in conflicts:
            target = tree / conflict.path
            if conflict.site_text is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(conflict.site_text, encoding="utf-8")
        problems, report = sync(session, tree, impact_out=impact_out)
    if not problems:
        _forget(session, agreeing)
    return problems, report, conflicts
