"""The price of a campaign order, computed by the server alone (docs/coupons.md):

    list price      unit price × quantity
  − VIP discount    the member's tier `discount_percent` of the list price
  − perk discount   the best segment perk the member qualifies for, on what is left
  − coupon          the one coupon chosen, on what is left; its minimum spend is checked
                    against what is left before it (after the VIP and perk discounts)
  + shipping        the campaign's fee, waived by a tier with `free_shipping` or a coupon
                    with free shipping
  = paid

Each discount is rounded to the fen (0.01 yuan) with ROUND_HALF_UP when it is computed; no
discount is more than what is left, so nothing goes below zero. A percent coupon's cap
limits its discount."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def fen(value) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CouponTerms:
    kind: str  # "amount" | "percent"
    value: Decimal  # yuan off, or percent off
    max_off: Decimal | None = None
    min_spend: Decimal = ZERO
    free_shipping: bool = False

    @classmethod
    def of(cls, template) -> CouponTerms:
        return cls(
            kind=template.kind,
            value=template.value,
            max_off=template.max_off,
            min_spend=template.min_spend,
            free_shipping=template.free_shipping,
        )


@dataclass(frozen=True)
class PerkTerms:
    percent_off: int = 0
    amount_off: Decimal = ZERO
    min_spend: Decimal = ZERO


@dataclass(frozen=True)
class Breakdown:
    list_amount: Decimal
    tier_discount: Decimal
    perk_discount: Decimal
    coupon_discount: Decimal
    shipping_fee: Decimal
    shipping_waived: bool
    amount: Decimal  # what is paid
    # the coupon was not applied because its minimum spend was not reached
    coupon_below_minimum: bool = False

    @property
    def goods(self) -> Decimal:
        return self.list_amount - self.tier_discount - self.perk_discount - self.coupon_discount


def perk_discount(perk: PerkTerms, base: Decimal) -> Decimal:
    """What a perk takes off `base` (0 below its minimum spend)."""
    if base < perk.min_spend:
        return ZERO
    off = fen(base * Decimal(perk.percent_off) / 100) + fen(perk.amount_off)
    return min(off, base)


def coupon_discount(terms: CouponTerms, base: Decimal) -> Decimal:
    if terms.kind == "percent":
        off = fen(base * terms.value / 100)
        if terms.max_off is not None:
            off = min(off, fen(terms.max_off))
    else:
        off = fen(terms.value)
    return max(ZERO, min(off, base))


def compute(
    *,
    unit_price: Decimal,
    quantity: int,
    shipping_fee: Decimal = ZERO,
    tier_percent: int = 0,
    tier_free_shipping: bool = False,
    perks: list[PerkTerms] = (),
    coupon: CouponTerms | None = None,
) -> tuple[Breakdown, int | None]:
    """The breakdown, and the index in `perks` of the perk applied (None: none)."""
    list_amount = fen(Decimal(unit_price) * quantity)
    tier = min(fen(list_amount * Decimal(tier_percent or 0) / 100), list_amount)
    left = list_amount - tier
    perk_index, perk_off = None, ZERO
    for index, perk in enumerate(perks):
        off = perk_discount(perk, left)
        if off > perk_off:
            perk_index, perk_off = index, off
    left -= perk_off
    coupon_off, below, waived = ZERO, False, bool(tier_free_shipping)
    if coupon is not None:
        if left < coupon.min_spend:
            below = True
        else:
            coupon_off = coupon_discount(coupon, left)
            waived = waived or coupon.free_shipping
    left -= coupon_off
    shipping = fen(shipping_fee or 0)
    paid = left + (ZERO if waived else shipping)
    return (
        Breakdown(
            list_amount=list_amount,
            tier_discount=tier,
            perk_discount=perk_off,
            coupon_discount=coupon_off,
            shipping_fee=shipping,
            shipping_waived=waived and shipping > 0,
            amount=max(ZERO, paid),
            coupon_below_minimum=below,
        ),
        perk_index,
    )
