"""Products, campaigns (flash sales for now; group buys and lotteries build on the same
models) and orders: one model for campaign orders and orders the bots report."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantModel


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")  # reported by a bot: bought elsewhere
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired unpaid")
    REFUNDED = "refunded", _("Refunded")


# Orders that count as purchases (conversion, repurchase, tiers).
BOUGHT = [OrderStatus.PLACED, OrderStatus.PAID]
# Orders that hold stock and count against a member's cap.
HOLDING = [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID]


class Product(TenantModel):
    name = models.CharField(_("name"), max_length=120)
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    image_url = models.URLField(_("image URL"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class CampaignKind(models.TextChoices):
    FLASH_SALE = "flash_sale", _("Flash sale")
    GROUP_BUY = "group_buy", _("Group buy")
    LOTTERY = "lottery", _("Lottery")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(TenantModel):
    """A campaign. Live and ended follow from its window: `phase()`."""

    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices)
    name = models.CharField(_("name"), max_length=120)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="campaigns")
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    original_price = models.DecimalField(_("original price"), max_digits=12, decimal_places=2)
    stock_total = models.PositiveIntegerField(_("units"))
    stock_left = models.PositiveIntegerField(_("units left"))
    per_member_cap = models.PositiveSmallIntegerField(
        _("per member at most"), default=1, validators=[MinValueValidator(1)]
    )
    min_tier = models.ForeignKey(
        "communities.VipTier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("minimum tier"),
    )
    payment_minutes = models.PositiveSmallIntegerField(
        _("minutes to pay"), default=15, validators=[MinValueValidator(1)]
    )
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_fee = models.DecimalField(
        _("shipping fee"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    sold_out_at = models.DateTimeField(_("sold out"), null=True, blank=True)
    # group buys: teams of `team_size` that must fill within `team_hours` of opening
    team_size = models.PositiveSmallIntegerField(_("team size"), null=True, blank=True)
    team_hours = models.PositiveSmallIntegerField(_("hours to fill a team"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["organization", "kind", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock_left__lte=models.F("stock_total")),
                name="campaign_stock_left_le_total",
            )
        ]

    def __str__(self):
        return self.name

    def phase(self, now=None) -> str:
        now = now or timezone.now()
        if self.status in (CampaignStatus.DRAFT, CampaignStatus.CANCELLED):
            return self.status
        if now < self.starts_at:
            return "upcoming"
        if now >= self.ends_at:
            return "ended"
        return "live"


class CampaignTarget(TenantModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="targets")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "community"], name="campaign_target_unique"
            )
        ]


class Order(TenantModel):
    external_order_id = models.CharField(_("order id"), max_length=128)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="orders")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, null=True, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    items = models.JSONField(_("items"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)
    points_awarded = models.PositiveIntegerField(default=0)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(_("pay before"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # The price breakdown of a campaign order (campaigns/pricing.py); `amount` is what is paid.
    # Orders the bots report carry only `amount` (list_amount stays None).
    list_amount = models.DecimalField(
        _("list price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    tier_discount = models.DecimalField(
        _("VIP discount"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    perk_discount = models.DecimalField(
        _("perk discount"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    coupon_discount = models.DecimalField(
        _("coupon discount"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    shipping_fee = models.DecimalField(
        _("shipping"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    shipping_waived = models.BooleanField(_("free shipping"), default=False)
    perk = models.ForeignKey(
        "campaigns.SegmentPerk", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    coupon = models.ForeignKey(
        "campaigns.IssuedCoupon",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("coupon"),
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_order_id"], name="order_external_id_unique"
            ),
            models.UniqueConstraint(
                fields=["organization", "campaign", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "member", "placed_at"]),
            models.Index(fields=["organization", "campaign", "member", "status"]),
            models.Index(fields=["organization", "status", "expires_at"]),
        ]

    def __str__(self):
        return self.external_order_id


class TeamStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SUCCEEDED = "succeeded", _("Full")
    FAILED = "failed", _("Failed")


class Team(TenantModel):
    """A group-buy team: opened by one member, joined by others, full or failed."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="teams")
    leader = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=20, choices=TeamStatus.choices, default=TeamStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "status", "deadline"])]

    def __str__(self):
        return f"{self.campaign} #{self.pk}"


