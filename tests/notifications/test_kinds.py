"""Every notification kind has a label on the settings page and a default delivery mode, so a
new kind cannot be added without both."""

from backend.notifications.models import DELIVERY_MODES, NOTIFICATION_KINDS
from backend.notifications.service import DEFAULT_MODES
from web.notifications import KIND_LABELS


def test_every_kind_has_a_label_and_a_default_mode() -> None:
    kinds = set(NOTIFICATION_KINDS)
    assert kinds - set(KIND_LABELS) == set(), "kinds without a label on the settings page"
    assert kinds - set(DEFAULT_MODES) == set(), "kinds without a default delivery mode"
    assert set(KIND_LABELS) - kinds == set(), "labels for kinds that do not exist"
    assert set(DEFAULT_MODES) - kinds == set(), "default modes for kinds that do not exist"
    assert all(label.strip() for label in KIND_LABELS.values())
    assert set(DEFAULT_MODES.values()) <= set(DELIVERY_MODES)
