"""Programme and chapter insights: the right people, the same disclosure control, the right
organisers, and an audit trail."""

from __future__ import annotations

import pytest
from sqlmodel import select
from strawberry import relay

from backend.audit import actions as a
from backend.audit.models import AuditEvent
from backend.errors import Forbidden, Invalid, NotFound
from backend.insights import disclosure as dc
from backend.insights import service as insights
from backend.programmes.service import default_programme_id
from tests.factories import (
    make_chapter,
    make_member,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser,
    make_organiser_scope,
    make_programme,
    make_programme_application,
)
from tests.web.conftest import log_in


def assert_published(count: dc.Count, true: int) -> None:
    """A published figure is what the method can make of the true count, and nothing else."""
    low, high = dc.window(count, upper=10**6)
    assert low <= true <= high, (count, true)
    assert count.value is None or count.value % 5 == 0
    assert (count.value == 0) == (true == 0)


class Network:
    """Two chapters; a North West programme with 14 mentee applicants and 2 mentors."""

    def __init__(self, session):
        self.north_west = make_chapter(session, name="North West", regions=("North West",))
        self.london = make_chapter(session, name="London", regions=("London",))
        self.network_organiser = make_organiser(session, band="8c", region="London")
        self.nw_organiser = make_member(session, region="North West")
        make_organiser_scope(session, member=self.nw_organiser, chapter=self.north_west)
        self.london_organiser = make_member(session, region="London")
        make_organiser_scope(session, member=self.london_organiser, chapter=self.london)
        self.programme = make_programme(
            session, name="Into management", chapter_id=self.north_west.id
        )
        self.other = make_programme(session, name="London leaders", chapter_id=self.london.id)
        pid = self.programme.id
        mentors = [
            make_mentor(session, capacity=6, region="North West", band="8b") for _ in range(2)
        ]
        for mentor in mentors:
            make_programme_application(
                session, programme=self.programme, member=mentor, role="mentor", status="accepted"
            )
        # 14 mentee applicants, band 4 (10) and band 5 (4): 10 accepted, 2 declined, 2 withdrawn.
        # Of the accepted, 7 in mentorships of the programme: 4 active, 2 completed, 1 ended
        # early. One declined applicant has a mentorship in the default programme only.
        self.applicants = []
        statuses = ["accepted"] * 10 + ["declined"] * 2 + ["withdrawn"] * 2
        mentorships = ["active"] * 4 + ["completed"] * 2 + ["ended_early"]
        for i, status in enumerate(statuses):
            mentee = make_mentee(session, region="North West", band="4" if i < 10 else "5")
            self.applicants.append(mentee)
            make_programme_application(
                session, programme=self.programme, member=mentee, role="mentee", status=status
            )
            if i < len(mentorships):
                make_mentorship(
                    session,
                    mentor=mentors[i % 2],
                    mentee=mentee,
                    status=mentorships[i],
                    programme_id=pid,
                )
        make_mentorship(
            session,
            mentor=make_mentor(session, region="London"),
            mentee=self.applicants[10],
            programme_id=default_programme_id(session=session),
        )
        # 25 London members seeking a mentor, in the network only; 3 applied to London's.
        self.london_members = [make_mentee(session, region="London", band="6") for _ in range(25)]
        for member in self.london_members[:3]:
            make_programme_application(session, programme=self.other, member=member)


@pytest.fixture
def net(session):
    return Network(session)


def within(session, net, **ids):
    return insights.resolve_within(session=session, organiser=net.network_organiser, **ids)