class TeamMember(TenantModel):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="members")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    is_open = models.BooleanField(default=True)  # while the team is open: one open team each
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "member"],
                condition=Q(is_open=True),
                name="one_open_team_per_member",
            )
        ]


class LotteryDraw(TenantModel):
    """The auditable part of a lottery: a commitment to a secret seed and the name of the
    public value that will decide the draw, both published when it opens; a hash of the frozen
    entrant list when entries close; the public value (published after the close, so nobody
    knows it while entrants can change) and the seed revealed at the draw."""

    campaign = models.OneToOneField(Campaign, on_delete=models.PROTECT, related_name="lottery")
    draw_at = models.DateTimeField(_("draw at"))
    seed = models.CharField(max_length=64)  # secret until `drawn_at`
    commitment = models.CharField(_("seed commitment (SHA-256)"), max_length=64)
    require_checkin = models.BooleanField(
        _("entrants must check in during the window"), default=False
    )
    require_share = models.BooleanField(_("entrants must share during the window"), default=False)
    prizes_per_member = models.PositiveSmallIntegerField(_("prizes one member may win"), default=1)
    entries_hash = models.CharField(_("entrant list hash (SHA-256)"), max_length=64, blank=True)
    entries_frozen_at = models.DateTimeField(null=True, blank=True)
    # named when the lottery opens: which future public value decides the draw, and when it is
    # published (after entries close). Blank only for lotteries opened before it was required.
    public_source = models.CharField(_("public value source"), max_length=200, blank=True)
    public_value_at = models.DateTimeField(_("public value published at"), null=True, blank=True)
    public_value = models.CharField(_("public value"), max_length=100, blank=True)
    # lottery_verify.RULES: 2 mixes seed, entrant list hash and public value; 1 (lotteries drawn
    # before the public value was required) the seed and the public value
    draw_rule = models.PositiveSmallIntegerField(default=2)
    drawn_at = models.DateTimeField(_("drawn"), null=True, blank=True)


class LotteryPrize(TenantModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="prizes")
    rank = models.PositiveSmallIntegerField()  # 1 = the top prize
    name = models.CharField(_("prize"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["rank"]


class LotteryEntry(TenantModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="entries")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "member"], name="lottery_entry_once"
            )
        ]


