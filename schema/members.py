"""Members: the Member node, the signed-in member (`me`), profiles and mentoring offers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import UNSET, relay
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension

from backend.accounts import service as accounts
from backend.errors import NotFound
from backend.members import directory
from backend.members import service as member_service
from backend.members.models import Member as MemberModel
from backend.members.models import MentoringOffer as OfferModel
from backend.mentoring import service as mentoring_service
from backend.messaging import service as messaging_service
from backend.notifications import service as notification_service
from schema import errors
from schema.access_tokens import AccessToken
from schema.context import Info
from schema.enums import (
    Band,
    ContactVisibility,
    MeetingFormat,
    OrganisationType,
    Profession,
    Region,
    Role,
    RoleFamily,
    from_enum,
    to_enum,
)
from schema.ids import database_id, decode
from schema.inputs import check_lists, check_text
from schema.notifications import NotificationPreference, preference_list
from schema.permissions import CanSeeAccount, CanSeeContact, IsAuthenticated
from schema.reference import Organisation, Skill, connection, decode_offset, page_size

if TYPE_CHECKING:
    from schema.chapters import OrganiserScope


def _contact() -> list[FieldExtension]:
    return [PermissionExtension(permissions=[CanSeeContact()], fail_silently=True)]


def _own() -> list[FieldExtension]:
    return [PermissionExtension(permissions=[CanSeeAccount()], fail_silently=True)]


async def _skills(info: Info, member_id: int, kind: str) -> list[Skill]:
    ids = (await info.context.loaders.skills.load(member_id))[kind]
    skills = await info.context.loaders.skill_by_id.load_many(ids)
    return [Skill.from_model(s) for s in skills if s is not None]


@strawberry.type(description="A mentoring offer: how many mentees at once, and which skills.")
class MentoringOffer:
    capacity: int = strawberry.field(description="0 (not mentoring) to 10 mentees at once.")
    paused: bool
    note: str
    free_places: int = strawberry.field(
        description="Places a new mentee could take now (0 while paused or full)."
    )
    member_id: strawberry.Private[int]
    member_meeting_format: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, offer: OfferModel, *, member: MemberModel | None = None) -> MentoringOffer:
        """The GraphQL view of an offer (``member`` saves a lookup of the meeting format)."""
        return cls(
            capacity=offer.capacity,
            paused=offer.paused,
            note=offer.note,
            free_places=mentoring_service.free_places(offer=offer),
            member_id=offer.member_id,
            member_meeting_format=member.meeting_format if member is not None else None,
        )

    @strawberry.field(description="Skills the mentor can help with.")
    async def skills_offered(self, info: Info) -> list[Skill]:
        """Through the skills loader."""
        return await _skills(info, self.member_id, "offered")

    @strawberry.field(description="How the mentor prefers to meet.")
    async def meeting_format(self, info: Info) -> MeetingFormat:
        """The mentor's meeting format (through the members loader when not at hand)."""
        value = self.member_meeting_format
        if value is None:
            member = await info.context.loaders.members.load(self.member_id)
            value = member.meeting_format if member is not None else "either"
        return to_enum(MeetingFormat, value)


