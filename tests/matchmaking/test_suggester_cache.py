"""The fitted suggester is kept per process and refitted only when the network version moves.

Two ``SuggesterCache`` instances stand for two app processes sharing one database.
"""

from __future__ import annotations

from sqlmodel import delete, select

from backend import jobs
from backend.db import session_factory
from backend.matchmaking import suggestions as matchmaking
from backend.matchmaking.models import MatchmakingState, SuggestionExposure
from backend.matchmaking.version import network_changed, network_state
from backend.members import service as member_service
from backend.members.models import Member
from tests.factories import make_member


def _network(session):
    me = make_member(session, band="4", skills_sought=("quality-improvement",))
    best_mentor = make_member(
        session,
        band="7",
        organisation="Riverside Trust",
        capacity=1,
        skills_offered=("quality-improvement",),
    )
    other_mentor = make_member(session, band="7", organisation="Hillside Trust", capacity=1)
    network_changed(session=session)
    session.commit()
    # Plain ids: a rolled-back session expires its objects, and reloading one would begin a
    # transaction (on SQLite, take the write lock) behind the test's back.
    return me.id, best_mentor.id, other_mentor.id


def _ids(session, member_id, cache, k=10):
    found = matchmaking.suggest(
        session=session, member_id=member_id, k=k, exclude_ids={member_id}, cache=cache
    )
    session.rollback()  # a read-only request ends: its exposure is recorded now
    return [r.mentor_id for r in found]


def test_a_second_request_uses_the_fitted_suggester(session):
    me, best, other = _network(session)
    cache = matchmaking.SuggesterCache()

    first = _ids(session, me, cache)
    second = _ids(session, me, cache)

    assert first[0] == best and set(first) == {best, other}
    assert set(second) == set(first)
    assert cache.fits == 1


def test_a_profile_change_refits_every_process(engine, session):
    me, best, other = _network(session)
    here, there = matchmaking.SuggesterCache(), matchmaking.SuggesterCache()
    with session_factory(engine)() as elsewhere:
        assert _ids(session, me, here)[0] == best
        assert _ids(elsewhere, me, there)[0] == best
        before = network_state(session=session).version
        session.rollback()

        # The best mentor moves down to band 4: no longer above me.
        member_service.update_profile(
            session=session,
            member=session.get(Member, best),
            update=member_service.ProfileUpdate(band="4"),
        )
        session.commit()  # end the unit of work (on SQLite it holds the lock)

        assert network_state(session=elsewhere).version == before + 1
        assert _ids(elsewhere, me, there) == [other]
        assert there.fits == 2
        assert _ids(session, me, here) == [other]
        assert here.fits == 2


def test_a_recreated_version_row_is_not_taken_for_the_old_one(session):
    me, _, _ = _network(session)
    cache = matchmaking.SuggesterCache()
    _ids(session, me, cache)
    old = network_state(session=session)

    # A database emptied and rebuilt: the row starts again at the same version number.
    session.execute(delete(MatchmakingState))
    network_changed(session=session)
    session.commit()
    new = network_state(session=session)
    session.rollback()
    _ids(session, me, cache)

    assert new.version == 1 and new.token != old.token
    assert cache.fits == 2


def test_exposure_is_shared_between_processes(engine, session):
    me, best, other = _network(session)
    here, there = matchmaking.SuggesterCache(), matchmaking.SuggesterCache()

    shown = [_ids(session, me, here, k=1)[0] for _ in range(4)]

    # One place each: after two offers per place the best mentor is held back for a while.
    assert shown[0] == best and other in shown
    remembered = dict(
        session.exec(select(SuggestionExposure.mentor_id, SuggestionExposure.offers)).all()
    )
    session.rollback()
    assert remembered[best] >= 2
    with session_factory(engine)() as elsewhere:
        held_back = _ids(elsewhere, me, there, k=1)
    # A process that never showed anyone still holds the best mentor back.
    assert held_back == [other]


def test_a_worker_pass_with_nothing_due_does_not_refit(engine, session, mail_dir):
    # The worker's periodic pass runs every couple of seconds; when it closes no offer the
    # network did not change, so the suggester fitted before it still answers after it.
    me, best, other = _network(session)
    cache = matchmaking.SuggesterCache()
    first = _ids(session, me, cache)
    assert set(first) == {best, other}
    before = network_state(session=session).version
    session.rollback()

    jobs.run_once(engine)
    jobs.run_once(engine)

    assert network_state(session=session).version == before
    session.rollback()
    assert set(_ids(session, me, cache)) == set(first)
    assert cache.fits == 1


def test_suggestions_over_http_with_a_worker_pass_between_refit_once(engine, session, mail_dir):
    # The served path: the app's own per-process cache, the worker's pass between requests.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's note about httpx2
        from fastapi.testclient import TestClient

    from peerbridge.app import create_app
    from tests.factories import PASSWORD

    me, _best, _other = _network(session)
    email = session.get(Member, me).email
    session.close()  # on SQLite an open transaction here would block the app's writes
    query = "{ mentorSuggestions(first: 5) { mentor { id } } }"
    log_in = (
        "mutation($input: LogInInput!) { logIn(input: $input) { __typename } }",
        {"input": {"email": email, "password": PASSWORD}},
    )
    with TestClient(create_app(engine=engine), base_url="http://localhost") as client:
        signed_in = client.post("/graphql", json={"query": log_in[0], "variables": log_in[1]})
        assert signed_in.json()["data"]["logIn"]["__typename"] == "LogInSuccess"
        shown = []
        for _ in range(3):
            response = client.post("/graphql", json={"query": query})
            assert response.status_code == 200 and "errors" not in response.json()
            shown.append(len(response.json()["data"]["mentorSuggestions"]))
            if len(shown) == 1:
                fits = matchmaking.CACHE.fits
            jobs.run_once(engine)

    assert shown == [2, 2, 2]
    assert matchmaking.CACHE.fits == fits  # the first request fitted; no pass made it refit
