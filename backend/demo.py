"""A believable demo network, deterministic by seed, and the demo accounts to explore it with.

The data lives beside this module in ``backend/demo_data/``: the organisations (a CSV), who the
network holds and in what proportions (``population.toml``), the words of profiles
(``texts.toml``), the demo accounts (``accounts.toml``) and the community posts
(``posts.toml``). This module only draws from them, with one seeded random generator, so the
same seed gives the same network.

Organisations, places and people are invented. Generated addresses use the reserved
``.example`` top-level domain, so nothing here can ever reach a real mailbox.
"""

from __future__ import annotations

import csv
import io
import random
import re
import time
import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import Any

from faker import Faker
from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from backend.accounts import passwords
from backend.db import utcnow
from backend.errors import Invalid
from backend.members import service as member_service
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.organisations import register as organisation_register
from backend.organisations import service as organisation_service
from backend.organisations.models import Organisation
from backend.settings import get_settings
from vocabulary import BAND_RANK, BANDS, PROFESSIONS, ROLE_FAMILIES, SKILL_IDS

DEMO_PASSWORD = "peerbridge-demo-2024"  # noqa: S105 - published on purpose: demo data only
MAX_MEMBERS = 100_000
_DATA = resources.files("backend") / "demo_data"


def _toml(name: str) -> dict[str, Any]:
    with (_DATA / name).open("rb") as file:
        return tomllib.load(file)


@dataclass(frozen=True)
class _Org:
    name: str
    type: str
    region: str
    domain: str
    size: int  # relative headcount: acute trusts are big, GP practices small


@dataclass(frozen=True)
class DemoAccount:
    """A demo account anyone may log in with (the password is in ``DemoResult``)."""

    role: str
    email: str
    name: str
    what: str


@dataclass(frozen=True)
class _Goal:
    text: str
    only_for: tuple[str, ...] | None  # role families (or "clinical"); None: anyone


def _organisations() -> tuple[_Org, ...]:
    text = (_DATA / "organisations.csv").read_text(encoding="utf-8")
    return tuple(
        _Org(row["name"], row["type"], row["region"], row["domain"], int(row["size"]))
        for row in csv.DictReader(io.StringIO(text, newline=""))
    )


ORGANISATIONS = _organisations()
_ORGS_BY_NAME = {org.name: org for org in ORGANISATIONS}

_POPULATION = _toml("population.toml")
SEED_SKILLS: tuple[str, ...] = tuple(_POPULATION["seed_skills"])
_KINDS: dict[str, int] = _POPULATION["kinds"]
_MENTOR_PLACES: dict[str, int] = _POPULATION["mentor_places"]
_MEETING_FORMATS: dict[str, int] = _POPULATION["meeting_formats"]
_BANDS_BY_KIND: dict[str, dict[str, int]] = _POPULATION["bands"]  # mentee, mentor, peer
# Years of management experience by band: (highest band, (fewest, most)).
_YEARS_BY_BAND: tuple[tuple[str, tuple[int, int]], ...] = tuple(
    (row["to"], (row["fewest"], row["most"])) for row in _POPULATION["management_years"]
)
_YEARS_ABOVE: tuple[int, int] = (
    _POPULATION["management_years_above"]["fewest"],
    _POPULATION["management_years_above"]["most"],
)
# Team sizes by band rank (bands 2 ... 8a and above).
_TEAM_SIZES: tuple[tuple[int, int], ...] = tuple(
    (fewest, most) for fewest, most in _POPULATION["team_sizes"]
)
_FAMILIES_BY_TYPE: dict[str, dict[str, int]] = dict(_POPULATION["role_families"])
_DEFAULT_FAMILIES = _FAMILIES_BY_TYPE.pop("default")
_PROFESSIONS_BY_FAMILY: dict[str, dict[str, int]] = dict(_POPULATION["professions"])
_DEFAULT_PROFESSIONS = _PROFESSIONS_BY_FAMILY.pop("default")
_FAMILY_SKILLS: dict[str, tuple[str, ...]] = {
    family: tuple(skills) for family, skills in _POPULATION["family_skills"].items()
}
# Job titles by role family and seniority: (bands 2-5, bands 6-7, bands 8a-9, VSM).
_TITLES: dict[str, tuple[tuple[str, ...], ...]] = {
    family: tuple(tuple(level) for level in levels)
    for family, levels in _POPULATION["titles"].items()
}

_TEXTS = _toml("texts.toml")
_SERVICES: tuple[str, ...] = tuple(_TEXTS["services"])
_BIO_OPENINGS: tuple[str, ...] = tuple(_TEXTS["bio_openings"])
_BIO_MORE: tuple[str, ...] = tuple(_TEXTS["bio_more"])
_MENTOR_MORE: tuple[str, ...] = tuple(_TEXTS["mentor_bio_more"])
_MENTOR_GOALS: tuple[str, ...] = tuple(_TEXTS["mentor_goals"])
_GOALS: tuple[_Goal, ...] = tuple(
    _Goal(goal["text"], tuple(goal["for"]) if "for" in goal else None)
    for goal in _TEXTS["mentee_goals"]
)

_ACCOUNTS: list[dict[str, Any]] = _toml("accounts.toml")["accounts"]
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = tuple(
    DemoAccount(a["role"], a["email"], a["name"], a["what"]) for a in _ACCOUNTS
)

_POSTS = _toml("posts.toml")
# Learning members share in the community feed: (title, Markdown body, skill tags).
DEMO_POSTS: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
    (post["title"], post["body"], tuple(post["skills"])) for post in _POSTS["posts"]
)
_REPLIES: tuple[str, ...] = tuple(_POSTS["replies"])


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
    history: dict[str, int] = field(default_factory=dict)  # rows each seeder added, by kind
    learning: str = ""  # the learning-from-outcomes verdict on the demo's history
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


