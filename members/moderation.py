"""Rule enforcement: warn first, remove at the group's threshold, block for ads. One policy for
breaches seen on the event path and for staff acting by hand (members.services)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from communities.models import CommunityRules
from communities.rule_checks import rule_params
from integrations.composer import MessageKind
from integrations.models import ActionKind

from .models import Block, MembershipStatus, Warning
from .writes import MemberWrites

S = MembershipStatus


class Moderation:
    def __init__(self, writes: MemberWrites, *, rules: dict, active_warnings: dict, blocked):
        self.writes = writes
        self.rules = rules  # {community id: CommunityRules}
        self.active_warnings = defaultdict(int, active_warnings)  # {membership id: n}
        self.blocked = set(blocked)  # member ids on the block list

    @classmethod
    def for_membership(cls, actor, membership) -> Moderation:
        """The policy for one membership, loaded for a staff action."""
        org = actor.organization
        writes = MemberWrites(org, actor.label)
        active = Warning.objects.for_org(org).filter(
            membership=membership, revoked_at=None, expires_at__gt=timezone.now()
        )
        return cls(
            writes,
            rules={
                r.community_id: r
                for r in CommunityRules.objects.for_org(org).filter(
                    community_id=membership.community_id
                )
            },
            active_warnings={membership.pk: active.count()},
            blocked=Block.objects.for_org(org)
            .filter(member_id=membership.member_id, lifted_at=None)
            .values_list("member_id", flat=True),
        )

    def warn(
        self, membership, community, identity, reason, detail, at, ads_group="", message=None
    ) -> None:
        """A warning; at the group's threshold of active warnings, a removal instead.
        `ads_group`: where ads are welcome, named in a warning for ads. `message`: the id of
        the event (message) that broke the rule, deleted where the rules say so."""
        rules = self.rules.get(community.pk)
        threshold = rules.warnings_before_removal if rules else 1
        if self.active_warnings[membership.pk] >= threshold:
            self.remove(membership, community, identity, reason, detail, at, message=message)
            return
        writes = self.writes
        expiry = timedelta(days=rules.warning_expiry_days if rules else 30)
        writes.warnings.append(
            Warning(
                organization=writes.org,
                membership=membership,
                reason=reason,
                detail=detail[:300],
                created_at=at,
                expires_at=at + expiry,
                actor_label=writes.actor_label[:200],
            )
        )
        self.active_warnings[membership.pk] += 1
        count = self.active_warnings[membership.pk]
        writes.set_status(membership, S.WARNED, at, detail)
        notice = writes.compose(
            MessageKind.WARN,
            community_id=community.pk,
            name=identity.display_name or identity.member.display_name,
            detail=detail,
            warning=count,
            threshold=threshold,
            ads_group=ads_group,
        )
        payload = {"text": notice, "reason": reason, "warning": count, "threshold": threshold}
        if rules and rules.mute_before_removal and count >= threshold:
            payload["mute_hours"] = 24
        payload.update(_deletion(rules, reason, message))
        writes.action(ActionKind.WARN, community, identity, **payload)

    def remove(
        self,
        membership,
        community,
        identity,
        reason,
        detail,
        at,
        announce_kind=MessageKind.REMOVE_ANNOUNCE,
        message=None,
    ) -> None:
        """Out of the group (a state with history, not a deletion); ads also block the member.
        `announce_kind`: how the group is told (a rule breach, or entry rules not met)."""
        writes = self.writes
        rules = self.rules.get(community.pk)
        membership.left_at = at
        writes.set_status(membership, S.REMOVED, at, f"{reason}: {detail}")
        announce = ""
        if rules is None or rules.announce_removal:
            announce = writes.compose(
                announce_kind,
                community_id=community.pk,
                name=identity.display_name or identity.member.display_name,
                detail=detail,
            )
        member = identity.member
        if reason == "ads" and member.pk not in self.blocked:
            self.block(member, detail, at)
        writes.action(
            ActionKind.REMOVE,
            community,
            identity,
            reason=reason,
            announce=announce,
            block=member.pk in self.blocked,
            **_deletion(rules, reason, message),
        )

    def block(self, member, reason, at) -> None:
        self.blocked.add(member.pk)
        self.writes.blocks.append(
            Block(
                organization=self.writes.org,
                member=member,
                reason=reason[:300],
                created_at=at,
                actor_label=self.writes.actor_label[:200],
            )
        )


def _deletion(rules, reason, message) -> dict:
    """`delete_message` for an ad whose group's rules say to delete it (connectors that can
    delete messages do; a REST bot reads the same field)."""
    if reason != "ads" or not message:
        return {}
    params = rule_params(rules, "no_ads") or {}
    return {"delete_message": message} if params.get("delete_messages") else {}
