"""The demo's opportunities: believable, open, network-wide, added once."""

from __future__ import annotations

from sqlmodel import select

from backend.opportunities import service as opportunities
from backend.opportunities.demo import DEMO_OPPORTUNITIES, seed_demo_opportunities
from backend.opportunities.models import Opportunity
from tests.factories import make_member


def test_the_demo_catalogue_is_added_once_and_a_band_4_member_gets_three_with_reasons(session):
    first = seed_demo_opportunities(session)
    second = seed_demo_opportunities(session)
    session.commit()
    member = make_member(
        session, band="4", region="North West", skills_sought=("quality-improvement",)
    )

    found = opportunities.recommendations(session=session, member=member, first=3)

    assert (first, second) == (len(DEMO_OPPORTUNITIES), 0)
    assert len(session.exec(select(Opportunity.id)).all()) == len(DEMO_OPPORTUNITIES)
    assert len(found) == 3 and all(r.reasons for r in found)
    titles = {r.opportunity.title for r in found}
    assert "Mary Seacole Programme" in {
        v.title for v in opportunities.browse(session=session, member=member)
    }
    assert "Rosalind Franklin Programme" not in titles
