"""Every table, imported in one place so that Alembic and tests see the whole metadata."""

from __future__ import annotations

from sqlmodel import SQLModel

from backend.accounts.factor_models import (
    RecoveryCode,
    TotpCredential,
    WebauthnChallenge,
    WebauthnCredential,
)
from backend.accounts.models import AccessToken, EmailToken, LoginThrottle, UserSession
from backend.accounts.sso_models import AccountIdentity, SsoSignIn
from backend.audit.models import AuditEvent
from backend.chapters.models import Chapter, ChapterOrganisation, ChapterRegion, OrganiserScope
from backend.community.models import (
    Circle,
    CircleMember,
    Comment,
    CommunityPreference,
    Follow,
    PeerPairing,
    Post,
    PostSkill,
    Reaction,
    Report,
)
from backend.matchmaking.models import MatchmakingState, SuggestionExposure
from backend.members.import_models import MemberImport
from backend.members.models import Member, MemberRole, MemberSkill, MentoringOffer
from backend.mentoring.models import (
    MentoringSession,
    MentorRequest,
    Mentorship,
    MentorshipFeedback,
)
from backend.notifications.models import Notification, NotificationPreference, OutboxEmail
from backend.organisations.models import OdsImportRejects, Organisation
from backend.privacy.models import ConsentRecord, DemographicRecord, WideningAccessClaim
from backend.programmes.models import (
    Programme,
    ProgrammeAnswer,
    ProgrammeApplication,
    ProgrammeQuestion,
)
from backend.rounds.models import MatchingRound, MatchProposal
from backend.skills.models import Skill

metadata = SQLModel.metadata

__all__ = [
    "AccessToken",
    "AccountIdentity",
    "AuditEvent",
    "Chapter",
    "ChapterOrganisation",
    "ChapterRegion",
    "Circle",
    "CircleMember",
    "Comment",
    "CommunityPreference",
    "ConsentRecord",
    "DemographicRecord",
    "EmailToken",
    "Follow",
    "LoginThrottle",
    "MatchProposal",
    "MatchingRound",
    "MatchmakingState",
    "Member",
    "MemberImport",
    "MemberRole",
    "MemberSkill",
    "MentorRequest",
    "MentoringOffer",
    "MentoringSession",
    "Mentorship",
    "MentorshipFeedback",
    "Notification",
    "NotificationPreference",
    "OdsImportRejects",
    "Organisation",
    "OrganiserScope",
    "OutboxEmail",
    "PeerPairing",
    "Post",
    "PostSkill",
    "Programme",
    "ProgrammeAnswer",
    "ProgrammeApplication",
    "ProgrammeQuestion",
    "Reaction",
    "RecoveryCode",
    "Report",
    "Skill",
    "SsoSignIn",
    "SuggestionExposure",
    "TotpCredential",
    "UserSession",
    "WebauthnChallenge",
    "WebauthnCredential",
    "WideningAccessClaim",
    "metadata",
]
