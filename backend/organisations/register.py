"""Admins keep the organisation register: import it from the NHS ODS CSV files, list and find
organisations (with their member counts), edit an organisation's type, region and ODS code, and
map or merge one organisation into another. Every change is audited.

**The ODS CSV layout.** The ODS downloads (``etr.csv``: NHS trusts; ``eccg.csv`` / the ICB and
sub-ICB files; ``epraccur.csv``: GP practices; ...) are headerless CSVs whose columns start:

    1 organisation code, 2 name, 3 national grouping, 4 high level health geography,
    5-9 address lines 1-5, 10 postcode, 11 open date, 12 close date (YYYYMMDD), ...

Only columns 1, 2, 3 and 12 are read: the code, the name (upper case in the files, tidied
here: "LEEDS TEACHING HOSPITALS NHS TRUST" -> "Leeds Teaching Hospitals NHS Trust"), the
national grouping (an NHS England region's code, ``NATIONAL_GROUPINGS``) and the close date.
A closed organisation not yet in the register is skipped; one already in it is marked closed
(it stays on its members' records, but is no longer offered as a choice).

An import is idempotent: each row is matched by its ODS code, then by its name (an "other"
organisation members typed with exactly that name is adopted into the register). A re-import
updates names, regions and close dates by code and never adds a second row. Bad rows are listed
with their line and what is wrong, and the good rows are imported (the register is reference
data: one unreadable row should not hold back a thousand good ones).

**Merging.** ``merge`` moves every reference to the merged organisation (members, and any other
table with a foreign key to ``organisation.id``, found from the models' metadata so a table
added later is covered without a change here) to the survivor, in the caller's one
transaction, and audits the counts. The merged row is *kept* as an alias pointing to the
survivor (``merged_into_id``), not deleted: its folded name (and any ODS code) keep leading to
the survivor, so the next member who types the same misspelling, or an import naming it, lands
on the survivor instead of creating the duplicate again; and audit events naming its id still
name a row. Aliases are never offered as choices nor listed as waiting to be mapped.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Table, func, update
from sqlmodel import Session, SQLModel, col, select

from backend import audit
from backend import text as text_rules
from backend.audit.service import Detail
from backend.errors import Conflict, Invalid, NotFound
from backend.matchmaking.version import network_changed
from backend.members import console
from backend.members.models import Member
from backend.organisations import service
from backend.organisations.models import ORGANISATION_TYPES, OdsImportRejects, Organisation
from members_csv.formulas import safe_writer
from vocabulary import REGIONS

# NHS England regions' ODS codes, as the "national grouping" column gives them.
NATIONAL_GROUPINGS: dict[str, str] = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}
assert set(NATIONAL_GROUPINGS.values()) == set(REGIONS)

MAX_FILE_BYTES = 5_000_000
MAX_ROWS = 50_000
MAX_PROBLEMS_SHOWN = 200
MIN_COLUMNS = 2
CLOSE_DATE_COLUMN = 11  # 0-based: the 12th column
DERIVE = "derive"  # the import's type: guessed from each new organisation's name
PAGE_SIZE = 50
MAX_SEARCH = 100
MAX_ID = 2**31 - 1


# Words an ODS name keeps in a set case once tidied.
_FIXED_WORDS = {
    w.casefold(): w for w in ("NHS", "ICB", "PCN", "CIC", "UK", "GP", "and", "of", "the", "for")
}


def tidy_name(name: str) -> str:
    """An ODS name (upper case) as people write it; a name in mixed case is kept as given."""
    words = " ".join(name.split()).split(" ")
    if any(ch.islower() for ch in name):
        return " ".join(words)

    def word(w: str, first: bool) -> str:
        fixed = _FIXED_WORDS.get(w.casefold())
        if fixed is not None and not (first and fixed.islower()):
            return fixed
        return "-".join(part[:1].upper() + part[1:].lower() for part in w.split("-"))

    return " ".join(word(w, i == 0) for i, w in enumerate(words))


@dataclass
class RowProblem:
    """A row of the file that was not imported, and why."""

    line: int
    code: str
    reason: str
    cells: list[str] = field(default_factory=list)  # the row as the file gave it


@dataclass
class OdsImportResult:
    """What an import of an ODS file did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    skipped_closed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    rejects_id: int | None = None  # the kept CSV of the rejected rows (see ``rejects_csv``)

    @property
    def rows_read(self) -> int:
        """Rows imported, unchanged or skipped, good or bad."""
        return (
            self.created
            + self.updated
            + self.unchanged
            + self.closed
            + self.skipped_closed
            + len(self.problems)
        )

    def summary(self) -> str:
        """One sentence for the admin."""
        text = (
            f"{self.created:,} added to the register, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged"
        )
        if self.closed:
            text += f", {self.closed:,} marked closed"
        if self.skipped_closed:
            text += f", {self.skipped_closed:,} closed and not added"
        if self.problems:
            text += f"; {len(self.problems):,} row{'s' if len(self.problems) != 1 else ''} not "
            text += "imported (see below)"
        return text + "."


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("The file is not text (UTF-8 or Windows-1252).", field="file")