@strawberry.type(description="A member of the network and their profile.")
class Member(relay.Node):
    id: relay.NodeID[int]
    name: str
    job_title: str
    region: Region
    role_family: RoleFamily
    band: Band
    profession: Profession
    management_years: int
    bio: str
    goals: str
    meeting_format: MeetingFormat
    seeking_mentor: bool
    outside_organisation_only: bool
    created_at: datetime
    model: strawberry.Private[MemberModel]

    @classmethod
    def from_model(cls, member: MemberModel) -> Member:
        """The GraphQL view of a member row (sensitive fields resolve through permissions)."""
        return cls(
            id=member.id,
            name=member.name,
            job_title=member.job_title,
            region=to_enum(Region, member.region),
            role_family=to_enum(RoleFamily, member.role_family),
            band=to_enum(Band, member.band),
            profession=to_enum(Profession, member.profession),
            management_years=member.management_years,
            bio=member.bio,
            goals=member.goals,
            meeting_format=to_enum(MeetingFormat, member.meeting_format),
            seeking_mentor=member.seeking_mentor,
            outside_organisation_only=member.outside_organisation_only,
            created_at=member.created_at,
            model=member,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Member | None]:
        """Members by id, with the same rule as `member(id)`: signed-in callers only."""
        viewer = member_service.require_account(info.context.member)
        result: list[Member | None] = []
        for raw in node_ids:
            member_id = database_id(raw)
            try:
                found = member_service.get(
                    session=info.context.session, member_id=member_id or 0, viewer=viewer
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(found))
        return result

    @strawberry.field(
        extensions=_contact(), description="Null unless the member shares contact details."
    )
    def email(self) -> str | None:
        """The member's email address."""
        return self.model.email

    @strawberry.field(
        extensions=_contact(), description="Null unless the member shares contact details."
    )
    async def organisation(self, info: Info) -> Organisation | None:
        """The member's employer, through the organisations loader."""
        found = await info.context.loaders.organisations.load(self.model.organisation_id)
        return Organisation.from_model(found) if found else None

    @strawberry.field(description="Always MEMBER; ORGANISER or ADMIN where granted.")
    async def roles(self, info: Info) -> list[Role]:
        """Through the roles loader."""
        return [Role(r) for r in await info.context.loaders.roles.load(self.id)]

    @strawberry.field(description="Skills the member wants to develop.")
    async def skills_sought(self, info: Info) -> list[Skill]:
        """Through the skills loader."""
        return await _skills(info, self.id, "sought")

    @strawberry.field(description="Skills the member offers to mentees.")
    async def skills_offered(self, info: Info) -> list[Skill]:
        """Through the skills loader."""
        return await _skills(info, self.id, "offered")

    @strawberry.field(description="The member's mentoring offer (capacity 0 when not mentoring).")
    async def mentoring_offer(self, info: Info) -> MentoringOffer:
        """Through the offers loader."""
        offer = await info.context.loaders.offers.load(self.id)
        return MentoringOffer.from_model(offer, member=self.model)

    @strawberry.field(extensions=_own(), description="Your own account only: email confirmed?")
    def email_verified(self) -> bool | None:
        """Whether the member has followed the verification link."""
        return self.model.is_verified

    @strawberry.field(extensions=_own(), description="Your own account only.")
    def contact_visibility(self) -> ContactVisibility | None:
        """Who may see the member's email and organisation."""
        return to_enum(ContactVisibility, self.model.contact_visibility)

    @strawberry.field(extensions=_own(), description="Your own account only: unread notifications.")
    def unread_notification_count(self, info: Info) -> int | None:
        """How many of the member's notifications are unread."""
        return notification_service.unread_count(session=info.context.session, member_id=self.id)

    @strawberry.field(extensions=_own(), description="Your own account only: unread messages.")
    def unread_messages(self, info: Info) -> int | None:
        """How many messages in the member's conversations they have not read."""
        return messaging_service.unread_total(session=info.context.session, member_id=self.id)

    @strawberry.field(
        extensions=_own(), description="Your own account only (empty for others): email modes."
    )
    def notification_preferences(self, info: Info) -> list[NotificationPreference]:
        """Every notification kind with the member's chosen mode."""
        modes = notification_service.preferences(session=info.context.session, member_id=self.id)
        return preference_list(modes)

    @strawberry.field(
        description="Admins only (null for others): the chapters the member organises."
    )
    def organiser_scopes(
        self, info: Info
    ) -> list[Annotated[OrganiserScope, strawberry.lazy("schema.chapters")]] | None:
        """The member's organiser scopes, as an admin sees them."""
        from backend.chapters import service as chapters
        from backend.errors import Forbidden
        from schema.chapters import OrganiserScope

        try:
            held = chapters.organiser_scopes_of(
                session=info.context.session, admin=info.context.member, member_id=self.id
            )
        except Forbidden:
            return None
        return [OrganiserScope.from_model(c) for c in held]

    @strawberry.field(extensions=_own(), description="Your own access tokens, newest first.")
    def access_tokens(self, info: Info) -> list[AccessToken]:
        """The member's personal access tokens (never their secrets)."""
        tokens = accounts.list_access_tokens(session=info.context.session, member=self.model)
        return [AccessToken.from_model(t) for t in tokens]


@strawberry.input(description="Directory filters; leave a field out not to filter on it.")
class MemberFilter:
    text: str | None = strawberry.field(
        default=None,
        description="Words to find in the name, job title, organisation or bio (all must match).",
    )
    skill_offered: strawberry.ID | None = strawberry.field(
        default=None, description="Members offering this skill id."
    )
    skill_sought: strawberry.ID | None = strawberry.field(
        default=None, description="Members wanting to develop this skill id."
    )
    region: Region | None = None
    band: Band | None = None
    role_family: RoleFamily | None = None
    organisation_type: OrganisationType | None = None
    meeting_format: MeetingFormat | None = strawberry.field(
        default=None, description="REMOTE or IN_PERSON also finds members happy with EITHER."
    )
    mentors_with_free_capacity: bool = strawberry.field(
        default=False, description="Only mentors with a free place who have not paused."
    )
    exclude_self: bool = strawberry.field(default=False, description="Leave yourself out.")

    def to_service(self) -> directory.DirectoryFilter:
        """The directory service's filter."""
        return directory.DirectoryFilter(
            text=self.text or "",
            skill_offered=str(self.skill_offered) if self.skill_offered else None,
            skill_sought=str(self.skill_sought) if self.skill_sought else None,
            region=from_enum(self.region),
            band=from_enum(self.band),
            role_family=from_enum(self.role_family),
            organisation_type=from_enum(self.organisation_type),
            meeting_format=from_enum(self.meeting_format),
            mentors_with_free_capacity=self.mentors_with_free_capacity,
            exclude_self=self.exclude_self,
        )


