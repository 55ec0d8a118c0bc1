"""The coupon paths that start from events the bots report (called by the ingestion edge after
the members and orders stages): the newcomer coupon when a member joins their first group of
the organization, and the photo reward (晒单有奖) from image posts. Handlers only collect;
`flush` issues, after the members stage has written the memberships."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from integrations.event_schema import EventBatch
from members.models import PRESENT_STATUSES, Membership

from . import coupons


class CouponEvents:
    def __init__(self, batch: EventBatch, *, known_members: set):
        self.batch = batch
        self.org = batch.organization
        self.known_members = known_members  # members with a membership before this batch
        self.joins: dict = {}  # {member id: first join at}
        self.images: list = []  # [(member id, posted at)]

    @classmethod
    def load(cls, batch: EventBatch) -> CouponEvents:
        member_ids = {i.member_id for i in batch.identities.values()}
        known = set(
            Membership.objects.for_org(batch.organization)
            .filter(member_id__in=member_ids)
            .values_list("member_id", flat=True)
            .distinct()
        )
        return cls(batch, known_members=known)

    def handlers(self) -> dict[str, Callable]:
        return {"member.joined": self.on_member_joined, "message.posted": self.on_message_posted}

    def on_member_joined(self, event) -> None:
        member_id = self.batch.identity(event).member_id
        if member_id in self.known_members or member_id in self.joins:
            return  # not their first group of the organization: rejoin or a second group
        self.joins[member_id] = event.occurred_at

    def on_message_posted(self, event) -> None:
        if getattr(event, "kind", "text") == "image":
            self.images.append((self.batch.identity(event).member_id, event.occurred_at))

    def flush(self) -> None:
        if self.joins:
            present = set(  # not those removed on entry (blocked, below a group's tier …)
                Membership.objects.for_org(self.org)
                .filter(member_id__in=self.joins, status__in=PRESENT_STATUSES)
                .values_list("member_id", flat=True)
            )
            joins = [(m, at) for m, at in self.joins.items() if m in present]
            coupons.newcomer_coupons(self.org, joins, _("newcomer coupon"))
        if self.images:
            coupons.showcase_posts(self.org, self.images, _("photo reward"))
