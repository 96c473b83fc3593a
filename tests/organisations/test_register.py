"""The organisation register kept by admins: importing the NHS ODS CSV layout (idempotent, bad
rows listed, closed organisations), editing, and merging (every reference moves; the merged row
stays as an alias that leads to the survivor). Admins only; each change audited."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from backend.audit import actions as a
from backend.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from backend.members.models import Member
from backend.models import metadata
from backend.organisations import register
from backend.organisations import service as organisation_service
from backend.organisations.models import Organisation
from tests.csv_injection import read
from tests.factories import audit_events, make_member, make_organisation, make_organiser

SAMPLE = Path(__file__).resolve().parents[2] / "backend" / "demo_data" / "ods_trusts_sample.csv"


def ods_row(code: str, name: str, grouping: str = "Y63", closed: str = "") -> str:
    """One row of the ODS layout: 27 columns, the first 12 meaningful."""
    cells = [code, name, grouping, "QWO", "BECKETT STREET", "", "LEEDS", "", "", "LS9 7TF"]
    cells += ["20010401", closed] + [""] * 9 + ["0"] + [""] * 5
    return ",".join(f'"{c}"' for c in cells) + "\r\n"


@pytest.fixture
def admin(session):  # type: ignore[no-untyped-def]
    return make_member(session, name="Ada Admin", organisation="NHS England", roles=("admin",))


def organisation(session, code: str) -> Organisation:  # type: ignore[no-untyped-def]
    return session.exec(select(Organisation).where(Organisation.ods_code == code)).one()


def test_an_ods_file_fills_the_register_with_codes_regions_and_types(session, admin):  # type: ignore[no-untyped-def]
    data = ods_row("RR8", "LEEDS TEACHING HOSPITALS NHS TRUST") + ods_row(
        "RX7", "NORTH WEST AMBULANCE SERVICE NHS TRUST", "Y62"
    )
    result = register.import_ods(session=session, admin=admin, data=data)

    assert (result.created, result.updated, result.problems) == (2, 0, [])
    leeds, ambulance = organisation(session, "RR8"), organisation(session, "RX7")
    assert (leeds.name, leeds.region, leeds.type, leeds.status) == (
        "Leeds Teaching Hospitals NHS Trust",
        "North East and Yorkshire",
        "acute-trust",
        "register",
    )
    assert (ambulance.region, ambulance.type) == ("North West", "ambulance-trust")
    [event] = audit_events(session, a.ORGANISATIONS_IMPORTED)
    assert event.actor_id == admin.id and json.loads(event.details)["created"] == 2


def test_a_type_chosen_at_import_is_given_to_every_row(session, admin):  # type: ignore[no-untyped-def]
    register.import_ods(
        session=session,
        admin=admin,
        data=ods_row("QWO", "NHS WEST YORKSHIRE INTEGRATED CARE BOARD"),
        type="integrated-care-board",
    )
    assert organisation(session, "QWO").type == "integrated-care-board"
    with pytest.raises(Invalid) as refused:
        register.import_ods(session=session, admin=admin, data=ods_row("X1Y", "A"), type="boss")
    assert refused.value.field == "type"


def test_importing_again_updates_by_code_and_never_duplicates(session, admin):  # type: ignore[no-untyped-def]
    first = ods_row("RR8", "LEEDS TEACHING HOSPITALS NHS TRUST") + ods_row("RAE", "BRADFORD NHS")
    register.import_ods(session=session, admin=admin, data=first)
    again = register.import_ods(session=session, admin=admin, data=first)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)

    renamed = ods_row("RR8", "LEEDS TEACHING HOSPITALS NHS FOUNDATION TRUST") + ods_row(
        "RAE", "BRADFORD NHS"
    )
    third = register.import_ods(session=session, admin=admin, data=renamed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert organisation(session, "RR8").name == "Leeds Teaching Hospitals NHS Foundation Trust"
    assert (
        session.exec(
            select(func.count()).select_from(Organisation).where(Organisation.status == "register")
        ).one()
        == 2
    )


def test_a_name_members_typed_is_adopted_into_the_register(session, admin):  # type: ignore[no-untyped-def]
    typed = make_member(session, organisation="leeds teaching  hospitals nhs trust")
    other = session.get(Organisation, typed.organisation_id)
    assert other.status == "other"

    register.import_ods(
        session=session, admin=admin, data=ods_row("RR8", "LEEDS TEACHING HOSPITALS NHS TRUST")
    )
    adopted = organisation(session, "RR8")
    assert adopted.id == other.id and adopted.status == "register"
    assert adopted.name == "Leeds Teaching Hospitals NHS Trust"


def test_bad_rows_are_listed_with_their_lines_and_the_good_ones_imported(session, admin):  # type: ignore[no-untyped-def]
    make_organisation(session, name="Harrogate District NHS Foundation Trust", ods_code="RCD")
    data = (
        ods_row("RR8", "LEEDS TEACHING HOSPITALS NHS TRUST")  # 1: good
        + ods_row("R!8", "BAD CODE TRUST")  # 2: not a code
        + '"RAE"\r\n'  # 3: no name
        + ods_row("RCF", "AIREDALE NHS FOUNDATION TRUST", closed="2024-03-31")  # 4: bad date
        + ods_row("RR8", "LEEDS AGAIN")  # 5: code twice
        + ods_row("RXF", "HARROGATE DISTRICT NHS FOUNDATION TRUST")  # 6: name of RCD
        + ods_row("RWY", "CALDERDALE\x01 TRUST")  # 7: a control character
        + "\r\n"  # blank: ignored
        + ods_row("RAX", "KINGSTON HOSPITAL NHS FOUNDATION TRUST", "Y56")  # 9: good
    )
    result = register.import_ods(session=session, admin=admin, data=data)

    assert [(p.line, p.code) for p in result.problems] == [
        (2, "R!8"),
        (3, "RAE"),
        (4, "RCF"),
        (5, "RR8"),
        (6, "RXF"),
        (7, "RWY"),
    ]
    reasons = [p.reason for p in result.problems]
    assert "3 to 10 letters and digits" in reasons[0]
    assert "no name" in reasons[1] and "YYYYMMDD" in reasons[2] and "line 1" in reasons[3]
    assert "RCD" in reasons[4]
    assert result.created == 2 and organisation(session, "RAX").region == "London"
    assert "6 rows not imported" in result.summary()
    # The rejected rows are kept for download, the control character made visible.
    kept = read(register.rejects_csv(session=session, admin=admin, rejects_id=result.rejects_id))
    assert [row[-2] for row in kept[1:]] == ["2", "3", "4", "5", "6", "7"]
    assert kept[-1][1] == "CALDERDALE\ufffd TRUST" and kept[2][0] == "RAE"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no rows"),
        (b"\r\n\r\n", "no rows"),
        (b'"RR8","A\x00B"', "not a CSV"),
        (b"\xff\xfe\x00\x00" * 10, "not a CSV"),
        (b"x" * (register.MAX_FILE_BYTES + 1), "larger than 5 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(session, admin, data, message):  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as refused:
        register.import_ods(session=session, admin=admin, data=data)
    assert message in refused.value.message and refused.value.field == "file"
    assert session.exec(select(Organisation).where(Organisation.status == "register")).all() == []


def test_closed_organisations_are_skipped_or_marked_closed(session, admin):  # type: ignore[no-untyped-def]
    register.import_ods(session=session, admin=admin, data=ods_row("RR8", "LEEDS TRUST"))
    result = register.import_ods(
        session=session,
        admin=admin,
        data=ods_row("RR8", "LEEDS TRUST", closed="20250331")
        + ods_row("RXY", "OLD TRUST", closed="20200331"),
    )
    assert (result.closed, result.skipped_closed, result.created) == (1, 1, 0)
    assert organisation(session, "RR8").closed_on == date(2025, 3, 31)
    assert organisation_service.register_choices(session=session) == []
    assert session.exec(select(Organisation).where(Organisation.ods_code == "RXY")).first() is None


def test_the_demo_sample_is_the_ods_layout_and_imports_cleanly(session, admin):  # type: ignore[no-untyped-def]
    result = register.import_ods(session=session, admin=admin, data=SAMPLE.read_bytes())
    assert result.problems == [] and result.created >= 36 and result.skipped_closed == 1
    northfield = organisation(session, "RNH")
    assert northfield.name == "Northfield Teaching Hospitals NHS Foundation Trust"
    assert northfield.region == "North East and Yorkshire"
    assert organisation(session, "QMC").type == "integrated-care-board"


def test_members_name_their_organisation_by_name_or_code_and_unknown_ones_wait(session):  # type: ignore[no-untyped-def]
    leeds = make_organisation(
        session, name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8", status="register"
    )
    assert organisation_service.get_or_create(session=session, name="rr8").id == leeds.id
    assert (
        organisation_service.get_or_create(
            session=session, name="LEEDS teaching hospitals nhs trust"
        ).id
        == leeds.id
    )
    typed = organisation_service.get_or_create(session=session, name="Leeds Teaching Hosp")
    assert typed.status == "other" and typed.id != leeds.id
    assert [o.id for o in organisation_service.register_choices(session=session)] == [leeds.id]


def test_only_admins_keep_the_register(session):  # type: ignore[no-untyped-def]
    organiser = make_organiser(session)
    member = make_member(session)
    dup = make_organisation(session, name="Leeds Teaching Hosp")
    leeds = make_organisation(session, name="Leeds Teaching Hospitals", status="register")
    for who in (organiser, member):
        with pytest.raises(Forbidden):
            register.import_ods(session=session, admin=who, data=ods_row("RR8", "LEEDS"))
        with pytest.raises(Forbidden):
            register.merge(session=session, admin=who, organisation_id=dup.id, into_id=leeds.id)
        with pytest.raises(Forbidden):
            register.update_organisation(
                session=session, admin=who, organisation_id=dup.id, type="acute-trust"
            )
        with pytest.raises(Forbidden):
            register.find_organisations(session=session, admin=who)
    with pytest.raises(NotAuthenticated):
        register.merge(session=session, admin=None, organisation_id=dup.id, into_id=leeds.id)
    session.rollback()
    assert session.get(Organisation, dup.id).merged_into_id is None
    assert session.exec(select(Organisation).where(Organisation.ods_code == "RR8")).first() is None


def test_editing_type_region_and_code(session, admin):  # type: ignore[no-untyped-def]
    org = make_organisation(session, name="Wakefield Hospice", type="other", region=None)
    changed = register.update_organisation(
        session=session,
        admin=admin,
        organisation_id=org.id,
        type="community-trust",
        region="North East and Yorkshire",
        ods_code=" rxg ",
        add_to_register=True,
    )
    assert (changed.type, changed.region, changed.ods_code, changed.status) == (
        "community-trust",
        "North East and Yorkshire",
        "RXG",
        "register",
    )
    [event] = audit_events(session, a.ORGANISATION_UPDATED)
    assert set(json.loads(event.details)) == {"type", "region", "ods_code", "status"}
    other = make_organisation(session, name="Another")
    with pytest.raises(Conflict):
        register.update_organisation(
            session=session, admin=admin, organisation_id=other.id, ods_code="RXG"
        )
    for field, kwargs in (
        ("type", {"type": "boss"}),
        ("region", {"region": "Wales"}),
        ("ods_code", {"ods_code": "R-1"}),
    ):
        with pytest.raises(Invalid) as refused:
            register.update_organisation(
                session=session,
                admin=admin,
                organisation_id=other.id,
                **kwargs,  # type: ignore[arg-type]
            )
        assert refused.value.field == field


def test_merging_moves_every_member_and_keeps_an_alias_to_the_survivor(session, admin):  # type: ignore[no-untyped-def]
    leeds = make_organisation(
        session, name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8", status="register"
    )
    typo_members = [make_member(session, organisation="Leeds Teaching Hosptials") for _ in range(3)]
    stayed = make_member(session, organisation="Leeds Teaching Hospitals NHS Trust")
    typo = session.get(Organisation, typo_members[0].organisation_id)

    result = register.merge(session=session, admin=admin, organisation_id=typo.id, into_id=leeds.id)

    assert result.members == 3 and result.into.id == leeds.id
    moved = session.exec(select(Member).where(Member.organisation_id == leeds.id)).all()
    assert {m.id for m in moved} == {m.id for m in typo_members} | {stayed.id}
    alias = session.get(Organisation, typo.id)
    assert alias.merged_into_id == leeds.id
    # The misspelling, typed again at sign-up or in an import, leads to the survivor.
    again = organisation_service.get_or_create(session=session, name="leeds teaching hosptials")
    assert again.id == leeds.id
    assert typo.id not in {o.id for o in organisation_service.page(session=session)[0]}
    [event] = audit_events(session, a.ORGANISATION_MERGED)
    details = json.loads(event.details)
    assert (event.subject_type, event.subject_id) == ("organisation", typo.id)
    assert details["into"] == leeds.id and details["members"] == 3


def test_a_merge_leaves_no_reference_to_the_merged_organisation_anywhere(session, admin):  # type: ignore[no-untyped-def]
    survivor = make_organisation(session, name="Survivor Trust", status="register")
    duplicate = make_organisation(session, name="Survivor Trst")
    make_member(session, organisation="Survivor Trst")
    alias = make_organisation(session, name="Survivr")
    alias.merged_into_id = duplicate.id
    session.add(alias)
    session.flush()

    register.merge(session=session, admin=admin, organisation_id=duplicate.id, into_id=survivor.id)
    session.flush()

    references = register._references()
    assert ("member", "organisation_id") in {(t.name, c) for t, c in references}
    # Every foreign key to organisation.id in the schema, not only the ones known today.
    expected = {
        (table.name, fk.parent.name)
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "organisation" and table.name != "organisation"
    }
    assert {(t.name, c) for t, c in references} == expected
    for table_name, column in expected:
        left = session.execute(
            text(f"SELECT count(*) FROM {table_name} WHERE {column} = :id"),
            {"id": duplicate.id},
        ).scalar()
        assert left == 0, table_name
    assert session.get(Organisation, alias.id).merged_into_id == survivor.id  # no chains


def test_merges_that_make_no_sense_are_refused(session, admin):  # type: ignore[no-untyped-def]
    register_org = make_organisation(session, name="Register Trust", status="register")
    other = make_organisation(session, name="Typed Trust")
    another = make_organisation(session, name="Typed Trust Two")
    with pytest.raises(Invalid) as refused:
        register.merge(session=session, admin=admin, organisation_id=other.id, into_id=other.id)
    assert refused.value.field == "into_id"
    with pytest.raises(Invalid):  # only into the register
        register.merge(session=session, admin=admin, organisation_id=other.id, into_id=another.id)
    register.merge(session=session, admin=admin, organisation_id=other.id, into_id=register_org.id)
    with pytest.raises(Conflict):
        register.merge(
            session=session, admin=admin, organisation_id=other.id, into_id=register_org.id
        )
    with pytest.raises(Invalid):  # into an alias
        register.merge(session=session, admin=admin, organisation_id=another.id, into_id=other.id)
    with pytest.raises(NotFound):
        register.merge(session=session, admin=admin, organisation_id=another.id, into_id=10**9)


def test_the_list_shows_member_counts_and_what_waits_to_be_matched(session, admin):  # type: ignore[no-untyped-def]
    make_organisation(session, name="Leeds Teaching Hospitals", ods_code="RR8", status="register")
    make_member(session, organisation="Leeds Teaching Hospitals")
    make_member(session, organisation="Leeds Teaching Hospitals")
    make_member(session, organisation="Leeds Hosp")
    rows, more = register.find_organisations(session=session, admin=admin, status="other")
    assert [(r.organisation.name, r.members) for r in rows] == [
        ("Leeds Hosp", 1),
        ("NHS England", 1),  # the admin's own, typed
    ]
    assert not more
    rows, _ = register.find_organisations(session=session, admin=admin, search="rr8")
    assert [(r.organisation.name, r.members) for r in rows] == [("Leeds Teaching Hospitals", 2)]
    with pytest.raises(Invalid):
        register.find_organisations(session=session, admin=admin, status="gone")
