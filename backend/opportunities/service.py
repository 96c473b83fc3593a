"""Development opportunities: posting, changing and withdrawing, browsing, saving, "I'm
interested", recommendations and the reminder before a saved one closes.

Who posts: an organiser of the whole network (network-wide, or for a chapter), a chapter
organiser (for one of their chapters), and any member for their own organisation only.
Who sees: every member sees network-wide ones, their chapters' and their organisation's; the
poster sees their own. Who changes or withdraws one: its poster, and the organisers covering it
(every organiser of the network; a chapter's organisers for that chapter's). "I'm interested"
is told to the poster and the organisers covering it as a count only, never who. A withdrawn
one leaves browsing and recommendations; it stays on saved lists, marked withdrawn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import delete, func, or_
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from backend import london
from backend.chapters import service as chapter_service
from backend.chapters.models import Chapter
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from backend.matchmaking import opportunities as seam
from backend.members import service as member_service
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.opportunities.models import (
    ELIGIBILITY_DIMENSIONS,
    FORMAT_NAMES,
    FORMATS,
    KIND_NAMES,
    KINDS,
    Opportunity,
    OpportunityEligibility,
    OpportunitySave,
    OpportunitySkill,
)
from backend.organisations.models import Organisation
from backend.skills.models import Skill
from backend.text import column_length, text_problem
from vocabulary import BANDS, PROFESSIONS, REGIONS, ROLE_FAMILIES, SKILL_NAMES, humanise

AUDIENCES: tuple[str, ...] = ("organisation", "chapter", "network")
ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "band": BANDS,
    "region": REGIONS,
    "role_family": ROLE_FAMILIES,
    "profession": PROFESSIONS,
}
# The command's field for each eligibility dimension.
ELIGIBILITY_FIELDS: dict[str, str] = {
    "band": "bands",
    "region": "regions",
    "role_family": "role_families",
    "profession": "professions",
}
MAX_DESCRIPTION = 5000
MAX_SKILLS = 8
MAX_COST_PENCE = 10_000_000  # £100,000
MAX_AHEAD = timedelta(days=2 * 366)  # closing dates more than two years ahead are typos
# The notification kind of a saved opportunity's news: closing soon, or withdrawn by its
# provider (members choose in their settings whether it is emailed).
OPPORTUNITY_KIND = "opportunity"
REMIND_AHEAD = timedelta(days=7)  # the reminder of a saved one goes this long before it closes
_COST = re.compile(r"^£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{2})?$")


@dataclass(frozen=True)
class OpportunityDraft:
    """An opportunity as its poster gave it (a command); lists are ids of the vocabulary."""

    kind: str
    title: str
    provider: str
    format: str
    closes_on: date | None
    description: str = ""
    url: str = ""
    cost_pence: int = 0
    skills: Sequence[str] = ()
    bands: Sequence[str] = ()
    regions: Sequence[str] = ()
    role_families: Sequence[str] = ()
    professions: Sequence[str] = ()
    audience: str = "organisation"
    chapter_id: int | None = None


@dataclass(frozen=True)
class OpportunityView:
    """One opportunity as the viewer sees it: with its skills, who may apply, and the
    viewer's own marks (``interested_count`` only for its poster and organisers over it)."""

    id: int
    kind: str
    title: str
    provider: str
    description: str
    url: str
    cost_pence: int
    format: str
    closes_on: date
    audience: str
    audience_name: str
    posted_by_id: int | None
    skills: list[str] = field(default_factory=list)
    eligibility: dict[str, list[str]] = field(default_factory=dict)
    saved: bool = False
    interested: bool = False
    interested_count: int | None = None
    is_open: bool = True
    eligible: bool = True
    chapter_id: int | None = None
    withdrawn: bool = False
    can_change: bool = False

    @property
    def kind_name(self) -> str:
        """'Shadowing', 'Accredited programme' ..."""
        return KIND_NAMES[self.kind]

    @property
    def format_name(self) -> str:
        """'Online', 'In person', 'Blended (online and in person)'."""
        return FORMAT_NAMES[self.format]

    @property
    def cost_text(self) -> str:
        """'Free' or '£1,250' ('£12.50' with pence)."""
        return cost_text(self.cost_pence)

    @property
    def closes_text(self) -> str:
        """'28 November 2026'."""
        return london.format_date(self.closes_on)

    @property
    def skill_names(self) -> list[str]:
        """The names of the skills it develops."""
        return [SKILL_NAMES.get(s, humanise(s)) for s in self.skills]

    def eligibility_text(self) -> list[str]:
        """Who may apply, one line per limited dimension ('Bands 2, 3 and 4'); empty: all."""
        out = []
        for dimension in ELIGIBILITY_DIMENSIONS:
            values = self.eligibility.get(dimension) or []
            if values:
                out.append(eligibility_line(dimension, values))
        return out


