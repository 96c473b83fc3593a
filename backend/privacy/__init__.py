"""Consented diversity data, consent records, and a member's own data (export, erasure)."""
