"""The audit log (append-only): ``record(session, actor=..., action=..., subject=...)``.

Action names are the constants of ``backend.audit.actions``; see ``backend.audit.service``.
"""

from __future__ import annotations

from backend.audit import actions
from backend.audit.service import Subject, client_key, record, record_sign_in, subject

__all__ = ["Subject", "actions", "client_key", "record", "record_sign_in", "subject"]
