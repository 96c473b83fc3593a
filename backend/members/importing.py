"""Import members from the members CSV (docs/members-csv.md): all-or-nothing or partial.

The file is parsed and checked by ``members_csv``; this module adds the checks only the
database can make, then writes the members, their skills, mentoring offers, line managers and
invitations in one transaction.

Re-importing is safe: a row whose ``member_id`` (or, for a member who joined by themselves,
whose email) is already known updates that member's profile instead of adding a second one.
Updates never touch passwords, roles, verification, bios or job titles; an empty optional cell
(goals, skills) leaves what is stored, while ``line_manager_id`` always follows the file so that
line-management chains stay whole.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import audit
from backend.accounts import service as account_service
from backend.db import get_engine, session_factory, session_scope, utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members import validation as v
from backend.members.import_models import MemberImport
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.organisations import service as organisation_service
from backend.organisations.models import Organisation
from backend.privacy import service as privacy_service
from backend.settings import get_settings
from backend.skills import service as skill_service
from members_csv import (
    MemberRecord,
    ParsedMembers,
    RowError,
    parse_members_csv,
    write_rejects_csv,
)

log = logging.getLogger("peerbridge.imports")
ImportMode = Literal["all-or-nothing", "partial"]
MODES: tuple[str, ...] = ("all-or-nothing", "partial")
# Bind parameters per IN (...) query: well under SQLite's and PostgreSQL's limits.
_CHUNK = 2000

# Profile fields a row always sets (the required columns of the format).
_PROFILE_FIELDS: tuple[str, ...] = (
    "name",
    "region",
    "role_family",
    "band",
    "profession",
    "management_years",
    "seeking_mentor",
    "meeting_format",
    "outside_organisation_only",
    "priority_access",
)


@dataclass
class ImportResult:
    """What an import did: counts, every problem (line, column, reason) and the rejects file."""

    mode: str
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejects_csv: str | None = None
    rejected_rows: int = 0
    invitations: int = 0
    organisations_created: int = 0
    # The database id of every member written, and whether their row seeks a mentor: what a
    # round's CSV cohort is made of, so the file is never parsed a second time.
    members_written: dict[int, bool] = field(default_factory=dict)
    # Diversity answers stored, and rows whose answers were not used (the row itself was
    # imported): the member has an account or withdrew, so only they may answer.
    demographics_stored: int = 0
    demographics_skipped: int = 0
    notes: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        """Members created or updated."""
        return self.created + self.updated

    @property
    def ok(self) -> bool:
        """True when every row was imported."""
        return not self.errors

    def summary(self) -> str:
        """One or two sentences for the organiser."""
        problems = f"{len(self.errors):,} problem{'s' if len(self.errors) != 1 else ''}"
        rows = f"{self.rejected_rows:,} row{'s' if self.rejected_rows != 1 else ''}"
        if self.errors and self.mode == "all-or-nothing":
            # A problem with the file itself (its header, say) belongs to no row.
            where = f" in {rows}" if self.rejected_rows else ""
            return (
                f"Nothing was imported: the file has {problems}{where}. Fix them and import "
                "the file again, or import only the valid rows."
            )
        text = (
            f"Imported {self.imported:,} member{'s' if self.imported != 1 else ''}: "
            f"{self.created:,} new, {self.updated:,} updated"
        )
        if self.organisations_created:
            plural = "s" if self.organisations_created != 1 else ""
            text += f", {self.organisations_created:,} new organisation{plural}"
        text += f"; {self.invitations:,} invitation{'s' if self.invitations != 1 else ''} queued."
        if self.demographics_skipped:
            skipped = self.demographics_skipped
            rows_skipped = f"{skipped:,} row{'s' if skipped != 1 else ''}"
            text += (
                f" Diversity answers on {rows_skipped} were not used: "
                f"{'those members have' if skipped != 1 else 'that member has'} an account or "
                "withdrew consent, so only they can give or change their answers."
            )
        if self.errors and self.rejected_rows:
            text += (
                f" {rows.capitalize()} not imported ({problems}); the rejects file lists them "
                "with the reasons."
            )
        elif self.errors:
            text += f" The file has {problems}; the list below says what."
        return text


@dataclass(slots=True)
class _Plan:
    """The rows that passed every check, with the existing member each one updates (if any)."""

    record: MemberRecord
    email: str
    existing: Member | None


def import_members(
    *,
    session: Session,
    data: bytes,
    mode: ImportMode = "all-or-nothing",
    invited_by: str,
    send_invitations: bool = True,
    actor: Member | None = None,
) -> ImportResult:
    """Import a members CSV; problems come back as row errors, and the import commits."""
    if actor is not None:
        member_service.require_organiser(session=session, member=actor)
    if mode not in MODES:
        raise Invalid(f"Import mode must be one of: {', '.join(MODES)}.", field="mode")

    parsed = parse_members_csv(
        data,
        known_skills=skill_service.choosable_ids(session=session),
        retired_skills=skill_service.retired_names(session=session),
        max_bytes=get_settings().max_import_bytes,
    )
    plans, database_errors = _check_against_database(session, parsed.records)
    # Stable: the parser's order within a line stays as it is.
    errors = sorted([*parsed.errors, *database_errors], key=lambda error: error.line)
    result = ImportResult(mode=mode, errors=errors)
    if errors:
        result.rejected_rows, result.rejects_csv = _rejects(parsed, errors, database_errors)
        if mode == "all-or-nothing":
            return result
    if not plans:
        return result

    try:
        with session.begin_nested():
            _write(session, plans, result, invited_by=invited_by, invite=send_invitations)
            _write_demographics(session, plans, actor, result)
    except IntegrityError as error:
        # Someone else added a member with one of these emails or ids while we were checking.
        raise Conflict(
            "Members changed while the file was being imported, so nothing was imported. "
            "Import the file again."
        ) from error
    network_changed(session=session)  # the matcher's view of the network moved
    _audit_import(session, actor_id=actor.id if actor else None, import_id=None, totals=result)
    return result


def _audit_import(
    session: Session, *, actor_id: int | None, import_id: int | None, totals: ImportResult
) -> None:
    """The import's event in the audit log, with its counts (``None`` actor: the CLI)."""
    audit.record(
        session,
        actor=actor_id,
        action=audit.actions.MEMBERS_IMPORTED,
        subject=audit.subject("import", import_id) if import_id is not None else None,
        details={
            "mode": totals.mode,
            "created": totals.created,
            "updated": totals.updated,
            "rejected": totals.rejected_rows,
            "errors": len(totals.errors),
            "invitations": totals.invitations,
            "organisations_created": totals.organisations_created,
        },
    )


