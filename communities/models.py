from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.platforms import Platform
from tenancy.models import TenantModel
from tenancy.roles import CommunityRole


class CommunityKind(models.TextChoices):
    GENERAL = "general", _("General group")
    REGIONAL = "regional", _("Regional group")
    CATEGORY = "category", _("Category group")
    VIP = "vip", _("VIP group")
    ADS = "ads", _("Ads group")


class CommunityStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


class Community(TenantModel):
    """One chat group. Archived, never deleted."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=20, choices=CommunityKind.choices, default=CommunityKind.GENERAL
    )
    platform = models.CharField(
        _("platform"), max_length=20, choices=Platform.choices, default=Platform.WECHAT
    )
    external_id = models.CharField(
        _("external id"),
        max_length=128,
        blank=True,
        help_text=_("The group's id on the chat platform, as the bots know it."),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), default=500, validators=[MinValueValidator(1), MaxValueValidator(100000)]
    )
    region = models.CharField(_("region"), max_length=60, blank=True)
    category = models.CharField(_("category"), max_length=60, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent group"),
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # The platform's invitation link (a WeCom/WeChat group QR link, a t.me/+… link): what the
    # group's QR poster (communities/posters.py) holds.
    join_url = models.URLField(
        _("join link"),
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_(
            "The link that lets someone join the group (from the chat platform): the group's QR "
            "poster holds it."
        ),
    )
    required_tier = models.ForeignKey(
        "communities.VipTier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("required tier"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CommunityStatus.choices, default=CommunityStatus.ACTIVE
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "external_id"],
                condition=~Q(external_id=""),
                name="community_external_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "kind"]),
            models.Index(fields=["organization", "name"]),
        ]

    def __str__(self):
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.status == CommunityStatus.ARCHIVED


class EntryRuleAction(models.TextChoices):
    """What happens when someone joins a group they do not qualify for (below the VIP tier the
    group requires, or over the organization's limit of groups of that kind)."""

    NOTIFY_AND_REVIEW = "notify_review", _("Tell the member and ask staff to review")
    NOTIFY = "notify", _("Tell the member why and how to qualify")
    REVIEW = "review", _("Ask staff to review")
    REMOVE = "remove", _("Remove with a polite message")


class CommunityRules(TenantModel):
    """The group's intro (who we are, why join, who runs it), rule set and enforcement policy.

    `rules` is a list of {"kind": ..., "params": {...}} validated by `communities.rules`.
    """

    community = models.OneToOneField(
        Community, on_delete=models.PROTECT, related_name="rules", verbose_name=_("community")
    )
    intro_who = models.TextField(_("who we are"), blank=True)
    intro_why = models.TextField(_("why join"), blank=True)
    intro_runs = models.TextField(_("who runs the group"), blank=True)
    welcome_message = models.TextField(_("welcome message"), blank=True)
    rules = models.JSONField(_("rules"), default=list, blank=True)
    warnings_before_removal = models.PositiveSmallIntegerField(
        _("warnings before removal"), default=1, validators=[MaxValueValidator(20)]
    )
    warning_expiry_days = models.PositiveSmallIntegerField(
        _("warnings expire after (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    announce_removal = models.BooleanField(_("announce removals in the group"), default=True)
    # the leaving survey (members/leaving.py): a private message to whoever leaves
    ask_leavers_why = models.BooleanField(_("ask members who leave why"), default=True)
    mute_before_removal = models.BooleanField(
        _("mute for a day before removal (where the platform supports it)"), default=False
    )
    below_tier_action = models.CharField(
        _("when a member below the required tier joins"),
        max_length=20,
        choices=EntryRuleAction.choices,
        default=EntryRuleAction.NOTIFY_AND_REVIEW,
    )
    group_limit_action = models.CharField(
        _("when a member joins more groups of a kind than allowed"),
        max_length=20,
        choices=EntryRuleAction.choices,
        default=EntryRuleAction.NOTIFY_AND_REVIEW,
    )
    source_template = models.CharField(_("template"), max_length=40, blank=True)
    # Keyword auto-replies: [{"keyword": "1", "reply": "…"}]
    auto_replies = models.JSONField(_("keyword auto-replies"), default=list, blank=True)
    # Dormant reminders
    dormant_after_days = models.PositiveSmallIntegerField(
        _("dormant after (days of silence)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    reminder_cooldown_days = models.PositiveSmallIntegerField(
        _("days between reminders"), default=7, validators=[MinValueValidator(1)]
    )
    max_reminders = models.PositiveSmallIntegerField(
        _("reminders at most"), default=3, validators=[MaxValueValidator(20)]
    )
    reminder_template = models.TextField(
        _("reminder text"),
        blank=True,
        default="@{name}，好久没看到你了，最近有没有需要的产品？给你留了一份专属优惠：{offer}",
    )
    reminder_offer = models.CharField(_("personal offer"), max_length=200, blank=True)
    posts_per_day_limit = models.PositiveSmallIntegerField(
        _("scheduled posts per day at most"), default=3, validators=[MinValueValidator(1)]
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("intro and rules")
        verbose_name_plural = _("intros and rules")

    def __str__(self):
        return f"{self.community} · {self._meta.verbose_name}"


class StaffAssignment(TenantModel):
    """A user holding a community role in one community. Ended, never deleted."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="staff", verbose_name=_("community")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="staff_assignments",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role"), max_length=20, choices=CommunityRole.choices)
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "community", "user", "role"],
                condition=Q(ended_at=None),
                name="staff_assignment_active_unique",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "user", "ended_at"]),
            models.Index(fields=["organization", "community", "ended_at"]),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.community}"


class VipTier(TenantModel):
    """A member level with entry conditions and benefits. `rank` orders the tiers (1 lowest)."""

    name = models.CharField(_("name"), max_length=60)
    rank = models.PositiveSmallIntegerField(_("rank"), validators=[MinValueValidator(1)])
    manual_only = models.BooleanField(_("granted by hand only"), default=False)
    min_paid_orders = models.PositiveIntegerField(_("minimum paid orders"), default=0)
    min_spend = models.DecimalField(
        _("minimum spend (yuan)"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    min_points = models.PositiveIntegerField(_("minimum points"), default=0)
    min_active_days_30 = models.PositiveSmallIntegerField(
        _("minimum active days in the last 30"), default=0, validators=[MaxValueValidator(30)]
    )
    benefits = models.TextField(_("benefits"), blank=True)
    discount_percent = models.PositiveSmallIntegerField(
        _("discount (%)"), default=0, validators=[MaxValueValidator(90)]
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10"))],
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    hold_days = models.PositiveSmallIntegerField(
        _("keep the tier at least (days)"), default=0, validators=[MaxValueValidator(365)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("VIP tier")
        verbose_name_plural = _("VIP tiers")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rank"],
                condition=Q(is_active=True),
                name="viptier_rank_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=Q(is_active=True),
                name="viptier_name_unique",
            ),
        ]

    def __str__(self):
        return self.name


class PointsRules(TenantModel):
    """How many points each action earns, per organization (one row each)."""

    checkin = models.PositiveIntegerField(_("points per check-in"), default=1)
    share = models.PositiveIntegerField(_("points per share"), default=2)
    invite = models.PositiveIntegerField(_("points per invite"), default=10)
    per_yuan = models.DecimalField(
        _("points per yuan spent"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    per_message = models.PositiveIntegerField(_("points per message"), default=0)
    message_daily_cap = models.PositiveIntegerField(
        _("points from messages per day at most"), default=10
    )
    streak_days = models.PositiveSmallIntegerField(
        _("check-in streak length for a bonus"), default=7, validators=[MinValueValidator(2)]
    )
    streak_bonus = models.PositiveIntegerField(_("streak bonus points"), default=20)
    share_daily_cap = models.PositiveSmallIntegerField(_("rewarded shares per day"), default=3)
    invite_min_stay_days = models.PositiveSmallIntegerField(
        _("invitee must stay (days) before the inviter is credited"), default=3
    )
    invites_for_bonus = models.PositiveSmallIntegerField(
        _("invites for a bonus"), default=5, validators=[MinValueValidator(1)]
    )
    invite_bonus = models.PositiveIntegerField(_("invite bonus points"), default=50)
    repurchase_multiplier = models.DecimalField(
        _("repurchase multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("2"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("10"))],
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("points rules")
        verbose_name_plural = _("points rules")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="pointsrules_one_per_org")
        ]

    def __str__(self):
        return str(self._meta.verbose_name)


class RedemptionItem(TenantModel):
    """Something members can exchange points for (e.g. 100 points → a 5-yuan coupon)."""

    name = models.CharField(_("name"), max_length=100)
    points_cost = models.PositiveIntegerField(_("points"), validators=[MinValueValidator(1)])
    description = models.CharField(_("description"), max_length=300, blank=True)
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("redemption item")
        verbose_name_plural = _("redemption items")
        ordering = ["points_cost"]

    def __str__(self):
        return self.name


# --- Content calendar ----------------------------------------------------------------------


class ContentType(models.TextChoices):
    TIPS = "tips", _("Tips")
    MEMBER_STORY = "member_story", _("Member story")
    DEAL_PREVIEW = "deal_preview", _("Deal preview")
    DISCUSSION = "discussion", _("Discussion topic")
    CUSTOM = "custom", _("Custom")


class ContentPlan(TenantModel):
    """A weekly plan (e.g. Mon tips, Wed member story, Fri deal preview, Sun topic) for groups."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("content plan")
        verbose_name_plural = _("content plans")

    def __str__(self):
        return self.name


class PlanTarget(TenantModel):
    plan = models.ForeignKey(ContentPlan, on_delete=models.PROTECT, related_name="targets")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "plan", "community"], name="plan_target_unique"
            )
        ]


class PlanSlot(TenantModel):
    plan = models.ForeignKey(ContentPlan, on_delete=models.PROTECT, related_name="slots")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MaxValueValidator(6)]
    )  # 0 = Monday
    local_time = models.TimeField(_("time"))
    content_type = models.CharField(_("content"), max_length=20, choices=ContentType.choices)
    template = models.TextField(_("text template"))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["weekday", "local_time"]


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ScheduledPost(TenantModel):
    """One post to one group at one time: from a plan's slot or one-off."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="posts")
    plan = models.ForeignKey(
        ContentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="posts"
    )
    slot = models.ForeignKey(
        PlanSlot, on_delete=models.PROTECT, null=True, blank=True, related_name="posts"
    )
    local_date = models.DateField(null=True, blank=True)  # the slot's occurrence
    scheduled_at = models.DateTimeField(_("time"))
    content_type = models.CharField(_("content"), max_length=20, choices=ContentType.choices)
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.SCHEDULED
    )
    edited = models.BooleanField(default=False)  # changed by hand: the plan leaves it alone
    action = models.ForeignKey(
        "integrations.Action", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("scheduled post")
        verbose_name_plural = _("scheduled posts")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slot", "community", "local_date"],
                condition=Q(slot__isnull=False),
                name="post_one_per_occurrence",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "scheduled_at"]),
            models.Index(fields=["organization", "community", "scheduled_at"]),
        ]

    def __str__(self):
        return f"{self.community} · {self.get_content_type_display()}"
