"""The closed list of audit actions: ``record`` refuses any other name.

Dotted names, ``<what>.<done>``. Each has a plain-English label for the admin page and, where
a member may see it about themselves, a sentence for their "who has seen your data" list.
"""

from __future__ import annotations

# Imports and exports of members' data
MEMBERS_IMPORTED = "members.imported"  # an import job finished: counts in details
IMPORT_REJECTS_EXPORTED = "import.rejects_exported"  # the rejected rows downloaded
MEMBER_VIEWED = "member.viewed"  # an organiser or admin opened a member's profile
MEMBER_DATA_EXPORTED = "member.data_exported"  # a member downloaded their own data (JSON)
# A member erased their account. On SQLite a deleted member's id can be given again to the next
# new member, so events up to this one that name the id are the erased member's, never theirs.
MEMBER_ERASED = "member.erased"
INSIGHTS_EXPORTED = "insights.exported"  # an insights table downloaded as CSV
INSIGHTS_VIEWED = "insights.viewed"  # a programme's or chapter's insights viewed (ids in details)
IMPACT_VIEWED = "impact.viewed"  # an impact report viewed (programme and chapter ids in details)
IMPACT_EXPORTED = "impact.exported"  # an impact report downloaded (format: csv or pdf)
# Matching rounds
ROUND_CREATED = "round.created"
ROUND_RUN = "round.run"  # the round's job finished: counts in details
ROUND_RETRIED = "round.retried"
ROUND_PUBLISHED = "round.published"
ROUND_EXPORTED = "round.exported"  # the proposals CSV (names of mentees and mentors)
PROPOSAL_REMOVED = "proposal.removed"
PROPOSAL_SWAPPED = "proposal.swapped"
# Community moderation and programmes
CONTENT_HIDDEN = "moderation.hidden"
CONTENT_RESTORED = "moderation.restored"
REPORTS_DISMISSED = "moderation.dismissed"
CIRCLES_FORMED = "circles.formed"
CIRCLE_MEMBER_MOVED = "circles.member_moved"
PEER_PAIRING_RUN = "peer_connect.paired"
# Roles and audit
ROLE_GRANTED = "role.granted"
ROLE_REVOKED = "role.revoked"
AUDIT_EXPORTED = "audit.exported"
# The admin console: the reason is a code from a closed list (backend.members.console)
MEMBER_SUSPENDED = "member.suspended"
MEMBER_REACTIVATED = "member.reactivated"
INVITATION_RESENT = "invitation.resent"  # an invitation or confirmation email sent again
SKILL_ADDED = "skill.added"  # the skill's id in details
SKILL_RENAMED = "skill.renamed"
SKILL_RETIRED = "skill.retired"
# Signing in (SSO and second factors are wired by their own modules)
SIGNIN_NEW_DEVICE = "signin.new_device"
SIGNIN_SSO = "signin.sso"
TWO_FACTOR_ENABLED = "two_factor.enabled"
TWO_FACTOR_DISABLED = "two_factor.disabled"
PASSKEY_ADDED = "passkey.added"
PASSKEY_REMOVED = "passkey.removed"
RECOVERY_CODES_GENERATED = "recovery_codes.generated"
# Programmes (organisers)
PROGRAMME_CREATED = "programme.created"
PROGRAMME_UPDATED = "programme.updated"
PROGRAMME_PUBLISHED = "programme.published"
PROGRAMME_DELETED = "programme.deleted"  # a draft nobody applied to
PROGRAMME_QUESTIONS_SET = "programme.questions_set"  # the count in details
PROGRAMME_APPLICATION_DECIDED = "programme_application.decided"  # the decision in details
# Surveys and end-of-mentorship feedback (organisers)
SURVEY_CREATED = "survey.created"  # a draft survey of a programme (the programme in details)
SURVEY_QUESTION_ADDED = "survey.question_added"
SURVEY_PUBLISHED = "survey.published"
SURVEY_CLOSED = "survey.closed"
SURVEY_RESULTS_VIEWED = "survey.results_viewed"  # aggregated results; response count in details
FEEDBACK_VIEWED = "mentorship_feedback.viewed"  # a programme's end feedback, with the pairs' names
# The organisation register (backend.organisations.register)
ORGANISATIONS_IMPORTED = "organisations.imported"  # an ODS file imported: counts in details
ORGANISATION_UPDATED = "organisation.updated"  # which fields changed in details
ORGANISATION_MERGED = "organisation.merged"  # the survivor's id and counts moved in details
# Chapters and organiser scopes (admins)
CHAPTER_CREATED = "chapter.created"
CHAPTER_UPDATED = "chapter.updated"
CHAPTER_DELETED = "chapter.deleted"
SCOPE_GRANTED = "organiser_scope.granted"  # details: the chapter
SCOPE_REVOKED = "organiser_scope.revoked"

