"""A fitted mentor suggester per process, shared exposure memory in the database.

Building the frame and fitting ``MentorSuggester`` on the whole network takes seconds at
50,000 members; answering one request with it takes a millisecond or two. So each process
keeps one fitted suggester per database and refits only when the network version
(``MatchmakingState``) moved: one cheap query a request tells it. Every change that affects
matching calls ``network_changed`` in the same transaction as the change.

Exposure control needs to know whom the suggester has just offered, across every process:
that memory is the ``suggestion_exposure`` table (a decayed count per mentor), read with the
request and written once the request's own transaction has ended (on SQLite that transaction
holds the write lock; a read-only request never commits it).
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Float, Select, bindparam, cast, event, func, null, select, text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from backend.matchmaking import frames
from backend.matchmaking.models import MatchmakingState, SuggestionExposure
from backend.matchmaking.version import NetworkState, dialect_insert, network_state
from backend.sqltypes import table_of

if TYPE_CHECKING:
    from matching.suggestions import MentorSuggester

log = logging.getLogger(__name__)

HALFLIFE = 100.0  # suggestion requests after which a remembered offer counts half
# Offers older than this many half-lives count less than 1/32 of an offer: not read.
WINDOW = int(5 * HALFLIFE)
_PENDING = "matchmaking.exposure"


@dataclass(frozen=True)
class Ranked:
    """One suggested mentor: database id, 0-100 pair score, plain reasons."""

    mentor_id: int
    score: float
    reasons: list[str]


class SuggesterCache:
    """One fitted ``MentorSuggester`` per database, refitted when the network version moves.

    ``fits`` counts the fits this cache made (a test reads it).
    """

    def __init__(self) -> None:
        self._fitted: dict[str, tuple[tuple[str, int] | None, MentorSuggester | None]] = {}
        self._lock = threading.Lock()
        self.fits = 0

    def suggester(self, *, session: Session, state: NetworkState | None) -> MentorSuggester | None:
        """The suggester fitted on the network at ``state`` (fitting it now if needed)."""
        database = str(session.get_bind().engine.url)
        key = None if state is None else (state.token, state.version)
        cached = self._fitted.get(database)
        if key is not None and cached is not None and cached[0] == key:
            return cached[1]
        with self._lock:
            cached = self._fitted.get(database)
            if key is not None and cached is not None and cached[0] == key:
                return cached[1]
            suggester = self._fit(session)
            self._fitted[database] = (key, suggester)
            return suggester

    def _fit(self, session: Session) -> MentorSuggester | None:
        from matching.suggestions import MentorSuggester

        frame = frames.network_frame(session=session)
        self.fits += 1
        if frame.empty or int(frame["mentor_capacity"].sum()) == 0:
            return None
        # Exposure comes from the database (shared by every process), not from memory.
        return MentorSuggester(exposure=False, exposure_halflife=HALFLIFE).fit(frame)


CACHE = SuggesterCache()


# A SELECT of (mentor_id, count), the offers the caller knows of, for the mentors in the
# expanding parameter "mentor_ids" (built once by the caller, so every request reuses it).
# A statement of (mentor id, count) rows: SQLAlchemy's or SQLModel's select (typed apart).
Counts = Any
MENTOR_IDS = "mentor_ids"


def suggest(
    *,
    session: Session,
    member_id: int,
    k: int,
    exclude_ids: Collection[int] = (),
    exposure_counts: Counts | None = None,
    cache: SuggesterCache = CACHE,
    band_rule: str = "senior",
    programme_id: int | None = None,
) -> list[Ranked]:
    """Top-``k`` mentors with a free place for one member, under the matcher's hard rules.

    ``exposure_counts`` is the statement counting the offers the caller knows of (open
    requests, say) for the mentors in ``MENTOR_IDS``; the suggester's own recent offers,
    shared by every process, are added to them. Both are read in one statement, only for the
    mentors that can reach the top ``k``.
    """
    state = network_state(session=session)
    suggester = cache.suggester(session=session, state=state)
    if suggester is None:
        return []
    requester: str | dict[str, object] = str(member_id)
    if band_rule == "reciprocal":
        from backend.privacy import widening

        # The flag in the programme (its categories), never the member's reason.
        profile = frames.profile_of(session=session, member_id=member_id)
        if profile is None:
            return []
        flagged = widening.flags_for(
            session=session, member_ids={member_id}, programme_id=programme_id
        )
        requester = {**profile, "priority_access": member_id in flagged}
    elif requester not in suggester.row_of_:
        # Joined since the fit (joining does not move the version): score their profile.
        profile = frames.profile_of(session=session, member_id=member_id)
        if profile is None:
            return []
        requester = profile

    def counts(mentor_ids: Sequence[str]) -> dict[str, float]:
        ids = [int(x) for x in mentor_ids]
        return {str(m): c for m, c in _exposure(session, state, ids, exposure_counts).items()}

    found = suggester.suggest(
        requester,
        k=k,
        exclude=[str(x) for x in exclude_ids],
        exposure_counts=counts,
        record=False,
        band_rule=band_rule,
    )
    ranked = [Ranked(int(s.mentor_id), float(s.score), list(s.reasons)) for s in found]
    if ranked:
        _remember_after_transaction(session, [r.mentor_id for r in ranked])
    return ranked


@functools.cache
def _exposure_statement(known: Counts | None) -> Select[tuple[int, float, int | None]]:
    """The exposure rows of the mentors in ``MENTOR_IDS`` and the counts ``known`` selects,
    as one UNION ALL (built once per caller's statement; a count has no request number)."""
    remembered = select(  # type: ignore[call-overload]  # three ORM columns: no typed overload
        SuggestionExposure.mentor_id,
        SuggestionExposure.offers,
        SuggestionExposure.at_request,
    ).where(
        col(SuggestionExposure.mentor_id).in_(bindparam(MENTOR_IDS, expanding=True)),
        SuggestionExposure.at_request > bindparam("since"),
    )
    if known is None:
        return remembered  # type: ignore[no-any-return]  # the untyped select above
    counted = known.subquery()
    return remembered.union_all(  # type: ignore[no-any-return]  # the untyped select above
        select(
            counted.c[0].label("mentor_id"),
            cast(counted.c[1], Float).label("offers"),
            null().label("at_request"),
        )
    )


def _exposure(
    session: Session, state: NetworkState | None, ids: list[int], known: Counts | None
) -> dict[int, float]:
    """Per mentor of ``ids``: the decayed offers of the last ``WINDOW`` suggestion requests,
    plus the counts ``known`` selects, in one round trip."""
    if not ids:
        return {}
    now = state.requests if state is not None else 0
    rows = session.execute(
        _exposure_statement(known), {MENTOR_IDS: ids, "since": now - WINDOW}
    ).all()
    out: dict[int, float] = {}
    for mentor, offers, at in rows:
        decay = 1.0 if at is None else 0.5 ** (max(0, now - at) / HALFLIFE)
        out[mentor] = out.get(mentor, 0.0) + float(offers) * decay
    return out


def _remember_after_transaction(session: Session, mentor_ids: list[int]) -> None:
    session.info.setdefault(_PENDING, []).append(mentor_ids)
    if not event.contains(session, "after_transaction_end", _record_pending):
        event.listen(session, "after_transaction_end", _record_pending)


def _record_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    bind = session.get_bind()
    try:
        if not isinstance(bind, Engine):
            raise TypeError("suggestion exposure is recorded through an engine")
        record_offers(engine=bind, offers=pending)
    except Exception:  # exposure is a ranking hint: never fail the request over it
        log.warning("could not record suggestion exposure", exc_info=True)


# PostgreSQL: a request's offers in one statement run on its own (autocommit): the clock moves
# and the offers are added in one round trip, and the commit does not wait for the
# write-ahead log to reach the disk (a ranking hint: losing the last few on a crash is
# harmless). The same upserts as the portable path below.
_RECORD_POSTGRESQL = text(
    "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)), "
    "clock AS (INSERT INTO matchmaking_state (id, token, version, requests) "
    "VALUES (1, :token, 0, 1) ON CONFLICT (id) DO UPDATE "
    "SET requests = matchmaking_state.requests + 1 RETURNING requests) "
    "INSERT INTO suggestion_exposure (mentor_id, offers, at_request) "
    "SELECT shown.id, 1.0, clock.requests "
    "FROM quick, clock, unnest(CAST(:mentor_ids AS integer[])) AS shown(id) "
    "ON CONFLICT (mentor_id) DO UPDATE SET offers = suggestion_exposure.offers * "
    "power(0.5, (excluded.at_request - suggestion_exposure.at_request) / :halflife) + 1.0, "
    "at_request = excluded.at_request"
)


def record_offers(*, engine: Engine, offers: list[list[int]]) -> None:
    """Remember that each request in ``offers`` showed those mentors (own transaction)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for mentor_ids in offers:
                connection.execute(
                    _RECORD_POSTGRESQL,
                    {
                        "token": uuid.uuid4().hex,
                        "mentor_ids": sorted(set(mentor_ids)),
                        "halflife": HALFLIFE,
                    },
                )
        return
    insert = dialect_insert(engine)
    state = table_of(MatchmakingState)
    table = table_of(SuggestionExposure)
    with engine.begin() as connection:
        for mentor_ids in offers:
            clock = insert(state).values(id=1, token=uuid.uuid4().hex, version=0, requests=1)
            now = connection.execute(
                clock.on_conflict_do_update(
                    index_elements=[state.c.id], set_={"requests": state.c.requests + 1}
                ).returning(state.c.requests)
            ).scalar_one()
            upsert = insert(table)
            decay = func.power(
                0.5, (upsert.excluded.at_request - table.c.at_request) * (1.0 / HALFLIFE)
            )
            connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=[table.c.mentor_id],
                    set_={
                        "offers": table.c.offers * decay + 1.0,
                        "at_request": upsert.excluded.at_request,
                    },
                ),
                [{"mentor_id": m, "offers": 1.0, "at_request": now} for m in mentor_ids],
            )
