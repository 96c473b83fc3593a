"""The demo network: believable, deterministic by seed, with four accounts that can log in."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from backend import demo
from backend.accounts import passwords
from backend.accounts import service as accounts
from backend.members import service as member_service
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.models import metadata
from backend.organisations.models import Organisation
from backend.settings import get_settings
from tests.conftest import empty_audit_log
from vocabulary import BAND_RANK, BANDS, PROFESSIONS, REGIONS, ROLE_FAMILIES, SKILL_IDS


def wipe(session: Session) -> None:
    """Empty every table but the skills framework, as the fixtures do between tests."""
    for table in reversed(metadata.sorted_tables):
        if table.name == "audit_event":
            empty_audit_log(session.connection())
        elif table.name not in ("skill", "alembic_version"):
            session.execute(table.delete())
    session.commit()


def member(session: Session, email: str) -> Member:
    return session.exec(select(Member).where(Member.email == email)).one()


def test_loads_a_believable_network(session):
    result = demo.load(session=session)
    session.commit()

    members = session.exec(select(Member)).all()
    assert result.loaded and result.members == len(members) == 324
    assert len(members) >= 300
    organisations = session.exec(select(Organisation)).all()
    assert len(organisations) >= 25 and result.organisations == len(organisations)
    assert {o.region for o in organisations} == set(REGIONS)
    assert {o.type for o in organisations} >= {
        "acute-trust",
        "mental-health-trust",
        "community-trust",
        "ambulance-trust",
        "integrated-care-board",
        "primary-care",
    }
    assert {m.region for m in members} == set(REGIONS)
    assert {m.band for m in members} == set(BANDS)
    assert {m.role_family for m in members} == set(ROLE_FAMILIES)
    assert {m.profession for m in members} == set(PROFESSIONS)
    assert all(m.is_verified and m.password_hash for m in members)
    assert len({m.password_hash for m in members}) == 1  # hashed once
    assert sum(m.outside_organisation_only for m in members) >= 10
    assert sum(m.priority_access for m in members) >= 10


def test_mentors_offer_capacity_and_mentees_seek_skills_with_goals(session):
    demo.load(session=session, members=150)
    session.commit()

    members = {m.id: m for m in session.exec(select(Member)).all()}
    offers = session.exec(select(MentoringOffer).where(MentoringOffer.capacity > 0)).all()
    skills = member_service.skills_for(session=session, member_ids=list(members))
    assert len(offers) >= 30
    for offer in offers:
        mentor = members[offer.member_id]
        assert BAND_RANK[mentor.band] >= BAND_RANK["7"]
        assert 1 <= offer.capacity <= 3
        assert skills[mentor.id]["offered"]
    mentees = [m for m in members.values() if m.seeking_mentor]
    assert len(mentees) >= 50
    for mentee in mentees:
        assert BAND_RANK["3"] <= BAND_RANK[mentee.band] <= BAND_RANK["7"]
        assert skills[mentee.id]["sought"]
        assert len(mentee.goals) > 40
    sought = Counter(s for m in mentees for s in skills[m.id]["sought"])
    top_four = {skill for skill, _ in sought.most_common(4)}
    assert top_four == set(demo.SEED_SKILLS)


def test_line_managers_are_more_senior_colleagues_in_the_same_organisation(session):
    demo.load(session=session, members=150)
    session.commit()

    members = {m.id: m for m in session.exec(select(Member)).all()}
    managed = [m for m in members.values() if m.line_manager_id is not None]
    assert len(managed) >= 25
    for report in managed:
        manager = members[report.line_manager_id]
        assert manager.organisation_id == report.organisation_id
        assert BAND_RANK[manager.band] > BAND_RANK[report.band]


def test_same_seed_gives_the_same_network_and_another_seed_another(session):
    def people(seed: int) -> list[tuple[str, str, str, str]]:
        wipe(session)
        demo.load(session=session, seed=seed, members=60)
        session.commit()
        rows = session.exec(select(Member).order_by(Member.id)).all()
        return [(m.name, m.email, m.band, m.goals) for m in rows]

    first = people(7)
    again = people(7)
    other = people(8)

    assert first == again
    assert len(first) == 64
    assert first[4:] != other[4:]  # the demo accounts are the same whatever the seed


def test_demo_accounts_log_in_with_the_documented_password(session):
    result = demo.load(session=session, members=40)
    session.commit()

    assert passwords.password_problem(demo.DEMO_PASSWORD) is None
    roles = {}
    for account in result.accounts:
        logged_in, token = accounts.log_in(
            session=session, email=account.email, password=result.password
        )
        assert token
        roles[account.role] = member_service.roles_of(session=session, member_id=logged_in.id)
    assert roles == {
        "member": ["member"],
        "mentor": ["member"],
        "organiser": ["member", "organiser"],
        "admin": ["member", "admin"],
    }
    text = demo.describe(result)
    assert demo.DEMO_PASSWORD in text
    for email in ("member", "mentor", "organiser", "admin"):
        assert f"{email}@demo.peerbridge.example" in text


def test_demo_mentor_has_free_capacity_and_matches_the_demo_member(session):
    demo.load(session=session, members=40)
    session.commit()

    mentee = member(session, "member@demo.peerbridge.example")
    mentor = member(session, "mentor@demo.peerbridge.example")
    offer = member_service.offer_of(session=session, member_id=mentor.id)
    sought = member_service.skills_of(session=session, member_id=mentee.id)["sought"]
    offered = member_service.skills_of(session=session, member_id=mentor.id)["offered"]

    assert offer.capacity >= 1 and not offer.paused
    assert mentee.seeking_mentor and sought
    assert set(sought) <= set(offered)
    assert mentor.organisation_id != mentee.organisation_id
    assert BAND_RANK[mentor.band] > BAND_RANK[mentee.band]
    assert mentor.line_manager_id is None and mentee.line_manager_id is None


def test_if_empty_leaves_an_existing_database_alone(session):
    demo.load(session=session, members=40)
    session.commit()
    before = session.exec(select(func.count()).select_from(Member)).one()

    result = demo.load(session=session, if_empty=True)

    assert not result.loaded
    assert session.exec(select(func.count()).select_from(Member)).one() == before
    text = demo.describe(result)
    assert "demo data not loaded" in text
    assert "member@demo.peerbridge.example" in text  # the accounts are still worth showing


def test_loading_twice_adds_nothing_the_second_time(session):
    demo.load(session=session, members=40)
    session.commit()
    skills = session.exec(select(func.count()).select_from(MemberSkill)).one()

    result = demo.load(session=session, members=40)

    assert not result.loaded and "already loaded" in result.message
    assert session.exec(select(func.count()).select_from(MemberSkill)).one() == skills


def test_a_bad_member_count_is_refused(session):
    with pytest.raises(demo.Invalid):
        demo.load(session=session, members=-1)


def test_refused_in_production(session, monkeypatch):
    monkeypatch.setenv("PEERBRIDGE_ENVIRONMENT", "production")
    monkeypatch.setenv("PEERBRIDGE_SECRET_KEY", "x" * 40)
    get_settings.cache_clear()
    try:
        result = demo.load(session=session, members=10)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

    assert not result.loaded and "never loaded in production" in demo.describe(result)
    assert session.exec(select(func.count()).select_from(Member)).one() == 0


def test_the_community_feed_has_learning_to_read(session):
    from backend.community import service as community

    demo.load(session=session, members=40)
    session.commit()
    reader = member(session, "member@demo.peerbridge.example")

    posts, _ = community.feed(session=session, viewer=reader)

    assert [p.title for p in posts] == [title for title, _, _ in demo.DEMO_POSTS]
    comments = community.comments_for(session=session, viewer=reader, post_ids=[posts[0].id])
    replies = comments[posts[0].id]
    assert replies and all(c.author_id != posts[0].author_id for c in replies)


def test_the_default_network_keeps_its_shape(session):
    """What `make run` loads (seed 2024, 320 generated members): counted in the database."""
    from backend.community.models import Comment, Post

    result = demo.load(session=session)
    session.commit()

    def count(model, *where) -> int:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    shape = {
        "members": count(Member),
        "organisations": count(Organisation),
        "mentors": count(MentoringOffer, MentoringOffer.capacity > 0),
        "mentees": count(Member, Member.seeking_mentor),
        "line_managed": count(Member, Member.line_manager_id.is_not(None)),
        "skills": count(MemberSkill),
        "posts": count(Post),
        "comments": count(Comment),
    }
    assert shape == {
        "members": 324,
        "organisations": 38,
        "mentors": 91,
        "mentees": 170,
        "line_managed": 109,
        "skills": 746,
        "posts": 5,
        "comments": 7,
    }
    reported = {k: getattr(result, k) for k in ("members", "organisations", "mentors", "mentees")}
    assert reported == {k: shape[k] for k in reported}
    assert result.line_managed == shape["line_managed"] and result.regions == len(REGIONS)


def test_the_demo_data_files_ship_with_the_package():
    """Every file the generator reads is package data, so a wheel and the image carry it."""
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["backend"]
    files = [p.name for p in (root / "backend" / "demo_data").iterdir()]
    assert len(files) == 6
    unshipped = [f for f in files if not any(fnmatch(f"demo_data/{f}", p) for p in patterns)]
    assert unshipped == []
    # The image installs the package from a copy of backend/, so it has them too.
    assert "COPY backend ./backend" in (root / "Dockerfile").read_text()


def test_the_data_files_name_only_known_values():
    """A typo in a data file is caught here, by name, not as a crash or odd data at load."""
    import string

    from backend.organisations.models import ORGANISATION_TYPES

    assert {o.type for o in demo.ORGANISATIONS} <= set(ORGANISATION_TYPES)
    assert {o.region for o in demo.ORGANISATIONS} == set(REGIONS)
    assert len({o.domain for o in demo.ORGANISATIONS}) == len(demo.ORGANISATIONS)
    assert set(demo._FAMILY_SKILLS) == set(demo._TITLES) == set(ROLE_FAMILIES)
    assert all(len(levels) == 4 and all(levels) for levels in demo._TITLES.values())
    families = [demo._DEFAULT_FAMILIES, *demo._FAMILIES_BY_TYPE.values()]
    assert set().union(*families) <= set(ROLE_FAMILIES)
    assert set(demo._FAMILIES_BY_TYPE) <= set(ORGANISATION_TYPES)
    professions = [demo._DEFAULT_PROFESSIONS, *demo._PROFESSIONS_BY_FAMILY.values()]
    assert set().union(*professions) <= set(PROFESSIONS)
    assert set(demo._PROFESSIONS_BY_FAMILY) <= set(ROLE_FAMILIES)
    assert set(demo._BANDS_BY_KIND) == set(demo._KINDS) == {"mentee", "mentor", "peer"}
    assert set().union(*demo._BANDS_BY_KIND.values()) == set(BANDS)
    assert [top for top, _ in demo._YEARS_BY_BAND] == sorted(
        (top for top, _ in demo._YEARS_BY_BAND), key=BAND_RANK.__getitem__
    )
    skills = {s for family in demo._FAMILY_SKILLS.values() for s in family}
    skills |= set(demo.SEED_SKILLS) | {s for _, _, tags in demo.DEMO_POSTS for s in tags}
    assert skills <= set(SKILL_IDS)
    assert {g for goal in demo._GOALS for g in goal.only_for or ()} <= {*ROLE_FAMILIES, "clinical"}
    slots = {"n", "service", "years", "years_in", "team", "next_band", "title", "a_title"}
    slots |= {"org", "region"}
    texts = [*demo._BIO_OPENINGS, *demo._BIO_MORE, *demo._MENTOR_MORE, *demo._MENTOR_GOALS]
    texts += [goal.text for goal in demo._GOALS]
    used = {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}
    assert used <= slots
    organisations = {o.name for o in demo.ORGANISATIONS}
    for account in demo._ACCOUNTS:
        assert account["organisation"] in organisations, account["role"]
        chosen = {*account.get("skills_sought", ()), *account.get("skills_offered", ())}
        assert chosen <= set(SKILL_IDS), account["role"]