def test_a_programme_counts_its_applicants_and_its_mentorships(session, net):
    view = within(session, net, programme_id=net.programme.id)
    frame = insights._member_frame(session, first_month=0, within=view)

    # 14 mentee applicants and 2 mentors; nobody of London.
    assert len(frame) == 16
    assert int(frame["sought"].sum()) == 14
    assert int(frame["matched"].sum()) == 7  # the default programme's mentorship is not one
    assert int(frame["active"].sum()) == 4
    assert int(frame["completed"].sum()) == 2
    assert int(frame["mentors"].sum()) == 2
    # The published dashboard of the programme: the same people, protected as everywhere.
    report = insights.insights(
        session=session,
        organiser=net.network_organiser,
        programme_id=net.programme.id,
        dimensions=["band"],
    )
    [by_band] = report.breakdowns
    assert_published(by_band.totals["joined"], 16)
    assert_published(by_band.totals["sought"], 14)
    assert by_band.stage_labels[0] == "Applied or took part"
    cross = report.cross_organisation.rows
    assert_published(dc.Count(int(cross[2][1]) if cross[2][1] != "*" else None), 7)


def test_the_default_programme_keeps_todays_definitions(session, net):
    view = within(session, net, programme_id=default_programme_id(session=session))
    everyone = insights._member_frame(session, first_month=0)
    frame = insights._member_frame(session, first_month=0, within=view)

    # Everybody counts; only the default programme's mentorship is a match.
    assert len(frame) == len(everyone)
    assert int(frame["matched"].sum()) == 1
    assert int(everyone["matched"].sum()) == 8
    assert int(frame["sought"].sum()) == int(everyone["sought"].sum())


def test_a_chapter_counts_the_members_it_covers(session, net):
    nw = insights._member_frame(
        session, first_month=0, within=within(session, net, chapter_id=net.north_west.id)
    )
    london = insights._member_frame(
        session, first_month=0, within=within(session, net, chapter_id=net.london.id)
    )

    # North West: 14 applicants, 2 mentors and its organiser.
    assert len(nw) == 17
    # London: 25 members, the network organiser, London's organiser, one mentor.
    assert len(london) == 28
    both = insights._member_frame(
        session,
        first_month=0,
        within=within(session, net, chapter_id=net.london.id, programme_id=net.other.id),
    )
    assert len(both) == 3


def test_the_funnel_counts_each_stage(session, net):
    funnel = insights.programme_funnel(
        session=session,
        organiser=net.nw_organiser,
        programme_id=net.programme.id,
        dimension_key="band",
    )
    frame = insights._funnel_frame(
        session, within(session, net, programme_id=net.programme.id), insights.dimension("band")
    )

    assert len(frame) == 14
    assert {stage: int(frame[stage].sum()) for stage in insights.FUNNEL_COLUMNS} == {
        "applied": 14,
        "accepted": 10,
        "matched": 7,
        "active": 4,
        "completed": 2,
    }
    rows = {row.group: row for row in funnel.rows}
    truth = {"applied": 10, "accepted": 10, "matched": 7, "active": 4, "completed": 2}
    for stage, n in truth.items():
        assert_published(rows["4"].counts[stage], n)
    assert_published(funnel.totals["applied"], 14)
    # Conversions from the published counts only, hidden where either is.
    for row in [*funnel.rows]:
        assert row.conversions["matched"] == dc.share(row.counts["matched"], row.counts["accepted"])
        if row.counts["accepted"].hidden or row.counts["matched"].hidden:
            assert row.conversions["matched"] is None
    # Complementary suppression down every column.
    for stage in insights.FUNNEL_COLUMNS:
        column = [row.counts[stage] for row in funnel.rows] + [funnel.totals[stage]]
        assert sum(c.hidden for c in column) != 1
    table = funnel.table()
    assert table.key == "funnel-by-band"
    assert table.rows[-1][0] == "Total"
    assert "Matched of accepted %" in table.columns


