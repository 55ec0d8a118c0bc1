"""Writing to the outbox. Call inside the transaction of the change that causes the action."""

from django.utils import timezone

from core.bulk import insert_rows
from core.hooks import Hook
from tenancy.rls import org_hint

from .action_payloads import check
from .models import Action, ActionStatus

# action_finished(action): a bot answered "done" or "failed" for an action; the app the action
# came from records the outcome (a failed post shows on the post), in the same transaction.
action_finished = Hook("action_finished")


def build(*, organization, kind, community=None, member=None, **payload) -> Action:
    """An unsaved action, for bulk inserts on the ingestion path. The payload must match its
    kind's struct in `integrations.action_payloads` (what the API documents)."""
    if community is not None:
        payload.setdefault("community_external_id", community.external_id)
        payload.setdefault("platform", community.platform)
    check(kind, payload)
    return Action(
        organization=organization,
        kind=kind,
        community=community,
        member=member,
        payload=payload,
    )


def enqueue(*, organization, kind, community=None, member=None, **payload) -> Action:
    action = build(
        organization=organization, kind=kind, community=community, member=member, **payload
    )
    action.save()
    return action


def enqueue_all(actions) -> list[Action]:
    """Save actions built with `build`, in bulk (the writers' set-based paths)."""
    return Action.objects.bulk_create(actions, batch_size=500)


def enqueue_rows(*, organization, kind, rows, now=None) -> int:
    """Write many actions of one kind in one statement, from plain rows: (community id, member
    id, payload), each payload checked as `build` checks it (and naming its group's platform
    identity itself). For the writers that send thousands at once (the wake-up), where building
    an `Action` per row costs more than the insert. Returns how many were written."""
    now = now or timezone.now()
    values = []
    for community_id, member_id, payload in rows:
        check(kind, payload)
        values.append(
            (organization.pk, str(kind), community_id, member_id, payload, PENDING, now, now, 0, "")
        )
    with org_hint(organization.pk):  # raw SQL: name the organization to row-level security
        insert_rows(Action, COLUMNS, values)
    return len(values)


PENDING = ActionStatus.PENDING.value
COLUMNS = [
    "organization",
    "kind",
    "community",
    "member",
    "payload",
    "status",
    "created_at",
    "updated_at",
    "attempts",
    "outcome",
]
