"""Writing to the outbox. Call inside the transaction of the change that causes the action."""

from .models import Action


def build(*, organization, kind, community=None, member=None, **payload) -> Action:
    """An unsaved action, for bulk inserts on the ingestion path."""
    if community is not None:
        payload.setdefault("community_external_id", community.external_id)
        payload.setdefault("platform", community.platform)
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
