"""Recommending development opportunities: rules (eligibility, closing), ranking, reasons."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from matching.opportunities import (
    Seeker,
    eligible,
    is_open,
    reason_sentence,
    recommend,
)

TODAY = date(2026, 11, 20)


def _opportunity(opportunity_id: int, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "opportunity_id": opportunity_id,
        "title": f"Opportunity {opportunity_id}",
        "provider": "NHS Leadership Academy",
        "description": "",
        "skills": (),
        "closes_on": date(2026, 11, 28),
        "bands": (),
        "regions": (),
        "role_families": (),
        "professions": (),
    }
    row.update(fields)
    return row


def _frame(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


AMARA = Seeker(
    band="4",
    region="North West",
    role_family="administration",
    profession="non-clinical",
    skills_sought=("quality-improvement", "performance-measurement"),
    gaps=("engaging-the-team",),
    goals="I want to lead improvement projects in outpatients",
)


def test_an_opportunity_developing_both_skills_sought_ranks_first_and_says_so():
    frame = _frame(
        _opportunity(1, skills=("budget-management",), bands=("4",)),
        _opportunity(
            2,
            skills=("quality-improvement", "performance-measurement"),
            bands=("3", "4"),
            regions=("North West",),
        ),
        _opportunity(3, skills=("quality-improvement",)),
    )

    found = recommend(frame, AMARA, today=TODAY)

    assert [r.opportunity_id for r in found] == [2, 3, 1]
    assert found[0].reasons == [
        "develops 2 of the skills you want: quality improvement, "
        "performance measurement and analysis",
        "open to band 4",
        "in your region",
    ]
    assert found[1].reasons[0] == "develops a skill you want: quality improvement"
    assert found[0].score > found[1].score > found[2].score > 0
    assert reason_sentence(found[0].reasons).startswith("Develops 2 of the skills you want: ")
    assert reason_sentence(found[0].reasons).endswith("; open to band 4; in your region")


def test_an_ineligible_opportunity_is_never_recommended_however_good_a_fit():
    perfect = {"skills": ("quality-improvement", "performance-measurement")}
    frame = _frame(
        _opportunity(1, bands=("7", "8a"), **perfect),
        _opportunity(2, regions=("London",), **perfect),
        _opportunity(3, role_families=("finance",), **perfect),
        _opportunity(4, professions=("nurse-or-midwife",), **perfect),
        _opportunity(5, skills=("budget-management",), bands=("4",)),
    )

    assert [r.opportunity_id for r in recommend(frame, AMARA, today=TODAY)] == [5]


def test_a_closed_opportunity_is_never_recommended_and_the_closing_day_still_counts():
    skills = ("quality-improvement",)
    frame = _frame(
        _opportunity(1, skills=skills, closes_on=date(2026, 11, 19)),
        _opportunity(2, skills=skills, closes_on=TODAY),
    )

    assert [r.opportunity_id for r in recommend(frame, AMARA, today=TODAY)] == [2]
    assert not is_open(date(2026, 11, 19), TODAY)
    assert is_open(TODAY, TODAY)


def test_self_assessment_gaps_count_and_are_named():
    frame = _frame(
        _opportunity(1, skills=("engaging-the-team",)),
        _opportunity(2, skills=("board-readiness",)),
    )

    found = recommend(frame, AMARA, today=TODAY)

    assert [r.opportunity_id for r in found] == [1]
    assert found[0].reasons == ["builds on your self-assessment: engaging the team"]


def test_text_close_to_the_goals_breaks_a_tie_of_skills_and_says_so():
    frame = _frame(
        _opportunity(
            1,
            title="Estates strategy webinar",
            description="Capital planning for hospital estates",
            skills=("quality-improvement",),
        ),
        _opportunity(
            2,
            title="Outpatients improvement projects",
            description="Lead an improvement project in outpatients with a coach",
            skills=("quality-improvement",),
        ),
    )

    found = recommend(frame, AMARA, today=TODAY)

    assert [r.opportunity_id for r in found] == [2, 1]
    assert "close to your goals" in found[0].reasons
    assert "close to your goals" not in found[1].reasons


def test_first_limits_the_list_and_an_opportunity_with_no_reason_is_left_out():
    frame = _frame(
        *[_opportunity(i, skills=("quality-improvement",)) for i in range(1, 6)],
        _opportunity(9, skills=("board-readiness",)),
    )

    found = recommend(frame, AMARA, today=TODAY, first=3)

    assert [r.opportunity_id for r in found] == [1, 2, 3]
    assert 9 not in [r.opportunity_id for r in recommend(frame, AMARA, today=TODAY, first=10)]


def test_eligibility_is_open_to_all_where_a_dimension_is_empty():
    assert eligible({}, AMARA)
    assert eligible({"band": ("2", "3", "4"), "region": ()}, AMARA)
    assert not eligible({"band": ("5",)}, AMARA)


def test_a_frame_without_the_contract_columns_is_refused():
    with pytest.raises(ValueError, match="skills"):
        recommend(pd.DataFrame({"opportunity_id": [1]}), AMARA, today=TODAY)


def test_one_catalogue_is_fitted_once_and_gives_the_same_ranking_again():
    from matching.opportunities import _text_space

    frame = _frame(
        _opportunity(1, title="Outpatients improvement", skills=("quality-improvement",)),
        _opportunity(2, title="Estates webinar", skills=("quality-improvement",), bands=("8a",)),
    )

    first = recommend(frame, AMARA, today=TODAY)
    again = recommend(frame, AMARA, today=TODAY)

    documents = ("Outpatients improvement", "Estates webinar")
    assert _text_space(documents) is _text_space(documents)
    assert first == again and [r.opportunity_id for r in first] == [1]


def test_the_rule_for_a_population_agrees_with_the_rule_for_one_member():
    from random import Random

    from matching.opportunities import eligible_rows
    from vocabulary import BANDS, PROFESSIONS, REGIONS, ROLE_FAMILIES

    rng = Random(20261203)
    values = {
        "band": list(BANDS),
        "region": list(REGIONS),
        "role_family": list(ROLE_FAMILIES),
        "profession": list(PROFESSIONS),
    }
    people = [
        Seeker(**{d: rng.choice(v) for d, v in values.items()})  # type: ignore[arg-type]
        for _ in range(300)
    ]
    frame = pd.DataFrame([{d: getattr(p, d) for d in values} for p in people])
    agreed = 0
    for _ in range(40):
        rules = {
            d: rng.sample(v, rng.randint(1, 3)) for d, v in values.items() if rng.random() < 0.5
        }
        one_by_one = [eligible(rules, p) for p in people]
        assert eligible_rows(rules, frame).tolist() == one_by_one
        agreed += any(one_by_one) and not all(one_by_one)
    assert agreed >= 5  # the rules tried let some in and kept others out
