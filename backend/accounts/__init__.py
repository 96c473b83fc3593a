"""Accounts: sign-up, verification, sessions, passwords, access tokens, throttling."""
