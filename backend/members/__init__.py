"""Members: each person's account identity and profile."""
