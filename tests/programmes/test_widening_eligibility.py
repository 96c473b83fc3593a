"""A widening-access-only programme admits members with priority, claimed or organiser-set."""

from __future__ import annotations

from backend.programmes import service as programmes
from tests.factories import make_member, make_programme, make_widening_claim

ONLY = "This programme is only for members with widening-access priority."


def test_a_consented_claim_in_a_counting_category_makes_a_member_eligible(session):
    programme = make_programme(
        session, widening_access_only=True, widening_categories=["bands-2-to-4"]
    )
    claimant, other_reason, nobody = (make_member(session, band="4") for _ in range(3))
    make_widening_claim(session, member=claimant, category="bands-2-to-4")
    make_widening_claim(session, member=other_reason, category="disabled")
    flagged = make_member(session, band="4", priority_access=True)

    def refused(member):
        reasons = programmes.reasons_not_eligible(programme, member, session=session)
        return any(reason.startswith(ONLY) for reason in reasons)

    assert not refused(claimant)
    assert not refused(flagged)  # set by an organiser (the members import)
    assert refused(other_reason)  # a category this programme does not count
    assert refused(nobody)
