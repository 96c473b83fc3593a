"""Organiser insights: aggregate participation figures under disclosure control."""
