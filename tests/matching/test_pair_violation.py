"""The single-pair check and the matcher's vectorised rules are one set of rules."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from matching import rules
from matching.rules import build_population, feasible_matrix, pair_violation
from matching.synthetic import person
from matching.synthetic import small_frame as frame
from tests.matching.test_matching_rules import populations


def _check(f, mentee_row: int, mentor_row: int) -> str | None:
    managers = dict(zip(f["member_id"], f["line_manager_id"], strict=False))
    return pair_violation(
        f.iloc[mentee_row].to_dict(), f.iloc[mentor_row].to_dict(), managers=managers
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_the_single_pair_check_agrees_with_the_vectorised_mask(f):
    # given a random small population and the matcher's feasibility matrix
    pop = build_population(f)
    mask = feasible_matrix(pop)
    # then the single-pair check allows exactly the pairs the mask allows
    for i, mentee_row in enumerate(pop.mentee_rows):
        for j, mentor_row in enumerate(pop.mentor_rows):
            violation = _check(f, mentee_row, mentor_row)
            assert (violation is None) == bool(mask[i, j]), (i, j, violation)


def test_each_rule_names_what_is_wrong():
    f = frame(
        person("E", band="5", organisation="Leeds NHS Trust", outside_organisation_only=True),
        person("BOSS", band="8a", organisation="York NHS Trust", mentor_capacity=1),
        person("LOW", band="4", organisation="York NHS Trust", mentor_capacity=1),
        person("SAME", band="8a", organisation="Leeds NHS Trust", mentor_capacity=1),
        person("NONE", band="8a", organisation="York NHS Trust", mentor_capacity=0),
        person("GOOD", band="8b", organisation="Hull NHS Trust", mentor_capacity=2),
    )
    f.loc[f["member_id"] == "E", "line_manager_id"] = "BOSS"
    row = {m: i for i, m in enumerate(f["member_id"])}

    assert _check(f, row["E"], row["GOOD"]) is None
    assert _check(f, row["E"], row["E"]) == rules.VIOLATION_SELF
    assert _check(f, row["E"], row["BOSS"]) == rules.VIOLATION_CHAIN
    assert _check(f, row["E"], row["LOW"]) == rules.VIOLATION_BAND
    assert _check(f, row["E"], row["SAME"]) == rules.VIOLATION_OWN_ORGANISATION
    assert _check(f, row["E"], row["NONE"]) == rules.VIOLATION_NOT_OFFERING