def _close_date(value: str) -> date | str | None:
    """The close date (YYYYMMDD), None when blank, or a problem as text."""
    value = value.strip()
    if not value:
        return None
    if len(value) == 8 and value.isdigit():
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
    return f"The close date '{value[:20]}' is not a date written YYYYMMDD."


def _row_fields(row: list[str], line: int) -> tuple[str, str, str | None, date | None] | RowProblem:
    code = (row[0] if row else "").strip().upper()
    if len(row) < MIN_COLUMNS:
        return RowProblem(line, code[:10], "The row has no name (the second column).")
    problem = service.ods_code_problem(code)
    if problem:
        return RowProblem(line, code[:10], problem)
    name = tidy_name(row[1])
    problem = text_rules.text_problem(
        name,
        label="name",
        maximum=text_rules.column_length(Organisation, "name"),
        required=True,
        one_line=True,
    )
    if problem:
        return RowProblem(line, code, problem)
    grouping = row[2].strip().upper() if len(row) > 2 else ""
    region = NATIONAL_GROUPINGS.get(grouping)
    closed = _close_date(row[CLOSE_DATE_COLUMN]) if len(row) > CLOSE_DATE_COLUMN else None
    if isinstance(closed, str):
        return RowProblem(line, code, closed)
    return code, name, region, closed


def _check_type(type: str) -> None:
    if type != DERIVE and type not in ORGANISATION_TYPES:
        raise Invalid(
            f"'{type[:40]}' is not an organisation type: choose one of "
            f"{', '.join(ORGANISATION_TYPES)}, or {DERIVE}.",
            field="type",
        )


def import_ods(
    *, session: Session, admin: Member | None, data: bytes | str, type: str = DERIVE
) -> OdsImportResult:
    """Import an ODS CSV file into the register (admins only); audited with the counts."""
    admin = console.require_admin(session=session, member=admin)
    return _import(session, actor=admin, data=data, type=type)


def import_ods_as_system(
    *, session: Session, data: bytes | str, type: str = DERIVE
) -> OdsImportResult:
    """The same import from the command line or the demo (the actor is the system)."""
    return _import(session, actor=None, data=data, type=type)


def _import(
    session: Session, *, actor: Member | None, data: bytes | str, type: str
) -> OdsImportResult:
    _check_type(type)
    if len(data) > MAX_FILE_BYTES:
        raise Invalid("The file is larger than 5 MB: split it and import each part.", field="file")
    text = _decode(data)
    if "\x00" in text:
        raise Invalid("The file is not a CSV file (it holds a null character).", field="file")
    result = OdsImportResult()
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise Invalid(f"The file is not a readable CSV file: {error}.", field="file") from error
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise Invalid("The file has no rows.", field="file")
    if len(rows) > MAX_ROWS:
        raise Invalid(f"The file has more than {MAX_ROWS:,} rows: split it.", field="file")
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue
        if line == 1 and row and row[0].strip().casefold() in ("organisation code", "code"):
            continue  # a header row someone added: the ODS files have none
        fields = _row_fields(row, line)
        if isinstance(fields, RowProblem):
            problem: RowProblem | None = fields
        elif fields[0] in seen:
            code = fields[0]
            problem = RowProblem(line, code, f"The code {code} is on line {seen[code]} already.")
        else:
            seen[fields[0]] = line
            problem = _apply(session, result, line, *fields, type=type)
        if problem is not None:
            problem.cells = row
            result.problems.append(problem)
    if result.problems:
        kept = OdsImportRejects(
            rejected_rows=len(result.problems), rejects_csv=_write_rejects(result.problems)
        )
        session.add(kept)
        session.flush()
        result.rejects_id = kept.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=audit.actions.ORGANISATIONS_IMPORTED,
        details={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "closed": result.closed,
            "skipped_closed": result.skipped_closed,
            "problems": len(result.problems),
        },
    )
    return result