def test_a_filter_that_isolates_three_people_never_shows_three(session, net):
    # London's programme: 3 applicants. Under every secret, no figure is 1-7 and none is off
    # the grid of 5: 3 shows as * (or as 10 after perturbation), never as 3.
    seen = set()
    for n in range(40):
        keys = dc.CellKeys(f"secret number {n} of forty, long enough".encode())
        report = insights.insights(
            session=session,
            organiser=net.network_organiser,
            programme_id=net.other.id,
            dimensions=["band", "region"],
            keys=keys,
            audited=False,
        )
        funnel = insights.programme_funnel(
            session=session,
            organiser=net.network_organiser,
            programme_id=net.other.id,
            dimension_key="band",
            keys=keys,
            audited=False,
        )
        counts = [funnel.totals["applied"], report.members]
        for breakdown in report.breakdowns:
            for cells in [row.counts for row in breakdown.rows] + [breakdown.totals]:
                counts.extend(cells.values())
        counts.extend(c for row in funnel.rows for c in row.counts.values())
        for count in counts:
            assert count.value is None or (count.value % 5 == 0 and count.value != 3)
        seen.add(funnel.totals["applied"].text)
        # The one group of three: hidden with its total, or perturbed to 10.
        [band6] = [row for row in funnel.rows if row.group == "6"]
        assert band6.counts["applied"].text in ("*", "10")
        assert band6.conversions["accepted"] is None or band6.counts["applied"].value
    assert seen <= {"*", "10"}


def test_only_organisers_who_manage_the_programme_may_see_it(session, net):
    member = make_member(session, region="North West")

    with pytest.raises(Forbidden):
        insights.insights(session=session, organiser=member, programme_id=net.programme.id)
    with pytest.raises(Forbidden):
        insights.insights(
            session=session, organiser=net.london_organiser, programme_id=net.programme.id
        )
    with pytest.raises(Forbidden):
        insights.programme_funnel(
            session=session,
            organiser=net.london_organiser,
            programme_id=net.programme.id,
            dimension_key="band",
        )
    # A chapter organiser may not see the default (network-wide) programme, another chapter,
    # or guess at ids.
    with pytest.raises(Forbidden):
        insights.insights(
            session=session,
            organiser=net.nw_organiser,
            programme_id=default_programme_id(session=session),
        )
    with pytest.raises(Forbidden):
        insights.insights(session=session, organiser=net.nw_organiser, chapter_id=net.london.id)
    with pytest.raises(Forbidden):
        insights.insights(session=session, organiser=net.nw_organiser, programme_id=99999)
    with pytest.raises(NotFound):
        insights.insights(session=session, organiser=net.network_organiser, programme_id=99999)
    with pytest.raises(NotFound):
        insights.insights(session=session, organiser=net.network_organiser, chapter_id=99999)
    with pytest.raises(Invalid):
        insights.programme_funnel(
            session=session,
            organiser=net.nw_organiser,
            programme_id=net.programme.id,
            dimension_key="shoe_size",
        )
    # Their own programme and chapter: yes.
    report = insights.insights(
        session=session,
        organiser=net.nw_organiser,
        programme_id=net.programme.id,
        chapter_id=net.north_west.id,
    )
    assert report.within is not None and report.within.programme_name == "Into management"


def test_filter_options_are_what_the_organiser_manages(session, net):
    mine = insights.filter_options(session=session, organiser=net.nw_organiser)
    everything = insights.filter_options(session=session, organiser=net.network_organiser)

    assert [p.name for p in mine.programmes] == ["Into management"]
    assert [c.name for c in mine.chapters] == ["North West"]
    assert everything.programmes[0].is_default
    assert {p.name for p in everything.programmes[1:]} == {"Into management", "London leaders"}
    assert [c.name for c in everything.chapters] == ["London", "North West"]


