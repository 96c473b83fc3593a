"""The organisation register for admins: ``adminOrganisations``, ``adminOrganisation``, and the
mutations ``importOrganisations`` (an ODS CSV file), ``updateOrganisation`` and
``mergeOrganisations``. The rules (admins only) are in ``backend.organisations.register``."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry
from strawberry import UNSET, relay

from backend.errors import Invalid
from backend.organisations import register
from schema import errors
from schema.context import Info
from schema.enums import OrganisationType, Region, from_enum
from schema.ids import decode
from schema.inputs import check_text
from schema.permissions import IsAuthenticated
from schema.reference import Organisation, connection, decode_offset, page_size

MAX_CSV_CHARACTERS = register.MAX_FILE_BYTES


@strawberry.enum(description="Which organisations an admin lists.")
class OrganisationListing(enum.Enum):
    REGISTER = strawberry.enum_value(
        "register", description="Open organisations from the ODS register."
    )
    OTHER = strawberry.enum_value(
        "other", description="Organisations members added that are not in the register."
    )
    CLOSED = strawberry.enum_value(
        "closed", description="Organisations the register lists as closed."
    )


@strawberry.type(
    description="An organisation as an admin sees it (its id is the organisation's database id "
    "under the AdminOrganisation type; organisation has the Organisation id)."
)
class AdminOrganisation(relay.Node):
    id: relay.NodeID[int]
    organisation: Organisation
    member_count: int = strawberry.field(description="Members who work for it.")
    merged_into: Organisation | None = strawberry.field(
        description="The organisation it was merged into; its name now leads there."
    )

    @classmethod
    def from_row(cls, info: Info, row: register.OrganisationRow) -> AdminOrganisation:
        """The GraphQL view of a register row."""
        o = row.organisation
        into = None
        if o.merged_into_id is not None:
            into = Organisation.from_model(
                register.organisation_row(
                    session=info.context.session,
                    admin=info.context.member,
                    organisation_id=o.merged_into_id,
                ).organisation
            )
        return cls(
            id=o.id,
            organisation=Organisation.from_model(o),
            member_count=row.members,
            merged_into=into,
        )


def _admin_organisation(info: Info, organisation_id: int) -> AdminOrganisation:
    row = register.organisation_row(
        session=info.context.session, admin=info.context.member, organisation_id=organisation_id
    )
    return AdminOrganisation.from_row(info, row)


@strawberry.input(
    description="An NHS ODS CSV file (headerless: code, name, national grouping, high level "
    "health geography, address lines 1-5, postcode, open date, close date, ...)."
)
class ImportOrganisationsInput:
    csv: str = strawberry.field(description="The whole file as text.")
    type: OrganisationType | None = strawberry.field(
        default=None,
        description="The type of every organisation it lists; null: worked out from each name.",
    )


@strawberry.type(description="A row of the file that was not imported.")
class OrganisationImportProblem:
    line: int
    ods_code: str
    message: str


@strawberry.type(description="What the import did; bad rows are listed, the good ones imported.")
class ImportOrganisationsSuccess:
    created: int
    updated: int
    unchanged: int
    closed: int = strawberry.field(description="Already in the register, now marked closed.")
    skipped_closed: int = strawberry.field(description="Closed, so not added.")
    problems: list[OrganisationImportProblem]
    summary: str


@strawberry.input(description="Change an organisation; leave a field out to keep it.")
class UpdateOrganisationInput:
    organisation_id: strawberry.ID
    type: OrganisationType | None = UNSET
    region: Region | None = strawberry.field(default=UNSET, description="null: not known.")
    ods_code: str | None = strawberry.field(default=UNSET, description="null or empty: none.")
    add_to_register: bool = strawberry.field(
        default=False, description="Add an organisation members typed to the register as it is."
    )


@strawberry.type(description="The organisation after the change.")
class UpdateOrganisationSuccess:
    organisation: AdminOrganisation


@strawberry.input(
    description="Merge an organisation (a duplicate, or one members typed) into one of the "
    "register: its members and every other reference move; it stays as another name."
)
class MergeOrganisationsInput:
    organisation_id: strawberry.ID = strawberry.field(description="The one merged away.")
    into_id: strawberry.ID = strawberry.field(description="The register's organisation kept.")


@strawberry.type(description="What moved, and the organisation kept.")
class MergeOrganisationsSuccess:
    organisation: AdminOrganisation = strawberry.field(description="The organisation kept.")
    members_moved: int
    references_moved: int = strawberry.field(description="Every reference moved, members too.")


ImportOrganisationsResult = Annotated[
    ImportOrganisationsSuccess | errors.Problem,
    errors.result_named("ImportOrganisationsResult", ImportOrganisationsSuccess),
]
UpdateOrganisationResult = Annotated[
    UpdateOrganisationSuccess | errors.Problem,
    errors.result_named("UpdateOrganisationResult", UpdateOrganisationSuccess),
]
MergeOrganisationsResult = Annotated[
    MergeOrganisationsSuccess | errors.Problem,
    errors.result_named("MergeOrganisationsResult", MergeOrganisationsSuccess),
]


def _organisation_id(raw: strawberry.ID, field: str) -> int:
    return decode(raw, type_name="Organisation", field=field)


@strawberry.type
class OrganisationAdminQuery:
    """Admins: the organisation register with member counts."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Admins: organisations by name (part of it, or the ODS code), with member "
        "counts; OTHER lists those members typed, waiting to be matched to the register.",
    )
    def admin_organisations(
        self,
        info: Info,
        search: str | None = None,
        listing: OrganisationListing | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[AdminOrganisation]:
        """A page of organisations (at most 50)."""
        check_text(search=search)
        limit = min(page_size(first, info, default=register.PAGE_SIZE), register.PAGE_SIZE)
        offset = decode_offset(after)
        rows, more = register.find_organisations(
            session=info.context.session,
            admin=info.context.member,
            search=search or "",
            status=str(listing.value) if listing is not None else "",
            offset=offset,
            limit=limit,
        )
        return connection(
            [AdminOrganisation.from_row(info, r) for r in rows], offset=offset, more=more
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Admins: one organisation, by Organisation id.",
    )
    def admin_organisation(self, info: Info, id: strawberry.ID) -> AdminOrganisation:
        """The organisation with its member count."""
        return _admin_organisation(info, _organisation_id(id, "id"))


@strawberry.type
class OrganisationAdminMutation:
    """Admins: import, change and merge organisations."""

    @strawberry.mutation(
        description="Admins: import or update the register from an NHS ODS CSV file."
    )
    def import_organisations(
        self, info: Info, input: ImportOrganisationsInput
    ) -> ImportOrganisationsResult:
        """Import the file; the good rows are written, the bad ones listed."""
        context = info.context

        def change() -> ImportOrganisationsSuccess:
            if len(input.csv) > MAX_CSV_CHARACTERS:
                raise Invalid("The file is larger than 5 MB: split it.", field="csv")
            result = register.import_ods(
                session=context.session,
                admin=context.member,
                data=input.csv,
                type=from_enum(input.type) or register.DERIVE,
            )
            return ImportOrganisationsSuccess(
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                closed=result.closed,
                skipped_closed=result.skipped_closed,
                problems=[
                    OrganisationImportProblem(line=p.line, ods_code=p.code, message=p.reason)
                    for p in result.problems[: register.MAX_PROBLEMS_SHOWN]
                ],
                summary=result.summary(),
            )

        return errors.outcome(change)

    @strawberry.mutation(
        description="Admins: change an organisation's type, region or ODS code, or add one "
        "members typed to the register."
    )
    def update_organisation(
        self, info: Info, input: UpdateOrganisationInput
    ) -> UpdateOrganisationResult:
        """Change the organisation."""
        context = info.context

        def change() -> UpdateOrganisationSuccess:
            check_text(ods_code=input.ods_code if isinstance(input.ods_code, str) else None)
            organisation_id = _organisation_id(input.organisation_id, "organisationId")
            region = input.region
            register.update_organisation(
                session=context.session,
                admin=context.member,
                organisation_id=organisation_id,
                type=from_enum(input.type) if input.type not in (UNSET, None) else None,
                region=from_enum(region) if region not in (UNSET, None) else None,
                clear_region=region is None,
                ods_code=(input.ods_code or "") if input.ods_code is not UNSET else None,
                add_to_register=input.add_to_register,
            )
            return UpdateOrganisationSuccess(
                organisation=_admin_organisation(info, organisation_id)
            )

        return errors.outcome(change)

    @strawberry.mutation(
        description="Admins: merge an organisation into one of the register (members and every "
        "reference move, in one step)."
    )
    def merge_organisations(
        self, info: Info, input: MergeOrganisationsInput
    ) -> MergeOrganisationsResult:
        """Merge the two."""
        context = info.context

        def change() -> MergeOrganisationsSuccess:
            merged_id = _organisation_id(input.organisation_id, "organisationId")
            into_id = _organisation_id(input.into_id, "intoId")
            result = register.merge(
                session=context.session,
                admin=context.member,
                organisation_id=merged_id,
                into_id=into_id,
            )
            return MergeOrganisationsSuccess(
                organisation=_admin_organisation(info, into_id),
                members_moved=result.members,
                references_moved=sum(result.moved.values()),
            )

        return errors.outcome(change)
