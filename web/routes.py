"""All page routes, gathered into one router for the app."""

from __future__ import annotations

from fastapi import APIRouter

from web import (
    accounts,
    admin,
    assessments,
    assets,
    chapters,
    community,
    events,
    goals,
    groups,
    impact,
    insights,
    mentoring,
    messages,
    notifications,
    opportunities,
    organisations,
    organise,
    pages,
    privacy,
    profile,
    programmes,
    rounds,
    sso,
    surveys,
    two_factor,
)

router = APIRouter()
router.include_router(assets.router)
router.include_router(pages.router)
router.include_router(accounts.router)
router.include_router(sso.router)
router.include_router(two_factor.router)
router.include_router(profile.router)
router.include_router(organise.router)
router.include_router(rounds.router)
router.include_router(programmes.router)
router.include_router(surveys.router)
router.include_router(mentoring.router)
router.include_router(groups.router)
router.include_router(events.router)
router.include_router(assessments.router)
router.include_router(goals.router)
router.include_router(opportunities.router)
router.include_router(notifications.router)
router.include_router(messages.router)
router.include_router(community.router)
router.include_router(privacy.router)
router.include_router(insights.router)
router.include_router(impact.router)
router.include_router(admin.router)
router.include_router(organisations.router)
router.include_router(chapters.router)