# Checks against the database -------------------------------------------------------------------


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _existing_members(
    session: Session, *, emails: Sequence[str], member_ids: Sequence[str]
) -> list[Member]:
    found: dict[int, Member] = {}
    for email_chunk, id_chunk in zip(_chunks(emails), _chunks(member_ids), strict=True):
        rows = session.exec(
            select(Member).where(
                or_(col(Member.email).in_(email_chunk), col(Member.external_id).in_(id_chunk))
            )
        ).all()
        found.update({row.id: row for row in rows if row.id is not None})
    return list(found.values())


def _check_against_database(
    session: Session, records: Sequence[MemberRecord]
) -> tuple[list[_Plan], list[RowError]]:
    """Match rows to existing members; report rows the database cannot take."""
    errors: list[RowError] = []
    normalised: list[tuple[MemberRecord, str]] = []
    for record in records:
        # The parser validated every address; plain ASCII ones are already in stored form, and
        # only the rest (quoted or international) need email-validator's normalisation.
        plain = record.email.isascii() and '"' not in record.email
        email, problem = (record.email, None) if plain else v.normalise_email(record.email)
        if problem or email is None:
            errors.append(RowError(record.line, "email", f"'{record.email[:60]}': {problem}"))
        else:
            normalised.append((record, email))

    existing = _existing_members(
        session,
        emails=[email for _, email in normalised],
        member_ids=[record.member_id for record, _ in normalised],
    )
    by_email = {member.email: member for member in existing}
    by_external_id = {member.external_id: member for member in existing if member.external_id}

    plans: dict[str, _Plan] = {}
    for record, email in normalised:
        same_id = by_external_id.get(record.member_id)
        same_email = by_email.get(email)
        reason: tuple[str, str] | None = None
        if same_id is not None and same_id.email != email:
            reason = (
                "member_id",
                f"'{record.member_id}' already belongs to a member with a different email "
                "address; an import cannot change a member's email, so use their current "
                "address or a new member_id",
            )
        elif same_email is not None and same_email.external_id not in (None, record.member_id):
            reason = (
                "email",
                f"'{email}' already belongs to the member imported as "
                f"'{same_email.external_id}'; use that member_id to update them",
            )
        elif same_email is not None and not same_email.is_active:
            reason = ("email", f"'{email}' belongs to a closed account, which cannot be imported")
        if reason is not None:
            errors.append(RowError(record.line, *reason))
        else:
            plans[record.member_id] = _Plan(record=record, email=email, existing=same_email)

    # Capacity may not drop below the mentees a mentor already has (the database refuses it).
    existing_ids = {plan.existing.id: key for key, plan in plans.items() if plan.existing}
    if existing_ids:
        busy = session.exec(
            select(MentoringOffer.member_id, MentoringOffer.active_mentees)
            .where(col(MentoringOffer.member_id).in_(list(existing_ids)))
            .where(MentoringOffer.active_mentees > 0)
        ).all()
        for member_id, active in busy:
            key = existing_ids[member_id]
            plan = plans[key]
            if plan.record.mentor_capacity < active:
                errors.append(
                    RowError(
                        plan.record.line,
                        "mentor_capacity",
                        f"{plan.record.mentor_capacity} is below the {active} mentees this "
                        f"member mentors now; use {active} or more",
                    )
                )
                del plans[key]

    # A line manager's row that cannot be imported takes its reports with it, as the parser
    # does for rows it rejects: a chain must arrive whole.
    rejected = {record.member_id for record in records} - set(plans)
    while rejected:
        newly: set[str] = set()
        for external_id, plan in list(plans.items()):
            manager_id = plan.record.line_manager_id
            if manager_id in rejected:
                line = next(r.line for r in records if r.member_id == manager_id)
                errors.append(
                    RowError(
                        plan.record.line,
                        "line_manager_id",
                        f"the line manager '{manager_id}' (line {line}) cannot be imported, so "
                        "this row cannot be imported until that row is fixed",
                    )
                )
                del plans[external_id]
                newly.add(external_id)
        rejected = newly
    return list(plans.values()), errors


