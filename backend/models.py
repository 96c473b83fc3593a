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
from backend.assessments.models import SelfAssessment, SelfAssessmentRating
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
from backend.events.models import Event, EventComment, EventLink, EventRsvp, EventSkill
from backend.matchmaking.models import MatchmakingState, SuggestionExposure
from backend.members.import_models import MemberImport
from backend.members.models import Member, MemberRole, MemberSkill, MentoringOffer
from backend.mentoring.models import (
    CheckIn,
    GoalNote,
    GroupSession,
    GroupSessionAttendance,
    MentoringGroup,
    MentoringSession,
    MentorRequest,
    Mentorship,
    MentorshipFeedback,
    MentorshipGoal,
    SessionBooking,
    SessionTimeOption,
)
from backend.messaging.models import (
    Message,
    MessagePreference,
    MessageReadState,
    MessageReport,
    MessageThread,
)
from backend.notifications.models import Notification, NotificationPreference, OutboxEmail
from backend.opportunities.models import (
    Opportunity,
    OpportunityEligibility,
    OpportunitySave,
    OpportunitySkill,
)
from backend.organisations.models import OdsImportRejects, Organisation
from backend.periodic import PeriodicStep
from backend.privacy.models import ConsentRecord, DemographicRecord, WideningAccessClaim
from backend.programmes.models import (
    Programme,
    ProgrammeAnswer,
    ProgrammeApplication,
    ProgrammeQuestion,
)
from backend.rounds.models import MatchingRound, MatchProposal
from backend.skills.models import Skill
from backend.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)

metadata = SQLModel.metadata

__all__ = [
    "AccessToken",
    "AccountIdentity",
    "AuditEvent",
    "Chapter",
    "ChapterOrganisation",
    "ChapterRegion",
    "CheckIn",
    "Circle",
    "CircleMember",
    "Comment",
    "CommunityPreference",
    "ConsentRecord",
    "DemographicRecord",
    "EmailToken",
    "Event",
    "EventComment",
    "EventLink",
    "EventRsvp",
    "EventSkill",
    "Follow",
    "GoalNote",
    "GroupSession",
    "GroupSessionAttendance",
    "LoginThrottle",
    "MatchProposal",
    "MatchingRound",
    "MatchmakingState",
    "Member",
    "MemberImport",
    "MemberRole",
    "MemberSkill",
    "MentorRequest",
    "MentoringGroup",
    "MentoringOffer",
    "MentoringSession",
    "Mentorship",
    "MentorshipFeedback",
    "MentorshipGoal",
    "Message",
    "MessagePreference",
    "MessageReadState",
    "MessageReport",
    "MessageThread",
    "Notification",
    "NotificationPreference",
    "OdsImportRejects",
    "Opportunity",
    "OpportunityEligibility",
    "OpportunitySave",
    "OpportunitySkill",
    "Organisation",
    "OrganiserScope",
    "OutboxEmail",
    "PeerPairing",
    "PeriodicStep",
    "Post",
    "PostSkill",
    "Programme",
    "ProgrammeAnswer",
    "ProgrammeApplication",
    "ProgrammeQuestion",
    "Reaction",
    "RecoveryCode",
    "Report",
    "SelfAssessment",
    "SelfAssessmentRating",
    "SessionBooking",
    "SessionTimeOption",
    "Skill",
    "SsoSignIn",
    "SuggestionExposure",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyQuestion",
    "SurveyResponse",
    "TotpCredential",
    "UserSession",
    "WebauthnChallenge",
    "WebauthnCredential",
    "WideningAccessClaim",
    "metadata",
]