class LotteryWinner(TenantModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="winners")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    prize = models.ForeignKey(LotteryPrize, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()  # place in the shuffled entrant list


# --- coupons -----------------------------------------------------------------------------------


class CouponKind(models.TextChoices):
    AMOUNT = "amount", _("Amount off")
    PERCENT = "percent", _("Percent off")


class CouponScope(models.TextChoices):
    ALL = "all", _("All campaigns")
    CAMPAIGNS = "campaigns", _("Some campaigns")
    GROUPS = "groups", _("Campaigns of some groups")


class CouponTemplate(TenantModel):
    """What a coupon gives and when it may be used. Its terms never change once saved (issued
    coupons read them): to change an offer, retire the template and save a new one."""

    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=CouponKind.choices)
    # yuan off (amount) or percent off (percent, 1-100)
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2)
    max_off = models.DecimalField(
        _("at most (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    min_spend = models.DecimalField(
        _("minimum spend (yuan)"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    valid_days = models.PositiveSmallIntegerField(_("valid for (days)"), null=True, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    scope = models.CharField(
        _("where it applies"), max_length=10, choices=CouponScope.choices, default=CouponScope.ALL
    )
    quantity_limit = models.PositiveIntegerField(_("at most issued"), null=True, blank=True)
    issued_count = models.PositiveIntegerField(_("issued"), default=0)
    # the points catalogue item that issues this coupon when redeemed
    redemption_item = models.OneToOneField(
        "communities.RedemptionItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coupon_template",
        verbose_name=_("points catalogue item"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_limit=None) | Q(issued_count__lte=models.F("quantity_limit")),
                name="coupon_template_within_limit",
            )
        ]

    def __str__(self):
        return self.name


class CouponTemplateTarget(TenantModel):
    """The campaigns or groups a scoped template applies to."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="targets")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "template"])]


class CouponSource(models.TextChoices):
    REDEMPTION = "redemption", _("Points redemption")
    NEWCOMER = "newcomer", _("Newcomer")
    WAKE_UP = "wake_up", _("Wake-up")
    MANUAL = "manual", _("By hand")
    SHOWCASE = "showcase", _("Photo reward")


class CouponStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")


class IssuedCoupon(TenantModel):
    """One coupon of one member: single-use (its order is set while it is used), valid from
    `valid_from` until `expires_at`. `history` keeps every change."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="issued")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="coupons")
    source = models.CharField(_("issued by"), max_length=12, choices=CouponSource.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.AVAILABLE
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        indexes = [
            models.Index(fields=["organization", "member", "status", "expires_at"]),
            models.Index(fields=["organization", "template", "issued_at"]),
            models.Index(fields=["organization", "status", "expires_at"]),
        ]
        constraints = [
            # anti-farming: one newcomer coupon per member per organization, ever
            models.UniqueConstraint(
                fields=["organization", "member"],
                condition=Q(source="newcomer"),
                name="coupon_newcomer_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="used") | Q(order__isnull=False),
                name="coupon_used_has_order",
            ),
        ]

    def __str__(self):
        return f"{self.template.name} #{self.pk}"


class CouponEventKind(models.TextChoices):
    ISSUED = "issued", _("Issued")
    USED = "used", _("Used")
    RETURNED = "returned", _("Returned")
    EXPIRED = "expired", _("Expired")


class CouponEvent(TenantModel):
    """The history of a coupon: who did what, when and why. Append-only."""

    coupon = models.ForeignKey(IssuedCoupon, on_delete=models.PROTECT, related_name="history")
    kind = models.CharField(max_length=10, choices=CouponEventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor_label = models.CharField(max_length=200, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["organization", "coupon", "at"])]


class CouponSettings(TenantModel):
    """Which template each automatic issuing path gives (none: the path is off)."""

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="coupon_settings"
    )
    newcomer_template = models.ForeignKey(
        CouponTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("newcomer coupon"),
    )
    wake_up_template = models.ForeignKey(
        CouponTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wake-up coupon"),
    )
    showcase_template = models.ForeignKey(
        CouponTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("photo reward coupon"),
    )
    showcase_days = models.PositiveSmallIntegerField(
        _("days in a row of photos"), default=7, validators=[MinValueValidator(2)]
    )


class ShowcaseProgress(TenantModel):
    """A buyer's run of days with a photo since their latest order (晒单有奖)."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    last_day = models.DateField()
    days = models.PositiveSmallIntegerField(default=1)
    rewarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "member"], name="showcase_progress_one_per_member"
            )
        ]


class SegmentPerk(TenantModel):
    """A discount applied at checkout (never issued) to members of a segment: those active in
    one of the organization's groups within the last `active_within_days` days."""

    name = models.CharField(_("name"), max_length=60)
    active_within_days = models.PositiveSmallIntegerField(
        _("active within the last (days)"), validators=[MinValueValidator(1)]
    )
    percent_off = models.PositiveSmallIntegerField(
        _("percent off"), default=0, validators=[MinValueValidator(0)]
    )
    amount_off = models.DecimalField(
        _("yuan off"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    min_spend = models.DecimalField(
        _("minimum spend (yuan)"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name