def test_viewing_programme_insights_is_audited(session, net):
    insights.insights(
        session=session,
        organiser=net.nw_organiser,
        programme_id=net.programme.id,
        chapter_id=net.north_west.id,
    )
    insights.programme_funnel(
        session=session,
        organiser=net.nw_organiser,
        programme_id=net.programme.id,
        dimension_key="age_band",
    )
    insights.insights(session=session, organiser=net.network_organiser)  # unfiltered: as before
    session.flush()

    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == a.INSIGHTS_VIEWED).order_by(AuditEvent.id)
    ).all()
    assert [e.actor_id for e in events] == [net.nw_organiser.id] * 2
    assert events[0].subject_type == "insights"
    assert events[0].details == (
        f'{{"chapter_id":{net.north_west.id},"programme_id":{net.programme.id}}}'
    )
    assert '"dimension":"age-band"' in events[1].details
    table = insights.export_table(
        session=session,
        organiser=net.nw_organiser,
        key="funnel-by-band",
        programme_id=net.programme.id,
    )
    assert table is not None and table.title == "Applications funnel by Agenda for Change band"
    session.flush()
    [exported] = session.exec(
        select(AuditEvent).where(AuditEvent.action == a.INSIGHTS_EXPORTED)
    ).all()
    assert f'"programme_id":{net.programme.id}' in exported.details


def test_the_page_filters_by_programme_and_shows_the_funnel(client, session, net):
    log_in(client, net.nw_organiser.email)

    page = client.get(
        f"/organise/insights?programme={net.programme.id}&chapter={net.north_west.id}&funnel=band"
    )

    assert page.status_code == 200, page.text
    text = page.text
    assert '<label class="nhsuk-label" for="programme">Programme</label>' in text
    assert '<label class="nhsuk-label" for="chapter">Chapter</label>' in text
    assert f'<option value="{net.programme.id}" selected>Into management</option>' in text
    assert "London leaders" not in text  # not theirs to pick
    assert "Showing the programme <strong>Into management</strong>" in text
    assert "Applications funnel by Agenda for Change band" in text
    assert '<th scope="col" class="nhsuk-table__header">Matched of accepted %</th>' in text
    assert 'tabindex="0" role="region" aria-label="Applications funnel by' in text
    query = f"?programme={net.programme.id}&amp;chapter={net.north_west.id}"
    assert f'href="/organise/insights/funnel-by-band.csv{query}"' in text
    # The CSV of the funnel is the table on the page.
    csv_page = client.get(
        f"/organise/insights/funnel-by-band.csv?programme={net.programme.id}"
        f"&chapter={net.north_west.id}"
    )
    assert csv_page.status_code == 200
    assert csv_page.text.splitlines()[0].startswith("Agenda for Change band,Applied,Accepted")


def test_the_page_refuses_other_chapters_and_explains_bad_filters(client, session, net):
    log_in(client, net.london_organiser.email)

    assert client.get(f"/organise/insights?programme={net.programme.id}").status_code == 403
    assert client.get(f"/organise/insights?chapter={net.north_west.id}").status_code == 403
    assert (
        client.get(f"/organise/insights/by-band.csv?programme={net.programme.id}").status_code
        == 403
    )
    bad = client.get("/organise/insights?programme=abc")
    assert bad.status_code == 400
    assert "There is a problem" in bad.text and "Choose a programme from the list." in bad.text
    mine = client.get(f"/organise/insights?programme={net.other.id}&funnel=ethnicity")
    assert mine.status_code == 200
    assert "Applications funnel by ethnicity" in mine.text


def test_members_are_refused_programme_insights_on_the_page(client, session, net):
    log_in(client, net.applicants[0].email)

    assert client.get(f"/organise/insights?programme={net.programme.id}").status_code == 403


FILTERED = """
query($programme: ID, $chapter: ID) {
  insights(dimensions: [BAND], programmeId: $programme, chapterId: $chapter) {
    members { shown value hidden }
    breakdowns { dimension totals { joined { shown value } matched { value } } }
    trend { key columns csv }
  }
}
"""
FUNNEL = """
query($programme: ID!, $dimension: InsightDimension!) {
  programmeFunnel(programmeId: $programme, dimension: $dimension) {
    programmeName dimension title summary
    groups { group label counts { applied { shown value hidden } accepted { value }
             matched { value } active { value } completed { value } }
             conversions { accepted matched active completed } }
    totals { applied { value } matched { value } }
    totalConversions { matched }
    table { key columns rows csv }
  }
}
"""


