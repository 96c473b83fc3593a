"""The impact report: the right figures for the right organisers, protected alike on the page,
in the CSV and in the PDF, with the sections other areas will feed said to be not there yet."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select
from strawberry import relay

from backend.audit import actions as a
from backend.audit.models import AuditEvent
from backend.db import utcnow
from backend.errors import Forbidden, NotFound
from backend.insights import disclosure as dc
from backend.insights import impact
from backend.programmes.service import default_programme_id
from tests.csv_injection import HOSTILE, read
from tests.factories import (
    make_chapter,
    make_feedback,
    make_member,
    make_mentee,
    make_mentor,
    make_mentoring_session,
    make_mentorship,
    make_organiser,
    make_organiser_scope,
    make_programme,
    make_programme_application,
)
from tests.web.conftest import log_in


def assert_published(shown: str, true: int) -> None:
    """A shown count is what the method can make of the true count (1-7 always hidden)."""
    if 0 < true < dc.SMALLEST_SHOWN:
        assert shown == dc.HIDDEN, (shown, true)
        return
    count = dc.Count(None if shown == dc.HIDDEN else int(shown.replace(",", "")))
    low, high = dc.window(count, upper=10**6)
    assert low <= true <= high, (shown, true)


class Network:
    """A North West programme: 12 mentee applicants, 11 accepted, 10 matched (6 active,
    3 completed, 1 ended early), a 90-minute session each, 3 mentees' ratings."""

    def __init__(self, session):
        self.north_west = make_chapter(session, name="North West", regions=("North West",))
        self.london = make_chapter(session, name="London", regions=("London",))
        self.network_organiser = make_organiser(session, region="London")
        self.nw_organiser = make_member(session, region="North West")
        make_organiser_scope(session, member=self.nw_organiser, chapter=self.north_west)
        self.london_organiser = make_member(session, region="London")
        make_organiser_scope(session, member=self.london_organiser, chapter=self.london)
        self.programme = make_programme(
            session, name="Into management", chapter_id=self.north_west.id
        )
        mentors = [make_mentor(session, capacity=6, region="North West") for _ in range(2)]
        statuses = ["active"] * 6 + ["completed"] * 3 + ["ended_early"]
        self.mentees = []
        for i in range(12):
            mentee = make_mentee(session, region="North West")
            self.mentees.append(mentee)
            make_programme_application(
                session,
                programme=self.programme,
                member=mentee,
                status="accepted" if i < 11 else "declined",
            )
            if i < len(statuses):
                mentorship = make_mentorship(
                    session,
                    mentor=mentors[i % 2],
                    mentee=mentee,
                    status=statuses[i],
                    programme_id=self.programme.id,
                    ended_at=None if statuses[i] == "active" else utcnow(),
                )
                make_mentoring_session(session, mentorship=mentorship, duration_minutes=90)
                if statuses[i] == "completed":
                    make_feedback(session, mentorship=mentorship, rating=5)


@pytest.fixture
def net(session):
    return Network(session)


def figures(report: impact.ImpactReport, key: str) -> dict[str, impact.Figure]:
    section = report.section(key)
    assert section is not None
    return {f.label: f for f in section.figures}