def _kind_for_band(band: str) -> str:
    rank = BAND_RANK[band]
    if band == "2":
        return "peer"
    return "mentee" if rank <= BAND_RANK["7"] else "mentor"


def _fits(kind: str, band: str) -> bool:
    return band in _BANDS_BY_KIND[kind] or kind == "peer"


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
        kind = _weighted(rng, _KINDS)
        band = _weighted(rng, _BANDS_BY_KIND[kind])
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
    return rng.randint(*_YEARS_ABOVE)


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
            goal.text
            for goal in _GOALS
            if goal.only_for is None
            or person.role_family in goal.only_for
            or ("clinical" in goal.only_for and person.profession != "non-clinical")
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
            "meeting_format": _weighted(rng, _MEETING_FORMATS),
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
            person.capacity = int(_weighted(rng, _MENTOR_PLACES))
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
    """The demo accounts of accounts.toml, with their skills, places and roles."""
    now = utcnow()
    ids: dict[str, int] = {}
    for account in _ACCOUNTS:
        org = _ORGS_BY_NAME[account["organisation"]]
        member = Member(
            email=account["email"],
            password_hash=password_hash,
            email_verified_at=now,
            name=account["name"],
            organisation_id=orgs[org.name],
            region=org.region,
            **account["profile"],
        )
        session.add(member)
        session.flush()
        member_id: int = member.id
        ids[account["role"]] = member_id
        session.add_all(
            [
                MemberSkill(member_id=member_id, skill_id=skill, kind=kind)
                for kind in ("sought", "offered")
                for skill in account.get(f"skills_{kind}", ())
            ]
        )
        if "offer" in account:
            session.add(MentoringOffer(member_id=member_id, **account["offer"]))
        if "grant" in account:
            member_service.grant_role(session=session, member_id=member_id, role=account["grant"])
    return ids


@dataclass
class SeedContext:
    """What a seeder is given: the seed, the generated members and the demo accounts' ids.

    A seeder adds its counts to ``counts`` (they are printed by ``peerbridge demo-data``).
    """

    seed: int
    member_ids: list[int]
    demo_ids: dict[str, int]  # role in accounts.toml -> member id
    history: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    learning: str = ""


Seeder = Callable[[Session, SeedContext], None]


def _history_seeder(session: Session, context: SeedContext) -> None:
    if not context.history:
        return
    from backend import demo_history

    result = demo_history.build(
        session=session,
        seed=context.seed,
        member_ids=context.member_ids,
        organiser_id=context.demo_ids.get("organiser"),
    )
    context.counts.update(result.counts)
    context.learning = result.learning


def seeders() -> list[Seeder]:
    """Everything the demo adds after its members, in order: add new seeders HERE.

    Each is ``seeder(session, context)``; keep each deterministic by ``context.seed``.
    """
    return [_history_seeder, _opportunities_seeder, _events_seeder]


def _opportunities_seeder(session: Session, context: SeedContext) -> None:
    """A believable catalogue of development opportunities, posted by the demo organiser."""
    from backend.opportunities.demo import seed_demo_opportunities

    added = seed_demo_opportunities(session, posted_by_id=context.demo_ids.get("organiser"))
    context.counts["opportunities"] = added


def _events_seeder(session: Session, context: SeedContext) -> None:
    """Upcoming webinars, meetups and learning sets, organised by the demo organiser."""
    organiser_id = context.demo_ids.get("organiser")
    organiser = session.get(Member, organiser_id) if organiser_id is not None else None
    if organiser is None:
        return
    from backend.events.demo import seed_demo_events

    context.counts["events"] = len(seed_demo_events(session, organiser=organiser))


def load(
    *,
    session: Session,
    seed: int = 2024,
    members: int = 320,
    if_empty: bool = False,
    history: bool = True,
) -> DemoResult:
    """Add a demo network of ``members`` generated members plus the four demo accounts.

    With ``history`` (the default) the seeders then give it twelve months of past activity
    (``backend.demo_history``) and whatever the other seeders add.
    """
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
    # The register: the demo's ODS file gives every demo organisation its code ("register").
    organisation_register.import_ods_as_system(
        session=session, data=(_DATA / "ods_trusts_sample.csv").read_bytes()
    )
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
    context = SeedContext(
        seed=seed,
        member_ids=[member_id for member_id, _ in pairs],
        demo_ids=demo_ids,
        history=history,
    )
    for seeder in seeders():
        seeder(session, context)

    mentors = sum(1 for person in people if person.capacity) + 1
    mentees = sum(1 for person in people if person.kind == "mentee") + 1
    total = members + len(demo_ids)
    return DemoResult(
        loaded=True,
        message=f"Loaded a demo network of {total:,} members (seed {seed}).",
        seed=seed,
        members=total,
        organisations=len(session.exec(select(Organisation.id)).all()),
        regions=len({org.region for org in ORGANISATIONS}),
        mentors=mentors,
        mentees=mentees,
        line_managed=len(links),
        seconds=time.perf_counter() - started,
        history=context.counts,
        learning=context.learning,
        accounts=list(DEMO_ACCOUNTS),
    )


def _add_posts(rng: random.Random, session: Session, member_ids: list[int]) -> None:
    """A few posts with comments, so the community feed has something to read."""
    from backend.community.models import Comment, Post, PostSkill

    if len(member_ids) < 10:
        return
    now = utcnow()
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
        for reply in rng.sample(_REPLIES, k=rng.randint(1, 2)):
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
        if result.history:
            lines.append(
                "History: "
                + "; ".join(f"{count:,} {kind}" for kind, count in result.history.items())
                + "."
            )
        if result.learning:
            lines.append(result.learning)
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