# Writing ---------------------------------------------------------------------------------------


def _organisation_ids(
    session: Session, plans: Sequence[_Plan], result: ImportResult
) -> dict[str, int]:
    """Organisation ids by the folded ``organisation`` cell: a name, or the ODS code of an
    organisation of the register. Names an admin merged lead to the survivor. A name the
    register does not know is added as an "other" organisation (with the region of its first
    row) for an admin to map, and noted when there is a register; the row is imported."""
    first: dict[str, MemberRecord] = {}
    for plan in plans:
        key = organisation_service.organisation_key(plan.record.organisation)
        first.setdefault(key, plan.record)
    ids: dict[str, int] = {}
    keys = list(first)
    merged: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = session.exec(select(Organisation).where(col(Organisation.key).in_(chunk))).all()
        for row in rows:
            if row.merged_into_id is not None:
                merged[row.key] = row.id
            else:
                ids[row.key] = row.id
        codes = {key.upper(): key for key in chunk if key not in ids and key not in merged}
        coded = session.exec(
            select(Organisation).where(col(Organisation.ods_code).in_(list(codes)))
        ).all()
        for row in coded:
            if row.ods_code is None:
                continue
            if row.merged_into_id is not None:
                merged[codes[row.ods_code]] = row.id
            else:
                ids[codes[row.ods_code]] = row.id
    for key, organisation_id in merged.items():
        found = organisation_service.survivor(
            session=session,
            organisation=organisation_service.get(session=session, organisation_id=organisation_id),
        )
        ids[key] = found.id
    # Noted only where a register has been loaded: without one every name is "other".
    has_register = (
        session.exec(select(Organisation.id).where(Organisation.status == "register")).first()
        is not None
    )
    for key in keys:
        if key not in ids:
            record = first[key]
            organisation = organisation_service.get_or_create(
                session=session,
                name=record.organisation,
                type=organisation_service.guess_type(record.organisation),
                region=record.region,
            )
            ids[key] = organisation.id
            result.organisations_created += 1
            if has_register:
                result.notes.append(
                    RowError(
                        record.line,
                        "organisation",
                        f"'{record.organisation}' is not in the organisation register: added "
                        "as another organisation for an admin to match to the register.",
                    )
                )
    return ids


def _new_member_defaults() -> dict[str, object]:
    """Every column's default for a new member, taken from the model itself."""
    template = Member(
        email="x@example.invalid",
        name="x",
        organisation_id=0,
        region="",
        role_family="",
        band="",
        profession="",
    )
    return template.model_dump(exclude={"id"})


def _write(
    session: Session,
    plans: Sequence[_Plan],
    result: ImportResult,
    *,
    invited_by: str,
    invite: bool,
) -> None:
    """Write every planned row: bulk statements, a handful per thousand rows."""
    organisations = _organisation_ids(session, plans, result)
    now = utcnow()
    defaults = _new_member_defaults()
    ids: dict[str, int] = {
        plan.record.member_id: plan.existing.id for plan in plans if plan.existing is not None
    }
    # Line managers written before (an earlier chunk of a big import) are in the database.
    here = {plan.record.member_id for plan in plans}
    elsewhere = sorted(
        {plan.record.line_manager_id for plan in plans if plan.record.line_manager_id} - here
    )
    if elsewhere:
        ids.update(_ids_by_external_id(session, elsewhere))
    # New members go in by level of the line-management chain (managers first), so each row
    # carries its manager's id and needs no second statement. The parser refuses circles.
    pending = [plan for plan in plans if plan.existing is None]
    created: list[int] = []
    while pending:
        ready = [
            p for p in pending if not p.record.line_manager_id or p.record.line_manager_id in ids
        ]
        if not ready:
            raise Conflict("The line managers in the file go round in a circle.")
        rows = [
            {
                **defaults,
                **_profile(plan.record, organisations),
                "email": plan.email,
                "external_id": plan.record.member_id,
                "password_hash": None,
                "email_verified_at": None,
                "goals": plan.record.goals,
                "line_manager_id": ids.get(plan.record.line_manager_id or ""),
                "created_at": now,
                "updated_at": now,
            }
            for plan in ready
        ]
        # A plain executemany, then one SELECT for the new ids: psycopg converts a statement's
        # placeholders once for a whole executemany, but anew for every multi-row VALUES batch.
        session.execute(insert(Member), rows)
        new_ids = _ids_by_external_id(session, [plan.record.member_id for plan in ready])
        ids.update(new_ids)
        created.extend(new_ids.values())
        done = {plan.record.member_id for plan in ready}
        pending = [plan for plan in pending if plan.record.member_id not in done]
    result.members_written = {
        ids[plan.record.member_id]: bool(plan.record.seeking_mentor) for plan in plans
    }

    # Existing members: profile and line manager (every id is known now), in one executemany.
    updates: list[dict[str, object]] = []
    for plan in plans:
        record = plan.record
        if plan.existing is None:
            continue
        manager = ids[record.line_manager_id] if record.line_manager_id else None
        values = {
            "id": plan.existing.id,
            **_profile(record, organisations),
            "external_id": record.member_id,
            "line_manager_id": manager,
            "updated_at": now,
        }
        if record.goals:
            values["goals"] = record.goals
        updates.append(values)
    if updates:
        session.execute(update(Member), updates)
    for plan in plans:
        if plan.existing is not None:
            session.expire(plan.existing)

    _write_skills(session, plans, ids)
    _write_offers(session, plans, ids)
    result.created = len(created)
    result.updated = len(plans) - len(created)
    if invite:
        for member in _members_by_id(session, created):
            account_service.send_invitation(session=session, member=member, invited_by=invited_by)
            result.invitations += 1
    session.flush()


