"""Programmes: every mentorship belongs to one (the network's open mentoring is the default)."""
