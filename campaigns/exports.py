"""Orders as CSV (campaign orders and orders the bots reported), streamed."""

import csv
import io

from .models import Order

COLUMNS = [
    "order_id",
    "status",
    "amount",
    "quantity",
    "member_id",
    "member",
    "campaign",
    "community",
    "placed_at",
    "paid_at",
    "refunded_at",
]


class _Line:
    def __init__(self):
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def row(self, values) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(values)
        return self.buffer.getvalue()


def order_rows(org, tz):
    """A BOM, the header, then one line per order, newest first, 2,000 at a time."""
    line = _Line()
    yield "\ufeff" + line.row(COLUMNS)
    orders = (
        Order.objects.for_org(org).select_related("member", "campaign", "community").order_by("-pk")
    )
    for order in orders.iterator(chunk_size=2000):
        yield line.row(
            [
                order.external_order_id,
                order.status,
                order.amount,
                order.quantity,
                order.member_id,
                _safe(order.member.display_name),
                _safe(order.campaign.name) if order.campaign else "",
                _safe(order.community.name) if order.community else "",
                _when(order.placed_at, tz),
                _when(order.paid_at, tz),
                _when(order.refunded_at, tz),
            ]
        )


def _when(value, tz) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _safe(text: str) -> str:
    """No formulas in spreadsheets from names people chose."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