def _profile(record: MemberRecord, organisations: dict[str, int]) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(record, name) for name in _PROFILE_FIELDS}
    values["organisation_id"] = organisations[
        organisation_service.organisation_key(record.organisation)
    ]
    return values


def _ids_by_external_id(session: Session, member_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(member_ids):
        rows = session.exec(
            select(col(Member.external_id), col(Member.id)).where(
                col(Member.external_id).in_(chunk)
            )
        ).all()
        found.update({external_id: member_id for external_id, member_id in rows if external_id})
    return found


def _members_by_id(session: Session, member_ids: Sequence[int]) -> list[Member]:
    found: list[Member] = []
    for start in range(0, len(member_ids), _CHUNK):
        chunk = member_ids[start : start + _CHUNK]
        found.extend(
            session.exec(
                select(Member).where(col(Member.id).in_(chunk)).order_by(col(Member.id))
            ).all()
        )
    return found


def _write_skills(session: Session, plans: Sequence[_Plan], ids: dict[str, int]) -> None:
    """Replace a member's sought or offered skills where the row lists some."""
    rows: list[dict[str, object]] = []
    for kind in ("sought", "offered"):
        replaced: list[int] = []
        for plan in plans:
            skills = plan.record.skills_sought if kind == "sought" else plan.record.skills_offered
            if not skills:
                continue
            member_id = ids[plan.record.member_id]
            if plan.existing is not None:
                replaced.append(member_id)
            rows.extend({"member_id": member_id, "skill_id": s, "kind": kind} for s in skills)
        for start in range(0, len(replaced), _CHUNK):
            session.execute(
                delete(MemberSkill).where(
                    col(MemberSkill.kind) == kind,
                    col(MemberSkill.member_id).in_(replaced[start : start + _CHUNK]),
                )
            )
    if rows:
        session.execute(insert(MemberSkill), rows)


def _write_offers(session: Session, plans: Sequence[_Plan], ids: dict[str, int]) -> None:
    """Set each member's mentoring capacity (0 = not offering); a pause set by them stays."""
    existing_ids = [ids[plan.record.member_id] for plan in plans if plan.existing is not None]
    capacities: dict[int, int] = {}
    for start in range(0, len(existing_ids), _CHUNK):
        rows = session.exec(
            select(MentoringOffer.member_id, MentoringOffer.capacity).where(
                col(MentoringOffer.member_id).in_(existing_ids[start : start + _CHUNK])
            )
        ).all()
        capacities.update(dict(rows))
    now = utcnow()
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for plan in plans:
        member_id = ids[plan.record.member_id]
        capacity = plan.record.mentor_capacity
        if member_id in capacities:
            if capacities[member_id] != capacity:
                updates.append({"member_id": member_id, "capacity": capacity, "updated_at": now})
        elif capacity:
            inserts.append(
                {
                    "member_id": member_id,
                    "capacity": capacity,
                    "paused": False,
                    "note": "",
                    "updated_at": now,
                }
            )
    if inserts:
        session.execute(insert(MentoringOffer), inserts)
    if updates:
        session.execute(update(MentoringOffer), updates)


def _write_demographics(
    session: Session, plans: Sequence[_Plan], actor: Member | None, result: ImportResult
) -> None:
    """Store diversity answers only for rows whose ``demographics_consent`` is yes, and only
    where the privacy service allows (never for a member with an account): a row whose answers
    are not used is still imported, with a note saying why."""
    consenting = [plan for plan in plans if plan.record.demographics_consent]
    if not consenting:
        return
    ids = _ids_by_external_id(session, [plan.record.member_id for plan in consenting])
    outcome = privacy_service.record_imported_many(
        session=session,
        answers={
            ids[plan.record.member_id]: privacy_service.DemographicAnswers(
                ethnicity=plan.record.ethnicity,
                gender=plan.record.gender,
                disability=plan.record.disability,
                age_band=plan.record.age_band,
            )
            for plan in consenting
        },
        organiser_id=actor.id if actor is not None else None,
    )
    result.demographics_stored += outcome.stored
    result.demographics_skipped += len(outcome.skipped)
    for plan in consenting:
        reason = outcome.skipped.get(ids[plan.record.member_id])
        if reason is not None:
            result.notes.append(RowError(plan.record.line, "demographics_consent", reason))


# The rejects file --------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ";".join(value)
    return str(value)


def _rejects(
    parsed: ParsedMembers, errors: list[RowError], database_errors: list[RowError]
) -> tuple[int, str]:
    """How many rows are rejected and the rejects file: the parser's rejected lines, and
    the rows the database checks refused, each with every reason found for its line."""
    rejected = dict(parsed.rejected_lines)
    by_line = {record.line: record for record in parsed.records}
    for error in database_errors:
        rejected.setdefault(error.line, _cells(parsed.header, by_line.get(error.line)))
    return len(rejected), write_rejects_csv(
        ParsedMembers(errors=errors, rejected_lines=rejected, header=parsed.header),
        parsed.header or None,
    )


def _cells(header: Sequence[str], record: MemberRecord | None) -> list[str]:
    """A row the parser accepted, written back in the file's column order for the rejects file."""
    if record is None:
        return []
    names = [name.strip().removeprefix("\ufeff").strip() for name in header]
    return [_cell(getattr(record, name, None)) if name else "" for name in names]


# Imports as jobs ---------------------------------------------------------------------------------
#
# The page (and the API) store the uploaded file in ``member_import`` and return at once; a job
# (a worker with Redis, a thread otherwise) checks the whole file first, reading without
# holding SQLite's write lock, then writes it in chunks of WRITE_CHUNK rows, each chunk its own
# short transaction, so the rest of the site keeps working during a 20 MB import.
#
# All-or-nothing stays all-or-nothing for the file's content: if any row is wrong, nothing is
# written. A failure during the write (the database goes away, a member changes meanwhile)
# stops the import and says how many rows were written; running it again finishes the job,
# because every write is an upsert keyed by member_id: rows already written are updated, not
# added twice, and their invitations are not sent again.

# Rows per write transaction: the chunk size adapts so that each transaction takes about
# CHUNK_SECONDS (holding SQLite's write lock no longer than that), within these bounds.
WRITE_CHUNK = 2000
CHUNK_SECONDS = 0.5
# On SQLite, the pause after each chunk: longer than SQLite's longest wait between two tries
# for the lock (100 ms), so that a request waiting to write gets in before the next chunk.
SQLITE_YIELD_SECONDS = 0.12
_SHOWN_ERRORS = 500


def start_import(
    *,
    session: Session,
    actor: Member | None,
    data: bytes,
    mode: str,
    filename: str = "",
    send_invitations: bool = True,
) -> MemberImport:
    """Store an upload as a queued import (the caller commits, then ``enqueue_import``).

    Network organisers and admins only: a file can add or change members anywhere in the
    network, so a chapter organiser (``backend.chapters``) cannot import.
    """
    organiser = member_service.require_organiser(session=session, member=actor)
    return _store_import(
        session=session,
        created_by_id=organiser.id,
        invited_by=organiser.name,
        data=data,
        mode=mode,
        filename=filename,
        send_invitations=send_invitations,
    )


def start_command_line_import(
    *,
    session: Session,
    data: bytes,
    mode: str,
    filename: str = "",
    send_invitations: bool = True,
    invited_by: str = "A network organiser",
) -> MemberImport:
    """Store a file given to ``peerbridge import-members`` as a queued import, like an upload.

    The operator at the command line is trusted (no organiser account is needed); the import
    then runs as the same chunked job (``run_import_job``). The caller commits.
    """
    return _store_import(
        session=session,
        created_by_id=None,
        invited_by=invited_by,
        data=data,
        mode=mode,
        filename=filename,
        send_invitations=send_invitations,
    )


def _store_import(
    *,
    session: Session,
    created_by_id: int | None,
    invited_by: str,
    data: bytes,
    mode: str,
    filename: str,
    send_invitations: bool,
) -> MemberImport:
    if mode not in MODES:
        raise Invalid(f"Import mode must be one of: {', '.join(MODES)}.", field="mode")
    limit = get_settings().max_import_bytes
    if len(data) > limit:
        raise Invalid(f"The file must be {limit // (1024 * 1024)} MB or smaller.", field="file")
    member_import = MemberImport(
        created_by_id=created_by_id,
        invited_by=invited_by[:200],
        send_invitations=send_invitations,
        mode=mode,
        filename=_storable(" ".join(filename.split())[:255]) or "",
        size_bytes=len(data),
        data=data,
    )
    session.add(member_import)
    session.flush()
    return member_import


def enqueue_import(*, import_id: int, engine: Engine | None = None) -> None:
    """Hand the import to the job runner, after the transaction that stored it has committed."""
    from backend import jobs

    jobs.enqueue("backend.members.importing.run_import_job", import_id, engine=engine)


def get_import(*, session: Session, actor: Member | None, import_id: int) -> MemberImport:
    """One import (organisers only)."""
    member_service.require_organiser(session=session, member=actor)
    found = session.get(MemberImport, import_id)
    if found is None:
        raise NotFound("No such import.", field="import_id")
    return found


def rejects_file(*, session: Session, actor: Member | None, import_id: int) -> str:
    """The import's rejected rows with their reasons, as CSV to fix and import again
    (organisers only); the download is recorded in the audit log."""
    member_import = get_import(session=session, actor=actor, import_id=import_id)
    if not member_import.rejects_csv:
        raise NotFound("This import rejected no rows.")
    audit.record(
        session,
        actor=actor,
        action=audit.actions.IMPORT_REJECTS_EXPORTED,
        subject=audit.subject("import", import_id),
        details={"rows": member_import.rejected_rows},
    )
    return member_import.rejects_csv


def is_stalled(member_import: MemberImport, now: datetime | None = None) -> bool:
    """True when the import is running but its job has not beaten for too long."""
    if member_import.status != "running" or member_import.heartbeat_at is None:
        return False
    beat = member_import.heartbeat_at
    beat = beat if beat.tzinfo is not None else beat.replace(tzinfo=UTC)
    return beat < (now or utcnow()) - timedelta(seconds=get_settings().job_stale_seconds)


def import_errors(member_import: MemberImport) -> list[RowError]:
    """The first problems the import found (all of them are in the rejects file)."""
    return [
        RowError(line, column, reason) for line, column, reason in json.loads(member_import.errors)
    ]


def import_result(member_import: MemberImport) -> ImportResult:
    """The finished import as an ``ImportResult`` (its summary, counts and problems)."""
    errors = import_errors(member_import)
    result = ImportResult(
        mode=member_import.mode,
        created=member_import.created,
        updated=member_import.updated,
        errors=errors,
        rejects_csv=member_import.rejects_csv,
        rejected_rows=member_import.rejected_rows,
        invitations=member_import.invitations,
        organisations_created=member_import.organisations_created,
        demographics_stored=member_import.demographics_stored,
        demographics_skipped=member_import.demographics_skipped,
        notes=[
            RowError(line, column, reason)
            for line, column, reason in json.loads(member_import.notes or "[]")
        ],
    )
    return result


def _add_notes(session: Session, import_id: int, notes: Sequence[RowError]) -> None:
    """Keep the first notes of an import (rows imported, but not every part of them)."""
    kept = session.exec(select(MemberImport.notes).where(MemberImport.id == import_id)).one()
    shown = json.loads(kept or "[]")
    room = _SHOWN_ERRORS - len(shown)
    if room > 0:
        shown.extend([note.line, note.column, note.reason] for note in notes[:room])
        session.execute(
            update(MemberImport)
            .where(col(MemberImport.id) == import_id)
            .values(notes=json.dumps(shown))
        )


def _set(engine: Engine | None, import_id: int, attempt: int, **values: object) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(MemberImport)
            .where(col(MemberImport.id) == import_id)
            .where(col(MemberImport.attempts) == attempt)
            .values(heartbeat_at=utcnow(), **values)
        )


