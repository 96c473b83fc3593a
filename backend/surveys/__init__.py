"""Surveys of a programme's mentorships (start, middle, end) and their results."""