@strawberry.type
class MemberQuery:
    """Queries about members."""

    @strawberry.field(description="The signed-in member, or null when anonymous.")
    def me(self, info: Info) -> Member | None:
        """The caller."""
        member = info.context.member
        return Member.from_model(member) if member is not None else None

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A member by global id (signed-in members only); null when there is none.",
    )
    def member(self, info: Info, id: strawberry.ID) -> Member | None:
        """One member's profile."""
        member_id = decode(id, type_name="Member")
        try:
            found = member_service.get(
                session=info.context.session, member_id=member_id, viewer=info.context.member
            )
        except NotFound:
            return None
        return Member.from_model(found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The member directory by name, filtered (signed-in members only).",
    )
    def members(
        self,
        info: Info,
        filter: MemberFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[Member]:
        """A page of the directory."""
        limit = page_size(first, info, default=20)
        offset = decode_offset(after)
        rows, more = directory.search(
            session=info.context.session,
            viewer=info.context.member,
            filter=(filter or MemberFilter()).to_service(),
            offset=offset,
            limit=limit,
        )
        return connection([Member.from_model(row) for row in rows], offset=offset, more=more)


@strawberry.input(description="Only the fields given change; leave a field out to keep it.")
class UpdateProfileInput:
    name: str | None = UNSET
    job_title: str | None = UNSET
    organisation: str | None = strawberry.field(
        default=UNSET, description="The organisation's name; a new one is added if unknown."
    )
    region: Region | None = UNSET
    role_family: RoleFamily | None = UNSET
    band: Band | None = UNSET
    profession: Profession | None = UNSET
    management_years: int | None = UNSET
    bio: str | None = UNSET
    goals: str | None = UNSET
    skills_sought: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Skill ids (at most 10); replaces the current list."
    )
    meeting_format: MeetingFormat | None = UNSET
    seeking_mentor: bool | None = UNSET
    outside_organisation_only: bool | None = UNSET
    contact_visibility: ContactVisibility | None = UNSET


@strawberry.type(description="The profile, as saved.")
class UpdateProfileSuccess:
    member: Member


@strawberry.input
class SetMentoringOfferInput:
    capacity: int = strawberry.field(description="0 (not mentoring) to 10 mentees at once.")
    paused: bool = False
    skills_offered: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Skill ids you can help with (needed if capacity > 0)."
    )
    meeting_format: MeetingFormat | None = None
    note: str = ""


@strawberry.type(description="The offer, as saved.")
class SetMentoringOfferSuccess:
    member: Member
    mentoring_offer: MentoringOffer


UpdateProfileResult = Annotated[
    UpdateProfileSuccess | errors.Problem,
    errors.result_named("UpdateProfileResult", UpdateProfileSuccess),
]
SetMentoringOfferResult = Annotated[
    SetMentoringOfferSuccess | errors.Problem,
    errors.result_named("SetMentoringOfferResult", SetMentoringOfferSuccess),
]


def _given(value: object) -> object:
    """UNSET and null both mean 'leave as it is' in a profile update."""
    return None if value is UNSET else from_enum(value)


@strawberry.type
class MemberMutation:
    """Mutations on the signed-in member's own profile and offer."""

    @strawberry.mutation(description="Change your profile; every problem is reported at once.")
    def update_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfileResult:
        """Save profile changes."""
        context = info.context

        def update() -> UpdateProfileSuccess:
            values: dict[str, Any] = {
                name: _given(getattr(input, name)) for name in _PROFILE_FIELDS
            }
            check_lists(skills_sought=values["skills_sought"])
            check_text(**{k: v for k, v in values.items() if isinstance(v, str)})
            if values["skills_sought"] is not None:
                values["skills_sought"] = [str(s) for s in values["skills_sought"]]
            member = member_service.update_profile(
                session=context.session,
                member=context.member,
                update=member_service.ProfileUpdate(**values),
            )
            context.member = member
            context.reset_loaders()
            return UpdateProfileSuccess(member=Member.from_model(member))

        return errors.outcome(update)

    @strawberry.mutation(description="Set how many mentees you will take and with which skills.")
    def set_mentoring_offer(
        self, info: Info, input: SetMentoringOfferInput
    ) -> SetMentoringOfferResult:
        """Save the mentoring offer."""
        context = info.context

        def save() -> SetMentoringOfferSuccess:
            check_lists(skills_offered=input.skills_offered)
            check_text(note=input.note)
            offer = member_service.set_mentoring_offer(
                session=context.session,
                member=context.member,
                offer=member_service.OfferUpdate(
                    capacity=input.capacity,
                    paused=input.paused,
                    skills_offered=[str(s) for s in input.skills_offered],
                    meeting_format=from_enum(input.meeting_format),
                    note=input.note,
                ),
            )
            context.reset_loaders()
            member = member_service.require_account(context.member)
            return SetMentoringOfferSuccess(
                member=Member.from_model(member),
                mentoring_offer=MentoringOffer.from_model(offer, member=member),
            )

        return errors.outcome(save)


_PROFILE_FIELDS = (
    "name",
    "job_title",
    "organisation",
    "region",
    "role_family",
    "band",
    "profession",
    "management_years",
    "bio",
    "goals",
    "skills_sought",
    "meeting_format",
    "seeking_mentor",
    "outside_organisation_only",
    "contact_visibility",
)