def run_import_job(
    import_id: int, engine: Engine | None = None, written: dict[int, bool] | None = None
) -> str:
    """Check the stored file, then write it in chunks; progress and the result go on the row.

    ``written``, when given, collects each committed member's id and whether their row seeks
    a mentor (what a round's CSV cohort is made of).
    """
    from backend import jobs

    with session_scope(engine) as session:
        claimed = session.exec(
            update(MemberImport)
            .where(col(MemberImport.id) == import_id)
            .where(col(MemberImport.status).in_(("queued", "failed")))
            .values(
                status="running",
                attempts=MemberImport.attempts + 1,
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                stage="Checking the file",
                progress=0.0,
                failure="",
            )
        ).rowcount
        if not claimed:
            return "not queued"
        attempt = session.exec(
            select(MemberImport.attempts).where(MemberImport.id == import_id)
        ).one()

    def beat() -> None:
        _set(engine, import_id, attempt)

    with jobs.heartbeat(beat):
        try:
            return _run_import(engine, import_id, attempt, written)
        except Exception as error:
            log.exception("import %s failed", import_id)
            with session_scope(engine) as session:
                rows_written = session.exec(
                    select(MemberImport.rows_written).where(MemberImport.id == import_id)
                ).one()
                session.execute(
                    update(MemberImport)
                    .where(col(MemberImport.id) == import_id)
                    .where(col(MemberImport.attempts) == attempt)
                    .values(
                        status="failed",
                        stage="Stopped",
                        finished_at=utcnow(),
                        failure=_failure_text(error, rows_written),
                    )
                )
            return "failed"


