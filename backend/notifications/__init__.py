"""Notifications: the email outbox now; in-app notifications later."""
