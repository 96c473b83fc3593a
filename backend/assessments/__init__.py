"""The Healthcare Leadership Model self-assessment: a member's own ratings, and their change."""