def _failure_text(error: Exception, written: int) -> str:
    what = error.message if isinstance(error, Conflict) else "The import stopped with an error."
    if not written:
        return f"{what} Nothing was written. Run the import again."
    return (
        f"{what} {written:,} rows were written before it stopped. Run the import again to "
        "finish it: it resumes after the rows already written."
    )


def _run_import(
    engine: Engine | None, import_id: int, attempt: int, written_ids: dict[int, bool] | None
) -> str:
    with _read_scope(engine) as session:
        member_import = session.get(MemberImport, import_id)
        assert member_import is not None
        # What earlier runs committed: a retry resumes after it (the order is deterministic).
        resume_after = member_import.rows_written
        data = member_import.data or b""
        mode = member_import.mode
        invited_by = member_import.invited_by
        invite = member_import.send_invitations
        actor_id = member_import.created_by_id
        known = skill_service.choosable_ids(session=session)
        retired = skill_service.retired_names(session=session)
    parsed = parse_members_csv(
        data,
        known_skills=known,
        retired_skills=retired,
        max_bytes=get_settings().max_import_bytes,
    )
    del data
    _set(engine, import_id, attempt, rows_total=len(parsed.records), progress=0.1)
    # The whole file is checked against the database before anything is written, reading
    # only: on SQLite this takes no write lock, so everyone else carries on meanwhile.
    with _read_scope(engine) as session:
        plans, database_errors = _check_against_database(session, parsed.records)
        session.expunge_all()
    errors = sorted([*parsed.errors, *database_errors], key=lambda error: error.line)
    totals = ImportResult(mode=mode, errors=errors)
    if errors:
        totals.rejected_rows, totals.rejects_csv = _rejects(parsed, errors, database_errors)
    del parsed
    if errors and mode == "all-or-nothing":
        plans = []
    ordered = _managers_first(plans)
    del plans
    written = min(resume_after, len(ordered))
    _set(
        engine,
        import_id,
        attempt,
        stage="Writing members" if ordered else "Finishing",
        progress=0.3 + 0.7 * written / len(ordered) if ordered else 0.3,
        rows_total=len(ordered),
        rows_written=written,
    )
    size, smallest = min(200, WRITE_CHUNK), min(50, WRITE_CHUNK)
    while written < len(ordered):
        chunk = ordered[written : written + size]
        chunk_result = ImportResult(mode=mode)
        began = time.monotonic()
        with session_scope(engine) as session:
            # Checked again inside the chunk's own transaction: members may have changed.
            fresh, problems = _check_against_database(session, [plan.record for plan in chunk])
            fresh, orphans = _with_known_managers(session, fresh)
            problems.extend(orphans)
            if problems and mode == "all-or-nothing":
                first = min(problems, key=lambda error: error.line)
                raise Conflict(f"Members changed while the file was being imported ({first}).")
            totals.errors.extend(problems)
            actor = session.get(Member, actor_id) if actor_id is not None else None
            if fresh:
                _write(session, fresh, chunk_result, invited_by=invited_by, invite=invite)
                _write_demographics(session, fresh, actor, chunk_result)
            written += len(chunk)
            session.execute(
                update(MemberImport)
                .where(col(MemberImport.id) == import_id)
                .where(col(MemberImport.attempts) == attempt)
                .values(
                    rows_written=written,
                    progress=min(0.3 + 0.7 * written / len(ordered), 1.0),
                    heartbeat_at=utcnow(),
                    created=MemberImport.created + chunk_result.created,
                    updated=MemberImport.updated + chunk_result.updated,
                    invitations=MemberImport.invitations + chunk_result.invitations,
                    organisations_created=MemberImport.organisations_created
                    + chunk_result.organisations_created,
                    demographics_stored=MemberImport.demographics_stored
                    + chunk_result.demographics_stored,
                    demographics_skipped=MemberImport.demographics_skipped
                    + chunk_result.demographics_skipped,
                )
            )
            if chunk_result.notes:
                _add_notes(session, import_id, chunk_result.notes)
            sqlite = session.get_bind().dialect.name == "sqlite"
        if written_ids is not None:  # the chunk has committed: its members are in
            written_ids.update(chunk_result.members_written)
        took = max(time.monotonic() - began, 1e-3)
        size = int(min(max(size * CHUNK_SECONDS / took, smallest), WRITE_CHUNK))
        if sqlite:
            time.sleep(SQLITE_YIELD_SECONDS)
    with session_scope(engine) as session:
        done = session.get(MemberImport, import_id)
        assert done is not None
        totals.created, totals.updated = done.created, done.updated
        totals.invitations = done.invitations
        totals.organisations_created = done.organisations_created
        totals.demographics_stored = done.demographics_stored
        totals.demographics_skipped = done.demographics_skipped
        totals.errors.sort(key=lambda error: error.line)
        session.execute(
            update(MemberImport)
            .where(col(MemberImport.id) == import_id)
            .where(col(MemberImport.attempts) == attempt)
            .values(
                status="done",
                stage="Finished",
                progress=1.0,
                finished_at=utcnow(),
                error_count=len(totals.errors),
                rejected_rows=totals.rejected_rows,
                errors=json.dumps(
                    [[e.line, e.column, e.reason] for e in totals.errors[:_SHOWN_ERRORS]]
                ),
                # PostgreSQL text cannot hold NUL; the rejects file is for people to read.
                rejects_csv=_storable(totals.rejects_csv),
                summary=totals.summary(),
                data=None,  # the file has served its purpose; the result keeps what matters
            )
        )
        _audit_import(session, actor_id=actor_id, import_id=import_id, totals=totals)
    return "done"


