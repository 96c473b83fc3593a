"""A believable demo network, deterministic by seed, and the demo accounts to explore it with.

Organisations, places and people are invented. Generated addresses use the reserved
``.example`` top-level domain and the demo accounts use ``.test``, so nothing here can ever
reach a real mailbox.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from faker import Faker
from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from backend.accounts import passwords
from backend.db import utcnow
from backend.errors import Invalid
from backend.members import service as member_service
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.organisations import service as organisation_service
from backend.settings import get_settings
from vocabulary import BAND_RANK, BANDS, PROFESSIONS, REGIONS, ROLE_FAMILIES, SKILL_IDS

DEMO_PASSWORD = "peerbridge-demo-2024"  # noqa: S105 - published on purpose: demo data only
MAX_MEMBERS = 100_000
SEED_SKILLS: tuple[str, ...] = (
    "collaborative-leadership",
    "performance-measurement",
    "quality-improvement",
    "technology-implementation",
)


@dataclass(frozen=True)
class _Org:
    name: str
    type: str
    region: str
    domain: str
    size: int  # relative headcount: acute trusts are big, GP practices small


_NEY, _NW, _MID, _EOE, _LON, _SE, _SW = REGIONS
ORGANISATIONS: tuple[_Org, ...] = (
    _Org(
        "Northfield Teaching Hospitals NHS Foundation Trust", "acute-trust", _NEY, "northfield", 9
    ),
    _Org(
        "Calderbrook and Wharfe Partnership NHS Foundation Trust",
        "mental-health-trust",
        _NEY,
        "calderbrook",
        5,
    ),
    _Org("Moorside and Coast Integrated Care Board", "integrated-care-board", _NEY, "moorside", 4),
    _Org("Pennine Coast Ambulance Service NHS Trust", "ambulance-trust", _NEY, "pennine-coast", 4),
    _Org("Holmebrook Primary Care Network", "primary-care", _NEY, "holmebrook", 2),
    _Org(
        "Mersey Vale University Hospitals NHS Foundation Trust", "acute-trust", _NW, "merseyvale", 8
    ),
    _Org("Irwell Valley Community Health NHS Trust", "community-trust", _NW, "irwellvalley", 4),
    _Org("Lune and Fylde Integrated Care Board", "integrated-care-board", _NW, "lunefylde", 3),
    _Org(
        "North West Coast Care Partnership NHS Foundation Trust",
        "mental-health-trust",
        _NW,
        "nwcoastcare",
        4,
    ),
    _Org("Ashworth Road Medical Practice", "primary-care", _NW, "ashworthroad", 1),
    _Org("Trentside Hospitals NHS Trust", "acute-trust", _MID, "trentside", 8),
    _Org(
        "Soar Valley Healthcare NHS Foundation Trust", "mental-health-trust", _MID, "soarvalley", 4
    ),
    _Org("Heart of Mercia Integrated Care Board", "integrated-care-board", _MID, "mercia", 3),
    _Org("Midland Shires Ambulance Service NHS Trust", "ambulance-trust", _MID, "midshires", 4),
    _Org("Kingsmere Primary Care Network", "primary-care", _MID, "kingsmere", 2),
    _Org(
        "Fenland and Ouse University Hospitals NHS Foundation Trust",
        "acute-trust",
        _EOE,
        "fenouse",
        7,
    ),
    _Org("Broadland Community Services NHS Trust", "community-trust", _EOE, "broadland", 3),
    _Org("Anglia Marshes Integrated Care Board", "integrated-care-board", _EOE, "angliamarshes", 3),
    _Org(
        "Eastern Counties Ambulance Service NHS Trust", "ambulance-trust", _EOE, "eastcounties", 3
    ),
    _Org("Stourmouth Surgery", "primary-care", _EOE, "stourmouth", 1),
    _Org(
        "Thameside University Hospitals NHS Foundation Trust", "acute-trust", _LON, "thameside", 9
    ),
    _Org("St Aldric's Hospital NHS Foundation Trust", "acute-trust", _LON, "staldrics", 6),
    _Org(
        "North Thames Mental Health NHS Foundation Trust",
        "mental-health-trust",
        _LON,
        "norththames",
        5,
    ),
    _Org(
        "North Central Thames Integrated Care Board", "integrated-care-board", _LON, "ncthames", 4
    ),
    _Org("Capital City Ambulance Service NHS Trust", "ambulance-trust", _LON, "capitalcity", 4),
    _Org("Wandle Valley Primary Care Network", "primary-care", _LON, "wandlevalley", 2),
    _Org("Wealden and Downs Hospitals NHS Foundation Trust", "acute-trust", _SE, "wealden", 7),
    _Org("Hamble Shore Community Health NHS Trust", "community-trust", _SE, "hambleshore", 3),
    _Org("Chiltern Vale Integrated Care Board", "integrated-care-board", _SE, "chilternvale", 3),
    _Org("Downland Partnership NHS Foundation Trust", "mental-health-trust", _SE, "downland", 4),
    _Org("Harbourside Medical Group", "primary-care", _SE, "harbourside", 1),
    _Org(
        "Tamar and Exe University Hospitals NHS Foundation Trust", "acute-trust", _SW, "tamarexe", 7
    ),
    _Org("Mendip Hills Community Healthcare NHS Trust", "community-trust", _SW, "mendip", 3),
    _Org("Wessex Moor Integrated Care Board", "integrated-care-board", _SW, "wessexmoor", 3),
    _Org(
        "Peninsula Coast Ambulance Service NHS Foundation Trust",
        "ambulance-trust",
        _SW,
        "peninsulacoast",
        3,
    ),
    _Org("Quantock Primary Care Network", "primary-care", _SW, "quantock", 2),
)

# Role families that fit each kind of organisation, with weights.
_FAMILIES_BY_TYPE: dict[str, dict[str, int]] = {
    "primary-care": {
        "primary-care-management": 8,
        "administration": 4,
        "nursing-leadership": 2,
        "clinical-management": 2,
        "finance": 1,
    },
    "integrated-care-board": {
        "strategy-and-transformation": 6,
        "finance": 4,
        "quality-and-governance": 4,
        "digital-and-data": 3,
        "people-and-hr": 2,
        "operational-management": 2,
        "primary-care-management": 2,
        "clinical-management": 1,
        "administration": 2,
    },
}
_DEFAULT_FAMILIES: dict[str, int] = {
    "operational-management": 10,
    "clinical-management": 5,
    "nursing-leadership": 5,
    "finance": 3,
    "people-and-hr": 3,
    "workforce-and-rostering": 5,
    "quality-and-governance": 3,
    "digital-and-data": 3,
    "estates-and-facilities": 2,
    "strategy-and-transformation": 2,
    "administration": 8,
}

_PROFESSIONS_BY_FAMILY: dict[str, dict[str, int]] = {
    "clinical-management": {
        "doctor": 40,
        "nurse-or-midwife": 25,
        "allied-health-professional": 20,
        "healthcare-scientist": 8,
        "pharmacist": 7,
    },
    "nursing-leadership": {"nurse-or-midwife": 1},
    "digital-and-data": {
        "non-clinical": 80,
        "healthcare-scientist": 10,
        "nurse-or-midwife": 5,
        "doctor": 5,
    },
    "quality-and-governance": {
        "non-clinical": 60,
        "nurse-or-midwife": 20,
        "allied-health-professional": 10,
        "pharmacist": 5,
        "doctor": 5,
    },
}
_DEFAULT_PROFESSIONS: dict[str, int] = {
    "non-clinical": 85,
    "nurse-or-midwife": 5,
    "allied-health-professional": 4,
    "doctor": 2,
    "pharmacist": 2,
    "healthcare-scientist": 2,
}

# Job titles by role family and seniority: (bands 2-5, bands 6-7, bands 8a-9, VSM).
_TITLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "operational-management": (
        ("Operations Coordinator", "Patient Access Coordinator", "Assistant Service Manager"),
        ("Service Manager", "Operational Manager", "Deputy General Manager"),
        ("General Manager", "Head of Operations", "Divisional Director of Operations"),
        ("Chief Operating Officer",),
    ),
    "clinical-management": (
        ("Clinical Team Coordinator", "Senior Healthcare Assistant"),
        ("Clinical Team Lead", "Advanced Practitioner and Team Lead"),
        ("Clinical Director", "Associate Medical Director", "Head of Therapies"),
        ("Medical Director",),
    ),
    "nursing-leadership": (
        ("Staff Nurse and Shift Coordinator", "Staff Midwife"),
        ("Ward Manager", "Senior Sister", "Charge Nurse"),
        ("Matron", "Head of Nursing", "Deputy Director of Nursing"),
        ("Chief Nurse",),
    ),
    "finance": (
        ("Finance Assistant", "Accounts Payable Officer"),
        ("Management Accountant", "Finance Business Partner"),
        ("Head of Financial Planning", "Deputy Director of Finance"),
        ("Director of Finance",),
    ),
    "people-and-hr": (
        ("HR Administrator", "People Advisor"),
        ("HR Business Partner", "Employee Relations Lead"),
        ("Head of People", "Deputy Director of Workforce"),
        ("Chief People Officer",),
    ),
    "workforce-and-rostering": (
        ("Medical Rota Coordinator", "Rostering Officer", "Medical Staffing Administrator"),
        ("E-Rostering Manager", "Medical Workforce Manager"),
        ("Head of Workforce Planning", "Head of Medical Staffing"),
        ("Director of Workforce",),
    ),
    "quality-and-governance": (
        ("Governance Administrator", "Patient Safety Officer"),
        ("Clinical Governance Manager", "Quality Improvement Facilitator"),
        ("Head of Quality Improvement", "Associate Director of Governance"),
        ("Director of Quality and Governance",),
    ),
    "digital-and-data": (
        ("Data Analyst", "Information Officer"),
        ("Senior Business Intelligence Analyst", "Digital Project Manager"),
        ("Head of Digital Transformation", "Head of Business Intelligence"),
        ("Chief Digital Officer",),
    ),
    "estates-and-facilities": (
        ("Facilities Coordinator", "Helpdesk Supervisor"),
        ("Estates Manager", "Soft FM Services Manager"),
        ("Head of Estates", "Associate Director of Facilities"),
        ("Director of Estates and Facilities",),
    ),
    "strategy-and-transformation": (
        ("Transformation Support Officer", "Programme Administrator"),
        ("Transformation Project Manager", "Programme Manager"),
        ("Head of Strategy", "Associate Director of Transformation"),
        ("Director of Strategy",),
    ),
    "primary-care-management": (
        ("Reception Team Leader", "Practice Administrator"),
        ("Assistant Practice Manager", "PCN Operations Manager"),
        ("Practice Manager", "PCN Business Manager"),
        ("Primary Care Director",),
    ),
    "administration": (
        ("Medical Secretary", "Ward Clerk", "Outpatient Booking Coordinator", "Team Administrator"),
        ("Administration Manager", "Patient Services Team Leader"),
        ("Head of Patient Administration", "Head of Corporate Affairs"),
        ("Director of Corporate Affairs",),
    ),
}

# Skills each role family tends to offer or seek besides the four seed skills.
_FAMILY_SKILLS: dict[str, tuple[str, ...]] = {
    "operational-management": ("operational-planning", "team-leadership", "holding-to-account"),
    "clinical-management": ("leading-with-care", "engaging-the-team", "change-management"),
    "nursing-leadership": ("leading-with-care", "people-management", "developing-capability"),
    "finance": ("budget-management", "evaluating-information", "governance-and-risk"),
    "people-and-hr": ("people-management", "developing-capability", "career-progression"),
    "workforce-and-rostering": ("rota-management", "people-management", "operational-planning"),
    "quality-and-governance": (
        "governance-and-risk",
        "evaluating-information",
        "holding-to-account",
    ),
    "digital-and-data": ("evaluating-information", "project-management", "change-management"),
    "estates-and-facilities": ("project-management", "budget-management", "stakeholder-engagement"),
    "strategy-and-transformation": (
        "strategic-planning",
        "change-management",
        "stakeholder-engagement",
    ),
    "primary-care-management": ("budget-management", "people-management", "connecting-our-service"),
    "administration": ("rota-management", "team-leadership", "career-progression"),
}

_SERVICES: tuple[str, ...] = (
    "outpatients",
    "the emergency department",
    "theatres",
    "elective surgery",
    "community nursing",
    "the urgent treatment centre",
    "maternity",
    "the acute medical unit",
    "diagnostic imaging",
    "pharmacy",
    "patient transport",
    "the clinical assessment service",
    "the discharge hub",
    "the mental health inpatient wards",
    "the crisis team",
    "children's services",
    "cancer services",
    "the virtual ward",
)

# What mentees want (their goals), in their own words. The first element limits a goal to the
# role families (or, with "clinical", the clinical professions) it makes sense for.
_ROTA = ("workforce-and-rostering", "administration")
_GOALS: tuple[tuple[tuple[str, ...] | None, str], ...] = (
    (
        _ROTA,
        "I manage the medical rota for {n} junior doctors and want to move into a service "
        "manager role.",
    ),
    (
        ("administration", "operational-management"),
        "I coordinate bookings for {service} and "
        "would like to understand how performance data is used to plan capacity.",
    ),
    (
        None,
        "I have just become team leader for {team} colleagues and want to get better at "
        "difficult conversations.",
    ),
    (
        None,
        "I want to lead my first quality improvement project in {service} and would value "
        "someone who has done it before.",
    ),
    (
        None,
        "I have worked in {service} for {years_in} years without any formal management "
        "training; I want to learn how to plan, not just fire-fight.",
    ),
    (
        None,
        "I would like a mentor from another organisation who can help me prepare for a band "
        "{next_band} interview.",
    ),
    (
        None,
        "Our trust is rolling out a new electronic patient record and I want to learn how to "
        "lead the change, not just survive it.",
    ),
    (
        None,
        "I sign off spending for {service} but nobody has shown me how the numbers fit "
        "together; I want to understand budgets properly.",
    ),
    (
        ("clinical",),
        "I am moving from a clinical post into a part-time management role and want "
        "to learn from someone who has made the same step.",
    ),
    (
        None,
        "I want to build the confidence to present performance reports to the divisional board.",
    ),
    (
        None,
        "I am the first person in my family to work in management and would value a mentor "
        "who understands the unwritten rules.",
    ),
    (
        None,
        "I want to work more with partners across our integrated care system, and I don't yet "
        "know who to talk to or how.",
    ),
    (None, "I would like help writing a business case for {n} more staff in {service}."),
    (
        None,
        "I am back from parental leave and want to restart my progression towards a band "
        "{next_band} role.",
    ),
    (
        None,
        "I want to learn how other organisations measure waiting times and flow, so I can "
        "bring good practice back to {service}.",
    ),
    (
        ("nursing-leadership", "clinical-management", "operational-management"),
        "I coordinate {team} staff on nights and want to grow into a leader people can rely on.",
    ),
    (
        ("administration",),
        "I would like to move from administration into operational management within two years.",
    ),
    (
        _ROTA,
        "We lose too many shifts to last-minute gaps in {service}; I want practical help "
        "with rostering.",
    ),
    (
        ("quality-and-governance", "operational-management", "nursing-leadership"),
        "I want to understand governance and risk registers well enough to own them for {service}.",
    ),
    (
        ("digital-and-data",),
        "I work in a small digital team and want to get better at judging "
        "which technology is worth the disruption.",
    ),
    (
        ("primary-care-management",),
        "I want to understand how our practice fits into the primary "
        "care network and the wider system, so I can speak up for it.",
    ),
    (
        ("finance",),
        "I produce the monthly finance reports and want to learn to explain them to "
        "clinicians in a way that changes decisions.",
    ),
    (
        ("people-and-hr",),
        "I handle employee relations cases and want to move into a business "
        "partner role that shapes how teams are led.",
    ),
)
# Who members are (their bios): an opening, then one or two more sentences.
_BIO_OPENINGS: tuple[str, ...] = (
    "{title} at {org}, working mostly with {service}.",
    "I joined the NHS {years_in} years ago and now work as {a_title} at {org}.",
    "{title} in {service} at {org}.",
    "Before the NHS I managed a shop floor in retail; I am now {a_title} at {org}.",
)
_BIO_MORE: tuple[str, ...] = (
    "I look after a team of {team} across two sites.",
    "I am part of the {region} Proud2bOps network.",
    "Outside work I volunteer with a local youth football club.",
    "I care about making management a career people choose, not one they fall into.",
    "Happy to share what I have learnt, including the mistakes.",
    "I like improving the small processes that waste everybody's time.",
)
_MENTOR_MORE: tuple[str, ...] = (
    "I have been a manager for {years} years and still learn something every week.",
    "I have led {service} through two CQC inspections and a major reconfiguration.",
    "I was mentored early in my career and it changed what I thought was possible; I would like "
    "to do the same for others.",
    "I am particularly keen to support people from backgrounds under-represented in NHS "
    "management.",
    "I moved from a clinical role into management and can talk honestly about that transition.",
    "My background is in finance and performance; I enjoy helping people make sense of the "
    "numbers.",
)
_MENTOR_GOALS: tuple[str, ...] = (
    "I would like to mentor someone from a different part of the system than my own.",
    "I want to give back some of the support I was lucky enough to get.",
    "",
)


@dataclass(frozen=True)
class DemoAccount:
    """A demo account anyone may log in with (the password is in ``DemoResult``)."""

    role: str
    email: str
    name: str
    what: str


@dataclass
class DemoResult:
    """What ``load`` did: how much it created and the accounts to explore it with."""

    loaded: bool
    message: str
    seed: int
    password: str = DEMO_PASSWORD
    members: int = 0
    organisations: int = 0
    regions: int = 0
    mentors: int = 0
    mentees: int = 0
    line_managed: int = 0
    seconds: float = 0.0
    accounts: list[DemoAccount] = field(default_factory=list)


@dataclass
class _Person:
    org: _Org
    band: str
    role_family: str
    profession: str
    kind: str  # "mentor", "mentee" or "peer"
    name: str = ""
    email: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # more Member fields
    sought: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)
    capacity: int = 0
    paused: bool = False


_DEMO_DOMAIN = "demo.peerbridge.example"
_DEMO_MEMBER = DemoAccount(
    "member",
    f"member@{_DEMO_DOMAIN}",
    "Priya Shah",
    "band 4, looking for a mentor",
)
_DEMO_MENTOR = DemoAccount(
    "mentor",
    f"mentor@{_DEMO_DOMAIN}",
    "Daniel Okafor",
    "band 8b, mentoring with 2 places free",
)
_DEMO_ORGANISER = DemoAccount(
    "organiser", f"organiser@{_DEMO_DOMAIN}", "Helen Marsh", "runs the network"
)
_DEMO_ADMIN = DemoAccount("admin", f"admin@{_DEMO_DOMAIN}", "Tom Reilly", "manages the platform")
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (_DEMO_MEMBER, _DEMO_MENTOR, _DEMO_ORGANISER, _DEMO_ADMIN)
DEMO_MEMBER_SKILLS: tuple[str, ...] = (
    "quality-improvement",
    "performance-measurement",
    "rota-management",
)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sample_weighted(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    """Up to ``k`` distinct items, drawn with probability proportional to weight."""
    pool = dict(weights)
    chosen: list[str] = []
    while pool and len(chosen) < k:
        item = rng.choices(list(pool), weights=list(pool.values()))[0]
        chosen.append(item)
        del pool[item]
    return chosen


def _skill_weights(role_family: str, *, seed_weight: float) -> dict[str, float]:
    weights = dict.fromkeys(SKILL_IDS, 1.0)
    for skill in SEED_SKILLS:
        weights[skill] = seed_weight
    for skill in _FAMILY_SKILLS[role_family]:
        weights[skill] = max(weights[skill], 3.0)
    return weights


_MENTEE_BANDS = {"3": 12, "4": 22, "5": 22, "6": 24, "7": 20}
_MENTOR_BANDS = {"7": 15, "8a": 30, "8b": 22, "8c": 14, "8d": 9, "9": 5, "VSM": 5}
_PEER_BANDS = {
    "2": 20,
    "3": 10,
    "4": 10,
    "5": 12,
    "6": 12,
    "7": 10,
    "8a": 10,
    "8b": 8,
    "8c": 4,
    "8d": 2,
    "9": 1,
    "VSM": 1,
}


# Years of management experience by band: (highest band, (fewest, most)).
_YEARS_BY_BAND: tuple[tuple[str, tuple[int, int]], ...] = (
    ("4", (0, 3)),
    ("6", (0, 6)),
    ("7", (2, 10)),
    ("8b", (4, 15)),
    ("9", (8, 25)),
)


def _kind_for_band(band: str) -> str:
    rank = BAND_RANK[band]
    if band == "2":
        return "peer"
    return "mentee" if rank <= BAND_RANK["7"] else "mentor"


def _fits(kind: str, band: str) -> bool:
    if kind == "mentee":
        return band in _MENTEE_BANDS
    if kind == "mentor":
        return band in _MENTOR_BANDS
    return True


def _families_for(org: _Org) -> dict[str, int]:
    return _FAMILIES_BY_TYPE.get(org.type, _DEFAULT_FAMILIES)


def _professions_for(role_family: str) -> dict[str, int]:
    return _PROFESSIONS_BY_FAMILY.get(role_family, _DEFAULT_PROFESSIONS)


def _plan(rng: random.Random, count: int) -> list[_Person]:
    """Who the network holds: organisation, band, role family, profession and kind."""
    people: list[_Person] = []
    orgs = list(ORGANISATIONS)
    sizes = [org.size for org in orgs]
    for index in range(count):
        # The first members visit every organisation, so each has someone in it.
        org = orgs[index] if index < len(orgs) else rng.choices(orgs, weights=sizes)[0]
        kind = rng.choices(("mentee", "mentor", "peer"), weights=(50, 32, 18))[0]
        bands = {"mentee": _MENTEE_BANDS, "mentor": _MENTOR_BANDS, "peer": _PEER_BANDS}[kind]
        band = _weighted(rng, bands)
        role_family = _weighted(rng, _families_for(org))
        profession = _weighted(rng, _professions_for(role_family))
        people.append(_Person(org, band, role_family, profession, kind))
    _cover(rng, people)
    return people


def _cover(rng: random.Random, people: list[_Person]) -> None:
    """Make every band, role family and profession appear, changing only duplicated values."""

    def counts(attribute: str) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for person in people:
            found[getattr(person, attribute)] += 1
        return found

    for band in BANDS:
        seen = counts("band")
        spare = [p for p in people if seen[band] == 0 and seen[p.band] > 1]
        if spare:
            person = rng.choice(spare)
            person.band = band
            if not _fits(person.kind, band):
                person.kind = _kind_for_band(band)
    for role_family in ROLE_FAMILIES:
        seen = counts("role_family")
        spare = [
            p
            for p in people
            if seen[role_family] == 0
            and seen[p.role_family] > 1
            and role_family in _families_for(p.org)
            and p.profession in _professions_for(role_family)
        ]
        if spare:
            rng.choice(spare).role_family = role_family
    for profession in PROFESSIONS:
        seen = counts("profession")
        spare = [
            p
            for p in people
            if seen[profession] == 0
            and seen[p.profession] > 1
            and profession in _professions_for(p.role_family)
        ]
        if spare:
            rng.choice(spare).profession = profession


def _management_years(rng: random.Random, band: str) -> int:
    rank = BAND_RANK[band]
    for top, span in _YEARS_BY_BAND:
        if rank <= BAND_RANK[top]:
            return rng.randint(*span)
    return rng.randint(12, 30)


def _title(rng: random.Random, role_family: str, band: str) -> str:
    rank = BAND_RANK[band]
    level = 0 if rank <= BAND_RANK["5"] else 1 if rank <= BAND_RANK["7"] else 2
    if band == "VSM":
        level = 3
    return rng.choice(_TITLES[role_family][level])


def _article(title: str) -> str:
    return ("an " if title[:1].lower() in "aeiou" else "a ") + title


def _short_name(org: _Org) -> str:
    return org.name.replace(" NHS Foundation Trust", "").replace(" NHS Trust", "")


# Team sizes by band rank (bands 2 ... 8a and above).
_TEAM_SIZES: tuple[tuple[int, int], ...] = (
    (2, 4), (3, 5), (3, 8), (4, 10), (5, 14), (6, 25), (10, 60),
)  # fmt: skip


def _text(rng: random.Random, person: _Person, title: str, years: int) -> tuple[str, str]:
    """(bio, goals) for one person, from the sentence templates."""
    next_band = BANDS[min(BAND_RANK[person.band] + 1, len(BANDS) - 1)]
    slots = {
        "n": rng.choice((6, 8, 12, 15, 20, 25, 30, 40, 60)),
        "service": rng.choice(_SERVICES),
        "years": max(years, 1),
        "years_in": rng.randint(2, 25),
        "team": rng.randint(*_TEAM_SIZES[min(BAND_RANK[person.band], len(_TEAM_SIZES) - 1)]),
        "next_band": next_band,
        "title": title,
        "a_title": _article(title),
        "org": _short_name(person.org),
        "region": person.org.region,
    }
    more = _MENTOR_MORE if person.kind == "mentor" else _BIO_MORE
    sentences = [rng.choice(_BIO_OPENINGS), *rng.sample(more, k=rng.randint(1, 2))]
    bio = " ".join(sentence.format(**slots) for sentence in sentences)
    if person.kind == "mentee":
        fitting = [
            text
            for limits, text in _GOALS
            if limits is None
            or person.role_family in limits
            or ("clinical" in limits and person.profession != "non-clinical")
        ]
        chosen = rng.sample(fitting, k=rng.randint(1, 2))
        goals = " ".join(text.format(**slots) for text in chosen)
    elif person.kind == "mentor":
        goals = rng.choice(_MENTOR_GOALS)
    else:
        goals = ""
    return bio, goals


def _email_local(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    parts = [re.sub(r"[^a-z0-9]", "", part.lower()) for part in ascii_name.split()]
    return ".".join(part for part in parts if part) or "member"


def _fill(rng: random.Random, fake: Faker, people: list[_Person], taken: set[str]) -> None:
    """Give each planned person a name, an address, a profile and skills."""
    now = utcnow()
    for person in people:
        person.name = f"{fake.first_name()} {fake.last_name()}"
        local = _email_local(person.name)
        email = f"{local}@{person.org.domain}.nhs.example"
        number = 2
        while email in taken:
            email = f"{local}{number}@{person.org.domain}.nhs.example"
            number += 1
        taken.add(email)
        person.email = email
        years = _management_years(rng, person.band)
        title = _title(rng, person.role_family, person.band)
        bio, goals = _text(rng, person, title, years)
        mentee = person.kind == "mentee"
        person.values = {
            "job_title": title,
            "management_years": years,
            "bio": bio,
            "goals": goals,
            "meeting_format": _weighted(rng, {"either": 50, "remote": 35, "in-person": 15}),
            "seeking_mentor": mentee,
            "outside_organisation_only": mentee and rng.random() < 0.3,
            "priority_access": rng.random() < (0.15 if mentee else 0.03),
            "created_at": now - timedelta(days=rng.randint(1, 540), minutes=rng.randint(0, 1440)),
        }
        if mentee:
            weights = _skill_weights(person.role_family, seed_weight=6.0)
            person.sought = _sample_weighted(rng, weights, rng.choice((1, 2, 2, 3, 3, 4)))
        elif person.kind == "mentor":
            weights = _skill_weights(person.role_family, seed_weight=2.5)
            person.offered = _sample_weighted(rng, weights, rng.randint(2, 5))
            person.capacity = rng.choices((1, 2, 3), weights=(40, 40, 20))[0]
            person.paused = rng.random() < 0.05


def _line_management(rng: random.Random, members: Sequence[tuple[int, _Person]]) -> list[dict]:
    """Some line-management links, always to a more senior member of the same organisation."""
    by_org: dict[str, list[tuple[int, _Person]]] = defaultdict(list)
    for member_id, person in members:
        by_org[person.org.name].append((member_id, person))
    links: list[dict] = []
    for colleagues in by_org.values():
        for member_id, person in colleagues:
            seniors = [
                (other_id, other)
                for other_id, other in colleagues
                if BAND_RANK[other.band] > BAND_RANK[person.band]
            ]
            if seniors and rng.random() < 0.4:
                # Prefer the nearest band above: managers are rarely five bands up.
                nearest = min(BAND_RANK[other.band] for _, other in seniors)
                candidates = [i for i, other in seniors if BAND_RANK[other.band] <= nearest + 1]
                links.append({"id": member_id, "line_manager_id": rng.choice(candidates)})
    return links


def _existing_demo_accounts(session: Session) -> list[DemoAccount]:
    emails = {account.email for account in DEMO_ACCOUNTS}
    found = set(session.exec(select(col(Member.email)).where(col(Member.email).in_(emails))).all())
    return [account for account in DEMO_ACCOUNTS if account.email in found]


def _add_demo_accounts(
    session: Session, *, password_hash: str, orgs: dict[str, int]
) -> dict[str, int]:
    """The four demo accounts; the mentor is set up to be a good match for the member."""
    now = utcnow()
    member_org = ORGANISATIONS[0]  # Northfield Teaching Hospitals
    mentor_org = ORGANISATIONS[10]  # Trentside Hospitals, another organisation and region
    profiles: dict[str, dict[str, Any]] = {
        "member": dict(
            org=member_org,
            job_title="Medical Rota Coordinator",
            role_family="workforce-and-rostering",
            band="4",
            profession="non-clinical",
            management_years=2,
            seeking_mentor=True,
            outside_organisation_only=True,
            priority_access=True,
            meeting_format="either",
            bio=(
                "Medical Rota Coordinator at Northfield Teaching Hospitals. I joined the NHS as a "
                "ward clerk six years ago and now look after the rotas for the medical division."
            ),
            goals=(
                "I manage the medical rota for 40 junior doctors and want to move into a service "
                "manager role. I want to learn how performance data and quality improvement "
                "could cut our last-minute gaps."
            ),
        ),
        "mentor": dict(
            org=mentor_org,
            job_title="General Manager, Medicine",
            role_family="operational-management",
            band="8b",
            profession="non-clinical",
            management_years=14,
            seeking_mentor=False,
            outside_organisation_only=False,
            priority_access=False,
            meeting_format="either",
            bio=(
                "General Manager for medicine at Trentside Hospitals. I started as a medical "
                "staffing officer and have run rotas, outpatients and a quality improvement "
                "programme. I was mentored early in my career and would like to do the same "
                "for others."
            ),
            goals="I want to give back some of the support I was lucky enough to get.",
        ),
        "organiser": dict(
            org=ORGANISATIONS[12],  # Heart of Mercia ICB
            job_title="Head of Leadership and Organisational Development",
            role_family="people-and-hr",
            band="8c",
            profession="non-clinical",
            management_years=12,
        ),
        "admin": dict(
            org=ORGANISATIONS[23],  # North Central Thames ICB
            job_title="Digital Services Manager",
            role_family="digital-and-data",
            band="8a",
            profession="non-clinical",
            management_years=6,
        ),
    }
    ids: dict[str, int] = {}
    for account in DEMO_ACCOUNTS:
        profile = dict(profiles[account.role])
        org: _Org = profile.pop("org")
        member = Member(
            email=account.email,
            password_hash=password_hash,
            email_verified_at=now,
            name=account.name,
            organisation_id=orgs[org.name],
            region=org.region,
            **profile,
        )
        session.add(member)
        session.flush()
        ids[account.role] = member.id
    session.add_all(
        [
            MemberSkill(member_id=ids["member"], skill_id=s, kind="sought")
            for s in DEMO_MEMBER_SKILLS
        ]
    )
    offered = (*DEMO_MEMBER_SKILLS, "operational-planning", "team-leadership")
    session.add_all(
        [MemberSkill(member_id=ids["mentor"], skill_id=s, kind="offered") for s in offered]
    )
    session.add(MentoringOffer(member_id=ids["mentor"], capacity=2, note="Monthly, an hour."))
    member_service.grant_role(session=session, member_id=ids["organiser"], role="organiser")
    member_service.grant_role(session=session, member_id=ids["admin"], role="admin")
    return ids


def load(
    *, session: Session, seed: int = 2024, members: int = 320, if_empty: bool = False
) -> DemoResult:
    """Add a demo network of ``members`` generated members plus the four demo accounts."""
    started = time.perf_counter()
    if isinstance(members, bool) or not isinstance(members, int) or not 0 <= members <= MAX_MEMBERS:
        raise Invalid(f"members must be a whole number from 0 to {MAX_MEMBERS:,}.", field="members")
    if get_settings().is_production:
        # The password is public and one account is an admin: never where real people are.
        return DemoResult(
            loaded=False,
            message="The demo network is never loaded in production: its password is public.",
            seed=seed,
        )
    existing = session.exec(select(func.count()).select_from(Member)).one()
    if if_empty and existing:
        return DemoResult(
            loaded=False,
            message=f"The database already has {existing:,} members; demo data not loaded.",
            seed=seed,
            accounts=_existing_demo_accounts(session),
        )
    already = _existing_demo_accounts(session)
    if already:
        return DemoResult(
            loaded=False,
            message="The demo network is already loaded; nothing added.",
            seed=seed,
            accounts=already,
        )

    rng = random.Random(seed)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    # One Argon2 hash for everyone: hashing hundreds of passwords would take most of a minute.
    password_hash = passwords.hash_password(DEMO_PASSWORD)

    orgs = {
        org.name: organisation_service.get_or_create(
            session=session, name=org.name, type=org.type, region=org.region
        ).id
        for org in ORGANISATIONS
    }
    demo_ids = _add_demo_accounts(session, password_hash=password_hash, orgs=orgs)

    people = _plan(rng, members)
    taken = set(session.exec(select(Member.email)).all())
    _fill(rng, fake, people, taken)
    now = utcnow()
    records = [
        Member(
            email=person.email,
            password_hash=password_hash,
            email_verified_at=now,
            name=person.name,
            organisation_id=orgs[person.org.name],
            region=person.org.region,
            role_family=person.role_family,
            band=person.band,
            profession=person.profession,
            **person.values,
        )
        for person in people
    ]
    session.add_all(records)
    session.flush()
    pairs = [(record.id, person) for record, person in zip(records, people, strict=True)]

    skills = [
        {"member_id": member_id, "skill_id": skill_id, "kind": kind}
        for member_id, person in pairs
        for kind, ids in (("sought", person.sought), ("offered", person.offered))
        for skill_id in ids
    ]
    if skills:
        session.execute(insert(MemberSkill), skills)
    offers = [
        {"member_id": member_id, "capacity": person.capacity, "paused": person.paused, "note": ""}
        for member_id, person in pairs
        if person.capacity
    ]
    if offers:
        session.execute(insert(MentoringOffer), offers)
    links = _line_management(rng, pairs)
    if links:
        session.execute(update(Member), links)
    session.flush()
    _add_posts(rng, session, [member_id for member_id, _ in pairs])

    mentors = sum(1 for person in people if person.capacity) + 1
    mentees = sum(1 for person in people if person.kind == "mentee") + 1
    total = members + len(demo_ids)
    return DemoResult(
        loaded=True,
        message=f"Loaded a demo network of {total:,} members (seed {seed}).",
        seed=seed,
        members=total,
        organisations=len(orgs),
        regions=len({org.region for org in ORGANISATIONS}),
        mentors=mentors,
        mentees=mentees,
        line_managed=len(links),
        seconds=time.perf_counter() - started,
        accounts=list(DEMO_ACCOUNTS),
    )


# Learning members share in the community feed: (title, Markdown body, skill tags).
DEMO_POSTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "How we cut rota gaps by planning six weeks ahead",
        "We moved the medical rota sign-off from two weeks to **six weeks** before the start "
        "date. Gaps fell from 14 a month to 3.\n\n- agree leave requests in one monthly window\n"
        "- share a draft rota with the clinical lead first\n- keep a short list of bank doctors "
        "who know the wards",
        ("rota-management", "operational-planning"),
    ),
    (
        "A simple run chart changed our discharge conversations",
        "Plotting discharges before noon every day on a run chart, on the ward office wall, did "
        "more than any email. The team could *see* the effect of board rounds starting at 9.",
        ("quality-improvement", "performance-measurement"),
    ),
    (
        "What I wish I had known before my first budget meeting",
        "Ask finance for the last three months of variance reports *before* the meeting, and "
        "check which lines you actually control. Most of mine were pay, and most of that was "
        "agency.",
        ("budget-management",),
    ),
    (
        "Working across the ICS: three things that helped",
        "1. Name one person in each partner organisation who can say yes.\n2. Share the data, "
        "even when it is not perfect.\n3. Agree the problem before anyone proposes a solution.",
        ("collaborative-leadership", "stakeholder-engagement"),
    ),
    (
        "Introducing an e-rostering system without losing the team",
        "We ran the old and new systems side by side for one rota period and asked two "
        "coordinators to be the go-to people on each ward. Training in small groups worked "
        "better than one big session.",
        ("technology-implementation", "change-management"),
    ),
)


def _add_posts(rng: random.Random, session: Session, member_ids: list[int]) -> None:
    """A few posts with comments, so the community feed has something to read."""
    from backend.community.models import Comment, Post, PostSkill

    if len(member_ids) < 10:
        return
    now = utcnow()
    replies = (
        "Thank you, this is really useful.",
        "We tried something similar: it worked best once the clinical lead was on board.",
        "Would you share the template?",
    )
    # Oldest first, so ids and dates agree: the feed shows DEMO_POSTS in their order.
    for days_ago, (title, body, tags) in reversed(list(enumerate(DEMO_POSTS))):
        author = rng.choice(member_ids)
        post = Post(
            author_id=author,
            title=title,
            body=body,
            created_at=now - timedelta(days=2 * days_ago + 1),
        )
        session.add(post)
        session.flush()
        for tag in tags:
            session.add(PostSkill(post_id=post.id, skill_id=tag))
        for reply in rng.sample(replies, k=rng.randint(1, 2)):
            session.add(
                Comment(
                    post_id=post.id,
                    author_id=rng.choice([m for m in member_ids if m != author]),
                    body=reply,
                    created_at=post.created_at + timedelta(hours=3),
                )
            )
    session.flush()


def describe(result: DemoResult) -> str:
    """A few lines for the terminal: what was loaded and how to log in."""
    lines = [result.message]
    if result.loaded:
        lines.append(
            f"{result.organisations} organisations in {result.regions} regions; "
            f"{result.mentors} mentors offering places, {result.mentees} members seeking a mentor, "
            f"{result.line_managed} line-management links ({result.seconds:.1f} s)."
        )
    if result.accounts:
        lines.append("")
        lines.append(f"Demo accounts (password: {result.password}):")
        width = max(len(account.email) for account in result.accounts)
        for account in result.accounts:
            lines.append(
                f"  {account.role:<10} {account.email:<{width}}  {account.name}, {account.what}"
            )
        if result.loaded:
            lines.append("Every generated member has the same password.")
    return "\n".join(lines)