@dataclass(frozen=True)
class Recommended:
    """A recommendation: the opportunity, a 0-100 score and the reasons, best first."""

    opportunity: OpportunityView
    score: float
    reasons: list[str]

    @property
    def reason_text(self) -> str:
        """The reasons as one sentence."""
        return seam.reason_sentence(self.reasons)


def _and(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def eligibility_line(dimension: str, values: Sequence[str]) -> str:
    """'Band 4', 'Bands 2, 3 and 4', 'Regions: London and South East' ..."""
    if dimension == "band":
        return ("Band " if len(values) == 1 else "Bands ") + _and(list(values))
    names = [humanise(v) if dimension != "region" else v for v in values]
    labels = {
        "region": ("Region", "Regions"),
        "role_family": ("Role family", "Role families"),
        "profession": ("Profession", "Professions"),
    }[dimension]
    return f"{labels[0] if len(values) == 1 else labels[1]}: {_and(names)}"


def cost_text(pence: int) -> str:
    """'Free', '£250', '£1,250.50'."""
    if pence <= 0:
        return "Free"
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" + (f".{rest:02d}" if rest else "")


def parse_cost(text: str) -> int:
    """Pence from what a form says: '' or 'free' is free, '£1,250' or '1250.00' (Invalid
    naming ``cost`` otherwise)."""
    cleaned = text.strip()
    if not cleaned or cleaned.casefold() in {"free", "0", "£0", "none"}:
        return 0
    match = _COST.match(cleaned)
    if match is None:
        raise Invalid(
            "Enter the cost in pounds, like £250 or 1,250.50, or leave it empty if it is free.",
            field="cost",
        )
    pounds = int(match.group(1).replace(",", ""))
    pence = int(match.group(3)[1:]) if match.group(3) else 0
    return pounds * 100 + pence


# Validation -----------------------------------------------------------------------------------


def draft_problems(
    *, session: Session, draft: OpportunityDraft, today: date | None = None
) -> dict[str, str]:
    """Every problem of a draft, by field (nothing is written while there is one)."""
    today = today or london.london_today()
    problems: dict[str, str] = {}
    if draft.kind not in KINDS:
        problems["kind"] = "Choose what kind of opportunity this is."
    for name, label, value, required, limit in (
        ("title", "title", draft.title, True, column_length(Opportunity, "title")),
        ("provider", "provider", draft.provider, True, column_length(Opportunity, "provider")),
        ("description", "description", draft.description, False, MAX_DESCRIPTION),
    ):
        problem = text_problem(
            value, label=label, maximum=limit, required=False, one_line=name != "description"
        )
        if required and not value.strip():
            problem = f"Enter the {label} of the opportunity."
        if problem:
            problems[name] = problem
    url = draft.url.strip()
    if url and (
        not re.match(r"^https?://[^\s/]+\.[^\s]+$", url)
        or len(url) > column_length(Opportunity, "url")
    ):
        problems["url"] = "Enter a web address starting https://, like https://www.example.nhs.uk."
    if not 0 <= draft.cost_pence <= MAX_COST_PENCE:
        problems["cost"] = "Enter a cost from £0 (free) to £100,000."
    if draft.format not in FORMATS:
        problems["format"] = "Choose online, in person or blended."
    if draft.closes_on is None:
        problems["closes_on"] = "Enter the closing date."
    elif draft.closes_on < today:
        problems["closes_on"] = "The closing date must be today or in the future."
    elif draft.closes_on > today + MAX_AHEAD:
        problems["closes_on"] = "The closing date must be within the next 2 years."
    skills = list(dict.fromkeys(draft.skills))
    if not skills:
        problems["skills"] = "Choose at least one skill it develops."
    elif len(skills) > MAX_SKILLS:
        problems["skills"] = f"Choose at most {MAX_SKILLS} skills it develops."
    else:
        live = set(
            session.exec(
                select(Skill.id)
                .where(col(Skill.id).in_(skills))
                .where(col(Skill.retired_at).is_(None))
            ).all()
        )
        unknown = [s[:60] for s in skills if s not in live]
        if unknown:
            problems["skills"] = "Choose skills from the framework: not " + ", ".join(unknown[:3])
    for dimension, name in ELIGIBILITY_FIELDS.items():
        given = getattr(draft, name)
        wrong = [str(v)[:40] for v in given if v not in ALLOWED_VALUES[dimension]]
        if wrong:
            problems[name] = f"Unknown {humanise(dimension).lower()}: " + ", ".join(wrong[:3]) + "."
    if draft.audience not in AUDIENCES:
        problems["audience"] = "Choose who it is for: your organisation, a chapter or everyone."
    elif draft.audience == "chapter" and draft.chapter_id is None:
        problems["chapter_id"] = "Choose the chapter it is for."
    return problems


def _authorise(session: Session, member: Member, draft: OpportunityDraft) -> None:
    """Members post for their own organisation; organisers for the network or a chapter."""
    if draft.audience == "organisation":
        return
    if draft.audience == "network":
        chapter_service.require_network(session=session, member=member)
        return
    if session.get(Chapter, draft.chapter_id) is None:
        raise NotFound("No such chapter.", field="chapter_id")
    chapter_service.require_chapter(session=session, member=member, chapter_id=draft.chapter_id)


def _write(
    session: Session, opportunity: Opportunity, draft: OpportunityDraft, member: Member
) -> None:
    """Write a checked, authorised draft over ``opportunity``: its facts, skills and who may
    apply (an organisation's one stays with its organisation when someone else changes it)."""
    assert draft.closes_on is not None  # draft_problems refused a missing one
    if draft.audience != "organisation":
        organisation_id = None
    elif opportunity.organisation_id is not None:
        organisation_id = opportunity.organisation_id
    else:
        organisation_id = member.organisation_id
    opportunity.kind = draft.kind
    opportunity.title = draft.title.strip()
    opportunity.provider = draft.provider.strip()
    opportunity.description = draft.description.strip()
    opportunity.url = draft.url.strip()
    opportunity.cost_pence = draft.cost_pence
    opportunity.format = draft.format
    opportunity.closes_on = draft.closes_on
    opportunity.chapter_id = draft.chapter_id if draft.audience == "chapter" else None
    opportunity.organisation_id = organisation_id
    session.add(opportunity)
    session.flush()
    for table in (OpportunitySkill, OpportunityEligibility):
        session.exec(delete(table).where(col(table.opportunity_id) == opportunity.id))
    add_skills_and_rules(
        session,
        opportunity.id,
        skills=draft.skills,
        rules={d: getattr(draft, name) for d, name in ELIGIBILITY_FIELDS.items()},
    )


def add_skills_and_rules(
    session: Session,
    opportunity_id: int,
    *,
    skills: Sequence[str],
    rules: Mapping[str, Sequence[str]],
) -> None:
    """Add the skills an opportunity develops and who may apply (values by dimension), each
    once; it must have none yet."""
    for skill_id in dict.fromkeys(skills):
        session.add(OpportunitySkill(opportunity_id=opportunity_id, skill_id=skill_id))
    for dimension, values in rules.items():
        for value in dict.fromkeys(values):
            session.add(
                OpportunityEligibility(
                    opportunity_id=opportunity_id, dimension=dimension, value=value
                )
            )
    session.flush()


def _checked(session: Session, member: Member, draft: OpportunityDraft, today: date | None) -> None:
    problems = draft_problems(session=session, draft=draft, today=today)
    if problems:
        raise FieldErrors(problems)
    _authorise(session, member, draft)


def post(
    *, session: Session, member: Member | None, draft: OpportunityDraft, today: date | None = None
) -> OpportunityView:
    """Post an opportunity; every problem is reported at once and nothing is written."""
    member = member_service.require_member(member)
    _checked(session, member, draft, today)
    assert draft.closes_on is not None  # draft_problems refused a missing one
    opportunity = Opportunity(  # _write gives it the rest
        kind=draft.kind,
        title=draft.title,
        provider=draft.provider,
        format=draft.format,
        closes_on=draft.closes_on,
        posted_by_id=member.id,
    )
    _write(session, opportunity, draft, member)
    return _views(session, [opportunity], member)[0]


def _managed(session: Session, member: Member, opportunity_id: int) -> Opportunity:
    """The opportunity, if the member may change it: NotFound if they cannot see it,
    Forbidden if they neither posted it nor organise over it, Conflict once withdrawn."""
    opportunity = session.exec(
        select(Opportunity).where(Opportunity.id == opportunity_id).where(_visible(session, member))
    ).first()
    if opportunity is None:
        raise NotFound("No such opportunity.", field="opportunity_id")
    if not _manages(opportunity, member, chapter_service.scope_of(session=session, member=member)):
        raise Forbidden("Only its poster and the organisers covering it can change it.")
    if opportunity.withdrawn_at is not None:
        raise Conflict("This opportunity has been withdrawn.", field="opportunity_id")
    return opportunity


def changeable(*, session: Session, member: Member | None, opportunity_id: int) -> OpportunityView:
    """The opportunity as it stands, for someone about to change or withdraw it (the errors
    of ``update``: NotFound, Forbidden, or Conflict once withdrawn)."""
    member = member_service.require_member(member)
    return _views(session, [_managed(session, member, opportunity_id)], member)[0]


def update(
    *,
    session: Session,
    member: Member | None,
    opportunity_id: int,
    draft: OpportunityDraft,
    today: date | None = None,
) -> OpportunityView:
    """Change an opportunity: for its poster and the organisers covering it, with the rules
    and field errors of posting (and a new audience must be one the member may post for)."""
    member = member_service.require_member(member)
    opportunity = _managed(session, member, opportunity_id)
    _checked(session, member, draft, today)
    _write(session, opportunity, draft, member)
    return _views(session, [opportunity], member, today=today)[0]


def withdraw(*, session: Session, member: Member | None, opportunity_id: int) -> OpportunityView:
    """Withdraw an opportunity (its poster or an organiser covering it): it leaves browsing and
    recommendations, and everyone who saved it or said they were interested is told."""
    member = member_service.require_member(member)
    opportunity = _managed(session, member, opportunity_id)
    opportunity.withdrawn_at = utcnow()
    session.add(opportunity)
    told = session.exec(
        select(Member)
        .join(OpportunitySave, col(OpportunitySave.member_id) == col(Member.id))
        .where(OpportunitySave.opportunity_id == opportunity.id)
        .where(col(Member.is_active).is_(True))
        .where(col(Member.id) != member.id)
        .order_by(col(Member.id))
    ).all()
    for person in told:
        notifications.notify_member(
            session=session,
            member=person,
            kind=OPPORTUNITY_KIND,
            title=f"{opportunity.title} has been withdrawn by its provider",
            body=f'"{opportunity.title}" ({opportunity.provider}) is no longer open. It stays '
            "in your saved opportunities, marked as withdrawn, until you remove it.",
            link=f"/opportunities/{opportunity.id}",
        )
    session.flush()
    return _views(session, [opportunity], member)[0]


# Who sees what --------------------------------------------------------------------------------


def _visible(session: Session, member: Member) -> ColumnElement[bool]:
    chapter_ids = [c.id for c in chapter_service.chapters_of(session=session, member=member)]
    return or_(
        (col(Opportunity.chapter_id).is_(None) & col(Opportunity.organisation_id).is_(None)),
        col(Opportunity.organisation_id) == member.organisation_id,
        col(Opportunity.chapter_id).in_(chapter_ids),
        col(Opportunity.posted_by_id) == member.id,
    )


def _manages(opportunity: Opportunity, member: Member, scope: chapter_service.Scope) -> bool:
    """Its poster and the organisers covering it: they change it, withdraw it and see how
    many are interested."""
    if opportunity.posted_by_id == member.id:
        return True
    if scope.network:
        return True
    return opportunity.chapter_id is not None and scope.covers_chapter(opportunity.chapter_id)


def _views(
    session: Session,
    opportunities: Sequence[Opportunity],
    viewer: Member,
    *,
    today: date | None = None,
) -> list[OpportunityView]:
    """Views of ``opportunities`` for ``viewer``, in a fixed number of statements."""
    today = today or london.london_today()
    ids = [o.id for o in opportunities]
    skills: dict[int, list[str]] = {i: [] for i in ids}
    eligibility: dict[int, dict[str, list[str]]] = {i: {} for i in ids}
    marks: dict[int, OpportunitySave] = {}
    counts: dict[int, int] = {}
    chapter_names: dict[int, str] = {}
    organisation_names: dict[int, str] = {}
    if ids:
        for skill_row in session.exec(
            select(OpportunitySkill).where(col(OpportunitySkill.opportunity_id).in_(ids))
        ).all():
            skills[skill_row.opportunity_id].append(skill_row.skill_id)
        for rule in session.exec(
            select(OpportunityEligibility).where(
                col(OpportunityEligibility.opportunity_id).in_(ids)
            )
        ).all():
            eligibility[rule.opportunity_id].setdefault(rule.dimension, []).append(rule.value)
        marks = {
            m.opportunity_id: m
            for m in session.exec(
                select(OpportunitySave)
                .where(col(OpportunitySave.opportunity_id).in_(ids))
                .where(OpportunitySave.member_id == viewer.id)
            ).all()
        }
        counts = dict(
            session.exec(
                select(OpportunitySave.opportunity_id, func.count())
                .where(col(OpportunitySave.opportunity_id).in_(ids))
                .where(col(OpportunitySave.interested).is_(True))
                .group_by(col(OpportunitySave.opportunity_id))
            ).all()
        )
        chapter_ids = sorted({o.chapter_id for o in opportunities if o.chapter_id is not None})
        if chapter_ids:
            chapter_names = dict(
                session.exec(
                    select(Chapter.id, Chapter.name).where(col(Chapter.id).in_(chapter_ids))
                ).all()
            )
        organisation_ids = sorted(
            {o.organisation_id for o in opportunities if o.organisation_id is not None}
        )
        if organisation_ids:
            organisation_names = dict(
                session.exec(
                    select(Organisation.id, Organisation.name).where(
                        col(Organisation.id).in_(organisation_ids)
                    )
                ).all()
            )
    scope = chapter_service.scope_of(session=session, member=viewer)
    order = {s: k for k, s in enumerate(SKILL_NAMES)}
    out = []
    for o in opportunities:
        if o.organisation_id is not None:
            audience = "organisation"
            audience_name = organisation_names.get(o.organisation_id, "One organisation")
        elif o.chapter_id is not None:
            audience = "chapter"
            audience_name = chapter_names.get(o.chapter_id, "One chapter")
        else:
            audience, audience_name = "network", "Everyone in the network"
        rules = {d: sorted(v, key=_value_order(d)) for d, v in eligibility[o.id].items()}
        mark = marks.get(o.id)
        manages = _manages(o, viewer, scope)
        out.append(
            OpportunityView(
                id=o.id,
                kind=o.kind,
                title=o.title,
                provider=o.provider,
                description=o.description,
                url=o.url,
                cost_pence=o.cost_pence,
                format=o.format,
                closes_on=o.closes_on,
                audience=audience,
                audience_name=audience_name,
                posted_by_id=o.posted_by_id,
                skills=sorted(skills[o.id], key=lambda s: (order.get(s, len(order)), s)),
                eligibility=rules,
                saved=bool(mark and mark.saved),
                interested=bool(mark and mark.interested),
                interested_count=counts.get(o.id, 0) if manages else None,
                is_open=o.closes_on >= today and o.withdrawn_at is None,
                eligible=seam.eligible(rules, viewer),
                chapter_id=o.chapter_id,
                withdrawn=o.withdrawn_at is not None,
                can_change=manages and o.withdrawn_at is None,
            )
        )
    return out


def _value_order(dimension: str):
    order = {v: k for k, v in enumerate(ALLOWED_VALUES[dimension])}
    return lambda v: order.get(v, len(order))


@dataclass(frozen=True)
class Filters:
    """What a browse narrows to: a kind, a skill developed, a region it is open to."""

    kind: str | None = None
    skill: str | None = None
    region: str | None = None


def filter_problems(filters: Filters) -> dict[str, str]:
    """Unknown filter values, by field."""
    problems = {}
    if filters.kind and filters.kind not in KINDS:
        problems["kind"] = "Choose a kind of opportunity from the list."
    if filters.region and filters.region not in REGIONS:
        problems["region"] = "Choose a region from the list."
    if filters.skill and filters.skill not in SKILL_NAMES and len(filters.skill) > 60:
        problems["skill"] = "Choose a skill from the list."
    return problems


def browse(
    *,
    session: Session,
    member: Member | None,
    filters: Filters | None = None,
    today: date | None = None,
    limit: int = 200,
) -> list[OpportunityView]:
    """Open opportunities the member can see, closing soonest first, narrowed by ``filters``
    (a region: those open to members in it, including those open to every region)."""
    member = member_service.require_member(member)
    filters = filters or Filters()
    problems = filter_problems(filters)
    if problems:
        raise FieldErrors(problems)
    today = today or london.london_today()
    statement = (
        select(Opportunity)
        .where(_visible(session, member))
        .where(col(Opportunity.withdrawn_at).is_(None))
        .where(col(Opportunity.closes_on) >= today)
    )
    if filters.kind:
        statement = statement.where(Opportunity.kind == filters.kind)
    if filters.skill:
        statement = statement.where(
            col(Opportunity.id).in_(
                select(OpportunitySkill.opportunity_id).where(
                    OpportunitySkill.skill_id == filters.skill
                )
            )
        )
    if filters.region:
        limited = select(OpportunityEligibility.opportunity_id).where(
            OpportunityEligibility.dimension == "region"
        )
        allowed = limited.where(OpportunityEligibility.value == filters.region)
        statement = statement.where(
            or_(col(Opportunity.id).not_in(limited), col(Opportunity.id).in_(allowed))
        )
    rows = session.exec(
        statement.order_by(col(Opportunity.closes_on), col(Opportunity.id)).limit(limit)
    ).all()
    return _views(session, rows, member, today=today)


def developing(
    *,
    session: Session,
    member: Member | None,
    skill_id: str,
    first: int = 3,
    today: date | None = None,
) -> list[OpportunityView]:
    """Up to ``first`` open opportunities the member can see that develop ``skill_id``, ranked
    as browsing ranks them (closing soonest first), in browsing's fixed number of statements;
    none for an unknown skill."""
    if not skill_id or filter_problems(Filters(skill=skill_id)):
        return []
    return browse(
        session=session,
        member=member,
        filters=Filters(skill=skill_id),
        today=today,
        limit=first,
    )


def _visible_opportunity(
    session: Session, member: Member, opportunity_id: int, *, withdrawn: bool = False
) -> Opportunity:
    statement = (
        select(Opportunity).where(Opportunity.id == opportunity_id).where(_visible(session, member))
    )
    if not withdrawn:
        statement = statement.where(col(Opportunity.withdrawn_at).is_(None))
    found = session.exec(statement).first()
    if found is None:
        raise NotFound("No such opportunity.", field="opportunity_id")
    return found


def get(
    *, session: Session, member: Member | None, opportunity_id: int, today: date | None = None
) -> OpportunityView:
    """One opportunity the member can see: closed and withdrawn ones too, so a saved one, a
    bookmark or a notice's link still reads (``is_open`` and ``withdrawn`` say where it stands)."""
    member = member_service.require_member(member)
    opportunity = _visible_opportunity(session, member, opportunity_id, withdrawn=True)
    return _views(session, [opportunity], member, today=today)[0]


def get_many(
    *, session: Session, member: Member | None, opportunity_ids: Sequence[int]
) -> dict[int, OpportunityView]:
    """The opportunities of ``opportunity_ids`` the member can see, by id (others left out)."""
    member = member_service.require_member(member)
    if not opportunity_ids:
        return {}
    rows = session.exec(
        select(Opportunity)
        .where(col(Opportunity.id).in_(list(opportunity_ids)))
        .where(col(Opportunity.withdrawn_at).is_(None))
        .where(_visible(session, member))
    ).all()
    return {v.id: v for v in _views(session, rows, member)}


def saved(*, session: Session, member: Member | None) -> list[OpportunityView]:
    """The member's saved opportunities, closing soonest first; closed and withdrawn ones
    last (``is_open`` False; ``withdrawn`` says which)."""
    member = member_service.require_member(member)
    rows = session.exec(
        select(Opportunity)
        .join(OpportunitySave, col(OpportunitySave.opportunity_id) == col(Opportunity.id))
        .where(OpportunitySave.member_id == member.id)
        .where(col(OpportunitySave.saved).is_(True))
        .where(_visible(session, member))
        .order_by(col(Opportunity.closes_on), col(Opportunity.id))
    ).all()
    views = _views(session, rows, member)
    return [v for v in views if v.is_open] + [v for v in views if not v.is_open]


# Saving and "I'm interested" ------------------------------------------------------------------


def _mark(
    session: Session, member: Member | None, opportunity_id: int, **values: bool
) -> OpportunityView:
    member = member_service.require_member(member)
    # A withdrawn one can still come off the member's list, never go on it.
    opportunity = _visible_opportunity(session, member, opportunity_id, withdrawn=True)
    view = _views(session, [opportunity], member)[0]
    turning_on = any(values.values())
    if turning_on and view.withdrawn:
        raise Conflict("This opportunity has been withdrawn.", field="opportunity_id")
    if turning_on and not view.is_open:
        raise Conflict("This opportunity has closed.", field="opportunity_id")
    if values.get("interested") and not view.eligible:
        raise Conflict(
            "This opportunity is not open to you: " + "; ".join(view.eligibility_text()) + ".",
            field="opportunity_id",
        )
    now = utcnow()
    stamps = {f"{name}_at": (now if on else None) for name, on in values.items()}
    key = (opportunity.id, member.id)
    row = session.get(OpportunitySave, key)
    if row is None and turning_on:
        try:
            with session.begin_nested():
                fresh = OpportunitySave(opportunity_id=opportunity.id, member_id=member.id)
                for name, on in values.items():
                    setattr(fresh, name, on)
                    setattr(fresh, f"{name}_at", stamps[f"{name}_at"])
                session.add(fresh)
                session.flush()
            row = None
        except IntegrityError:  # a double click got there first: update that row instead
            row = session.get(OpportunitySave, key)
    if row is not None:
        for name, on in values.items():
            if getattr(row, name) != on:
                setattr(row, name, on)
                setattr(row, f"{name}_at", stamps[f"{name}_at"])
        if not (row.saved or row.interested):
            session.delete(row)
        else:
            session.add(row)
        session.flush()
    return _views(session, [opportunity], member)[0]


def save(
    *, session: Session, member: Member | None, opportunity_id: int, saved: bool = True
) -> OpportunityView:
    """Save an open opportunity to the member's list (or take it off with ``saved`` False)."""
    return _mark(session, member, opportunity_id, saved=saved)


def mark_interested(
    *, session: Session, member: Member | None, opportunity_id: int, interested: bool = True
) -> OpportunityView:
    """Say "I'm interested" in an open opportunity one is eligible for (or take it back); the
    poster and organisers see how many are interested, never who."""
    return _mark(session, member, opportunity_id, interested=interested)


def interested_count(*, session: Session, member: Member | None, opportunity_id: int) -> int:
    """How many members are interested: for the poster and organisers covering it only."""
    member = member_service.require_member(member)
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None:
        raise NotFound("No such opportunity.", field="opportunity_id")
    scope = chapter_service.scope_of(session=session, member=member)
    if not _manages(opportunity, member, scope):
        raise Forbidden("Only the poster and organisers see how many are interested.")
    return session.exec(
        select(func.count())
        .select_from(OpportunitySave)
        .where(OpportunitySave.opportunity_id == opportunity_id)
        .where(col(OpportunitySave.interested).is_(True))
    ).one()


# Recommendations ------------------------------------------------------------------------------


def recommendations(
    *, session: Session, member: Member | None, first: int = 3, today: date | None = None
) -> list[Recommended]:
    """The best ``first`` open opportunities the member can see and apply for, with reasons
    (skills they want, their self-assessment's gaps, their goals, band and region)."""
    member = member_service.require_member(member)
    if not 1 <= first <= 20:
        raise Invalid("Ask for between 1 and 20 recommendations.", field="first")
    today = today or london.london_today()
    rows = session.exec(
        select(Opportunity)
        .where(_visible(session, member))
        .where(col(Opportunity.withdrawn_at).is_(None))
        .where(col(Opportunity.closes_on) >= today)
    ).all()
    # Every open one the member sees: the matcher applies the eligibility rule itself.
    views = {v.id: v for v in _views(session, rows, member, today=today)}
    ranked = seam.rank(
        session=session,
        member=member,
        rows=[as_mapping(v) for v in views.values()],
        first=first,
        today=today,
    )
    return [Recommended(views[r.opportunity_id], r.score, r.reasons) for r in ranked]


# The reminder before a saved one closes --------------------------------------------------------


def send_closing_reminders(*, session: Session, today: date | None = None) -> int:
    """Tell each member, once, about a saved opportunity closing within the week: a
    notification of the ``opportunity`` kind, emailed unless they chose otherwise.

    Each save is claimed by a conditional update of ``reminded_at``, so several workers (or
    two passes) never send one reminder twice.
    """
    today = today or london.london_today()
    due = session.exec(
        select(OpportunitySave, Opportunity, Member)
        .join(Opportunity, col(Opportunity.id) == col(OpportunitySave.opportunity_id))
        .join(Member, col(Member.id) == col(OpportunitySave.member_id))
        .where(col(OpportunitySave.saved).is_(True))
        .where(col(OpportunitySave.reminded_at).is_(None))
        .where(col(Opportunity.withdrawn_at).is_(None))
        .where(col(Opportunity.closes_on) >= today)
        .where(col(Opportunity.closes_on) <= today + REMIND_AHEAD)
        .where(col(Member.is_active).is_(True))
        .order_by(col(Opportunity.closes_on), col(OpportunitySave.member_id))
    ).all()
    sent = 0
    for mark, opportunity, member in due:
        claimed = session.exec(
            sql_update(OpportunitySave)
            .where(col(OpportunitySave.opportunity_id) == mark.opportunity_id)
            .where(col(OpportunitySave.member_id) == mark.member_id)
            .where(col(OpportunitySave.reminded_at).is_(None))
            .values(reminded_at=utcnow())
        ).rowcount
        if not claimed:
            continue
        sent += 1
        closes = london.format_date(opportunity.closes_on)
        when = "today" if opportunity.closes_on == today else f"on {closes}"
        notifications.notify_member(
            session=session,
            member=member,
            kind=OPPORTUNITY_KIND,
            title=f"Closing {when}: {opportunity.title}",
            body=f'You saved "{opportunity.title}" ({opportunity.provider}). It closes {when}.',
            link=f"/opportunities/{opportunity.id}",
        )
    session.flush()
    return sent


def export_rows(*, session: Session, member_id: int) -> list[dict[str, object]]:
    """The member's saved and interested marks, for their data export."""
    rows = session.exec(select(OpportunitySave).where(OpportunitySave.member_id == member_id)).all()
    return [
        {
            "opportunity_id": r.opportunity_id,
            "saved": r.saved,
            "interested": r.interested,
            "saved_at": r.saved_at.isoformat() if r.saved_at else None,
            "interested_at": r.interested_at.isoformat() if r.interested_at else None,
        }
        for r in rows
    ]


def as_mapping(view: OpportunityView) -> Mapping[str, object]:
    """The facts of a view the matcher reads (one row of its opportunity frame)."""
    return {
        "opportunity_id": view.id,
        "title": view.title,
        "provider": view.provider,
        "description": view.description,
        "skills": tuple(view.skills),
        "closes_on": view.closes_on,
        "bands": tuple(view.eligibility.get("band", ())),
        "regions": tuple(view.eligibility.get("region", ())),
        "role_families": tuple(view.eligibility.get("role_family", ())),
        "professions": tuple(view.eligibility.get("profession", ())),
    }


__all__ = [
    "AUDIENCES",
    "Filters",
    "OpportunityDraft",
    "OpportunityView",
    "Recommended",
    "browse",
    "changeable",
    "cost_text",
    "developing",
    "draft_problems",
    "get",
    "mark_interested",
    "parse_cost",
    "post",
    "recommendations",
    "save",
    "saved",
    "send_closing_reminders",
    "update",
    "withdraw",
]
