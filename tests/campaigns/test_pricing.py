"""The price table: VIP tier × coupon kinds × minimum spend (campaigns/pricing.py)."""

from decimal import Decimal as D

import pytest

from campaigns.pricing import CouponTerms, PerkTerms, compute

AMOUNT_10_MIN_100 = CouponTerms("amount", D("10"), min_spend=D("100"))
AMOUNT_5 = CouponTerms("amount", D("5"))
PCT_10_CAP_20 = CouponTerms("percent", D("10"), max_off=D("20"))
PCT_15 = CouponTerms("percent", D("15"))
SHIP = CouponTerms("amount", D("0"), free_shipping=True)
HUGE = CouponTerms("amount", D("500"))

# unit price, quantity, shipping, tier %, tier free shipping, coupon →
#   tier discount, coupon discount, shipping waived, paid, below minimum
TABLE = [
    # no tier
    (D("99"), 1, D("0"), 0, False, None, D("0"), D("0"), False, D("99.00"), False),
    (D("99"), 1, D("0"), 0, False, AMOUNT_10_MIN_100, D("0"), D("0"), False, D("99.00"), True),
    (D("99"), 2, D("0"), 0, False, AMOUNT_10_MIN_100, D("0"), D("10"), False, D("188.00"), False),
    (D("99"), 1, D("0"), 0, False, AMOUNT_5, D("0"), D("5"), False, D("94.00"), False),
    (D("99"), 1, D("0"), 0, False, PCT_10_CAP_20, D("0"), D("9.90"), False, D("89.10"), False),
    (D("99"), 3, D("0"), 0, False, PCT_10_CAP_20, D("0"), D("20"), False, D("277.00"), False),
    (D("9.99"), 1, D("0"), 0, False, PCT_15, D("0"), D("1.50"), False, D("8.49"), False),
    (D("99"), 1, D("8"), 0, False, SHIP, D("0"), D("0"), True, D("99.00"), False),
    (D("99"), 1, D("8"), 0, False, None, D("0"), D("0"), False, D("107.00"), False),
    (D("99"), 1, D("8"), 0, False, HUGE, D("0"), D("99"), False, D("8.00"), False),
    # a VIP tier with 5% off: the coupon's minimum is checked after the tier discount
    (D("100"), 1, D("0"), 5, False, AMOUNT_10_MIN_100, D("5"), D("0"), False, D("95.00"), True),
    (
        D("110"),
        1,
        D("0"),
        5,
        False,
        AMOUNT_10_MIN_100,
        D("5.50"),
        D("10"),
        False,
        D("94.50"),
        False,
    ),
    (D("99"), 1, D("0"), 5, False, PCT_10_CAP_20, D("4.95"), D("9.41"), False, D("84.64"), False),
    (D("0.05"), 1, D("0"), 10, False, AMOUNT_5, D("0.01"), D("0.04"), False, D("0.00"), False),
    # a VIP tier with free shipping
    (D("99"), 1, D("8"), 0, True, None, D("0"), D("0"), True, D("99.00"), False),
    (D("99"), 1, D("8"), 10, True, AMOUNT_5, D("9.90"), D("5"), True, D("84.10"), False),
    (D("99"), 1, D("8"), 10, True, HUGE, D("9.90"), D("89.10"), True, D("0.00"), False),
]


@pytest.mark.parametrize(
    "unit,qty,ship,tier,tier_ship,coupon,tier_off,coupon_off,waived,paid,below", TABLE
)
def test_price_table(
    unit, qty, ship, tier, tier_ship, coupon, tier_off, coupon_off, waived, paid, below
):
    breakdown, _perk = compute(
        unit_price=unit,
        quantity=qty,
        shipping_fee=ship,
        tier_percent=tier,
        tier_free_shipping=tier_ship,
        coupon=coupon,
    )
    assert breakdown.list_amount == unit * qty
    assert breakdown.tier_discount == tier_off
    assert breakdown.coupon_discount == coupon_off
    assert breakdown.shipping_waived is waived
    assert breakdown.amount == paid
    assert breakdown.coupon_below_minimum is below
    assert breakdown.amount >= 0
    assert breakdown.amount == breakdown.goods + (0 if waived else breakdown.shipping_fee)


def test_rounding_is_to_the_fen_half_up():
    # 15% of 0.10 = 0.015 → 0.02 (half up), not 0.01 (banker's)
    breakdown, _ = compute(unit_price=D("0.10"), quantity=1, coupon=PCT_15)
    assert breakdown.coupon_discount == D("0.02") and breakdown.amount == D("0.08")


def test_the_best_perk_applies_and_only_one():
    perks = [PerkTerms(percent_off=5), PerkTerms(amount_off=D("12"), min_spend=D("150"))]
    breakdown, index = compute(unit_price=D("100"), quantity=1, perks=perks)
    assert index == 0 and breakdown.perk_discount == D("5") and breakdown.amount == D("95")
    breakdown, index = compute(unit_price=D("100"), quantity=2, perks=perks)
    assert index == 1 and breakdown.perk_discount == D("12") and breakdown.amount == D("188")
    # a tie goes to the perk listed first
    breakdown, index = compute(unit_price=D("120"), quantity=2, perks=perks)
    assert index == 0 and breakdown.perk_discount == D("12")