def test_the_programme_report_counts_its_funnel_sessions_and_ratings(session, net):
    report = impact.impact_report(
        session, organiser=net.nw_organiser, programme_id=net.programme.id
    )

    assert report.title == "Impact report: Into management"
    people = figures(report, "participation")
    truth = {
        "Applied": 12,
        "Accepted": 11,
        "Matched": 10,
        "Mentorship active": 6,
        "Completed": 3,
        "Ended early": 1,
    }
    for measure, n in truth.items():
        assert_published(people[measure].shown, n)
    # Three completions: hidden, and so is the rate that rests on them.
    assert people["Completed"].shown == "*"
    assert people["Completion rate (completed of completed or ended early) %"].shown == "*"
    held = figures(report, "sessions")
    assert_published(held["Sessions held"].shown, 10)
    assert_published(held["Mentorships with a session logged"].shown, 10)
    if not held["Sessions held"].hidden and not held["Mentorships with a session logged"].hidden:
        assert held["Hours of mentoring"].shown == "15"  # 10 x 90 minutes, to the nearest 5
    # Three ratings: the distribution and the mean are hidden (fewer than 8 people).
    rated = figures(report, "ratings")
    assert rated["Mean rating (out of 5)"].shown == "*"
    assert rated["5 (excellent): Mentees rating"].shown == "*"
    assert rated["Mentees who rated their mentorship"].shown == "*"
    # Widening access comes from the insights' parity table, for this programme only.
    widening = report.section("widening-access")
    assert widening is not None
    assert {f.group.split(":")[0] for f in widening.figures} == {"Into management"}
    # No one has taken both self-assessments yet: nine dimensions, no one in each.
    changes = figures(report, "leadership")
    assert changes["Leading with care: People with a start and an end"].shown == "0"
    assert changes["Leading with care: Mean change"].shown == "*"
    # No survey yet: said so, no figures.
    surveys = report.section("surveys")
    assert surveys is not None and surveys.figures == [] and surveys.summary == impact.NO_SURVEYS
    rows = report.rows()
    assert ("Survey results", "", "", impact.NO_SURVEYS) in rows
    assert {f.label for f in report.headline()} >= {"Applied", "Sessions held"}


def test_a_small_cell_in_a_column_takes_another_with_it():
    # Active, completed, ended early add up to the matched: a lone hidden cell could be
    # worked out from the total, so the smallest other shown cell is hidden with it.
    shown = [dc.Count(20), dc.Count(10), dc.Count(10)]  # perturbation lifted the 3 to 10

    column = impact._strict_column([21, 12, 3], shown)

    assert [c.text for c in column] == ["20", "*", "*"]
    none_small = [dc.Count(20), dc.Count(0), dc.Count(10)]
    assert [c.text for c in impact._strict_column([21, 0, 12], none_small)] == ["20", "0", "10"]


def test_a_chapter_organiser_sees_only_their_programmes_and_members_are_refused(session, net):
    with pytest.raises(NotFound):
        impact.impact_report(session, organiser=net.london_organiser, programme_id=net.programme.id)
    with pytest.raises(Forbidden):
        impact.impact_report(session, organiser=net.london_organiser, chapter_id=net.north_west.id)
    with pytest.raises(Forbidden):
        impact.impact_report(session, organiser=net.mentees[0], programme_id=net.programme.id)
    with pytest.raises(NotFound):  # the default programme is the network organisers'
        impact.impact_report(
            session,
            organiser=net.nw_organiser,
            programme_id=default_programme_id(session=session),
        )
    # London's organiser's network view counts London's members only: nobody applied there.
    london = impact.impact_report(session, organiser=net.london_organiser)
    assert figures(london, "participation")["Applied"].shown == "0"
    assert figures(london, "sessions")["Sessions held"].shown == "0"
    # The network organiser's network view counts each person once per programme: the 12
    # applicants, and again in open mentoring, where asking for a mentor is applying.
    everyone = impact.impact_report(session, organiser=net.network_organiser)
    assert_published(figures(everyone, "participation")["Applied"].shown, 24)
    session.flush()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == a.IMPACT_VIEWED).order_by(AuditEvent.id)
    ).all()
    assert [e.actor_id for e in events] == [net.london_organiser.id, net.network_organiser.id]


def test_a_period_counts_only_what_happened_in_it(session, net):
    long_ago = impact.Period(date(2020, 1, 1), date(2020, 12, 31))
    report = impact.impact_report(
        session, organiser=net.network_organiser, programme_id=net.programme.id, period=long_ago
    )

    assert figures(report, "participation")["Applied"].shown == "0"
    assert figures(report, "sessions")["Sessions held"].shown == "0"
    today = date.today()
    recent = impact.Period(today - timedelta(days=30), today + timedelta(days=1))
    now = impact.impact_report(
        session, organiser=net.network_organiser, programme_id=net.programme.id, period=recent
    )
    assert_published(figures(now, "participation")["Applied"].shown, 12)