def gid(kind: str, id: int) -> str:
    return relay.to_base64(kind, id)


def test_graphql_filters_by_programme_and_chapter(run, session, net):
    result = run(
        FILTERED,
        {
            "programme": gid("Programme", net.programme.id),
            "chapter": gid("Chapter", net.north_west.id),
        },
        member=net.nw_organiser,
    )

    assert "errors" not in result, result
    data = result["data"]["insights"]
    joined = data["breakdowns"][0]["totals"]["joined"]
    assert_published(dc.Count(joined["value"]), 16)
    assert data["trend"]["columns"][1] == "First applied"
    assert data["trend"]["csv"].startswith("Month,First applied")
    exported = session.exec(
        select(AuditEvent).where(AuditEvent.action == a.INSIGHTS_EXPORTED)
    ).one()
    assert f'"programme_id":{net.programme.id}' in exported.details


def test_graphql_programme_funnel(run, session, net):
    result = run(
        FUNNEL,
        {"programme": gid("Programme", net.programme.id), "dimension": "BAND"},
        member=net.nw_organiser,
    )

    assert "errors" not in result, result
    funnel = result["data"]["programmeFunnel"]
    assert funnel["programmeName"] == "Into management"
    assert funnel["table"]["key"] == "funnel-by-band"
    band4 = next(g for g in funnel["groups"] if g["group"] == "4")
    assert_published(dc.Count(band4["counts"]["accepted"]["value"]), 10)
    assert_published(dc.Count(funnel["totals"]["matched"]["value"]), 7)
    for group in funnel["groups"]:
        counts = group["counts"]
        if counts["matched"]["value"] is None or counts["accepted"]["value"] is None:
            assert group["conversions"]["matched"] is None
    assert funnel["table"]["csv"].splitlines()[0].startswith("Agenda for Change band,Applied")


def test_graphql_refuses_other_chapters_members_and_bad_ids(run, session, net):
    programme = gid("Programme", net.programme.id)
    for who in (net.london_organiser, net.applicants[0]):
        result = run(FUNNEL, {"programme": programme, "dimension": "BAND"}, member=who)
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
        result = run(FILTERED, {"programme": programme}, member=who)
        assert result["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    result = run(
        FILTERED, {"chapter": gid("Chapter", net.north_west.id)}, member=net.london_organiser
    )
    assert result["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    result = run(FILTERED, {"programme": "nonsense"}, member=net.network_organiser)
    assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "programme id" in result["errors"][0]["message"].lower()


def test_a_chapter_organiser_lands_on_their_chapter(client, session, net):
    log_in(client, net.nw_organiser.email)

    page = client.get("/organise/insights")

    assert page.status_code == 200, page.text
    assert "members of the <strong>North West</strong> chapter" in page.text
    assert f'<option value="{net.north_west.id}" selected>North West</option>' in page.text


def test_the_default_programmes_funnel_is_asked_then_matched(session, net):
    default = default_programme_id(session=session)
    frame = insights._funnel_frame(
        session, within(session, net, programme_id=default), insights.dimension("region")
    )
    everyone = insights._member_frame(session, first_month=0)

    # Open mentoring has no applications: applied and accepted are those who asked.
    assert int(frame["applied"].sum()) == int(everyone["sought"].sum())
    assert (frame["accepted"] == frame["applied"]).all()
    assert int(frame["matched"].sum()) == 1  # the one mentorship of the default programme
    funnel = insights.programme_funnel(
        session=session,
        organiser=net.network_organiser,
        programme_id=default,
        dimension_key="region",
    )
    assert funnel.default and funnel.programme_name == "Open mentoring"
    london = next(row for row in funnel.rows if row.group == "London")
    assert_published(london.counts["applied"], 25)
