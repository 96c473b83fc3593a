"""Believable development opportunities for the demo network (the lead wires this into
``backend.demo``): national leadership programmes, a course, shadowing, a secondment, a job
swap, a stretch project and an apprenticeship, closing over the next few months.

Fees and providers are demo data in the shape of the real offers, not a statement of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from backend import london
from backend.opportunities.models import Opportunity
from backend.opportunities.service import add_skills_and_rules


@dataclass(frozen=True)
class _Demo:
    kind: str
    title: str
    provider: str
    description: str
    format: str
    closes_in_days: int
    skills: tuple[str, ...]
    bands: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    role_families: tuple[str, ...] = ()
    cost_pence: int = 0
    url: str = ""


DEMO_OPPORTUNITIES: tuple[_Demo, ...] = (
    _Demo(
        kind="accredited-programme",
        title="Mary Seacole Programme",
        provider="NHS Leadership Academy",
        description=(
            "A six-month programme for people in their first formal leadership role: leading "
            "a team with compassion, improving care and understanding yourself as a leader. "
            "Online learning with a few virtual group days; it leads to a postgraduate "
            "certificate in healthcare leadership. Most places are paid for by the employer."
        ),
        format="blended",
        closes_in_days=45,
        skills=("team-leadership", "people-management", "engaging-the-team", "leading-with-care"),
        bands=("4", "5", "6", "7"),
        cost_pence=150_000,
        url="https://www.leadershipacademy.nhs.uk/programmes/the-mary-seacole-programme/",
    ),
    _Demo(
        kind="course",
        title="Edward Jenner Programme",
        provider="NHS Leadership Academy",
        description=(
            "Free online learning in the foundations of leadership, for anyone in health and "
            "care who wants to start: how teams work, your own leadership style, and how to "
            "make a difference for patients. Study at your own pace."
        ),
        format="online",
        closes_in_days=120,
        skills=("team-leadership", "inspiring-shared-purpose", "collaborative-leadership"),
        url="https://www.leadershipacademy.nhs.uk/programmes/edward-jenner/",
    ),
    _Demo(
        kind="shadowing",
        title="Shadow a general manager for a week",
        provider="Manchester University NHS Foundation Trust",
        description=(
            "Spend five days with the general manager of the surgical division: bed meetings, "
            "performance reviews, a business case in progress and the weekly huddle with "
            "clinical leads. For administrators and coordinators thinking about a first "
            "management role."
        ),
        format="in-person",
        closes_in_days=21,
        skills=("operational-planning", "stakeholder-engagement", "career-progression"),
        bands=("3", "4", "5"),
        regions=("North West",),
    ),
    _Demo(
        kind="secondment",
        title="Quality improvement secondment: outpatient waiting times",
        provider="Northern Care Alliance NHS Foundation Trust",
        description=(
            "Six months, three days a week, with the improvement team to reduce waits for a "
            "first outpatient appointment: mapping the pathway, measuring it with run charts "
            "and testing changes with the clinic teams. Coaching from a QI lead throughout."
        ),
        format="in-person",
        closes_in_days=30,
        skills=("quality-improvement", "performance-measurement", "project-management"),
        bands=("4", "5", "6"),
        regions=("North West",),
    ),
    _Demo(
        kind="apprenticeship",
        title="Level 5 operations or departmental manager apprenticeship",
        provider="Your trust's apprenticeship levy, with a local college",
        description=(
            "About two years of work-based learning alongside your job, with a day a week for "
            "study: managing people, budgets, projects and operations. Paid for through the "
            "apprenticeship levy, so there is no fee to you."
        ),
        format="blended",
        closes_in_days=60,
        skills=("operational-planning", "people-management", "budget-management"),
        bands=("3", "4", "5"),
    ),
    _Demo(
        kind="job-swap",
        title="Job swap: outpatients and theatres administration",
        provider="Royal Devon University Healthcare NHS Foundation Trust",
        description=(
            "Swap places with a theatres scheduling coordinator for four weeks, then compare "
            "notes: how lists are planned, how cancellations are handled, what each team "
            "needs from the other."
        ),
        format="in-person",
        closes_in_days=35,
        skills=("rota-management", "collaborative-leadership", "operational-planning"),
        bands=("3", "4"),
        regions=("South West",),
    ),
    _Demo(
        kind="stretch-project",
        title="Lead a data quality stretch project",
        provider="Leeds Teaching Hospitals NHS Trust",
        description=(
            "Lead a three-month project to fix the recording of outcomes in outpatient "
            "clinics, with the information team: find where it goes wrong, agree the measures "
            "and report to the division's performance meeting."
        ),
        format="blended",
        closes_in_days=28,
        skills=("performance-measurement", "evaluating-information", "technology-implementation"),
        bands=("4", "5", "6"),
        regions=("North East and Yorkshire",),
    ),
    _Demo(
        kind="course",
        title="Quality, service improvement and redesign (QSIR) fundamentals",
        provider="NHS England",
        description=(
            "A short course in the tools of service improvement: process mapping, measurement "
            "for improvement, plan-do-study-act cycles and engaging the people who do the work."
        ),
        format="online",
        closes_in_days=50,
        skills=("quality-improvement", "change-management", "performance-measurement"),
    ),
    _Demo(
        kind="accredited-programme",
        title="Rosalind Franklin Programme",
        provider="NHS Leadership Academy",
        description=(
            "For mid-level and senior leaders who lead large teams or services: leading "
            "change across a system, inclusion, and the strategy of your service."
        ),
        format="blended",
        closes_in_days=40,
        skills=("strategic-planning", "change-management", "influencing-for-results"),
        bands=("7", "8a", "8b", "8c"),
        cost_pence=300_000,
        url="https://www.leadershipacademy.nhs.uk/programmes/rosalind-franklin-programme/",
    ),
)


def seed_demo_opportunities(
    session: Session, *, posted_by_id: int | None = None, today: date | None = None
) -> int:
    """Add the demo opportunities not yet there (by title), network-wide, posted by
    ``posted_by_id`` (an organiser) if given; returns how many were added. Never commits."""
    today = today or london.london_today()
    titles = [d.title for d in DEMO_OPPORTUNITIES]
    present = set(session.exec(select(Opportunity.title).where(col(Opportunity.title).in_(titles))))
    added = 0
    for demo in DEMO_OPPORTUNITIES:
        if demo.title in present:
            continue
        opportunity = Opportunity(
            kind=demo.kind,
            title=demo.title,
            provider=demo.provider,
            description=demo.description,
            url=demo.url,
            cost_pence=demo.cost_pence,
            format=demo.format,
            closes_on=today + timedelta(days=demo.closes_in_days),
            posted_by_id=posted_by_id,
        )
        session.add(opportunity)
        session.flush()
        add_skills_and_rules(
            session,
            opportunity.id,
            skills=demo.skills,
            rules={"band": demo.bands, "region": demo.regions, "role_family": demo.role_families},
        )
        added += 1
    session.flush()
    return added
