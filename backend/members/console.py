"""The admin console's rules: find members, see an account's summary, suspend and reactivate
(with a reason from a closed list), resend the invitation or confirmation email. Admins only;
every change is audited (the reason is a short code, so the log holds no personal data).

Roles are granted and revoked by ``members.service.change_role`` (with its step-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, literal, or_, tuple_
from sqlmodel import Session, col, select

from backend import audit
from backend.accounts import service as accounts
from backend.accounts import two_factor
from backend.accounts.models import UserSession
from backend.db import utcnow
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members.directory import ESCAPE, escape_like
from backend.members.models import Member, MemberRole
from backend.organisations import service as organisation_service

PAGE_SIZE = 50
MAX_TEXT = 100
MAX_ID = 2**31 - 1

ONLY_ADMINS = "Only admins can use the admin console."

# Why an account was suspended or reactivated: the codes the audit log stores, and their labels.
SUSPEND_REASONS: dict[str, str] = {
    "conduct": "A breach of the code of conduct",
    "left_network": "They have left the NHS or the network",
    "security": "A concern about the account's security",
    "duplicate": "A duplicate account",
    "member_request": "They asked for it",
}
REACTIVATE_REASONS: dict[str, str] = {
    "concern_resolved": "The concern has been resolved",
    "suspended_in_error": "The account was suspended in error",
    "returned": "They have returned to the network",
    "member_request": "They asked for it",
}

ROLE_FILTERS = ("", "member", "organiser", "admin")  # "member": no extra role
STATUS_FILTERS = ("", "active", "suspended")
CONFIRMED_FILTERS = ("", "yes", "no")


@dataclass(frozen=True)
class MemberFilter:
    """Which members to list; empty strings do not filter."""

    text: str = ""
    role: str = ""
    status: str = ""
    confirmed: str = ""


@dataclass
class MemberRow:
    """A member as the admin's list shows them."""

    member: Member
    roles: list[str]
    last_sign_in: datetime | None
    second_factor: bool

    @property
    def invited(self) -> bool:
        """Added by an import and not yet signed in: no password and no confirmed address."""
        return is_invited(self.member)


@dataclass
class AccountSummary(MemberRow):
    """One member's account, for the admin's member page."""

    organisation: str


def is_invited(member: Member) -> bool:
    """An invitation not yet accepted: no password set and the address not confirmed."""
    return member.password_hash is None and not member.is_verified


def require_admin(*, session: Session, member: Member | None) -> Member:
    """The signed-in admin (with a second factor where the policy asks); Forbidden otherwise,
    organisers included."""
    member = member_service.require_member(member)
    if not member.is_active or "admin" not in member_service.roles_of(
        session=session, member_id=member.id
    ):
        raise Forbidden(ONLY_ADMINS)
    two_factor.require_for_staff(session=session, member=member)
    return member


