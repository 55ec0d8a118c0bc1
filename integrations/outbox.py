"""Writing to the outbox. Call inside the transaction of the change that causes the action."""

from core.hooks import Hook

from .action_payloads import check
from .models import Action

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
