"""Synthetic populations and outcome histories, deterministic by seed.

Used by the tests and the benchmarks. The populations follow the shape of the real network as
domain.md describes it: mentees mostly at bands 3-7, mentors at band 7 and above with capacity
1-3, mentors scarce in some regions, organisations clustered by region, line-management chains
inside each organisation, and a share of mentees asking for widening-access priority.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.features import FRAME_COLUMNS as MATCHER_FRAME_COLUMNS
from vocabulary import (
    BANDS,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    SKILL_IDS,
    SKILL_NAMES,
)

# A members.csv's identity columns, then the matcher's frame (features.FRAME_COLUMNS).
FRAME_COLUMNS: tuple[str, ...] = (
    "member_id",
    "name",
    "email",
    "organisation",
    *MATCHER_FRAME_COLUMNS[1:],
)

# Mentor supply per region relative to demand: East of England and the South West are scarce.
_MENTOR_REGION_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.35, 1.6, 1.1, 0.4])
_MENTEE_REGION_WEIGHTS = np.array([1.2, 1.1, 1.3, 0.9, 1.3, 1.1, 0.8])
# Band distributions (index into BANDS: 2 3 4 5 6 7 8a 8b 8c 8d 9 VSM).
_MENTEE_BANDS = np.array([1, 6, 12, 16, 18, 18, 13, 8, 4, 2, 1, 0.5])
_MENTOR_BANDS = np.array([0, 0, 0, 0.5, 2, 10, 18, 20, 17, 12, 8, 6])
_SKILL_WEIGHTS = np.array([4.0, 4.0, 4.0, 4.0] + [1.5] * 12 + [1.0] * 9)

_PLACES = (
    "Airedale",
    "Barnsley",
    "Bradford",
    "Calderdale",
    "Doncaster",
    "Harrogate",
    "Hull",
    "Leeds",
    "Sheffield",
    "York",
    "Blackpool",
    "Bolton",
    "Cumbria",
    "Lancashire",
    "Liverpool",
    "Manchester",
    "Salford",
    "Stockport",
    "Wirral",
    "Wigan",
    "Birmingham",
    "Coventry",
    "Derby",
    "Leicester",
    "Lincoln",
    "Nottingham",
    "Shrewsbury",
    "Stoke",
    "Walsall",
    "Worcester",
    "Bedford",
    "Cambridge",
    "Colchester",
    "Ipswich",
    "Luton",
    "Norwich",
    "Peterborough",
    "Southend",
    "Watford",
    "Barking",
    "Camden",
    "Croydon",
    "Ealing",
    "Hackney",
    "Lewisham",
    "Southwark",
    "Whittington",
    "Brighton",
    "Buckinghamshire",
    "Frimley",
    "Kent",
    "Oxford",
    "Portsmouth",
    "Southampton",
    "Surrey",
    "Sussex",
    "Bath",
    "Bristol",
    "Cornwall",
    "Devon",
    "Dorset",
    "Exeter",
    "Gloucester",
    "Plymouth",
    "Somerset",
    "Swindon",
    "Torbay",
    "Wiltshire",
)
_ORG_KINDS = (
    "NHS Foundation Trust",
    "Teaching Hospitals NHS Trust",
    "Community Healthcare NHS Trust",
    "Integrated Care Board",
    "Primary Care Network",
    "Mental Health NHS Foundation Trust",
)
_FIRST = (
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Emma",
    "Femi",
    "Grace",
    "Hannah",
    "Imran",
    "Jo",
    "Kwame",
    "Laura",
    "Mohammed",
    "Niamh",
    "Olu",
    "Priya",
    "Rhys",
    "Sarah",
    "Tom",
    "Uche",
    "Wei",
    "Zoë",
    "Siobhán",
    "José",
    "Łukasz",
)
_LAST = (
    "Adeyemi",
    "Begum",
    "Clarke",
    "Davies",
    "Evans",
    "Fernandes",
    "Green",
    "Hussain",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Murphy",
    "Nowak",
    "O'Brien",
    "Patel",
    "Roberts",
    "Smith",
    "Taylor",
    "Williams",
    "Wright",
    "Zhang",
    "Ó Súilleabháin",
)
_GOAL_OPENERS = (
    "I want to get better at",
    "I would like help with",
    "Looking for guidance on",
    "My next step needs",
    "Hoping to build confidence in",
)
_GOAL_CONTEXT = (
    "as I move from a clinical role into operations",
    "while running a busy outpatient department",
    "to prepare for a band 8a post",
    "across our integrated care system",
    "after taking on my first team",
    "in a small primary care network",
    "with a new electronic patient record coming",
    "to reduce waiting lists",
)
_BIO_CONTEXT = (
    "Led services through a merger",
    "Ran operations for a large acute trust",
    "Moved from nursing into general management",
    "Built a quality improvement programme from scratch",
    "Delivered a digital rollout across a region",
    "Managed budgets and rotas for a division",
    "Chaired system-wide partnership boards",
    "Coached new managers for many years",
)


def organisation_key(name: str) -> str:
    """Normalise an organisation name: trimmed, inner spaces collapsed, case-folded."""
    return " ".join(str(name).split()).casefold()


def make_population(
    n_mentees: int,
    n_mentors: int | None = None,
    *,
    seed: int = 0,
    priority_share: float = 0.15,
    outside_only_share: float = 0.3,
    people_per_organisation: int = 150,
) -> pd.DataFrame:
    """Make a synthetic member frame with the columns of ``records_to_frame``."""
    return _generate(
        n_mentees,
        n_mentors,
        seed=seed,
        priority_share=priority_share,
        outside_only_share=outside_only_share,
        people_per_organisation=people_per_organisation,
    )


def make_realistic_population(n_members: int, *, seed: int = 0) -> pd.DataFrame:
    """A national-scale member frame shaped like the hard cases of a real round.

    Against :func:`make_population`: about 62% of members seek a mentor and there are about
    0.83 places per mentee; senior mentors (8d, 9, VSM) are scarce while senior mentees (8a-8c)
    are not, so the mentors senior mentees need score low for everyone else and appear in few
    candidate lists; most mentors have one place; organisations are larger (400 people), so
    line-management chains are deeper; and widening-access priority is clustered: a third of the
    organisations ask for it three times as often as the rest, and junior bands more often.
    At 90,000 members: about 56,000 mentees and 46,500 places.
    """
    n_mentors = round(0.40 * n_members)
    return _generate(
        n_members - n_mentors,
        n_mentors,
        seed=seed,
        priority_share=0.12,
        outside_only_share=0.3,
        people_per_organisation=400,
        mentee_bands=np.array([1, 5, 9, 13, 16, 17, 14, 11, 8, 4, 1.5, 0.5]),
        mentor_bands=np.array([0, 0, 0, 0.5, 3, 16, 26, 24, 16, 7, 3, 1.5]),
        capacity_p=(0.8, 0.16, 0.04),
        mentor_seeking_share=0.05,
        priority_cluster=3.0,
    )


def _generate(
    n_mentees: int,
    n_mentors: int | None,
    *,
    seed: int,
    priority_share: float,
    outside_only_share: float,
    people_per_organisation: int,
    mentee_bands: np.ndarray = _MENTEE_BANDS,
    mentor_bands: np.ndarray = _MENTOR_BANDS,
    capacity_p: tuple[float, float, float] = (0.4, 0.4, 0.2),
    mentor_seeking_share: float = 0.1,
    priority_cluster: float = 1.0,
) -> pd.DataFrame:
    """The generator behind both populations (the defaults give ``make_population``)."""
    rng = np.random.default_rng(seed)
    if n_mentors is None:
        n_mentors = max(1, n_mentees // 2) if n_mentees else 0
    n = n_mentees + n_mentors
    is_mentor = np.zeros(n, dtype=bool)
    is_mentor[n_mentees:] = True

    # Organisations, each in one region.
    n_orgs = max(1, n // people_per_organisation)
    org_region = rng.choice(len(REGIONS), size=n_orgs, p=_MENTEE_REGION_WEIGHTS / 7.7)
    names = []
    seen: set[str] = set()
    for k in range(n_orgs):
        place = _PLACES[(k * 7 + int(org_region[k])) % len(_PLACES)]
        kind = _ORG_KINDS[(k // len(_PLACES)) % len(_ORG_KINDS)]
        name = f"{place} {kind}"
        suffix = 2
        while organisation_key(name) in seen:
            name = f"{place} and District {suffix} {kind}"
            suffix += 1
        seen.add(organisation_key(name))
        names.append(name)
    org_names = np.array(names, dtype=object)

    # People: region first (scarcity), then an organisation in that region.
    region = np.where(
        is_mentor,
        rng.choice(7, size=n, p=_MENTOR_REGION_WEIGHTS / _MENTOR_REGION_WEIGHTS.sum()),
        rng.choice(7, size=n, p=_MENTEE_REGION_WEIGHTS / _MENTEE_REGION_WEIGHTS.sum()),
    )
    orgs_by_region = [np.flatnonzero(org_region == r) for r in range(7)]
    org = np.empty(n, dtype=np.int64)
    for r in range(7):
        members = np.flatnonzero(region == r)
        pool = orgs_by_region[r] if len(orgs_by_region[r]) else np.arange(n_orgs)
        org[members] = rng.choice(pool, size=len(members))
    region = np.where(np.isin(org, np.concatenate(orgs_by_region)), org_region[org], region)

    band = np.where(
        is_mentor,
        rng.choice(12, size=n, p=mentor_bands / mentor_bands.sum()),
        rng.choice(12, size=n, p=mentee_bands / mentee_bands.sum()),
    )
    capacity = np.where(is_mentor, rng.choice([1, 2, 3], size=n, p=list(capacity_p)), 0)
    # Some mentees at band 7+ also mentor one person; some mentors also seek a mentor.
    capacity = np.where(~is_mentor & (band >= 5) & (rng.random(n) < 0.1), 1, capacity)
    seeking = ~is_mentor | (rng.random(n) < mentor_seeking_share)
    years = np.clip(rng.poisson(1 + band * 1.5), 0, 40)
    profession = rng.choice(len(PROFESSIONS), size=n, p=[0.12, 0.2, 0.1, 0.03, 0.03, 0.52])
    role = rng.choice(len(ROLE_FAMILIES), size=n)
    fmt = rng.choice(3, size=n, p=[0.5, 0.15, 0.35])
    outside = seeking & (rng.random(n) < outside_only_share)
    # Widening access: priority is asked for more often at the junior bands.
    prio_p = priority_share * np.where(band <= 4, 1.8, np.where(band <= 6, 1.0, 0.4))
    if priority_cluster != 1.0:
        # A third of the organisations ask for priority ``priority_cluster`` times as often
        # (drawn from a second stream, so the defaults draw exactly what they always did).
        hot = np.random.default_rng([seed, 1]).random(n_orgs) < 1 / 3
        prio_p = prio_p * np.where(hot[org], priority_cluster, 1.0)
    priority = seeking & (rng.random(n) < prio_p)

    # Line management inside each organisation: each person reports to someone more senior.
    manager = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((-band, org))
    org_sorted = org[order]
    starts = np.flatnonzero(np.r_[True, org_sorted[1:] != org_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    no_manager = rng.random(n) < 0.15
    pick = rng.integers(0, 4, size=n)
    for s, e in zip(starts, ends, strict=False):
        people = order[s:e]  # most senior first
        neg_band = -band[people]
        # number of people strictly more senior than each person
        n_higher = np.searchsorted(neg_band, neg_band, side="left")
        for pos in np.flatnonzero((n_higher > 0) & ~no_manager[people]):
            # report to one of the closest few in seniority
            k = n_higher[pos] - 1 - min(n_higher[pos] - 1, pick[people[pos]])
            manager[people[pos]] = people[k]

    ids = np.array([f"M{i:06d}" for i in range(n)], dtype=object)
    first = rng.integers(0, len(_FIRST), size=n)
    last = rng.integers(0, len(_LAST), size=n)
    n_sought = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.08, 0.2, 0.32, 0.25, 0.15])
    n_offered = rng.choice([2, 3, 4, 5, 6], size=n)
    goal_open = rng.integers(0, len(_GOAL_OPENERS), size=n)
    goal_ctx = rng.integers(0, len(_GOAL_CONTEXT), size=n)
    bio_ctx = rng.integers(0, len(_BIO_CONTEXT), size=n)
    empty_goals = rng.random(n) < 0.1

    # Weighted sampling without replacement for every person at once (Gumbel top-k).
    log_w = np.log(_SKILL_WEIGHTS)
    sought_rank = np.argsort(-(log_w + rng.gumbel(size=(n, len(SKILL_IDS)))), axis=1)
    offered_rank = np.argsort(-(log_w + rng.gumbel(size=(n, len(SKILL_IDS)))), axis=1)
    n_sought = np.where(seeking, n_sought, 0)
    n_offered = np.where(capacity > 0, n_offered, 0)

    rows = []
    for i in range(n):
        sought = tuple(SKILL_IDS[k] for k in np.sort(sought_rank[i, : n_sought[i]]))
        offered = tuple(SKILL_IDS[k] for k in np.sort(offered_rank[i, : n_offered[i]]))
        if seeking[i] and not empty_goals[i]:
            topics = " and ".join(SKILL_NAMES[s].lower() for s in sought[:2]) or "management"
            goals = f"{_GOAL_OPENERS[goal_open[i]]} {topics} {_GOAL_CONTEXT[goal_ctx[i]]}."
        else:
            goals = ""
        if capacity[i] > 0:
            topics = ", ".join(SKILL_NAMES[s].lower() for s in offered[:3])
            bio = f"{_BIO_CONTEXT[bio_ctx[i]]}. Experience in {topics}."
        else:
            bio = ""
        name = f"{_FIRST[first[i]]} {_LAST[last[i]]}"
        org_name = org_names[org[i]]
        rows.append(
            (
                ids[i],
                name,
                f"{ids[i].lower()}@example.nhs.uk",
                org_name,
                organisation_key(org_name),
                REGIONS[region[i]],
                ROLE_FAMILIES[role[i]],
                BANDS[band[i]],
                PROFESSIONS[profession[i]],
                int(years[i]),
                ids[manager[i]] if manager[i] >= 0 else None,
                bool(seeking[i]),
                int(capacity[i]),
                sought,
                offered,
                goals,
                MEETING_FORMATS[fmt[i]],
                bool(outside[i]),
                bool(priority[i]),
                bio,
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=list(FRAME_COLUMNS))
    return frame


def frame_to_csv_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a member frame into the members.csv columns (yes/no flags, ';'-joined skills)."""

    def yes_no(col: pd.Series) -> pd.Series:
        return col.map({True: "yes", False: "no"})

    out = pd.DataFrame(
        {
            "member_id": frame["member_id"],
            "name": frame["name"],
            "email": frame["email"],
            "organisation": frame["organisation"],
            "region": frame["region"],
            "role_family": frame["role_family"],
            "band": frame["band"],
            "profession": frame["profession"],
            "management_years": frame["management_years"].astype(int),
            "line_manager_id": frame["line_manager_id"].fillna(""),
            "seeking_mentor": yes_no(frame["seeking_mentor"]),
            "mentor_capacity": frame["mentor_capacity"].astype(int),
            "skills_sought": frame["skills_sought"].map(";".join),
            "skills_offered": frame["skills_offered"].map(";".join),
            "goals": frame["goals"],
            "meeting_format": frame["meeting_format"],
            "outside_organisation_only": yes_no(frame["outside_organisation_only"]),
            "priority_access": yes_no(frame["priority_access"]),
            "demographics_consent": "",
            "ethnicity": "",
            "gender": "",
            "disability": "",
            "age_band": "",
        }
    )
    return out