def _storable(text: str | None) -> str | None:
    """Text that both databases can store: NUL and lone surrogates become U+FFFD."""
    if text is None:
        return None
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


@contextmanager
def _read_scope(engine: Engine | None) -> Iterator[Session]:
    """A session that only reads: on SQLite it does not take the write lock."""
    bound = (engine or get_engine()).execution_options(read_only=True)
    with session_factory(bound)() as session:
        try:
            yield session
        finally:
            session.rollback()


def _managers_first(plans: Sequence[_Plan]) -> list[_Plan]:
    """The plans ordered by level of the line-management chain: managers before reports."""
    by_id = {plan.record.member_id: plan for plan in plans}
    depth: dict[str, int] = {}
    for plan in plans:
        chain: list[str] = []
        current: str | None = plan.record.member_id
        while current in by_id and current not in depth and current not in chain:
            chain.append(current)
            current = by_id[current].record.line_manager_id
        base = depth.get(current, -1) if current is not None else -1
        for member_id in reversed(chain):
            base += 1
            depth[member_id] = base
    return sorted(plans, key=lambda plan: (depth[plan.record.member_id], plan.record.line))


def _with_known_managers(
    session: Session, plans: Sequence[_Plan]
) -> tuple[list[_Plan], list[RowError]]:
    """Plans whose line manager is in the chunk or already in the database; the rest refused."""
    here = {plan.record.member_id for plan in plans}
    wanted = sorted(
        {plan.record.line_manager_id for plan in plans if plan.record.line_manager_id} - here
    )
    known = set(_ids_by_external_id(session, wanted))
    kept: list[_Plan] = []
    errors: list[RowError] = []
    for plan in plans:
        manager = plan.record.line_manager_id
        if manager and manager not in here and manager not in known:
            errors.append(
                RowError(
                    plan.record.line,
                    "line_manager_id",
                    f"the line manager '{manager}' was not imported, so this row cannot be",
                )
            )
        else:
            kept.append(plan)
    return kept, errors


