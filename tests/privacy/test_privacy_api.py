"""The privacy API: own demographics and consent, export, erasure, through GraphQL."""

from __future__ import annotations

import json

from backend.members.models import Member
from tests.factories import PASSWORD, make_member

RECORD = """
mutation($input: RecordDemographicsInput!) {
  recordDemographics(input: $input) {
    __typename
    ... on RecordDemographicsSuccess {
      demographics { consented ethnicity ageBand consents { wordingVersion how withdrawnAt } }
    }
    ... on InvalidInput { field message }
  }
}
"""
WITHDRAW = """
mutation { withdrawDemographics { __typename
  ... on WithdrawDemographicsSuccess { withdrawn demographics { consented ethnicity } } } }
"""
ERASE = """
mutation($input: EraseMyAccountInput!) {
  eraseMyAccount(input: $input) {
    __typename ... on InvalidInput { errors { field message } }
  }
}
"""


def test_a_member_records_and_withdraws_demographics(run, session):
    member = make_member(session)

    given = run(
        RECORD,
        {"input": {"consent": True, "ethnicity": "MIXED", "ageBand": "AGE_25_TO_34"}},
        member=member,
    )["data"]["recordDemographics"]
    assert given["__typename"] == "RecordDemographicsSuccess"
    mine = given["demographics"]
    assert (mine["consented"], mine["ethnicity"], mine["ageBand"]) == (
        True,
        "MIXED",
        "AGE_25_TO_34",
    )
    assert mine["consents"][0]["how"] == "Given by you on the diversity page"

    withdrawn = run(WITHDRAW, member=member)["data"]["withdrawDemographics"]
    assert withdrawn["withdrawn"] is True
    assert withdrawn["demographics"] == {"consented": False, "ethnicity": None}


def test_without_consent_nothing_is_kept(run, session):
    member = make_member(session)

    result = run(RECORD, {"input": {"consent": False, "gender": "WOMAN"}}, member=member)

    assert result["data"]["recordDemographics"]["field"] == "consent"
    mine = run("{ myDemographics { consented gender } }", member=member)["data"]
    assert mine["myDemographics"] == {"consented": False, "gender": None}


def test_strangers_get_nothing(run):
    result = run("{ myDemographics { consented } }")

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_export_my_data_is_my_json(run, session):
    member = make_member(session, name="Ada Export")

    data = run("{ exportMyData }", member=member)["data"]["exportMyData"]

    data = data if isinstance(data, dict) else json.loads(data)
    assert data["profile"]["name"] == "Ada Export" and "password_hash" not in data["profile"]


def test_erasing_needs_password_and_confirmation_then_removes_the_member(run, session):
    member = make_member(session)

    refused = run(ERASE, {"input": {"password": "nope", "confirm": False}}, member=member)
    fields = {e["field"] for e in refused["data"]["eraseMyAccount"]["errors"]}
    assert fields == {"password", "confirm"}

    done = run(ERASE, {"input": {"password": PASSWORD, "confirm": True}}, member=member)
    assert done["data"]["eraseMyAccount"]["__typename"] == "EraseMyAccountSuccess"
    session.expire_all()
    assert session.get(Member, member.id) is None
