"""A membership's status changes here and only here, and every change writes its history row
(`MembershipChange`). Three shapes of the one rule:

- `status_change`: in memory, for the set-based event path (the caller bulk-writes the rows);
- `status_change_now`: one membership, saved at once (staff actions);
- `status_change_bulk`: a queryset, with INSERT … SELECT for the history (scheduled scans).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from tenancy.rls import queryset_hint

from .models import Membership, MembershipChange


def status_change(
    membership, to_status, *, at, reason="", actor_label="", from_status=None
) -> MembershipChange:
    """Move `membership` to `to_status` in memory; return its unsaved history row.
    `from_status` overrides the recorded previous status ("" for a membership seen for the
    first time)."""
    row = MembershipChange(
        organization_id=membership.organization_id,
        membership=membership,
        from_status=membership.status if from_status is None else from_status,
        to_status=to_status,
        reason=(reason or "")[:300],
        actor_label=str(actor_label)[:200],
        created_at=at,
    )
    membership.status = to_status
    return row


def status_change_now(membership, to_status, *, reason, actor_label, at=None) -> None:
    """Change one membership's status and write its history row now (inside the caller's
    transaction)."""
    row = status_change(
        membership, to_status, at=at or timezone.now(), reason=reason, actor_label=actor_label
    )
    row.save()
    membership.save(update_fields=["status"])


def status_change_bulk(queryset, to_status, *, reason, actor_label, at, **fields) -> int:
    """Every membership of `queryset` to `to_status` (and `fields`), history included: one
    INSERT … SELECT and one UPDATE, no Python loop. Returns the number changed."""
    ids_sql, ids_params = queryset.values("pk").query.sql_with_params()
    changes, memberships = MembershipChange._meta.db_table, Membership._meta.db_table
    sql = (
        f"INSERT INTO {changes} (organization_id, membership_id, from_status, to_status, "  # noqa: S608
        f"reason, actor_label, created_at) SELECT organization_id, id, status, %s, %s, %s, %s "
        f"FROM {memberships} WHERE id IN ({ids_sql})"
    )
    # raw SQL: run with the organization the queryset names (outside a scope, row-level
    # security would otherwise show it no rows; inside one, the scope wins)
    with queryset_hint(queryset), connection.cursor() as cursor:
        cursor.execute(sql, [to_status, reason, actor_label, at, *ids_params])
    return queryset.update(status=to_status, **fields)