# The ODS columns the rejects file names (1-based); the others are "Column N".
_REJECT_HEADINGS = {1: "Organisation code", 2: "Name", 3: "National grouping", 12: "Close date"}


# What no text column may hold (backend/text.py): a rejected row may be rejected for holding it.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _shown(cell: str) -> str:
    """``cell`` with each control or broken character as U+FFFD, so the file can be kept and
    the admin sees where it was."""
    return _UNSTORABLE.sub("\ufffd", cell)


def _write_rejects(problems: list[RowProblem]) -> str:
    """The rejected rows as CSV: each row's own cells (so the file can be fixed and imported
    again: a first cell "Organisation code" marks the heading row the import skips), then its
    line and its problem past the columns the import reads. Formula cells are neutralised."""
    width = max(CLOSE_DATE_COLUMN + 1, *(len(p.cells) for p in problems))
    out = io.StringIO()
    writer = safe_writer(out)
    headings = [_REJECT_HEADINGS.get(n, f"Column {n}") for n in range(1, width + 1)]
    writer.writerow([*headings, "Line", "Problem"])
    for problem in problems:
        cells = problem.cells + [""] * (width - len(problem.cells))
        writer.writerow([*map(_shown, cells), problem.line, _shown(problem.reason)])
    return out.getvalue()


def rejects_csv(*, session: Session, admin: Member | None, rejects_id: int) -> str:
    """An ODS import's rejected rows, each with its line and problem, as CSV (admins only);
    the download is recorded in the audit log."""
    admin = console.require_admin(session=session, member=admin)
    kept = session.get(OdsImportRejects, rejects_id) if 0 < rejects_id <= MAX_ID else None
    if kept is None:
        raise NotFound("There are no rejected rows of that import.")
    audit.record(
        session,
        actor=admin,
        action=audit.actions.IMPORT_REJECTS_EXPORTED,
        subject=audit.subject("organisation_import", kept.id),
        details={"rows": kept.rejected_rows},
    )
    return kept.rejects_csv


def _apply(
    session: Session,
    result: OdsImportResult,
    line: int,
    code: str,
    name: str,
    region: str | None,
    closed: date | None,
    *,
    type: str,
) -> RowProblem | None:
    """Add or update one register row; a problem when it clashes with another organisation."""
    key = service.organisation_key(name)
    by_code = session.exec(select(Organisation).where(Organisation.ods_code == code)).first()
    by_name = session.exec(select(Organisation).where(Organisation.key == key)).first()
    row = by_code
    if row is None:
        if by_name is not None and by_name.ods_code is not None:
            return RowProblem(
                line, code, f"The name '{name}' is already the register's {by_name.ods_code}."
            )
        if by_name is not None and by_name.merged_into_id is not None:
            return RowProblem(
                line, code, f"'{name}' was merged into another organisation; map it there."
            )
        row = by_name
    elif by_name is not None and by_name.id != row.id:
        return RowProblem(
            line, code, f"Another organisation is called '{name}': merge the two first."
        )
    if row is None:
        if closed is not None:
            result.skipped_closed += 1
            return None
        session.add(
            Organisation(
                name=name,
                key=key,
                ods_code=code,
                status="register",
                type=service.guess_type(name) if type == DERIVE else type,
                region=region,
            )
        )
        session.flush()
        result.created += 1
        return None
    before = (row.name, row.ods_code, row.status, row.region, row.closed_on, row.type)
    row.name, row.key, row.ods_code, row.status = name, key, code, "register"
    row.region = region or row.region
    row.closed_on = closed
    if type != DERIVE:
        row.type = type
    elif row.type == "other":
        row.type = service.guess_type(name)
    after = (row.name, row.ods_code, row.status, row.region, row.closed_on, row.type)
    if before == after:
        result.unchanged += 1
    elif closed is not None and before[4] is None:
        result.closed += 1
    else:
        result.updated += 1
    session.add(row)
    session.flush()
    return None


