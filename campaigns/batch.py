"""The order events a bot reports (`order.placed`, `order.refunded`), applied to a batch in
memory with the points they earn or take back; written with bulk statements in `flush`.
Called by the ingestion edge after the members app's handlers for the same event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Count
from django.utils import timezone

from integrations.event_schema import EventBatch
from members.batch import MemberEvents

from .models import BOUGHT, Order


class OrderEvents:
    def __init__(self, batch: EventBatch, members: MemberEvents, *, orders, order_counts):
        self.batch = batch
        self.org = batch.organization
        self.members = members  # points and activity go through the members app's handlers
        self.orders = orders  # {external order id: Order} seen before or in this batch
        self.order_counts = defaultdict(int, order_counts)  # {member id: orders bought}
        self.new_orders: list = []
        self.dirty_orders: dict = {}

    def handlers(self) -> dict[str, Callable]:
        return {"order.placed": self.on_order_placed, "order.refunded": self.on_order_refunded}

    @classmethod
    def load(cls, batch: EventBatch, members: MemberEvents) -> OrderEvents:
        org = batch.organization
        order_ids = {e.order_id for e in batch.events if hasattr(e, "order_id")}
        member_ids = {i.member_id for i in batch.identities.values()}
        return cls(
            batch,
            members,
            orders={
                o.external_order_id: o
                for o in Order.objects.for_org(org).filter(external_order_id__in=order_ids)
            },
            order_counts=dict(
                Order.objects.for_org(org)
                .filter(member_id__in=member_ids, status__in=BOUGHT)
                .values("member_id")
                .annotate(n=Count("pk"))
                .values_list("member_id", "n")
            ),
        )

    def on_order_placed(self, event) -> None:
        if event.order_id in self.orders:
            return  # the same order reported again under another event id
        community, member = self.batch.community(event), self.batch.identity(event).member
        repeat = self.order_counts[member.pk] > 0
        rules = self.members.points_rules
        multiplier = rules.repurchase_multiplier if repeat else Decimal(1)
        if member.tier is not None:
            multiplier *= member.tier.points_multiplier
        points = int((event.amount * rules.per_yuan * multiplier).to_integral_value(ROUND_FLOOR))
        order = Order(
            organization=self.org,
            external_order_id=event.order_id,
            member=member,
            community=community,
            amount=event.amount,
            items=[
                {"name": i.name, "sku": i.sku, "quantity": i.quantity, "price": str(i.price)}
                for i in event.items
            ],
            placed_at=event.occurred_at,
        )
        order.points_awarded = self.members.earn(
            member,
            "repurchase" if repeat else "purchase",
            points,
            event.occurred_at,
            detail=event.order_id,
        )
        self.orders[event.order_id] = order
        self.new_orders.append(order)
        self.order_counts[member.pk] += 1
        self.members.touch_active(self.members.membership(event), event.occurred_at)

    def on_order_refunded(self, event) -> None:
        order = self.orders.get(event.order_id)
        if order is None or order.status == "refunded":
            return
        order.status = "refunded"
        order.refunded_at = event.occurred_at
        if order.pk:
            self.dirty_orders[order.pk] = order
        self.order_counts[order.member_id] -= 1
        if order.points_awarded:
            self.members.debit(
                order.member_id, order.points_awarded, "refund", event.order_id, event.occurred_at
            )

    def flush(self) -> None:
        if self.new_orders:
            Order.objects.bulk_create(self.new_orders, batch_size=500, ignore_conflicts=True)
        if self.dirty_orders:
            Order.objects.bulk_update(self.dirty_orders.values(), ["status", "refunded_at"])
        refunded = {o.external_order_id for o in self.new_orders if o.status == "refunded"}
        if refunded:  # one a concurrent batch inserted first (ignore_conflicts) ends refunded too
            Order.objects.for_org(self.org).filter(external_order_id__in=refunded).update(
                status="refunded", refunded_at=timezone.now()
            )