def test_hooks_feed_their_sections_under_the_same_protection(session, net):
    ids = [m.id for m in net.mentees]

    def leadership(context: impact.ReportContext) -> list[impact.DimensionChange]:
        assert context.within.programme_id == net.programme.id
        return [
            impact.DimensionChange("Inspiring shared purpose", 12, 0.42, 0.1, 0.74, ids),
            impact.DimensionChange("Leading with care", 3, 1.0, 0.2, 1.8, ids[:3]),
        ]

    def surveys(context: impact.ReportContext) -> list[impact.SurveyCount]:
        return [impact.SurveyCount("End", "I would recommend it", "Agree", dc.Count(15))]

    report = impact.impact_report(
        session,
        organiser=net.nw_organiser,
        programme_id=net.programme.id,
        hooks=impact.Hooks(leadership=leadership, surveys=surveys),
    )

    changes = figures(report, "leadership")
    shown = changes["Inspiring shared purpose: People with a start and an end"]
    if not shown.hidden:
        assert changes["Inspiring shared purpose: Mean change"].shown == "+0.42"
        assert changes["Inspiring shared purpose: 95% interval, lower"].shown == "+0.10"
    for measure in ("People with a start and an end", "Mean change", "95% interval, upper"):
        assert changes[f"Leading with care: {measure}"].shown == "*"
    answers = figures(report, "surveys")
    assert answers["End: I would recommend it: Agree"].shown == "15"


def test_the_self_assessments_and_surveys_feed_the_report_by_default(session, net):
    from backend.assessments.service import paired_interval
    from backend.mentoring.models import Mentorship
    from tests.factories import make_self_assessment, make_survey, make_survey_question

    mentorships = session.exec(
        select(Mentorship).where(Mentorship.programme_id == net.programme.id)
    ).all()
    differences = []
    for i, mentorship in enumerate(mentorships):
        make_self_assessment(session, mentorship=mentorship, occasion="start", levels=1)
        make_self_assessment(session, mentorship=mentorship, occasion="end", levels=2 + i % 2)
        differences.append(1.0 + i % 2)
    survey = make_survey(session, programme=net.programme, title="End of programme")
    make_survey_question(session, survey=survey, text="It helped me.")
    truth = paired_interval(differences)

    report = impact.impact_report(
        session, organiser=net.nw_organiser, programme_id=net.programme.id
    )

    leadership = report.section("leadership")
    assert leadership is not None and leadership.available
    changes = figures(report, "leadership")
    people = changes["Leading with care: People with a start and an end"]
    assert_published(people.shown, len(differences))
    if not people.hidden:
        assert changes["Leading with care: Mean change"].shown == f"{truth.mean:+.2f}"
        assert changes["Leading with care: 95% interval, lower"].shown == f"{truth.low:+.2f}"
    surveys = report.section("surveys")
    assert surveys is not None and surveys.available
    assert any(f.group == "End of programme: It helped me." for f in surveys.figures)
    # London's organiser sees none of it (the programme is not theirs).
    with pytest.raises(NotFound):
        impact.impact_report(session, organiser=net.london_organiser, programme_id=net.programme.id)


def test_the_csv_neutralises_formulas_in_programme_names(session, net):
    for name in HOSTILE[:3]:
        make_programme(session, name=name, chapter_id=net.north_west.id)

    rows = read(impact.impact_report(session, organiser=net.nw_organiser).to_csv())

    groups = [row[2] for row in rows[1:]]
    for name in HOSTILE[:3]:
        assert f"'{name}: Total" in groups, groups
        assert f"{name}: Total" not in groups
    assert not [cell for row in rows for cell in row if cell and cell[0] in "=+@"]


def test_a_positive_change_is_a_number_in_the_csv_not_quoted_text():
    report = impact.ImpactReport(
        generated_at=utcnow(),
        programme_id=None,
        programme_name="",
        chapter_id=None,
        chapter_name="",
        period=None,
        sections=[
            impact.Section(
                key="leadership",
                title="Leadership",
                summary="",
                figures=[
                    impact.Figure("Mean change", "+0.42", 0.42, group="Leading with care"),
                    impact.Figure("Mean change", "-0.20", -0.2, group="Engaging the team"),
                    impact.Figure("Applied", "1,205", 1205.0),
                    impact.Figure("Mean change", "*", None, group="Holding to account"),
                ],
            )
        ],
    )

    rows = read(report.to_csv())

    assert [row[3] for row in rows[1:]] == ["0.42", "-0.20", "1205", "*"]


