"""Member interests as the matcher's features see them, for grouping people (peer circles)."""

from __future__ import annotations

import numpy as np
from sqlmodel import Session

from backend.matchmaking.frames import member_frame


def interest_vectors(*, session: Session, member_ids: list[int]) -> np.ndarray | None:
    """Skills sought and offered and goals of each member, one row per id in order.

    ``None`` when some member is not in the network any more (inactive or gone).
    """
    from matching.features import PersonFeatures

    frame = member_frame(session=session, mentee_ids=member_ids, places={})
    if len(frame) != len(member_ids):
        return None
    features = PersonFeatures(text_components=16)
    matrix = features.fit_transform(frame)
    blocks = features.blocks_
    order = {int(m): i for i, m in enumerate(frame["member_id"])}
    rows = [order[m] for m in member_ids]
    parts = [matrix[rows, blocks[name]] for name in ("sought", "offered", "goals")]
    return np.hstack(parts).astype(np.float64)