# Finding --------------------------------------------------------------------------------------

STATUS_FILTERS = ("", "register", "other", "closed")


@dataclass
class OrganisationRow:
    """An organisation as the admin's list shows it."""

    organisation: Organisation
    members: int


def _member_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.exec(
        select(Member.organisation_id, func.count())
        .where(col(Member.organisation_id).in_(ids))
        .group_by(col(Member.organisation_id))
    ).all()
    return {organisation_id: count for organisation_id, count in rows}


def find_organisations(
    *,
    session: Session,
    admin: Member | None,
    search: str = "",
    status: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> tuple[list[OrganisationRow], bool]:
    """A page of organisations (not aliases) by name: part of the name or the ODS code, and
    "register", "other" (waiting to be mapped) or "closed"; each with its member count."""
    console.require_admin(session=session, member=admin)
    if len(search or "") > MAX_SEARCH:
        raise Invalid(f"Search for at most {MAX_SEARCH} characters.", field="search")
    if status not in STATUS_FILTERS:
        raise Invalid("Choose register, other or closed.", field="status")
    if not 0 <= offset <= 1_000_000:
        raise Invalid("That page is out of range.", field="page")
    statement = (
        select(Organisation)
        .where(col(Organisation.merged_into_id).is_(None))
        .order_by(col(Organisation.name), col(Organisation.id))
    )
    if status == "closed":
        statement = statement.where(col(Organisation.closed_on).is_not(None))
    elif status:
        statement = statement.where(Organisation.status == status)
    folded = service.organisation_key(search or "")
    if folded:
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(
            col(Organisation.key).like(f"%{escaped}%", escape="\\")
            | (col(Organisation.ods_code) == folded.upper())
        )
    rows = list(session.exec(statement.offset(offset).limit(limit + 1)).all())
    shown = rows[:limit]
    counts = _member_counts(session, [r.id for r in shown])
    return [OrganisationRow(r, counts.get(r.id, 0)) for r in shown], len(rows) > limit


def organisation_row(
    *, session: Session, admin: Member | None, organisation_id: int
) -> OrganisationRow:
    """One organisation with its member count (admins only)."""
    console.require_admin(session=session, member=admin)
    organisation = _organisation(session, organisation_id)
    return OrganisationRow(
        organisation, _member_counts(session, [organisation.id]).get(organisation.id, 0)
    )


def _organisation(
    session: Session, organisation_id: int, field: str = "organisation_id"
) -> Organisation:
    found = session.get(Organisation, organisation_id) if 0 < organisation_id <= MAX_ID else None
    if found is None:
        raise NotFound("No organisation with that id.", field=field)
    return found


# Changing -------------------------------------------------------------------------------------


def update_organisation(
    *,
    session: Session,
    admin: Member | None,
    organisation_id: int,
    type: str | None = None,
    region: str | None = None,
    clear_region: bool = False,
    ods_code: str | None = None,
    add_to_register: bool = False,
) -> Organisation:
    """Change an organisation's type, region or ODS code (blank: none), or add an "other"
    organisation to the register as it is; audited with what changed."""
    admin = console.require_admin(session=session, member=admin)
    organisation = _organisation(session, organisation_id)
    if organisation.merged_into_id is not None:
        raise Conflict("This organisation was merged into another: change that one instead.")
    changed: list[str] = []
    if type is not None and type != organisation.type:
        if type not in ORGANISATION_TYPES:
            raise Invalid("Choose one of the organisation types.", field="type")
        organisation.type = type
        changed.append("type")
    if clear_region and organisation.region is not None:
        organisation.region = None
        changed.append("region")
    elif region is not None and region != organisation.region:
        if region not in REGIONS:
            raise Invalid("Choose one of the seven NHS England regions.", field="region")
        organisation.region = region
        changed.append("region")
    if ods_code is not None:
        code = ods_code.strip().upper() or None
        if code is not None:
            problem = service.ods_code_problem(code)
            if problem:
                raise Invalid(problem, field="ods_code")
            holder = session.exec(
                select(Organisation.id).where(Organisation.ods_code == code)
            ).first()
            if holder is not None and holder != organisation.id:
                raise Conflict(f"Another organisation has the ODS code {code}.")
        if code != organisation.ods_code:
            organisation.ods_code = code
            changed.append("ods_code")
    if add_to_register and organisation.status != "register":
        organisation.status = "register"
        changed.append("status")
    if not changed:
        return organisation
    session.add(organisation)
    if "type" in changed:
        network_changed(session=session)  # the matcher and the insights read the type
    session.flush()
    audit.record(
        session,
        actor=admin,
        action=audit.actions.ORGANISATION_UPDATED,
        subject=audit.Subject("organisation", organisation.id),
        details={name: True for name in changed},
    )
    return organisation


def _references() -> list[tuple[Table, str]]:
    """Every (table, column) with a foreign key to ``organisation.id``, but the alias link."""
    found: list[tuple[Table, str]] = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "organisation" and fk.column.name == "id":
                if table.name == "organisation":
                    continue
                found.append((table, fk.parent.name))
    return found


@dataclass
class MergeResult:
    """What a merge moved: rows per referencing table and column."""

    merged: Organisation
    into: Organisation
    moved: Counter[str]

    @property
    def members(self) -> int:
        """Members who now belong to the survivor."""
        return self.moved.get("member.organisation_id", 0)


def merge(
    *, session: Session, admin: Member | None, organisation_id: int, into_id: int
) -> MergeResult:
    """Map (an "other") or merge (a duplicate) organisation ``organisation_id`` into the
    register's organisation ``into_id``: every reference moves in this one transaction, the
    merged row stays as an alias (see the module's docstring), audited with the counts."""
    admin = console.require_admin(session=session, member=admin)
    merged = _organisation(session, organisation_id)
    into = _organisation(session, into_id, field="into_id")
    if merged.id == into.id:
        raise Invalid("Choose another organisation to merge it into.", field="into_id")
    if merged.merged_into_id is not None:
        raise Conflict("This organisation is already merged into another.")
    if into.merged_into_id is not None:
        raise Invalid(
            "That organisation was itself merged into another: choose the one it leads to.",
            field="into_id",
        )
    if into.status != "register":
        raise Invalid(
            "Merge into an organisation of the register: add it to the register first.",
            field="into_id",
        )
    moved: Counter[str] = Counter()
    for table, column in _references():
        outcome = session.exec(
            update(table)
            .where(table.c[column] == merged.id)
            .values({column: into.id})
            .execution_options(synchronize_session=False)
        )
        if outcome.rowcount:
            moved[f"{table.name}.{column}"] += outcome.rowcount
    # Aliases of the merged row now lead straight to the survivor.
    aliases = session.exec(
        update(Organisation)
        .where(col(Organisation.merged_into_id) == merged.id)
        .values(merged_into_id=into.id)
        .execution_options(synchronize_session=False)
    )
    merged.merged_into_id = into.id
    session.add(merged)
    if into.region is None and merged.region is not None:
        into.region = merged.region
        session.add(into)
    network_changed(session=session)  # members' organisations changed: the matcher's rules
    session.flush()
    session.expire_all()
    details: dict[str, Detail] = {
        "into": into.id,
        "members": moved.get("member.organisation_id", 0),
        "references": sum(moved.values()),
        "aliases": aliases.rowcount or 0,
    }
    audit.record(
        session,
        actor=admin,
        action=audit.actions.ORGANISATION_MERGED,
        subject=audit.Subject("organisation", merged.id),
        details=details,
    )
    return MergeResult(
        merged=_organisation(session, organisation_id),
        into=_organisation(session, into_id),
        moved=moved,
    )