PDF_WORDS = re.compile(r"\s+")


def squash(text: str) -> str:
    return PDF_WORDS.sub(" ", text).strip()


def page_text(html: str) -> str:
    return squash(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&amp;", "&"))


def test_page_csv_and_pdf_carry_the_same_figures(client, session, net):
    from pypdf import PdfReader

    log_in(client, net.nw_organiser.email)
    query = f"?programme={net.programme.id}&chapter={net.north_west.id}"

    page = client.get(f"/organise/impact{query}")
    csv_file = client.get(f"/organise/impact/report.csv{query}")
    pdf_file = client.get(f"/organise/impact/report.pdf{query}")

    assert page.status_code == 200, page.text
    assert csv_file.status_code == 200 and pdf_file.status_code == 200
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert pdf_file.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf_file.headers["content-disposition"]
    html = page.text
    assert 'role="img"' in html and 'id="chart-participation-title"' in html
    assert '<caption class="nhsuk-table__caption nhsuk-table__caption--s">' in html
    assert f'href="/organise/impact/report.pdf?programme={net.programme.id}&amp;chapter=' in html
    assert "Download as CSV" in html and "Download as PDF" in html
    rows = read(csv_file.text)
    assert rows[0] == list(impact.CSV_COLUMNS)
    pdf = PdfReader(io.BytesIO(pdf_file.content))
    pdf_text = squash(" ".join(p.extract_text() or "" for p in pdf.pages))
    html_text = page_text(html)
    completed = [r for r in rows if r[1] == "Completed"]
    assert completed == [["Participation and completion", "Completed", "", "*"]]
    for section, measure, group, value in rows[1:]:
        line = squash(f"{measure} {group} {value}")
        assert line in pdf_text, (line, pdf_text[:2000])
        assert line in html_text, line
        assert section in pdf_text and section in html_text
    # The three completions are hidden in all three: the CSV row, the page row, the PDF line.
    assert "Completed *" in pdf_text and "Completed *" in html_text
    assert squash(impact.NO_SURVEYS) in pdf_text and squash(impact.NO_SURVEYS) in html_text
    session.expire_all()
    exported = session.exec(
        select(AuditEvent).where(AuditEvent.action == a.IMPACT_EXPORTED).order_by(AuditEvent.id)
    ).all()
    assert ['"format":"csv"' in e.details for e in exported] == [True, False]


def test_the_page_refuses_other_chapters_and_members(client, session, net):
    log_in(client, net.london_organiser.email)

    assert client.get(f"/organise/impact?programme={net.programme.id}").status_code == 404
    assert client.get(f"/organise/impact/report.csv?programme={net.programme.id}").status_code == (
        404
    )
    bad = client.get("/organise/impact?programme=abc")
    assert bad.status_code == 400 and "Choose a programme from the list." in bad.text
    client.cookies.clear()
    log_in(client, net.mentees[0].email)
    assert client.get("/organise/impact").status_code == 403
    assert client.get("/organise/impact/report.pdf").status_code == 403


IMPACT = """
query($programme: ID, $chapter: ID) {
  impactReport(programmeId: $programme, chapterId: $chapter) {
    title programmeName chapterName
    sections { key title available summary
               figures { measure group value numericValue hidden } }
  }
}
"""


def test_graphql_gives_the_sections_with_values_as_shown(run, session, net):
    programme = relay.to_base64("Programme", net.programme.id)
    result = run(IMPACT, {"programme": programme}, member=net.nw_organiser)

    assert "errors" not in result, result
    report = result["data"]["impactReport"]
    assert report["programmeName"] == "Into management"
    sections = {s["key"]: s for s in report["sections"]}
    completed = next(f for f in sections["participation"]["figures"] if f["measure"] == "Completed")
    assert completed == {
        "measure": "Completed",
        "group": "",
        "value": "*",
        "numericValue": None,
        "hidden": True,
    }
    applied = next(f for f in sections["participation"]["figures"] if f["measure"] == "Applied")
    assert_published(applied["value"], 12)
    if not applied["hidden"]:
        assert applied["numericValue"] == float(applied["value"])
    assert sections["surveys"]["available"] is True
    assert sections["surveys"]["summary"] == impact.NO_SURVEYS
    # Refused: another chapter's organiser (NotFound), a member (not allowed).
    other = run(IMPACT, {"programme": programme}, member=net.london_organiser)
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    member = run(IMPACT, {}, member=net.mentees[0])
    assert member["data"] is None
    assert member["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"


YEAR_2020 = "from-day=1&from-month=1&from-year=2020&to-day=31&to-month=12&to-year=2020"


def test_the_page_and_its_downloads_take_a_period(client, session, net):
    from pypdf import PdfReader

    log_in(client, net.nw_organiser.email)
    query = f"?programme={net.programme.id}&{YEAR_2020}"

    page = client.get(f"/organise/impact{query}")
    assert page.status_code == 200, page.text
    assert "Impact report: Into management, 1 January 2020 to 31 December 2020" in page.text
    assert 'id="from" name="from-day" type="text" inputmode="numeric" value="1"' in page.text
    assert f'href="/organise/impact/report.csv?programme={net.programme.id}&amp;from-day=1' in (
        page.text
    )
    csv_rows = read(client.get(f"/organise/impact/report.csv{query}").text)
    assert ["Report", "Period", "", "1 January 2020 to 31 December 2020"] in csv_rows
    assert ["Participation and completion", "Applied", "", "0"] in csv_rows
    assert ["Participation and completion", "Applied", "", "0"] not in read(
        client.get(f"/organise/impact/report.csv?programme={net.programme.id}").text
    )
    pdf = PdfReader(io.BytesIO(client.get(f"/organise/impact/report.pdf{query}").content))
    pdf_text = squash(" ".join(p.extract_text() or "" for p in pdf.pages))
    assert "1 January 2020 to 31 December 2020" in pdf_text and "Applied 0" in pdf_text
    # only an end: everything up to it
    up_to = client.get("/organise/impact?to-day=31&to-month=12&to-year=2020")
    assert "Impact report: the whole network, up to 31 December 2020" in up_to.text


def test_a_bad_period_is_explained_not_a_500(client, session, net):
    log_in(client, net.nw_organiser.email)

    bad = client.get("/organise/impact?from-day=31&from-month=2&from-year=2026")
    assert bad.status_code == 400
    assert '<a href="#from">The start date must be a real date' in bad.text
    assert 'value="31"' in bad.text  # what was typed is shown again
    backwards = client.get(
        "/organise/impact?from-day=2&from-month=1&from-year=2026&to-day=1&to-month=1&to-year=2026"
    )
    assert backwards.status_code == 400
    assert '<a href="#to">The end of the period must be on or after its start.</a>' in (
        backwards.text
    )
    unreadable = client.get("/organise/impact/report.csv?to-day=x&to-month=1&to-year=2026")
    assert unreadable.status_code == 400


IMPACT_PERIOD = """
query($programme: ID, $from: Date, $to: Date) {
  impactReport(programmeId: $programme, from: $from, to: $to) {
    title sections { key figures { measure value } }
  }
}
"""


def test_graphql_takes_a_period(run, session, net):
    programme = relay.to_base64("Programme", net.programme.id)
    result = run(
        IMPACT_PERIOD,
        {"programme": programme, "from": "2020-01-01", "to": "2020-12-31"},
        member=net.nw_organiser,
    )

    assert "errors" not in result, result
    report = result["data"]["impactReport"]
    assert report["title"] == "Impact report: Into management, 1 January 2020 to 31 December 2020"
    participation = next(s for s in report["sections"] if s["key"] == "participation")
    assert {"measure": "Applied", "value": "0"} in participation["figures"]
    backwards = run(
        IMPACT_PERIOD,
        {"programme": programme, "from": "2020-12-31", "to": "2020-01-01"},
        member=net.nw_organiser,
    )
    assert backwards["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
