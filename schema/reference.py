"""Reference data: the skills framework, organisations, and the fixed vocabularies."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay

from backend.errors import Invalid
from backend.organisations import service as organisation_service
from backend.organisations.models import Organisation as OrganisationModel
from backend.skills import service as skill_service
from backend.skills.models import Skill as SkillModel
from schema.context import Info
from schema.enums import (
    Band,
    MeetingFormat,
    OrganisationType,
    Profession,
    Region,
    RoleFamily,
    to_enum,
)
from schema.ids import database_id
from vocabulary import (
    BANDS,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    humanise,
)

NodeT = TypeVar("NodeT", bound=relay.Node)


@strawberry.type(description="A skill in the framework; `id` is a stable slug, used in inputs.")
class Skill:
    id: strawberry.ID
    name: str
    group: str
    retired: bool = strawberry.field(
        description="Retired by an admin: kept on old records, no longer offered as a choice."
    )

    @classmethod
    def from_model(cls, skill: SkillModel) -> Skill:
        """The GraphQL view of a skill."""
        return cls(
            id=strawberry.ID(skill.id),
            name=skill.name,
            group=skill.group,
            retired=skill.retired_at is not None,
        )


@strawberry.type(description="An NHS employer: a trust, an ICB, a practice, or another body.")
class Organisation(relay.Node):
    id: relay.NodeID[int]
    name: str
    type: OrganisationType
    region: Region | None
    ods_code: str | None = strawberry.field(
        description="Its NHS ODS code (for example RXN), when the register has one."
    )
    in_register: bool = strawberry.field(
        description="From the organisation register; false for a name a member typed that an "
        "admin has not yet matched to the register."
    )
    closed_on: date | None = strawberry.field(
        description="When the ODS register says it closed; null while open."
    )

    @classmethod
    def from_model(cls, organisation: OrganisationModel) -> Organisation:
        """The GraphQL view of an organisation."""
        return cls(
            id=organisation.id,
            name=organisation.name,
            type=to_enum(OrganisationType, organisation.type),
            region=to_enum(Region, organisation.region),
            ods_code=organisation.ods_code,
            in_register=organisation.status == "register",
            closed_on=organisation.closed_on,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Organisation | None]:
        """Organisations are public reference data."""
        ids = [database_id(i) for i in node_ids]
        found = organisation_service.get_many(
            session=info.context.session, organisation_ids=[i for i in ids if i is not None]
        )
        return [cls.from_model(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A region and how to show it.")
class RegionOption:
    value: Region
    label: str


@strawberry.type(description="A pay band and how to show it.")
class BandOption:
    value: Band
    label: str


@strawberry.type(description="A role family and its label.")
class RoleFamilyOption:
    value: RoleFamily
    label: str


@strawberry.type(description="A profession and its label.")
class ProfessionOption:
    value: Profession
    label: str


@strawberry.type(description="A meeting format and its label.")
class MeetingFormatOption:
    value: MeetingFormat
    label: str


def _options(option_type: Any, enum_type: Any, values: tuple[str, ...], label: Any) -> list[Any]:
    return [option_type(value=enum_type(v), label=label(v)) for v in values]


def _band_label(band: str) -> str:
    return band if band == "VSM" else f"Band {band}"


def decode_offset(after: str | None) -> int:
    """The offset after a cursor; a cursor the API did not make is refused clearly."""
    if after is None:
        return 0
    try:
        kind, offset = relay.from_base64(after)
        if kind != "offset" or not offset.isdigit():
            raise ValueError(after)
    except (ValueError, TypeError) as error:
        raise Invalid("That cursor is not one this API gave out.", field="after") from error
    return int(offset) + 1


def encode_offset(offset: int) -> str:
    """The cursor of the item at ``offset``."""
    return relay.to_base64("offset", offset)


def page_size(first: int | None, info: Info, *, default: int) -> int:
    """``first`` checked against the configured maximum page size."""
    maximum = info.context.settings.max_page_size
    if first is None:
        return min(default, maximum)
    if not 1 <= first <= maximum:
        raise Invalid(f"first must be from 1 to {maximum}.", field="first")
    return first


def connection(nodes: list[NodeT], *, offset: int, more: bool) -> relay.Connection[NodeT]:
    """A Relay connection over one page of ``nodes`` starting at ``offset``."""
    edges = [
        relay.Edge(node=node, cursor=encode_offset(offset + i)) for i, node in enumerate(nodes)
    ]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=more,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@strawberry.type
class ReferenceQuery:
    """Reference data anyone may read (sign-up forms need it before there is an account)."""

    @strawberry.field(
        description="The skills members can choose, in framework order; with includeRetired, "
        "the retired ones too."
    )
    def skills(self, info: Info, include_retired: bool = False) -> list[Skill]:
        """The skills framework."""
        return [
            Skill.from_model(s)
            for s in skill_service.list_skills(
                session=info.context.session, retired=include_retired
            )
        ]

    @strawberry.field(
        description="Organisations by name; `search` matches part of the name (or is the ODS "
        "code); `inRegister: true` gives only the register's open organisations, what sign-up "
        "offers. Organisations merged into another are left out."
    )
    def organisations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: Annotated[str | None, strawberry.argument(description="Part of a name.")] = None,
        in_register: bool | None = None,
    ) -> relay.Connection[Organisation]:
        """A page of organisations."""
        limit = page_size(first, info, default=50)
        offset = decode_offset(after)
        if search is not None and len(search) > 200:
            raise Invalid("search must be 200 characters or fewer.", field="search")
        rows, more = organisation_service.page(
            session=info.context.session,
            search=search or "",
            offset=offset,
            limit=limit,
            in_register=in_register,
        )
        return connection([Organisation.from_model(row) for row in rows], offset=offset, more=more)

    @strawberry.field(description="The seven NHS England regions.")
    def regions(self) -> list[RegionOption]:
        """Regions with labels."""
        return _options(RegionOption, Region, REGIONS, str)

    @strawberry.field(description="Pay bands, in order of seniority.")
    def bands(self) -> list[BandOption]:
        """Bands with labels."""
        return _options(BandOption, Band, BANDS, _band_label)

    @strawberry.field(description="Role families.")
    def role_families(self) -> list[RoleFamilyOption]:
        """Role families with labels."""
        return _options(RoleFamilyOption, RoleFamily, ROLE_FAMILIES, humanise)

    @strawberry.field(description="Professional backgrounds.")
    def professions(self) -> list[ProfessionOption]:
        """Professions with labels."""
        return _options(ProfessionOption, Profession, PROFESSIONS, humanise)

    @strawberry.field(description="Ways of meeting.")
    def meeting_formats(self) -> list[MeetingFormatOption]:
        """Meeting formats with labels."""
        return _options(MeetingFormatOption, MeetingFormat, MEETING_FORMATS, humanise)
