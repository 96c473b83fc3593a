"""Matching rounds: organisers match a whole cohort at once, review, publish; both sides answer."""