LABELS: dict[str, str] = {
    MEMBERS_IMPORTED: "Imported members",
    IMPORT_REJECTS_EXPORTED: "Downloaded an import's rejected rows",
    MEMBER_VIEWED: "Viewed a member's profile",
    MEMBER_DATA_EXPORTED: "Downloaded their own data",
    MEMBER_ERASED: "Erased their account",
    INSIGHTS_EXPORTED: "Downloaded an insights table",
    INSIGHTS_VIEWED: "Viewed a programme's or chapter's insights",
    IMPACT_VIEWED: "Viewed an impact report",
    IMPACT_EXPORTED: "Downloaded an impact report",
    ROUND_CREATED: "Created a matching round",
    ROUND_RUN: "Matching round finished running",
    ROUND_RETRIED: "Ran a matching round again",
    ROUND_PUBLISHED: "Published a matching round",
    ROUND_EXPORTED: "Downloaded a round's proposed matches",
    PROPOSAL_REMOVED: "Removed a proposed match",
    PROPOSAL_SWAPPED: "Swapped the mentors of two proposed matches",
    CONTENT_HIDDEN: "Hid reported content",
    CONTENT_RESTORED: "Restored hidden content",
    REPORTS_DISMISSED: "Dismissed reports",
    CIRCLES_FORMED: "Formed peer circles",
    CIRCLE_MEMBER_MOVED: "Moved a member to another circle",
    PEER_PAIRING_RUN: "Paired members for peer connect",
    ROLE_GRANTED: "Gave a role",
    ROLE_REVOKED: "Took a role away",
    AUDIT_EXPORTED: "Downloaded the audit log",
    MEMBER_SUSPENDED: "Suspended a member",
    MEMBER_REACTIVATED: "Reactivated a member",
    INVITATION_RESENT: "Sent an invitation or confirmation email again",
    SKILL_ADDED: "Added a skill to the framework",
    SKILL_RENAMED: "Renamed a skill",
    SKILL_RETIRED: "Retired a skill",
    SIGNIN_NEW_DEVICE: "Signed in from a new device",
    SIGNIN_SSO: "Signed in with single sign-on",
    TWO_FACTOR_ENABLED: "Turned on two-factor authentication",
    TWO_FACTOR_DISABLED: "Turned off two-factor authentication",
    PASSKEY_ADDED: "Added a passkey",
    PASSKEY_REMOVED: "Removed a passkey",
    RECOVERY_CODES_GENERATED: "Made new recovery codes",
    PROGRAMME_CREATED: "Created a programme",
    PROGRAMME_UPDATED: "Changed a programme",
    PROGRAMME_PUBLISHED: "Published a programme",
    PROGRAMME_DELETED: "Deleted a draft programme",
    PROGRAMME_QUESTIONS_SET: "Changed a programme's application questions",
    PROGRAMME_APPLICATION_DECIDED: "Decided on an application to a programme",
    SURVEY_CREATED: "Created a survey",
    SURVEY_QUESTION_ADDED: "Added a question to a survey",
    SURVEY_PUBLISHED: "Published a survey",
    SURVEY_CLOSED: "Closed a survey",
    SURVEY_RESULTS_VIEWED: "Viewed a survey's results",
    FEEDBACK_VIEWED: "Read a programme's end-of-mentorship feedback",
    ORGANISATIONS_IMPORTED: "Imported organisations from an ODS file",
    ORGANISATION_UPDATED: "Changed an organisation of the register",
    ORGANISATION_MERGED: "Merged an organisation into another",
    CHAPTER_CREATED: "Created a chapter",
    CHAPTER_UPDATED: "Changed a chapter",
    CHAPTER_DELETED: "Deleted a chapter",
    SCOPE_GRANTED: "Made a member an organiser of a chapter",
    SCOPE_REVOKED: "Stopped a member organising a chapter",
}
ACTIONS: tuple[str, ...] = tuple(LABELS)

# What a member is told about events concerning them ("who has seen your data").
ABOUT_YOU: dict[str, str] = {
    MEMBER_VIEWED: "viewed your profile",
    ROUND_EXPORTED: "downloaded a list of proposed matches that includes you",
    MEMBER_DATA_EXPORTED: "downloaded your data",
}

# The kinds of thing an event can be about.
SUBJECT_TYPES: tuple[str, ...] = (
    "member",
    "import",
    "round",
    "proposal",
    "post",
    "comment",
    "message",
    "circle",
    "insights",
    "audit",
    "programme",
    "application",  # an application to a programme
    "organisation",
    "organisation_import",  # the rejected rows an ODS import kept
    "chapter",
    "survey",
)
