"""A membership's status changes only through members.status, always with its history row."""

from contextlib import nullcontext
from datetime import UTC, datetime

import pytest

from members.models import Membership, MembershipChange
from members.services import member_remove
from members.status import status_change, status_change_bulk, status_change_now
from tenancy.scope import org_scope
from tests.factories import MembershipFactory

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_in_memory_change_returns_the_history_row_unsaved(org_a):
    membership = MembershipFactory(organization=org_a.org, status="active")
    row = status_change(membership, "warned", at=AT, reason="广告", actor_label="bot")
    assert membership.status == "warned"
    assert (row.from_status, row.to_status, row.reason, row.created_at) == (
        "active",
        "warned",
        "广告",
        AT,
    )
    assert row.pk is None
    first = status_change(membership, "active", at=AT, from_status="")
    assert first.from_status == ""


def test_change_now_saves_status_and_history(org_a):
    membership = MembershipFactory(organization=org_a.org, status="removed")
    status_change_now(membership, "active", reason="reinstated", actor_label="owner", at=AT)
    membership.refresh_from_db()
    assert membership.status == "active"
    change = MembershipChange.objects.for_org(org_a.org).get(membership=membership)
    assert (change.from_status, change.to_status, change.actor_label) == (
        "removed",
        "active",
        "owner",
    )


@pytest.mark.parametrize("scoped", [True, False], ids=["in-scope", "named-by-queryset"])
def test_bulk_change_writes_one_history_row_per_membership(org_a, scoped):
    rows = [MembershipFactory(organization=org_a.org, status="active") for _ in range(3)]
    other = MembershipFactory(organization=org_a.org, status="left")
    due = Membership.objects.for_org(org_a.org).filter(status="active")
    # as the scan's task runs it, and outside a scope: its INSERT … SELECT is raw SQL, run with
    # the organization the queryset names (row-level security shows it no rows otherwise)
    with org_scope(org_a.org) if scoped else nullcontext():
        changed = status_change_bulk(
            due, "dormant", reason="silent", actor_label="dormant scan", at=AT, dormant_since=AT
        )
    assert changed == 3
    history = MembershipChange.objects.for_org(org_a.org).order_by("membership_id")
    assert [(c.membership_id, c.from_status, c.to_status) for c in history] == [
        (m.pk, "active", "dormant") for m in rows
    ]
    assert Membership.objects.for_org(org_a.org).get(pk=other.pk).status == "left"
    assert all(
        m.dormant_since == AT
        for m in Membership.objects.for_org(org_a.org).filter(status="dormant")
    )


def test_a_removal_outside_a_scope_writes_its_status(org_a):
    """Services name their organization: the moderation's bulk writes (a raw UPDATE among
    them) reach the row under row-level security when no scope is set, as in a shell or a test."""
    membership = MembershipFactory(organization=org_a.org, status="active")
    member_remove(actor=org_a.actor(), membership=membership, reason="广告")
    assert Membership.objects.for_org(org_a.org).get(pk=membership.pk).status == "removed"
    assert MembershipChange.objects.for_org(org_a.org).get(membership=membership).to_status == (
        "removed"
    )