def fail_stalled_imports(*, session: Session, now: datetime | None = None) -> int:
    """Mark running imports whose job stopped beating as failed, saying why."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=get_settings().job_stale_seconds)
    stalled = session.exec(
        select(MemberImport)
        .where(MemberImport.status == "running")
        .where(col(MemberImport.heartbeat_at) < cutoff)
    ).all()
    failed = 0
    for member_import in stalled:
        failed += session.exec(
            update(MemberImport)
            .where(col(MemberImport.id) == member_import.id)
            .where(col(MemberImport.status) == "running")
            .where(col(MemberImport.attempts) == member_import.attempts)
            .where(col(MemberImport.heartbeat_at) < cutoff)
            .values(
                status="failed",
                stage="Stopped",
                finished_at=now,
                failure=(
                    "The worker running this import stopped. "
                    f"{member_import.rows_written:,} rows were written. Run the import again "
                    "to finish it: it resumes after the rows already written."
                ),
            )
        ).rowcount
    return failed


def retry_import(*, session: Session, actor: Member | None, import_id: int) -> MemberImport:
    """Queue a failed or stalled import again (the caller commits, then ``enqueue_import``).

    The next run resumes after the rows its earlier runs committed (``rows_written``): the
    file is checked again and put in the same order, and the written chunks are skipped.
    A stalled import (its job stopped beating) is marked failed first, so a job that wakes
    up late finds its attempt superseded and writes nothing more.
    """
    member_import = get_import(session=session, actor=actor, import_id=import_id)
    if is_stalled(member_import):
        fail_stalled_imports(session=session)
        session.refresh(member_import)
    if member_import.status != "failed" or member_import.data is None:
        raise Conflict(
            f"Only an import that stopped can be run again; this one is {member_import.status}.",
            field="import_id",
        )
    session.execute(
        update(MemberImport)
        .where(col(MemberImport.id) == import_id)
        .where(col(MemberImport.status) == "failed")
        .values(
            status="queued",
            stage=f"Waiting to resume after {member_import.rows_written:,} rows"
            if member_import.rows_written
            else "Waiting to run again",
        )
    )
    session.refresh(member_import)
    return member_import
