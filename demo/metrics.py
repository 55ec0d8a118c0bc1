"""Demo: seed 002's commission ladder, and rollups built from the demo's events."""

from metrics import rollups, staff


def seed(org, actor) -> None:
    if not staff.ladder(org):
        staff.ladder_set(actor=actor, steps=staff.DEFAULT_LADDER)
    rollups.rebuild(org)
