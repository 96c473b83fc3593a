"""The mixed member workload for locust, started by bench/production_shape.py.

Each simulated user signs in as its own generated demo member (the accounts come from the file
named by PEERBRIDGE_LOAD_ACCOUNTS), then, with no think time, reads suggestions, searches the
directory, reads notifications, posts and replies, asks a mentor and withdraws, and signs in
again, in the weights of ``Workload.MIX``. An operation counts as failed on any HTTP error,
GraphQL error or error result. When the run stops, every write a client saw acknowledged is
written to PEERBRIDGE_LOAD_ACKS, for the harness to compare with the database.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from typing import Any

from locust import HttpUser, constant, events

from bench.production_shape import GraphQLFailure, Workload, check_result

ACCOUNTS: list[str] = json.loads(open(os.environ["PEERBRIDGE_LOAD_ACCOUNTS"]).read())  # noqa: SIM115
NEXT_ACCOUNT = itertools.count()
ACKS: list[tuple[str, int]] = []


class Member(HttpUser):
    """One member using the site as fast as the server answers."""

    wait_time = constant(0)

    def on_start(self) -> None:
        """Take the next account and sign in."""
        self.email = ACCOUNTS[next(NEXT_ACCOUNT) % len(ACCOUNTS)]
        self.cookie: str | None = None
        self.workload = Workload(send=self.send, email=self.email)
        self.workload.acks = ACKS  # one list for all users: greenlets, so no lock is needed
        # A failure is counted by send(); the log-in task tries again later.
        with contextlib.suppress(GraphQLFailure):
            self.workload.log_in()

    def send(self, name: str, field_name: str, query: str, variables: dict[str, Any] | None) -> Any:
        """One GraphQL operation, timed by locust under ``name``."""
        headers = {"Cookie": f"pb_session={self.cookie}"} if self.cookie else {}
        with self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            name=name,
            catch_response=True,
        ) as response:
            try:
                value = check_result(response, field_name)  # type: ignore[arg-type]
            except GraphQLFailure as error:
                response.failure(str(error))
                raise
            except Exception as error:  # a body that is not JSON
                response.failure(f"{type(error).__name__}: {error}")
                raise GraphQLFailure(str(error)) from error
            if field_name == "logIn":
                self.cookie = response.cookies.get("pb_session") or self.cookie
            response.success()
        return value

    def perform(self, operation: str) -> None:
        """One operation of the workload; failures are already recorded by ``send``."""
        with contextlib.suppress(GraphQLFailure):
            getattr(self.workload, operation)()


def _operation(name: str) -> Any:
    def run(user: Member) -> None:
        user.perform(name)

    run.__name__ = name
    return run


Member.tasks = {_operation(name): weight for name, weight in Workload.MIX}


@events.quitting.add_listener
def _write_acks(environment: Any, **_kwargs: Any) -> None:
    with open(os.environ["PEERBRIDGE_LOAD_ACKS"], "w") as out:
        json.dump(ACKS, out)
