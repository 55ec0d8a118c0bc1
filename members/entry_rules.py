"""Who may join a group: the organization's limit of groups of a kind per member, and the VIP
tier a group requires. An unmet rule carries the group's chosen action (tell the member how to
qualify, staff review, or a polite removal); the members' event handlers carry it out."""

from __future__ import annotations

from dataclasses import dataclass

from communities.models import CommunityKind, EntryRuleAction
from communities.services import TIER_CONDITIONS
from integrations.composer import MessageKind

DEFAULT_ENTRY_ACTION = EntryRuleAction.NOTIFY_AND_REVIEW


@dataclass(frozen=True)
class UnmetEntryRule:
    flag: str  # on the membership, for staff review
    reason: str  # of a removal
    action: str  # EntryRuleAction
    notice: str  # to the member: why, and how to qualify
    detail: str  # short, in a removal announcement


def unmet_entry_rules(org, compose, rules, community, identity, kinds) -> list[UnmetEntryRule]:
    """The entry rules a member joining `community` does not meet: more groups of this kind
    than the organization allows (`kinds`: the groups they are in, by kind, this one included),
    or below the group's VIP tier; each with the group's chosen action (the flag marks the
    membership for staff review either way). `compose` writes in the organization's language."""
    member, unmet = identity.member, []
    name = identity.display_name or member.display_name
    limit = (org.group_limits or {}).get(community.kind)
    if limit is not None and len(kinds[community.kind]) > int(limit):
        context = {"limit": int(limit), "kind": CommunityKind(community.kind).label}
        unmet.append(
            UnmetEntryRule(
                flag=f"too_many_groups:{community.kind}",
                reason="too_many_groups",
                action=rules.group_limit_action if rules else DEFAULT_ENTRY_ACTION,
                notice=compose(
                    MessageKind.ENTRY_GROUP_LIMIT, community_id=community.pk, name=name, **context
                ),
                detail=compose(MessageKind.BREACH, rule="group_limit", **context),
            )
        )
    required = community.required_tier
    if required is not None and (member.tier is None or member.tier.rank < required.rank):
        unmet.append(
            UnmetEntryRule(
                flag="below_tier",
                reason="below_tier",
                action=rules.below_tier_action if rules else DEFAULT_ENTRY_ACTION,
                notice=compose(
                    MessageKind.ENTRY_BELOW_TIER,
                    community_id=community.pk,
                    name=name,
                    group=community.name,
                    tier=required.name,
                    conditions={key: getattr(required, key) for key in TIER_CONDITIONS},
                ),
                detail=compose(MessageKind.BREACH, rule="below_tier", tier=required.name),
            )
        )
    return unmet