def parse_filter(
    *, text: str = "", role: str = "", status: str = "", confirmed: str = ""
) -> MemberFilter:
    """A ``MemberFilter`` from what a form or API sent; Invalid naming the field otherwise."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise Invalid(f"Search for at most {MAX_TEXT} characters.", field="text")
    if role not in ROLE_FILTERS:
        raise Invalid("Role must be member, organiser or admin.", field="role")
    if status not in STATUS_FILTERS:
        raise Invalid("Status must be active or suspended.", field="status")
    if confirmed not in CONFIRMED_FILTERS:
        raise Invalid("Confirmed must be yes or no.", field="confirmed")
    return MemberFilter(text=text, role=role, status=status, confirmed=confirmed)


def _has_role(role: str) -> ColumnElement[bool]:
    return (
        exists()
        .where(col(MemberRole.member_id) == col(Member.id))
        .where(col(MemberRole.role) == role)
    )


def _conditions(wanted: MemberFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if wanted.text:
        term = f"%{escape_like(wanted.text.lower())}%"
        found.append(
            or_(
                func.lower(col(Member.name)).like(term, escape=ESCAPE),
                col(Member.email).like(term, escape=ESCAPE),
            )
        )
    if wanted.role == "member":
        found.append(~exists().where(col(MemberRole.member_id) == col(Member.id)))
    elif wanted.role:
        found.append(_has_role(wanted.role))
    if wanted.status:
        found.append(col(Member.is_active).is_(wanted.status == "active"))
    if wanted.confirmed:
        verified = col(Member.email_verified_at)
        found.append(verified.is_not(None) if wanted.confirmed == "yes" else verified.is_(None))
    return found


def _last_sign_ins(*, session: Session, member_ids: list[int]) -> dict[int, datetime]:
    """When each member last signed in: their newest session that got past every factor."""
    if not member_ids:
        return {}
    rows = session.exec(
        select(UserSession.member_id, func.max(UserSession.created_at))
        .where(col(UserSession.member_id).in_(member_ids))
        .where(col(UserSession.pending_until).is_(None))
        .group_by(col(UserSession.member_id))
    ).all()
    return {member_id: at for member_id, at in rows if member_id is not None}


_SORT_KEY = func.lower(col(Member.name))
PAGE_LINK = "That page link is not one this site made; start again from the first page."


def _sort_key_of(session: Session, member_id: int, *, field: str) -> str:
    """Where the cursor's member stands in the list order (their lowered name; the id breaks
    ties). A cursor is a member id: the sort key is looked up, never carried in a link, so
    page links hold no names. Invalid when there is no such member (erased meanwhile)."""
    key = None
    if 0 < member_id <= MAX_ID:
        key = session.exec(select(_SORT_KEY).where(col(Member.id) == member_id)).first()
    if key is None:
        raise Invalid(PAGE_LINK, field=field)
    return str(key)


def find_members(
    *,
    session: Session,
    admin: Member | None,
    wanted: MemberFilter,
    after: int | None = None,
    before: int | None = None,
    limit: int | None = None,
) -> tuple[list[MemberRow], bool]:
    """A page of members matching ``wanted``, by name (case-insensitive) then id, at most
    ``PAGE_SIZE``. Keyset paging: ``after`` (a member id) gives the members following that
    member in this order, and whether more follow; ``before`` the members just preceding it
    (still in list order), and whether more precede. A page boundary is exact however many
    members share a name, and rows added or removed meanwhile never shift a page."""
    require_admin(session=session, member=admin)
    if after is not None and before is not None:
        raise Invalid("Page either after or before a member, not both.", field="before")
    limit = max(1, min(PAGE_SIZE if limit is None else limit, PAGE_SIZE))
    statement = select(Member).where(*_conditions(wanted))
    position = tuple_(_SORT_KEY, col(Member.id))
    if before is not None:
        key = _sort_key_of(session, before, field="before")
        statement = statement.where(position < tuple_(literal(key), literal(before)))
        statement = statement.order_by(_SORT_KEY.desc(), col(Member.id).desc())
    else:
        if after is not None:
            key = _sort_key_of(session, after, field="after")
            statement = statement.where(position > tuple_(literal(key), literal(after)))
        statement = statement.order_by(_SORT_KEY, col(Member.id))
    found = list(session.exec(statement.limit(limit + 1)).all())
    more = len(found) > limit
    found = found[:limit]
    if before is not None:
        found.reverse()
    ids = [m.id for m in found]
    roles = member_service.roles_for(session=session, member_ids=ids)
    signed_in = _last_sign_ins(session=session, member_ids=ids)
    factors = two_factor.with_second_factor(session=session, member_ids=ids)
    rows = [
        MemberRow(
            member=m,
            roles=roles[m.id],
            last_sign_in=signed_in.get(m.id),
            second_factor=m.id in factors,
        )
        for m in found
    ]
    return rows, more


def _target(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id) if 0 < member_id <= MAX_ID else None
    if member is None:
        raise NotFound("No member with that id.", field="member_id")
    return member


def account_summary(*, session: Session, admin: Member | None, member_id: int) -> AccountSummary:
    """One member's account: roles, confirmed, second factor, last sign-in, active or not."""
    require_admin(session=session, member=admin)
    member = _target(session, member_id)
    organisation = organisation_service.get(session=session, organisation_id=member.organisation_id)
    return AccountSummary(
        member=member,
        roles=member_service.roles_of(session=session, member_id=member.id),
        last_sign_in=_last_sign_ins(session=session, member_ids=[member.id]).get(member.id),
        second_factor=two_factor.needed(session=session, member=member),
        organisation=organisation.name,
    )


def _reason(reason: str, allowed: dict[str, str]) -> str:
    if reason not in allowed:
        raise Invalid("Choose a reason from the list.", field="reason")
    return reason


def _active_admins(session: Session) -> int:
    return session.exec(
        select(func.count())
        .select_from(MemberRole)
        .join(Member, col(Member.id) == col(MemberRole.member_id))
        .where(col(MemberRole.role) == "admin")
        .where(col(Member.is_active))
    ).one()


