"""Users from CSV: the dialect read from the data, every row checked, all or nothing unless asked to skip invalid
rows. (Large imports run as background jobs: :mod:`lms.accounts.imports`.)"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lms.core.errors import Conflict, InvalidInput


@dataclass
class CsvImportResult:
    """Outcome of a CSV import: rows written, and every bad row with its line."""

    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: True when nothing was written because of errors (all-or-nothing mode)
    rolled_back: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


#: how much of a CSV the dialect is read from (whole lines of it)
SNIFF_SAMPLE = 64 * 1024


def sniff_dialect(text: str) -> type[csv.Dialect]:
    """The CSV dialect (delimiter, quoting) read from the data: the header and the rows after it, where quoted values
    with doubled quotes or backslash-escaped quotes show, not from the header alone."""
    sample = text[:SNIFF_SAMPLE]
    if len(text) > SNIFF_SAMPLE and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        sniffed = csv.excel
    quote = sniffed.quotechar or '"'

    class Dialect(csv.Dialect):
        delimiter = sniffed.delimiter
        quotechar = quote
        doublequote = True  # "" inside a quoted value is one quote (spreadsheets write it so)
        escapechar = "\\" if "\\" + quote in sample else None  # \" written by some exporters
        skipinitialspace = sniffed.skipinitialspace
        lineterminator = "\r\n"
        quoting = csv.QUOTE_MINIMAL

    return Dialect


def read_csv(text: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """Parse CSV text with a header row; returns (line, row) pairs and header problems."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text), dialect=sniff_dialect(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [(1, _("CSV ilegible: %(err)s", err=str(exc)))]
    if not header:
        return [], [(1, _("El archivo está vacío: falta la fila de encabezado."))]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    problems = []
    if missing:
        problems.append((1, _("Faltan columnas: %(cols)s.", cols=", ".join(missing))))
    if unknown:
        problems.append((1, _("Columnas desconocidas: %(cols)s (se esperan: %(expected)s).", cols=", ".join(unknown), expected=", ".join(required + optional))))
    if problems:
        return [], problems
    reader.fieldnames = header
    rows = []
    try:
        for raw in reader:
            line = reader.line_num
            if None in raw:
                problems.append((line, _("La fila tiene más columnas que el encabezado.")))
                continue
            row = {k: (v or "").strip() for k, v in raw.items()}
            if not any(row.values()):
                continue
            rows.append((line, row))
    except csv.Error as exc:
        problems.append((reader.line_num, _("CSV ilegible: %(err)s", err=str(exc))))
    return rows, problems


def import_users_csv(session: Session, text: str, *, skip_invalid: bool = False,
                     password_hashes: dict[str, str] | None = None) -> CsvImportResult:
    """Create users from CSV (``email,name,role[,team][,password]``).

    Every row is checked; by default nothing is written when any row is bad.
    With ``skip_invalid`` the good rows are written and the bad ones reported.
    A missing team is created.
    """
    from lms.accounts import services as accounts

    result = CsvImportResult()
    rows, header_problems = read_csv(text, ("email", "name", "role"), ("team", "password"))
    if header_problems:
        result.errors = header_problems
        result.rolled_back = True
        return result
    seen: dict[str, int] = {}
    outer = session.begin_nested()
    for line, row in rows:
        try:
            with session.begin_nested():
                email = accounts.normalise_email(row["email"])
                if email in seen:
                    raise InvalidInput(_("Correo repetido: ya aparece en la línea %(line)d.", line=seen[email]))
                seen[email] = line
                prepared = (password_hashes or {}).get(str(line)) if row.get("password") else None
                user = accounts.create_user(  # a password already checked and hashed by an import job's earlier step is taken as is
                    session, email=email, name=row["name"], role=row["role"].lower(),
                    password=None if prepared else (row.get("password") or None)
                )
                if prepared:
                    user.password_hash = prepared
                if row.get("team"):
                    team = accounts.find_team_by_name(session, row["team"]) or accounts.create_team(session, row["team"])
                    accounts.add_to_team(session, team, user)
                result.imported += 1
        except (InvalidInput, Conflict) as exc:
            result.errors.append((line, str(exc)))
    if result.errors and not skip_invalid:
        outer.rollback()
        result.rolled_back = True
        result.imported = 0
    else:
        outer.commit()
    return result