def write_members_csv(frame: pd.DataFrame, path: str) -> None:
    """Write a member frame as a members.csv file (UTF-8, RFC 4180 quoting)."""
    frame_to_csv_rows(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")


def person(member_id: str, **kw) -> dict:
    """One hand-made member row with sensible defaults; keyword arguments override them."""
    row = {
        "member_id": member_id,
        "name": f"Person {member_id}",
        "email": f"{member_id.lower()}@example.nhs.uk",
        "organisation": "Leeds NHS Trust",
        "region": "North East and Yorkshire",
        "role_family": "operational-management",
        "band": "5",
        "profession": "non-clinical",
        "management_years": 2,
        "line_manager_id": None,
        "seeking_mentor": False,
        "mentor_capacity": 0,
        "skills_sought": (),
        "skills_offered": (),
        "goals": "",
        "meeting_format": "either",
        "outside_organisation_only": False,
        "priority_access": False,
        "bio": "",
    }
    row.update(kw)
    row["organisation_key"] = organisation_key(str(row["organisation"]))
    return row


def small_frame(*people: dict) -> pd.DataFrame:
    """A member frame from rows made by :func:`person`."""
    return pd.DataFrame(list(people), columns=list(FRAME_COLUMNS))


def make_history(
    frame: pd.DataFrame,
    n_pairs: int,
    *,
    rule: dict[str, float] | None = None,
    sharpness: float = 12.0,
    seed: int = 0,
) -> pd.DataFrame:
    """A synthetic outcome history whose hidden acceptance rule is known.

    Pairs are drawn at random among seeking mentees and mentors at a higher band. Each pair is
    accepted with probability ``sigmoid(sharpness * (r - median r))``, where ``r`` is the
    weighted mean of its score components under ``rule`` (component -> weight; ``None`` means
    the default ``ScoreWeights``). Returns columns mentee_id, mentor_id, outcome, the seven
    components and ``accepted``.
    """
    from matching.learning import pair_components
    from matching.scoring import COMPONENTS, ScoreWeights

    rng = np.random.default_rng(seed)
    from vocabulary import BAND_RANK

    band = frame["band"].astype(str).map(BAND_RANK).to_numpy()
    mentees = np.flatnonzero(frame["seeking_mentor"].to_numpy(dtype=bool))
    mentors = np.flatnonzero(frame["mentor_capacity"].to_numpy() > 0)
    if len(mentees) == 0 or len(mentors) == 0:
        raise ValueError("the frame needs mentees and mentors")
    e = rng.choice(mentees, size=4 * n_pairs)
    m = rng.choice(mentors, size=4 * n_pairs)
    ok = band[m] > band[e]
    e, m = e[ok][:n_pairs], m[ok][:n_pairs]
    ids = frame["member_id"].astype(str).to_numpy()
    comps = pair_components(frame, ids[e], ids[m])
    weights = rule if rule is not None else ScoreWeights().as_dict()
    w = np.array([float(weights.get(c, 0.0)) for c in COMPONENTS])
    r = comps[list(COMPONENTS)].to_numpy() @ (w / w.sum())
    p = 1.0 / (1.0 + np.exp(-sharpness * (r - np.median(r))))
    accepted = rng.random(len(p)) < p
    out = pd.DataFrame(
        {
            "mentee_id": ids[e],
            "mentor_id": ids[m],
            "outcome": np.where(accepted, "accepted", "declined"),
        }
    )
    out = pd.concat([out, comps], axis=1)
    out["accepted"] = accepted.astype(int)
    return out
