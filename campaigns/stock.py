"""Units left in a sale as the member pages show them."""

from __future__ import annotations


def live_stock_left(campaign) -> int:
    """Units left (the database's count; the Redis gate serves it without a query when on)."""
    return campaign.stock_left
