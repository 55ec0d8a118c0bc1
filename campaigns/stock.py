"""Units left in a sale as the member pages show them."""

from __future__ import annotations

from . import stock_gate
from .models import CampaignKind


def live_stock_left(campaign) -> int:
    """Units left: the stock gate's count from Redis while it holds the sale (no query), else
    the database's `stock_left`. A page that polls without loading the campaign can call
    `stock_gate.live_stock(campaign_id, organization=org)` itself."""
    left = stock_gate.live_stock(campaign) if campaign.kind == CampaignKind.FLASH_SALE else None
    return campaign.stock_left if left is None else min(left, campaign.stock_total)
