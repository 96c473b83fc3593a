"""Mentoring: requests to mentors, the mentor's inbox, mentorships and their sessions."""