def suspend(*, session: Session, admin: Member | None, member_id: int, reason: str) -> Member:
    """Suspend a member: they cannot sign in, every session and access token is ended, and
    their mentoring closes (``mentoring.service.close_for_suspension``: active mentorships end
    early, open requests sent and received close, open round offers are withdrawn, the other
    side told), all in this unit of work. Audited with the reason code and the counts. Not
    oneself, and never the last active admin. Reactivating reopens none of it."""
    admin = require_admin(session=session, member=admin)
    code = _reason(reason, SUSPEND_REASONS)
    member = _target(session, member_id)
    if member.id == admin.id:
        raise Conflict("You cannot suspend your own account; ask another admin.")
    if not member.is_active:
        raise Conflict("This member is already suspended.")
    if session.get(MemberRole, (member.id, "admin")) is not None and _active_admins(session) <= 1:
        raise Conflict("This is the last active admin; make another admin first.")
    member.is_active = False
    member.updated_at = utcnow()
    session.add(member)
    session.flush()
    sessions = accounts.revoke_all_sessions(session=session, member_id=member.id)
    tokens = accounts.revoke_all_access_tokens(session=session, member_id=member.id)
    from backend.mentoring import service as mentoring_service

    closed = mentoring_service.close_for_suspension(session=session, member=member, by=admin)
    network_changed(session=session)  # the matcher's view of the network moved
    audit.record(
        session,
        actor=admin,
        action=audit.actions.MEMBER_SUSPENDED,
        subject=audit.subject("member", member.id),
        details={
            "reason": code,
            "sessions_ended": sessions,
            "tokens_revoked": tokens,
            "mentorships_ended": closed.mentorships_ended,
            "requests_released": closed.requests_released,
            "requests_withdrawn": closed.requests_withdrawn,
            "offers_withdrawn": closed.offers_withdrawn,
        },
    )
    session.flush()
    return member


@dataclass(frozen=True)
class SuspensionPreview:
    """What suspending a member would do, for the admin to confirm first."""

    summary: AccountSummary
    reason: str  # the code
    reason_label: str
    mentorships: int
    requests_received: int
    requests_sent: int
    offers: int


def preview_suspension(
    *, session: Session, admin: Member | None, member_id: int, reason: str
) -> SuspensionPreview:
    """What ``suspend`` would close now: the same checks, nothing written."""
    admin = require_admin(session=session, member=admin)
    code = _reason(reason, SUSPEND_REASONS)
    member = _target(session, member_id)
    if member.id == admin.id:
        raise Conflict("You cannot suspend your own account; ask another admin.")
    if not member.is_active:
        raise Conflict("This member is already suspended.")
    from backend.mentoring import service as mentoring_service

    found = mentoring_service.open_for_suspension(session=session, member=member)
    return SuspensionPreview(
        summary=account_summary(session=session, admin=admin, member_id=member.id),
        reason=code,
        reason_label=SUSPEND_REASONS[code],
        mentorships=found.mentorships_ended,
        requests_received=found.requests_released,
        requests_sent=found.requests_withdrawn,
        offers=found.offers_withdrawn,
    )


def reactivate(*, session: Session, admin: Member | None, member_id: int, reason: str) -> Member:
    """Let a suspended member sign in again (their sessions stay ended: they sign in afresh).
    Nothing their suspension closed reopens (mentorships, requests, offers). Audited with the
    reason code."""
    admin = require_admin(session=session, member=admin)
    code = _reason(reason, REACTIVATE_REASONS)
    member = _target(session, member_id)
    if member.is_active:
        raise Conflict("This member is not suspended.")
    member.is_active = True
    member.updated_at = utcnow()
    session.add(member)
    network_changed(session=session)
    audit.record(
        session,
        actor=admin,
        action=audit.actions.MEMBER_REACTIVATED,
        subject=audit.subject("member", member.id),
        details={"reason": code},
    )
    session.flush()
    return member


def resend_invitation(
    *, session: Session, admin: Member | None, member_id: int
) -> tuple[str, bool]:
    """Send an invited member a fresh invitation, or an unconfirmed one a fresh confirmation
    link, within the per-address hourly limit. Returns the kind ("invitation" or
    "confirmation") and whether it went; audited either way."""
    admin = require_admin(session=session, member=admin)
    member = _target(session, member_id)
    if not member.is_active:
        raise Conflict("This member is suspended; reactivate them first.")
    if member.is_verified:
        raise Conflict("This member has already confirmed their email address.")
    if is_invited(member):
        kind = "invitation"
        sent = accounts.resend_invitation(session=session, member=member, invited_by=admin.name)
    else:
        kind = "confirmation"
        sent = accounts.resend_verification(session=session, member=member)
    audit.record(
        session,
        actor=admin,
        action=audit.actions.INVITATION_RESENT,
        subject=audit.subject("member", member.id),
        details={"kind": kind, "sent": sent},
    )
    session.flush()
    return kind, sent
