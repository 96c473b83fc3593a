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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from backend.accounts import service as account_service
from backend.db import utcnow
from backend.errors import Conflict, Invalid
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members import validation as v
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

# An organisation's type, guessed from words in its name (first match wins).
_TYPE_HINTS: tuple[tuple[str, str], ...] = (
    ("integrated care board", "integrated-care-board"),
    ("icb", "integrated-care-board"),
    ("ambulance", "ambulance-trust"),
    ("mental health", "mental-health-trust"),
    ("community", "community-trust"),
    ("primary care network", "primary-care"),
    ("pcn", "primary-care"),
    ("practice", "primary-care"),
    ("surgery", "primary-care"),
    ("medical centre", "primary-care"),
    ("health centre", "primary-care"),
    ("medical group", "primary-care"),
    ("nhs england", "nhs-england"),
    ("hospital", "acute-trust"),
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
            return (
                f"Nothing was imported: the file has {problems} in {rows}. Fix them and import "
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
        if self.errors:
            text += (
                f" {rows.capitalize()} not imported ({problems}); the rejects file lists them "
                "with the reasons."
            )
        return text


@dataclass
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
        known_skills=skill_service.skill_ids(session=session),
        max_bytes=get_settings().max_import_bytes,
    )
    plans, database_errors = _check_against_database(session, parsed.records)
    # Stable: the parser's order within a line stays as it is.
    errors = sorted([*parsed.errors, *database_errors], key=lambda error: error.line)
    result = ImportResult(mode=mode, errors=errors)
    if errors:
        rejected = dict(parsed.rejected_lines)
        by_line = {record.line: record for record in parsed.records}
        for error in database_errors:
            rejected.setdefault(error.line, _cells(parsed.header, by_line.get(error.line)))
        result.rejected_rows = len(rejected)
        result.rejects_csv = write_rejects_csv(
            ParsedMembers(errors=errors, rejected_lines=rejected, header=parsed.header),
            parsed.header or None,
        )
        if mode == "all-or-nothing":
            return result
    if not plans:
        return result

    try:
        with session.begin_nested():
            _write(session, plans, result, invited_by=invited_by, invite=send_invitations)
            _write_demographics(session, plans, actor)
    except IntegrityError as error:
        # Someone else added a member with one of these emails or ids while we were checking.
        raise Conflict(
            "Members changed while the file was being imported, so nothing was imported. "
            "Import the file again."
        ) from error
    network_changed(session=session)  # the matcher's view of the network moved
    session.commit()
    return result


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
                or_(Member.email.in_(email_chunk), Member.external_id.in_(id_chunk))  # type: ignore[attr-defined,union-attr]
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
            .where(MentoringOffer.member_id.in_(list(existing_ids)))  # type: ignore[attr-defined]
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
        for member_id, plan in list(plans.items()):
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
                del plans[member_id]
                newly.add(member_id)
        rejected = newly
    return list(plans.values()), errors


# Writing ---------------------------------------------------------------------------------------


def guess_organisation_type(name: str) -> str:
    """An organisation type from words in its name ('... Ambulance Service ...' -> ambulance)."""
    folded = f" {' '.join(name.casefold().split())} "
    for hint, kind in _TYPE_HINTS:
        if f" {hint} " in folded or (len(hint) > 4 and hint in folded):
            return kind
    return "other"


def _organisation_ids(
    session: Session, plans: Sequence[_Plan], result: ImportResult
) -> dict[str, int]:
    """Organisation ids by folded name; new organisations take the region of their first row."""
    first: dict[str, MemberRecord] = {}
    for plan in plans:
        key = organisation_service.organisation_key(plan.record.organisation)
        first.setdefault(key, plan.record)
    ids: dict[str, int] = {}
    keys = list(first)
    for chunk in _chunks(keys):
        rows = session.exec(select(Organisation).where(Organisation.key.in_(chunk))).all()  # type: ignore[attr-defined]
        ids.update({row.key: row.id for row in rows if row.id is not None})
    for key in keys:
        if key not in ids:
            record = first[key]
            organisation = organisation_service.get_or_create(
                session=session,
                name=record.organisation,
                type=guess_organisation_type(record.organisation),
                region=record.region,
            )
            ids[key] = organisation.id  # type: ignore[assignment]
            result.organisations_created += 1
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
        plan.record.member_id: plan.existing.id  # type: ignore[misc]
        for plan in plans
        if plan.existing is not None
    }
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
            select(Member.external_id, Member.id).where(Member.external_id.in_(chunk))  # type: ignore[union-attr]
        ).all()
        found.update({external_id: member_id for external_id, member_id in rows if external_id})
    return found


def _members_by_id(session: Session, member_ids: Sequence[int]) -> list[Member]:
    found: list[Member] = []
    for start in range(0, len(member_ids), _CHUNK):
        chunk = member_ids[start : start + _CHUNK]
        found.extend(
            session.exec(
                select(Member).where(Member.id.in_(chunk)).order_by(Member.id)  # type: ignore[union-attr,arg-type]
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
                    MemberSkill.kind == kind,  # type: ignore[arg-type]
                    MemberSkill.member_id.in_(replaced[start : start + _CHUNK]),  # type: ignore[attr-defined]
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
                MentoringOffer.member_id.in_(existing_ids[start : start + _CHUNK])  # type: ignore[attr-defined]
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


def _write_demographics(session: Session, plans: Sequence[_Plan], actor: Member | None) -> None:
    """Store diversity answers only for rows whose ``demographics_consent`` is yes."""
    consenting = [plan for plan in plans if plan.record.demographics_consent]
    if not consenting:
        return
    ids = _ids_by_external_id(session, [plan.record.member_id for plan in consenting])
    privacy_service.record_imported_many(
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


# The rejects file --------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ";".join(value)
    return str(value)


def _cells(header: Sequence[str], record: MemberRecord | None) -> list[str]:
    """A row the parser accepted, written back in the file's column order for the rejects file."""
    if record is None:
        return []
    names = [name.strip().removeprefix("\ufeff").strip() for name in header]
    return [_cell(getattr(record, name, None)) if name else "" for name in names]
