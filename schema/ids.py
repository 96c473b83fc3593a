"""Relay global ids: decoded defensively, since any string can arrive from a client."""

from __future__ import annotations

from strawberry import relay

from backend.errors import Invalid

MAX_DB_ID = 2**31 - 1  # PostgreSQL integer columns; larger ids cannot exist


def database_id(raw: str) -> int | None:
    """The integer behind a node id, or None when it cannot be one of ours."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_DB_ID else None


def decode(global_id: str, *, type_name: str, field: str = "id") -> int:
    """The database id inside a global id of ``type_name``; anything else is Invalid."""
    problem = Invalid(f"That is not a valid {type_name} id.", field=field)
    if len(global_id) > 200:
        raise problem
    try:
        parsed = relay.GlobalID.from_id(global_id)
    except Exception as error:  # GlobalIDValueError and decoding errors alike
        raise problem from error
    value = database_id(parsed.node_id)
    if parsed.type_name != type_name or value is None:
        raise problem
    return value
