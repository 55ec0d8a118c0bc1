"""Posting to the points ledger: the one write path for points, on the event path, in staff
actions and in scheduled jobs."""

from __future__ import annotations

from core.bulk import bulk_insert_rows, bulk_update_rows
from tenancy.rls import org_hint

from .models import Member, PointsEntry


def post_points(org, entries, *, with_ids: bool = False) -> None:
    """Write ledger entries and move the cached balances, one locking query for all members.
    A debit never takes a balance below zero: it is cut to what the member has. The entries
    get their ids only `with_ids` (a staff action answers with its entry); the event path's
    thousands are written without reading ids back."""
    if not entries:
        return
    member_ids = {e.member_id for e in entries}
    members = {
        m.pk: m
        for m in Member.objects.for_org(org)
        .select_for_update(no_key=True)
        .filter(pk__in_array=member_ids)
        .only("pk", "organization_id", "points_balance")
        .order_by("pk")
    }
    kept = []
    for entry in entries:
        member = members[entry.member_id]
        if entry.delta < 0:
            entry.delta = -min(-entry.delta, member.points_balance)
            if entry.delta == 0:
                continue
        member.points_balance += entry.delta
        kept.append(entry)
    with org_hint(org.pk):  # raw SQL: named to row-level security outside a scope too
        if with_ids:
            PointsEntry.objects.bulk_create(kept)
        else:
            bulk_insert_rows(PointsEntry, kept)
        bulk_update_rows(Member, members.values(), ["points_balance"])
